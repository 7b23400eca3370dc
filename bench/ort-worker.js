// Benchmark worker for onnxruntime-web: one session on `job.ep` ("wasm" or "webgpu") with
// `job.threads` wasm threads, fed the letterboxed image; times `session.run` only.
import { fetchBytes, letterbox, loadImage, serveJob } from "./common.js";

const DIST = new URL("../node_modules/onnxruntime-web/dist/", import.meta.url);
const BUILDS = { wasm: "ort.wasm.min.mjs", webgpu: "ort.webgpu.min.mjs" };

serveJob(async ({ model: modelUrl, image: imageUrl, ep, threads, runs, warmup }) => {
  const ort = await import(new URL(BUILDS[ep], DIST).href);
  ort.env.wasm.wasmPaths = DIST.href;
  ort.env.wasm.numThreads = threads;
  const [bytes, image] = await Promise.all([fetchBytes(modelUrl), loadImage(imageUrl)]);
  const loadStart = performance.now();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: [ep] });
  const loadMs = performance.now() - loadStart;
  try {
    const side = session.inputMetadata[0]?.shape?.[2];
    if (!Number.isInteger(side)) throw new Error(`the model input has no fixed size (shape ${session.inputMetadata[0]?.shape})`);
    const input = new ort.Tensor("float32", await letterbox(image, side), [1, 3, side, side]);
    const feeds = { [session.inputNames[0]]: input };
    const inference = [];
    for (let i = 0; i < warmup + runs; i++) {
      const start = performance.now();
      const outputs = await session.run(feeds);
      const ms = performance.now() - start;
      for (const output of Object.values(outputs)) output.dispose();
      if (i >= warmup) inference.push(ms);
    }
    return {
      ep,
      threads: ort.env.wasm.numThreads,
      crossOriginIsolated: self.crossOriginIsolated,
      inputSize: side,
      width: image.width,
      height: image.height,
      loadMs,
      times: { inference },
    };
  } finally {
    await session.release();
  }
});
