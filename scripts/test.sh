#!/usr/bin/env bash
# Every test: formatting, clippy (inside the builds: scripts/clippy-in-builds.sh), native Rust (unit,
# fixture parity, error handling), the Burn port on native wgpu (lavapipe), tract-linalg's wasm kernel
# tests, the API through JS in headless Chromium, the package's TypeScript declarations (tsc --strict), the package and demo end to end,
# and a smoke run of the benchmark page. Prints each step's time and a table at the end
# (scripts/steps.sh).
# Run scripts/setup.sh --browser first on a fresh machine. docs/building.md has the quicker loops.
#
# The wasm builds here use the `testing` cargo profile (release code, no fat LTO): the same code
# paths as the published package, built in a fraction of the time and memory.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/fastsam-web/target}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-900}
export FASTSAM_WASM_PROFILE=${FASTSAM_WASM_PROFILE:-testing}
source scripts/steps.sh

step "cargo fmt --check" cargo fmt --check
step "docs: every relative link resolves (scripts/check-docs.mjs)" node scripts/check-docs.mjs
step "wasm builds share their dependencies (scripts/check-feature-sets.mjs)" node scripts/check-feature-sets.mjs
# Clippy lints this crate inside the builds below (the configurations of scripts/lint.sh).
source scripts/clippy-in-builds.sh
step "native tests (+ clippy: native, every target)" cargo test --features threads
step "Burn port on native wgpu vs Burn's CPU backend (lavapipe: Vulkan on the CPU)" \
  env FASTSAM_REQUIRE_VULKAN=1 cargo test --no-default-features --features native-wgpu --test burn_wgpu
step "tract-linalg's wasm kernel tests (wasm32-wasip1, Node WASI)" bash vendor/test-linalg.sh
step "browser tests in headless Chromium (+ clippy: wasm32, both engines)" bash scripts/test-browser.sh
step "package and demo build, npm run build (+ clippy: wasm32, each engine alone)" npm run build
step "TypeScript declarations under --strict (tsc -p tests/types)" npx --no-install tsc -p tests/types
step "end-to-end tests (demo, worker client, threads, README samples in headless Chromium)" bash scripts/test-e2e.sh --no-build
step "benchmark page smoke run (fixture model, every row once; no timing asserted)" \
  node scripts/bench.mjs --smoke --no-build
