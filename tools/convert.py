"""Convert a FastSAM checkpoint (.pt) into the ONNX file that fastsam-web loads, and check it.

Input: an ultralytics checkpoint as published for FastSAM (``FastSAM-s.pt``, ``FastSAM-x.pt``:
a dict holding a pickled ``SegmentationModel`` under ``"model"``). Output: a static-shape ONNX,
batch 1, opset 17, float32 weights unless ``--dtype fp16`` (float16 weights, about half the
download) or ``--dtype q8`` (8-bit weights with a scale per output channel, about a quarter);
fastsam-web computes in float32 whichever it is. One input ``images`` [1, 3, S, S] (RGB in 0..1) and
outputs ``output0`` [1, 37, N] and ``output1`` [1, 32, S/4, S/4].

The export itself is ultralytics' own exporter (Conv+BatchNorm fused, optional onnxslim
simplification). Afterwards the script:

* removes the export timestamp from the metadata (so the same weights give the same bytes);
* checks the shapes above and that the weight initializers keep their PyTorch names
  (``model.0.conv.weight``, ``model.0.conv.bias``, ...), renaming them back if a simplifier
  changed them. fastsam-web does not need the names (it finds each layer's weights through the
  graph, so ultralytics' own exports load as they are); they make the file easy to inspect;
* runs onnxruntime on a letterboxed test image and compares it with the PyTorch checkpoint
  (max abs difference per output), and optionally with another ONNX file (``--compare-onnx``).

Examples:
    python tools/convert.py FastSAM-s.pt --imgsz 1024
    python tools/convert.py FastSAM-s.pt --imgsz 1024 --dtype fp16 --out FastSAM-s-1024-fp16.onnx
    python tools/convert.py FastSAM-s.pt --imgsz 1024 --dtype q8 --out FastSAM-s-1024-q8.onnx
    python tools/convert.py FastSAM-x.pt --imgsz 640 --out fastsam-x-640.onnx --no-simplify
    python tools/convert.py ../shared/models/fastsam-s-bench.pt --imgsz 640 --out target/convert/bench-640.onnx \\
        --compare-onnx ../shared/models/fastsam-s-bench-640.onnx
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

TOOLS = Path(__file__).resolve().parent
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))


def load_torch_model(pt_path: str | Path):
    """Load the checkpoint's SegmentationModel as float32, eval mode, not fused."""
    from ultralytics.nn.tasks import load_checkpoint

    model, _ = load_checkpoint(str(pt_path), device="cpu", fuse=False)
    return model.float().eval()


def expected_weight_names(model) -> list[str]:
    """Names of the tensors a Conv+BN-fused export should carry, from the PyTorch model."""
    fused = copy.deepcopy(model).fuse(verbose=False)
    names = []
    for name, t in fused.state_dict().items():
        if not t.is_floating_point() or t.ndim == 0:
            continue
        if name.endswith(("running_mean", "running_var")):
            continue
        names.append(name)
    return names


def _resolve_identity(model_onnx) -> dict[str, str]:
    """Map outputs of Identity nodes to their inputs (the exporter de-duplicates equal
    initializers and re-creates the others with Identity nodes)."""
    alias = {}
    for node in model_onnx.graph.node:
        if node.op_type == "Identity":
            alias[node.output[0]] = node.input[0]
    return alias


def weight_inputs(model_onnx) -> list[tuple[str, str, str]]:
    """(node name, op, input name) for every weight/bias input of Conv / ConvTranspose nodes."""
    out = []
    for node in model_onnx.graph.node:
        if node.op_type in ("Conv", "ConvTranspose"):
            for name in node.input[1:]:
                if name:
                    out.append((node.name, node.op_type, name))
    return out


def module_path(node_name: str) -> str:
    """PyTorch module path of an exported node: "/model.22/cv2.1/cv2.1.2/Conv" -> "model.22.cv2.1.2".

    The exporter names nodes by scope; a nested Sequential repeats its parent's prefix."""
    parts = [p for p in node_name.split("/") if p][:-1]
    out: list[str] = []
    for p in parts:
        if out and p.startswith(out[-1] + "."):
            out[-1] = p
        else:
            out.append(p)
    return ".".join(out)


