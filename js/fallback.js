// The package's one GPU-to-CPU fallback policy, for every JavaScript entry: the main-thread
// `FastSam` (index.js) and `FastSamWorker`'s worker (worker.js). A model runs on one of the
// one-engine wasm builds (threads.js): the WebGPU build (the Burn port alone) or a CPU build
// (tract alone). An "auto" model goes to a CPU build when WebGPU has no adapter or fails to start,
// and moves there, with its text encoder, when the GPU fails mid-session. Every decision is taken
// on an error's `code` (`NO_WEBGPU`, `GPU_LOST`), never on its message.
import { FastSamError } from "./errors.js";
import { chooseBuild, chooseCpuBuild, defaultThreads, loadBuild } from "./threads.js";

/**
 * The codes of the WebGPU build's failures that an "auto" model recovers from on a CPU build:
 * WebGPU unusable at load, or the GPU failing mid-session.
 */
export const GPU_FAILURES = Object.freeze(["NO_WEBGPU", "GPU_LOST"]);

/** True when `error` is a GPU failure a CPU build can take over from. */
export const isGpuFailure = (error) => GPU_FAILURES.includes(error?.code);

/** Rejects a `backend` option the builds do not know, before anything is downloaded. */
export function checkBackend(backend) {
  if (backend !== undefined && !["auto", "webgpu", "cpu"].includes(backend)) {
    throw new FastSamError("INVALID_OPTION", `backend "${backend}" is unknown; use "auto", "webgpu" or "cpu"`);
  }
}

/**
 * What failed, for a fallback reason: the WebGPU build's GPU errors carry it as `reason` (their
 * message adds advice to use a CPU build, which this module follows).
 */
function gpuFailure(error) {
  return error?.reason ?? String(error?.message ?? error);
}

/** `{build, threads, threadsReason?}` without the keys that are undefined. */
function describeBuild(build, threads, threadsReason) {
  return threadsReason === undefined ? { build, threads } : { build, threads, threadsReason };
}

/**
 * The CPU build for `threads`, loaded: the threaded one where the context allows it, else (or when
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
  const model = await glue.FastSam.load(bytes, { ...options, backend: "cpu" });
  return { model, info: gpuReason === undefined ? info : { ...info, fallbackReason: gpuReason } };
}

/**
 * A FastSAM model on one of the one-engine builds, with the fallback policy applied: loads where
 * `options.backend` and `threads` ask, and moves an "auto" model from the WebGPU build to a CPU
 * build when its GPU fails.
 */
export class FallbackModel {
  /** @type {any} the build's wasm `FastSam` the model runs on now */
  model;
  /** How the build was chosen: `{build, threads, threadsReason?, fallbackReason?}`. */
  info;
  /** Called with `{backend: "cpu", reason}` after a GPU failure moved the model. */
  onmove = null;
  /** What a move to a CPU build needs (`{bytes, options, threads}`); null when no move can come. */
  #source;
  /** The text encoder's files and options, reloaded on the CPU build after a move. */
  #text = null;

  constructor(model, info, source = null) {
    this.model = model;
    this.info = info;
    this.#source = source;
  }

  /**
   * Loads `bytes` on the WebGPU build where "auto" or "webgpu" finds an adapter, else on a CPU
   * build (threaded when `threads` > 1 and the context allows it). An "auto" model whose WebGPU
   * fails to start goes to a CPU build.
   * @param {Uint8Array | ArrayBuffer} bytes the ONNX file
   * @param {Record<string, unknown>} options the wasm `FastSam.load` options
   * @param {number} [threads]
   */
  static async load(bytes, options = {}, threads = defaultThreads()) {
    checkBackend(options.backend);
    const choice = await chooseBuild({ backend: options.backend, threads });
    const onCpu = async (reason) => {
      const { model, info } = await loadOnCpu(bytes, options, threads, reason);
      return new FallbackModel(model, info);
    };
    if (choice.build !== "webgpu") return onCpu(choice.gpuReason);
    const auto = (options.backend ?? "auto") === "auto";
    let glue;
    try {
      ({ glue } = await loadBuild("webgpu"));
    } catch (error) {
      if (!auto) throw error;
      return onCpu(`the WebGPU build could not start: ${error?.message ?? error}`);
    }
    try {
      const model = await glue.FastSam.load(bytes, options);
      return new FallbackModel(model, describeBuild("webgpu", 1, choice.reason), auto ? { bytes, options, threads } : null);
    } catch (error) {
      if (!auto || !isGpuFailure(error)) throw error;
      return onCpu(`${gpuFailure(error)}; so on the CPU`);
    }
  }

