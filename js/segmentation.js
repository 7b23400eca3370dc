// The segmentation of both JavaScript APIs: the main entry's `FastSam.segment` resolves to one,
// and `FastSamWorker`'s worker keeps one per `WorkerSegmentation` and posts its answers. Every
// answer is a plain object that owns its data (bitmaps are copies, wasm masks are freed before it
// returns), so nothing a caller keeps pins wasm memory: `free()` releases the segmentation itself.
import { FastSamError } from "./errors.js";

/** Fill colour of a merged point mask when the caller's overlay options name none. */
const MERGED_FILL = [30, 144, 255];

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

function timed(run) {
  const t0 = performance.now();
  const value = run();
  return [value, performance.now() - t0];
}

/**
 * Draws a prompt's masks. A merged point mask is no instance (it has no index) and comes alone:
 * it is drawn with `style.colors[0]`, the others by the wasm `Segmentation.overlay`.
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

/** The overlay `draw()` makes and how long it took; none, with `style` false. */
function overlayOf(style, draw) {
  if (style === false) return [null, 0];
  return timed(draw);
}

/**
 * A prompt's answer: the masks with their bitmaps (and their polygons, with `outline`: polygon
 * options), and their overlay (null with `style` false).
 */
function promptResult(seg, [masks, promptMs], style, outline) {
  return consume(masks, () => {
    const described = masks.map((m) => {
      const info = describe(m, true);
      if (outline !== undefined) info.polygons = m.toPolygons(outline ?? undefined);
      return info;
    });
    const [overlay, renderMs] = overlayOf(style, () => drawPrompt(seg, masks, style));
    return { masks: described, overlay, promptMs, renderMs };
  });
}

/**
 * The masks FastSAM found in one image, to prompt without running the network again. Prompts
 * answer `{masks, overlay, promptMs, renderMs}`; masks are described by `index`, `score`, `area`,
 * `bbox`, `width`, `height` (and `data`, their bitmap, where a prompt picked them).
 */
export class Segmentation {
  /** @type {any} the build's wasm `Segmentation`; null once freed */
  #seg;
  /** @type {import("./fallback.js").FallbackModel} the model that made it */
  #host;

  /** Made by `FastSam.segment`. */
  constructor(seg, host) {
    this.#seg = seg;
    this.#host = host;
    /** Image width. */
    this.width = seg.width;
    /** Image height. */
    this.height = seg.height;
    /** Mask width: the image's, or the letterbox content's with `maskResolution: "low"`. */
    this.maskWidth = seg.maskWidth;
    /** Mask height. */
    this.maskHeight = seg.maskHeight;
    /** Number of masks. */
    this.length = seg.length;
    /** Letterboxing time, ms. */
    this.preprocessMs = seg.preprocessMs;
    /** Network time, ms. */
    this.inferenceMs = seg.inferenceMs;
    /** NMS and mask assembly time, ms. */
    this.postprocessMs = seg.postprocessMs;
  }

  /**
   * Every mask, largest first, described without bitmaps, and all of them drawn as one overlay
   * (`overlay: false`: not drawn, `null`).
   */
  everything({ overlay: style } = {}) {
    const seg = this.#live();
    const [masks, promptMs] = timed(() => seg.everything());
    const described = consume(masks, () => masks.map((m) => describe(m)));
    const [overlay, renderMs] = overlayOf(style, () => seg.overlay(undefined, style));
    return { masks: described, overlay, promptMs, renderMs };
  }

  /**
   * Point prompt: the masks with their bitmaps, and their overlay. Every prompt takes `overlay`
   * (overlay options, or false for no overlay: `null`) and `polygons` (polygon options: each mask
   * comes with its polygons too, also a merged point mask, which has no index to ask `polygons()`
   * with).
   */
  points(points, labels, { overlay: style, polygons: outline, ...options } = {}) {
    const seg = this.#live();
    return promptResult(seg, timed(() => seg.points(points, labels, options)), style, outline);
  }

  /** Box prompt: the best mask per box with its bitmap, and their overlay. */
  boxes(boxes, { overlay: style, polygons: outline, ...options } = {}) {
    const seg = this.#live();
    return promptResult(seg, timed(() => seg.boxes(boxes, options)), style, outline);
  }

  /** Text prompt (needs `loadTextEncoder`): the best mask per sentence, or every mask passing `threshold`. */
  async text(prompt, { overlay: style, polygons: outline, ...options } = {}) {
    const seg = this.#live();
    const t0 = performance.now();
    const masks = await seg.text(prompt, options).catch((error) => this.#host.textFailed(error));
    return promptResult(seg, [masks, performance.now() - t0], style, outline);
  }

  /** The CLIP scores behind `text()`, per sentence and mask. */
  textScores(prompt) {
    return this.#live()
      .textScores(prompt)
      .catch((error) => this.#host.textFailed(error));
  }

  /** Instance `index` with its bitmap. */
  mask(index) {
    return consume([this.#live().mask(index)], ([m]) => describe(m, true));
  }

  /** The boundaries of every mask as one mask with its bitmap. */
  edges() {
    return consume([this.#live().edges()], ([m]) => describe(m, true));
  }

  /** Masks as COCO uncompressed RLE with their descriptions (default: every mask, largest first). */
  rle(indices) {
    const seg = this.#live();
    const order = indices ?? consume(seg.everything(), (all) => all.map((m) => m.index));
    return order.map((i) => consume([seg.mask(i)], ([m]) => ({ ...describe(m), rle: m.toRle() })));
  }

  /** Masks as polygons with their descriptions (default: every mask, largest first). */
  polygons(indices, options) {
    return this.#live().polygons(indices, options);
  }

  /** A COCO dataset of the masks (default: every mask, largest first). */
  toCoco(indices, options) {
    return this.#live().toCoco(indices, options);
  }

  /** YOLO segmentation label lines of the masks. */
  toYolo(indices, options) {
    return this.#live().toYolo(indices, options);
  }

  /** An SVG document of the masks. */
  toSvg(indices, options) {
    return this.#live().toSvg(indices, options);
  }

  /** A GeoJSON FeatureCollection of the masks, pixel coordinates with y down. */
  toGeoJson(indices, options) {
    return this.#live().toGeoJson(indices, options);
  }

  /** Label Studio results of the masks: polygons, or brush RLE with `{ brush: true }`. */
  toLabelStudio(indices, options) {
    return this.#live().toLabelStudio(indices, options);
  }

  /** Instances drawn as one translucent, outlined `ImageData` (default: every one, largest first). */
  overlay(indices, options) {
    return this.#live().overlay(indices, options);
  }

  /** Index of the smallest mask under image pixel `(x, y)`, `undefined` if none. */
  maskAt(x, y) {
    return this.#live().maskAt(x, y);
  }

  /** The `k` best-scoring boxes, `[{bbox, score, index}]`. */
  proposals(k) {
    return this.#live().proposals(k);
  }

  /** Releases the segmentation's wasm memory; later calls throw a `FREED` error. Safe to call twice. */
  free() {
    this.#seg?.free();
    this.#seg = null;
  }

  /** `using seg = await model.segment(image)` frees it at the end of the block. */
  [Symbol.dispose]() {
    this.free();
  }

  #live() {
    if (!this.#seg) throw new FastSamError("FREED", "This segmentation was freed");
    return this.#seg;
  }
}
