// Time and memory of FastSAM runs in headless Chromium through the package's JS API (pkg/ must be
// built: `npm run build:wasm`). For each model and backend: load, one warm-up run, then N timed
// runs of `segment()` on one image; reports the model run time (median, min), the wasm memory after
// load and after the runs, and the peak resident memory of Chromium's GPU process (where WebGPU
// buffers live; with SwiftShader that is plain CPU memory, so it bounds the GPU memory used).
//
//   node tools/browser_run.mjs --models ../shared/models/fastsam-s-bench-640.onnx \
//       --image www/static/samples/astronaut.jpg --backends webgpu,cpu --runs 3
//
// `--clip DIR` (clip-image.onnx, clip-text.onnx, clip-bpe.txt.gz from tools/clip_export.py) also
// times the text prompt on the last segmentation: loading CLIP, the first `text()` (every mask's
// region through the image encoder) and a further sentence (the text encoder only).
//
// `--mask-assembly gpu|cpu` passes `maskAssembly` to `segment()` (default: the package's, "auto");
// post-processing time (`seg.postprocessMs`: NMS and masks, on the GPU with their readback) is
// reported beside the model run time.
//
// SwiftShader (the only WebGPU adapter on machines without a GPU) is a correctness device: its
// times say nothing about a real GPU.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { launch, newPage } from "../tests/e2e/browser.mjs";
import { serve } from "../tests/e2e/server.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function parseArgs(argv) {
  const args = {
    models: [],
    image: "www/static/samples/astronaut.jpg",
    backends: ["webgpu", "cpu"],
    runs: 3,
    clip: null,
    maskAssembly: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const next = () => argv[++i];
    if (argv[i] === "--models") while (argv[i + 1] && !argv[i + 1].startsWith("--")) args.models.push(next());
    else if (argv[i] === "--image") args.image = next();
    else if (argv[i] === "--backends") args.backends = next().split(",");
    else if (argv[i] === "--runs") args.runs = Number(next());
    else if (argv[i] === "--clip") args.clip = next();
    else if (argv[i] === "--mask-assembly") args.maskAssembly = next();
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!args.models.length) throw new Error("--models a.onnx [b.onnx ...] is required");
  return args;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>run</title><link rel="icon" href="data:,">
<script type="module">
  import init, { FastSam } from "/pkg/index.js";
  const wasm = await init();
  const memory = () => wasm.memory.buffer.byteLength;
  const fetchBytes = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());
  window.measure = async ({ model, image, backend, runs, clip, maskAssembly }) => {
    const bytes = new Uint8Array(await (await fetch(model)).arrayBuffer());
    const bitmap = await createImageBitmap(await (await fetch(image)).blob());
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext("2d");
    ctx.drawImage(bitmap, 0, 0);
    const pixels = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    const t0 = performance.now();
    const fastsam = await FastSam.load(bytes, { backend });
    const loadMs = performance.now() - t0;
    const afterLoad = memory();
    const times = [];
    const post = [];
    let masks = 0;
    let text = null;
    for (let i = 0; i <= runs; i++) {
      // The text encoder loads before the last run: segmentations keep their image only then.
      let clipLoadMs = 0;
      if (clip && i === runs) {
        const files = { image: await fetchBytes(clip + "clip-image.onnx"),
          text: await fetchBytes(clip + "clip-text.onnx"), vocab: await fetchBytes(clip + "clip-bpe.txt.gz") };
        const t = performance.now();
        await fastsam.loadTextEncoder(files, { backend });
        clipLoadMs = performance.now() - t;
      }
      const seg = await fastsam.segment(pixels, maskAssembly ? { maskAssembly } : undefined);
      if (i > 0) times.push(seg.inferenceMs);
      if (i > 0) post.push(seg.postprocessMs);
      masks = seg.length;
      if (clip && i === runs) {
        const t2 = performance.now();
        const scored = (await seg.textScores("a photo of a dog"))[0].length;
        const t3 = performance.now();
        await seg.text("a black cat");
        const t4 = performance.now();
        await seg.text(["a tree", "a car", "the sky"]);
        const t5 = performance.now();
        text = { backend: fastsam.textBackend, loadMs: clipLoadMs, scored, firstMs: t3 - t2, nextMs: t4 - t3,
          threeMs: t5 - t4, wasmAfterText: memory() };
      }
      seg.free();
    }
    const result = { backend: fastsam.backend, engine: fastsam.engine, loadMs, times, post, masks,
      wasmAfterLoad: afterLoad, wasmAfterRuns: memory(), text };
    fastsam.free();
    return result;
  };
  window.ready = true;
