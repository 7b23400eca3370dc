// The automatic backend choice through the package's worker client and its main-thread `FastSam`:
// headless Chromium with WebGPU allowed (SwiftShader) runs the fixture on the WebGPU build (Burn,
// no tract); without it the adapter is null and the same call runs on the CPU build (tract),
// saying why. Both give the same masks, and a GPU failure mid-session moves an "auto" model to the
// CPU build, in a worker and on the page's thread alike (one fallback policy: js/fallback.js).
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
  import { FastSam } from "/pkg/index.js";
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
  /** Loads with \`options\` in a worker whose WebGPU device fails to start (testing aid of worker.js). */
  window.deviceFails = async (options) => {
    const raw = new Worker("/pkg/worker.js", { type: "module" });
    const worker = new FastSamWorker({ worker: raw });
    try {
      await new Promise((resolve) => {
        raw.addEventListener("message", ({ data }) => data.id === -1 && resolve());
        raw.postMessage({ id: -1, type: "simulateGpuStartFailure", args: { reason: "simulated device failure" } });
      });
      const model = await worker.load("/fixtures/tiny-640.onnx", { cache: false, ...options });
      const { masks } = await (await worker.segment(window.picture())).everything();
      return { model, areas: masks.map((m) => m.area) };
    } catch (e) {
      return { error: { code: e.code, message: e.message } };
    } finally {
      worker.terminate();
    }
  };
  /**
   * The main-thread API: loads with "auto" and a text encoder, segments; with \`lose\`, fails the
   * GPU (testing aid) and segments again, then runs a text prompt.
   */
  window.mainThread = async ({ lose }) => {
    const bytes = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());
    const changes = [];
    let model;
    try {
      model = await FastSam.load(await bytes("/fixtures/tiny-640.onnx"));
      model.onbackendchange = (event) => changes.push(event);
      const describe = () => ({
        backend: model.backend, engine: model.engine, build: model.build, fallbackReason: model.fallbackReason,
      });
      const first = describe();
      await model.loadTextEncoder({
        image: await bytes("/clip/tiny-clip-image.onnx"),
        text: await bytes("/clip/tiny-clip-text.onnx"),
        vocab: await bytes("/clip/clip-bpe.txt.gz"),
      });
      const areasOf = (seg) => seg.everything().masks.map((m) => m.area);
      const seg = await model.segment(window.picture());
      const before = areasOf(seg);
      seg.free();
      if (lose) model.simulateGpuFailure("simulated loss");
      const again = await model.segment(window.picture());
      const after = areasOf(again);
      const textAfter = (await again.text("a red square")).masks.length;
      again.free();
      return { first, after: describe(), textBackend: model.textBackend, textAfter, changes, areas: [before, after] };
    } catch (e) {
      return { error: { code: e.code, message: e.message, stack: e.stack } };
    } finally {
      model?.free();
    }
  };
  /** Loads with "auto", segments, fails the GPU (testing aid of worker.js), segments again. */
  window.loseGpu = async () => {
    const raw = new Worker("/pkg/worker.js", { type: "module" });
    const worker = new FastSamWorker({ worker: raw });
    const changes = [];
    worker.onbackendchange = (event) => changes.push(event);
    try {
      const model = await worker.load("/fixtures/tiny-640.onnx", { cache: false });
      const clip = { image: "/clip/tiny-clip-image.onnx", text: "/clip/tiny-clip-text.onnx", vocab: "/clip/clip-bpe.txt.gz" };
      // The WebGPU build has no CPU engine for CLIP.
      const refusedText = await worker.loadTextEncoder(clip, { cache: false, backend: "cpu" }).then(
        () => null,
        (e) => ({ message: e.message, name: e.name, code: e.code }),
      );
      const text = await worker.loadTextEncoder(clip, { cache: false });
      const before = await (await worker.segment(window.picture())).everything();
      await new Promise((resolve) => {
        raw.addEventListener("message", ({ data }) => data.id === -1 && resolve(), { once: false });
        raw.postMessage({ id: -1, type: "simulateGpuFailure", args: { reason: "simulated loss" } });
      });
      const seg = await worker.segment(window.picture());
      const after = await seg.everything();
      // The text encoder moved with the model.
      const textAfter = (await seg.text("a red square")).masks.length;
      return {
        model,
        refusedText,
        text,
        textAfter,
        after: worker.model,
        changes,
        areas: [before.masks.map((m) => m.area), after.masks.map((m) => m.area)],
      };
    } catch (e) {
      return { error: { code: e.code, message: e.message } };
    } finally {
      worker.terminate();
    }
  };
