#!/usr/bin/env bash
# Fast pre-commit check: formatting and clippy (native and wasm32). `npm test` runs these too.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/fastsam-web/target}
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo clippy --target wasm32-unknown-unknown --all-targets -- -D warnings
# The threaded wasm build's configuration (no Burn, thread pool): scripts/build-wasm-threaded.sh.
cargo clippy --target wasm32-unknown-unknown --all-targets --no-default-features --features threads -- -D warnings
# The one-engine builds the worker loads (scripts/build-wasm.sh): WebGPU alone, CPU alone.
cargo clippy --target wasm32-unknown-unknown --all-targets --no-default-features --features burn -- -D warnings
cargo clippy --target wasm32-unknown-unknown --all-targets --no-default-features --features tract -- -D warnings
# The Burn port natively on wgpu (examples/gpu_bench.rs, the real-GPU timings).
cargo clippy --all-targets --features native-wgpu -- -D warnings
