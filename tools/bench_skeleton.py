"""Full-size FastSAM-s/x ONNX files for GPU timing, carried to a machine as a few hundred kilobytes.

A full-size export is 47 MB (FastSAM-s) or 275 MB (FastSAM-x), too large to send to a lent GPU
machine. Speed does not depend on the weight values, so this tool sends the graph without them:

    # here (ultralytics installed): a seeded random-init YOLOv8-seg export, then its skeleton
    python tools/bench_skeleton.py make --scale x --imgsz 640 --out devbench/x-640.skel.onnx
    # there (numpy + onnx only): the weights again, seeded normal noise scaled by 1/sqrt(fan-in)
    python3 tools/bench_skeleton.py fill devbench/x-640.skel.onnx /tmp/x-640.onnx
    # FastSAM-s at 1024 with the calibrated weights of the 640 file that travels whole
    python3 tools/bench_skeleton.py fill devbench/s-1024.skel.onnx /tmp/s-1024.onnx --from devbench/s-640-half.onnx

`strip` makes a skeleton of any export. Small initializers (biases are not small: only tensors of at
most 64 values, like the DFL kernel and shape constants) keep their data. The filled weights give
output of the right shapes and plausible ranges (see GAIN); the masks mean nothing.
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
from pathlib import Path

KEEP_AT_MOST = 64  # initializers this small keep their values (DFL arange, shape constants)
# Noise weights: std GAIN / sqrt(fan-in) keeps activations of FastSAM-x from fading to a constant
# through its SiLU layers (1.0 fades; 1.7 overflows through the residual sums). With the score
# convolutions' bias at CLS_BIAS every score lands just above the 0.4 threshold (0.47-0.50 on two
# photos, measured with onnxruntime), so NMS keeps its maximum of 300 detections and post-processing
# assembles 300 masks: the most a photo can give.
GAIN = 1.35
CLS_BIAS = 0.0


def make(scale: str, imgsz: int, out: Path, seed: int) -> None:
    import torch
    from ultralytics.nn.tasks import SegmentationModel, yaml_model_load

    sys.path.insert(0, str(Path(__file__).parent))
    import convert
    from make_fixtures import save_checkpoint

    cfg = copy.deepcopy(yaml_model_load("yolov8-seg.yaml"))
    cfg["scale"] = scale
    cfg["nc"] = 1
    torch.manual_seed(seed)
    model = SegmentationModel(cfg, ch=3, nc=1, verbose=False)
    model.names = {0: "object"}
    model.args = {"task": "segment", "imgsz": imgsz}
    with tempfile.TemporaryDirectory() as tmp:
        pt = Path(tmp) / f"yolov8{scale}-seg-random.pt"
        full = Path(tmp) / "full.onnx"
        save_checkpoint(model.eval(), pt)
        convert.export_onnx(pt, imgsz, full, simplify=False)
        strip(full, out)


def strip(src: Path, out: Path) -> None:
    import onnx
    import numpy as np

    model = onnx.load(str(src))
    dropped = 0
    for t in model.graph.initializer:
        if int(np.prod(t.dims)) > KEEP_AT_MOST and t.data_type in (1, 10):  # float, float16
            t.ClearField("raw_data")
            t.ClearField("float_data")
            t.ClearField("int32_data")
            dropped += 1
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out))
    print(f"{out}: {dropped} initializers without values, {out.stat().st_size} bytes")


def fill(src: Path, out: Path, seed: int, donor: Path | None = None, gain: float = GAIN, cls_bias: float = CLS_BIAS) -> None:
    import onnx
    import numpy as np
    from onnx import numpy_helper

    rng = np.random.default_rng(seed)
    model = onnx.load(str(src))
    given = {}
    if donor is not None:  # another export of the same weights (another input size, or fp16)
        given = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(donor)).graph.initializer}
    for t in model.graph.initializer:
        dtype = np.float32 if t.data_type == 1 else np.float16
        count = int(np.prod(t.dims))
        if given:
            values = None
            if not t.raw_data and count > KEEP_AT_MOST and t.data_type in (1, 10):
                if t.name not in given:
                    raise SystemExit(f"{donor} has no initializer {t.name}: not an export of the same weights")
                values = given[t.name]
                if list(values.shape) != list(t.dims):
                    raise SystemExit(f"{t.name}: {list(values.shape)} in {donor}, {list(t.dims)} in {src}")
        elif t.name.startswith("model.22.cv3.") and t.name.endswith(".2.bias"):
            values = np.full(count, cls_bias)
            t.ClearField("float_data")
        elif not t.raw_data and count > KEEP_AT_MOST and t.data_type in (1, 10):
            fan_in = count // t.dims[0] if len(t.dims) > 1 else 1
            scale = gain / np.sqrt(fan_in) if len(t.dims) > 1 else 0.1
            values = rng.standard_normal(count) * scale
        else:
            values = None
        if values is not None:
            t.raw_data = values.astype(dtype).tobytes()
    onnx.save(model, str(out))
    print(f"{out}: {out.stat().st_size} bytes")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make", help="seeded random-init YOLOv8-seg export, saved as a skeleton")
    m.add_argument("--scale", default="x", choices=list("nsmlx"))
    m.add_argument("--imgsz", type=int, default=640)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--out", type=Path, required=True)
    s = sub.add_parser("strip", help="drop the values of an export's large initializers")
    s.add_argument("src", type=Path)
    s.add_argument("out", type=Path)
    f = sub.add_parser("fill", help="seeded noise into a skeleton's empty initializers")
    f.add_argument("src", type=Path)
    f.add_argument("out", type=Path)
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--gain", type=float, default=GAIN, help="noise std times sqrt(fan-in)")
    f.add_argument("--cls-bias", type=float, default=CLS_BIAS, help="bias of the score convolutions (not with --from)")
    f.add_argument("--from", dest="donor", type=Path, help="take the values from this export instead of noise")
    a = ap.parse_args(argv)
    if a.cmd == "make":
        make(a.scale, a.imgsz, a.out, a.seed)
    elif a.cmd == "strip":
        strip(a.src, a.out)
    else:
        fill(a.src, a.out, a.seed, a.donor, a.gain, a.cls_bias)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