</script>`;

/** Runs `options` in a fresh browser launched with `launchOptions`. */
/** Opens PAGE in a fresh browser, returns what `use(page)` gives, checks the page logged no error. */
async function withPage(server, launchOptions, use) {
  const browser = await launch(launchOptions);
  try {
    const page = await newPage(await browser.newContext());
    await page.goto(`${server.origin}/`);
    await page.waitForFunction(() => window.loseGpu !== undefined); // the last function PAGE defines
    const result = await use(page);
    assert.deepEqual(page.pageErrors, []);
    return result;
  } finally {
    await browser.close();
  }
}

async function inBrowser(server, launchOptions, options) {
  return withPage(server, launchOptions, (page) => page.evaluate((o) => window.run(o), options));
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
    assert.equal(gpu.model.build, "webgpu");
    assert.equal(gpu.model.gemmTile, "none");
    assert.equal(gpu.model.fallbackReason, undefined);

    const cpu = await inBrowser(server, { webgpu: false }, {});
    assert.equal(cpu.error, undefined, JSON.stringify(cpu.error));
    assert.equal(cpu.model.backend, "cpu");
    assert.equal(cpu.model.engine, "tract");
    assert.equal(cpu.model.build, "cpu");
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
    assert.equal(result.error?.code, "NO_WEBGPU");
    assert.match(result.error.message, /"webgpu" is not available: .*no adapter/);
  });

  it("an adapter whose device fails to start: auto loads on the CPU build, webgpu rejects", async () => {
    await withPage(server, { webgpu: true }, async (page) => {
      const auto = await page.evaluate(() => window.deviceFails({}));
      assert.equal(auto.error, undefined, JSON.stringify(auto.error));
      assert.equal(auto.model.build, "cpu");
      assert.equal(auto.model.backend, "cpu");
      // One readable line: wgpu's text of the rejected promise without its stack trace.
      assert.equal(
        auto.model.fallbackReason,
        "WebGPU is not available here (WebGPU initialisation failed: Unable to request a wgpu device: simulated device failure); so on the CPU",
      );
      assert.ok(auto.areas.length > 0, "masks found");
      const gpu = await page.evaluate(() => window.deviceFails({ backend: "webgpu" }));
      assert.equal(gpu.error?.code, "NO_WEBGPU", JSON.stringify(gpu));
      assert.match(gpu.error.message, /"webgpu" is not available: .*device: simulated device failure; use backend/);
      assert.doesNotMatch(gpu.error.message, /\n/);
    });
  });

  it("on the page's thread, FastSam loads one engine and a GPU failure moves it to the CPU build", async () => {
    const r = await withPage(server, { webgpu: true }, (page) => page.evaluate(() => window.mainThread({ lose: true })));
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.deepEqual(r.first, { backend: "webgpu", engine: "burn", build: "webgpu", fallbackReason: undefined });
    assert.deepEqual(r.after, {
      backend: "cpu",
      engine: "tract",
      build: "cpu",
      fallbackReason: "WebGPU failed during a run (simulated loss); now on the CPU",
    });
    assert.deepEqual(r.changes, [{ backend: "cpu", reason: r.after.fallbackReason }]);
    // The text encoder moved with the model.
    assert.equal(r.textBackend, "cpu");
    assert.equal(r.textAfter, 1);
    const [before, after] = r.areas;
    assert.ok(before.length > 0, "masks found");
    assert.equal(after.length, before.length, "same number of masks");
    before.forEach((area, i) => {
      assert.ok(Math.abs(area - after[i]) <= 0.01 * Math.max(area, after[i]), `mask ${i}: ${area} vs ${after[i]} px`);
    });

    const cpu = await withPage(server, { webgpu: false }, (page) => page.evaluate(() => window.mainThread({ lose: false })));
    assert.equal(cpu.error, undefined, JSON.stringify(cpu.error));
    assert.equal(cpu.first.build, "cpu");
    assert.match(cpu.first.fallbackReason, /no adapter/);
    assert.deepEqual(cpu.changes, []);
    assert.deepEqual(cpu.areas[0], cpu.areas[1]);
    assert.equal(cpu.areas[0].length, before.length, "the same masks as on WebGPU");
  });

  it("a GPU failure mid-session moves an auto model from the WebGPU build to the CPU build", async () => {
    const r = await withPage(server, { webgpu: true }, (page) => page.evaluate(() => window.loseGpu()));
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.equal(r.model.build, "webgpu");
    assert.match(r.refusedText.message, /WebGPU build, which has no CPU engine/);
    assert.equal(r.refusedText.name, "FastSamError");
    assert.equal(r.refusedText.code, "INVALID_OPTION");
    assert.equal(r.text.backend, "webgpu");
    assert.equal(r.textAfter, 1);
    assert.equal(r.after.build, "cpu");
    assert.equal(r.after.backend, "cpu");
    assert.equal(r.after.engine, "tract");
    assert.match(r.after.fallbackReason, /^WebGPU failed during a run \(simulated loss\); now on the CPU$/);
    assert.equal(r.changes.length, 1);
    assert.equal(r.changes[0].backend, "cpu");
    const [before, after] = r.areas;
    assert.ok(before.length > 0, "masks found");
    assert.equal(after.length, before.length, "same number of masks");
    before.forEach((area, i) => {
      assert.ok(Math.abs(area - after[i]) <= 0.01 * Math.max(area, after[i]), `mask ${i}: ${area} vs ${after[i]} px`);
    });
  });
});
