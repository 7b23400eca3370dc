// Types of the package's error class (errors.js).

/** Every `code` a `FastSamError` carries. */
export type FastSamErrorCode =
  | "INVALID_MODEL"
  | "INVALID_IMAGE"
  | "INVALID_PROMPT"
  | "INVALID_OPTION"
  | "INFERENCE_FAILED"
  | "NO_WEBGPU"
  | "GPU_LOST"
  | "NO_MODEL"
  | "FREED"
  | "WORKER_CLOSED"
  | "DOWNLOAD_FAILED";

/** The codes, in the order of {@link FastSamErrorCode}. */
export declare const ERROR_CODES: readonly FastSamErrorCode[];

/**
 * What this package throws and rejects with. `instanceof FastSamError` holds for every such error,
 * whichever of the package's wasm builds or workers raised it.
 */
export declare class FastSamError extends Error {
  constructor(code: FastSamErrorCode, message: string, options?: { cause?: unknown });
  name: "FastSamError";
  /** What kind of failure this is; the message says what to do about it. */
  code: FastSamErrorCode;
  /** For `NO_WEBGPU` and `GPU_LOST` from the wasm builds: what failed, without the advice of the
   *  message (the words the CPU fallback's reason quotes). */
  reason?: string;
}
