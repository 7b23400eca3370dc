// Completes the npm package in pkg/ after the wasm builds: copies the package's JavaScript (js/),
// the README and the licences next to the builds and writes package.json (name, version,
// description and licence from Cargo.toml; ES module entry points, types, files list).
//   fastsam-web         -> index.js: FastSam on the page's thread (fastsam.js, over the one-engine
//                          builds with the fallback policy of fallback.js) and errors.js
//   fastsam-web/worker  -> client.js (FastSamWorker, running worker.js in a module Worker, which
//                          loads one engine: webgpu/, or cpu/ or threaded/ on the CPU)
//   fastsam-web/webgpu  -> webgpu/fastsam_web_webgpu.js (the WebGPU engine alone)
//   fastsam-web/cpu     -> cpu/fastsam_web_cpu.js (the CPU engine alone, one thread)
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";

const pkgDir = new URL("../pkg/", import.meta.url);
const jsDir = new URL("../js/", import.meta.url);

const copied = readdirSync(jsDir).filter((name) => name.endsWith(".js") || name.endsWith(".d.ts"));
for (const name of copied) copyFileSync(new URL(name, jsDir), new URL(name, pkgDir));
// The licence texts (the package is MIT OR Apache-2.0) and the README, which is the npm page;
// listed in `files` so that `npm pack` keeps them.
const documents = ["LICENSE-MIT", "LICENSE-APACHE", "README.md"];
for (const name of documents) copyFileSync(new URL(`../${name}`, import.meta.url), new URL(name, pkgDir));

/**
 * The files of the build in `dir` (bindings and wasm named `name`), without the files wasm-pack
 * writes for a package of its own (those are deleted).
 */
function subBuild(dir, name) {
  const folder = new URL(`${dir}/`, pkgDir);
  if (!existsSync(folder)) return [];
  const pattern = new RegExp(`^${name}(_bg)?\\.(js|wasm|d\\.ts)$`);
  const files = [];
  for (const file of readdirSync(folder)) {
    // snippets/: JS that wasm-bindgen copies out of crates, imported by the bindings.
    if (pattern.test(file) || file === "snippets") files.push(`${dir}/${file}`);
    else rmSync(new URL(file, folder), { recursive: true });
  }
  return files;
}

// The builds the worker picks from (scripts/build-wasm.sh): WebGPU only, CPU only, threaded CPU.
const webgpu = subBuild("webgpu", "fastsam_web_webgpu");
const cpu = subBuild("cpu", "fastsam_web_cpu");
const threaded = subBuild("threaded", "fastsam_web_threaded");

const missing = [
  ["webgpu", webgpu],
  ["cpu", cpu],
].filter(([, files]) => files.length === 0);
if (missing.length > 0) throw new Error(`pkg/ lacks the ${missing.map(([dir]) => dir).join(" and ")} build`);

/** `[package]` fields of Cargo.toml: the string `name`, or the string array `keywords`. */
const cargo = readFileSync(new URL("../Cargo.toml", import.meta.url), "utf8").split(/^\[/m)
  .find((section) => section.startsWith("package]"));
const field = (name) => {
  const value = cargo.match(new RegExp(`^${name} = (.*)$`, "m"))?.[1];
  if (value === undefined) throw new Error(`Cargo.toml's [package] has no ${name}`);
  return JSON.parse(value);
};

const pkg = {
  name: field("name"),
  type: "module",
  description: field("description"),
  version: field("version"),
  license: field("license"),
  keywords: field("keywords"),
  files: [...new Set([...copied, ...documents, ...webgpu, ...cpu, ...threaded])].sort(),
};
pkg.exports = {
  ".": { types: "./index.d.ts", default: "./index.js" },
  "./worker": { types: "./client.d.ts", default: "./client.js" },
  "./webgpu": { types: "./webgpu/fastsam_web_webgpu.d.ts", default: "./webgpu/fastsam_web_webgpu.js" },
  "./cpu": { types: "./cpu/fastsam_web_cpu.d.ts", default: "./cpu/fastsam_web_cpu.js" },
  // The worker script, for pages that start it themselves: new FastSamWorker({ worker }).
  "./worker.js": "./worker.js",
  "./package.json": "./package.json",
};
// Tools that read the older fields get the same entry.
pkg.main = "index.js";
pkg.types = "index.d.ts";
// No repository field until the project has a public one.
pkg.sideEffects = [
  "./worker.js",
  "./thread-worker.js",
  "./webgpu/*",
  "./cpu/*",
  "./threaded/*",
  "./snippets/*",
];
writeFileSync(new URL("package.json", pkgDir), JSON.stringify(pkg, null, 2) + "\n");
