// Types of `fastsam-web`: the wasm API and the error class.
export * from "./fastsam_web.js";
export { default } from "./fastsam_web.js";
export { ERROR_CODES, FastSamError, type FastSamErrorCode } from "./errors.js";
