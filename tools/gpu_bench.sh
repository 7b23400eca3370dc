#!/usr/bin/env bash
# GPU timings of the Burn port on native wgpu/Vulkan, run on a lent GPU machine (the `device` tool's
# `run`). Prepare here, then carry `.gl` (the Vulkan loader) and `devbench/`:
#
#   bash tools/gpu_bench.sh prepare     # here: build, full-size model skeletons, photo
#   bash tools/gpu_bench.sh run         # there: fill the skeletons, time each model, --check
#
# FastSAM-s runs with the calibrated weights of ../shared/models/fastsam-s-bench.pt (its 640 export
# travels in fp16; the 1024 file is a skeleton filled from it); FastSAM-x with seeded noise (speed
# does not depend on the values; tools/bench_skeleton.py). Peak GPU memory is `nvidia-smi`'s
# memory.used sampled every 50 ms while each model runs, minus what was used before it started.
set -uo pipefail
cd "$(dirname "$0")/.."
D=devbench
case "${1:-}" in
prepare)
  set -e
  PY=${PYTHON:-python3}
  mkdir -p $D .gl
  for s in 640 1024; do
    [ -f $D/x-$s.skel.onnx ] || $PY tools/bench_skeleton.py make --scale x --imgsz $s --out $D/x-$s.skel.onnx
  done
  [ -f $D/s-640-half.onnx ] || $PY tools/convert.py ../shared/models/fastsam-s-bench.pt --imgsz 640 --half --no-simplify --out $D/s-640-half.onnx
  [ -f $D/s-1024.skel.onnx ] || $PY tools/bench_skeleton.py strip ../shared/models/fastsam-s-bench-1024.onnx $D/s-1024.skel.onnx
  $PY -c "from PIL import Image; Image.open('../shared/images/dogs.jpg').convert('RGB').save('$D/dogs.png')"
  (o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
   mkdir -p /tmp/amd64/partial; apt-get $o update >/dev/null; cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
  T=${CARGO_TARGET_DIR:-$HOME/.cache/fastsam-web/target-gpu}
  CARGO_TARGET_DIR=$T CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_PANIC=unwind \
    cargo build --release --no-default-features --features native-wgpu --example gpu_bench
  strip -o $D/gpu_bench "$T/release/examples/gpu_bench"
  xz -f -T2 $D/gpu_bench
  # The same with Burn's autotune and kernel fusion, which the crate does not switch on.
  CARGO_TARGET_DIR=$T CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_PANIC=unwind \
    cargo build --release --no-default-features --features native-wgpu,burn-tensor/autotune,burn-tensor/fusion --example gpu_bench
  strip -o $D/gpu_bench_tuned "$T/release/examples/gpu_bench"
  xz -f -T2 $D/gpu_bench_tuned
  du -sh $D .gl
  ;;
run)
  OUT=${OUT:-target/gpu-bench}
  mkdir -p "$OUT"
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  [ -f $icd ] && export VK_DRIVER_FILES=$icd
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 tools/bench_skeleton.py fill $D/s-1024.skel.onnx /tmp/s-1024.onnx --from $D/s-640-half.onnx
  for s in 640 1024; do python3 tools/bench_skeleton.py fill $D/x-$s.skel.onnx /tmp/x-$s.onnx; done
  rc=0
  # gpu_bench: Burn as the crate builds it (no autotune, no fusion); gpu_bench_tuned, if carried:
  # built with `--features native-wgpu,burn-tensor/autotune,burn-tensor/fusion`.
  for packed in $D/gpu_bench*.xz; do
    bin=${packed%.xz}
    python3 -c "import lzma,shutil; shutil.copyfileobj(lzma.open('$packed'), open('$bin','wb'))"
    chmod +x "$bin"
    echo "## $(basename "$bin")"
    for m in $D/s-640-half.onnx /tmp/s-1024.onnx /tmp/x-640.onnx /tmp/x-1024.onnx; do
      # Burn's convolution kernel and the port's tiled one (src/model/kernels/tiled.rs).
      for conv in burn tiled; do
        before=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits)
        nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 50 -f "$OUT/mem.txt" &
        sampler=$!
        "$bin" "$m" --image $D/dogs.png --runs ${RUNS:-20} --check --conv $conv || rc=1
        kill "$sampler"
        wait "$sampler" 2>/dev/null
        peak=$(sort -n "$OUT/mem.txt" | tail -1)
        echo "peak GPU memory of $(basename "$m") ($conv conv): $((peak - before)) MiB above the $before MiB in use before"
      done
    done
  done
  # Per layer, both kernels (gpu_bench --layers), on the crate's build.
  for m in $D/s-640-half.onnx /tmp/x-1024.onnx; do
    $D/gpu_bench "$m" --image $D/dogs.png --runs ${RUNS:-20} --layers || rc=1
  done
  exit $rc
  ;;
*)
  echo "usage: $0 prepare|run" >&2
  exit 2
  ;;
esac
