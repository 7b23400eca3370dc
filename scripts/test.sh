#!/usr/bin/env bash
# Every test: native Rust (unit, fixture parity, error handling) and the same API through JS in
# headless Chromium (wasm-pack test). Run scripts/setup.sh --browser first on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/fastsam-web/target}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-300}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "cargo fmt --check"
cargo fmt --check
step "cargo clippy (native and wasm32, -D warnings)"
cargo clippy --all-targets -- -D warnings
cargo clippy --target wasm32-unknown-unknown --all-targets -- -D warnings
# The threaded wasm build's configuration (no Burn, thread pool): scripts/build-wasm-threaded.sh.
cargo clippy --target wasm32-unknown-unknown --all-targets --no-default-features --features threads -- -D warnings
# The one-engine builds the worker loads (scripts/build-wasm.sh): WebGPU alone, CPU alone.
cargo clippy --target wasm32-unknown-unknown --all-targets --no-default-features --features burn -- -D warnings
cargo clippy --target wasm32-unknown-unknown --all-targets --no-default-features --features tract -- -D warnings
step "native tests"
cargo test --features threads
step "tract-linalg's tests of the vendored wasm kernels (wasm32-wasip1, Node WASI)"
bash vendor/test-linalg.sh
step "browser tests (headless Chromium)"
wasm-pack test --release --headless --chrome
step "end-to-end tests (demo and worker client in headless Chromium)"; npm run test:e2e
step "benchmark page smoke run (fixture model, every row once; no timing asserted)"; node scripts/bench.mjs --smoke --no-build
