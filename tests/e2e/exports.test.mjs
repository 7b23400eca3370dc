// The package's wasm exports in Node (no browser): calls from JavaScript must not pay for the
// static constructors each time. wasm-ld prefixes every export with `__wasm_call_ctors` (tract's
// ~4,000 inventory registrations) unless the module calls it itself, which `start()` does; a
// regression makes each call ~0.2 ms, so 2,000 getter calls take ~400 ms instead of ~1 ms.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { it } from "node:test";

import { fixtures, root } from "./files.mjs";

it("calls into wasm cost microseconds, not the static constructors", async () => {
  const { initSync, FastSam } = await import(path.join(root, "pkg/cpu/fastsam_web_cpu.js"));
  initSync({ module: readFileSync(path.join(root, "pkg/cpu/fastsam_web_cpu_bg.wasm")) });
  const model = await FastSam.load(readFileSync(path.join(fixtures.models, "tiny-640.onnx")), {
    backend: "cpu",
  });
  const seg = await model.segment({ data: new Uint8Array(64 * 48 * 4).fill(90), width: 64, height: 48 });
  let sum = 0;
  const start = performance.now();
  for (let i = 0; i < 2000; i++) sum += model.inputSize + seg.width;
  const ms = performance.now() - start;
  assert.equal(sum, 2000 * (640 + 64));
  assert.ok(ms < 40, `2,000 getter pairs took ${ms.toFixed(1)} ms`);
  seg.free();
  model.free();
});

it("the main entry exports FastSamError, and every wasm error is one", async () => {
  const entry = await import(path.join(root, "pkg/index.js"));
  const { FastSam, FastSamError, ERROR_CODES } = entry;
  assert.equal(typeof entry.default, "function", "the default export is kept for `await init()`");
  await entry.default();
  // Node's fetch reads no file: URLs, so the CPU build the entry loads is instantiated here first.
  const cpu = await import(path.join(root, "pkg/cpu/fastsam_web_cpu.js"));
  cpu.initSync({ module: readFileSync(path.join(root, "pkg/cpu/fastsam_web_cpu_bg.wasm")) });
  const refused = await FastSam.load(new Uint8Array([1, 2, 3]), { backend: "cpu" }).then(
    () => null,
    (error) => error,
  );
  assert.ok(refused instanceof FastSamError, `${refused}`);
  assert.ok(refused instanceof Error);
  assert.equal(refused.code, "INVALID_MODEL");
  assert.ok(ERROR_CODES.includes(refused.code));

  const own = new FastSamError("NO_MODEL", "No model is loaded");
  assert.deepEqual([own.name, own.code, own.message, own instanceof Error], ["FastSamError", "NO_MODEL", "No model is loaded", true]);
  const { serializeError, deserializeError } = await import(path.join(root, "pkg/errors.js"));
  const back = deserializeError(structuredClone(serializeError(refused)));
  assert.ok(back instanceof FastSamError);
  assert.deepEqual([back.code, back.message, back.reason], [refused.code, refused.message, undefined]);
  // A GPU failure's `reason` (what failed, without the advice) crosses the worker boundary too.
  const lost = Object.assign(new FastSamError("GPU_LOST", "GPU failed: device lost; advice"), { reason: "device lost" });
  assert.equal(deserializeError(structuredClone(serializeError(lost))).reason, "device lost");
  const plain = new Error("not ours");
  assert.ok(!(plain instanceof FastSamError));
  plain.name = "FastSamError";
  assert.ok(!(plain instanceof FastSamError), "a FastSamError has a code");
});
