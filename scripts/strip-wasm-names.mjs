// Drops the "name" custom section (function names for debuggers and stack traces, ~5 MB) from a
// wasm module in place. Code and behaviour are unchanged; panics still print their message, but
// wasm frames in stack traces show as `wasm-function[N]`. Usage: node scripts/strip-wasm-names.mjs FILE
import { readFileSync, writeFileSync } from "node:fs";

/** Reads an unsigned LEB128 at `at`; returns [value, next offset]. */
function leb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

const file = process.argv[2];
const wasm = readFileSync(file);
if (wasm.readUInt32LE(0) !== 0x6d736100) throw new Error(`${file} is not a wasm module`);
const kept = [wasm.subarray(0, 8)];
let dropped = 0;
for (let at = 8; at < wasm.length; ) {
  const start = at;
  const [size, body] = leb(wasm, at + 1);
  at = body + size;
  if (wasm[start] === 0) {
    const [length, name] = leb(wasm, body);
    if (wasm.toString("utf8", name, name + length) === "name") {
      dropped += at - start;
      continue;
    }
  }
  kept.push(wasm.subarray(start, at));
}
writeFileSync(file, Buffer.concat(kept));
console.log(`${file}: removed the name section (${(dropped / 2 ** 20).toFixed(1)} MiB)`);
