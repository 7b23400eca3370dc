// Module Web Worker that owns the wasm model and its segmentations; `FastSamWorker` (client.js)
// is its only intended caller.
//
// Protocol: the page posts `{id, type, args}`; requests run one at a time in arrival order, and
// each is answered with `{id, result}` or `{id, error}` (a serialised FastSamError or Error), with
// `{id, progress}` messages before the answer of a `load` or `loadTextEncoder`. Buffers in results are transferred.
// `{type: "cancel", id}` aborts load request `id` at once (it is not queued) if its model is still
// queued or downloading; a model already compiling finishes loading.
import { FastSamError, serializeError } from "./errors.js";
import { DEFAULT_CACHE, fetchModel, storeModel } from "./model-cache.js";
import { checkThreads, chooseBuild, chooseCpuBuild, defaultThreads, loadBuild } from "./threads.js";

/** @type {any} a `FastSam` of one of the builds */
let model = null;
/** How the loaded model's build was chosen: `{build, threads, threadsReason?, fallbackReason?}`. */
let buildInfo = null;
/**
 * What an "auto" model on the WebGPU build needs to move to a CPU build if the GPU fails (that
 * build has no CPU engine): `{bytes, options, threads}`; null otherwise.
 */
let gpuSource = null;
/** The text encoder's files and options, reloaded on the CPU build after such a move. */
let textSource = null;
/** Live segmentations by handle. */
const segmentations = new Map();
let nextHandle = 1;
/** Abort controllers of the load requests not answered yet, by request id. */
const loads = new Map();
let queue = Promise.resolve();

self.onmessage = ({ data }) => {
  if (data.type === "cancel") {
    loads.get(data.id)?.abort(new DOMException("Loading the model was cancelled", "AbortError"));
    return;
  }
  if (data.type === "load" || data.type === "loadTextEncoder") loads.set(data.id, new AbortController());
  queue = queue.then(() => answer(data));
};

async function answer({ id, type, args }) {
  try {
    const handler = handlers[type];
    if (!handler) throw new FastSamError("INVALID_OPTION", `Unknown request type "${type}"`);
    const [result, transfer = []] = await handler(args, id);
    self.postMessage({ id, result }, transfer);
  } catch (error) {
    self.postMessage({ id, error: serializeError(error) });
  }
}

function segmentation(handle) {
  const seg = segmentations.get(handle);
  if (!seg) throw new FastSamError("FREED", "This segmentation was freed");
  return seg;
}

/** The plain description of a wasm `Mask`, with a copy of its bitmap when `withData`. */
function describe(mask, withData = false) {
  const info = {
    index: mask.index,
    score: mask.score,
    area: mask.area,
    bbox: Array.from(mask.bbox),
    width: mask.width,
    height: mask.height,
  };
  if (withData) info.data = mask.data();
  return info;
}

/** `read(masks)`, then the wasm masks are freed, even if `read` throws. */
function consume(masks, read) {
  try {
    return read(masks);
  } finally {
    for (const mask of masks) mask.free();
  }
}

/** An `ImageData` as a cloneable object, plus the buffer to transfer. */
function imageResult(image) {
  return [{ data: image.data, width: image.width, height: image.height }, image.data.buffer];
}

function timed(run) {
  const t0 = performance.now();
  const value = run();
  return [value, performance.now() - t0];
}

/** Where `model` runs now, and why not on WebGPU when that was asked for. */
function backendOf(model) {
  const info = {
    backend: model.backend,
    engine: model.engine,
    build: model.build,
    threads: model.threads,
    gemmTile: model.gemmTile,
  };
  const fallbackReason = buildInfo?.fallbackReason ?? model.fallbackReason;
  if (fallbackReason !== undefined) info.fallbackReason = fallbackReason;
  if (buildInfo?.threadsReason !== undefined) info.threadsReason = buildInfo.threadsReason;
  return info;
}

/** A `FastSamError` with code `INVALID_OPTION`, as the wasm module raises for a bad option. */
function invalidOption(message) {
  return new FastSamError("INVALID_OPTION", message);
}

/** Rejects a `backend` option the builds do not know, before anything is downloaded. */
function checkBackend(backend) {
  if (backend !== undefined && !["auto", "webgpu", "cpu"].includes(backend)) {
    throw invalidOption(`backend "${backend}" is unknown; use "auto", "webgpu" or "cpu"`);
  }
}

/** `{build, threads, threadsReason?}` without the keys that are undefined. */
function describeBuild(build, threads, threadsReason) {
  return threadsReason === undefined ? { build, threads } : { build, threads, threadsReason };
}

/**
 * The CPU build for `threads`, loaded: the threaded one where the page allows it, else (or when
 * its pool cannot start, saying why) the single-threaded one.
 */
