//! The JavaScript surface (wasm32 only): conversions and errors, no logic. Every method forwards to
//! the same Rust functions native callers use.

mod backend;
mod convert;
mod error;
#[cfg(feature = "tract")]
mod gemm_tile;
mod model;
mod segmentation;
mod text;
#[cfg(feature = "threads")]
pub(crate) mod threads;

pub use model::FastSamJs;
pub use segmentation::{MaskJs, SegmentationJs};

use wasm_bindgen::prelude::*;

/// Installs the panic hook so a Rust panic shows its message in the console, and runs the static
/// constructors once.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    run_static_constructors();
}

unsafe extern "C" {
    /// Synthesised by wasm-ld: calls every static constructor (tract registers its kernels and ops
    /// through `inventory`, about 4,000 of them).
    fn __wasm_call_ctors();
}

// tract-linalg picks its wasm kernels at compile time, and without SIMD it has a single scalar
// one, ~2.5x slower: every CPU build sets `+simd128` (.cargo/config.toml).
#[cfg(all(feature = "tract", not(target_feature = "simd128")))]
compile_error!(
    "the CPU engine's wasm build needs `-C target-feature=+simd128` (see .cargo/config.toml)"
);

#[cfg(feature = "tract")]
pub(crate) use gemm_tile::PlanTile;

/// The WebGPU build has no CPU matrix products: the `gemmTile` option is checked (so a
/// `FastSamWorker` can pass the same options to every build) and otherwise has no effect.
#[cfg(not(feature = "tract"))]
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlanTile;

#[cfg(not(feature = "tract"))]
impl PlanTile {
    pub fn resolve(request: Option<&str>) -> crate::error::Result<Self> {
        match request {
            None | Some("auto" | "4x8" | "8x8") => Ok(Self),
            Some(other) => Err(crate::error::Error::InvalidOption(format!(
                "gemmTile \"{other}\" is unknown; use \"auto\", \"4x8\" or \"8x8\""
            ))),
        }
    }

    /// `"none"`: this build runs no CPU matrix products.
    pub fn name(self) -> &'static str {
        "none"
    }
}

/// Runs the static constructors exactly once per instance. Because this module calls
/// `__wasm_call_ctors` itself, wasm-ld no longer prefixes *every* exported function with it (its
/// "command-style" heuristic), which cost ~0.2 ms per call from JavaScript, so ~70 ms for an
/// `everything()` over 300 masks. Called from the start function and, in case an embedder skips
/// it (test harnesses), before a model loads.
pub(crate) fn run_static_constructors() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static DONE: AtomicBool = AtomicBool::new(false);
    if !DONE.swap(true, Ordering::SeqCst) {
        // SAFETY: the guard above runs the linker-made constructor list once, before any code that
        // reads what they register (tract's op and kernel registries) can run.
        unsafe { __wasm_call_ctors() };
    }
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Error codes carried by `FastSamError.code`. */
export type FastSamErrorCode =
  | "INVALID_MODEL" | "INVALID_IMAGE" | "INVALID_PROMPT" | "INVALID_OPTION" | "INFERENCE_FAILED"
  | "NO_WEBGPU" | "GPU_LOST";

/**
 * Every error this module throws or rejects with is an `Error` with `name === "FastSamError"` and a
 * `code`; `instanceof FastSamError` (the class `fastsam-web` and `fastsam-web/worker` export) holds
 * for each.
 */
export interface FastSamError extends Error {
  name: "FastSamError";
  code: FastSamErrorCode;
}

/** An image: a DOM `ImageData`, or any object with RGBA (or RGB) bytes and a size. */
export type ImageInput =
  | ImageData
  | { data: Uint8Array | Uint8ClampedArray; width: number; height: number };

export interface LoadOptions {
  /** Input size for ONNX exports with a dynamic input shape (ignored otherwise). */
  inputSize?: number;
  /**
   * "auto" (default): WebGPU (Burn) when the browser has an adapter, else the CPU (tract); a GPU
   * failure later moves the model to the CPU (see `fallbackReason`, `onbackendchange`).
   * "webgpu": WebGPU or a rejected load. "cpu": tract on the CPU.
   */
  backend?: "auto" | "webgpu" | "cpu";
  /**
   * The CPU path's matrix-product tile: "auto" (default) times both once per wasm instance and
   * keeps the faster; "4x8" (fastest where the engine has 16 SIMD registers, x86-64) or "8x8"
   * (32 registers, arm64) forces one. Applies to models loaded from then on; results are
   * bit-identical either way.
   */
  gemmTile?: "auto" | "4x8" | "8x8";
  /**
   * The kernel of the WebGPU path's convolutions: "direct" (default: Burn's) or "tiled" (the
   * package's tiled implicit GEMM, experimental: faster on GPUs in principle, not yet measured on
   * one, slower on software adapters such as SwiftShader). Results agree within the parity bounds
   * either way. No effect on the CPU.
   */
  gpuConv?: "direct" | "tiled";
}

