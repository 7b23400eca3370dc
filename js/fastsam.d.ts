// Types of `FastSam` on the page's own thread (fastsam.js), the package's main entry.
import type {
  ImageInput,
  LoadOptions,
  SegmentOptions,
  TextEncoderFiles,
  TextEncoderOptions,
} from "./cpu/fastsam_web_cpu.js";
import type { Segmentation } from "./segmentation.js";

/** What `onbackendchange` is called with when a GPU failure moves a model to the CPU. */
export interface BackendChange {
  backend: "webgpu" | "cpu";
  /** What failed, and where the model runs now. */
  reason: string;
}

/**
 * A FastSAM model loaded on this thread, on the WebGPU build or the CPU build (one engine each,
 * downloaded when needed). An `"auto"` model moves from WebGPU to the CPU when the GPU fails.
 * Its segmentations answer with plain objects, the ones `FastSamWorker` resolves to: `free()` a
 * segmentation and the model when done.
 */
export declare class FastSam {
  private constructor();
  /**
   * Loads an ONNX FastSAM export: on WebGPU where `backend` ("auto" by default) finds an adapter,
   * else on the CPU (one thread: a CPU run blocks this thread; prefer `FastSamWorker` in pages).
   * Rejects with a `FastSamError` (`INVALID_MODEL`) for anything that is not a FastSAM model.
   */
  static load(bytes: Uint8Array | ArrayBuffer, options?: LoadOptions): Promise<FastSam>;
  /** Side of the square model input (640 or 1024 for the usual exports). */
  readonly inputSize: number;
  /** How the file stores its weights; the network computes in f32 whichever it is. */
  readonly dtype: "fp32" | "fp16" | "q8";
  /** The device the network runs on now. */
  readonly backend: "webgpu" | "cpu";
  /** The inference engine: "burn" (WebGPU) or "tract" (CPU). */
  readonly engine: "burn" | "tract";
  /** The wasm build the model runs on. */
  readonly build: "webgpu" | "cpu";
  /** Threads running the network (1 on the page's thread). */
  readonly threads: number;
  /** The CPU engine's matrix-product tile; "none" on the WebGPU build. */
  readonly gemmTile: "4x8" | "8x8" | "none";
  /** Why the model runs on the CPU although WebGPU was asked for; `undefined` otherwise. */
  readonly fallbackReason: string | undefined;
  /** Called when a GPU failure moves the model to the CPU. */
  onbackendchange: ((event: BackendChange) => void) | null;
  /**
   * Runs the network once on `image` and resolves to a `Segmentation` to prompt. After a GPU
   * failure of an "auto" model, the model moves to the CPU and segments the image there.
   */
  segment(image: ImageInput, options?: SegmentOptions): Promise<Segmentation>;
  /**
   * Loads CLIP for the text prompt (`Segmentation.text`): the files `tools/clip_export.py` writes.
   * `options.backend` as for `load` (default: "auto" on WebGPU, else "cpu"; "cpu" is refused on
   * the WebGPU build). Replaces a previously loaded text encoder.
   */
  loadTextEncoder(files: TextEncoderFiles, options?: TextEncoderOptions): Promise<void>;
  /** The device the text encoder runs on, `undefined` before `loadTextEncoder`. */
  readonly textBackend: "webgpu" | "cpu" | undefined;
  /** Why the text encoder runs on the CPU although WebGPU was asked for. */
  readonly textFallbackReason: string | undefined;
  /** Testing aid: behaves as if the GPU had just failed; the next `segment()` moves the model. */
  simulateGpuFailure(reason: string): void;
  /** Releases the model's wasm memory (its segmentations stay usable until freed). */
  free(): void;
}

/** Kept for code written for earlier versions: resolves at once (`FastSam.load` starts the build it needs). */
export default function init(): Promise<void>;
