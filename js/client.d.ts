// Types of `fastsam-web/worker`: FastSamWorker, the FastSAM API run in a module Web Worker.
import type {
  BoxOptions,
  CocoDataset,
  CocoOptions,
  GeoJsonFeatureCollection,
  ImageInput,
  LoadOptions,
  OverlayOptions,
  LabelStudioOptions,
  LabelStudioResult,
  PointOptions,
  PolygonExportOptions,
  PolygonMask,
  PolygonOptions,
  Proposal,
  SegmentOptions,
  SvgOptions,
  TextEncoderOptions,
  TextOptions,
  TextScore,
  YoloOptions,
} from "./cpu/fastsam_web_cpu.js";

import type {
  EverythingResult,
  MaskResult,
  NoOverlay,
  PromptExtras,
  PromptResult,
  RleMask,
  WithoutOverlay,
} from "./segmentation.js";

export type {
  EverythingResult,
  MaskInfo,
  MaskResult,
  NoOverlay,
  PolygonMask,
  PromptExtras,
  PromptResult,
  RleMask,
  WithoutOverlay,
} from "./segmentation.js";
export { ERROR_CODES, FastSamError, type FastSamErrorCode } from "./errors.js";

/** Model loading progress, in the shape transformers.js reports it (`file`: the URL or file name).
 *  A URL gives `initiate`, `download` (skipped when cached), `progress`..., `done`; every source
 *  then gives `compiling` (the model is being prepared to run) and `ready`. */
export type ProgressInfo =
  | { status: "initiate"; file: string }
  | { status: "download"; file: string }
  | {
      status: "progress";
      file: string;
      /** Bytes received so far. */
      loaded: number;
      /** Bytes in all, `null` when the server does not say. */
      total: number | null;
      /** Percent, 0-100, `null` when `total` is. */
      progress: number | null;
    }
  | { status: "done"; file: string; /** Read from the Cache API, not downloaded. */ cached: boolean }
  | { status: "compiling"; file: string }
  | ({ status: "ready" } & ModelInfo)
  /** `loadTextEncoder`'s last two events (`file` is "text encoder"). */
  | { status: "ready"; file: "text encoder"; backend: "webgpu" | "cpu"; fallbackReason?: string };

/** The loaded model. */
export interface ModelInfo {
  /** The model's URL, file name, or "model.onnx" for bytes. */
  file: string;
  /** Where the network runs, as `FastSam.backend` says. */
  backend: "webgpu" | "cpu";
  /** The inference engine, as `FastSam.engine` says. */
  engine: "burn" | "tract";
  /** Why the model is on the CPU although WebGPU was asked for (`backend: "auto"` or "webgpu"). */
  fallbackReason?: string;
  /** The wasm build running it: the worker downloads one engine, "webgpu" (the Burn port alone),
   *  "cpu" (tract alone, one thread) or "threaded" (tract on a pool of workers; cross-origin
   *  isolated pages). An "auto" model whose GPU fails moves from "webgpu" to a CPU build. */
  build: "webgpu" | "cpu" | "threaded";
  /** Threads computing the network (more than 1 only on the threaded build). */
  threads: number;
  /** Why the single-threaded build runs although `threads` asked for more than 1. */
  threadsReason?: string;
  /** The CPU path's matrix-product tile, as `FastSam.gemmTile` says ("4x8" or "8x8"; "none" on
   *  the WebGPU build, which has no CPU path). */
  gemmTile: "4x8" | "8x8" | "none";
  /** Side of the square model input. */
  inputSize: number;
  /** How the file stores its weights, as `FastSam.dtype` says: "fp16" files are half the download;
   *  the network computes in f32 either way. */
  dtype: "fp32" | "fp16" | "q8";
  /** Whether the bytes came from the Cache API instead of the network. */
  cached: boolean;
  /** Where the text encoder runs, once `loadTextEncoder` has loaded one. */
  textBackend?: "webgpu" | "cpu";
}

