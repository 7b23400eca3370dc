#!/usr/bin/env bash
# Builds the npm package into pkg/: release wasm with SIMD (single-threaded, and threaded in pkg/threaded/), ES module bindings that work both from a
# bundler (webpack 5) and from a plain <script type="module">.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/fastsam-web/target}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
wasm-pack build --release --target web --out-dir pkg --out-name fastsam_web "$@"
# Function names (~5 MB) are debugging aid only: the published module goes without them.
node scripts/strip-wasm-names.mjs pkg/fastsam_web_bg.wasm
# The threaded CPU build the worker runs on cross-origin isolated pages, into pkg/threaded/.
# FASTSAM_SINGLE_ONLY=1 skips it (the worker then always runs the single-threaded build).
if [ "${FASTSAM_SINGLE_ONLY:-0}" != 1 ]; then
  bash scripts/build-wasm-threaded.sh
else
  rm -rf pkg/threaded
fi
# wasm-pack writes a .gitignore of '*' into pkg/; the package files are generated, never committed.
node scripts/pkg-metadata.mjs
