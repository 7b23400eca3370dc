// Builds the demo page (www/) against the npm package in pkg/ (run `npm run build:wasm` first;
// `npm start` and `npm run build` do). The worker, the wasm module, the stylesheet and the sample
// photos are found through `new URL(..., import.meta.url)` and `import`, and emitted with hashes.
import path from "node:path";
import { fileURLToPath } from "node:url";
import HtmlWebpackPlugin from "html-webpack-plugin";

const root = path.dirname(fileURLToPath(import.meta.url));

export default (env, argv) => ({
  entry: { demo: "./www/index.js" },
  output: {
    path: path.join(root, "dist"),
    filename: "[name].[contenthash].js",
    assetModuleFilename: "[name].[contenthash][ext]",
    clean: true,
  },
  experiments: { css: true },
  devtool: argv.mode === "production" ? false : "source-map",
  performance: { hints: false },
  plugins: [new HtmlWebpackPlugin({ template: "./www/index.html" })],
  devServer: {
    port: Number(process.env.PORT || 8080),
    host: process.env.HOST || "localhost",
    client: { overlay: { warnings: false } },
    // Cross-origin isolation lets the CPU path use the threaded build (SharedArrayBuffer). Models
    // and images from other origins then need CORS (or Cross-Origin-Resource-Policy) headers.
    headers: {
      "Cross-Origin-Opener-Policy": "same-origin",
      "Cross-Origin-Embedder-Policy": "require-corp",
      "Cross-Origin-Resource-Policy": "same-origin",
    },
  },
});
