// Model downloads with progress events, kept in the Cache API so that a reload does not download
// the same model again. The worker downloads; pages may ask what is cached or clear it.
import { FastSamError } from "./errors.js";

/** Name of the Cache API cache that models go to unless told otherwise. */
export const DEFAULT_CACHE = "fastsam-web-models";

/** Models are cached only when the Cache API exists (secure contexts: https, localhost). */
const hasCaches = () => typeof caches !== "undefined";

/**
 * Downloads `url`, reporting progress in the transformers.js style; a copy found in `cacheName`
 * is used without touching the network (one `progress` event at 100 %).
 * @param {string} url absolute URL
 * @param {{cacheName?: string | null, signal?: AbortSignal, onProgress: (info: object) => void}} options
 *   `cacheName` null: do not look in the cache
 * @returns {Promise<{bytes: Uint8Array, cached: boolean}>}
 */
export async function fetchModel(url, { cacheName, signal, onProgress }) {
  const file = url;
  onProgress({ status: "initiate", file });
  const hit = cacheName && hasCaches() ? await (await caches.open(cacheName)).match(url) : undefined;
  if (hit) {
    const bytes = new Uint8Array(await hit.arrayBuffer());
    const size = bytes.byteLength;
    onProgress({ status: "progress", file, loaded: size, total: size, progress: 100 });
    onProgress({ status: "done", file, cached: true });
    return { bytes, cached: true };
  }
  onProgress({ status: "download", file });
  const response = await fetch(url, { signal }).catch((error) => {
    if (error?.name === "AbortError") throw error;
    throw new FastSamError(
      "DOWNLOAD_FAILED",
      `Downloading ${url} failed (offline, or a server that refuses cross-origin requests?)`,
      { cause: error },
    );
  });
  if (!response.ok) {
    const status = `HTTP ${response.status} ${response.statusText}`.trim();
    throw new FastSamError("DOWNLOAD_FAILED", `Downloading ${url} failed: ${status}`);
  }
  const bytes = await readWithProgress(response, (loaded, total) =>
    onProgress({
      status: "progress",
      file,
      loaded,
      total,
      progress: total ? Math.min(100, (loaded / total) * 100) : null,
    }),
  );
  onProgress({ status: "done", file, cached: false });
  return { bytes, cached: false };
}

/**
 * The whole body of `response`, calling `report(loaded, total)` per chunk (`total` null when the
 * server sends no Content-Length).
 * @param {Response} response
 * @param {(loaded: number, total: number | null) => void} report
 * @returns {Promise<Uint8Array>}
 */
async function readWithProgress(response, report) {
  const length = Number(response.headers.get("Content-Length"));
  const total = length > 0 && !response.headers.get("Content-Encoding") ? length : null;
  const chunks = [];
  let loaded = 0;
  report(0, total);
  const reader = response.body.getReader();
  for (let part = await reader.read(); !part.done; part = await reader.read()) {
    chunks.push(part.value);
    loaded += part.value.byteLength;
    report(loaded, total);
  }
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * Keeps `bytes` under `url` in the cache `cacheName`. Caching is an optimisation: where the Cache
 * API is missing, full or refuses, the model is simply not kept.
 * @param {string} url
 * @param {Uint8Array} bytes
 * @param {string} cacheName
 * @returns {Promise<void>}
 */
export async function storeModel(url, bytes, cacheName) {
  if (!hasCaches()) return;
  const headers = { "Content-Type": "application/octet-stream", "Content-Length": String(bytes.byteLength) };
  try {
    await (await caches.open(cacheName)).put(url, new Response(bytes, { headers }));
  } catch {
    // Not kept: the next load downloads it again.
  }
}

/**
 * Whether the model at `url` is in the cache, so loading it costs no download.
 * @param {string | URL} url resolved against the page's URL
 * @param {string} [cacheName]
 * @returns {Promise<boolean>}
 */
export async function isModelCached(url, cacheName = DEFAULT_CACHE) {
  if (!hasCaches()) return false;
  const absolute = new URL(url, globalThis.location?.href).href;
  return (await (await caches.open(cacheName)).match(absolute)) !== undefined;
}

/**
 * Deletes every cached model.
 * @param {string} [cacheName]
 * @returns {Promise<boolean>} whether there was a cache to delete
 */
export async function clearModelCache(cacheName = DEFAULT_CACHE) {
  return hasCaches() ? caches.delete(cacheName) : false;
}
