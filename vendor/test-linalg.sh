#!/usr/bin/env bash
# Runs tract-linalg's own tests for the wasm code this project changed, on wasm32-wasip1 with
# SIMD, under Node's WASI (tools/wasi-runner.mjs): the generated kernel suites of every wasm
# matrix-product kernel (packing, fused ops, stores, products against the reference) and the
# dispatch tests. `scripts/test.sh` runs it; extra arguments go to the test binary as filters.
set -euo pipefail
cd "$(dirname "$0")/tract-linalg"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/fastsam-web/target}-linalg
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
export RUSTFLAGS="-C target-feature=+simd128"
# Upstream code, not linted here: no clippy wrapper from scripts/clippy-in-builds.sh.
unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
export CARGO_TARGET_WASM32_WASIP1_RUNNER="node $(pwd)/../../tools/wasi-runner.mjs"
rustup target list --installed | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1
# wasm32-wasip1 aborts on the first panic, so a failing test stops the run. Skipped: one test of
# the published crate that fails under V8 before any change of ours (vendor/README.md).
cargo test --release --target wasm32-wasip1 --lib -- "${@:-wasm}" \
  --skip wasm::by_scalar::tests::edge_values_match_scalar_semantics
