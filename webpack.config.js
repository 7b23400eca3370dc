// Builds the demo page (www/) against the wasm package in pkg/ (run `npm run build:wasm` first;
// `npm start` and `npm run build` do).
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
  devtool: argv.mode === "production" ? false : "source-map",
  performance: { hints: false },
  plugins: [new HtmlWebpackPlugin({ template: "./www/index.html" })],
  devServer: {
    port: Number(process.env.PORT || 8080),
    host: process.env.HOST || "localhost",
    static: [{ directory: path.join(root, "www/static"), publicPath: "/static" }],
    client: { overlay: { warnings: false } },
  },
});