async function cpuBuild(threads) {
  const choice = chooseCpuBuild(threads);
  if (choice.build === "threaded") {
    try {
      const loaded = await loadBuild("threaded", choice.threads);
      return { glue: loaded.glue, info: describeBuild("threaded", loaded.threads) };
    } catch (error) {
      const { glue } = await loadBuild("cpu");
      return { glue, info: describeBuild("cpu", 1, `the threaded build failed to start: ${error.message}`) };
    }
  }
  const { glue } = await loadBuild("cpu");
  return { glue, info: describeBuild("cpu", 1, choice.reason) };
}

/** Loads `bytes` on a CPU build; `gpuReason`: why an "auto" model is not on WebGPU. */
async function loadOnCpu(bytes, options, threads, gpuReason) {
  const { glue, info } = await cpuBuild(threads);
  const loaded = await glue.FastSam.load(bytes, { ...options, backend: "cpu" });
  return { loaded, info: gpuReason === undefined ? info : { ...info, fallbackReason: gpuReason } };
}

/**
 * The codes of the WebGPU build's failures that an "auto" model recovers from on a CPU build:
 * WebGPU unusable at load, or the GPU failing mid-session.
 */
const GPU_FAILURES = ["NO_WEBGPU", "GPU_LOST"];

/** True when `error` is a GPU failure a CPU build can take over from. */
const isGpuFailure = (error) => GPU_FAILURES.includes(error?.code);

/**
 * The WebGPU build's error text for a fallback reason: without its category prefix and its advice
 * to use a CPU build (this worker does that).
 */
function gpuFailure(error) {
  return String(error?.message ?? error)
    .replace(/^(WebGPU unavailable|GPU failed): /, "")
    .split("; this is fastsam-web's WebGPU build")[0];
}

/**
 * Loads `bytes` as `options` and `threads` ask: on the WebGPU build where "auto" or "webgpu" finds
 * an adapter, else on a CPU build. An "auto" model whose WebGPU fails to start goes to a CPU build.
 */
async function loadModel(bytes, options, threads = defaultThreads()) {
  const choice = await chooseBuild({ backend: options.backend, threads });
  if (choice.build !== "webgpu") return loadOnCpu(bytes, options, threads, choice.gpuReason);
  const auto = (options.backend ?? "auto") === "auto";
  let glue;
  try {
    ({ glue } = await loadBuild("webgpu"));
  } catch (error) {
    if (!auto) throw error;
    return loadOnCpu(bytes, options, threads, `the WebGPU build could not start: ${error?.message ?? error}`);
  }
  try {
    const loaded = await glue.FastSam.load(bytes, options);
    return { loaded, info: describeBuild("webgpu", 1, choice.reason), source: auto ? { bytes, options, threads } : null };
  } catch (error) {
    if (!auto || !isGpuFailure(error)) throw error;
    return loadOnCpu(bytes, options, threads, `${gpuFailure(error)}; so on the CPU`);
  }
}

/**
 * After `error` from the WebGPU build: moves an "auto" model (and its text encoder) to a CPU build
 * and returns true, or returns false when `error` is no GPU failure of such a model.
 */
async function moveToCpu(error) {
  if (!gpuSource || !isGpuFailure(error)) return false;
  const { bytes, options, threads } = gpuSource;
  let reason = `${gpuFailure(error)}; now on the CPU`;
  let moved;
  try {
    moved = await loadOnCpu(bytes, options, threads, reason);
  } catch (moveError) {
    moveError.message = `${moveError.message} (while moving to the CPU after: ${error.message})`;
    throw moveError;
  }
  gpuSource = null;
  model?.free();
  model = moved.loaded;
  buildInfo = moved.info;
  const text = textSource;
  textSource = null;
  if (text) {
    try {
      await model.loadTextEncoder(text.files, { ...text.options, backend: "cpu" });
    } catch (textError) {
      // The model moved; only the text prompt is lost, and the reason says why.
      reason += `; the text encoder could not be loaded on the CPU: ${textError.message}`;
      buildInfo = { ...buildInfo, fallbackReason: reason };
    }
  }
  return true;
}

/** A text prompt's GPU failure moves the model to the CPU; the segmentation stays on the GPU build. */
async function textFailed(error) {
  if (await moveToCpu(error)) {
    error.message += " (the model has moved to the CPU: segment the image again for text prompts)";
  }
  throw error;
}

/** Fill colour of a merged point mask when the caller's overlay options name none. */
const MERGED_FILL = [30, 144, 255];

/**
 * Draws a prompt's masks. A merged point mask is no instance (it has no index) and comes alone:
 * it is drawn with `style.colors[0]`, the others by `Segmentation.overlay`.
 */