</script>`;

/** Peak resident memory (VmHWM, bytes) of the browser's GPU process, or null. */
function gpuProcessPeak(browserPid) {
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const parent = Number(/PPid:\s+(\d+)/.exec(status)?.[1]);
      if (cmdline.includes("--type=gpu-process") && (browserPid === undefined || parent === browserPid)) {
        return Number(/VmHWM:\s+(\d+) kB/.exec(status)[1]) * 1024;
      }
    } catch {
      // the process ended while we looked
    }
  }
  return null;
}

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const mb = (b) => (b === null ? "n/a" : `${(b / 2 ** 20).toFixed(0)} MiB`);

const args = parseArgs(process.argv.slice(2));
const routes = { "/pkg/": path.join(root, "pkg") };
args.models.forEach((m, i) => (routes[`/m${i}/`] = path.dirname(path.resolve(m))));
routes["/img/"] = path.dirname(path.resolve(args.image));
if (args.clip) routes["/clip/"] = path.resolve(args.clip);
const server = await serve(routes, { pages: { "/": PAGE } });
const rows = [];
try {
  for (const [i, model] of args.models.entries()) {
    for (const backend of args.backends) {
      // A fresh browser per row, so the GPU process's peak belongs to this model and backend.
      const browser = await launch({ webgpu: backend !== "cpu" });
      try {
        const page = await newPage(await browser.newContext());
        page.setDefaultTimeout(0);
        await page.goto(`${server.origin}/`);
        await page.waitForFunction(() => window.ready === true);
        const r = await page.evaluate((o) => window.measure(o), {
          model: `/m${i}/${path.basename(model)}`,
          image: `/img/${path.basename(args.image)}`,
          backend,
          runs: args.runs,
          clip: args.clip ? "/clip/" : null,
          maskAssembly: args.maskAssembly,
        });
        const pid = browser.process?.()?.pid;
        const row = {
          model: path.basename(model),
          ...r,
          medianMs: median(r.times),
          minMs: Math.min(...r.times),
          postprocessMedianMs: median(r.post),
          gpuProcessPeak: backend === "cpu" ? null : gpuProcessPeak(pid),
        };
        rows.push(row);
        console.log(
          `${row.model} ${row.backend}/${row.engine}: median ${row.medianMs.toFixed(0)} ms, min ${row.minMs.toFixed(0)} ms ` +
            `(${args.runs} runs after 1 warm-up, ${row.masks} masks); post-processing median ` +
            `${row.postprocessMedianMs.toFixed(0)} ms (maskAssembly ${args.maskAssembly ?? "auto"}); load ${row.loadMs.toFixed(0)} ms; ` +
            `wasm memory ${mb(row.wasmAfterLoad)} after load, ${mb(row.wasmAfterRuns)} after the runs; ` +
            `GPU process peak ${mb(row.gpuProcessPeak)}`,
        );
        if (r.text) {
          const t = r.text;
          console.log(
            `  text prompt on ${t.backend}: CLIP load ${t.loadMs.toFixed(0)} ms; first sentence ${t.firstMs.toFixed(0)} ms ` +
              `(${t.scored} masks embedded, ${(t.firstMs / Math.max(1, t.scored)).toFixed(1)} ms per mask); ` +
              `next sentence ${t.nextMs.toFixed(1)} ms; 3 sentences ${t.threeMs.toFixed(1)} ms; wasm memory ${mb(t.wasmAfterText)}`,
          );
        }
      } finally {
        await browser.close();
      }
    }
  }
} finally {
  await server.close();
}
console.log(JSON.stringify({ browser: "Debian chromium (headless)", rows }, null, 2));
