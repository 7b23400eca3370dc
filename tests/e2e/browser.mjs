// Headless Debian Chromium through playwright-core (no browser download needed).
import { chromium } from "playwright-core";

/** The Chromium binary; CHROMIUM overrides it. */
const EXECUTABLE = process.env.CHROMIUM ?? "/usr/bin/chromium";

/**
 * Launches headless Chromium with the network quiet, and WebGPU allowed unless `webgpu` is false
 * (then `navigator.gpu.requestAdapter()` resolves to null, as on a machine without a usable GPU).
 * @param {{webgpu?: boolean}} [options]
 * @returns {Promise<import("playwright-core").Browser>}
 */
export function launch({ webgpu = true } = {}) {
  return chromium.launch({
    executablePath: EXECUTABLE,
    headless: true,
    args: [
      "--no-sandbox",
      ...(webgpu ? ["--enable-unsafe-webgpu"] : []),
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
}

/**
 * A new page that fails the test on any uncaught page error, and keeps console errors in
 * `page.consoleErrors` (the demo should print none).
 * @param {import("playwright-core").BrowserContext} context
 */
export async function newPage(context) {
  const page = await context.newPage();
  page.pageErrors = [];
  page.consoleErrors = [];
  page.on("pageerror", (error) => page.pageErrors.push(error));
  page.on("console", (message) => {
    if (message.type() === "error") page.consoleErrors.push(message.text());
  });
  return page;
}