export interface SegmentOptions {
  /** Minimum object score, strictly greater passes (default 0.4). */
  conf?: number;
  /** NMS IoU threshold (default 0.9). */
  iou?: number;
  /** Maximum detections (default 300). */
  maxDet?: number;
  /** "full" = masks at image size (default, the official retina masks); "low" = letterbox size. */
  maskResolution?: "full" | "low";
  /** Reproduce the official FastSAM code (default) or ultralytics' FastSAMPredictor. */
  semantics?: "official" | "ultralytics";
  /** Border snapping distance of the full-image fix-up, in px (default 20). */
  borderSnap?: number;
  /** IoU above which a box becomes the full image (default 0.9). */
  fullBoxIou?: number;
  /**
   * Where a model on WebGPU assembles its masks: "auto" (default: on the GPU, unless the adapter is
   * a software fallback such as SwiftShader), "gpu" (only bit-packed masks are read back) or "cpu"
   * (the raw prototypes are read back, as on the CPU engine). Models on the CPU always assemble on
   * the CPU.
   */
  maskAssembly?: "auto" | "gpu" | "cpu";
}

/** The three files of the text prompt's CLIP model, as written by tools/clip_export.py. */
export interface TextEncoderFiles {
  /** clip-image.onnx */
  image: Uint8Array | ArrayBuffer;
  /** clip-text.onnx */
  text: Uint8Array | ArrayBuffer;
  /** clip-bpe.txt.gz (CLIP's BPE merges; gzip or plain text) */
  vocab: Uint8Array | ArrayBuffer;
}

export interface TextEncoderOptions {
  /** As `LoadOptions.backend`; default "auto" when the model runs on WebGPU, else "cpu". */
  backend?: "auto" | "webgpu" | "cpu";
}

export interface TextOptions {
  /**
   * Omitted (default, the official behaviour): the one best mask per sentence. A number: every
   * mask whose CLIP cosine similarity with a sentence is at least this (e.g. 0.25), best first.
   */
  threshold?: number;
}

/** How one mask scored against one sentence. */
export interface TextScore {
  /** Instance index (see `Segmentation.mask(index)`). */
  index: number;
  /** Cosine similarity of the CLIP embeddings of the mask's region and the sentence. */
  cosine: number;
  /** Softmax of 100 x cosine over every scored mask (the official score). */
  probability: number;
}

export interface PointOptions {
  /** "merged" (official, default): one mask; "perPoint": one mask per foreground point;
   *  "select": ultralytics' rule, every matching mask. */
  mode?: "merged" | "perPoint" | "select";
}

export interface BoxOptions {
  /** "official" (default): round coordinates; "ultralytics": truncate them. */
  mode?: "official" | "ultralytics";
}

/** How `Mask.toPolygons` traces and simplifies a mask's boundaries. */
export interface PolygonOptions {
  /**
   * Douglas-Peucker tolerance in pixels (`cv2.approxPolyDP`'s epsilon), default 1. 0 keeps every
   * turn of the traced boundary (`cv2.findContours` with `CHAIN_APPROX_SIMPLE`).
   */
  tolerance?: number;
  /** Keep the rings of holes (default true). */
  holes?: boolean;
  /** Drop rings enclosing fewer square pixels (default 0; a lone pixel or a line encloses 0). */
  minArea?: number;
  /** At most this many points per ring (>= 3): the tolerance is raised as little as needed. */
  maxPoints?: number;
  /** Only the polygon whose outer ring encloses the largest area (default false). */
  largestOnly?: boolean;
  /** Coordinates divided by the mask width and height, 0..1 (default false: pixels). */
  normalized?: boolean;
}

/**
 * One region of a mask: rings as flat `[x0, y0, x1, y1, ...]` arrays (the first point is not
 * repeated) through the centres of boundary pixels, y down. The exterior runs counter-clockwise on
 * screen, holes clockwise.
 */
export interface Polygon {
  exterior: number[];
  holes: number[][];
}

