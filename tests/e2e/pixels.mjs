// Reading the demo's canvas layers from the test: every function runs in the page and works in
// image pixels (the layers are stacked canvases the size of the image).

/**
 * Number of pixels of layer canvas `id` with alpha > 0, in `rect` ([x1, y1, x2, y2], image
 * pixels, exclusive end) or in the whole layer.
 * @param {import("playwright-core").Page} page
 * @param {string} id
 * @param {number[]} [rect]
 * @returns {Promise<number>}
 */
export function opaqueCount(page, id, rect) {
  return page.evaluate(
    ([id, rect]) => {
      const canvas = document.getElementById(id);
      const [x1, y1, x2, y2] = rect ?? [0, 0, canvas.width, canvas.height];
      const { data } = canvas.getContext("2d").getImageData(x1, y1, x2 - x1, y2 - y1);
      let count = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) count++;
      return count;
    },
    [id, rect],
  );
}

/**
 * Alpha of pixel `[x, y]` of layer canvas `id`.
 * @returns {Promise<number>}
 */
export function alphaAt(page, id, [x, y]) {
  return page.evaluate(
    ([id, x, y]) => document.getElementById(id).getContext("2d").getImageData(x, y, 1, 1).data[3],
    [id, x, y],
  );
}

/**
 * A digest of layer canvas `id`'s pixels (FNV-1a over the RGBA bytes), to tell drawings apart.
 * @returns {Promise<string>}
 */
export function digest(page, id) {
  return page.evaluate((id) => {
    const canvas = document.getElementById(id);
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    let hash = 0x811c9dc5;
    for (let i = 0; i < data.length; i++) hash = Math.imul(hash ^ data[i], 0x01000193);
    return `${canvas.width}x${canvas.height}:${(hash >>> 0).toString(16)}`;
  }, id);
}

/**
 * The pixel with alpha > 0 of layer canvas `id` nearest to `[x, y]`, or null when the layer is
 * empty.
 * @returns {Promise<[number, number] | null>}
 */
export function opaquePixel(page, id, [x, y]) {
  return page.evaluate(
    ([id, x, y]) => {
      const canvas = document.getElementById(id);
      const { width, height } = canvas;
      const { data } = canvas.getContext("2d").getImageData(0, 0, width, height);
      let best = null;
      let bestDistance = Infinity;
      for (let py = 0; py < height; py++) {
        for (let px = 0; px < width; px++) {
          const distance = (px - x) ** 2 + (py - y) ** 2;
          if (data[(py * width + px) * 4 + 3] > 0 && distance < bestDistance) {
            best = [px, py];
            bestDistance = distance;
          }
        }
      }
      return best;
    },
    [id, x, y],
  );
}

/**
 * The viewport coordinates of the centre of image pixel `[x, y]` (for `page.mouse`).
 * @returns {Promise<{x: number, y: number}>}
 * @throws when that point is outside the viewport, where the mouse cannot reach it
 */
export async function pagePoint(page, [x, y]) {
  const point = await page.evaluate(
    ([x, y]) => {
      const canvas = document.getElementById("layer-prompts");
      const r = canvas.getBoundingClientRect();
      return {
        x: r.left + ((x + 0.5) * r.width) / canvas.width,
        y: r.top + ((y + 0.5) * r.height) / canvas.height,
      };
    },
    [x, y],
  );
  const { width, height } = page.viewportSize();
  if (point.x < 0 || point.y < 0 || point.x >= width || point.y >= height) {
    throw new Error(`image pixel ${x},${y} is outside the ${width}x${height} viewport`);
  }
  return point;
}
