#!/usr/bin/env node
// Which crates the package's wasm bytes come from: sums each function body by the crate its
// (mangled) name starts in, plus the data segments, and gzips each group on its own.
//
//   node tools/wasm_size_by_crate.mjs [module.wasm]
//
// The module must still have its name section: the one cargo writes before wasm-bindgen and the
// name stripping, by default
// $CARGO_TARGET_DIR/wasm32-unknown-unknown/release/fastsam_web.wasm (after `npm run build:wasm`).
// Gzip per group is an estimate of each group's share: the whole module compresses a little
// better than the sum of its parts.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";

const target = process.env.CARGO_TARGET_DIR ?? path.join(homedir(), ".cache/fastsam-web/target");
const file = process.argv[2] ?? path.join(target, "wasm32-unknown-unknown/release/fastsam_web.wasm");
const bytes = readFileSync(file);

let at = 8; // magic and version
const leb = () => {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (at >= bytes.length) throw new Error(`${file}: truncated module`);
    const b = bytes[at++];
    result += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return result;
    shift += 7;
  }
};
const name = () => {
  const n = leb();
  const s = bytes.toString("utf8", at, at + n);
  at += n;
  return s;
};
const limits = () => {
  const flags = bytes[at++];
  leb();
  if (flags & 1) leb();
};

let importedFunctions = 0;
let bodies = [];
let data = null;
const names = new Map();
while (at < bytes.length) {
  const id = bytes[at++];
  const size = leb();
  const end = at + size;
  if (id === 2) {
    for (let n = leb(); n > 0; n--) {
      name();
      name();
      const kind = bytes[at++];
      if (kind === 0) {
        leb();
        importedFunctions++;
      } else if (kind === 1) {
        at++;
        limits();
      } else if (kind === 2) limits();
      else if (kind === 3) at += 2;
      else if (kind === 4) {
        at++;
        leb();
      }
    }
  } else if (id === 10) {
    bodies = [];
    for (let n = leb(); n > 0; n--) {
      const len = leb();
      bodies.push(bytes.subarray(at, at + len));
      at += len;
    }
  } else if (id === 11) {
    data = bytes.subarray(at, end);
  } else if (id === 0 && name() === "name") {
    while (at < end) {
      const sub = bytes[at++];
      const subSize = leb();
      const subEnd = at + subSize;
      if (sub === 1) {
        for (let n = leb(); n > 0; n--) names.set(leb(), name());
      }
      at = subEnd;
    }
  }
  at = end;
}
if (names.size === 0) {
  console.error(`${file} has no function names: give the module cargo wrote (see the header)`);
  process.exit(1);
}

/**
 * The crate a mangled Rust symbol belongs to: the first path segment of a legacy `_ZN` name (its
 * length prefix says where it ends); for `<impl ...>` segments, the first crate inside them.
 */
function crateOf(symbol) {
  const head = /^_ZN(\d+)/.exec(symbol);
  if (!head) return "(other)";
  let segment = symbol.slice(head[0].length, head[0].length + Number(head[1]));
  segment = segment.replace(/^_?(\$(LT|RF|u20|u5b|C|BP)\$|mut|dyn|impl|const)*/g, "");
  const crate = /^[A-Za-z_][A-Za-z0-9_]*/.exec(segment.replace(/^\$u20\$/, ""));
  return crate ? crate[0].replace(/^_+/, "") : "(other)";
}

/** Groups crates into what the package is made of. */
function groupOf(crate) {
  if (/^(tract|ndarray|prost|num|matrixmultiply|bit_set|smallvec|rustfft|primal|transpose|strength_reduce|dyn_clone|downcast_rs)/.test(crate)) {
    return "tract (CPU engine) with prost, ndarray, rustfft";
  }
  if (/^(burn|cubecl|cubek|wgpu|naga|pliron|combine|rustc_apfloat|web_sys|spirv|codespan)/.test(crate)) {
    return "Burn, CubeCL (with pliron, rustc_apfloat), wgpu, naga: the WebGPU engine";
  }
  if (crate === "fastsam_web") return "fastsam-web";
  if (/^(core|alloc|std|compiler_builtins|dlmalloc|hashbrown)$/.test(crate)) return "Rust core/alloc/std";
  return `other: ${crate}`;
}

const groups = new Map();
const add = (group, chunk) => {
  const g = groups.get(group) ?? { raw: 0, chunks: [] };
  g.raw += chunk.length;
  g.chunks.push(chunk);
  groups.set(group, g);
};
bodies.forEach((body, i) => add(groupOf(crateOf(names.get(importedFunctions + i) ?? "")), body));
if (data) add("data segments (tables, strings, vocabularies)", data);

const rows = [...groups.entries()]
  .map(([group, g]) => ({ group, raw: g.raw, gzip: gzipSync(Buffer.concat(g.chunks), { level: 9 }).length }))
  .sort((a, b) => b.gzip - a.gzip);
const mb = (n) => (n / 1e6).toFixed(2);
const small = rows.filter((r) => r.gzip < 20e3 && r.group.startsWith("other:"));
console.log(`${path.relative(process.cwd(), file)}: ${bodies.length} functions\n`);
console.log("| group | raw MB | gzip -9 MB (alone) |\n|---|---:|---:|");
for (const r of rows.filter((r) => !small.includes(r))) console.log(`| ${r.group} | ${mb(r.raw)} | ${mb(r.gzip)} |`);
if (small.length) {
  const raw = small.reduce((s, r) => s + r.raw, 0);
  const gzip = small.reduce((s, r) => s + r.gzip, 0);
  console.log(`| ${small.length} other crates under 20 kB gzip each | ${mb(raw)} | ${mb(gzip)} |`);
}
