// What the end-to-end tests share: the repository's fixture folders and their server routes, the
// 320x240 test picture drawn in a page, and inputs the tests make (a corrupt model, a large PNG).
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { deflateSync } from "node:zlib";

/** The repository root. */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** Fixture folders: the tiny models, the tiny CLIP, the test images. */
export const fixtures = {
  models: path.join(root, "tests/fixtures/models"),
  clip: path.join(root, "tests/fixtures/clip"),
  images: path.join(root, "tests/fixtures/images"),
};
/** Server routes for the built package and the fixtures, as the test pages fetch them. */
export const fixtureRoutes = {
  "/pkg/": path.join(root, "pkg"),
  "/fixtures/": fixtures.models,
  "/clip/": fixtures.clip,
  "/images/": fixtures.images,
};

/** The Python reference selection of the text prompt (tools/make_clip_fixtures.py). */
export function textSelection() {
  return JSON.parse(readFileSync(path.join(fixtures.clip, "text_selection.json"), "utf8"));
}

/** Page script that draws the 320x240 test picture (flat background, three solid shapes) on `ctx`. */
export const DRAW_PICTURE = `
  ctx.fillStyle = "#d0c8b0"; ctx.fillRect(0, 0, 320, 240);
  ctx.fillStyle = "#1060c0"; ctx.fillRect(30, 40, 120, 90);
  ctx.fillStyle = "#c03020"; ctx.beginPath(); ctx.arc(230, 150, 55, 0, 2 * Math.PI); ctx.fill();
  ctx.fillStyle = "#208040"; ctx.fillRect(60, 170, 90, 50);
`;

/**
 * Page script that draws the test picture into an offscreen `ctx` and defines `window.picture()`,
 * which returns it as ImageData.
 */
export const PICTURE_SCRIPT = `
  const canvas = new OffscreenCanvas(320, 240);
  const ctx = canvas.getContext("2d");
${DRAW_PICTURE}
  window.picture = () => ctx.getImageData(0, 0, 320, 240);
`;

/** The first 64 KiB of a real model: an ONNX file cut short. */
export function truncatedModel(modelPath) {
  return readFileSync(modelPath).subarray(0, 64 * 1024);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A greyscale PNG of `width` x `height` with diagonal bands (compresses to a few hundred KB even
 * when large).
 * @returns {Buffer}
 */
export function stripedPng(width, height) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale, deflate, no filter method, no interlace
  const rows = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width + 1);
    for (let x = 0; x < width; x++) rows[row + 1 + x] = ((x + y) >> 8) & 1 ? 200 : 40;
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows, { level: 1 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
