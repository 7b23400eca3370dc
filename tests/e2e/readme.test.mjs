// The README's JavaScript samples, run as written: a page whose import map gives the package's
// import names (`fastsam-web`, `fastsam-web/worker`) the files in pkg/, a canvas holding the test
// picture, and the fixture model and tiny CLIP served under the names the samples use. A block
// that starts with `import` begins a program; a block without imports continues the one before.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { launch, newPage } from "./browser.mjs";
import { DRAW_PICTURE, fixtures, root } from "./files.mjs";
import { serve } from "./server.mjs";

/** The README's `js` code blocks, grouped into programs. */
export function readmePrograms(markdown) {
  const blocks = [...markdown.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((match) => match[1]);
  const programs = [];
  for (const block of blocks) {
    if (/^import\b/m.test(block) || programs.length === 0) programs.push([block]);
    else programs.at(-1).push(block);
  }
  return programs.map((parts) => parts.join("\n"));
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>readme</title><link rel="icon" href="data:,">
<script type="importmap">
  { "imports": {
      "fastsam-web": "/pkg/index.js",
      "fastsam-web/worker": "/pkg/client.js",
      "fastsam-web/webgpu": "/pkg/webgpu/fastsam_web_webgpu.js",
      "fastsam-web/cpu": "/pkg/cpu/fastsam_web_cpu.js" } }
</script>
<canvas width="320" height="240"></canvas>
<script>
  const ctx = document.querySelector("canvas").getContext("2d");
${DRAW_PICTURE}
  window.picture = ctx.getImageData(0, 0, 320, 240).data;
  /** Runs one program as a module; resolves when its top-level awaits are done. */
  window.runProgram = async (code) => {
    const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
    try {
      await import(url);
    } finally {
      URL.revokeObjectURL(url);
    }
  };
  /** How many pixels of the canvas differ from the picture drawn above. */
  window.changedPixels = () => {
    const now = ctx.getImageData(0, 0, 320, 240).data;
    let changed = 0;
    for (let i = 0; i < now.length; i += 4) {
      if (now[i] !== picture[i] || now[i + 1] !== picture[i + 1] || now[i + 2] !== picture[i + 2]) changed++;
    }
    return changed;
  };
</script>`;

/** The README's file names, served from the fixtures. */
const FILES = {
  "models/FastSAM-s.onnx": path.join(fixtures.models, "tiny-640.onnx"),
  "clip/clip-image.onnx": path.join(fixtures.clip, "tiny-clip-image.onnx"),
  "clip/clip-text.onnx": path.join(fixtures.clip, "tiny-clip-text.onnx"),
  "clip/clip-bpe.txt.gz": path.join(fixtures.clip, "clip-bpe.txt.gz"),
};

describe("the README's JavaScript samples", () => {
  const programs = readmePrograms(readFileSync(path.join(root, "README.md"), "utf8"));
  let server;
  let browser;

  before(async () => {
    assert.ok(existsSync(path.join(root, "pkg/client.js")), "pkg/ is missing: run `npm run build` first");
    server = await serve({ "/pkg/": path.join(root, "pkg") }, { pages: { "/": PAGE }, files: FILES });
    // No WebGPU: "auto" runs on the CPU, as on a machine without a GPU (backend.test.mjs covers WebGPU).
    browser = await launch({ webgpu: false });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it("finds the worker and main-thread quick starts", () => {
    assert.ok(programs.length >= 2, `${programs.length} programs`);
    assert.ok(programs.some((p) => p.includes('from "fastsam-web/worker"')));
    assert.ok(programs.some((p) => p.includes('from "fastsam-web"')));
    assert.ok(programs.some((p) => p.includes("loadTextEncoder")), "the text prompt sample runs too");
  });

  for (const [i, program] of programs.entries()) {
    const name = program.match(/from "([^"]+)"/)?.[1] ?? `program ${i + 1}`;
    it(`runs the sample that imports ${name}, drawing masks on the canvas`, async () => {
      const page = await newPage(await browser.newContext());
      try {
        await page.goto(`${server.origin}/`);
        await page.evaluate((code) => window.runProgram(code), program);
        const changed = await page.evaluate(() => window.changedPixels());
        assert.ok(changed > 100, `only ${changed} pixels were drawn`);
        assert.deepEqual(page.pageErrors, []);
        assert.deepEqual(page.consoleErrors, []);
      } finally {
        await page.close();
      }
    });
  }
});
