// The benchmark page: each job runs in a fresh module Web Worker (the package and onnxruntime-web
// alike), so every measurement starts from a clean wasm instance and GPU device.

const WORKERS = {
  fastsam: new URL("./fastsam-worker.js", import.meta.url),
  ort: new URL("./ort-worker.js", import.meta.url),
};

/** What the page runs on: isolation, thread count, user agent and the WebGPU adapter, if any. */
async function info() {
  const adapter = await navigator.gpu?.requestAdapter();
  const gpu = adapter && {
    vendor: adapter.info.vendor,
    architecture: adapter.info.architecture,
    device: adapter.info.device,
    description: adapter.info.description,
    fallback: adapter.info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? null,
  };
  return {
    crossOriginIsolated: self.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
    userAgent: navigator.userAgent,
    gpu: gpu ?? null,
  };
}

/**
 * Runs `job` in a new worker of its kind (`job.kind`: "fastsam" or "ort") and resolves to the
 * worker's result; rejects with the worker's error.
 */
function run(job) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKERS[job.kind], { type: "module" });
    const finish = (settle, value) => {
      worker.terminate();
      settle(value);
    };
    worker.onmessage = ({ data }) =>
      data.error === undefined ? finish(resolve, data.result) : finish(reject, new Error(data.error));
    worker.onerror = (event) => finish(reject, new Error(event.message || `the ${job.kind} worker failed to start`));
    worker.onmessageerror = () => finish(reject, new Error(`the ${job.kind} worker sent an unreadable message`));
    worker.postMessage(job);
  });
}

globalThis.bench = { info, run };
