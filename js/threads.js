// Picks the wasm build a worker runs, and starts the threaded build's pool of Web Workers.
//
// The threaded build (tract on N threads, CPU only) needs a cross-origin isolated page (for
// SharedArrayBuffer) and runs in this package's Worker, never on a page's main thread. Everything
// else runs the single-threaded build, which also holds the WebGPU path.

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

/** Whether WebGPU has an adapter here (what the "auto" backend would run on). */
async function hasWebGpu() {
  try {
    return Boolean(await globalThis.navigator?.gpu?.requestAdapter());
  } catch {
    return false;
  }
}

/**
 * Which build to load for `backend` and `threads`: `{build: "threaded" | "single", threads,
 * reason?}`, `reason` saying why more than one thread was wanted but the single build is used.
 * @param {{backend?: string, threads?: number}} options
 */
export async function chooseBuild({ backend = "auto", threads = defaultThreads() }) {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`threads must be a whole number of at least 1, not ${threads}`);
  }
  if (threads === 1) return { build: "single", threads };
  const unavailable = threadsUnavailable();
  if (unavailable) return { build: "single", threads: 1, reason: unavailable };
  if (backend === "webgpu") return { build: "single", threads: 1, reason: "WebGPU runs on the single-threaded build" };
  if (backend === "auto" && (await hasWebGpu())) {
    return { build: "single", threads: 1, reason: "WebGPU is available and runs on the single-threaded build" };
  }
  return { build: "threaded", threads };
}

/**
 * The wasm builds this context has loaded, by name: each is imported and instantiated at most
 * once (a wasm instance's thread pool cannot be rebuilt); a failed load is forgotten, so a later
 * call retries.
 * @type {Record<string, Promise<{glue: any, threads: number}>>}
 */
const builds = {};

/**
 * Imports and instantiates a build, `"single"` or `"threaded"` (the latter with its pool of
 * `threads` workers). Resolves to `{glue, threads}`: the build's bindings and its thread count.
 */
export function loadBuild(build, threads = 1) {
  builds[build] ??= (async () => {
    if (build === "single") {
      const glue = await import("./fastsam_web.js");
      await glue.default();
      return { glue, threads: 1 };
    }
    const glue = await import("./threaded/fastsam_web_threaded.js");
    await glue.default();
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
