#!/usr/bin/env bash
# Builds the npm package into pkg/: release wasm with SIMD in three one-engine builds (pkg/webgpu/,
# pkg/cpu/, pkg/threaded/), ES module bindings that work both from a bundler (webpack 5) and from a
# plain <script type="module">, and the package's JavaScript (js/: the main-thread `FastSam`, the
# worker client, the fallback policy both use). Every build with the Burn port has its own GPU
# kernels too (the `gpu-kernels` feature).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/fastsam-web/target}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
# The cargo profile: `release` for publishing; the test suite sets `testing` (no fat LTO, Cargo.toml).
export FASTSAM_WASM_PROFILE=${FASTSAM_WASM_PROFILE:-release}
if [ "$FASTSAM_WASM_PROFILE" = release ]; then profile=(--release); else profile=(--profile "$FASTSAM_WASM_PROFILE"); fi
source scripts/steps.sh

# The package is rebuilt from nothing: no file of an earlier layout stays behind.
rm -rf pkg
mkdir -p pkg
# The builds the package picks from (js/threads.js), so that a page downloads one engine, not both:
#   pkg/webgpu/   the Burn port alone (WebGPU; tract not linked),
#   pkg/cpu/      tract alone, one thread,
#   pkg/threaded/ tract alone on a pool of workers (cross-origin isolated pages).
# Each is a wasm-pack build without package files; function names (~5 MB) are debugging aid only, so
# the published modules go without them.
sub_build() {
  local dir=$1 features=$2
  wasm-pack build "${profile[@]}" --target web --out-dir "pkg/$dir" --out-name "fastsam_web_$dir" \
    --no-pack -- --no-default-features --features "$features"
  node scripts/strip-wasm-names.mjs "pkg/$dir/fastsam_web_${dir}_bg.wasm"
}
step "wasm build: WebGPU alone (pkg/webgpu/)" sub_build webgpu burn,gpu-kernels
step "wasm build: CPU alone (pkg/cpu/)" sub_build cpu tract
step "wasm build: CPU threaded, nightly (pkg/threaded/)" bash scripts/build-wasm-threaded.sh
# The package files (package.json, README, licences, js/) are generated, never committed.
node scripts/pkg-metadata.mjs
