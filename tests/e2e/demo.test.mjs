// End-to-end test of the demo page (the production build in dist/): headless Chromium loads the
// committed fixture model, segments a sample photo in the worker, prompts it with the pointer and
// checks the drawn masks from canvas pixels, the page's responsiveness, exports and bad inputs.
// Screenshots of each mode go to target/e2e/. Run with `npm run test:e2e` (all e2e files) or
// `bash scripts/test-e2e.sh tests/e2e/demo.test.mjs`.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { launch, newPage } from "./browser.mjs";
import { fixtures, root, stripedPng, truncatedModel } from "./files.mjs";
import { alphaAt, digest, opaqueCount, opaquePixel, pagePoint } from "./pixels.mjs";
import { serve } from "./server.mjs";

const { models, clip } = fixtures;
const shots = path.join(root, "target/e2e");
const MODEL_URL = "/fixtures/tiny-640.onnx";
const WAIT = { timeout: 60_000 };

describe("demo page", () => {
  let server;
  let browser;
  let page;
  /** Image pixel of the sample photo that a mask covers, chosen in everything mode. */
  let target;

  /** Waits until no request to the worker is pending. */
  const settled = () => page.waitForSelector('#stage[aria-busy="false"]', { state: "attached", ...WAIT });
  /** Waits for the status line to match `pattern`, and returns its text. */
  const status = async (pattern) => {
    await page.waitForFunction(
      (source) => new RegExp(source).test(document.getElementById("status").textContent),
      pattern.source,
      WAIT,
    );
    return page.textContent("#status");
  };
  const shoot = (name) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  /** Clicks image pixel `pixel` with `button`, holding `Shift` when `shift`. */
  const clickPixel = async (pixel, { button = "left", shift = false } = {}) => {
    const { x, y } = await pagePoint(page, pixel);
    if (shift) await page.keyboard.down("Shift");
    await page.mouse.click(x, y, { button });
    if (shift) await page.keyboard.up("Shift");
    await settled();
  };

  before(async () => {
    assert.ok(existsSync(path.join(root, "dist/index.html")), "dist/ is missing: run `npm run build` first");
    mkdirSync(shots, { recursive: true });
    // Served as `npm start` does: cross-origin isolated (the CPU path may run threaded).
    server = await serve({ "/": path.join(root, "dist"), "/fixtures/": models }, { slow: /\.onnx$/, isolated: true });
    browser = await launch();
    const context = await browser.newContext({
      viewport: { width: 1280, height: 1000 },
      acceptDownloads: true,
    });
    // Main-thread heartbeat: the longest gap between 10 ms timer ticks since the last reset.
    await context.addInitScript(() => {
      const beat = { last: performance.now(), maxGap: 0, ticks: 0 };
      beat.reset = () => Object.assign(beat, { last: performance.now(), maxGap: 0, ticks: 0 });
      window.heartbeat = beat;
      setInterval(() => {
        const now = performance.now();
        beat.maxGap = Math.max(beat.maxGap, now - beat.last);
        beat.last = now;
        beat.ticks += 1;
      }, 10);
    });
    page = await newPage(context);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it("downloads the model given by ?model= with a progress bar", async () => {
    await page.goto(`${server.origin}/?model=${MODEL_URL}`);
    await page.waitForFunction(
      () => {
        const bar = document.getElementById("model-bar");
        return bar.hasAttribute("value") && bar.value > 0 && bar.value < 100;
      },
      null,
      WAIT,
    );
    assert.match(await page.textContent("#model-progress-text"), /^\d+\.\d MB of 1\.2 MB \(\d+ %\)$/);
    await shoot("1-download");
    await status(/Model tiny-640\.onnx ready/);
    assert.equal(await page.isVisible("#model-progress"), false);
    assert.match(await page.textContent("#stat-backend"), /^(CPU|WebGPU) \(\w+(, \d+ threads)?\)$/);
    assert.equal(server.hits.get(MODEL_URL), 1);
  });

  it("segments a sample photo in the worker while the main thread stays responsive", async (t) => {
    await page.evaluate(() => window.heartbeat.reset());
    await page.click("#samples button:has-text('Astronaut')");
    await status(/^\d+ masks in astronaut\.jpg/);
    await settled();
    const { maxGap, ticks } = await page.evaluate(() => window.heartbeat);
    const inferenceMs = parseFloat(await page.textContent("#stat-inference"));
    assert.ok(inferenceMs > 0, "the model run time is shown");
    t.diagnostic(
      `model run ${inferenceMs} ms; longest main-thread gap ${maxGap.toFixed(1)} ms over ${ticks} ticks`,
    );
    // The model runs in the worker: the page's timers keep ticking through it.
    assert.ok(ticks >= 5, `the heartbeat ticked ${ticks} times`);
    assert.ok(
      maxGap < 100 && maxGap < inferenceMs / 2,
      `main thread blocked ${maxGap.toFixed(0)} ms during a ${inferenceMs} ms model run`,
    );
    for (const id of ["stat-preprocess", "stat-postprocess", "stat-prompt"]) {
      assert.match(await page.textContent(`#${id}`), /\d ms/);
    }
  });

  it("everything mode draws every mask and highlights the one under the pointer", async () => {
    const [w, h] = await page.evaluate(() => [
      document.getElementById("layer-masks").width,
      document.getElementById("layer-masks").height,
    ]);
    assert.deepEqual([w, h], [512, 512]);
    const covered = await opaqueCount(page, "layer-masks");
    assert.ok(covered > 0.2 * w * h, `the overlay covers ${covered} of ${w * h} pixels`);
    target = await opaquePixel(page, "layer-masks", [w / 2, h / 2]);
    assert.ok(target, "some mask is drawn");
    const { x, y } = await pagePoint(page, target);
    await page.mouse.move(x, y);
    await status(/^Mask \d+: score/);
    await settled();
    assert.ok(
      (await alphaAt(page, "layer-highlight", target)) > 0,
      "the hovered mask is highlighted under the pointer",
    );
    await shoot("2-everything");
    // A click selects the mask: it stays highlighted when the pointer leaves.
    await clickPixel(target);
    await page.mouse.move(1, 1);
    await status(/masks in astronaut\.jpg/);
    await settled();
    assert.ok((await alphaAt(page, "layer-highlight", target)) > 0, "the selected mask stays highlighted");
  });

  it("points mode: click adds an object, shift-click a background point, undo and clear", async () => {
    await page.click("button[data-mode=points]");
    await settled();
    assert.equal(await opaqueCount(page, "layer-masks"), 0, "no prompt, no mask");
    await clickPixel(target);
    assert.ok((await alphaAt(page, "layer-masks", target)) > 0, "the clicked pixel is inside the mask");
    assert.ok((await alphaAt(page, "layer-prompts", target)) > 0, "the point is drawn");
    const onePoint = await digest(page, "layer-masks");
    const below = await opaquePixel(page, "layer-masks", [target[0], Math.min(target[1] + 150, 511)]);
    assert.notDeepEqual(below, target);
    await clickPixel(below, { shift: true });
    assert.equal(await alphaAt(page, "layer-masks", below), 0, "the background point erased its masks");
    assert.equal(
      await page.textContent("#status"),
      "2 points: 1 mask, " + (await opaqueCount(page, "layer-masks")) + " px.",
    );
    assert.notEqual(await digest(page, "layer-masks"), onePoint);
    await shoot("3-points");
    await page.click("#undo");
    await settled();
    assert.equal(await digest(page, "layer-masks"), onePoint, "undo restores the one-point mask");
    await page.click("#clear");
    await settled();
    assert.equal(await opaqueCount(page, "layer-masks"), 0);
    await clickPixel(target, { button: "right" });
    assert.equal(await alphaAt(page, "layer-masks", target), 0, "right-click is a background point");
    await page.click("#clear");
    await settled();
    await clickPixel(target);
  });

  it("box mode: a dragged box selects a mask inside it, several boxes add up", async () => {
    await page.click("button[data-mode=box]");
    await settled();
    const drag = async ([x1, y1, x2, y2]) => {
      const a = await pagePoint(page, [x1, y1]);
      const b = await pagePoint(page, [x2, y2]);
      await page.mouse.move(a.x, a.y);
      await page.mouse.down();
      await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2);
      await page.mouse.move(b.x, b.y);
      await page.mouse.up();
      await settled();
    };
    const clamp = (v) => Math.min(Math.max(v, 0), 511);
    const box = [target[0] - 60, target[1] - 60, target[0] + 60, target[1] + 60].map(clamp);
    await drag(box);
    const inside = await opaqueCount(page, "layer-masks", [box[0], box[1], box[2] + 1, box[3] + 1]);
    assert.ok(inside > 0, "mask pixels inside the dragged box");
    const oneBox = await digest(page, "layer-masks");
    await drag([40, 40, 200, 160]);
    assert.ok(
      (await opaqueCount(page, "layer-masks", [40, 40, 201, 161])) > 0,
      "mask pixels inside the second box",
    );
    assert.notEqual(await digest(page, "layer-masks"), oneBox, "the second box added a mask");
    await shoot("4-box");
  });

  it("text mode: loads CLIP from three files and draws the mask a sentence picks", async () => {
    await page.click("button[data-mode=text]");
    await settled();
    assert.equal(await page.isVisible("#text-panel"), true);
    assert.equal(await page.isDisabled("#text-prompt"), true, "no sentence before CLIP is loaded");
    await page.setInputFiles(
      "#clip-files",
      ["tiny-clip-image.onnx", "tiny-clip-text.onnx", "clip-bpe.txt.gz"].map((f) => path.join(clip, f)),
    );
    await page.waitForFunction(() => /ready/.test(document.getElementById("clip-status").textContent), null, WAIT);
    await page.fill("#text-prompt", "a red circle; blue square");
    await page.click("#text-go");
    await status(/“a red circle”, “blue square”: 2 masks/);
    await settled();
    assert.ok((await opaqueCount(page, "layer-masks")) > 0, "the picked masks are drawn");
    const best = await digest(page, "layer-masks");
    await page.check("#text-all");
    await page.fill("#text-threshold", "-1");
    await page.dispatchEvent("#text-threshold", "change");
    await status(/“a red circle”, “blue square”: \d+ masks/);
    await settled();
    assert.notEqual(await digest(page, "layer-masks"), best, "threshold -1 draws every scored mask");
    await shoot("4b-text");
    await page.uncheck("#text-all");
    await page.click("button[data-mode=box]");
    await settled();
  });

  it("exports the selected masks as PNG and all masks as COCO RLE JSON and each polygon format", async () => {
    const [png] = await Promise.all([page.waitForEvent("download", WAIT), page.click("#export-png")]);
    assert.equal(png.suggestedFilename(), "astronaut-mask.png");
    const bytes = readFileSync(await png.path());
    assert.equal(bytes.subarray(1, 4).toString(), "PNG");
    assert.deepEqual([bytes.readUInt32BE(16), bytes.readUInt32BE(20)], [512, 512]);

    const [json] = await Promise.all([page.waitForEvent("download", WAIT), page.click("#export-coco")]);
    const coco = JSON.parse(readFileSync(await json.path(), "utf8"));
    assert.deepEqual(coco.images, [{ id: 1, file_name: "astronaut.jpg", width: 512, height: 512 }]);
    assert.equal(coco.annotations.length, 300);
    for (const a of coco.annotations) {
      assert.deepEqual(a.segmentation.size, [512, 512]);
      assert.equal(
        a.segmentation.counts.reduce((s, c) => s + c, 0),
        512 * 512,
      );
      const ones = a.segmentation.counts.filter((_, i) => i % 2 === 1).reduce((s, c) => s + c, 0);
      assert.equal(ones, a.area);
    }

    // The polygon formats of the menu, every mask.
    const saved = async (format, button = "#export-polygons") => {
      await page.selectOption("#export-format", format);
      const [file] = await Promise.all([page.waitForEvent("download", WAIT), page.click(button)]);
      return [file.suggestedFilename(), readFileSync(await file.path(), "utf8")];
    };
    const [cocoName, cocoText] = await saved("coco");
    const polygons = JSON.parse(cocoText);
    assert.equal(cocoName, "astronaut-coco.json");
    assert.equal(polygons.images[0].file_name, "astronaut.jpg");
    assert.equal(polygons.annotations.length, 300);
    const [yoloName, yolo] = await saved("yolo");
    assert.equal(yoloName, "astronaut.txt");
    assert.ok(yolo.split("\n").filter(Boolean).every((line) => /^0( [01](\.\d+)?){6,}$/.test(line)));
    const [svgName, svg] = await saved("svg");
    assert.equal(svgName, "astronaut.svg");
    assert.equal(svg.split("<path").length - 1, 300);
    const [, geo] = await saved("geojson");
    assert.equal(JSON.parse(geo).features.length, 300);
    const [, studio] = await saved("labelstudio");
    assert.ok(JSON.parse(studio).every((r) => r.type === "polygonlabels"));
    // The selection only: the box prompt's masks.
    const [selectedName, selectedText] = await saved("coco", "#export-polygons-selected");
    assert.equal(selectedName, "astronaut-selected-coco.json");
    const selected = JSON.parse(selectedText).annotations.length;
    assert.ok(selected >= 1 && selected < 300, `${selected} selected masks`);
    assert.match(await status(/Exported \d+ selected masks? as/), new RegExp(`Exported ${selected} selected masks? as COCO polygons`));
    // The detail slider outlines the selection with its point count, and sets the exports' tolerance.
    const slide = async (value) => {
      await page.$eval("#outline-tolerance", (input, v) => {
        input.value = v;
        input.dispatchEvent(new Event("input", { bubbles: true }));
      }, String(value));
      const text = await page.waitForFunction(
        (v) => {
          const shown = document.getElementById("outline-points").textContent;
          return shown.startsWith(`${v} px: `) && shown;
        },
        String(value),
        WAIT,
      );
      return Number((await text.jsonValue()).match(/(\d+) points?/)[1]);
    };
    const coarse = await slide(4);
    const exact = await slide(0);
    assert.ok(coarse >= 1 && exact > coarse, `${exact} points at 0 px, ${coarse} at 4 px`);
    assert.ok((await opaqueCount(page, "layer-outline")) > 0, "the outline is drawn");
    const [, exactText] = await saved("coco", "#export-polygons-selected");
    const points = (text) =>
      JSON.parse(text).annotations.flatMap((a) => a.segmentation).reduce((n, ring) => n + ring.length / 2, 0);
    const [atZero, atOne] = [points(exactText), points(selectedText)];
    assert.ok(atZero > atOne && atZero <= exact, `exports follow the slider: ${atZero} points at 0 px, ${atOne} at 1 px`);
    await slide(1);
    const [brushName, brush] = await saved("labelstudio-brush");
    assert.equal(brushName, "astronaut-label-studio-brush.json");
    const brushes = JSON.parse(brush);
    assert.equal(brushes.length, 300);
    assert.ok(brushes.every((r) => r.type === "brushlabels" && r.value.format === "rle" && r.value.rle.length > 0));
  });

  it("refuses a corrupt model and a non-FastSAM model, keeping the loaded one", async () => {
    const before = await digest(page, "layer-masks");
    await page.setInputFiles("#model-file", {
      name: "broken.onnx",
      mimeType: "application/octet-stream",
      buffer: truncatedModel(path.join(models, "tiny-640.onnx")),
    });
    assert.match(
      await status(/Could not load/),
      /Could not load “broken\.onnx”: this is not a FastSAM ONNX model/,
    );
    await shoot("5-corrupt-model");
    await page.setInputFiles("#model-file", path.join(models, "classifier.onnx"));
    assert.match(await status(/Could not load “classifier/), /not a FastSAM ONNX model/);
    assert.equal(await page.isVisible("#model-progress"), false);
    // The page still works with the model and masks it had.
    assert.equal(await digest(page, "layer-masks"), before);
    await page.click("#undo");
    await settled();
    assert.notEqual(await digest(page, "layer-masks"), before, "prompts still answer");
  });

  it("refuses a file that is not an image, keeping the current one", async () => {
    await page.setInputFiles("#image-file", {
      name: "notes.txt",
      mimeType: "text/plain",
      buffer: Buffer.from("not a picture"),
    });
    assert.match(
      await status(/Could not open/),
      /Could not open “notes\.txt”: it is not an image this browser can read/,
    );
    await shoot("6-not-an-image");
    await page.click("button[data-mode=points]");
    await clickPixel(target);
    assert.ok((await alphaAt(page, "layer-masks", target)) > 0, "the previous image still answers prompts");
  });

  it("downscales a huge image with a message, and opens dropped and pasted images", async () => {
    await page.click("button[data-mode=everything]");
    await page.setInputFiles("#image-file", {
      name: "huge.png",
      mimeType: "image/png",
      buffer: stripedPng(6000, 4000),
    });
    assert.match(await status(/masks in huge\.png/), /^6000×4000 image downscaled to 2048×1365/);
    await settled();
    assert.equal(await page.evaluate(() => document.getElementById("layer-image").width), 2048);
    assert.ok((await opaqueCount(page, "layer-masks")) > 0);
    await shoot("7-huge-image");
    // Drag-and-drop and paste hand the page a File, as a browser does.
    const jpeg = [...readFileSync(path.join(root, "www/static/samples/chelsea.jpg"))];
    for (const [kind, name] of [
      ["drop", "dropped.jpg"],
      ["paste", "pasted.jpg"],
    ]) {
      await page.evaluate(
        ([kind, name, bytes]) => {
          const transfer = new DataTransfer();
          transfer.items.add(new File([new Uint8Array(bytes)], name, { type: "image/jpeg" }));
          const event =
            kind === "drop"
              ? new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true })
              : new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true });
          document.body.dispatchEvent(event);
        },
        [kind, name, jpeg],
      );
      await status(new RegExp(`masks in ${name.replace(".", "\\.")}`));
      await settled();
      assert.equal(await page.evaluate(() => document.getElementById("layer-image").width), 451);
    }
  });

  it("reloads the model from the Cache API without downloading it again", async () => {
    await page.reload();
    await status(/Model tiny-640\.onnx ready/);
    assert.match(await page.textContent("#model-progress-text"), /^From the cache: tiny-640\.onnx/);
    assert.equal(server.hits.get(MODEL_URL), 1, "the model was downloaded once");
  });

  it("runs the CPU path on the threaded build from the bundled page (?backend=cpu)", async () => {
    await page.goto(`${server.origin}/?model=${MODEL_URL}&backend=cpu`);
    await status(/Model tiny-640\.onnx ready/);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const expected = cores > 1 ? `CPU (tract, ${Math.min(cores, 8)} threads)` : "CPU (tract)";
    assert.equal(await page.textContent("#stat-backend"), expected);
    await page.click("#samples button:has-text('Astronaut')");
    await status(/^\d+ masks in astronaut\.jpg/);
    await settled();
    assert.ok((await opaqueCount(page, "layer-masks")) > 0, "masks are drawn");
  });

  it("printed no errors", () => {
    assert.deepEqual(page.pageErrors, []);
    assert.deepEqual(page.consoleErrors, []);
  });
});
