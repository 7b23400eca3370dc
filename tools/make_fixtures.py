"""Build the test fixtures in tests/fixtures/ (seeded, reproducible), as laid out in
tests/fixtures/FORMAT.md:

* ``images/*.png``       synthetic RGB images (gradients, filled shapes, mild noise);
* ``models/tiny-640.onnx`` (onnxslim-simplified) and ``models/tiny-1024.onnx`` (unsimplified):
  a reduced-width YOLOv8-seg (the FastSAM layout) with one class, seeded random weights,
  BatchNorm statistics calibrated on the images and the heads scaled so that the outputs
  depend on the input (scores straddle 0.4, boxes vary, masks are partial);
* ``models/exports/*.onnx``: the same kind of model as users' exporters write it (initializers
  merged by onnxslim, opaque initializer names, float16 from ultralytics and from
  onnxconverter_common), for the tests that both engines load every export alike;
* ``resize_cases.bin``   cv2.resize(INTER_LINEAR) input/output pairs;
* ``reference/<case>.json`` and the sampled raw outputs, for every (model, image) pair.

The seeded checkpoint is also written, in the official FastSAM .pt layout, to
``target/fixtures/tiny.pt`` (not committed) for checking tools/convert.py.

Usage:
    python tools/make_fixtures.py                 # everything, into tests/fixtures
    python tools/make_fixtures.py --verbose       # also list the ONNX initializer names
    python tools/make_fixtures.py --out /tmp/fx --target /tmp/fx-target
    python tools/make_fixtures.py --exports-only  # only models/exports/ (reads models/tiny-640.onnx)
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import struct
import sys
from pathlib import Path
from typing import Any

import numpy as np

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))

IMAGE_SEED = 20240611  # base seed of the synthetic images
SEED = 19  # model seed, picked among 1..24 for clear score gaps and a mix of full-frame fix-ups

NOISE_SMOOTH = 3.0  # amplitude (grey levels) of the smooth noise field
NOISE_FINE = 0.0  # standard deviation of the per-pixel noise

# (stem, width, height, seed): landscape, portrait, and one smaller than the model input
IMAGES = [
    ("shapes_wide", 512, 384, 11),
    ("shapes_tall", 360, 540, 12),
    ("shapes_small", 257, 263, 13),
]
MODELS = [("tiny-640", 640, True), ("tiny-1024", 1024, False)]  # (stem, input size, simplify)

# Reduced YOLOv8-seg scale: depth 0.33 (as the "s" model: C2f repeats 1, 2, 2, 1), width 1/16,
# channels capped at 256 before the width multiple (rounded up to multiples of 8): layer
# widths 8, 8, 8, 16, then 16 throughout; head levels 16, 16, 16 (box branch 64 = 4 x reg_max,
# class branch 16, coefficient branch 32, prototypes 16 -> 32). About 246k parameters.
SCALE = (0.33, 0.0625, 256)

CONF, IOU = 0.4, 0.9
MAX_DET = 32  # detections kept: 30-70% of the anchors pass CONF, so NMS always reaches the cap
SCORE_FRACTION = 0.40  # fraction of anchors (per level) above CONF on the calibration images
SCORE_GAIN = 1.2  # spread of the class logits (in standard deviations of the calibrated logits)
SCORE_LIMIT = 6.0  # bound on the class logits over the calibration images
SCORE_SHIFT = (0.0, 0.0, -0.5)  # extra logit per level P3, P4, P5 (how many large P5 boxes reach the top)
# input-driven slope (bound) of the box distribution logits over the 16 bins, and per-bin
# input-driven noise, per level P3, P4, P5: smaller on the coarse levels, where a logit error
# moves a box edge by more pixels (stride 8, 16, 32)
DFL_RAMP = (6.0, 3.0, 1.5)
DFL_NOISE = (0.75, 0.4, 0.2)
DFL_CENTER = (3.0, 3.0, 12.0)  # prior peak of the distance bins (strides) per level; P5 large: full-frame boxes
MASK_COEF_LIMIT = 2.0  # bound on the mask coefficients (their float error grows with their size)
PROTO_GAIN = 0.15  # scale of the prototypes' last BatchNorm (see shrink_prototypes)
MASK_OFFSET = 1.5  # mean mask logit in standard deviations (positive: masks mostly cover their box, with holes)


# --------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------


def synthetic_image(seed: int, width: int, height: int) -> np.ndarray:
    """A seeded synthetic RGB u8 image: a smooth two-colour gradient with filled circles,
    rectangles, polygons and smooth blobs of distinct colours, plus sparse +-2 noise."""
    import cv2

    rng = np.random.default_rng(seed)
    h, w = height, width
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    c0, c1 = rng.uniform(40, 215, 3), rng.uniform(40, 215, 3)
    ang = rng.uniform(0, 2 * np.pi)
    t = xx * np.cos(ang) + yy * np.sin(ang)
    t = (t - t.min()) / max(1e-6, float(t.max() - t.min()))
    img = c0[None, None, :] * (1 - t[..., None]) + c1[None, None, :] * t[..., None]
    n_shapes = int(rng.integers(8, 12))
    hues = rng.permutation(n_shapes) / n_shapes
    for k in range(n_shapes):
        hsv = np.uint8([[[int(hues[k] * 179), int(rng.uniform(120, 255)), int(rng.uniform(90, 255))]]])
        col = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)
        m = np.zeros((h, w), np.uint8)
        cx, cy = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h
        s = rng.uniform(0.07, 0.25) * min(w, h)
        kind = k % 4
        if kind == 0:
            cv2.circle(m, (int(cx), int(cy)), max(2, int(s)), 1, -1)
        elif kind == 1:
            a = rng.uniform(0.5, 1.5)
            cv2.rectangle(m, (int(cx - s * a), int(cy - s / a)), (int(cx + s * a), int(cy + s / a)), 1, -1)
        elif kind == 2:
            k_ = int(rng.integers(3, 7))
            angs = np.sort(rng.uniform(0, 2 * np.pi, k_))
            rad = rng.uniform(0.5, 1.2, k_) * s
            pts = np.stack([cx + rad * np.cos(angs), cy + rad * np.sin(angs)], 1).astype(np.int32)
            cv2.fillPoly(m, [pts], 1)
        else:
            coarse = rng.normal(size=(h // 40 + 3, w // 40 + 3)).astype(np.float32)
            field = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
            d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / s
            m = ((1.0 - d + 0.35 * field) > 0).astype(np.uint8)
        # a gentle linear shading inside the shape (keeps conv features from being constant)
        g = rng.uniform(-1, 1, 2) * 40.0 / max(w, h)
        shade = (xx - cx) * g[0] + (yy - cy) * g[1]
        fill = col[None, None, :] + shade[..., None]
        img[m > 0] = fill[m > 0]
    # mild noise: a coarse random field, bilinearly enlarged, plus a fine per-pixel one
    coarse = rng.normal(size=(h // 24 + 2, w // 24 + 2, 3)).astype(np.float32)
    noise = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR) * (NOISE_SMOOTH / 2)
    noise = np.clip(noise, -NOISE_SMOOTH, NOISE_SMOOTH)
    if NOISE_FINE:
        noise += rng.normal(size=(h, w, 3)).astype(np.float32) * NOISE_FINE
    return np.clip(np.round(img + noise), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------


def build_model(seed: int = SEED):
    """Seeded random-init SegmentationModel, YOLOv8-seg layout (FastSAM), nc=1, reduced scale."""
    import torch
    from ultralytics.nn.tasks import SegmentationModel, yaml_model_load

    cfg = copy.deepcopy(yaml_model_load("yolov8-seg.yaml"))  # the layout shipped with ultralytics
    cfg["scales"] = {"t": list(SCALE)}
    cfg["scale"] = "t"
    cfg["nc"] = 1
    torch.manual_seed(seed)
    model = SegmentationModel(cfg, ch=3, nc=1, verbose=False)
    model.names = {0: "object"}
    model.args = {"task": "segment", "imgsz": 640}
    return model


def calibration_batches(images: list[np.ndarray], size: int, seed: int, n_batches: int = 6, batch: int = 4):
    """Letterboxed crops / flips of the images, as float NCHW batches (RGB / 255)."""
    import torch

    import fastsam_reference as ref

    rng = np.random.default_rng(seed)
    for _ in range(n_batches):
        xs = []
        for _ in range(batch):
            im = images[int(rng.integers(len(images)))]
            h, w = im.shape[:2]
            ch, cw = int(rng.integers(h // 2, h + 1)), int(rng.integers(w // 2, w + 1))
            y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
            crop = im[y0 : y0 + ch, x0 : x0 + cw]
            if rng.random() < 0.5:
                crop = crop[:, ::-1]
            lb, _ = ref.letterbox(np.ascontiguousarray(crop), size)
            xs.append(ref.to_input_tensor(lb)[0])
        yield torch.from_numpy(np.stack(xs))


def calibrate_batchnorm(model, images: list[np.ndarray], size: int, seed: int) -> None:
    """Replace the BatchNorm running statistics by cumulative averages over a few batches
    of project images (train mode, no gradients), then switch to eval mode."""
    import torch

    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative moving average
    model.train()
    with torch.no_grad():
        for x in calibration_batches(images, size, seed):
            model(x)
    model.eval()


def _head_inputs(model, x):
    """Inputs of the last conv of every head branch (box cv2, class cv3, coefficients cv4)
    and the prototypes, for a batch x."""
    import torch

    head = model.model[-1]
    acts: dict[str, Any] = {}
    hooks = []

    def grab(name):
        def f(_mod, inp, out):
            acts[name] = inp[0].detach()
            acts[name + "_out"] = out.detach()

        return f

    for i in range(head.nl):
        hooks.append(head.cv2[i][-1].register_forward_hook(grab(f"box{i}")))
        hooks.append(head.cv3[i][-1].register_forward_hook(grab(f"cls{i}")))
        hooks.append(head.cv4[i][-1].register_forward_hook(grab(f"mc{i}")))
    with torch.no_grad():
        (y, proto), _ = model(x)
    for h in hooks:
        h.remove()
    acts["proto"] = proto
    acts["y"] = y
    return acts


def _spread(z):
    """Per row: half the 5%-95% range (the head features are heavy-tailed: a standard
    deviation would leave most anchors alike, an inter-quartile range would blow up the
    tails and with them the float error)."""
    import torch

    q = torch.quantile(z, torch.tensor([0.05, 0.95]), dim=1)
    return (q[1] - q[0]).clamp_min(1e-6) / 2


def smooth_proto_kernels(model, keep: float = 0.1) -> None:
    """Make the prototype branch mostly low-pass: the 3x3 convs and the 2x2 transposed conv
    of Proto get kernels that are (1 - keep) spatially uniform + keep of their random init.
    A random init gives speckled, checkerboarded prototypes and so masks with thousands of
    runs; the random part keeps the kernels asymmetric (kernel orientation still matters)."""
    import torch

    proto = model.model[-1].proto
    with torch.no_grad():
        for conv in (proto.cv1.conv, proto.upsample, proto.cv2.conv):
            w = conv.weight
            flat = w.mean(dim=(2, 3), keepdim=True).expand_as(w) * 3.0
            w.copy_((1 - keep) * flat + keep * w)


def scale_heads(model, images: list[np.ndarray], size: int) -> None:
    """Rescale the last conv of each head branch (an affine map of its outputs) so that:

    * class scores: per level, a fraction SCORE_FRACTION of the anchors of the project
      images are above CONF; the logits spread over SCORE_GAIN standard deviations but stay
      within +-SCORE_LIMIT (saturated sigmoids would tie and amplify float error);
    * box distributions: per side, a ramp over the 16 bins whose slope follows one input-
      dependent direction (moving the expected distance coherently), plus a little per-bin
      input-dependent noise and a bin prior peaking at DFL_CENTER; all bounded by the
      largest deviation seen on the images, so the DFL logits stay small;
    * mask coefficients: the component along the mean prototype vector is removed (a mask's
      mean logit would otherwise be a large constant of one sign), the coefficients are
      scaled to stay within +-MASK_COEF_LIMIT, and an offset along that vector puts a
      mask's mean logit at MASK_OFFSET standard deviations.
    """
    import torch

    import fastsam_reference as ref

    head = model.model[-1]
    x = torch.from_numpy(np.concatenate([ref.to_input_tensor(ref.letterbox(im, size)[0]) for im in images]))
    acts = _head_inputs(model, x)
    logit_conf = math.log(CONF / (1 - CONF))
    bins = torch.arange(head.reg_max, dtype=torch.float32)
    ramp = (bins - (head.reg_max - 1) / 2) / ((head.reg_max - 1) / 2)  # -1 .. 1
    with torch.no_grad():
        for i in range(head.nl):
            # class scores
            conv = head.cv3[i][-1]
            z = acts[f"cls{i}_out"][:, 0].flatten()
            q = torch.quantile(z, 1.0 - SCORE_FRACTION)
            a = min(SCORE_GAIN / float(z.std()), SCORE_LIMIT / float((z - q).abs().max()))
            conv.weight.mul_(a)
            conv.bias.copy_((conv.bias - q) * a + logit_conf + SCORE_SHIFT[i])

            # box distributions
            conv = head.cv2[i][-1]
            prior = -0.5 * ((bins - DFL_CENTER[i]) / 3.0) ** 2
            z = acts[f"box{i}_out"]  # (B, 64, H, W)
            mu = z.mean((0, 2, 3))
            dev = (z - mu.view(1, -1, 1, 1)).abs().amax((0, 2, 3)).clamp_min(1e-6)
            w_n = conv.weight / dev.view(-1, 1, 1, 1)  # outputs in -1 .. 1
            b_n = (conv.bias - mu) / dev
            new_w, new_b = torch.empty_like(conv.weight), torch.empty_like(conv.bias)
            for k in range(4):
                sl = slice(k * head.reg_max, (k + 1) * head.reg_max)
                lead_w, lead_b = w_n[sl].mean(0), b_n[sl].mean(0)  # the side's mean direction
                lead = torch.einsum("bchw,c->bhw", z[:, sl] - mu[sl].view(1, -1, 1, 1), 1 / dev[sl] / head.reg_max)
                centre = lead.median()
                span = (lead - centre).abs().max().clamp_min(1e-6)
                for j in range(head.reg_max):
                    c = k * head.reg_max + j
                    g = DFL_RAMP[i] * ramp[j] / span
                    new_w[c] = g * lead_w + DFL_NOISE[i] * w_n[c]
                    new_b[c] = g * (lead_b - centre) + DFL_NOISE[i] * b_n[c] + prior[j]
            conv.weight.copy_(new_w)
            conv.bias.copy_(new_b)

        # mask coefficients: project out the mean prototype direction, scale, then add a
        # fixed offset along it (a mask's mean logit is then about MASK_OFFSET)
        proto = acts["proto"]
        m = proto.mean((0, 2, 3))
        u = m / m.norm()
        proj = torch.eye(len(u)) - torch.outer(u, u)
        for i in range(head.nl):
            conv = head.cv4[i][-1]
            w = conv.weight.view(conv.out_channels, -1)
            conv.weight.copy_((proj @ w).view_as(conv.weight))
            conv.bias.copy_(proj @ conv.bias)
        acts = _head_inputs(model, x)
        c = acts["y"][:, 5:]  # (B, 32, N)
        scale = MASK_COEF_LIMIT / c.abs().max()
        logits = torch.einsum("bcn,bchw->bnhw", c[:, :, ::37] * scale, proto)
        offset = MASK_OFFSET * float(logits.std())
        for i in range(head.nl):
            conv = head.cv4[i][-1]
            conv.weight.mul_(scale)
            conv.bias.mul_(scale)
            conv.bias.add_(offset * u / m.norm())


def shrink_prototypes(model, gain: float = PROTO_GAIN) -> None:
    """Scale the BatchNorm of the last prototype conv (before its SiLU) by ``gain``: the
    prototypes become small (|p| of a few units) and so does their float error."""
    import torch

    bn = model.model[-1].proto.cv3.bn
    with torch.no_grad():
        bn.weight.mul_(gain)
        bn.bias.mul_(gain)


def round_to_half(model) -> None:
    """Round every floating tensor through float16 (the checkpoint stores fp16), so the
    fp32 model, the checkpoint and the ONNX exports all hold the same weights."""
    import torch

    with torch.no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            if t.is_floating_point():
                t.copy_(t.half().float())


def save_checkpoint(model, path: Path) -> None:
    """Save in the layout of the official FastSAM checkpoints: a dict with the pickled
    SegmentationModel in fp16 under "model"."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    m = copy.deepcopy(model).half()
    ckpt = {
        "model": m,
        "ema": None,
        "updates": None,
        "optimizer": None,
        "train_args": {"task": "segment", "imgsz": 640},
        "epoch": -1,
        "date": "fastsam-web fixture",
    }
    torch.save(ckpt, path)