function drawPrompt(seg, masks, style = {}) {
  if (masks.length === 1 && masks[0].index === undefined) {
    const fill = [...(style.colors?.[0] ?? MERGED_FILL), style.alpha ?? 140];
    const outline = style.outline === null ? undefined : (style.outline ?? [255, 255, 255, 230]);
    return masks[0].toImageData(fill, outline);
  }
  // A text prompt may pick one mask for several sentences: draw it once.
  return seg.overlay([...new Set(masks.map((m) => m.index))], style);
}

/** A prompt's answer: the masks with their bitmaps, and their overlay. */
function promptResult(seg, [masks, promptMs], style) {
  return consume(masks, () => {
    const [image, renderMs] = timed(() => drawPrompt(seg, masks, style));
    const described = masks.map((m) => describe(m, true));
    const [overlay, buffer] = imageResult(image);
    return [
      { masks: described, overlay, promptMs, renderMs },
      [buffer, ...described.map((m) => m.data.buffer)],
    ];
  });
}

/** A single mask with its bitmap, the bitmap transferred. */
function maskResult(mask) {
  return consume([mask], () => {
    const described = describe(mask, true);
    return [described, [described.data.buffer]];
  });
}

/** Every instance index of `seg`, largest mask first. */
function everyIndex(seg) {
  return consume(seg.everything(), (all) => all.map((m) => m.index));
}

/** The export methods a `WorkerSegmentation` forwards. */
const EXPORTS = ["toCoco", "toYolo", "toSvg", "toGeoJson", "toLabelStudio"];