def _fused_tensors(torch_model) -> dict[str, np.ndarray]:
    expected = set(expected_weight_names(torch_model))
    fused = copy.deepcopy(torch_model).fuse(verbose=False)
    return {k: v.detach().float().numpy() for k, v in fused.state_dict().items() if k in expected}


def restore_initializer_names(model_onnx, torch_model) -> int:
    """Give every Conv / ConvTranspose weight and bias its PyTorch name again.

    The exporter de-duplicates equal initializers (e.g. identical biases of the three head
    levels) and re-creates the other names with Identity nodes; onnxslim then drops those and
    shares one tensor between convs. Each node's expected names follow from its scope name; an
    input holding the expected values under another name (or behind an Identity) is renamed, or
    copied under the expected name when it is shared. Afterwards every Conv / ConvTranspose reads
    initializers named after its PyTorch module. Returns the number of inputs rewired.
    """
    from onnx import numpy_helper

    ref = _fused_tensors(torch_model)
    graph = model_onnx.graph
    inits = {i.name: i for i in graph.initializer}
    alias = _resolve_identity(model_onnx)
    uses: dict[str, int] = {}
    for node in graph.node:
        for x in node.input:
            uses[x] = uses.get(x, 0) + 1
    changed = 0
    replaced: set[str] = set()
    for node in graph.node:
        if node.op_type not in ("Conv", "ConvTranspose"):
            continue
        mod = module_path(node.name)
        for slot, suffix in ((1, "weight"), (2, "bias")):
            if slot >= len(node.input) or not node.input[slot]:
                continue
            cur = node.input[slot]
            want = f"{mod}.{suffix}"
            if cur == want and want in inits:
                continue
            if want not in ref:
                continue
            src = inits.get(alias.get(cur, cur))
            if src is None:
                continue
            raw = numpy_helper.to_array(src)
            arr = raw.astype(np.float32)
            tol = (1e-3, 1e-4) if raw.dtype == np.float16 else (1e-6, 1e-7)
            if cur == want:  # an Identity output: the initializer replaces the node
                replaced.add(want)
            if arr.shape != ref[want].shape or not np.allclose(arr, ref[want], rtol=tol[0], atol=tol[1]):
                raise AssertionError(f"{node.name}: input {cur} does not hold the values of {want}")
            if want in inits:
                pass  # the tensor exists under its name already: just point the node at it
            elif uses.get(cur, 0) <= 1 and cur in inits and not cur.startswith("model."):
                inits[cur].name = want  # a plain rename
                inits[want] = inits.pop(cur)
            else:
                copy_t = numpy_helper.from_array(numpy_helper.to_array(src), want)
                graph.initializer.append(copy_t)
                inits[want] = copy_t
            uses[cur] = uses.get(cur, 1) - 1
            node.input[slot] = want
            changed += 1
    # Identity nodes whose outputs nobody reads any more (the exporter's de-duplication aliases)
    used = {x for node in graph.node for x in node.input} | {o.name for o in graph.output}
    dead = [n for n in graph.node if n.op_type == "Identity" and (n.output[0] not in used or n.output[0] in replaced)]
    for n in dead:
        graph.node.remove(n)
    used = {x for node in graph.node for x in node.input} | {o.name for o in graph.output}
    keep = [i for i in graph.initializer if i.name in used]
    if len(keep) != len(graph.initializer):
        del graph.initializer[:]
        graph.initializer.extend(keep)
    return changed