# --------------------------------------------------------------------------------------
# resize cases
# --------------------------------------------------------------------------------------


def resize_cases(seed: int, count: int = 30) -> bytes:
    """cv2.resize(INTER_LINEAR) records (FORMAT.md): random sizes 1..48 per side, 3 and 4 channels."""
    import cv2

    rng = np.random.default_rng(seed)
    fixed = [(1, 1, 3, 5, 4), (7, 5, 4, 1, 1), (48, 48, 3, 13, 29), (2, 3, 3, 48, 47), (16, 16, 4, 32, 8)]
    out = bytearray()
    for k in range(count):
        if k < len(fixed):
            sw, sh, c, dw, dh = fixed[k]
        else:
            sw, sh, dw, dh = (int(v) for v in rng.integers(1, 49, 4))
            c = 3 if k % 2 else 4
        src = rng.integers(0, 256, (sh, sw, c), dtype=np.uint8)
        dst = cv2.resize(src, (dw, dh), interpolation=cv2.INTER_LINEAR)
        dst = dst.reshape(dh, dw, c)
        out += struct.pack("<5I", sw, sh, c, dw, dh)
        out += src.tobytes() + dst.tobytes()
    return bytes(out)


# --------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------


def check_model_behaviour(model, images: list[np.ndarray], size: int) -> dict[str, Any]:
    """Assert that different images give clearly different outputs, and that each image
    gives a sensible number of detections after NMS at CONF / IOU."""
    import torch
    from ultralytics.utils.nms import non_max_suppression

    import fastsam_reference as ref

    x = torch.from_numpy(np.concatenate([ref.to_input_tensor(ref.letterbox(im, size)[0]) for im in images]))
    with torch.no_grad():
        (y, proto), _ = model(x)
    scores = y[:, 4]
    info: dict[str, Any] = {"frac_above": [float((s > CONF).float().mean()) for s in scores]}
    corr = np.corrcoef(scores.numpy())
    info["score_corr"] = corr.tolist()
    dets = non_max_suppression(y, CONF, IOU, nc=1, max_det=10**6, max_time_img=1e6)
    info["nms_kept"] = [int(len(d)) for d in dets]
    n = len(images)
    for a in range(n):
        for b in range(a + 1, n):
            assert corr[a, b] < 0.9, f"score maps of images {a} and {b} correlate {corr[a, b]:.3f}"
            da, db = dets[a][:, :5], dets[b][:, :5]
            same = da.shape == db.shape and torch.allclose(da, db)
            assert not same, f"images {a} and {b} give the same detections"
    for k, d in enumerate(info["nms_kept"]):
        assert 20 <= min(d, MAX_DET) <= 300, f"image {k}: {d} detections after NMS"
    for k, f in enumerate(info["frac_above"]):
        assert 0.2 <= f <= 0.8, f"image {k}: {f:.2f} of the anchors above {CONF}"
    widths = y[:, 2][scores > CONF]
    info["box_w_quartiles"] = [float(v) for v in torch.quantile(widths, torch.tensor([0.1, 0.5, 0.9]))]
    assert info["box_w_quartiles"][2] > 1.5 * info["box_w_quartiles"][0], "box sizes do not vary"
    return info


