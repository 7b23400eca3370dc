#!/usr/bin/env node
// `npm run bench`: times this package against onnxruntime-web on the same ONNX model and image in
// headless Chromium (bench/ page, cross-origin isolated), then writes target/bench/bench.json and
// bench.md and prints the table. `--smoke` is the quick CI guard on the fixture model. `--help`.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";

import { launch, newPage } from "../tests/e2e/browser.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ORT_DIST = path.join(root, "node_modules/onnxruntime-web/dist");
/** The post-processing row's image size (the issue's "300 retina masks at 2000x1500"). */
const POST_SIZE = [2000, 1500];

const HELP = `Usage: node scripts/bench.mjs [options]   (npm run bench -- [options])

  --models a.onnx,b.onnx  ONNX models (default ../shared/models/fastsam-s-bench-640.onnx and -1024.onnx)
  --images a.jpg,...      images (default ../shared/images/dogs.jpg)
  --runs N                timed runs per CPU row, after the warm-up (default 5)
  --warmup N              untimed runs first (default 1)
  --gpu-runs N            timed runs per WebGPU row (default 1); 0: the WebGPU rows of --dtypes
                          load the model only and the other WebGPU rows are left out (for
                          software adapters, where a run of the full-size model takes minutes)
  --prompt-runs N         timed runs per prompt (default 20)
  --skip-gpu              leave out the WebGPU rows
  --dtypes a.onnx,b.onnx  the same model stored as fp32, fp16, q8 (tools/convert.py --dtype): each
                          file's download size, load time, first mask (load + first segmentation)
                          and model run on the CPU and WebGPU builds, against the first file's
                          (smoke: the fixture model and its float16 and q8 exports)
  --gemm-tiles 4x8,8x8    also time the CPU path (1 thread) with each matrix-product tile forced
                          (the default row uses the tile timed fastest at load; smoke: 8x8)
  --no-build              do not run \`npm run build:wasm\` first
  --smoke                 fixture model and image, 1 run, no warm-up, every row; fails unless
                          every row gives a finite time (writes target/bench/smoke.{json,md})`;

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".png": "image/png",
};

/** Headers that make the page cross-origin isolated (so wasm threads are allowed). */
const ISOLATION = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
};

