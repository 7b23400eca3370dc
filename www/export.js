// Exports: a binary mask as PNG, all masks as COCO-style JSON with uncompressed RLE, and the
// download itself.

/**
 * A black-and-white PNG (white inside) of the union of `masks`, all of one size.
 * @param {Array<{data: Uint8Array, width: number, height: number}>} masks
 * @returns {Promise<Blob>}
 */
export function maskPng(masks) {
  const { width, height } = masks[0];
  const pixels = new ImageData(width, height);
  const rgba = new Uint32Array(pixels.data.buffer);
  rgba.fill(0xff000000); // opaque black (little-endian ABGR)
  for (const { data } of masks) {
    for (let i = 0; i < data.length; i++) if (data[i]) rgba[i] = 0xffffffff;
  }
  const canvas = new OffscreenCanvas(width, height);
  canvas.getContext("2d").putImageData(pixels, 0, 0);
  return canvas.convertToBlob({ type: "image/png" });
}

/**
 * COCO "instances" JSON for one image: one category, one annotation per mask, segmentation as
 * uncompressed RLE (pycocotools reads it), bbox as `[x, y, width, height]`.
 * @param {import("../js/client.js").RleMask[]} masks
 * @param {{fileName: string, width: number, height: number}} image
 * @returns {Blob}
 */
export function cocoJson(masks, { fileName, width, height }) {
  const coco = {
    info: { description: "FastSAM masks exported by fastsam-web", date_created: new Date().toISOString() },
    images: [{ id: 1, file_name: fileName, width, height }],
    categories: [{ id: 1, name: "object" }],
    annotations: masks.map((m, i) => ({
      id: i + 1,
      image_id: 1,
      category_id: 1,
      instance_index: m.index,
      iscrowd: 0,
      score: m.score,
      area: m.area,
      bbox: [m.bbox[0], m.bbox[1], m.bbox[2] - m.bbox[0], m.bbox[3] - m.bbox[1]],
      segmentation: m.rle,
    })),
  };
  return new Blob([JSON.stringify(coco)], { type: "application/json" });
}

/**
 * Saves `blob` as a download named `name`.
 * @param {Blob} blob
 * @param {string} name
 */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
