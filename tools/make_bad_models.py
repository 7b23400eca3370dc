"""Writes small ONNX graphs that are *not* FastSAM exports, for the loader's rejection tests.

    python tools/make_bad_models.py --out tests/fixtures/models

- classifier.onnx: image in, [1, 10] logits out (one output).
- seg80.onnx: a YOLOv8-seg-shaped graph with 80 classes ([1, 116, 84] and [1, 32, 16, 16] at 64 px).
- detect.onnx: a detection-only graph ([1, 5, 84], no prototypes).
The weights are seeded noise: only the declared signatures matter.
"""

import argparse
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv(name, x, cin, cout, k, stride, rng, inits):
    w = numpy_helper.from_array(rng.standard_normal((cout, cin, k, k)).astype(np.float32) * 0.1, f"{name}.weight")
    inits.append(w)
    return helper.make_node("Conv", [x, w.name], [name], kernel_shape=[k, k], strides=[stride, stride],
                            pads=[k // 2] * 4)


def shape_const(name, values, inits):
    inits.append(numpy_helper.from_array(np.array(values, dtype=np.int64), name))
    return name


def save(graph, path):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="fastsam-web tests")
    onnx.checker.check_model(model)
    onnx.save(model, path)
    print(path, path.stat().st_size, "bytes")


def classifier(rng, out):
    inits = []
    nodes = [conv("c1", "images", 3, 8, 3, 2, rng, inits),
             helper.make_node("GlobalAveragePool", ["c1"], ["gap"]),
             helper.make_node("Flatten", ["gap"], ["flat"])]
    w = numpy_helper.from_array(rng.standard_normal((8, 10)).astype(np.float32), "fc.weight")
    inits.append(w)
    nodes.append(helper.make_node("MatMul", ["flat", "fc.weight"], ["logits"]))
    graph = helper.make_graph(nodes, "classifier",
                              [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 224, 224])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], inits)
    save(graph, out / "classifier.onnx")


def seg_like(rng, out, channels, with_protos, name):
    # 64 px input: 8x8 + 4x4 + 2x2 = 84 anchors; prototypes 16x16.
    inits, nodes = [], []
    nodes.append(conv("p8", "images", 3, channels, 3, 8, rng, inits))  # [1, C, 8, 8]
    nodes.append(helper.make_node("Reshape", ["p8", shape_const("s64", [1, channels, 64], inits)], ["r8"]))
    nodes.append(conv("p16", "images", 3, channels, 3, 16, rng, inits))
    nodes.append(helper.make_node("Reshape", ["p16", shape_const("s16", [1, channels, 16], inits)], ["r16"]))
    nodes.append(conv("p32", "images", 3, channels, 3, 32, rng, inits))
    nodes.append(helper.make_node("Reshape", ["p32", shape_const("s4", [1, channels, 4], inits)], ["r32"]))
    nodes.append(helper.make_node("Concat", ["r8", "r16", "r32"], ["output0"], axis=2))
    outputs = [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, channels, 84])]
    if with_protos:
        nodes.append(conv("output1", "images", 3, 32, 3, 4, rng, inits))
        outputs.append(helper.make_tensor_value_info("output1", TensorProto.FLOAT, [1, 32, 16, 16]))
    graph = helper.make_graph(nodes, name,
                              [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 64, 64])],
                              outputs, inits)
    save(graph, out / f"{name}.onnx")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures/models"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    classifier(rng, args.out)
    seg_like(rng, args.out, 4 + 80 + 32, True, "seg80")
    seg_like(rng, args.out, 4 + 1, False, "detect")


if __name__ == "__main__":
    main()
