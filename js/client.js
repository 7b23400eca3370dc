// `FastSamWorker`: the FastSAM API with the model in a module Web Worker (worker.js), so the page
// stays responsive while a model downloads, compiles and runs. Every method returns a Promise;
// results are plain objects whose pixel buffers were transferred, not copied.
import { FastSamError, deserializeError } from "./errors.js";

/** @typedef {import("./cpu/fastsam_web_cpu.js").OverlayOptions} OverlayOptions */
/** @typedef {import("./cpu/fastsam_web_cpu.js").PolygonOptions} PolygonOptions */

export { clearModelCache, isModelCached } from "./model-cache.js";
export { ERROR_CODES, FastSamError } from "./errors.js";

/** The page's URL, against which relative model URLs are resolved before the worker sees them. */
const baseUrl = () => globalThis.document?.baseURI ?? globalThis.location?.href;

/** An `ImageData` around the pixels the worker transferred. */
const toImageData = ({ data, width, height }) => new ImageData(data, width, height);

/** A prompt answer with its overlay as an `ImageData`. */
const withImage = (result) => ({ ...result, overlay: result.overlay && toImageData(result.overlay) });

/**
 * A FastSAM model running in a dedicated module worker. One instance holds one model at a time;
 * requests run one after another in call order.
 */
export class FastSamWorker {
  #worker;
  #pending = new Map();
  #nextId = 1;
  #model = null;
  /** Why no request can be sent any more (terminated, or the worker failed), or null. */
  #closed = null;

  /**
   * Starts the worker.
   * @param {{worker?: Worker}} [options] `worker`: a module Worker already running this package's
   *   `worker.js` (for pages that must create it themselves, e.g. from another path).
   */
  constructor({ worker } = {}) {
    this.#worker =
      worker ?? new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: "fastsam" });
    this.#worker.addEventListener("message", ({ data }) => this.#receive(data));
    this.#worker.addEventListener("error", (event) => {
      event.preventDefault();
      this.#close(`The FastSAM worker failed: ${event.message || "it could not start"}`);
    });
  }

  /**
   * Called with `{backend, reason}` when a GPU failure has moved the model to the CPU (noticed
   * with the `segment()` call that ran on the CPU instead).
   * @type {((event: {backend: string, reason?: string}) => void) | null}
   */
  onbackendchange = null;

  /**
   * The loaded model (`{file, backend, engine, inputSize, dtype, cached, fallbackReason?}`), or null before the first
   * successful `load()`.
   * @returns {import("./client.js").ModelInfo | null}
   */
  get model() {
    return this.#model;
  }

  /**
   * Loads a FastSAM ONNX model, replacing the current one only once the new one has loaded (a
   * refused model leaves the previous one usable).
   * @param {string | URL | Blob | ArrayBuffer | Uint8Array} source a URL (downloaded by the worker,
   *   kept in the Cache API), a `File`/`Blob`, or the bytes
   * @param {import("./client.js").WorkerLoadOptions} [options]
   * @returns {Promise<import("./client.js").ModelInfo>}
   */
  async load(source, { onProgress, signal, transfer = false, ...options } = {}) {
    signal?.throwIfAborted();
    let payload = source;
    let buffers = [];
    if (typeof source === "string" || source instanceof URL) {
      payload = new URL(source, baseUrl()).href;
    } else if (transfer && ArrayBuffer.isView(source)) {
      buffers = [source.buffer];
    } else if (transfer && source instanceof ArrayBuffer) {
      buffers = [source];
    }
    const info = await this.#call("load", { source: payload, options }, buffers, { onProgress, signal });
    this.#model = info;
    return info;
  }

  /**
   * Loads CLIP for the text prompt (`WorkerSegmentation.text`), after `load()`. Each of
   * `sources.image` (clip-image.onnx), `sources.text` (clip-text.onnx) and `sources.vocab`
   * (clip-bpe.txt.gz) is a URL (downloaded by the worker with progress, kept in the Cache API), a
   * `File`/`Blob`, or the bytes.
   * @param {import("./client.js").TextEncoderSources} sources
   * @param {import("./client.js").WorkerTextEncoderOptions} [options]
   * @returns {Promise<{backend: "webgpu" | "cpu", fallbackReason?: string}>}
   */
  async loadTextEncoder(sources, { onProgress, signal, ...options } = {}) {
    signal?.throwIfAborted();
    const resolved = {};
    for (const part of ["image", "text", "vocab"]) {
      const source = sources?.[part];
      if (source === undefined) throw new TypeError(`loadTextEncoder: sources.${part} is missing`);
      resolved[part] =
        typeof source === "string" || source instanceof URL ? new URL(source, baseUrl()).href : source;
    }
    const info = await this.#call("loadTextEncoder", { sources: resolved, options }, [], { onProgress, signal });
    if (this.#model) this.#model = { ...this.#model, textBackend: info.backend };
    return info;
  }

  /**
   * Runs the model once on `image`.
   * @param {import("./cpu/fastsam_web_cpu.js").ImageInput} image `ImageData` or `{data, width, height}`
   *   (RGBA or RGB bytes)
   * @param {import("./client.js").WorkerSegmentOptions} [options] the `SegmentOptions` of
   *   `FastSam.segment`, plus `transfer: true` to move `image.data`'s buffer to the worker
   *   instead of copying it (it is then detached here)
   * @returns {Promise<WorkerSegmentation>}
   */
  async segment(image, { transfer = false, ...options } = {}) {
    const buffers = transfer ? [image.data.buffer] : [];
    const { model: ran, ...info } = await this.#call("segment", { image, options }, buffers);
    if (this.#model && ran.backend !== this.#model.backend) {
      this.#model = { ...this.#model, ...ran };
      this.onbackendchange?.({ backend: ran.backend, reason: ran.fallbackReason });
    }
    const call = (type, args) => this.#call(type, { handle: info.handle, ...args });
    return new WorkerSegmentation(call, info);
  }

  /** Stops the worker at once: pending requests reject, the model and segmentations are gone. */
  terminate() {
    this.#worker.terminate();
    this.#model = null;
    this.#close("This FastSamWorker was terminated");
  }

  #call(type, args, transfer = [], { onProgress, signal } = {}) {
    if (this.#closed) return Promise.reject(new FastSamError("WORKER_CLOSED", this.#closed));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      try {
        this.#worker.postMessage({ id, type, args }, transfer);
      } catch (error) {
        reject(error); // e.g. DataCloneError: something in args cannot be sent to a worker
        return;
      }
      this.#pending.set(id, { resolve, reject, onProgress });
      signal?.addEventListener("abort", () => this.#worker.postMessage({ type: "cancel", id }), {
        once: true,
      });
    });
  }

  #receive(message) {
    const request = this.#pending.get(message.id);
    if (!request) return;
    if (message.progress) {
      request.onProgress?.(message.progress);
      return;
    }
    this.#pending.delete(message.id);
    if (message.error) request.reject(deserializeError(message.error));
    else request.resolve(message.result);
  }

  /** Rejects every pending request and every later one with `reason`. */
  #close(reason) {
    this.#closed ??= reason;
    for (const { reject } of this.#pending.values()) reject(new FastSamError("WORKER_CLOSED", reason));
    this.#pending.clear();
  }
}

