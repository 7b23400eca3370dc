// Errors across the worker boundary. Structured cloning keeps only the built-in error names and
// drops extra fields, so errors travel as plain objects and become `Error`s again on arrival.

/**
 * A plain, cloneable copy of `error` (`name`, `message`, `code` when present, `stack`).
 * @param {unknown} error
 * @returns {{name: string, message: string, code?: string, stack?: string}}
 */
export function serializeError(error) {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const plain = { name: error.name, message: error.message, stack: error.stack };
  if (typeof error.code === "string") plain.code = error.code;
  return plain;
}

/**
 * The `Error` that `serializeError` described: same `name`, `message` and `code`.
 * @param {{name: string, message: string, code?: string, stack?: string}} plain
 * @returns {Error}
 */
export function deserializeError(plain) {
  const error = new Error(plain.message);
  error.name = plain.name;
  if (plain.code !== undefined) error.code = plain.code;
  if (plain.stack) error.stack = plain.stack;
  return error;
}
