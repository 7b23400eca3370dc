// Types of `fastsam-web`: `FastSam` on the page's thread, the wasm classes and options it hands
// out (`Segmentation`, `Mask`: the same in every build), and the error class.
export type * from "./cpu/fastsam_web_cpu.js";
export { default, FastSam, type BackendChange } from "./fastsam.js";
export { ERROR_CODES, FastSamError, type FastSamErrorCode } from "./errors.js";
