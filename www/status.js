// What the page tells the user: the status line, model download progress and the timings table.

const $ = (id) => document.getElementById(id);

/**
 * Shows `text` in the status line.
 * @param {string} text
 */
export function say(text) {
  const status = $("status");
  status.textContent = text;
  status.classList.remove("error");
}

/**
 * Shows a failure as a sentence; the page stays as it was.
 * @param {string} what what was being done, e.g. "Could not load “a.onnx”"
 * @param {Error} error
 */
export function fail(what, error) {
  const status = $("status");
  status.textContent = `${what}: ${explain(error)}`;
  status.classList.add("error");
}

/** A sentence for the user from a FastSamError code, or the error's own message. */
function explain(error) {
  switch (error?.code) {
    case "INVALID_MODEL":
      return `this is not a FastSAM ONNX model (${error.message})`;
    case "INVALID_IMAGE":
      return `the image cannot be segmented (${error.message})`;
    case "INFERENCE_FAILED":
      return `the model failed to run (${error.message})`;
    case "NO_WEBGPU":
      return `WebGPU cannot be used here: choose the CPU backend (${error.message})`;
    case "GPU_LOST":
      return `the GPU failed: load the model again, or on the CPU (${error.message})`;
    case "DOWNLOAD_FAILED":
      return `the file could not be downloaded (${error.message})`;
    default:
      return error?.name === "AbortError" ? "cancelled" : (error?.message ?? String(error));
  }
}

const megabytes = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * Shows a model loading event (`FastSamWorker` progress) under the model controls.
 * @param {import("../js/client.js").ProgressInfo} info
 */
export function showProgress(info) {
  const text = $("model-progress-text");
  const bar = $("model-bar");
  $("model-progress").hidden = false;
  switch (info.status) {
    case "initiate":
    case "download":
      bar.removeAttribute("value");
      text.textContent = "Connecting…";
      break;
    case "progress":
      if (info.progress === null) bar.removeAttribute("value");
      else bar.value = info.progress;
      text.textContent =
        info.total === null
          ? `${megabytes(info.loaded)} downloaded`
          : `${megabytes(info.loaded)} of ${megabytes(info.total)} (${Math.floor(info.progress)} %)`;
      break;
    case "done":
      if (info.cached) text.textContent = "Read from the browser cache.";
      break;
    case "compiling":
      bar.removeAttribute("value");
      text.textContent = "Preparing the model…";
      break;
    case "ready":
      showModel(info);
      break;
  }
}

/**
 * Describes the loaded model under the model controls (and hides the progress bar).
 * @param {import("../js/client.js").ModelInfo | null} model null: none is loaded
 */
export function showModel(model) {
  $("model-progress").hidden = true;
  $("model-progress-text").textContent = model
    ? `${model.cached ? "From the cache: " : ""}${fileName(model.file)}, ${model.inputSize} px input, ${model.dtype} weights.`
    : "";
}

/** The last path segment of a URL or file name. */
export function fileName(file) {
  return decodeURIComponent(String(file).split(/[/?#]/).filter(Boolean).at(-1) ?? file);
}

/**
 * Fills the timings table; fields left out keep their value.
 * @param {{model?: {backend: string, engine: string, threads?: number}, masks?: number, preprocessMs?: number,
 *   inferenceMs?: number, postprocessMs?: number, promptMs?: number | null, renderMs?: number}} stats
 */
export function showStats(stats) {
  const ms = (v) => `${v.toFixed(v < 10 ? 1 : 0)} ms`;
  if (stats.model !== undefined) $("stat-backend").textContent = backendName(stats.model);
  if (stats.masks !== undefined) $("stat-masks").textContent = String(stats.masks);
  if (stats.preprocessMs !== undefined) $("stat-preprocess").textContent = ms(stats.preprocessMs);
  if (stats.inferenceMs !== undefined) $("stat-inference").textContent = ms(stats.inferenceMs);
  if (stats.postprocessMs !== undefined) $("stat-postprocess").textContent = ms(stats.postprocessMs);
  if (stats.promptMs !== undefined) {
    $("stat-prompt").textContent =
      stats.promptMs === null ? "–" : `${ms(stats.promptMs)} (+ ${ms(stats.renderMs)} drawing)`;
  }
}

/** "WebGPU (engine)" or "CPU (engine, N threads)" for a loaded model. */
function backendName({ backend, engine, threads = 1 }) {
  const where = backend === "webgpu" ? "WebGPU" : backend.toUpperCase();
  return `${where} (${engine}${threads > 1 ? `, ${threads} threads` : ""})`;
}
