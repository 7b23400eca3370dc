// The package's one error class, and errors across the worker boundary. Structured cloning keeps
// only the built-in error names and drops extra fields, so errors travel as plain objects and
// become `FastSamError`s again on arrival.

/**
 * Every `code` a `FastSamError` carries. The wasm module raises the first seven; the worker client
 * adds the others.
 */
export const ERROR_CODES = Object.freeze([
  "INVALID_MODEL", // the bytes are no FastSAM (or CLIP) ONNX model this package can run
  "INVALID_IMAGE", // empty, too large, or pixels that do not match the size
  "INVALID_PROMPT", // a point, box, mask index or sentence that cannot be used
  "INVALID_OPTION", // an unknown option, or a value out of its range
  "INFERENCE_FAILED", // the engine failed while running a model it had accepted
  "NO_WEBGPU", // WebGPU is unusable here and the call could not go to the CPU
  "GPU_LOST", // the GPU failed during a run and the model could not move to the CPU
  "NO_MODEL", // a FastSamWorker request that needs a model before load() succeeded
  "FREED", // a request on a segmentation that was freed
  "WORKER_CLOSED", // the FastSamWorker was terminated, or its worker failed
  "DOWNLOAD_FAILED", // a model or text-encoder file could not be downloaded
]);

/**
 * What this package throws and rejects with: an `Error` named `FastSamError` with a `code` from
 * {@link ERROR_CODES}. `instanceof FastSamError` holds for every such error, whichever of the
 * package's wasm builds or workers raised it (they make plain `Error`s with that name and a code).
 */
export class FastSamError extends Error {
  /**
   * @param {string} code one of {@link ERROR_CODES}
   * @param {string} message what went wrong and what to do about it
   * @param {{cause?: unknown}} [options]
   */
  constructor(code, message, options) {
    super(message, options);
    this.name = "FastSamError";
    this.code = code;
  }

  /** True for any `Error` named `FastSamError` that has a string `code`. */
  static [Symbol.hasInstance](value) {
    return value instanceof Error && value.name === "FastSamError" && typeof value.code === "string";
  }
}

/**
 * A plain, cloneable copy of `error` (`name`, `message`, `code` and `reason` when present, `stack`).
 * @param {unknown} error
 * @returns {{name: string, message: string, code?: string, reason?: string, stack?: string}}
 */
export function serializeError(error) {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const plain = { name: error.name, message: error.message, stack: error.stack };
  if (typeof error.code === "string") plain.code = error.code;
  if (typeof error.reason === "string") plain.reason = error.reason;
  return plain;
}

/**
 * The error that `serializeError` described: a `FastSamError` when it was one, else an `Error`
 * with the same `name` (and `code`, if any).
 * @param {{name: string, message: string, code?: string, reason?: string, stack?: string}} plain
 * @returns {Error}
 */
export function deserializeError(plain) {
  let error;
  if (plain.name === "FastSamError" && typeof plain.code === "string") {
    error = new FastSamError(plain.code, plain.message);
  } else {
    error = new Error(plain.message);
    error.name = plain.name;
    if (plain.code !== undefined) error.code = plain.code;
  }
  if (plain.reason !== undefined) error.reason = plain.reason;
  if (plain.stack) error.stack = plain.stack;
  return error;
}
