#!/usr/bin/env bash
# Formatting and clippy (-D warnings) over every configuration the package builds, in three clippy
# runs that between them compile each `cfg` branch once:
#   1. native and wasm32 together, every engine and the thread pool (`threads` = tract + rayon;
#      with the default `burn` and its `gpu-kernels`): the native tests and examples, the
#      browser tests' two-engine build, and the threaded build's code (which the package builds on
#      nightly);
#   2. wasm32, Burn alone: the WebGPU build (pkg/webgpu/, the `not(feature = "tract")` branches);
#   3. wasm32, tract alone: the CPU build (pkg/cpu/, the `not(feature = "burn")` branches).
# Not linted here: `native-wgpu` (examples/gpu_bench.rs); `scripts/lint.sh --native-wgpu` adds it.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/fastsam-web/target}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
source scripts/steps.sh

native_wgpu=0
for arg in "$@"; do
  case "$arg" in
    --native-wgpu) native_wgpu=1 ;;
    *) echo "usage: $0 [--native-wgpu]" >&2; exit 2 ;;
  esac
done

host=$(rustc -vV | sed -n 's/^host: //p')
step "cargo fmt --check" cargo fmt --check
step "docs: every relative link resolves (scripts/check-docs.mjs)" node scripts/check-docs.mjs
step "wasm builds share their dependencies (scripts/check-feature-sets.mjs)" node scripts/check-feature-sets.mjs
step "clippy: native + wasm32, burn + tract + threads" \
  cargo clippy --target "$host" --target wasm32-unknown-unknown --all-targets --features threads,gpu-kernels -- -D warnings
step "clippy: wasm32, burn alone (WebGPU build)" \
  cargo clippy --target wasm32-unknown-unknown --all-targets --no-default-features --features burn,gpu-kernels -- -D warnings
step "clippy: wasm32, tract alone (CPU build)" \
  cargo clippy --target wasm32-unknown-unknown --all-targets --no-default-features --features tract -- -D warnings
if [ "$native_wgpu" = 1 ]; then
  step "clippy: native, Burn on wgpu" cargo clippy --all-targets --features native-wgpu -- -D warnings
fi
