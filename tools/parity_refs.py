"""Write reference cases for real photos and full-size models (bench / parity checks).

For every (model, image) pair this writes ``<out>/reference/<model stem>__<image stem>.json``
plus the two sampled raw outputs, in the format of tests/fixtures/FORMAT.md, so the Rust
comparer can read ``<out>`` like the fixtures folder. Differences from the fixtures:

* JPEG decoders differ, so each image is decoded here with cv2 and its RGB pixels are written
  losslessly to ``<out>/images/<stem>.png``; the case's ``"image"`` is that PNG, relative to
  ``<out>`` (``images/<stem>.png``);
* ``"model"`` is the absolute path of the ONNX file;
* there is no PyTorch comparison (``torch_vs_onnxruntime_max_abs`` is left out).

The input size of each model is read from its ONNX input shape.

Example:
    python tools/parity_refs.py --models ../shared/models/fastsam-s-bench-640.onnx \\
        ../shared/models/fastsam-s-bench-1024.onnx --images ../shared/images/*.jpg --out target/parity
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

TOOLS = Path(__file__).resolve().parent
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))


def model_input_size(onnx_path: Path) -> int:
    """Square input size S of a static [1, 3, S, S] export."""
    import onnx

    m = onnx.load(str(onnx_path), load_external_data=False)
    dims = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
    if len(dims) != 4 or dims[2] != dims[3] or dims[2] <= 0:
        raise SystemExit(f"{onnx_path}: expected a static [1, 3, S, S] input, got {dims}")
    return int(dims[2])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", required=True, help="ONNX exports (static shape, batch 1)")
    ap.add_argument("--images", nargs="+", required=True, help="image files (JPEG, PNG, ...)")
    ap.add_argument("--out", default="target/parity", help="output folder (default target/parity)")
    ap.add_argument("--limit-images", type=int, default=None, help="use only the first N images (sorted by name)")
    ap.add_argument("--conf", type=float, default=0.4, help="score threshold (default 0.4)")
    ap.add_argument("--iou", type=float, default=0.9, help="NMS IoU threshold (default 0.9)")
    ap.add_argument("--max-det", type=int, default=300, help="detections kept after NMS (default 300)")
    args = ap.parse_args(argv)

    os.environ.setdefault("YOLO_VERBOSE", "False")
    import cv2

    import fastsam_reference as ref

    out = Path(args.out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "reference").mkdir(parents=True, exist_ok=True)
    images = sorted(Path(p) for p in args.images)
    if args.limit_images is not None:
        images = images[: args.limit_images]
    models = [Path(m).resolve() for m in args.models]

    decoded = {}
    for p in images:
        bgr = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if bgr is None:
            raise SystemExit(f"cannot read {p}")
        rgb = np.ascontiguousarray(bgr[..., ::-1])
        png = out / "images" / f"{p.stem}.png"
        cv2.imwrite(str(png), bgr, [cv2.IMWRITE_PNG_COMPRESSION, 6])
        back = cv2.imread(str(png), cv2.IMREAD_COLOR)
        assert back is not None and np.array_equal(back, bgr), f"PNG round trip failed for {png}"
        decoded[p.stem] = rgb

    for m in models:
        size = model_input_size(m)
        for stem, rgb in decoded.items():
            name = f"{m.stem}__{stem}"
            t0 = time.time()
            stats: dict = {}
            case, o0, o1 = ref.make_case(
                m,
                rgb,
                size,
                model_ref=str(m),
                image_ref=f"images/{stem}.png",
                conf=args.conf,
                iou=args.iou,
                max_det=args.max_det,
                stats=stats,
            )
            jp = out / "reference" / f"{name}.json"
            jp.write_text(json.dumps(case, separators=(",", ":")) + "\n")
            np.save(out / "reference" / f"{name}.output0.npy", o0)
            np.save(out / "reference" / f"{name}.output1.npy", o1)
            print(
                f"{name}: {rgb.shape[1]}x{rgb.shape[0]} @{size}, {stats['frac_above_conf']:.3f} of anchors > {args.conf}, "
                f"official {stats['official_detections']} (full-frame {stats['full_frame_replaced']}), "
                f"ultralytics {stats['ultralytics_detections']}, json {jp.stat().st_size / 1e6:.1f} MB, "
                f"{time.time() - t0:.0f} s",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
