// Completes the npm package in pkg/ after wasm-pack: copies the worker client (js/) next to the
// wasm bindings and writes the ES module entry points, types and files list into package.json.
//   fastsam-web         -> index.js: fastsam_web.js (init, FastSam, Segmentation, Mask) and
//                          errors.js (FastSamError)
//   fastsam-web/worker  -> client.js (FastSamWorker, running worker.js in a module Worker, which
//                          loads one engine: webgpu/, or cpu/ or threaded/ on the CPU)
//   fastsam-web/webgpu  -> webgpu/fastsam_web_webgpu.js (the WebGPU engine alone)
//   fastsam-web/cpu     -> cpu/fastsam_web_cpu.js (the CPU engine alone, one thread)
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";

const pkgDir = new URL("../pkg/", import.meta.url);
const jsDir = new URL("../js/", import.meta.url);

const copied = readdirSync(jsDir).filter((name) => name.endsWith(".js") || name.endsWith(".d.ts"));
for (const name of copied) copyFileSync(new URL(name, jsDir), new URL(name, pkgDir));
// The licence texts (the package is MIT OR Apache-2.0) and the README, which is the npm page:
// wasm-pack copies them from the crate; listed in `files` so that `npm pack` keeps them.
const documents = ["LICENSE-MIT", "LICENSE-APACHE", "README.md"];
const missing = documents.filter((name) => !existsSync(new URL(name, pkgDir)));
if (missing.length > 0) throw new Error(`wasm-pack did not copy ${missing.join(", ")} into pkg/`);

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

const path = new URL("package.json", pkgDir);
const pkg = JSON.parse(readFileSync(path, "utf8"));
pkg.type = "module";
pkg.files = [...new Set([...pkg.files, ...copied, ...documents, ...webgpu, ...cpu, ...threaded])].sort();
pkg.exports = {
  ".": { types: "./index.d.ts", default: "./index.js" },
  "./worker": { types: "./client.d.ts", default: "./client.js" },
  "./webgpu": { types: "./webgpu/fastsam_web_webgpu.d.ts", default: "./webgpu/fastsam_web_webgpu.js" },
  "./cpu": { types: "./cpu/fastsam_web_cpu.d.ts", default: "./cpu/fastsam_web_cpu.js" },
  "./fastsam_web_bg.wasm": "./fastsam_web_bg.wasm",
  // The worker script, for pages that start it themselves: new FastSamWorker({ worker }).
  "./worker.js": "./worker.js",
  "./package.json": "./package.json",
};
// Tools that read the older fields get the same entry.
pkg.main = "index.js";
pkg.types = "index.d.ts";
// No repository field until the project has a public one (wasm-pack copies Cargo.toml's).
delete pkg.repository;
pkg.sideEffects = [
  "./fastsam_web.js",
  "./worker.js",
  "./thread-worker.js",
  "./webgpu/*",
  "./cpu/*",
  "./threaded/*",
  "./snippets/*",
];
writeFileSync(path, JSON.stringify(pkg, null, 2) + "\n");
