// Helpers shared by the benchmark workers: inputs and the job protocol.

/** The bytes at `url`. */
export async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** The image at `url` as RGBA `ImageData`, stretched to `size` (`[width, height]`) when given. */
export async function loadImage(url, size) {
  const bitmap = await createImageBitmap(new Blob([await fetchBytes(url)]));
  const [width, height] = size ?? [bitmap.width, bitmap.height];
  const context = new OffscreenCanvas(width, height).getContext("2d");
  context.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  return context.getImageData(0, 0, width, height);
}

/**
 * `image` letterboxed into `side` x `side` (canvas scaling, centred, grey 114 padding) as the
 * float32 NCHW RGB tensor data in [0, 1] that YOLOv8 exports take. Close to the package's
 * OpenCV-exact letterbox, not bit-identical: enough for timing.
 */
export async function letterbox(image, side) {
  const scale = Math.min(side / image.width, side / image.height);
  const width = Math.round(image.width * scale);
  const height = Math.round(image.height * scale);
  const context = new OffscreenCanvas(side, side).getContext("2d");
  context.fillStyle = "rgb(114, 114, 114)";
  context.fillRect(0, 0, side, side);
  const bitmap = await createImageBitmap(image);
  context.drawImage(bitmap, (side - width) >> 1, (side - height) >> 1, width, height);
  bitmap.close();
  const { data } = context.getImageData(0, 0, side, side);
  const plane = side * side;
  const tensor = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    tensor[i] = data[4 * i] / 255;
    tensor[plane + i] = data[4 * i + 1] / 255;
    tensor[2 * plane + i] = data[4 * i + 2] / 255;
  }
  return tensor;
}

/**
 * Makes this worker answer its job message with `{result: await run(job)}`, or `{error}` (the
 * error's name, code if any, and message).
 */
export function serveJob(run) {
  self.onmessage = async ({ data }) => {
    try {
      self.postMessage({ result: await run(data) });
    } catch (error) {
      const code = error?.code ? ` [${error.code}]` : "";
      self.postMessage({ error: `${error?.name ?? "Error"}${code}: ${error?.message ?? error}` });
    }
  };
}