def decision_margins(
    out0: np.ndarray, size: int, trials: int = 24, logit_eps: float = 2e-4, box_eps: float = 1e-2, seed: int = 0
) -> dict[str, Any]:
    """How close the reference decisions are to flipping under float noise of another engine.

    * ``nms_unstable`` / ``nms_reordered``: in how many of ``trials`` runs the set / the order
      of the kept anchors (first MAX_DET after NMS) changes when the score logits move by up
      to ``logit_eps`` and the boxes by up to ``box_eps`` px;
    * ``snap_margin``: smallest distance (px) of a kept box edge to the 20 px snap lines;
    * ``frame_iou_margin``: smallest |IoU(box, frame) - 0.9| of the kept boxes after snapping;
    * ``kept_score_gap``: smallest score gap between kept detections.
    """
    import torch
    from ultralytics.utils.nms import non_max_suppression

    pred = torch.from_numpy(out0)
    base, keep = non_max_suppression(pred, CONF, IOU, nc=1, max_det=MAX_DET, max_time_img=1e6, return_idxs=True)
    keep = keep[0]
    g = torch.Generator().manual_seed(seed)
    unstable = reordered = 0
    for _ in range(trials):
        p = pred.clone()
        z = torch.logit(p[:, 4].double()) + (torch.rand(p[:, 4].shape, generator=g, dtype=torch.float64) * 2 - 1) * logit_eps
        p[:, 4] = torch.sigmoid(z).float()
        p[:, :4] += (torch.rand(p[:, :4].shape, generator=g) * 2 - 1) * box_eps
        _, k = non_max_suppression(p, CONF, IOU, nc=1, max_det=MAX_DET, max_time_img=1e6, return_idxs=True)
        unstable += int(set(k[0].tolist()) != set(keep.tolist()))
        reordered += int(not torch.equal(k[0], keep))
    b = base[0][:, :4].double()
    edges = torch.cat([b[:, 0] - 20, b[:, 1] - 20, b[:, 2] - (size - 20), b[:, 3] - (size - 20)])
    snapped = b.clone()
    snapped[:, 0] = torch.where(b[:, 0] < 20, 0.0, b[:, 0])
    snapped[:, 1] = torch.where(b[:, 1] < 20, 0.0, b[:, 1])
    snapped[:, 2] = torch.where(b[:, 2] > size - 20, float(size), b[:, 2])
    snapped[:, 3] = torch.where(b[:, 3] > size - 20, float(size), b[:, 3])
    inter = (snapped[:, 2].clamp(max=size) - snapped[:, 0].clamp(min=0)).clamp(min=0) * (
        snapped[:, 3].clamp(max=size) - snapped[:, 1].clamp(min=0)
    ).clamp(min=0)
    area = (snapped[:, 2] - snapped[:, 0]) * (snapped[:, 3] - snapped[:, 1])
    fiou = inter / (size * size + area - inter)
    sc = base[0][:, 4].double()
    return {
        "nms_unstable": unstable,
        "nms_reordered": reordered,
        "trials": trials,
        "snap_margin": float(edges.abs().min()),
        "frame_iou_margin": float((fiou - 0.9).abs().min()),
        "kept_score_gap": float((sc[:-1] - sc[1:]).abs().min()) if len(sc) > 1 else float("nan"),
    }


