#!/usr/bin/env bash
# Builds the npm package into pkg/: release wasm with SIMD (both engines in one single-threaded
# module, plus the one-engine builds the worker loads: pkg/webgpu/, pkg/cpu/, pkg/threaded/), ES
# module bindings that work both from a bundler (webpack 5) and from a plain <script type="module">.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/fastsam-web/target}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
wasm-pack build --release --target web --out-dir pkg --out-name fastsam_web "$@"
# Function names (~5 MB) are debugging aid only: the published module goes without them.
node scripts/strip-wasm-names.mjs pkg/fastsam_web_bg.wasm
# The builds FastSamWorker picks from, so that a page downloads one engine, not both:
#   pkg/webgpu/   the Burn port alone (WebGPU; tract not linked),
#   pkg/cpu/      tract alone, one thread,
#   pkg/threaded/ tract alone on a pool of workers (cross-origin isolated pages).
# Each is a wasm-pack build without package files, its function names stripped like the main one's.
sub_build() {
  local dir=$1 features=$2
  wasm-pack build --release --target web --out-dir "pkg/$dir" --out-name "fastsam_web_$dir" \
    --no-pack -- --no-default-features --features "$features"
  node scripts/strip-wasm-names.mjs "pkg/$dir/fastsam_web_${dir}_bg.wasm"
}
sub_build webgpu burn
sub_build cpu tract
bash scripts/build-wasm-threaded.sh
# wasm-pack writes a .gitignore of '*' into pkg/; the package files are generated, never committed.
node scripts/pkg-metadata.mjs