  /** Why the model is not on WebGPU although "auto" or "webgpu" asked for it, if it is not. */
  get fallbackReason() {
    return this.info.fallbackReason ?? this.model.fallbackReason;
  }

  /**
   * `run(model)`; after a GPU failure of an "auto" model, the model moves to a CPU build and
   * `run` runs again there.
   * @template T
   * @param {(model: any) => Promise<T> | T} run
   * @returns {Promise<T>}
   */
  async retrying(run) {
    try {
      return await run(this.model);
    } catch (error) {
      if (!(await this.moveToCpu(error))) throw error;
      return run(this.model);
    }
  }

  /** Segments `image` (a GPU failure moves the model and segments again on the CPU). */
  segment(image, options) {
    return this.retrying((model) => model.segment(image, options));
  }

  /**
   * Refuses a text encoder `backend` the model's build cannot run: the WebGPU build has no CPU
   * engine. Callers that download the files first check here before the download.
   */
  checkTextBackend(backend) {
    if (this.model.build === "webgpu" && backend === "cpu") {
      throw new FastSamError(
        "INVALID_OPTION",
        'The model runs on the WebGPU build, which has no CPU engine: load the model with backend "cpu" to run the text encoder on the CPU',
      );
    }
  }

  /**
   * Loads CLIP for text prompts. The WebGPU build has no CPU engine, so `backend: "cpu"` is refused
   * there; a GPU failure moves the model and loads the encoder on the CPU build.
   */
  async loadTextEncoder(files, options = {}) {
    this.checkTextBackend(options.backend);
    // A new encoder replaces the kept one (and a move must not reload the old one first).
    const previous = this.#text;
    this.#text = null;
    try {
      await this.model.loadTextEncoder(files, options);
    } catch (error) {
      if (!(await this.moveToCpu(error))) {
        this.#text = previous;
        throw error;
      }
      await this.model.loadTextEncoder(files, { ...options, backend: "cpu" });
    }
    if (this.#source) this.#text = { files, options };
  }

  /**
   * After a text prompt's `error`: a GPU failure moves the model to the CPU (its segmentations stay
   * on the WebGPU build, so the text prompt needs a new `segment()`); rethrows `error` either way.
   */
  async textFailed(error) {
    if (await this.moveToCpu(error)) {
      error.message += " (the model has moved to the CPU: segment the image again for text prompts)";
    }
    throw error;
  }

  /**
   * After `error` from the WebGPU build: moves an "auto" model (and its text encoder) to a CPU
   * build and returns true, or returns false when `error` is no GPU failure of such a model.
   */
  async moveToCpu(error) {
    if (!this.#source || !isGpuFailure(error)) return false;
    const { bytes, options, threads } = this.#source;
    let reason = `${gpuFailure(error)}; now on the CPU`;
    let moved;
    try {
      moved = await loadOnCpu(bytes, options, threads, reason);
    } catch (moveError) {
      moveError.message = `${moveError.message} (while moving to the CPU after: ${error.message})`;
      throw moveError;
    }
    this.#source = null;
    this.model.free();
    this.model = moved.model;
    this.info = moved.info;
    const text = this.#text;
    this.#text = null;
    if (text) {
      try {
        await this.model.loadTextEncoder(text.files, { ...text.options, backend: "cpu" });
      } catch (textError) {
        // The model moved; only the text prompt is lost, and the reason says why.
        reason += `; the text encoder could not be loaded on the CPU: ${textError.message}`;
        this.info = { ...this.info, fallbackReason: reason };
      }
    }
    this.onmove?.({ backend: this.model.backend, reason: this.fallbackReason });
    return true;
  }

  /** Releases the model's wasm memory (its segmentations stay usable until freed). */
  free() {
    this.model.free();
  }
}
