// The package's main entry, `import ... from "fastsam-web"`: `FastSam` on the page's own thread
// (on the one-engine build it needs, with the fallback policy `FastSamWorker` uses) and the error
// class every call throws.
export { default, FastSam } from "./fastsam.js";
export { Segmentation } from "./segmentation.js";
export { ERROR_CODES, FastSamError } from "./errors.js";