/** A mask described without its bitmap. */
export interface MaskInfo {
  /** Index of the instance in its segmentation, `undefined` for masks a prompt built. */
  index: number | undefined;
  /** Detection score. */
  score: number;
  /** Pixels inside the mask. */
  area: number;
  /** `[x1, y1, x2, y2]` in image pixels. */
  bbox: [number, number, number, number];
  /** Bitmap width. */
  width: number;
  /** Bitmap height. */
  height: number;
}

/** A mask as polygons (see `Mask.toPolygons`). */
export interface PolygonMask extends MaskInfo {
  polygons: Polygon[];
}

/**
 * The polygon options of the exports (`toPolygons`' options but `normalized`). Exports are in the
 * image's pixels, also with `maskResolution: "low"` (the masks are mapped onto the image), so
 * `tolerance` and `minArea` are image pixels.
 */
export type PolygonExportOptions = Omit<PolygonOptions, "normalized">;

export interface CocoOptions extends PolygonExportOptions {
  /**
   * true (default): polygon segmentations, the masks' outer rings (COCO polygons cannot describe
   * holes); a mask without a ring of three points is written as RLE. false: uncompressed RLE, exact.
   */
  polygons?: boolean;
  /** `images[0].id` and every annotation's `image_id` (default 1). */
  imageId?: number;
  /** `images[0].file_name` (default "image.png"). */
  fileName?: string;
  /** The one category's name, id 1 (default "object"). */
  category?: string;
}

export interface YoloOptions extends PolygonExportOptions {
  /** The class index written first on every line (default 0). */
  classId?: number;
}

export interface SvgOptions extends PolygonExportOptions {
  /** Fill colours used in turn (default: the overlay's 24 hues). */
  colors?: Array<[number, number, number]>;
}

export interface LabelStudioOptions extends PolygonExportOptions {
  /** The `<PolygonLabels name=...>` (or `<BrushLabels name=...>`) of the labelling config (default "label"). */
  fromName?: string;
  /** The `<Image name=...>` of the labelling config (default "image"). */
  toName?: string;
  /** The label of every shape (default "object"). */
  label?: string;
  /** `brushlabels` results in Label Studio's brush RLE (exact masks, holes included) instead of polygons (default false). */
  brush?: boolean;
}

/** A whole-image COCO dataset (one image, one category). */
export interface CocoDataset {
  images: Array<{ id: number; width: number; height: number; file_name: string }>;
  annotations: Array<{
    id: number;
    image_id: number;
    category_id: number;
    /** Flat `[x1, y1, x2, y2, ...]` rings, or RLE. */
    segmentation: number[][] | CocoRle;
    /** Mask pixels. */
    area: number;
    /** `[x, y, width, height]` of the mask's pixels. */
    bbox: [number, number, number, number];
    iscrowd: 0;
    score: number;
  }>;
  categories: Array<{ id: number; name: string }>;
}

/** GeoJSON of the masks: pixel coordinates with y down, not geographic ones. */
export interface GeoJsonFeatureCollection {
  type: "FeatureCollection";
  features: Array<{
    type: "Feature";
    /** `null` for a mask without a ring of three points. Rings are closed. */
    geometry:
      | { type: "Polygon"; coordinates: number[][][] }
      | { type: "MultiPolygon"; coordinates: number[][][][] }
      | null;
    properties: { index: number | null; score: number; area: number };
  }>;
}

/**
 * One Label Studio result: `polygonlabels` (points in percent of the image size, one per outer
 * ring) or, with `{ brush: true }`, `brushlabels` (one per mask, Label Studio's brush RLE bytes).
 */
export type LabelStudioResult = {
  id: string;
  from_name: string;
  to_name: string;
  original_width: number;
  original_height: number;
  image_rotation: 0;
  score: number;
} & (
  | {
      type: "polygonlabels";
      value: { points: Array<[number, number]>; closed: true; polygonlabels: string[] };
    }
  | { type: "brushlabels"; value: { format: "rle"; rle: number[]; brushlabels: string[] } }
);

/** COCO uncompressed RLE (column-major counts, starting with zeros). */
export interface CocoRle {
  size: [number, number];
  counts: number[];
}

export interface OverlayOptions {
  /** Fill opacity 0-255 (default 140). */
  alpha?: number;
  /** Outline colour; `null` for no outline (default white, 230). */
  outline?: [number, number, number, number] | null;
  /** Fill colours used in turn (default: 24 well-separated hues). */
  colors?: Array<[number, number, number]>;
}

export interface Proposal {
  /** [x1, y1, x2, y2] in image pixels. */
  bbox: [number, number, number, number];
  score: number;
  /** Index of the instance (see `Segmentation.mask(index)`). */
  index: number;
}
"#;
