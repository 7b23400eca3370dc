// One thread of the threaded build's pool (started by threads.js): instantiates the threaded
// wasm on the shared module and memory it is sent, says so, then lends itself to rayon for good
// (`runPoolThread` only returns if the pool is torn down).
import init, { runPoolThread } from "./threaded/fastsam_web_threaded.js";

self.addEventListener(
  "message",
  async ({ data }) => {
    try {
      await init({ module_or_path: data.module, memory: data.memory });
    } catch (error) {
      self.postMessage({ type: "failed", message: String(error?.message ?? error) });
      return;
    }
    self.postMessage({ type: "ready" });
    runPoolThread();
  },
  { once: true },
);