/** The command line, with the defaults of the mode filled in. */
function options() {
  const { values } = parseArgs({
    options: {
      models: { type: "string", multiple: true },
      dtypes: { type: "string", multiple: true },
      images: { type: "string", multiple: true },
      runs: { type: "string" },
      warmup: { type: "string" },
      "gpu-runs": { type: "string" },
      "prompt-runs": { type: "string" },
      "skip-gpu": { type: "boolean", default: false },
      "gemm-tiles": { type: "string" },
      "no-build": { type: "boolean", default: false },
      smoke: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const smoke = values.smoke;
  const files = (given, defaults) =>
    given ? given.flatMap((list) => list.split(",")).map((f) => path.resolve(f)) : defaults.map((f) => path.resolve(root, f));
  const count = (name, fallback, min) => {
    const n = Number(values[name] ?? fallback);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return n;
  };
  const opts = {
    smoke,
    build: !values["no-build"],
    skipGpu: values["skip-gpu"],
    models: files(
      values.models,
      smoke
        ? ["tests/fixtures/models/tiny-640.onnx"]
        : ["../shared/models/fastsam-s-bench-640.onnx", "../shared/models/fastsam-s-bench-1024.onnx"],
    ),
    images: files(values.images, smoke ? ["tests/fixtures/images/shapes_wide.png"] : ["../shared/images/dogs.jpg"]),
    dtypes: files(
      values.dtypes,
      smoke
        ? ["tests/fixtures/models/tiny-640.onnx", "tests/fixtures/models/exports/float16.onnx", "tests/fixtures/models/exports/q8.onnx"]
        : [],
    ),
    runs: count("runs", smoke ? 1 : 5, 1),
    warmup: count("warmup", smoke ? 0 : 1, 0),
    gpuRuns: count("gpu-runs", 1, 0),
    promptRuns: count("prompt-runs", 20, 1),
    gemmTiles: (values["gemm-tiles"] ?? (smoke ? "8x8" : "")).split(",").filter(Boolean),
  };
  for (const tile of opts.gemmTiles) {
    if (!["4x8", "8x8"].includes(tile)) throw new Error(`--gemm-tiles takes 4x8 and/or 8x8, not ${tile}`);
  }
  for (const file of [...opts.models, ...opts.images, ...opts.dtypes]) {
    if (!existsSync(file)) throw new Error(`${file} does not exist`);
  }
  return opts;
}

/**
 * Serves the repository's `bench/`, `pkg/` and onnxruntime-web's `dist/` under their repository
 * paths, and `files` (`{urlPath: absPath}`), every response with the isolation headers.
 */
async function serveIsolated(files) {
  const dirs = {
    "/bench/": path.join(root, "bench"),
    "/pkg/": path.join(root, "pkg"),
    "/node_modules/onnxruntime-web/dist/": ORT_DIST,
  };
  const server = createServer(async (request, response) => {
    const pathname = decodeURIComponent(new URL(request.url, "http://localhost").pathname);
    const prefix = Object.keys(dirs).find((p) => pathname.startsWith(p));
    let file = files[pathname];
    if (!file && prefix) {
      file = path.join(dirs[prefix], pathname.slice(prefix.length) || "index.html");
      if (!file.startsWith(dirs[prefix] + path.sep)) file = undefined;
    }
    const body = file && (await readFile(file).catch(() => null));
    if (!body) {
      response.writeHead(404, ISOLATION).end();
      return;
    }
    response
      .writeHead(200, {
        ...ISOLATION,
        "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream",
        "Content-Length": body.length,
        "Cache-Control": "no-store",
      })
      .end(body);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/** A table row from timings `samples` (ms). */
function row(label, target, threads, samples, extra = {}) {
  return { row: label, ...target, threads, median: median(samples), min: Math.min(...samples), samples, ...extra };
}

/** The name of the WebGPU adapter for row labels ("SwiftShader" for Chromium's CPU fallback). */
function gpuName(gpu) {
  if (!gpu) return "no adapter";
  const text = [gpu.vendor, gpu.architecture, gpu.description].join(" ");
  return /swiftshader/i.test(text) ? "SwiftShader" : gpu.description || `${gpu.vendor} ${gpu.architecture}`.trim();
}

/**
 * The jobs for one model and image: each has a `label` (the row of a failed job), its `target`,
 * the `job` for the page (null when it cannot run, saying why in `error`) and `rows(result)`.
 */
function jobsFor({ target, urls }, opts, env) {
  const { runs, warmup, gpuRuns } = opts;
  const gpu = gpuName(env.gpu);
  const threads = env.hardwareConcurrency;
  const fastsam = { kind: "fastsam", model: urls.model, image: urls.image, warmup };
  const ort = { kind: "ort", model: urls.model, image: urls.image, warmup };
  /** A job whose one row is its model run time. */
  const inference = (label, ep, job, rowThreads) => ({
    label,
    target,
    job,
    rows: (r) => [row(label, target, rowThreads, r.times.inference, { kind: "inference", ep })],
  });
  const cpu = inference("fastsam-web CPU (tract) inference", "fastsam-cpu", { ...fastsam, backend: "cpu", runs }, 1);
  const jobs = [
    {
      ...cpu,
      rows: (r) => [
        ...cpu.rows(r),
        row(`fastsam-web pre-processing (letterbox ${r.width}x${r.height} to ${r.inputSize})`, target, 1, r.times.preprocess),
        row(`fastsam-web post-processing (${r.width}x${r.height}, ${r.masks} masks)`, target, 1, r.times.postprocess),
      ],
    },
    inference("onnxruntime-web wasm inference, 1 thread", "ort-wasm-1", { ...ort, ep: "wasm", threads: 1, runs }, 1),
    ...opts.gemmTiles.map((tile) =>
      inference(`fastsam-web CPU (tract) inference, ${tile} tile forced`, `fastsam-cpu-${tile}`, { ...fastsam, backend: "cpu", gemmTile: tile, runs }, 1),
    ),
  ];
  // Thread scaling: 2, 4, 8, ... up to the machine's logical cores, both runtimes.
  for (const n of threadCounts(threads)) {
    const isolated = env.crossOriginIsolated;
    const error = "the page is not cross-origin isolated, so neither runtime can use threads";
    jobs.push(
      {
        ...inference(
          `fastsam-web CPU (tract) threaded build inference, ${n} threads`,
          `fastsam-cpu-${n}`,
          isolated ? { ...fastsam, backend: "cpu", threads: n, runs } : null,
          n,
        ),
        error,
      },
      {
        ...inference(`onnxruntime-web wasm inference, ${n} threads`, `ort-wasm-${n}`, isolated ? { ...ort, ep: "wasm", threads: n, runs } : null, n),
        error,
      },
    );
  }
  if (!opts.skipGpu && gpuRuns > 0) {
    jobs.push(
      inference(`fastsam-web WebGPU (Burn, ${gpu}) inference`, "fastsam-webgpu", { ...fastsam, backend: "webgpu", runs: gpuRuns }, "GPU"),
      inference(
        `fastsam-web WebGPU (Burn, tiled convolutions, ${gpu}) inference`,
        "fastsam-webgpu-tiled",
        { ...fastsam, backend: "webgpu", gpuConv: "tiled", runs: gpuRuns },
        "GPU",
      ),
      inference(`onnxruntime-web WebGPU (${gpu}) inference`, "ort-webgpu", { ...ort, ep: "webgpu", threads: 1, runs: gpuRuns }, "GPU"),
    );
  }
  return jobs;
}

/** Thread counts above 1 to measure: powers of two below `cores`, and `cores`. */
function threadCounts(cores) {
  const counts = [];
  for (let n = 2; n < cores; n *= 2) counts.push(n);
  if (cores > 1) counts.push(cores);
  return counts;
}

/**
 * The `--dtypes` jobs: each file on the CPU (1 thread) and, unless skipped, on WebGPU, on the first
 * image. Each result row: load, first mask (load + first segmentation) and model run.
 */
function dtypeJobs(files, image, opts, env) {
  const backends = [["cpu", "CPU (tract)", opts.runs], ...(opts.skipGpu ? [] : [["webgpu", `WebGPU (Burn, ${gpuName(env.gpu)})`, opts.gpuRuns]])];
  return files.flatMap(({ file, url }) =>
    backends.map(([backend, label, runs]) => ({
      file,
      backend: label,
      job: { kind: "fastsam", model: url, image, backend, runs, warmup: runs > 0 ? opts.warmup : 0 },
      loadOnly: runs === 0,
    })),
  );
}

/** Raw and gzip -9 bytes of a model file. */
function fileSize(file) {
  const bytes = readFileSync(file);
  return { raw: bytes.length, gzip9: gzipSync(bytes, { level: 9 }).length };
}

/** The post-processing and prompt job on the image stretched to POST_SIZE, CPU backend. */
function postJob({ target, urls }, opts) {
  const size = POST_SIZE.join("x");
  return {
    label: `post-processing at ${size}`,
    target,
    job: { kind: "fastsam", model: urls.model, image: urls.image, size: POST_SIZE, backend: "cpu", runs: opts.runs, warmup: opts.warmup, promptRuns: opts.promptRuns },
    rows: (r) => [
      row(`post-processing: NMS + ${r.masks} full-resolution masks at ${size}`, target, 1, r.times.postprocess, { masks: r.masks }),
      ...Object.entries(r.prompts).map(([name, samples]) => row(`prompt at ${size}: ${name}`, target, 1, samples)),
    ],
  };
}

/**
 * The polygon outlines of the post-processing job's segmentation on the threaded build with every
 * logical core (the one-call rows are the ones it spreads over its threads); null where the page
 * cannot run threads.
 */
function outlineThreadsJob({ target, urls }, opts, env) {
  const size = POST_SIZE.join("x");
  const n = env.hardwareConcurrency;
  const label = `polygons at ${size}, threaded build, ${n} threads`;
  if (!env.crossOriginIsolated || n < 2) {
    return { label, target, job: null, error: "needs a cross-origin isolated page and 2 or more cores", rows: () => [] };
  }
  return {
    label,
    target,
    job: { kind: "fastsam", model: urls.model, image: urls.image, size: POST_SIZE, backend: "cpu", threads: n, runs: 1, warmup: 0, promptRuns: opts.promptRuns, outlinesOnly: true },
    rows: (r) => Object.entries(r.prompts).map(([name, samples]) => row(`prompt at ${size}, ${n} threads: ${name}`, target, n, samples)),
  };
}

/** Raw and gzip -9 bytes of the wasm modules compared in the Size section. */
function sizes(opts) {
  const files = [
    ["fastsam-web WebGPU build (pkg/webgpu/fastsam_web_webgpu_bg.wasm; the worker with WebGPU)", path.join(root, "pkg/webgpu/fastsam_web_webgpu_bg.wasm")],
    ["fastsam-web CPU build (pkg/cpu/fastsam_web_cpu_bg.wasm; the worker without WebGPU)", path.join(root, "pkg/cpu/fastsam_web_cpu_bg.wasm")],
    ["fastsam-web threaded CPU build (pkg/threaded/fastsam_web_threaded_bg.wasm; isolated pages)", path.join(root, "pkg/threaded/fastsam_web_threaded_bg.wasm")],
    ["onnxruntime-web wasm EP (ort-wasm-simd-threaded.wasm)", path.join(ORT_DIST, "ort-wasm-simd-threaded.wasm")],
    ["onnxruntime-web WebGPU build (ort-wasm-simd-threaded.asyncify.wasm)", path.join(ORT_DIST, "ort-wasm-simd-threaded.asyncify.wasm")],
  ];
  return files
    .filter(([, file]) => existsSync(file))
    .map(([what, file]) => {
      const bytes = readFileSync(file);
      return { what, file: path.relative(root, file), raw: bytes.length, gzip9: gzipSync(bytes, { level: 9 }).length };
    });
}

/**
 * Each inference row's median over onnxruntime-web's on the same model and image: its wasm EP with
 * the same thread count for CPU rows, its WebGPU EP for WebGPU rows.
 */
function addRatios(rows) {
  for (const r of rows) {
    if (r.kind !== "inference" || r.error) continue;
    const ep = r.threads === "GPU" ? "ort-webgpu" : `ort-wasm-${r.threads}`;
    const base = rows.find((b) => b.ep === ep && b.model === r.model && b.image === r.image && !b.error);
    if (base) r.ratio = r.median / base.median;
  }
}

const ms = (x) => (!Number.isFinite(x) ? "—" : x < 0.01 ? "< 0.01" : x < 10 ? x.toFixed(2) : x < 1000 ? x.toFixed(1) : x.toFixed(0));
const plural = (n) => `${n} run${n === 1 ? "" : "s"}`;
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;

/** The `--dtypes` section: one row per file and backend, the model run against the first file's. */
function dtypeTable(report) {
  if (!report.dtypes?.length) return [];
  const mb = (bytes) => (bytes / 1e6).toFixed(2);
  const mem = (bytes) => (Number.isFinite(bytes) ? (bytes / 2 ** 20).toFixed(0) : "—");
  return [
    "## Model precision",
    "",
    `The same model stored with other weights (\`tools/convert.py --dtype\`); both engines compute in f32. First mask: \`FastSam.load\` from the bytes plus the first \`segment()\` (the download itself is not timed). Run: median and min of the model run; ratio: its median over the first file's on the same backend. Wasm memory: the module's linear memory (it only grows, so this is the peak of the wasm heap) after the load and after the first mask, in a fresh worker that holds the file's bytes besides; GPU buffers are not in it.`,
    "",
    "| file | dtype | MB (gzip -9) | backend | load ms | first mask ms | run median ms | run min ms | ratio | wasm memory after load MiB | after first mask MiB |",
    "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ...report.dtypes.map((d) => {
      const ratio = d.ratio === undefined ? "" : `${d.ratio.toFixed(2)}x`;
      const backend = d.error ? `${d.backend} — FAILED: ${d.error}` : d.backend;
      return `| ${d.file} | ${d.dtype ?? ""} | ${mb(d.raw)} (${mb(d.gzip9)}) | ${backend} | ${ms(d.loadMs)} | ${ms(d.firstMaskMs)} | ${ms(d.median)} | ${ms(d.min)} | ${ratio} | ${mem(d.wasmAfterLoad)} | ${mem(d.wasmAfterFirstMask)} |`;
    }),
    "",
  ];
}

/** The report as markdown. */
function markdown(report) {
  const { machine, page, options: o } = report;
  const oneImage = new Set(report.rows.map((r) => r.image)).size <= 1;
  const lines = [
    `# fastsam-web benchmark${o.smoke ? " (smoke)" : ""}`,
    "",
    `${report.date} · ${report.browser} · ${machine.cpu}, ${machine.cores} cores, ${(machine.ramBytes / 2 ** 30).toFixed(1)} GiB RAM`,
    `Page: cross-origin isolated ${page.crossOriginIsolated ? "yes" : "no"}, hardwareConcurrency ${page.hardwareConcurrency}, WebGPU adapter ${gpuName(page.gpu)}${page.gpu?.fallback ? " (fallback adapter)" : ""}.`,
    `Median and min of ${plural(o.runs)} after ${o.warmup} warm-up (WebGPU rows: ${plural(o.gpuRuns)}; prompts: ${plural(o.promptRuns)}); every job in a fresh module Web Worker. Ratio: median / onnxruntime-web's on the same model and image, wasm EP with the same threads (WebGPU rows: its WebGPU EP).`,
    "",
    "| row | model | median ms | min ms | ratio | threads |",
    "|---|---|---:|---:|---:|---:|",
    ...report.rows.map((r) => {
      const model = oneImage ? r.model : `${r.model} · ${r.image}`;
      const label = r.error ? `${r.row} — FAILED: ${r.error}` : r.row;
      const ratio = r.ratio === undefined ? "" : `${r.ratio.toFixed(2)}x`;
      return `| ${label.replaceAll("|", "\\|")} | ${model} | ${ms(r.median)} | ${ms(r.min)} | ${ratio} | ${r.threads ?? ""} |`;
    }),
    "",
    ...dtypeTable(report),
    "## Size",
    "",
    "| wasm module | raw bytes | gzip -9 bytes |",
    "|---|---:|---:|",
    ...report.size.map((s) => `| ${s.what} | ${s.raw} (${mib(s.raw)}) | ${s.gzip9} (${mib(s.gzip9)}) |`),
    "",
  ];
  return lines.join("\n");
}

async function main() {
  const opts = options();
  if (opts.build) {
    const build = spawnSync("npm", ["run", "build:wasm"], { cwd: root, stdio: "inherit" });
    if (build.status !== 0) throw new Error("npm run build:wasm failed");
  }
  for (const [file, hint] of [
    [path.join(root, "pkg/cpu/fastsam_web_cpu.js"), "run `npm run build:wasm`"],
    [path.join(ORT_DIST, "ort.wasm.min.mjs"), "run `npm install`"],
  ]) {
    if (!existsSync(file)) throw new Error(`${path.relative(root, file)} is missing: ${hint}`);
  }

  const served = {};
  const urlOf = (kind, i, file) => {
    const url = `/inputs/${kind}${i}/${path.basename(file)}`;
    served[url] = file;
    return url;
  };
  const targets = opts.models.flatMap((model, m) =>
    opts.images.map((image, i) => ({
      firstImage: i === 0,
      target: { model: path.basename(model, ".onnx"), image: path.basename(image) },
      urls: { model: urlOf("model", m, model), image: urlOf("image", i, image) },
    })),
  );

  const server = await serveIsolated(served);
  const browser = await launch({ webgpu: true });
  const rows = [];
  const dtypes = [];
  let report;
  let page;
  try {
    page = await newPage(await browser.newContext());
    await page.goto(`${server.origin}/bench/index.html`);
    await page.waitForFunction(() => globalThis.bench !== undefined);
    const env = await page.evaluate(() => globalThis.bench.info());
    console.log(
      `Chromium ${browser.version()}, cross-origin isolated: ${env.crossOriginIsolated}, ` +
        `${env.hardwareConcurrency} threads, WebGPU: ${gpuName(env.gpu)}`,
    );

    const jobs = [
      ...targets.flatMap((t) => jobsFor(t, opts, env)),
      // Post-processing and prompts once per model, on the first image.
      ...targets.filter((t) => t.firstImage).flatMap((t) => [postJob(t, opts), outlineThreadsJob(t, opts, env)]),
    ];
    for (const { label, target, job, rows: toRows, error: skipped } of jobs) {
      process.stdout.write(`${label} · ${target.model} · ${target.image} ... `);
      try {
        if (!job) throw new Error(skipped);
        const result = await page.evaluate((j) => globalThis.bench.run(j), job);
        const { times, prompts, ...detail } = result;
        const made = toRows(result).map((r) => ({ ...r, detail }));
        rows.push(...made);
        console.log(made.map((r) => `${ms(r.median)} ms`).join(", "));
      } catch (error) {
        const message = error.message.split("\n")[0].replace(/^.*?Error: /, "");
        rows.push({ row: label, ...target, median: NaN, min: NaN, error: message });
        console.log(`FAILED: ${message}`);
      }
    }
    addRatios(rows);
    const dtypeFiles = opts.dtypes.map((file, k) => ({ file, url: urlOf("dtype", k, file) }));
    for (const { file, backend, job, loadOnly } of dtypeJobs(dtypeFiles, targets[0].urls.image, opts, env)) {
      const entry = { file: path.basename(file), backend, loadOnly, ...fileSize(file) };
      process.stdout.write(`precision: ${entry.file} on ${backend} ... `);
      try {
        const r = await page.evaluate((j) => globalThis.bench.run(j), job);
        Object.assign(entry, {
          dtype: r.dtype,
          loadMs: r.loadMs,
          firstMaskMs: r.loadMs + r.firstSegmentMs,
          median: median(r.times.inference),
          min: Math.min(...r.times.inference),
          wasmAfterLoad: r.wasmBytes.afterLoad,
          wasmAfterFirstMask: r.wasmBytes.afterFirstMask,
        });
        console.log(`load ${ms(entry.loadMs)} ms, first mask ${ms(entry.firstMaskMs)} ms, run ${ms(entry.median)} ms, wasm memory ${mib(entry.wasmAfterLoad)} after load`);
      } catch (error) {
        entry.error = error.message.split("\n")[0].replace(/^.*?Error: /, "");
        Object.assign(entry, { loadMs: NaN, firstMaskMs: NaN, median: NaN, min: NaN });
        console.log(`FAILED: ${entry.error}`);
      }
      dtypes.push(entry);
    }
    for (const d of dtypes) {
      const base = dtypes.find((b) => b.backend === d.backend && !b.error);
      if (base && !d.error && !d.loadOnly) d.ratio = d.median / base.median;
    }
    report = {
      date: new Date().toISOString(),
      browser: `Chromium ${browser.version()}`,
      machine: { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length, ramBytes: os.totalmem(), platform: `${os.platform()} ${os.release()}` },
      page: env,
      options: { ...opts, models: opts.models.map((f) => path.relative(root, f)), images: opts.images.map((f) => path.relative(root, f)) },
      rows,
      dtypes,
    };
  } finally {
    await browser.close();
    await server.close();
  }
  report.size = sizes(opts);
  report.pageErrors = page.pageErrors.map((e) => e.message);
  report.consoleErrors = page.consoleErrors;

  const out = path.join(root, "target/bench");
  const name = opts.smoke ? "smoke" : "bench";
  const md = markdown(report);
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(out, `${name}.md`), md);
  console.log(`\n${md}\nWritten: target/bench/${name}.json, target/bench/${name}.md`);
  for (const message of report.consoleErrors) console.warn(`console error on the page: ${message}`);

  const failures = [
    ...rows.filter((r) => !Number.isFinite(r.median) || !Number.isFinite(r.min)).map((r) => `${r.row} (${r.model}): ${r.error ?? "no time"}`),
    ...dtypes.filter((d) => !Number.isFinite(d.loadMs) || (!d.loadOnly && !(Number.isFinite(d.firstMaskMs) && Number.isFinite(d.median)))).map((d) => `precision: ${d.file} on ${d.backend}: ${d.error ?? "no time"}`),
    ...report.pageErrors.map((m) => `page error: ${m}`),
    ...(opts.smoke && !report.page.crossOriginIsolated ? ["the page is not cross-origin isolated"] : []),
    ...(opts.smoke ? report.size.filter((s) => !(s.gzip9 > 0)).map((s) => `size of ${s.file}`) : []),
  ];
  if (failures.length > 0) {
    console.error(`\n${failures.length} failure(s):\n${failures.map((f) => `  - ${f}`).join("\n")}`);
    process.exitCode = 1;
  } else if (opts.smoke) {
    console.log(`smoke: ok (${rows.length} rows)`);
  }
}

main().catch((error) => {
  console.error(error.message);
  process.exitCode = 1;
});
