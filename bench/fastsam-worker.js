// Benchmark worker for this package: loads the model on `job.backend`, segments the image
// `warmup + runs` times and reports the package's own timings (pre-processing, model run,
// post-processing); with `promptRuns`, also times each prompt (`outlinesOnly`: only the polygon
// outlines) on the last segmentation. With
// `threads` > 1 it runs the threaded build (pkg/threaded/) on a pool of that many workers, else
// the one-engine build of `backend` (pkg/webgpu/ or pkg/cpu/). Reports
// the wasm memory's size before the load, after it and after the first segmentation: linear memory
// only grows, so each is the peak of the wasm heap up to that point (GPU buffers not included).
import { loadBuild } from "../pkg/threads.js";
import { fetchBytes, loadImage, serveJob } from "./common.js";

serveJob(async ({ model: modelUrl, image: imageUrl, size, backend, runs, warmup, promptRuns = 0, outlinesOnly = false, threads = 1, gemmTile, gpuConv }) => {
  const build = threads > 1 ? "threaded" : backend === "webgpu" ? "webgpu" : "cpu";
  const { glue } = await loadBuild(build, threads);
  const { FastSam } = glue;
  const { memory } = await glue.default(); // the instance's exports, already initialised
  const [bytes, image] = await Promise.all([fetchBytes(modelUrl), loadImage(imageUrl, size)]);
  const wasmBytes = { beforeLoad: memory.buffer.byteLength };
  const loadStart = performance.now();
  const model = await FastSam.load(bytes, { backend, gemmTile, gpuConv });
  const loadMs = performance.now() - loadStart;
  wasmBytes.afterLoad = memory.buffer.byteLength;
  try {
    if (model.backend !== backend) throw new Error(`asked for ${backend}, got ${model.backend}: ${model.fallbackReason}`);
    if (model.threads !== threads) throw new Error(`asked for ${threads} threads, got ${model.threads}`);
    if (gemmTile && model.gemmTile !== gemmTile) throw new Error(`asked for the ${gemmTile} tile, got ${model.gemmTile}`);
    const times = { preprocess: [], inference: [], postprocess: [] };
    let seg = null;
    let firstSegmentMs;
    try {
      for (let i = 0; i < warmup + runs; i++) {
        seg?.free();
        const start = performance.now();
        seg = await model.segment(image);
        if (firstSegmentMs === undefined) {
          firstSegmentMs = performance.now() - start;
          wasmBytes.afterFirstMask = memory.buffer.byteLength;
        }
        if (i < warmup) continue;
        times.preprocess.push(seg.preprocessMs);
        times.inference.push(seg.inferenceMs);
        times.postprocess.push(seg.postprocessMs);
      }
      return {
        backend: model.backend,
        engine: model.engine,
        threads: model.threads,
        inputSize: model.inputSize,
        dtype: model.dtype,
        width: image.width,
        height: image.height,
        masks: seg?.length ?? 0,
        loadMs,
        firstSegmentMs,
        wasmBytes,
        times,
        prompts: promptRuns === 0 ? undefined : outlinesOnly ? timeOutlines(seg, promptRuns) : timePrompts(seg, promptRuns),
      };
    } finally {
      seg?.free();
    }
  } finally {
    model.free();
  }
});

/**
 * Times every prompt `runs` times on `seg`, in ms. Points are the centres, and boxes the boxes,
 * of the three best detections (repeated when there are fewer; the whole image when none).
 */
function timePrompts(seg, runs) {
  const picks = seg.proposals(3).map((p) => Array.from(p.bbox));
  if (picks.length === 0) picks.push([0, 0, seg.width - 1, seg.height - 1]);
  while (picks.length < 3) picks.push(picks[picks.length - 1]);
  const centres = picks.map(([x1, y1, x2, y2]) => [(x1 + x2) / 2, (y1 + y2) / 2]);
  const prompts = {
    everything: () => seg.everything(),
    "1 point": () => seg.points([centres[0]], [1]),
    "3 points (+, +, -)": () => seg.points(centres, [1, 1, 0]),
    "1 box": () => seg.boxes([picks[0]]),
    "3 boxes": () => seg.boxes(picks),
  };
  const times = timeOutlines(seg, runs);
  for (const [name, prompt] of Object.entries(prompts)) {
    times[name] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      const masks = prompt();
      times[name].push(performance.now() - start);
      for (const mask of masks) mask.free();
    }
  }
  return times;
}

/**
 * Times the polygon outlines `runs` times, in ms: every mask's at tolerance 1 px (an export: mask
 * by mask, then in one call, which the threaded build spreads over its threads), and the largest
 * mask's at tolerances from 0.5 to 5 px in turn (a tolerance slider).
 */
function timeOutlines(seg, runs) {
  const masks = seg.everything();
  try {
    const times = {
      "polygons of every mask (tolerance 1 px)": [],
      "polygons of every mask in one call, seg.polygons() (tolerance 1 px)": [],
      "SVG path of every mask (tolerance 1 px)": [],
      "SVG document of every mask, seg.toSvg() (tolerance 1 px)": [],
      "polygons of the largest mask (slider, 0.5-5 px)": [],
    };
    for (let i = 0; i < runs; i++) {
      let start = performance.now();
      for (const mask of masks) mask.toPolygons({ tolerance: 1 });
      times["polygons of every mask (tolerance 1 px)"].push(performance.now() - start);
      // Every mask traced afresh: the one-call rows do not start from the boundaries kept above.
      start = performance.now();
      seg.polygons(undefined, { tolerance: 1 });
      times["polygons of every mask in one call, seg.polygons() (tolerance 1 px)"].push(performance.now() - start);
      start = performance.now();
      for (const mask of masks) mask.toSvgPath({ tolerance: 1 });
      times["SVG path of every mask (tolerance 1 px)"].push(performance.now() - start);
      start = performance.now();
      seg.toSvg(undefined, { tolerance: 1 });
      times["SVG document of every mask, seg.toSvg() (tolerance 1 px)"].push(performance.now() - start);
      start = performance.now();
      masks[0]?.toPolygons({ tolerance: 0.5 + (i % 10) * 0.5 });
      times["polygons of the largest mask (slider, 0.5-5 px)"].push(performance.now() - start);
    }
    return times;
  } finally {
    for (const mask of masks) mask.free();
  }
}