const handlers = {
  async load({ source, options }, id) {
    const { signal } = loads.get(id);
    try {
      signal.throwIfAborted();
      const { cache, threads, ...loadOptions } = options;
      // A bad thread count or backend rejects before any download.
      checkThreads(threads ?? defaultThreads());
      checkBackend(loadOptions.backend);
      const cacheName = cache === false ? null : typeof cache === "string" ? cache : DEFAULT_CACHE;
      const onProgress = (info) => self.postMessage({ id, progress: info });
      let bytes = source;
      let cached = false;
      let file = "model.onnx";
      if (typeof source === "string") {
        file = source;
        ({ bytes, cached } = await fetchModel(source, { cacheName, signal, onProgress }));
      } else if (source instanceof Blob) {
        file = source.name || file;
        bytes = new Uint8Array(await source.arrayBuffer());
      }
      signal.throwIfAborted();
      onProgress({ status: "compiling", file });
      const { loaded, info: chosen, source: kept = null } = await loadModel(bytes, loadOptions, threads);
      model?.free();
      model = loaded;
      buildInfo = chosen;
      gpuSource = kept;
      textSource = null;
      if (typeof source === "string" && cacheName && !cached) await storeModel(source, bytes, cacheName);
      const info = { file, ...backendOf(model), inputSize: model.inputSize, dtype: model.dtype, cached };
      onProgress({ status: "ready", ...info });
      return [info];
    } finally {
      loads.delete(id);
    }
  },

  async loadTextEncoder({ sources, options }, id) {
    const { signal } = loads.get(id);
    try {
      if (!model) throw new FastSamError("NO_MODEL", "No model is loaded: call load() first");
      const { cache, ...textOptions } = options;
      const cacheName = cache === false ? null : typeof cache === "string" ? cache : DEFAULT_CACHE;
      const onProgress = (info) => self.postMessage({ id, progress: info });
      // Refused before anything is downloaded.
      if (model.build === "webgpu" && textOptions.backend === "cpu") {
        throw invalidOption(
          'The model runs on the WebGPU build, which has no CPU engine: load the model with backend "cpu" to run the text encoder on the CPU',
        );
      }
      const files = {};
      /** Downloads to cache once the encoder has loaded (a refused file is not kept). */
      const toStore = [];
      for (const part of ["image", "text", "vocab"]) {
        const source = sources[part];
        if (typeof source === "string") {
          const { bytes, cached } = await fetchModel(source, { cacheName, signal, onProgress });
          if (cacheName && !cached) toStore.push([source, bytes]);
          files[part] = bytes;
        } else if (source instanceof Blob) {
          files[part] = new Uint8Array(await source.arrayBuffer());
        } else {
          files[part] = source;
        }
        signal.throwIfAborted();
      }
      onProgress({ status: "compiling", file: "text encoder" });
      // A new encoder replaces the kept one (and a GPU move must not reload the old one first).
      const previous = textSource;
      textSource = null;
      try {
        await model.loadTextEncoder(files, textOptions);
      } catch (error) {
        if (!(await moveToCpu(error))) {
          textSource = previous;
          throw error;
        }
        await model.loadTextEncoder(files, { ...textOptions, backend: "cpu" });
      }
      if (gpuSource) textSource = { files, options: textOptions };
      for (const [url, bytes] of toStore) await storeModel(url, bytes, cacheName);
      const info = { backend: model.textBackend };
      if (model.textFallbackReason !== undefined) info.fallbackReason = model.textFallbackReason;
      onProgress({ status: "ready", file: "text encoder", ...info });
      return [info];
    } finally {
      loads.delete(id);
    }
  },

  async text({ handle, prompt, options, overlay: style }) {
    const seg = segmentation(handle);
    const t0 = performance.now();
    const masks = await seg.text(prompt, options).catch(textFailed);
    return promptResult(seg, [masks, performance.now() - t0], style);
  },

  async textScores({ handle, prompt }) {
    return [await segmentation(handle).textScores(prompt).catch(textFailed)];
  },

  async segment({ image, options }) {
    if (!model) throw new FastSamError("NO_MODEL", "No model is loaded: call load() first");
    let seg;
    try {
      seg = await model.segment(image, options);
    } catch (error) {
      if (!(await moveToCpu(error))) throw error;
      seg = await model.segment(image, options);
    }
    const handle = nextHandle++;
    segmentations.set(handle, seg);
    const { width, height, maskWidth, maskHeight, length, preprocessMs, inferenceMs, postprocessMs } = seg;
    return [
      {
        handle,
        width,
        height,
        maskWidth,
        maskHeight,
        length,
        preprocessMs,
        inferenceMs,
        postprocessMs,
        // The backend that ran: a GPU failure moves an "auto" model to the CPU mid-session.
        model: backendOf(model),
      },
    ];
  },

  everything({ handle, overlay: style }) {
    const seg = segmentation(handle);
    const [masks, promptMs] = timed(() => seg.everything());
    const described = consume(masks, () => masks.map((m) => describe(m)));
    const [image, renderMs] = timed(() => seg.overlay(undefined, style));
    const [overlay, buffer] = imageResult(image);
    return [{ masks: described, overlay, promptMs, renderMs }, [buffer]];
  },

  points({ handle, points, labels, options, overlay: style }) {
    const seg = segmentation(handle);
    const selected = timed(() => seg.points(points, labels, options));
    return promptResult(seg, selected, style);
  },

  boxes({ handle, boxes, options, overlay: style }) {
    const seg = segmentation(handle);
    const selected = timed(() => seg.boxes(boxes, options));
    return promptResult(seg, selected, style);
  },

  edges({ handle }) {
    return maskResult(segmentation(handle).edges());
  },

  mask({ handle, index }) {
    return maskResult(segmentation(handle).mask(index));
  },

  rle({ handle, indices }) {
    const seg = segmentation(handle);
    const order = indices ?? everyIndex(seg);
    return [order.map((i) => consume([seg.mask(i)], ([m]) => ({ ...describe(m), rle: m.toRle() })))];
  },

  polygons({ handle, indices, options }) {
    const seg = segmentation(handle);
    const order = indices ?? everyIndex(seg);
    const traced = (i) => consume([seg.mask(i)], ([m]) => ({ ...describe(m), polygons: m.toPolygons(options) }));
    return [order.map(traced)];
  },

  /** The exports of `Segmentation`: `toCoco`, `toYolo`, `toSvg`, `toGeoJson`, `toLabelStudio`. */
  export({ handle, format, indices, options }) {
    if (!EXPORTS.includes(format)) throw invalidOption(`Unknown export format "${format}"; expected one of ${EXPORTS.join(", ")}`);
    return [segmentation(handle)[format](indices, options)];
  },

  overlay({ handle, indices, options }) {
    const [image, buffer] = imageResult(segmentation(handle).overlay(indices, options));
    return [image, [buffer]];
  },

  maskAt({ handle, x, y }) {
    return [segmentation(handle).maskAt(x, y)];
  },

  proposals({ handle, k }) {
    return [segmentation(handle).proposals(k)];
  },

  /**
   * Testing aid: every later WebGPU device request of this worker rejects with `reason`, while
   * `navigator.gpu.requestAdapter()` still gives an adapter (a GPU whose device fails to start).
   */
  simulateGpuStartFailure({ reason }) {
    if (globalThis.GPUAdapter) {
      GPUAdapter.prototype.requestDevice = () => Promise.reject(new Error(reason));
    }
    return [undefined];
  },

  /** Testing aid: makes the WebGPU build's model behave as if its GPU had just failed. */
  simulateGpuFailure({ reason }) {
    try {
      model?.simulateGpuFailure(reason);
    } catch {
      // The WebGPU build rejects (it has no CPU engine) and fails every later run: the next
      // segment() moves the model.
    }
    return [undefined];
  },

  free({ handle }) {
    segmentations.get(handle)?.free();
    segmentations.delete(handle);
    return [undefined];
  },
};