def layer_widths(model) -> list[int]:
    """Output channels of every layer before the head (one forward pass on a small input)."""
    import torch

    widths: dict[int, int] = {}
    hooks = [
        m.register_forward_hook(lambda _m, _i, o, k=k: widths.__setitem__(k, int(o.shape[1])))
        for k, m in enumerate(model.model[:-1])
    ]
    with torch.no_grad():
        model(torch.zeros(1, 3, 64, 64))
    for h in hooks:
        h.remove()
    return [widths[k] for k in sorted(widths)]


def onnx_initializer_names(path: Path) -> list[str]:
    import onnx

    return [i.name for i in onnx.load(str(path)).graph.initializer]


# --------------------------------------------------------------------------------------
# exports as users make them
# --------------------------------------------------------------------------------------

# models/exports/<stem>.onnx: what each file exercises in the loaders.
EXPORTS = {
    "shared-bias": "ultralytics + onnxslim export with the box-branch biases equal across the three "
    "levels: onnxslim keeps one initializer for them, so two convolutions read a tensor named after another layer",
    "opaque-names": "tiny-640.onnx with every initializer renamed `onnx::<Op>_<n>` (graph and node names kept)",
    "half": "ultralytics' half-precision export (`quantize=16`, formerly `half=True`; on the CPU: onnxruntime's float16 converter, keep_io_types)",
    "float16": "tiny-640.onnx through onnxconverter_common.float16 (keep_io_types=True)",
    "float16-io": "tiny-640.onnx through onnxconverter_common.float16 without keep_io_types: float16 input and outputs",
    "q8": "tiny-640.onnx with 8-bit convolution weights (tools/convert.py --dtype q8: int8, one scale per output "
    "channel, DequantizeLinear)",
}


