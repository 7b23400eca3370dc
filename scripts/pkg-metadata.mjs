// Completes the npm package in pkg/ after wasm-pack: copies the worker client (js/) next to the
// wasm bindings and writes the ES module entry points, types and files list into package.json.
//   fastsam-web         -> fastsam_web.js (init, FastSam, Segmentation, Mask)
//   fastsam-web/worker  -> client.js (FastSamWorker, running worker.js in a module Worker, which
//                          loads threaded/ on cross-origin isolated pages)
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";

const pkgDir = new URL("../pkg/", import.meta.url);
const jsDir = new URL("../js/", import.meta.url);

const copied = readdirSync(jsDir).filter((name) => name.endsWith(".js") || name.endsWith(".d.ts"));
for (const name of copied) copyFileSync(new URL(name, jsDir), new URL(name, pkgDir));

// The threaded build (scripts/build-wasm-threaded.sh): its bindings and wasm, without the files
// wasm-pack writes for a package of its own.
const threadedDir = new URL("threaded/", pkgDir);
const threaded = existsSync(threadedDir)
  ? readdirSync(threadedDir)
      .filter((name) => /^fastsam_web_threaded(_bg)?\.(js|wasm|d\.ts)$/.test(name))
      .map((name) => `threaded/${name}`)
  : [];
for (const name of existsSync(threadedDir) ? readdirSync(threadedDir) : []) {
  if (!threaded.includes(`threaded/${name}`)) rmSync(new URL(name, threadedDir), { recursive: true });
}

const path = new URL("package.json", pkgDir);
const pkg = JSON.parse(readFileSync(path, "utf8"));
pkg.type = "module";
pkg.files = [...new Set([...pkg.files, ...copied, ...threaded])].sort();
pkg.exports = {
  ".": { types: "./fastsam_web.d.ts", default: "./fastsam_web.js" },
  "./worker": { types: "./client.d.ts", default: "./client.js" },
  "./fastsam_web_bg.wasm": "./fastsam_web_bg.wasm",
};
pkg.sideEffects = ["./fastsam_web.js", "./worker.js", "./thread-worker.js", "./threaded/*", "./snippets/*"];
writeFileSync(path, JSON.stringify(pkg, null, 2) + "\n");
