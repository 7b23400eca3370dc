// Picks the wasm build a model runs on, and starts the threaded build's pool of Web Workers.
//
// A page downloads one engine, not both: the WebGPU build (the Burn port, no tract) where WebGPU
// has an adapter, else a CPU build (tract, no Burn): the threaded one (N threads) in a worker of a
// cross-origin isolated page (for SharedArrayBuffer), the single-threaded one elsewhere.

/** The most threads the default asks for: beyond this the matrix products scale poorly. */
const MAX_DEFAULT_THREADS = 8;

/** The default thread count: one per logical core, at most {@link MAX_DEFAULT_THREADS}. */
export function defaultThreads() {
  return Math.max(1, Math.min(MAX_DEFAULT_THREADS, globalThis.navigator?.hardwareConcurrency ?? 1));
}

/** Why this context cannot run the threaded build, or null when it can. */
export function threadsUnavailable() {
  if (typeof SharedArrayBuffer !== "function" || !globalThis.crossOriginIsolated) {
    return "the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)";
  }
  if (typeof Worker !== "function") return "this context cannot start Web Workers";
  return null;
}

/** Why WebGPU has no adapter here (so "auto" runs on the CPU), or null when it has one. */
export async function webGpuUnavailable() {
  const gpu = globalThis.navigator?.gpu;
  if (!gpu) return "this browser exposes no WebGPU (navigator.gpu is missing)";
  try {
    if (await gpu.requestAdapter()) return null;
    return "the browser has WebGPU but no adapter (no usable GPU)";
  } catch (error) {
    return `navigator.gpu.requestAdapter() rejected: ${error?.message ?? error}`;
  }
}

/** Throws a `RangeError` unless `threads` is a whole number of at least 1. */
export function checkThreads(threads) {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`threads must be a whole number of at least 1, not ${threads}`);
  }
}

/**
 * The CPU build for `threads`: `{build: "threaded" | "cpu", threads, reason?}`, `reason` saying
 * why more than one thread was wanted but the single-threaded build is used.
 */
export function chooseCpuBuild(threads) {
  if (threads === 1) return { build: "cpu", threads };
  const unavailable = threadsUnavailable();
  if (unavailable) return { build: "cpu", threads: 1, reason: unavailable };
  return { build: "threaded", threads };
}

/**
 * Which build to load for `backend` and `threads`: `{build: "webgpu" | "threaded" | "cpu",
 * threads, reason?, gpuReason?}`. `reason`: why one thread runs although more were wanted;
 * `gpuReason`: why "auto" runs on the CPU.
 * @param {{backend?: string, threads?: number}} options
 */
export async function chooseBuild({ backend = "auto", threads = defaultThreads() }) {
  checkThreads(threads);
  const gpu = { build: "webgpu", threads: 1 };
  if (threads > 1) gpu.reason = "WebGPU runs on the single-threaded WebGPU build";
  if (backend === "webgpu") return gpu;
  if (backend === "auto") {
    const gpuReason = await webGpuUnavailable();
    if (gpuReason === null) return gpu;
    return { ...chooseCpuBuild(threads), gpuReason };
  }
  return chooseCpuBuild(threads);
}

/** Where each build's bindings are, relative to this file. */
const BINDINGS = {
  webgpu: () => import("./webgpu/fastsam_web_webgpu.js"),
  cpu: () => import("./cpu/fastsam_web_cpu.js"),
  threaded: () => import("./threaded/fastsam_web_threaded.js"),
};

/**
 * The wasm builds this context has loaded, by name: each is imported and instantiated at most
 * once (a wasm instance's thread pool cannot be rebuilt); a failed load is forgotten, so a later
 * call retries.
 * @type {Record<string, Promise<{glue: any, threads: number}>>}
 */
const builds = {};

/**
 * Imports and instantiates a build, `"webgpu"`, `"cpu"` or `"threaded"` (the latter
 * with its pool of `threads` workers). Resolves to `{glue, threads}`: the build's bindings and its
 * thread count.
 */
export function loadBuild(build, threads = 1) {
  if (!BINDINGS[build]) throw new Error(`Unknown build "${build}"`);
  builds[build] ??= (async () => {
    const glue = await BINDINGS[build]();
    await glue.default();
    if (build !== "threaded") return { glue, threads: 1 };
    return { glue, threads: await startThreadPool(glue, threads) };
  })().catch((error) => {
    delete builds[build];
    throw error;
  });
  return builds[build];
}

/** The pool's workers, kept referenced for as long as the worker lives. */
const poolWorkers = [];

/**
 * Starts `count` pool threads on the initialised threaded build `glue`, then builds rayon's pool
 * on them. Resolves to the pool's size; rejects (and stops the started workers) when a thread
 * cannot start.
 */
export async function startThreadPool(glue, count) {
  const [module, memory] = glue.threadPoolShares();
  const started = [];
  try {
    await Promise.all(
      Array.from({ length: count }, (_, i) => startThread(module, memory, i, started)),
    );
  } catch (error) {
    for (const worker of started) worker.terminate();
    throw error;
  }
  poolWorkers.push(...started);
  return glue.buildThreadPool(count);
}

function startThread(module, memory, i, started) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./thread-worker.js", import.meta.url), {
      type: "module",
      name: `fastsam-thread-${i}`,
    });
    started.push(worker);
    const fail = (why) => reject(new Error(`FastSAM thread ${i} could not start: ${why}`));
    worker.addEventListener(
      "message",
      ({ data }) => (data?.type === "ready" ? resolve(worker) : fail(data?.message ?? "unknown reply")),
      { once: true },
    );
    worker.addEventListener(
      "error",
      (event) => {
        event.preventDefault();
        fail(event.message || "its script failed to load");
      },
      { once: true },
    );
    worker.postMessage({ module, memory });
  });
}
