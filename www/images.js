// Turning a user's file into pixels to segment: decoding off the main thread and downscaling
// photos too large to segment at interactive speed.

/** Longest side the demo segments; larger photos are downscaled (FastSAM sees 640-1024 px). */
export const MAX_SIDE = 2048;

/**
 * Decodes `blob` into RGBA pixels no larger than `MAX_SIDE` on a side.
 * @param {Blob} blob
 * @returns {Promise<{image: ImageData, original: {width: number, height: number} | null}>}
 *   `original`: the decoded size when the image was downscaled
 * @throws {Error} with a message for the page when the browser cannot decode `blob`
 */
export async function decodeImage(blob) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    throw new Error("it is not an image this browser can read");
  }
  const { width, height } = bitmap;
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0, w, h);
  bitmap.close();
  return { image: ctx.getImageData(0, 0, w, h), original: scale < 1 ? { width, height } : null };
}