def equalize_box_biases(model) -> None:
    """Give every level's last box-branch convolution the bias of level P3 (ultralytics' own
    ``bias_init`` also makes them equal), so that an exporter may merge them."""
    import torch

    head = model.model[-1]
    with torch.no_grad():
        for branch in head.cv2[1:]:
            branch[-1].bias.copy_(head.cv2[0][-1].bias)


def merged_conv_inputs(model_onnx) -> list[str]:
    """Conv/ConvTranspose inputs that read a tensor not named after their own module."""
    import convert

    out = []
    for node in model_onnx.graph.node:
        if node.op_type in ("Conv", "ConvTranspose"):
            module = convert.module_path(node.name)
            for name, param in zip(node.input[1:], ("weight", "bias")):
                if name and name != f"{module}.{param}":
                    out.append(f"{node.name} reads {name}")
    return out


def rename_initializers_opaquely(model_onnx) -> int:
    """Rename every initializer ``onnx::<first reader's op>_<n>``, as exporters without PyTorch
    names do; node inputs and listed graph inputs follow. Returns how many were renamed."""
    graph = model_onnx.graph
    reader = {}
    for node in graph.node:
        for x in node.input:
            reader.setdefault(x, node.op_type)
    new = {init.name: f"onnx::{reader.get(init.name, 'Unused')}_{k}" for k, init in enumerate(graph.initializer)}
    for init in graph.initializer:
        init.name = new[init.name]
    for node in graph.node:
        for k, x in enumerate(node.input):
            if x in new:
                node.input[k] = new[x]
    for value in graph.input:
        if value.name in new:
            value.name = new[value.name]
    return len(new)


