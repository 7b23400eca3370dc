// Module Web Worker that owns the wasm model and its segmentations; `FastSamWorker` (client.js)
// is its only intended caller.
//
// Protocol: the page posts `{id, type, args}`; requests run one at a time in arrival order, and
// each is answered with `{id, result}` or `{id, error}` (a serialised FastSamError or Error), with
// `{id, progress}` messages before the answer of a `load` or `loadTextEncoder`. Buffers in results are transferred.
// `{type: "cancel", id}` aborts load request `id` at once (it is not queued) if its model is still
// queued or downloading; a model already compiling finishes loading.
import { FastSamError, serializeError } from "./errors.js";
import { checkBackend, FallbackModel } from "./fallback.js";
import { Segmentation } from "./segmentation.js";
import { DEFAULT_CACHE, fetchModel, storeModel } from "./model-cache.js";
import { checkThreads, defaultThreads } from "./threads.js";

/** @type {FallbackModel | null} the loaded model, on one of the builds */
let host = null;
/** Live segmentations (segmentation.js) by handle. */
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

/** Where the model runs now, and why not on WebGPU when that was asked for. */
function backendOf({ model, info: chosen, fallbackReason }) {
  const info = {
    backend: model.backend,
    engine: model.engine,
    build: model.build,
    threads: model.threads,
    gemmTile: model.gemmTile,
  };
  if (fallbackReason !== undefined) info.fallbackReason = fallbackReason;
  if (chosen.threadsReason !== undefined) info.threadsReason = chosen.threadsReason;
  return info;
}

/** A `FastSamError` with code `INVALID_OPTION`, as the wasm module raises for a bad option. */
function invalidOption(message) {
  return new FastSamError("INVALID_OPTION", message);
}

/** The loaded model, or a `NO_MODEL` error. */
function loaded() {
  if (!host) throw new FastSamError("NO_MODEL", "No model is loaded: call load() first");
  return host;
}

/** An `ImageData` as a cloneable object, plus the buffer to transfer. */
function imageResult(image) {
  return [{ data: image.data, width: image.width, height: image.height }, image.data.buffer];
}

/** A prompt's answer as posted: the overlay (if drawn) cloneable, it and every bitmap transferred. */
function posted({ overlay, masks, ...rest }) {
  const bitmaps = masks.filter((m) => m.data).map((m) => m.data.buffer);
  if (!overlay) return [{ ...rest, masks, overlay }, bitmaps];
  const [image, buffer] = imageResult(overlay);
  return [{ ...rest, masks, overlay: image }, [buffer, ...bitmaps]];
}

/** A mask with its bitmap, the bitmap transferred. */
function maskResult(mask) {
  return [mask, [mask.data.buffer]];
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
      const next = await FallbackModel.load(bytes, loadOptions, threads);
      host?.free();
      host = next;
      if (typeof source === "string" && cacheName && !cached) await storeModel(source, bytes, cacheName);
      const { inputSize, dtype } = host.model;
      const info = { file, ...backendOf(host), inputSize, dtype, cached };
      onProgress({ status: "ready", ...info });
      return [info];
    } finally {
      loads.delete(id);
    }
  },

  async loadTextEncoder({ sources, options }, id) {
    const { signal } = loads.get(id);
    try {
      const fastsam = loaded();
      const { cache, ...textOptions } = options;
      const cacheName = cache === false ? null : typeof cache === "string" ? cache : DEFAULT_CACHE;
      const onProgress = (info) => self.postMessage({ id, progress: info });
      // Refused before anything is downloaded.
      fastsam.checkTextBackend(textOptions.backend);
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
      await fastsam.loadTextEncoder(files, textOptions);
      for (const [url, bytes] of toStore) await storeModel(url, bytes, cacheName);
      const { textBackend, textFallbackReason } = fastsam.model;
      const info = { backend: textBackend };
      if (textFallbackReason !== undefined) info.fallbackReason = textFallbackReason;
      onProgress({ status: "ready", file: "text encoder", ...info });
      return [info];
    } finally {
      loads.delete(id);
    }
  },

  async text({ handle, prompt, options, overlay }) {
    return posted(await segmentation(handle).text(prompt, { ...options, overlay }));
  },

  async textScores({ handle, prompt }) {
    return [await segmentation(handle).textScores(prompt)];
  },

  async segment({ image, options }) {
    const fastsam = loaded();
    const seg = new Segmentation(await fastsam.segment(image, options), fastsam);
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
        model: backendOf(fastsam),
      },
    ];
  },

  everything({ handle, overlay }) {
    return posted(segmentation(handle).everything({ overlay }));
  },

  points({ handle, points, labels, options, overlay }) {
    return posted(segmentation(handle).points(points, labels, { ...options, overlay }));
  },

  boxes({ handle, boxes, options, overlay }) {
    return posted(segmentation(handle).boxes(boxes, { ...options, overlay }));
  },

  edges({ handle }) {
    return maskResult(segmentation(handle).edges());
  },

  mask({ handle, index }) {
    return maskResult(segmentation(handle).mask(index));
  },

  rle({ handle, indices }) {
    return [segmentation(handle).rle(indices)];
  },

  polygons({ handle, indices, options }) {
    return [segmentation(handle).polygons(indices, options)];
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
      host?.model.simulateGpuFailure(reason);
    } catch {
      // A model on a CPU build has no GPU to fail.
    }
    return [undefined];
  },

  free({ handle }) {
    segmentations.get(handle)?.free();
    segmentations.delete(handle);
    return [undefined];
  },
};
