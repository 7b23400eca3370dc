// The picture: stacked canvases (photo, masks, highlight, polygon outline, prompts) scaled together by CSS, and
// the mapping from pointer positions to image pixels.

const POSITIVE = "#2ecc71";
const NEGATIVE = "#e74c3c";
const BOX = "#ffd400";
const OUTLINE = "#00e5ff";

/** The layers of the picture, drawn by the page and read by the pointer handlers. */
export class Stage {
  /**
   * @param {HTMLElement} root the element holding the layer canvases
   */
  constructor(root) {
    this.root = root;
    this.photo = root.querySelector("#layer-image");
    this.masks = root.querySelector("#layer-masks");
    this.highlight = root.querySelector("#layer-highlight");
    this.outline = root.querySelector("#layer-outline");
    /** The top layer: it receives the pointer. */
    this.prompts = root.querySelector("#layer-prompts");
  }

  /**
   * Shows a new photo and clears every layer above it.
   * @param {ImageData} image
   */
  showImage(image) {
    for (const canvas of [this.photo, this.masks, this.highlight, this.outline, this.prompts]) {
      canvas.width = image.width;
      canvas.height = image.height;
    }
    this.photo.getContext("2d").putImageData(image, 0, 0);
    this.root.style.setProperty("--aspect", String(image.width / image.height));
    this.root.classList.remove("focused");
    this.root.hidden = false;
  }

  /** @param {ImageData | null} overlay the masks layer, or null to clear it */
  showMasks(overlay) {
    draw(this.masks, overlay);
  }

  /**
   * Shows highlighted masks over dimmed others.
   * @param {ImageData | null} overlay the highlight layer, or null to clear it
   */
  showHighlight(overlay) {
    draw(this.highlight, overlay);
    this.root.classList.toggle("focused", overlay !== null);
  }

  /**
   * Strokes polygon rings (flat `[x0, y0, x1, y1, ...]` through pixel centres) over the masks.
   * @param {Array<{exterior: number[], holes: number[][]}> | null} polygons or null to clear
   */
  showOutline(polygons) {
    const canvas = this.outline;
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!polygons) return;
    const unit = Math.max(1, Math.max(canvas.width, canvas.height) / 500);
    ctx.beginPath();
    for (const { exterior, holes } of polygons) {
      for (const ring of [exterior, ...holes]) {
        ctx.moveTo(ring[0] + 0.5, ring[1] + 0.5);
        for (let i = 2; i < ring.length; i += 2) ctx.lineTo(ring[i] + 0.5, ring[i + 1] + 0.5);
        ctx.closePath();
      }
    }
    ctx.lineJoin = "round";
    ctx.lineWidth = unit * 2.5;
    ctx.strokeStyle = "black";
    ctx.stroke();
    ctx.lineWidth = unit;
    ctx.strokeStyle = OUTLINE;
    ctx.stroke();
  }

  /**
   * Draws prompts: points (green = object, red = background), boxes, and the box being dragged.
   * @param {{points?: number[][], labels?: number[], boxes?: number[][], drag?: number[] | null}} prompts
   */
  showPrompts({ points = [], labels = [], boxes = [], drag = null }) {
    const canvas = this.prompts;
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const unit = Math.max(1.5, Math.max(canvas.width, canvas.height) / 400);
    ctx.lineWidth = unit;
    ctx.strokeStyle = "white";
    points.forEach(([x, y], i) => {
      ctx.fillStyle = labels[i] ? POSITIVE : NEGATIVE;
      ctx.beginPath();
      ctx.arc(x, y, unit * 3.5, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    });
    ctx.strokeStyle = BOX;
    ctx.lineWidth = unit * 1.5;
    for (const [x1, y1, x2, y2] of boxes) ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    if (drag) {
      const [x1, y1, x2, y2] = drag;
      ctx.setLineDash([unit * 4, unit * 3]);
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
      ctx.setLineDash([]);
    }
  }

  /**
   * The image pixel under a pointer event, clamped to the image.
   * @param {PointerEvent | MouseEvent} event
   * @returns {[number, number]}
   */
  pointAt(event) {
    const r = this.prompts.getBoundingClientRect();
    const { width, height } = this.prompts;
    const x = ((event.clientX - r.left) / r.width) * width;
    const y = ((event.clientY - r.top) / r.height) * height;
    return [clamp(Math.floor(x), 0, width - 1), clamp(Math.floor(y), 0, height - 1)];
  }
}

const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);

/** Puts `image` on `canvas`, sized to it (the layers' CSS stretches it over the photo). */
function draw(canvas, image) {
  if (!image) {
    canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
    return;
  }
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.getContext("2d").putImageData(image, 0, 0);
}