def write_exports(model, out: Path, target: Path) -> None:
    """Write models/exports/*.onnx (EXPORTS) from the fixture model and models/tiny-640.onnx."""
    import onnx
    from onnxconverter_common import float16

    import convert

    folder = out / "models" / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    base = out / "models" / "tiny-640.onnx"

    shared = copy.deepcopy(model)
    equalize_box_biases(shared)
    shared_pt = target / "tiny-shared-bias.pt"
    save_checkpoint(shared, shared_pt)
    p = convert.export_onnx(shared_pt, 640, folder / "shared-bias.onnx", simplify=True, restore_names=False)
    merged = merged_conv_inputs(onnx.load(str(p)))
    assert merged, "onnxslim merged no initializers: the shared-bias fixture tests nothing"
    print(f"{p.name}: {len(merged)} convolution inputs named after another layer, e.g. {merged[0]}")

    m = onnx.load(str(base))
    renamed = rename_initializers_opaquely(m)
    onnx.save(m, str(folder / "opaque-names.onnx"))
    print(f"opaque-names.onnx: {renamed} initializers renamed")

    half_pt = target / "tiny.pt"
    save_checkpoint(model, half_pt)
    convert.export_onnx(half_pt, 640, folder / "half.onnx", simplify=True, half=True, restore_names=False)

    for stem, keep_io_types in (("float16", True), ("float16-io", False)):
        m = float16.convert_float_to_float16(onnx.load(str(base)), keep_io_types=keep_io_types)
        onnx.save(m, str(folder / f"{stem}.onnx"))

    m = onnx.load(str(base))
    convert.quantize_weights(m)
    onnx.save(m, str(folder / "q8.onnx"))

    for stem in EXPORTS:
        p = folder / f"{stem}.onnx"
        relabel_fixture_metadata(p)
        print(f"{p.relative_to(out)}: {p.stat().st_size / 1e3:.0f} kB")


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------


