// `FastSam` on the page's own thread: the package's main entry. The model runs on one of the
// one-engine wasm builds, picked and replaced by the package's fallback policy (fallback.js), the
// same one `FastSamWorker` uses, and its segmentations answer with the worker's result objects
// (segmentation.js).
import { FallbackModel } from "./fallback.js";
import { Segmentation } from "./segmentation.js";

/**
 * A FastSAM model loaded on this thread. Mirrors the wasm `FastSam` of each build, and moves an
 * `"auto"` model from the WebGPU build to the CPU build when the GPU fails.
 */
export class FastSam {
  /** @type {FallbackModel} */
  #host;
  /** @type {((event: {backend: "webgpu" | "cpu", reason: string}) => void) | null} */
  #onBackendChange = null;

  /** Use {@link FastSam.load}. */
  constructor(host) {
    if (!(host instanceof FallbackModel)) throw new TypeError("use FastSam.load(bytes, options)");
    this.#host = host;
    host.onmove = (event) => {
      try {
        this.#onBackendChange?.(event);
      } catch (error) {
        console.warn("onbackendchange threw", error);
      }
    };
  }

  /**
   * Loads an ONNX FastSAM export: on the WebGPU build where `backend` ("auto" by default) finds an
   * adapter, else on the CPU build (one thread: a CPU run blocks this thread; prefer
   * `FastSamWorker` in pages). Rejects with a `FastSamError` if the bytes are not FastSAM.
   * @param {Uint8Array | ArrayBuffer} bytes
   * @param {Record<string, unknown>} [options] `LoadOptions`
   */
  static async load(bytes, options = {}) {
    return new FastSam(await FallbackModel.load(bytes, options ?? {}, 1));
  }

  /** Input size of the network (e.g. 640). */
  get inputSize() {
    return this.#host.model.inputSize;
  }

  /** How the file stores its weights: "fp32", "fp16" or "q8". */
  get dtype() {
    return this.#host.model.dtype;
  }

  /** Where the network runs: "webgpu" or "cpu". */
  get backend() {
    return this.#host.model.backend;
  }

  /** The inference engine: "burn" (WebGPU) or "tract" (CPU). */
  get engine() {
    return this.#host.model.engine;
  }

  /** The wasm build the model runs on: "webgpu" or "cpu". */
  get build() {
    return this.#host.model.build;
  }

  /** Threads the network runs on (1 on this thread). */
  get threads() {
    return this.#host.model.threads;
  }

  /** The CPU engine's matrix-product tile ("4x8", "8x8"), "none" on WebGPU. */
  get gemmTile() {
    return this.#host.model.gemmTile;
  }

  /** Why the model is on the CPU although WebGPU was asked for; undefined when it is not. */
  get fallbackReason() {
    return this.#host.fallbackReason;
  }

  /** Called with `{backend, reason}` when a GPU failure moves the model to the CPU. */
  get onbackendchange() {
    return this.#onBackendChange;
  }

  set onbackendchange(callback) {
    this.#onBackendChange = callback ?? null;
  }

  /**
   * Runs the network once on `image` and resolves to a `Segmentation` to prompt. After a GPU
   * failure of an "auto" model, the model moves to the CPU and the image is segmented there.
   */
  async segment(image, options) {
    return new Segmentation(await this.#host.segment(image, options), this.#host);
  }

  /** Loads CLIP for the text prompt (`Segmentation.text`); see the wasm `FastSam.loadTextEncoder`. */
  loadTextEncoder(files, options) {
    return this.#host.loadTextEncoder(files, options ?? {});
  }

  /** Where the text encoder runs ("webgpu" or "cpu"), undefined before `loadTextEncoder`. */
  get textBackend() {
    return this.#host.model.textBackend;
  }

  /** Why the text encoder is on the CPU although WebGPU was asked for. */
  get textFallbackReason() {
    return this.#host.model.textFallbackReason;
  }

  /** Testing aid: the model behaves as if its GPU had just failed; the next `segment()` moves it. */
  simulateGpuFailure(reason) {
    try {
      this.#host.model.simulateGpuFailure(reason);
    } catch {
      // A model on the CPU build has no GPU to fail.
    }
  }

  /** Releases the model's wasm memory (segmentations made with it stay usable until freed). */
  free() {
    this.#host.free();
  }
}

/**
 * Kept for code written against the two-engine module (`await init()` before `FastSam.load`):
 * nothing to do, `FastSam.load` downloads and starts the build it needs.
 * @returns {Promise<void>}
 */
export default async function init() {}
