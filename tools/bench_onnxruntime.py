"""Times onnxruntime (CPU, one thread) on FastSAM ONNX exports, for comparison with
`cargo run --release --example bench` on the same model and photo.

    python tools/bench_onnxruntime.py MODEL.onnx [MODEL.onnx ...] --image PHOTO.png [--runs 5]

The photo is letterboxed exactly as ultralytics (and this crate) do; timings are the median and
minimum of N runs after 2 warm-up runs, in milliseconds, printed as markdown table rows.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fastsam_reference import letterbox  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--image", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    rgb = cv2.cvtColor(cv2.imread(str(args.image)), cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    print(f"onnxruntime {ort.__version__}, {args.threads} thread(s)")
    for path in args.models:
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        size = session.get_inputs()[0].shape[2]
        lb, _ = letterbox(rgb, size)
        x = (lb.transpose(2, 0, 1)[None].astype(np.float32) / np.float32(255.0)).copy()
        name = session.get_inputs()[0].name
        for _ in range(2):
            session.run(None, {name: x})
        samples = []
        for _ in range(args.runs):
            t = time.perf_counter()
            session.run(None, {name: x})
            samples.append((time.perf_counter() - t) * 1e3)
        print(f"| onnxruntime inference, {path.name} ({w}x{h} photo) | {statistics.median(samples):.1f} | {min(samples):.1f} |")


if __name__ == "__main__":
    main()
