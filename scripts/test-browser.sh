#!/usr/bin/env bash
# The browser tests (tests/web.rs and tests/web/) in headless Chromium, through wasm-bindgen's test
# runner and ChromeDriver, built with the `testing` profile (release code without fat LTO; set
# FASTSAM_WASM_PROFILE=release to test the published build's code generation). Arguments go to the
# test binary as filters: `bash scripts/test-browser.sh text_prompt`.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/fastsam-web/target}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
# The runner's limit for the whole test module (not per test): the 15 tests take 4-5 minutes on a
# 2-core machine, SwiftShader included.
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-900}
# What `wasm-pack test --headless --chrome` sets: the runner, browsers only, and the driver
# (the runner starts it headless and reads the browser flags from webdriver.json).
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export WASM_BINDGEN_TEST_ONLY_WEB=1
export CHROMEDRIVER=${CHROMEDRIVER:-$(command -v chromedriver)}
cargo test --target wasm32-unknown-unknown --profile "${FASTSAM_WASM_PROFILE:-testing}" --features gpu-kernels \
  --test web -- "$@"
