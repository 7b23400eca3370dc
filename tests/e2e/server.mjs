// A tiny static file server for the end-to-end tests: URL prefixes mapped to folders, a request
// count per path, and an optional slow path that streams in small pieces (to watch progress).
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".jpg": "image/jpeg",
  ".png": "image/png",
  ".onnx": "application/octet-stream",
};

/** What a server sends for `crossOriginIsolated` pages (SharedArrayBuffer, wasm threads). */
export const ISOLATION_HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
};

/**
 * Serves `routes` (`{"/prefix/": "/abs/folder", ...}`, longest prefix first) on 127.0.0.1.
 * @param {Record<string, string>} routes
 * @param {{slow?: RegExp, pages?: Record<string, string>, files?: Record<string, string>,
 *   isolated?: boolean}} [options] `slow`: paths sent in 16 pieces over about half a second;
 *   `pages`: extra HTML pages by path; `files`: single files by path (without the leading `/`);
 *   `isolated`: send the headers that make pages cross-origin isolated (threads)
 * @returns {Promise<{origin: string, hits: Map<string, number>, close: () => Promise<void>}>}
 */
export async function serve(routes, { slow, pages = {}, files = {}, isolated = false } = {}) {
  const isolation = isolated ? ISOLATION_HEADERS : {};
  const prefixes = Object.keys(routes).sort((a, b) => b.length - a.length);
  const hits = new Map();
  const server = createServer(async (request, response) => {
    const url = new URL(request.url, "http://localhost");
    const pathname = decodeURIComponent(url.pathname);
    hits.set(pathname, (hits.get(pathname) ?? 0) + 1);
    if (pages[pathname] !== undefined) {
      response.writeHead(200, { "Content-Type": TYPES[".html"], ...isolation }).end(pages[pathname]);
      return;
    }
    const prefix = prefixes.find((p) => pathname.startsWith(p));
    const relative = prefix === undefined ? null : pathname.slice(prefix.length) || "index.html";
    const routed = relative === null ? null : path.join(routes[prefix], relative);
    const named = Object.hasOwn(files, pathname.slice(1)) ? files[pathname.slice(1)] : null;
    const file = named ?? (routed?.startsWith(routes[prefix]) ? routed : null);
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    let body;
    try {
      body = await readFile(file);
    } catch {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, {
      "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream",
      "Content-Length": body.length,
      "Cache-Control": "no-store",
      ...isolation,
    });
    if (slow?.test(pathname)) await trickle(response, body);
    else response.end(body);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function trickle(response, body) {
  const piece = Math.ceil(body.length / 16);
  for (let start = 0; start < body.length; start += piece) {
    response.write(body.subarray(start, start + piece));
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  response.end();
}