/** `FastSam.load` options plus the worker's own. */
export interface WorkerLoadOptions extends LoadOptions {
  /** Threads for the CPU path (default: one per logical core, at most 8). More than 1 loads the
   *  threaded wasm build, which needs a cross-origin isolated page (COOP `same-origin`, COEP
   *  `require-corp`); elsewhere the single-threaded CPU build runs, and WebGPU always runs on one
   *  thread; `ModelInfo.threadsReason` says why. The first threaded load of a worker fixes its pool:
   *  later loads reuse it (`ModelInfo.threads` tells its size). */
  threads?: number;
  /** Cache API cache for downloaded models: a name, `true` (default: "fastsam-web-models") or
   *  `false` (always download, store nothing). Only URLs are cached, and only models that load. */
  cache?: boolean | string;
  /** Called with each progress event. */
  onProgress?: (info: ProgressInfo) => void;
  /** Cancels a download in progress (or a load still waiting its turn): the promise then rejects
   *  with an `AbortError`. A model already compiling finishes loading. */
  signal?: AbortSignal;
  /** Move the bytes' buffer to the worker instead of copying it (it is detached here). */
  transfer?: boolean;
}

/** Where each file of the text prompt's CLIP model comes from: a URL (downloaded by the worker with
 *  progress, kept in the Cache API), a `File`/`Blob`, or the bytes. */
export interface TextEncoderSources {
  /** clip-image.onnx */
  image: string | URL | Blob | ArrayBuffer | Uint8Array;
  /** clip-text.onnx */
  text: string | URL | Blob | ArrayBuffer | Uint8Array;
  /** clip-bpe.txt.gz */
  vocab: string | URL | Blob | ArrayBuffer | Uint8Array;
}

/** `FastSam.loadTextEncoder` options plus the worker's own. */
export interface WorkerTextEncoderOptions extends TextEncoderOptions {
  /** As `WorkerLoadOptions.cache`. */
  cache?: boolean | string;
  /** Called with each progress event (one file after the other). */
  onProgress?: (info: ProgressInfo) => void;
  /** Cancels the downloads. */
  signal?: AbortSignal;
}

/** `FastSam.segment` options plus the worker's own. */
export interface WorkerSegmentOptions extends SegmentOptions {
  /** Move `image.data`'s buffer to the worker instead of copying it (it is detached here). */
  transfer?: boolean;
}

/**
 * A FastSAM model running in a dedicated module worker. One instance holds one model at a time;
 * requests run one after another in call order. Every error rejects as a {@link FastSamError}
 * (the wasm API's codes, and `NO_MODEL`, `FREED`, `WORKER_CLOSED`, `DOWNLOAD_FAILED` of its own).
 */
export class FastSamWorker {
  /** Starts the worker. `worker`: a module Worker already running this package's `worker.js`. */
  constructor(options?: { worker?: Worker });
  /** The loaded model, or null before the first successful `load()`. */
  readonly model: ModelInfo | null;
  /** Called when a GPU failure has moved the model to the CPU (seen at the next `segment()`). */
  onbackendchange: ((event: { backend: "cpu" | "webgpu"; reason?: string }) => void) | null;
  /** Loads a FastSAM ONNX model from a URL (downloaded by the worker, kept in the Cache API), a
   *  `File`/`Blob` or bytes. The current model is replaced only once the new one has loaded. */
  load(
    source: string | URL | Blob | ArrayBuffer | Uint8Array,
    options?: WorkerLoadOptions,
  ): Promise<ModelInfo>;
  /** Loads CLIP for the text prompt (after `load()`). */
  loadTextEncoder(
    sources: TextEncoderSources,
    options?: WorkerTextEncoderOptions,
  ): Promise<{ backend: "webgpu" | "cpu"; fallbackReason?: string }>;
  /** Runs the model once on `image`. */
  segment(image: ImageInput, options?: WorkerSegmentOptions): Promise<WorkerSegmentation>;
  /** Stops the worker at once: pending requests reject, the model and segmentations are gone. */
  terminate(): void;
}