def quantize_weights(model_onnx) -> int:
    """8-bit weights: every Conv / ConvTranspose weight becomes int8 with one symmetric scale per
    output channel (largest magnitude / 127), restored by a ``DequantizeLinear`` whose output keeps
    the weight's name, so the file stays a valid ONNX that onnxruntime runs and each convolution
    reads the name it read before. Biases stay float32, and so do the DFL convolution's weights (the
    fixed bin values 0..15, which 8 bits would move); the arithmetic stays float32 (weights are
    quantized, activations are not). Returns the number of weights quantized."""
    graph = model_onnx.graph
    inits = {i.name: i for i in graph.initializer}
    axes: dict[str, int] = {}  # weight -> its output-channel axis
    for node in graph.node:
        if module_path(node.name).endswith("dfl.conv"):
            continue
        if node.op_type in ("Conv", "ConvTranspose") and len(node.input) > 1 and node.input[1] in inits:
            axes[node.input[1]] = 0 if node.op_type == "Conv" else 1  # ConvTranspose: [in, out, k, k]
    quantize_initializers(model_onnx, axes)
    return len(axes)


def quantize_initializers(model_onnx, axes: dict[str, int]) -> None:
    """Replace each float initializer named in ``axes`` by int8 values with one symmetric scale per
    index along its axis (largest magnitude / 127) and a ``DequantizeLinear`` whose output keeps the
    name, so every node reading it reads the same name."""
    from onnx import helper, numpy_helper

    graph = model_onnx.graph
    inits = {i.name: i for i in graph.initializer}
    dequantize = []
    for name, axis in axes.items():
        w = numpy_helper.to_array(inits[name]).astype(np.float32)
        scale = np.abs(np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)).max(axis=1) / 127.0
        scale[scale == 0] = 1.0  # an all-zero channel stays zero with any positive scale
        shape = [1] * w.ndim
        shape[axis] = -1
        q = np.clip(np.rint(w / scale.reshape(shape)), -127, 127).astype(np.int8)
        graph.initializer.remove(inits[name])
        graph.initializer.extend(
            [
                numpy_helper.from_array(q, f"{name}_quantized"),
                numpy_helper.from_array(scale.astype(np.float32), f"{name}_scale"),
            ]
        )
        dequantize.append(
            helper.make_node(
                "DequantizeLinear",
                [f"{name}_quantized", f"{name}_scale"],
                [name],
                name=f"{name}_DequantizeLinear",
                axis=axis,
            )
        )
    # The new nodes read only initializers: first in the list, the order stays topological.
    nodes = dequantize + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)


