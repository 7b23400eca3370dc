// One API shape: the main entry's `Segmentation` (on the page's thread) and `FastSamWorker`'s
// `WorkerSegmentation` answer every call with the same plain objects, field for field, bitmaps
// and overlays byte for byte (the worker's behind Promises). Both run the fixture model on the
// single-threaded CPU build of headless Chromium; errors carry the same codes.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { launch, newPage } from "./browser.mjs";
import { fixtureRoutes, PICTURE_SCRIPT, root } from "./files.mjs";
import { serve } from "./server.mjs";

const PAGE = `<!doctype html><meta charset="utf-8"><title>shape</title><link rel="icon" href="data:,">
<script type="module">
  import { FastSam, Segmentation } from "/pkg/index.js";
  import { FastSamWorker } from "/pkg/client.js";
${PICTURE_SCRIPT}
  /** FNV-1a of a byte array: bitmaps and overlays compared without shipping them out. */
  const digest = (bytes) => {
    let h = 0x811c9dc5;
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
    return [bytes.length, h];
  };
  /** \`value\` with every byte array and ImageData replaced by its digest. */
  const plain = (value) => {
    if (value instanceof Uint8Array || value instanceof Uint8ClampedArray) return digest(value);
    if (value instanceof ImageData || (value && value.data instanceof Uint8ClampedArray)) {
      return { width: value.width, height: value.height, data: digest(value.data) };
    }
    if (Array.isArray(value)) return value.map(plain);
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).filter(([k]) => !k.endsWith("Ms")).map(([k, v]) => [k, plain(v)]));
    }
    return value;
  };
  const code = (run) => Promise.resolve().then(run).then(() => null, (e) => [e.name, e.code]);
  /** Every call of the segmentation API, in order, with the timings left out. */
  const calls = async (seg) => {
    const all = await seg.everything({ overlay: { alpha: 100 } });
    const first = all.masks[0].index;
    return plain({
      sizes: [seg.width, seg.height, seg.maskWidth, seg.maskHeight, seg.length],
      all,
      merged: await seg.points([[90, 85]], [1], { polygons: { tolerance: 1 } }),
      listed: await seg.everything({ overlay: false }),
      unpainted: await seg.points([[90, 85]], [1], { overlay: false }),
      perPoint: await seg.points([[90, 85], [200, 60]], [1, 1], { mode: "perPoint", overlay: { outline: null } }),
      boxed: await seg.boxes([[30, 40, 150, 130]], { polygons: {} }),
      mask: await seg.mask(first),
      edges: await seg.edges(),
      rle: await seg.rle([first]),
      polygons: await seg.polygons(undefined, { tolerance: 2 }),
      coco: await seg.toCoco(),
      yolo: await seg.toYolo(),
      svg: await seg.toSvg(),
      geojson: await seg.toGeoJson(),
      studio: await seg.toLabelStudio(undefined, { brush: true }),
      overlay: await seg.overlay([first]),
      maskAt: await seg.maskAt(90, 85),
      proposals: await seg.proposals(3),
      errors: [
        await code(() => seg.points([[90, 85]], [1], { polygons: { tolerance: -1 } })),
        await code(() => seg.boxes([[30, 40, 150, 130]], { mode: "sideways" })),
        await code(() => seg.mask(seg.length)),
      ],
    });
  };
  window.compare = async () => {
    const bytes = new Uint8Array(await (await fetch("/fixtures/tiny-640.onnx")).arrayBuffer());
    const model = await FastSam.load(bytes, { backend: "cpu" });
    const seg = await model.segment(window.picture());
    const main = await calls(seg);
    const isSegmentation = seg instanceof Segmentation;
    seg.free();
    seg.free();
    const afterFree = await code(() => seg.everything());
    model.free();

    const worker = new FastSamWorker();
    try {
      await worker.load("/fixtures/tiny-640.onnx", { cache: false, backend: "cpu", threads: 1 });
      const remote = await worker.segment(window.picture());
      const inWorker = await calls(remote);
      await remote.free();
      const workerAfterFree = await code(() => remote.everything());
      return { main, inWorker, isSegmentation, afterFree, workerAfterFree };
    } finally {
      worker.terminate();
    }
  };
  window.ready = true;
</script>`;

describe("one API shape", () => {
  let server;
  let browser;

  before(async () => {
    assert.ok(existsSync(path.join(root, "pkg/index.js")), "pkg/ is missing: run `npm run build` first");
    server = await serve(fixtureRoutes, { pages: { "/": PAGE } });
    browser = await launch({ webgpu: false });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it("the main-thread Segmentation answers with the worker's objects", async () => {
    const page = await newPage(await browser.newContext());
    await page.goto(`${server.origin}/`);
    await page.waitForFunction(() => window.ready === true);
    const r = await page.evaluate(() => window.compare());
    assert.equal(r.isSegmentation, true);
    assert.ok(r.main.all.masks.length > 1, "the fixture gives masks");
    assert.equal(r.main.merged.masks.length, 1);
    assert.equal(r.main.merged.masks[0].index, undefined, "a merged point mask is no instance");
    assert.ok(r.main.merged.masks[0].polygons.length > 0, "a merged mask comes with its polygons");
    assert.ok(r.main.boxed.masks.every((m) => Array.isArray(m.polygons)), "`polygons: {}` outlines with the defaults");
    assert.equal(r.main.perPoint.masks[0].polygons, undefined, "no polygons unless asked");
    // `overlay: false` draws nothing and changes nothing else.
    assert.deepEqual([r.main.listed.overlay, r.main.unpainted.overlay], [null, null]);
    assert.deepEqual(r.main.listed.masks, r.main.all.masks);
    assert.deepEqual(
      r.main.unpainted.masks,
      r.main.merged.masks.map(({ polygons, ...m }) => m),
    );
    assert.deepEqual(r.main.errors, [
      ["FastSamError", "INVALID_OPTION"],
      ["FastSamError", "INVALID_OPTION"],
      ["FastSamError", "INVALID_PROMPT"],
    ]);
    for (const key of Object.keys(r.main)) assert.deepEqual(r.inWorker[key], r.main[key], key);
    assert.deepEqual(r.inWorker, r.main);
    assert.deepEqual(r.afterFree, ["FastSamError", "FREED"]);
    assert.deepEqual(r.workerAfterFree, ["FastSamError", "FREED"]);
    assert.deepEqual(page.pageErrors, []);
  });
});
