// End-to-end test of the package's worker client (`fastsam-web/worker`) used as plain ES modules:
// a page imports pkg/client.js with <script type="module">, no bundler, and drives the fixture
// model through every FastSamWorker and WorkerSegmentation method in headless Chromium.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { launch, newPage } from "./browser.mjs";
import { fixtureRoutes, fixtures, PICTURE_SCRIPT, root, textSelection } from "./files.mjs";
import { serve } from "./server.mjs";

const selection = textSelection();
const PAGE = `<!doctype html><meta charset="utf-8"><title>client</title><link rel="icon" href="data:,">
<script type="module">
  import * as api from "/pkg/client.js";
${PICTURE_SCRIPT}
  window.fastsam = api;
</script>`;

describe("FastSamWorker from plain ES modules", () => {
  let server;
  let browser;
  let page;

  /** Runs `fn` in the page; a rejected error comes back as {name, code, message}. */
  const run = (fn, arg) => page.evaluate(fn, arg);

  before(async () => {
    assert.ok(existsSync(path.join(root, "pkg/client.js")), "pkg/ is missing: run `npm run build` first");
    server = await serve(
      { ...fixtureRoutes, "/slow/": fixtures.models },
      { slow: /^\/slow\//, pages: { "/": PAGE } },
    );
    browser = await launch();
    page = await newPage(await browser.newContext());
    await page.goto(`${server.origin}/`);
    await page.waitForFunction(() => window.fastsam !== undefined);
    await run(() => {
      window.catching = (promise) =>
        promise.then(
          (value) => ({ value }),
          (e) => ({
            error: {
              name: e.name,
              code: e.code,
              message: e.message,
              isError: e instanceof Error,
              isFastSamError: e instanceof window.fastsam.FastSamError,
            },
          }),
        );
    });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it("loads a model by URL with progress events, caching it", async () => {
    const { first, second, cachedBefore, cachedAfter, cleared } = await run(async () => {
      const { FastSamWorker, isModelCached, clearModelCache } = window.fastsam;
      window.worker = new FastSamWorker();
      const load = async () => {
        const events = [];
        const info = await window.worker.load("fixtures/tiny-640.onnx", {
          backend: "cpu", // backend.test.mjs covers "auto" and "webgpu"
          onProgress: (e) => events.push(e),
        });
        return { info, events };
      };
      await clearModelCache();
      const cachedBefore = await isModelCached("fixtures/tiny-640.onnx");
      const first = await load();
      const second = await load();
      const cachedAfter = await isModelCached("fixtures/tiny-640.onnx");
      const cleared = await clearModelCache();
      return { first, second, cachedBefore, cachedAfter, cleared };
    });
    const url = `${server.origin}/fixtures/tiny-640.onnx`;
    const { threadsReason, gemmTile, ...info } = first.info;
    // Timed at load: 4x8 on x86-64 engines, 8x8 on arm64 ones.
    assert.match(gemmTile, /^(4x8|8x8)$/);
    assert.deepEqual(info, {
      file: url,
      backend: "cpu",
      engine: "tract",
      build: "cpu",
      threads: 1,
      inputSize: 640,
      dtype: "fp32",
      cached: false,
    });
    // This page is not cross-origin isolated: one thread (threads.test.mjs covers the threaded build).
    if (threadsReason !== undefined) assert.match(threadsReason, /not cross-origin isolated/);
    const statuses = (events) => [...new Set(events.map((e) => e.status))];
    assert.deepEqual(statuses(first.events), [
      "initiate",
      "download",
      "progress",
      "done",
      "compiling",
      "ready",
    ]);
    const last = first.events.filter((e) => e.status === "progress").at(-1);
    assert.equal(last.loaded, last.total);
    assert.equal(last.progress, 100);
    assert.deepEqual(first.events.at(-1), { status: "ready", ...first.info });
    assert.equal(second.info.cached, true);
    assert.deepEqual(statuses(second.events), ["initiate", "progress", "done", "compiling", "ready"]);
    assert.deepEqual([cachedBefore, cachedAfter, cleared], [false, true, true]);
    assert.equal(server.hits.get("/fixtures/tiny-640.onnx"), 1);
  });

  it("refuses a model that is not FastSAM with a FastSamError, keeping the loaded one", async () => {
    const { bad, notOnnx, model } = await run(async () => {
      const bytes = new Uint8Array(await (await fetch("/fixtures/classifier.onnx")).arrayBuffer());
      const bad = await window.catching(window.worker.load(bytes));
      const notOnnx = await window.catching(
        window.worker.load(new Blob(["not a model"]), { transfer: true }),
      );
      return { bad, notOnnx, model: window.worker.model };
    });
    for (const { error } of [bad, notOnnx]) {
      assert.equal(error.isError, true);
      assert.equal(error.isFastSamError, true);
      assert.equal(error.name, "FastSamError");
      assert.equal(error.code, "INVALID_MODEL");
      assert.ok(error.message.length > 20);
    }
    assert.equal(model.inputSize, 640);
  });

  it("segments an image and answers every prompt with plain objects and transferred buffers", async () => {
    const r = await run(async () => {
      const image = window.picture();
      const seg = await window.worker.segment(image, { transfer: true });
      window.seg = seg;
      const all = await seg.everything({ overlay: { alpha: 200 } });
      const first = await seg.mask(all.masks[0].index);
      const points = await seg.points([[90, 85]], [1]);
      const perPoint = await seg.points(
        [
          [90, 85],
          [230, 150],
        ],
        [1, 1],
        { mode: "perPoint" },
      );
      const boxes = await seg.boxes([[30, 40, 150, 130]], { overlay: { colors: [[255, 0, 0]] } });
      const rle = await seg.rle([all.masks[0].index]);
      const exact = await seg.polygons([all.masks[0].index], { tolerance: 0 });
      const everyPolygon = await seg.polygons(undefined, { maxPoints: 8 });
      const badPolygon = await seg.polygons(undefined, { tolerance: -1 }).catch((e) => [e.name, e.code]);
      const coco = await seg.toCoco(undefined, { fileName: "picture.png" });
      const yolo = await seg.toYolo([all.masks[0].index], { classId: 3 });
      const svg = await seg.toSvg();
      const geo = await seg.toGeoJson(undefined, { minArea: 4 });
      const studio = await seg.toLabelStudio(undefined, { label: "thing" });
      const badExport = await seg.toYolo(undefined, { class: 3 }).catch((e) => [e.name, e.code]);
      const overlay = await seg.overlay([all.masks[0].index], { outline: null });
      const edges = await seg.edges();
      const sum = (a) => a.reduce((s, v) => s + v, 0);
      return {
        detached: image.data.byteLength,
        seg: {
          width: seg.width,
          height: seg.height,
          maskWidth: seg.maskWidth,
          length: seg.length,
          timed: seg.inferenceMs > 0 && seg.postprocessMs >= 0 && seg.preprocessMs >= 0,
        },
        all: {
          count: all.masks.length,
          withData: all.masks.some((m) => "data" in m),
          overlay: [all.overlay instanceof ImageData, all.overlay.width, all.overlay.height],
          sorted: all.masks.every((m, i) => i === 0 || all.masks[i - 1].area >= m.area),
        },
        first: {
          same: first.index === all.masks[0].index,
          bytes: first.data.length,
          ones: sum(first.data),
          area: first.area,
          bbox: first.bbox.length,
        },
        points: {
          count: points.masks.length,
          index: points.masks[0]?.index,
          hit: points.masks[0]?.data[85 * 320 + 90],
          opaque: points.overlay.data[(85 * 320 + 90) * 4 + 3],
        },
        perPoint: perPoint.masks.every((m) => Number.isInteger(m.index)),
        boxes: {
          count: boxes.masks.length,
          promptMs: boxes.promptMs >= 0 && boxes.renderMs >= 0,
          red: boxes.masks.length > 0 && boxes.overlay.data.some((v, i) => i % 4 === 0 && v === 255),
        },
        rle: {
          size: rle[0].rle.size,
          total: sum(rle[0].rle.counts),
          ones: sum(rle[0].rle.counts.filter((_, i) => i % 2)),
          area: rle[0].area,
        },
        polygons: {
          index: exact[0].index === all.masks[0].index,
          rings: exact[0].polygons.length > 0,
          pixels: exact[0].polygons.every((p) =>
            [p.exterior, ...p.holes].every(
              (ring) =>
                ring.length >= 2 &&
                ring.length % 2 === 0 &&
                ring.every((v, i) => Number.isInteger(v) && v >= 0 && v < (i % 2 ? 240 : 320)),
            ),
          ),
          every: everyPolygon.length,
          limited: everyPolygon.every((m) => m.polygons.every((p) => p.exterior.length <= 16)),
          bad: badPolygon,
        },
        exports: {
          coco: [coco.images[0].file_name, coco.images[0].width, coco.annotations.length, coco.categories[0].name],
          yolo: yolo.startsWith("3 ") && yolo.endsWith("\n") && yolo.trim().split("\n").length === 1,
          svg: svg.startsWith("<svg") && svg.split("<path").length - 1,
          geo: [geo.type, geo.features.length],
          studio: studio.length > 0 && studio.every((r) => r.type === "polygonlabels" && r.value.polygonlabels[0] === "thing"),
          bad: badExport,
        },
        overlay: [overlay.width, overlay.height, overlay.data.some((v, i) => i % 4 === 3 && v > 0)],
        maskAt: await seg.maskAt(90, 85),
        proposals: await seg.proposals(3),
        edges: { index: edges.index, some: sum(edges.data) > 0 },
      };
    });
    assert.equal(r.detached, 0, "transfer: true moved the pixels to the worker");
    assert.deepEqual(r.seg, { width: 320, height: 240, maskWidth: 320, length: r.seg.length, timed: true });
    assert.ok(r.seg.length > 0);
    assert.deepEqual(r.all, {
      count: r.seg.length,
      withData: false,
      overlay: [true, 320, 240],
      sorted: true,
    });
    assert.deepEqual(r.first, {
      same: true,
      bytes: 320 * 240,
      ones: r.first.area,
      area: r.first.area,
      bbox: 4,
    });
    assert.deepEqual(r.points, { count: 1, index: undefined, hit: 1, opaque: 140 }, "default fill alpha 140");
    assert.equal(r.perPoint, true);
    assert.ok(r.boxes.count >= 1 && r.boxes.promptMs && r.boxes.red);
    assert.deepEqual(r.rle, { size: [240, 320], total: 320 * 240, ones: r.rle.area, area: r.rle.area });
    assert.deepEqual(r.polygons, {
      index: true,
      rings: true,
      pixels: true,
      every: r.seg.length,
      limited: true,
      bad: ["FastSamError", "INVALID_OPTION"],
    });
    assert.deepEqual(r.exports, {
      coco: ["picture.png", 320, r.seg.length, "object"],
      yolo: true,
      svg: r.seg.length,
      geo: ["FeatureCollection", r.seg.length],
      studio: true,
      bad: ["FastSamError", "INVALID_OPTION"],
    });
    assert.deepEqual(r.overlay, [320, 240, true]);
    assert.ok(Number.isInteger(r.maskAt));
    assert.ok(
      r.proposals.length >= 1 && r.proposals.length <= 3 && r.proposals.every((p) => p.bbox.length === 4),
    );
    assert.deepEqual(r.edges, { index: undefined, some: true });
  });

  it("rejects bad requests with the wasm API's errors, and keeps answering", async () => {
    const r = await run(async () => {
      const { seg, worker, catching } = window;
      return {
        point: await catching(seg.points([[1000, 5]])),
        option: await catching(seg.boxes([[0, 0, 10, 10]], { mode: "sideways" })),
        image: await catching(worker.segment({ data: new Uint8Array(10), width: 5, height: 5 })),
        // Refused by the worker before any download (no build knows this backend).
        backend: await catching(worker.load("fixtures/no-such-model.onnx", { backend: "gpu" })),
        missing: await catching(worker.load("fixtures/no-such-model.onnx", { backend: "cpu" })),
        noModel: await (async () => {
          const fresh = new window.fastsam.FastSamWorker();
          try {
            return await catching(fresh.segment(window.picture()));
          } finally {
            fresh.terminate();
          }
        })(),
        still: (await seg.points([[90, 85]])).masks.length,
        codes: window.fastsam.ERROR_CODES,
      };
    });
    const errors = [r.point, r.option, r.image, r.backend, r.missing, r.noModel].map(({ error }) => error);
    assert.deepEqual(
      errors.map((e) => e.code),
      ["INVALID_PROMPT", "INVALID_OPTION", "INVALID_IMAGE", "INVALID_OPTION", "DOWNLOAD_FAILED", "NO_MODEL"],
    );
    assert.ok(errors.every((e) => e.name === "FastSamError" && e.isError && e.isFastSamError));
    assert.ok(errors.every((e) => r.codes.includes(e.code)));
    assert.match(r.missing.error.message, /HTTP 404/);
    assert.match(r.point.error.message, /outside/);
    assert.match(r.backend.error.message, /backend "gpu" is unknown/);
    assert.equal(r.still, 1);
  });

  it("loads CLIP by URL with progress and picks the reference mask for each sentence", async () => {
    const wide = selection.images.find((c) => c.image === "images/shapes_wide.png");
    const sentences = wide.sentences.map((s) => s.sentence);
    const r = await run(async (sentences) => {
      const { worker, catching } = window;
      const events = [];
      const info = await worker.loadTextEncoder(
        { image: "clip/tiny-clip-image.onnx", text: "clip/tiny-clip-text.onnx", vocab: "clip/clip-bpe.txt.gz" },
        { onProgress: (e) => events.push(e.status) },
      );
      const blob = await (await fetch("images/shapes_wide.png")).blob();
      const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = canvas.getContext("2d");
      ctx.drawImage(bitmap, 0, 0);
      const seg = await worker.segment(ctx.getImageData(0, 0, bitmap.width, bitmap.height), { maxDet: 32 });
      const one = await seg.text(sentences[0]);
      const batch = await seg.text(sentences);
      const scores = await seg.textScores(sentences[0]);
      const empty = await catching(seg.text("   "));
      await seg.free();
      return {
        info,
        events,
        one: { indices: one.masks.map((m) => m.index), hasData: one.masks[0].data instanceof Uint8Array, overlay: one.overlay.width },
        batch: batch.masks.map((m) => m.index),
        scores: scores[0].map((s) => s.cosine),
        empty,
      };
    }, sentences);
    assert.equal(r.info.backend, "cpu", "the encoder follows the model's CPU backend");
    for (const step of ["initiate", "download", "progress", "done", "compiling", "ready"]) {
      assert.ok(r.events.includes(step), `progress event ${step}`);
    }
    assert.deepEqual(r.one.indices, [wide.sentences[0].best]);
    assert.ok(r.one.hasData && r.one.overlay === 512);
    assert.deepEqual(
      r.batch,
      wide.sentences.map((s) => s.best),
    );
    const worst = Math.max(...r.scores.map((c, i) => Math.abs(c - wide.sentences[0].cosine[i])));
    assert.ok(worst <= 1e-4, `cosines differ by ${worst}`);
    assert.equal(r.empty.error.code, "INVALID_PROMPT");
  });

  it("cancels a download, frees segmentations and terminates", async () => {
    const r = await run(async () => {
      const { seg, worker, catching } = window;
      await seg.free();
      const freed = await catching(seg.everything());
      const early = await catching(worker.load("slow/tiny-1024.onnx", { signal: AbortSignal.abort() }));
      const controller = new AbortController();
      const progress = (e) => e.status === "progress" && e.loaded > 0 && controller.abort();
      const midway = await catching(
        worker.load("slow/tiny-1024.onnx", { signal: controller.signal, onProgress: progress, cache: false }),
      );
      const model = worker.model.inputSize;
      const pending = catching(worker.segment(window.picture()));
      worker.terminate();
      return {
        freed,
        early,
        midway,
        model,
        pending: await pending,
        after: await catching(worker.segment(window.picture())),
      };
    });
    assert.match(r.freed.error.message, /freed/);
    assert.deepEqual([r.freed.error.code, r.freed.error.isFastSamError], ["FREED", true]);
    assert.equal(r.early.error.name, "AbortError");
    assert.equal(r.midway.error.name, "AbortError");
    assert.equal(r.model, 640, "the cancelled load left the model in place");
    for (const { error } of [r.pending, r.after]) {
      assert.match(error.message, /terminated/);
      assert.deepEqual([error.code, error.isFastSamError], ["WORKER_CLOSED", true]);
    }
  });

  it("printed no errors", () => {
    assert.deepEqual(page.pageErrors, []);
    assert.deepEqual(page.consoleErrors, []);
  });
});
