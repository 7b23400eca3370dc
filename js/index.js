// The package's main entry, `import ... from "fastsam-web"`: the wasm API (`default` to initialise,
// `FastSam`, `Segmentation`, `Mask`) and the error class every call throws.
export * from "./fastsam_web.js";
export { default } from "./fastsam_web.js";
export { ERROR_CODES, FastSamError } from "./errors.js";
