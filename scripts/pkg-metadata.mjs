// Completes the npm package in pkg/ after wasm-pack: copies the worker client (js/) next to the
// wasm bindings and writes the ES module entry points, types and files list into package.json.
//   fastsam-web         -> fastsam_web.js (init, FastSam, Segmentation, Mask)
//   fastsam-web/worker  -> client.js (FastSamWorker, running worker.js in a module Worker)
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";

const pkgDir = new URL("../pkg/", import.meta.url);
const jsDir = new URL("../js/", import.meta.url);

const copied = readdirSync(jsDir).filter((name) => name.endsWith(".js") || name.endsWith(".d.ts"));
for (const name of copied) copyFileSync(new URL(name, jsDir), new URL(name, pkgDir));

const path = new URL("package.json", pkgDir);
const pkg = JSON.parse(readFileSync(path, "utf8"));
pkg.type = "module";
pkg.files = [...new Set([...pkg.files, ...copied])].sort();
pkg.exports = {
  ".": { types: "./fastsam_web.d.ts", default: "./fastsam_web.js" },
  "./worker": { types: "./client.d.ts", default: "./client.js" },
  "./fastsam_web_bg.wasm": "./fastsam_web_bg.wasm",
};
pkg.sideEffects = ["./fastsam_web.js", "./worker.js", "./snippets/*"];
writeFileSync(path, JSON.stringify(pkg, null, 2) + "\n");
