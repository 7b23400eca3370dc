// Types of `Segmentation` (segmentation.js) and the plain results it answers: the same objects
// `FastSamWorker`'s `WorkerSegmentation` resolves to (client.d.ts).
import type {
  BoxOptions,
  CocoDataset,
  CocoOptions,
  CocoRle,
  GeoJsonFeatureCollection,
  LabelStudioOptions,
  LabelStudioResult,
  MaskInfo,
  OverlayOptions,
  PointOptions,
  Polygon,
  PolygonExportOptions,
  PolygonMask,
  PolygonOptions,
  Proposal,
  SvgOptions,
  TextOptions,
  TextScore,
  YoloOptions,
} from "./cpu/fastsam_web_cpu.js";

export type { MaskInfo, PolygonMask };


/** A mask with its bitmap. */
export interface MaskResult extends MaskInfo {
  /** `width * height` bytes, row-major, 1 inside and 0 outside. */
  data: Uint8Array;
  /** The mask's polygons, where a prompt was given `polygons` options. */
  polygons?: Polygon[];
}

/** What every prompt takes besides its own options. */
export interface PromptExtras {
  /** How the overlay is drawn (`false`: not drawn, see {@link NoOverlay}). */
  overlay?: OverlayOptions;
  /** Also outline each mask (`MaskResult.polygons`) with these polygon options (`{}`: defaults). */
  polygons?: PolygonOptions;
}

/** Prompt options that skip drawing the overlay: the result's `overlay` is `null`. */
export interface NoOverlay {
  overlay: false;
  polygons?: PolygonOptions;
}

/** A result without its overlay (`overlay: false`). */
export type WithoutOverlay<R> = Omit<R, "overlay"> & { overlay: null };

/** A mask as COCO uncompressed RLE. */
export interface RleMask extends MaskInfo {
  rle: CocoRle;
}

/** What `everything()` answers. */
export interface EverythingResult {
  /** Every mask, largest first (no bitmaps: draw `overlay`, or ask `mask(index)`). */
  masks: MaskInfo[];
  /** All masks drawn translucent with outlines, mask size. */
  overlay: ImageData;
  /** Time to select the masks, ms. */
  promptMs: number;
  /** Time to draw the overlay, ms. */
  renderMs: number;
}

/** What `points()`, `boxes()` and `text()` answer. */
export interface PromptResult {
  /** The selected masks with their bitmaps. */
  masks: MaskResult[];
  /** Those masks drawn translucent with outlines (transparent when there are none). A merged
   *  point mask is drawn with `colors[0]` of the overlay options, default `[30, 144, 255]`. */
  overlay: ImageData;
  /** Time to run the prompt, ms. */
  promptMs: number;
  /** Time to draw the overlay, ms. */
  renderMs: number;
}

/**
 * The masks FastSAM found in one image (`FastSam.segment`), to prompt without running the network
 * again. Every answer is a plain object that owns its data: keeping one pins no wasm memory.
 * `free()` releases the segmentation; later calls throw a `FREED` error.
 */
export declare class Segmentation {
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
  everything(options: { overlay: false }): WithoutOverlay<EverythingResult>;
  everything(options?: { overlay?: OverlayOptions }): EverythingResult;
  /** Point prompt: `labels` 1 = object, 0 = background (all 1 when omitted); `mode` "merged"
   *  (official, default), "perPoint" or "select". */
  points(
    points: Array<[number, number]>,
    labels: number[] | undefined,
    options: PointOptions & NoOverlay,
  ): WithoutOverlay<PromptResult>;
  points(
    points: Array<[number, number]>,
    labels?: number[],
    options?: PointOptions & PromptExtras,
  ): PromptResult;
  /** Box prompt: the best mask per box. */
  boxes(
    boxes: Array<[number, number, number, number]>,
    options: BoxOptions & NoOverlay,
  ): WithoutOverlay<PromptResult>;
  boxes(
    boxes: Array<[number, number, number, number]>,
    options?: BoxOptions & PromptExtras,
  ): PromptResult;
  /** Text prompt (needs `loadTextEncoder`). The first call embeds every mask's region; later ones
   *  only the sentences. */
  text(prompt: string | string[], options: TextOptions & NoOverlay): Promise<WithoutOverlay<PromptResult>>;
  text(
    prompt: string | string[],
    options?: TextOptions & PromptExtras,
  ): Promise<PromptResult>;
  /** The CLIP scores behind `text()`, per sentence and mask. */
  textScores(prompt: string | string[]): Promise<TextScore[][]>;
  /** Instance `index` with its bitmap. */
  mask(index: number): MaskResult;
  /** The boundaries of every mask as one mask with its bitmap. */
  edges(): MaskResult;
  /** Masks as COCO RLE: `indices` in that order, or every mask, largest first. */
  rle(indices?: number[]): RleMask[];
  /** Masks as polygons (outer rings with their holes): `indices` in that order, or every mask,
   *  largest first. */
  polygons(indices?: number[], options?: PolygonOptions): PolygonMask[];
  /** The masks as a COCO dataset (default: every mask, largest first). */
  toCoco(indices?: number[], options?: CocoOptions): CocoDataset;
  /** The masks as YOLO segmentation label lines. */
  toYolo(indices?: number[], options?: YoloOptions): string;
  /** The masks as an SVG document. */
  toSvg(indices?: number[], options?: SvgOptions): string;
  /** The masks as GeoJSON in pixel coordinates (y down). */
  toGeoJson(indices?: number[], options?: PolygonExportOptions): GeoJsonFeatureCollection;
  /** The masks as Label Studio `polygonlabels` results, or `brushlabels` with `{ brush: true }`. */
  toLabelStudio(indices?: number[], options?: LabelStudioOptions): LabelStudioResult[];
  /** Instances drawn as one overlay (default: all, largest first). */
  overlay(indices?: number[], options?: OverlayOptions): ImageData;
  /** Index of the smallest mask under image pixel `(x, y)`, `undefined` if none. */
  maskAt(x: number, y: number): number | undefined;
  /** The `k` best-scoring boxes. */
  proposals(k: number): Proposal[];
  /** Releases the segmentation's wasm memory; later calls throw. Safe to call twice. */
  free(): void;
  [Symbol.dispose](): void;
}
