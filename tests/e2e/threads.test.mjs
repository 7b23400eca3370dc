// End-to-end test of the threaded build: on a cross-origin isolated page FastSamWorker runs the
// fixture model on pkg/threaded/ with a pool of 2 threads and gets exactly the single-threaded CPU
// build's masks and polygons (pkg/cpu/); on a page without the isolation headers it falls back to the
// single-threaded CPU build and says why.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { launch, newPage } from "./browser.mjs";
import { fixtureRoutes, PICTURE_SCRIPT, root, textSelection } from "./files.mjs";
import { serve } from "./server.mjs";

const selection = textSelection();
const PAGE = `<!doctype html><meta charset="utf-8"><title>threads</title><link rel="icon" href="data:,">
<script type="module">
  import { FastSamWorker } from "/pkg/client.js";
${PICTURE_SCRIPT}
  /** Loads the fixture with \`options\`, segments the picture, returns the model and every mask. */
  window.segmentWith = async (options) => {
    const worker = new FastSamWorker();
    try {
      const model = await worker.load("/fixtures/tiny-640.onnx", { cache: false, ...options });
      const seg = await worker.segment(window.picture());
      const masks = await seg.rle();
      const proposals = await seg.proposals(5);
      const point = await seg.points([[90, 85]], [1]);
      // Traced and simplified on the pool in the threaded build, mask by mask in the other.
      const polygons = await seg.polygons(undefined, { tolerance: 1 });
      const svg = await seg.toSvg();
      return { model, masks, proposals, point: point.masks.map((m) => m.area), polygons, svg };
    } finally {
      worker.terminate();
    }
  };
  /** The text prompt on the fixture CLIP: the mask each sentence picks, and the cosines. */
  window.textWith = async (options, sentences) => {
    const worker = new FastSamWorker();
    try {
      const model = await worker.load("/fixtures/tiny-640.onnx", { cache: false, ...options });
      const encoder = await worker.loadTextEncoder(
        { image: "/clip/tiny-clip-image.onnx", text: "/clip/tiny-clip-text.onnx", vocab: "/clip/clip-bpe.txt.gz" },
        { cache: false },
      );
      const blob = await (await fetch("/images/shapes_wide.png")).blob();
      const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const c = canvas.getContext("2d");
      c.drawImage(bitmap, 0, 0);
      const seg = await worker.segment(c.getImageData(0, 0, bitmap.width, bitmap.height), { maxDet: 32 });
      const picked = await seg.text(sentences);
      const scores = await seg.textScores(sentences[0]);
      return { model, encoder, picked: picked.masks.map((m) => m.index), cosines: scores[0].map((s) => s.cosine) };
    } finally {
      worker.terminate();
    }
  };
  window.isolated = crossOriginIsolated;
  window.ready = true;
</script>`;

describe("threaded build", () => {
  let isolatedServer;
  let plainServer;
  let browser;

  const open = async (server) => {
    const page = await newPage(await browser.newContext());
    await page.goto(`${server.origin}/`);
    await page.waitForFunction(() => window.ready === true);
    return page;
  };

  before(async () => {
    assert.ok(existsSync(path.join(root, "pkg/threaded")), "pkg/threaded/ is missing: run `npm run build:wasm`");
    isolatedServer = await serve(fixtureRoutes, { pages: { "/": PAGE }, isolated: true });
    plainServer = await serve(fixtureRoutes, { pages: { "/": PAGE } });
    browser = await launch({ webgpu: false });
  });

  after(async () => {
    await browser?.close();
    await isolatedServer?.close();
    await plainServer?.close();
  });

  it("runs on 2 threads on an isolated page, with the single-threaded build's masks", async () => {
    const page = await open(isolatedServer);
    assert.equal(await page.evaluate(() => window.isolated), true);
    const threaded = await page.evaluate(() => window.segmentWith({ backend: "cpu", threads: 2 }));
    const single = await page.evaluate(() => window.segmentWith({ backend: "cpu", threads: 1 }));
    assert.equal(threaded.model.build, "threaded");
    assert.equal(threaded.model.threads, 2);
    assert.equal(threaded.model.threadsReason, undefined);
    assert.equal(single.model.build, "cpu");
    assert.equal(single.model.threads, 1);
    assert.ok(threaded.masks.length > 0, "the fixture gives masks");
    assert.deepEqual(threaded.masks, single.masks);
    assert.deepEqual(threaded.proposals, single.proposals);
    assert.deepEqual(threaded.point, single.point);
    assert.ok(threaded.polygons.some((m) => m.polygons.length > 0), "the fixture's masks have outlines");
    assert.deepEqual(threaded.polygons, single.polygons);
    assert.equal(threaded.svg, single.svg);
    assert.deepEqual(page.pageErrors, []);
  });

  it("runs the text prompt (CLIP on tract) on the pool, picking the reference masks", async () => {
    const page = await open(isolatedServer);
    const wide = selection.images.find((c) => c.image === "images/shapes_wide.png");
    const sentences = wide.sentences.map((s) => s.sentence);
    const r = await page.evaluate(([s]) => window.textWith({ backend: "cpu", threads: 2 }, s), [sentences]);
    assert.equal(r.model.build, "threaded");
    assert.equal(r.encoder.backend, "cpu");
    assert.deepEqual(
      r.picked,
      wide.sentences.map((s) => s.best),
    );
    const worst = Math.max(...r.cosines.map((c, i) => Math.abs(c - wide.sentences[0].cosine[i])));
    assert.ok(worst <= 1e-4, `cosines differ by ${worst}`);
  });

  it("takes the WebGPU build for WebGPU requests, and refuses a bad thread count", async () => {
    const page = await open(isolatedServer);
    const refused = await page.evaluate(() =>
      window.segmentWith({ backend: "cpu", threads: 0 }).then(
        () => null,
        (e) => e.message,
      ),
    );
    assert.match(refused, /threads must be a whole number of at least 1/);
    const gpu = await page.evaluate(() =>
      window.segmentWith({ backend: "webgpu", threads: 2 }).then(
        () => null,
        (e) => e.message,
      ),
    );
    // No adapter in this browser: the WebGPU request fails on the WebGPU build.
    assert.match(gpu, /webgpu/i);
  });

  it("falls back to the single-threaded build without the isolation headers, and says why", async () => {
    const page = await open(plainServer);
    assert.equal(await page.evaluate(() => window.isolated), false);
    const result = await page.evaluate(() => window.segmentWith({ backend: "cpu", threads: 2 }));
    assert.equal(result.model.build, "cpu");
    assert.equal(result.model.threads, 1);
    assert.match(result.model.threadsReason, /not cross-origin isolated/);
    assert.ok(result.masks.length > 0);
  });
});
