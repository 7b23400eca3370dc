#!/usr/bin/env bash
# The end-to-end tests (tests/e2e/) on a `testing`-profile build of the package and demo: builds
# (`npm run build`, skipped with --no-build), then runs the given test files, or all of them:
#   bash scripts/test-e2e.sh tests/e2e/client.test.mjs
#   bash scripts/test-e2e.sh --no-build tests/e2e/demo.test.mjs
set -euo pipefail
cd "$(dirname "$0")/.."
export FASTSAM_WASM_PROFILE=${FASTSAM_WASM_PROFILE:-testing}
build=1
files=()
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    *) files+=("$arg") ;;
  esac
done
[ "${#files[@]}" -gt 0 ] || files=(tests/e2e/)
if [ "$build" = 1 ]; then npm run build; fi
node --test --test-concurrency=1 "${files[@]}"