/**
 * One model run on one image, living in the worker; prompt it as often as needed, then `free()`
 * it. Created by `FastSamWorker.segment()`.
 */
export class WorkerSegmentation {
  #call;
  #freed = false;

  /**
   * @param {(type: string, args: object) => Promise<any>} call sends a request about this
   *   segmentation to the worker
   * @param {object} info what the worker reported about the segmentation
   */
  constructor(call, info) {
    this.#call = call;
    /** Image width in pixels. */
    this.width = info.width;
    /** Image height in pixels. */
    this.height = info.height;
    /** Mask width (the image width unless `maskResolution: "low"`). */
    this.maskWidth = info.maskWidth;
    /** Mask height. */
    this.maskHeight = info.maskHeight;
    /** Number of instances. */
    this.length = info.length;
    /** Letterboxing time, ms. */
    this.preprocessMs = info.preprocessMs;
    /** Network time, ms. */
    this.inferenceMs = info.inferenceMs;
    /** NMS and mask assembly time, ms. */
    this.postprocessMs = info.postprocessMs;
  }

  /**
   * Every mask, largest first, as descriptions without bitmaps, and all of them drawn as one
   * overlay.
   * @param {{overlay?: OverlayOptions}} [options]
   * @returns {Promise<import("./client.js").EverythingResult>}
   */
  async everything({ overlay } = {}) {
    return withImage(await this.#request("everything", { overlay }));
  }

  /**
   * Point prompt (see `Segmentation.points`): the masks with their bitmaps, and their overlay.
   * @param {Array<[number, number]>} points
   * @param {number[]} [labels] 1 = object, 0 = background (all 1 when omitted)
   * @param {import("./cpu/fastsam_web_cpu.js").PointOptions & {overlay?: OverlayOptions}} [options]
   * @returns {Promise<import("./client.js").PromptResult>}
   */
  async points(points, labels, { overlay, ...options } = {}) {
    return withImage(await this.#request("points", { points, labels, options, overlay }));
  }

  /**
   * Box prompt (see `Segmentation.boxes`): the masks with their bitmaps, and their overlay.
   * @param {Array<[number, number, number, number]>} boxes
   * @param {import("./cpu/fastsam_web_cpu.js").BoxOptions & {overlay?: OverlayOptions}} [options]
   * @returns {Promise<import("./client.js").PromptResult>}
   */
  async boxes(boxes, { overlay, ...options } = {}) {
    return withImage(await this.#request("boxes", { boxes, options, overlay }));
  }

  /**
   * Text prompt (see `Segmentation.text`; needs `FastSamWorker.loadTextEncoder`): the best mask
   * per sentence, or with `threshold` every mask passing it, with bitmaps and their overlay. The
   * first call embeds every mask's region (slow: one CLIP image-encoder run per mask); later ones
   * only the sentences.
   * @param {string | string[]} prompt
   * @param {import("./cpu/fastsam_web_cpu.js").TextOptions & {overlay?: OverlayOptions}} [options]
   * @returns {Promise<import("./client.js").PromptResult>}
   */
  async text(prompt, { overlay, ...options } = {}) {
    return withImage(await this.#request("text", { prompt, options, overlay }));
  }

  /**
   * The CLIP scores behind `text()`, per sentence and mask.
   * @param {string | string[]} prompt
   * @returns {Promise<import("./cpu/fastsam_web_cpu.js").TextScore[][]>}
   */
  textScores(prompt) {
    return this.#request("textScores", { prompt });
  }

  /**
   * Instance `index` with its bitmap.
   * @param {number} index
   * @returns {Promise<import("./client.js").MaskResult>}
   */
  mask(index) {
    return this.#request("mask", { index });
  }

  /**
   * The boundaries of every mask as one mask with its bitmap.
   * @returns {Promise<import("./client.js").MaskResult>}
   */
  edges() {
    return this.#request("edges", {});
  }

  /**
   * Masks as COCO uncompressed RLE with their descriptions: `indices` in that order, or every
   * mask, largest first.
   * @param {number[]} [indices]
   * @returns {Promise<import("./client.js").RleMask[]>}
   */
  rle(indices) {
    return this.#request("rle", { indices });
  }

  /**
   * Masks as polygons with their descriptions (see `Mask.toPolygons`): `indices` in that order,
   * or every mask, largest first.
   * @param {number[]} [indices]
   * @param {PolygonOptions} [options]
   * @returns {Promise<import("./client.js").PolygonMask[]>}
   */
  polygons(indices, options) {
    return this.#request("polygons", { indices, options });
  }

  /**
   * A COCO dataset of the masks (see `Segmentation.toCoco`).
   * @param {number[]} [indices] default: every mask, largest first
   * @param {import("./cpu/fastsam_web_cpu.js").CocoOptions} [options]
   * @returns {Promise<import("./cpu/fastsam_web_cpu.js").CocoDataset>}
   */
  toCoco(indices, options) {
    return this.#request("export", { format: "toCoco", indices, options });
  }

  /**
   * YOLO segmentation label lines of the masks (see `Segmentation.toYolo`).
   * @param {number[]} [indices]
   * @param {import("./cpu/fastsam_web_cpu.js").YoloOptions} [options]
   * @returns {Promise<string>}
   */
  toYolo(indices, options) {
    return this.#request("export", { format: "toYolo", indices, options });
  }

  /**
   * An SVG document of the masks (see `Segmentation.toSvg`).
   * @param {number[]} [indices]
   * @param {import("./cpu/fastsam_web_cpu.js").SvgOptions} [options]
   * @returns {Promise<string>}
   */
  toSvg(indices, options) {
    return this.#request("export", { format: "toSvg", indices, options });
  }

  /**
   * A GeoJSON FeatureCollection of the masks in pixel coordinates (see `Segmentation.toGeoJson`).
   * @param {number[]} [indices]
   * @param {import("./cpu/fastsam_web_cpu.js").PolygonExportOptions} [options]
   * @returns {Promise<import("./cpu/fastsam_web_cpu.js").GeoJsonFeatureCollection>}
   */
  toGeoJson(indices, options) {
    return this.#request("export", { format: "toGeoJson", indices, options });
  }

  /**
   * Label Studio results of the masks, polygons or brush RLE (see `Segmentation.toLabelStudio`).
   * @param {number[]} [indices]
   * @param {import("./cpu/fastsam_web_cpu.js").LabelStudioOptions} [options]
   * @returns {Promise<import("./cpu/fastsam_web_cpu.js").LabelStudioResult[]>}
   */
  toLabelStudio(indices, options) {
    return this.#request("export", { format: "toLabelStudio", indices, options });
  }

  /**
   * Instances drawn as one translucent, outlined overlay (see `Segmentation.overlay`).
   * @param {number[]} [indices] default: every instance, largest first
   * @param {OverlayOptions} [options]
   * @returns {Promise<ImageData>}
   */
  async overlay(indices, options) {
    return toImageData(await this.#request("overlay", { indices, options }));
  }

  /**
   * Index of the smallest mask under image pixel `(x, y)`, `undefined` if none.
   * @param {number} x
   * @param {number} y
   * @returns {Promise<number | undefined>}
   */
  maskAt(x, y) {
    return this.#request("maskAt", { x, y });
  }

  /**
   * The `k` best-scoring boxes.
   * @param {number} k
   * @returns {Promise<import("./cpu/fastsam_web_cpu.js").Proposal[]>}
   */
  proposals(k) {
    return this.#request("proposals", { k });
  }

  /**
   * Releases the segmentation in the worker; later calls reject.
   * @returns {Promise<void>}
   */
  async free() {
    if (this.#freed) return;
    this.#freed = true;
    await this.#call("free", {});
  }

  #request(type, args) {
    if (this.#freed) return Promise.reject(new FastSamError("FREED", "This segmentation was freed"));
    return this.#call(type, args);
  }
}
