#!/usr/bin/env node
// Runs a wasm32-wasip1 test binary under Node's WASI (no wasmtime needed): the cargo runner of
// `vendor/test-linalg.sh`. Usage: node tools/wasi-runner.mjs file.wasm [test args...]
import { readFile } from "node:fs/promises";
import { WASI } from "node:wasi";

const [file, ...args] = process.argv.slice(2);
const wasi = new WASI({ version: "preview1", args: [file, ...args], env: process.env, preopens: { ".": "." }, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
