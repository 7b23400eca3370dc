#!/usr/bin/env bash
# Parity of this crate with onnxruntime + ultralytics on the full-size bench models and real photos
# in ../shared: writes reference cases with tools/parity_refs.py (ultralytics' predictor on the same
# ONNX), then compares with examples/parity.rs. Needs the Python tools (tools/requirements.txt).
#
#   PYTHON=.venv/bin/python bash tools/parity.sh [extra parity_refs.py args, e.g. --limit-images 2]
#   ENGINE=burn bash tools/parity.sh      # the Burn port instead of tract, also compared with tract
#   REFS=skip ENGINE=burn bash tools/parity.sh   # reuse the references already in $OUT
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
SHARED=${SHARED:-../shared}
OUT=${OUT:-target/parity}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/fastsam-web/target}
ENGINE=${ENGINE:-tract}
[ "${REFS:-}" = skip ] || "$PYTHON" tools/parity_refs.py \
  --models "$SHARED/models/fastsam-s-bench-640.onnx" "$SHARED/models/fastsam-s-bench-1024.onnx" \
  --images "$SHARED"/images/*.jpg --out "$OUT" "$@"
cargo run --release --example parity -- "$OUT" --engine "$ENGINE"
