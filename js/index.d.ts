// Types of `fastsam-web`: `FastSam` on the page's thread, the `Segmentation` it hands out and its
// result objects, the options (the same in every build), and the error class.
export type * from "./cpu/fastsam_web_cpu.js";
export { default, FastSam, type BackendChange } from "./fastsam.js";
export {
  Segmentation,
  type EverythingResult,
  type MaskInfo,
  type MaskResult,
  type NoOverlay,
  type PolygonMask,
  type PromptExtras,
  type PromptResult,
  type RleMask,
  type WithoutOverlay,
} from "./segmentation.js";
export { ERROR_CODES, FastSamError, type FastSamErrorCode } from "./errors.js";