def check_onnx_layout(model_onnx, imgsz: int, torch_model=None) -> dict[str, Any]:
    """Check the input/output shapes and the weight names. Raises AssertionError on failure."""

    def dims(v):
        return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in v.type.tensor_type.shape.dim]

    ins = [(i.name, dims(i)) for i in model_onnx.graph.input]
    outs = [(o.name, dims(o)) for o in model_onnx.graph.output]
    s = imgsz
    n_anchors = sum((s // st) ** 2 for st in (8, 16, 32))
    assert len(ins) == 1 and ins[0][1] == [1, 3, s, s], f"input {ins}"
    assert len(outs) == 2, f"outputs {outs}"
    assert outs[0][1] == [1, 37, n_anchors], f"output0 {outs[0]}"
    assert outs[1][1] == [1, 32, s // 4, s // 4], f"output1 {outs[1]}"

    names = [i.name for i in model_onnx.graph.initializer]
    alias = _resolve_identity(model_onnx)
    bad = [(node, n) for node, _, n in weight_inputs(model_onnx) if not n.startswith("model.")]
    assert not bad, f"weight inputs without PyTorch names: {bad[:5]}"
    info: dict[str, Any] = {
        "input": ins[0],
        "outputs": outs,
        "initializers": names,
        "identity_aliases": alias,
    }
    if torch_model is not None:
        expected = expected_weight_names(torch_model)
        dequantized = {o for n in model_onnx.graph.node if n.op_type == "DequantizeLinear" for o in n.output}
        reachable = set(names) | set(alias) | dequantized
        missing = [k for k in expected if k not in reachable]
        assert not missing, f"PyTorch tensors missing from the ONNX: {missing[:8]}"
        misplaced = []
        for node, _, n in weight_inputs(model_onnx):
            want_prefix = module_path(node) + "."
            if not n.startswith(want_prefix) and not alias.get(n, "").startswith(want_prefix):
                misplaced.append((node, n))
        assert not misplaced, f"weights not named after their node: {misplaced[:5]}"
        info["expected"] = expected
    return info


def export_onnx(
    pt_path: str | Path,
    imgsz: int,
    out_path: str | Path,
    simplify: bool = True,
    half: bool = False,
    verbose: bool = False,
    restore_names: bool = True,
) -> Path:
    """Export ``pt_path`` with ultralytics to ``out_path`` (static, batch 1, opset 17).

    The checkpoint is copied to a temporary folder first, since the exporter writes next
    to its input. The export timestamp is removed and, unless ``restore_names`` is false (the
    test fixtures of exports as ultralytics writes them), renamed weights are restored.
    """
    import onnx
    from ultralytics import FastSAM

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_pt = Path(tmp) / "model.pt"
        shutil.copyfile(pt_path, tmp_pt)
        kwargs: dict[str, Any] = dict(
            format="onnx", imgsz=imgsz, opset=17, simplify=simplify, dynamic=False, batch=1, device="cpu", verbose=verbose
        )
        if half:
            kwargs["quantize"] = 16
        exported = FastSAM(str(tmp_pt)).export(**kwargs)
        model_onnx = onnx.load(str(exported))
    # the timestamp makes every export differ: drop it
    keep = [(p.key, p.value) for p in model_onnx.metadata_props if p.key != "date"]
    del model_onnx.metadata_props[:]
    for k, v in keep:
        p = model_onnx.metadata_props.add()
        p.key, p.value = k, v
    if restore_names:
        renamed = restore_initializer_names(model_onnx, load_torch_model(pt_path))
        if renamed:
            print(f"restored the PyTorch names of {renamed} initializers")
    onnx.save(model_onnx, str(out_path))
    return out_path


def test_image(seed: int = 7, width: int = 600, height: int = 420) -> np.ndarray:
    """A seeded synthetic RGB test image (not square, so the letterbox pads)."""
    from make_fixtures import synthetic_image

    return synthetic_image(seed, width, height)


def compare(
    onnx_path: str | Path,
    imgsz: int,
    torch_model=None,
    rgb: np.ndarray | None = None,
    other_onnx: str | Path | None = None,
) -> dict[str, float]:
    """Max abs differences of the ONNX (onnxruntime) against PyTorch and/or another ONNX."""
    import torch

    import fastsam_reference as ref

    if rgb is None:
        rgb = test_image()
    lb, _ = ref.letterbox(rgb, imgsz)
    o0, o1 = ref.run_onnx(onnx_path, lb)
    res: dict[str, float] = {}
    if torch_model is not None:
        with torch.no_grad():
            y = torch_model(torch.from_numpy(ref.to_input_tensor(lb)))
        res.update(_diffs("torch", y[0][0].numpy(), y[0][1].numpy(), o0, o1))
    if other_onnx is not None:
        r0, r1 = ref.run_onnx(other_onnx, lb)
        res.update(_diffs("onnx", r0, r1, o0, o1))
    return res


def _diffs(tag: str, a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray) -> dict[str, float]:
    """Max abs differences per kind of value: box rows (pixels), scores, mask coefficients, prototypes."""
    return {
        f"{tag}_boxes": float(np.abs(a0[:, :4] - b0[:, :4]).max()),
        f"{tag}_scores": float(np.abs(a0[:, 4] - b0[:, 4]).max()),
        f"{tag}_coefficients": float(np.abs(a0[:, 5:] - b0[:, 5:]).max()),
        f"{tag}_output0": float(np.abs(a0 - b0).max()),
        f"{tag}_output1": float(np.abs(a1 - b1).max()),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", help="FastSAM checkpoint (.pt), e.g. FastSAM-s.pt")
    ap.add_argument("--imgsz", type=int, default=1024, help="square input size S (default 1024, FastSAM's default)")
    ap.add_argument("--out", help="output ONNX path (default: <checkpoint stem>-<S>.onnx in the current folder)")
    ap.add_argument("--simplify", dest="simplify", action="store_true", default=True, help="run onnxslim (default)")
    ap.add_argument("--no-simplify", dest="simplify", action="store_false", help="keep the unsimplified graph")
    ap.add_argument(
        "--dtype",
        choices=("fp32", "fp16", "q8"),
        default="fp32",
        help="weights as float32 (default), float16 (half the size; inputs and outputs stay float32) or"
        " 8-bit integers with a scale per output channel (a quarter); fastsam-web computes in float32 in"
        " every case",
    )
    ap.add_argument("--half", action="store_true", help="the same as --dtype fp16 (older name)")
    ap.add_argument("--image", help="RGB/BGR image file for the numerical check (default: a synthetic image)")
    ap.add_argument("--compare-onnx", help="another ONNX export of the same weights to compare with")
    ap.add_argument(
        "--tol",
        type=float,
        default=None,
        help="fail if onnxruntime and PyTorch differ by more (scores, coefficients, prototypes; boxes divided"
        " by the input size); default 1e-2, 1e-1 with --dtype fp16, 1 with q8 (export bugs give O(1)"
        " differences)",
    )
    ap.add_argument("--verbose", action="store_true", help="print the exporter's log and all initializer names")
    args = ap.parse_args(argv)
    if args.half:
        args.dtype = "fp16"
    half = args.dtype == "fp16"
    if not args.verbose:
        os.environ.setdefault("YOLO_VERBOSE", "False")  # read when ultralytics is first imported

    import onnx

    pt = Path(args.checkpoint)
    out = Path(args.out) if args.out else Path.cwd() / f"{pt.stem}-{args.imgsz}.onnx"
    if args.imgsz % 32:
        ap.error("--imgsz must be a multiple of 32")
    print(f"exporting {pt} at {args.imgsz} -> {out} (simplify={args.simplify}, dtype={args.dtype})")
    export_onnx(pt, args.imgsz, out, simplify=args.simplify, half=half, verbose=args.verbose)
    if args.dtype == "q8":
        model_onnx = onnx.load(str(out))
        print(f"quantized {quantize_weights(model_onnx)} convolution weights to 8 bits")
        onnx.save(model_onnx, str(out))

    torch_model = load_torch_model(pt)
    model_onnx = onnx.load(str(out))
    info = check_onnx_layout(model_onnx, args.imgsz, torch_model)
    print(f"layout ok: input {info['input']}, outputs {info['outputs']}")
    print(
        f"initializers: {len(info['initializers'])} (all {len(info['expected'])} PyTorch tensors present,"
        f" {len(info['identity_aliases'])} via Identity aliases)"
    )
    if args.verbose:
        for n in info["initializers"]:
            print("  ", n)
        for a, b in info["identity_aliases"].items():
            print(f"   {a} = Identity({b})")
    rgb = None
    if args.image:
        import cv2

        bgr = cv2.imread(args.image, cv2.IMREAD_COLOR)
        if bgr is None:
            ap.error(f"cannot read {args.image}")
        rgb = np.ascontiguousarray(bgr[..., ::-1])
    res = compare(out, args.imgsz, torch_model, rgb, args.compare_onnx)
    for k, v in res.items():
        print(f"max abs diff {k}: {v:.3g}")
    # q8 moves the outputs of a random-weight network by O(0.5) on its own (docs/precision.md): its
    # check catches only broken files.
    tol = args.tol if args.tol is not None else {"fp32": 1e-2, "fp16": 1e-1, "q8": 1.0}[args.dtype]
    worst = max(res["torch_scores"], res["torch_coefficients"], res["torch_output1"], res["torch_boxes"] / args.imgsz)
    if worst > tol:
        print(f"FAIL: onnxruntime differs from PyTorch by {worst:.3g} > {tol:g} (boxes relative to the input size)")
        return 1
    print(f"ok: {out} ({out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
