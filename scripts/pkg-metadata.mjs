// Completes pkg/package.json after wasm-pack: ES module entry points and the files list.
import { readFileSync, writeFileSync } from "node:fs";

const path = new URL("../pkg/package.json", import.meta.url);
const pkg = JSON.parse(readFileSync(path, "utf8"));
pkg.type = "module";
pkg.exports = {
  ".": { types: "./fastsam_web.d.ts", default: "./fastsam_web.js" },
  "./fastsam_web_bg.wasm": "./fastsam_web_bg.wasm",
};
pkg.sideEffects = ["./fastsam_web.js", "./snippets/*"];
writeFileSync(path, JSON.stringify(pkg, null, 2) + "\n");