def relabel_fixture_metadata(path: Path) -> None:
    """The fixture weights are this project's own seeded noise: replace the exporter's author and
    licence strings (which describe ultralytics' code, not these weights) with the project's."""
    import onnx

    m = onnx.load(str(path))
    props = {p.key: p.value for p in m.metadata_props}
    props.update(
        author="fastsam-web test fixtures (seeded random weights, tools/make_fixtures.py)",
        license="MIT OR Apache-2.0",
        description="Random-init reduced-width YOLOv8-seg (FastSAM layout), one class; not a trained model",
    )
    props.pop("docs", None)
    del m.metadata_props[:]
    for k, v in props.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(m, str(path))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "tests" / "fixtures"), help="fixtures folder (default tests/fixtures)")
    ap.add_argument(
        "--target", default=str(ROOT / "target" / "fixtures"), help="folder for tiny.pt (default target/fixtures)"
    )
    ap.add_argument("--seed", type=int, default=SEED, help=f"model seed (default {SEED}; the images are fixed)")
    ap.add_argument("--verbose", action="store_true", help="print more, including the ONNX initializer names")
    ap.add_argument(
        "--exports-only", action="store_true", help="only write models/exports/ (from the committed models/tiny-640.onnx)"
    )
    args = ap.parse_args(argv)

    os.environ.setdefault("YOLO_VERBOSE", "False")
    import cv2
    import torch

    import convert
    import fastsam_reference as ref

    torch.set_num_threads(1)  # reproducible float sums while the weights are made
    out = Path(args.out)
    target = Path(args.target)
    for sub in ("images", "models", "reference"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    if not args.exports_only:
        for old in (out / "reference").glob("*"):
            old.unlink()

    # images
    images = {}
    for stem, w, h, s in IMAGES:
        rgb = synthetic_image(IMAGE_SEED + s, w, h)
        p = out / "images" / f"{stem}.png"
        if args.exports_only:
            images[stem] = rgb
            continue
        cv2.imwrite(str(p), np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_PNG_COMPRESSION, 9])
        back = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)[..., ::-1]
        assert np.array_equal(back, rgb)
        images[stem] = rgb
    imgs = list(images.values())

    # model
    model = build_model(args.seed)
    smooth_proto_kernels(model)
    calibrate_batchnorm(model, imgs, 640, args.seed + 1)
    shrink_prototypes(model)
    scale_heads(model, imgs, 640)
    round_to_half(model)
    model.eval()
    n_params = sum(p.numel() for p in model.parameters())
    widths = layer_widths(model)
    behaviour = {S: check_model_behaviour(model, imgs, S) for S in (640, 1024)}
    pt_path = target / "tiny.pt"
    save_checkpoint(model, pt_path)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if args.exports_only:
        write_exports(model, out, target)
        return 0

    onnx_paths = {}
    for stem, S, simplify in MODELS:
        p = out / "models" / f"{stem}.onnx"
        convert.export_onnx(pt_path, S, p, simplify=simplify)
        import onnx

        relabel_fixture_metadata(p)
        info = convert.check_onnx_layout(onnx.load(str(p)), S, model)
        onnx_paths[stem] = (p, S)
        print(
            f"{p.name}: {p.stat().st_size / 1e3:.0f} kB, {len(info['initializers'])} initializers, "
            f"{len(info['identity_aliases'])} Identity aliases, simplify={simplify}"
        )
    write_exports(model, out, target)
    if args.verbose:
        print("initializers of tiny-640.onnx:")
        for n in onnx_initializer_names(onnx_paths["tiny-640"][0]):
            print("  ", n)

    (out / "resize_cases.bin").write_bytes(resize_cases(IMAGE_SEED + 2))

    # references
    torch_model = convert.load_torch_model(pt_path)
    summary = []
    for mstem, (mpath, S) in onnx_paths.items():
        for istem, rgb in images.items():
            name = f"{mstem}__{istem}"
            stats: dict[str, Any] = {}
            case, o0, o1 = ref.make_case(
                mpath,
                rgb,
                S,
                model_ref=f"models/{mpath.name}",
                image_ref=f"images/{istem}.png",
                conf=CONF,
                iou=IOU,
                max_det=MAX_DET,
                torch_model=torch_model,
                stats=stats,
            )
            stats["margins"] = decision_margins(stats["raw_outputs"][0], S)
            jp = out / "reference" / f"{name}.json"
            jp.write_text(json.dumps(case, separators=(",", ":")) + "\n")
            np.save(out / "reference" / f"{name}.output0.npy", o0)
            np.save(out / "reference" / f"{name}.output1.npy", o1)
            summary.append((name, stats, case, jp.stat().st_size))

    # summary
    print(f"\nmodel: YOLOv8-seg layout, scale (depth, width, max_channels) = {SCALE}, {n_params} parameters")
    print(f"  output channels of layers 0-21: {widths}")
    head = model.model[-1]
    print(
        f"  head: levels {[c[0].conv.in_channels for c in head.cv2]}, box branch {head.cv2[0][0].conv.out_channels}, "
        f"class branch {head.cv3[0][0].conv.out_channels}, coefficient branch {head.cv4[0][0].conv.out_channels}, "
        f"proto {head.proto.cv1.conv.out_channels} -> {head.nm}, reg_max {head.reg_max}"
    )
    for S, b in behaviour.items():
        print(
            f"  torch @{S}: fraction above {CONF} per image {[round(f, 3) for f in b['frac_above']]}, "
            f"NMS kept {b['nms_kept']}, box width p10/p50/p90 {[round(v, 1) for v in b['box_w_quartiles']]}"
        )
    print(f"\n{'case':34s} {'>conf':>6s} {'cand':>5s} {'off':>4s} {'ult':>4s} {'full':>5s} {'empty':>5s} {'torch diff':>10s} {'json':>8s}")
    for name, st, case, size in summary:
        print(
            f"{name:34s} {st['frac_above_conf']:6.3f} {st['candidates']:5d} {st['official_detections']:4d} "
            f"{st['ultralytics_detections']:4d} {str(st['full_frame_replaced']):>5s} {st['empty_official_masks']:5d} "
            f"{case['raw'].get('torch_vs_onnxruntime_max_abs', float('nan')):10.2e} {size / 1e3:7.0f}k"
        )
        mg = st["margins"]
        print(
            f"   margins: NMS set changed in {mg['nms_unstable']}/{mg['trials']} perturbed runs "
            f"(order in {mg['nms_reordered']}), snap {mg['snap_margin']:.3f} px, "
            f"frame IoU {mg['frame_iou_margin']:.4f}, kept score gap {mg['kept_score_gap']:.2e}"
        )
        tp = st.get("torch_postprocess")
        if tp:
            print(
                "   official post-processing on PyTorch's raw outputs instead: "
                + ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in tp.items())
            )
        if st["score_ties_among_candidates"] or st["score_at_threshold"]:
            print(f"   note: {st['score_ties_among_candidates']} tied candidate scores, {st['score_at_threshold']} at the threshold")
    total = 0
    print("\nfiles:")
    for p in sorted(out.rglob("*")):
        if p.is_file():
            total += p.stat().st_size
            if args.verbose or p.suffix in (".onnx", ".png", ".bin"):
                print(f"  {p.relative_to(out)}  {p.stat().st_size / 1e3:.1f} kB")
    print(f"total {total / 1e6:.2f} MB in {out}")
    print(f"checkpoint: {pt_path} ({pt_path.stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
