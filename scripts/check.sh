#!/usr/bin/env bash
# The quick loop before a commit: formatting, clippy over every build configuration
# (scripts/lint.sh) and the native unit tests. `npm test` runs all of these and the rest.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/fastsam-web/target}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
source scripts/steps.sh
bash scripts/lint.sh "$@"
step "native unit tests" cargo test --features threads --lib
