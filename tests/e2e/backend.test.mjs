// The automatic backend choice through the package's worker client: headless Chromium with
// WebGPU allowed (SwiftShader) runs the fixture on WebGPU (Burn); without it the adapter is null
// and the same call runs on the CPU (tract), saying why. Both give the same masks.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { launch, newPage } from "./browser.mjs";
import { fixtureRoutes, PICTURE_SCRIPT, root } from "./files.mjs";
import { serve } from "./server.mjs";

const PAGE = `<!doctype html><meta charset="utf-8"><title>backend</title><link rel="icon" href="data:,">
<script type="module">
  import { FastSamWorker } from "/pkg/client.js";
${PICTURE_SCRIPT}
  /** Loads the fixture with \`options\`, segments the picture, returns the model and mask areas. */
  window.run = async (options) => {
    const worker = new FastSamWorker();
    try {
      const model = await worker.load("/fixtures/tiny-640.onnx", { cache: false, ...options });
      const seg = await worker.segment(window.picture());
      const { masks } = await seg.everything();
      return { model, areas: masks.map((m) => m.area) };
    } catch (e) {
      return { error: { code: e.code, message: e.message } };
    } finally {
      worker.terminate();
    }
  };
</script>`;

/** Runs `options` in a fresh browser launched with `launchOptions`. */
async function inBrowser(server, launchOptions, options) {
  const browser = await launch(launchOptions);
  try {
    const page = await newPage(await browser.newContext());
    await page.goto(`${server.origin}/`);
    await page.waitForFunction(() => window.run !== undefined);
    const result = await page.evaluate((o) => window.run(o), options);
    assert.deepEqual(page.pageErrors, []);
    return result;
  } finally {
    await browser.close();
  }
}

describe("backend choice", () => {
  let server;

  before(async () => {
    assert.ok(existsSync(path.join(root, "pkg/client.js")), "pkg/ is missing: run `npm run build` first");
    server = await serve(fixtureRoutes, { pages: { "/": PAGE } });
  });

  after(async () => {
    await server?.close();
  });

  it("auto runs on WebGPU where an adapter exists, and on the CPU where none does, with the same masks", async () => {
    const gpu = await inBrowser(server, { webgpu: true }, {});
    assert.equal(gpu.error, undefined, JSON.stringify(gpu.error));
    assert.equal(gpu.model.backend, "webgpu");
    assert.equal(gpu.model.engine, "burn");
    assert.equal(gpu.model.fallbackReason, undefined);

    const cpu = await inBrowser(server, { webgpu: false }, {});
    assert.equal(cpu.error, undefined, JSON.stringify(cpu.error));
    assert.equal(cpu.model.backend, "cpu");
    assert.equal(cpu.model.engine, "tract");
    assert.match(cpu.model.fallbackReason, /no adapter/);

    assert.ok(gpu.areas.length > 0, "masks found");
    assert.equal(gpu.areas.length, cpu.areas.length, "same number of masks");
    gpu.areas.forEach((area, i) => {
      const other = cpu.areas[i];
      assert.ok(Math.abs(area - other) <= 0.01 * Math.max(area, other), `mask ${i}: ${area} vs ${other} px`);
    });
  });

  it("an explicit webgpu backend without an adapter rejects with a reason", async () => {
    const result = await inBrowser(server, { webgpu: false }, { backend: "webgpu" });
    assert.equal(result.error?.code, "INFERENCE_FAILED");
    assert.match(result.error.message, /"webgpu" is not available: .*no adapter/);
  });
});