/** One model run on one image, living in the worker. Prompt it as often as needed, then `free()`. */
export class WorkerSegmentation {
  private constructor();
  /** Image width in pixels. */
  readonly width: number;
  /** Image height in pixels. */
  readonly height: number;
  /** Mask width (the image width unless `maskResolution: "low"`). */
  readonly maskWidth: number;
  /** Mask height. */
  readonly maskHeight: number;
  /** Number of instances. */
  readonly length: number;
  /** Letterboxing time, ms. */
  readonly preprocessMs: number;
  /** Network time, ms (on WebGPU with `maskAssembly: "gpu"`, with only `output0` read back). */
  readonly inferenceMs: number;
  /** NMS and mask assembly time (on the GPU or the CPU), ms. */
  readonly postprocessMs: number;
  /** Every mask, largest first, without bitmaps, and all of them drawn as one overlay. */
  everything(options: { overlay: false }): Promise<WithoutOverlay<EverythingResult>>;
  everything(options?: { overlay?: OverlayOptions }): Promise<EverythingResult>;
  /** Point prompt (see `Segmentation.points`). */
  points(
    points: Array<[number, number]>,
    labels: number[] | undefined,
    options: PointOptions & NoOverlay,
  ): Promise<WithoutOverlay<PromptResult>>;
  points(
    points: Array<[number, number]>,
    labels?: number[],
    options?: PointOptions & PromptExtras,
  ): Promise<PromptResult>;
  /** Box prompt (see `Segmentation.boxes`). */
  boxes(
    boxes: Array<[number, number, number, number]>,
    options: BoxOptions & NoOverlay,
  ): Promise<WithoutOverlay<PromptResult>>;
  boxes(
    boxes: Array<[number, number, number, number]>,
    options?: BoxOptions & PromptExtras,
  ): Promise<PromptResult>;
  /** Text prompt (see `Segmentation.text`; needs `loadTextEncoder`). The first call embeds every
   *  mask's region; later ones only the sentences. */
  text(prompt: string | string[], options: TextOptions & NoOverlay): Promise<WithoutOverlay<PromptResult>>;
  text(
    prompt: string | string[],
    options?: TextOptions & PromptExtras,
  ): Promise<PromptResult>;
  /** The CLIP scores behind `text()`, per sentence and mask. */
  textScores(prompt: string | string[]): Promise<TextScore[][]>;
  /** Instance `index` with its bitmap. */
  mask(index: number): Promise<MaskResult>;
  /** The boundaries of every mask as one mask with its bitmap. */
  edges(): Promise<MaskResult>;
  /** Masks as COCO RLE: `indices` in that order, or every mask, largest first. */
  rle(indices?: number[]): Promise<RleMask[]>;
  /** Masks as polygons (outer rings with their holes): `indices` in that order, or every mask,
   *  largest first. */
  polygons(indices?: number[], options?: PolygonOptions): Promise<PolygonMask[]>;
  /** The masks as a COCO dataset (default: every mask, largest first). */
  toCoco(indices?: number[], options?: CocoOptions): Promise<CocoDataset>;
  /** The masks as YOLO segmentation label lines. */
  toYolo(indices?: number[], options?: YoloOptions): Promise<string>;
  /** The masks as an SVG document. */
  toSvg(indices?: number[], options?: SvgOptions): Promise<string>;
  /** The masks as GeoJSON in pixel coordinates (y down). */
  toGeoJson(indices?: number[], options?: PolygonExportOptions): Promise<GeoJsonFeatureCollection>;
  /** The masks as Label Studio `polygonlabels` results, or `brushlabels` with `{ brush: true }`. */
  toLabelStudio(indices?: number[], options?: LabelStudioOptions): Promise<LabelStudioResult[]>;
  /** Instances drawn as one overlay (default: all, largest first). */
  overlay(indices?: number[], options?: OverlayOptions): Promise<ImageData>;
  /** Index of the smallest mask under image pixel `(x, y)`, `undefined` if none. */
  maskAt(x: number, y: number): Promise<number | undefined>;
  /** The `k` best-scoring boxes. */
  proposals(k: number): Promise<Proposal[]>;
  /** Releases the segmentation in the worker; later calls reject. */
  free(): Promise<void>;
}

/** Whether the model at `url` (resolved against the page) is in the cache. */
export function isModelCached(url: string | URL, cacheName?: string): Promise<boolean>;

/** Deletes the model cache; resolves to whether there was one. */
export function clearModelCache(cacheName?: string): Promise<boolean>;
