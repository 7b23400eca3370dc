"""Reference implementation of the FastSAM post-processing used to make test fixtures.

This module is a library (no command line). It produces the numbers that the Rust
crate is tested against, following the layout and the semantics in
``tests/fixtures/FORMAT.md``:

* ``letterbox``          - the exact pixels ultralytics feeds a fixed-size export;
* ``run_onnx``           - the raw outputs from onnxruntime (CPU);
* ``official_postprocess`` / ``official_prompts`` - the CASIA-IVA-Lab/FastSAM
  semantics (NMS, full-image fix-up, box scaling, native mask processing, prompts),
  written here with torch so that the float32 arithmetic matches;
* ``ultralytics_predict`` / ``ultralytics_prompt_indices`` - what the installed
  ``ultralytics`` package itself returns for the same ONNX file;
* ``rle_encode`` / ``rle_decode`` - COCO uncompressed (column-major) RLE;
* ``make_case``          - one complete reference case (JSON dict + sampled raw outputs).

The code here is our own; ultralytics is only imported and called.
"""

from __future__ import annotations

import copy
import hashlib
import math
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F
import torchvision  # also makes ultralytics' NMS use torchvision's (stable) kernel, see _nms

__all__ = [
    "letterbox",
    "run_onnx",
    "official_postprocess",
    "official_everything",
    "official_point_prompt",
    "official_box_prompt",
    "official_prompts",
    "ultralytics_predict",
    "ultralytics_prompt_indices",
    "rle_encode",
    "rle_decode",
    "choose_prompts",
    "pick_stride",
    "make_case",
]

# Border snapping distance and full-frame IoU threshold of the official fix-up
# (constants in the official predictor, independent of the user's conf / iou).
FIXUP_BORDER = 20
FIXUP_IOU = 0.9

# Interpolating every mask of a large photo at once needs n*h*w floats: do it in chunks.
_PIXEL_BUDGET = 24_000_000


# --------------------------------------------------------------------------------------
# Pre-processing and inference
# --------------------------------------------------------------------------------------


def letterbox(rgb: np.ndarray, size: int) -> tuple[np.ndarray, dict[str, int]]:
    """Letterbox an RGB u8 image to ``size`` x ``size`` exactly as ultralytics does for a
    fixed-size export (``LetterBox(new_shape=(S, S), auto=False)``: aspect-preserving
    cv2 INTER_LINEAR resize, centred, padded with 114).

    ultralytics works on BGR; the resize and the padding act on each channel on its own,
    so converting to BGR and back gives the same pixels.

    Returns the letterboxed RGB image (S, S, 3) u8 and
    ``{"new_width", "new_height", "left", "top"}`` (the content rectangle).
    """
    from ultralytics.data.augment import LetterBox

    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError("letterbox expects an (H, W, 3) uint8 RGB image")
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    lb = LetterBox(new_shape=(size, size), auto=False)
    params = lb.get_params({"img": bgr})
    out = lb(image=bgr)
    if out.shape != (size, size, 3):
        raise AssertionError(f"unexpected letterbox shape {out.shape}")
    new_w, new_h = params["new_unpad"]
    info = {
        "new_width": int(new_w),
        "new_height": int(new_h),
        "left": int(params["left"]),
        "top": int(params["top"]),
    }
    return np.ascontiguousarray(out[..., ::-1]), info


def to_input_tensor(lb_rgb_u8: np.ndarray) -> np.ndarray:
    """(S, S, 3) RGB u8 -> (1, 3, S, S) float32 in 0..1 (x / 255 in float32, as ultralytics)."""
    x = lb_rgb_u8.transpose(2, 0, 1)[None].astype(np.float32)
    return np.ascontiguousarray(x / np.float32(255.0))


_SESSIONS: dict[str, Any] = {}


def run_onnx(onnx_path: str | Path, lb_rgb_u8: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run the ONNX model on a letterboxed RGB u8 image with onnxruntime (CPU).

    Returns ``(output0, output1)`` as float32 arrays, e.g. (1, 37, 8400) and (1, 32, 160, 160).
    """
    import onnxruntime as ort

    key = str(Path(onnx_path).resolve())
    sess = _SESSIONS.get(key)
    if sess is None:
        sess = ort.InferenceSession(key, providers=["CPUExecutionProvider"])
        _SESSIONS[key] = sess
    feed = {sess.get_inputs()[0].name: to_input_tensor(lb_rgb_u8)}
    out0, out1 = sess.run(None, feed)
    return np.asarray(out0, dtype=np.float32), np.asarray(out1, dtype=np.float32)


# --------------------------------------------------------------------------------------
# Official semantics (CASIA-IVA-Lab/FastSAM + the ultralytics 8.0.x ops it vendors)
# --------------------------------------------------------------------------------------


def _nms(output0: np.ndarray, conf: float, iou: float, max_det: int, max_nms: int = 30000) -> torch.Tensor:
    """Step 1: candidates with score > conf (compared in float32), boxes cx,cy,w,h -> x1,y1,x2,y2
    (x -/+ w/2), class-agnostic torchvision NMS (IoU > iou suppresses; its sort is stable, so
    ties go to the lower anchor index), first max_det kept.

    This is what ultralytics' ``non_max_suppression(nc=1)`` computes when torchvision is
    imported; without it ultralytics falls back to its own loop, whose argsort is not stable.
    Returns (n, 38): x1, y1, x2, y2, score, class (0), 32 coefficients, in the input frame.
    """
    pred = torch.from_numpy(np.ascontiguousarray(output0[0], dtype=np.float32)).T  # (N, 37)
    cand = pred[pred[:, 4] > conf]
    if cand.shape[0] > max_nms:  # never with the usual input sizes (21504 anchors at 1024)
        cand = cand[torch.sort(cand[:, 4], descending=True, stable=True).indices[:max_nms]]
    half = cand[:, 2:4] / 2
    boxes = torch.cat([cand[:, :2] - half, cand[:, :2] + half], 1)
    keep = torchvision.ops.nms(boxes, cand[:, 4].contiguous(), iou)[:max_det]
    cls = torch.zeros((cand.shape[0], 1), dtype=torch.float32)
    return torch.cat([boxes, cand[:, 4:5], cls, cand[:, 5:]], 1)[keep].clone()


def _fixup_full_frame(det: torch.Tensor, size: int) -> torch.Tensor:
    """Step 2, in place on ``det`` (input frame, S x S): snap every box to the frame border
    when within 20 px, then turn boxes whose IoU with [0, 0, S, S] is > 0.9 into that box.

    The official code snaps all rows (its IoU helper adjusts the boxes in place) and
    computes the IoU in float32 on the snapped boxes. It can only replace one box; when
    several qualify we replace each one, keeping its own score and coefficients.
    Returns the indices of the replaced rows.
    """
    boxes = det[:, :4]  # a view: the edits below land in det
    zero = torch.tensor(0.0, dtype=torch.float32)
    edge = torch.tensor(float(size), dtype=torch.float32)
    boxes[:, 0] = torch.where(boxes[:, 0] < FIXUP_BORDER, zero, boxes[:, 0])
    boxes[:, 1] = torch.where(boxes[:, 1] < FIXUP_BORDER, zero, boxes[:, 1])
    boxes[:, 2] = torch.where(boxes[:, 2] > size - FIXUP_BORDER, edge, boxes[:, 2])
    boxes[:, 3] = torch.where(boxes[:, 3] > size - FIXUP_BORDER, edge, boxes[:, 3])

    frame = torch.tensor([0.0, 0.0, float(size), float(size)], dtype=torch.float32)
    ix1 = torch.maximum(frame[0], boxes[:, 0])
    iy1 = torch.maximum(frame[1], boxes[:, 1])
    ix2 = torch.minimum(frame[2], boxes[:, 2])
    iy2 = torch.minimum(frame[3], boxes[:, 3])
    inter = (ix2 - ix1).clamp(0) * (iy2 - iy1).clamp(0)
    frame_area = (frame[2] - frame[0]) * (frame[3] - frame[1])
    box_area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    iou = inter / (frame_area + box_area - inter)
    hit = torch.nonzero(iou > FIXUP_IOU).flatten()
    if hit.numel():
        det[hit, :4] = frame
    return hit


def _scale_boxes_official(boxes_in: torch.Tensor, size: int, h: int, w: int) -> torch.Tensor:
    """Step 3 (8.0.x ``scale_boxes``): input frame -> original pixels, clipped.

    gain and pad are Python floats / ints; torch divides a float32 tensor by a Python
    float as ``x / float32(gain)``.
    """
    boxes = boxes_in.clone()
    gain = min(size / h, size / w)
    pad_x = round((size - w * gain) / 2 - 0.1)
    pad_y = round((size - h * gain) / 2 - 0.1)
    boxes[:, [0, 2]] -= pad_x
    boxes[:, [1, 3]] -= pad_y
    boxes[:, :4] /= gain
    boxes[:, 0].clamp_(0, w)
    boxes[:, 1].clamp_(0, h)
    boxes[:, 2].clamp_(0, w)
    boxes[:, 3].clamp_(0, h)
    return boxes


def _proto_crop_window(mh: int, mw: int, h: int, w: int) -> tuple[int, int, int, int]:
    """Rows top..bottom and columns left..right of the prototypes that hold the image
    (8.0.x ``process_mask_native``: int() truncation of the fractional padding)."""
    gain = min(mh / h, mw / w)
    pad_w = (mw - w * gain) / 2
    pad_h = (mh - h * gain) / 2
    top, left = int(pad_h), int(pad_w)
    bottom, right = int(mh - pad_h), int(mw - pad_w)
    return top, bottom, left, right


def _masks_from_logits(logits_crop: torch.Tensor, boxes: torch.Tensor, out_h: int, out_w: int) -> np.ndarray:
    """Bilinear (align_corners=False) resize of cropped logits to out_h x out_w, zero
    outside each box (column c kept iff x1 <= c < x2, rows likewise), then logit > 0.
    Works in chunks of detections (each mask is independent). Returns bool (n, out_h, out_w)."""
    n = logits_crop.shape[0]
    out = np.zeros((n, out_h, out_w), dtype=bool)
    if n == 0:
        return out
    # integer c satisfies x1 <= c < x2 exactly when ceil(x1) <= c < ceil(x2) (float32 values)
    lo = torch.ceil(boxes[:, :4].to(torch.float32)).clamp(-1, max(out_h, out_w) + 1).to(torch.int64).tolist()
    step = max(1, _PIXEL_BUDGET // max(1, out_h * out_w))
    for s in range(0, n, step):
        e = min(n, s + step)
        up = F.interpolate(logits_crop[None, s:e], (out_h, out_w), mode="bilinear", align_corners=False)[0]
        positive = (up > 0).numpy()
        for k in range(s, e):
            c1, r1, c2, r2 = lo[k]
            c1, r1 = max(c1, 0), max(r1, 0)
            c2, r2 = min(max(c2, c1), out_w), min(max(r2, r1), out_h)
            out[k, r1:r2, c1:c2] = positive[k - s, r1:r2, c1:c2]
    return out


def official_postprocess(
    output0: np.ndarray,
    output1: np.ndarray,
    image_hw: tuple[int, int],
    input_size: int,
    conf: float = 0.4,
    iou: float = 0.9,
    max_det: int = 300,
    letterbox_info: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Items 1-5 of the "official" section of FORMAT.md on one image.

    ``output0`` (1, 37, N) and ``output1`` (1, 32, mh, mw) are the raw outputs of the
    fixed-size export on the square letterbox of an ``image_hw`` = (h, w) image.
    ``letterbox_info`` (from :func:`letterbox`) places the low-resolution masks; it is
    recomputed from the shapes when omitted.

    Returns a dict with
      ``boxes``  (n, 4) float32, original pixels, detection order;
      ``scores`` (n,) float32;
      ``masks``  (n, h, w) bool retina masks;
      ``lowres`` (n, new_h, new_w) bool letterbox-content masks;
      ``boxes_input`` (n, 4) float32 boxes after the fix-up, input frame;
      ``coefficients`` (n, 32) float32; ``replaced`` indices turned into the full frame.
    """
    h, w = int(image_hw[0]), int(image_hw[1])
    size = int(input_size)
    if letterbox_info is None:
        dummy = np.zeros((h, w, 3), np.uint8)
        _, letterbox_info = letterbox(dummy, size)
    new_w, new_h = letterbox_info["new_width"], letterbox_info["new_height"]
    left, top = letterbox_info["left"], letterbox_info["top"]

    det = _nms(output0, conf, iou, max_det)
    replaced = _fixup_full_frame(det, size) if det.shape[0] else torch.zeros(0, dtype=torch.long)
    boxes_input = det[:, :4].clone()
    scores = det[:, 4].clone()
    coefs = det[:, 6:].clone()
    boxes = _scale_boxes_official(boxes_input, size, h, w)

    proto = torch.from_numpy(np.ascontiguousarray(output1[0], dtype=np.float32))
    c, mh, mw = proto.shape
    n = det.shape[0]
    if n:
        logits = (coefs @ proto.view(c, -1)).view(-1, mh, mw)
    else:
        logits = torch.zeros((0, mh, mw), dtype=torch.float32)
    t, b, l, r = _proto_crop_window(mh, mw, h, w)
    crop = logits[:, t:b, l:r]
    retina = _masks_from_logits(crop, boxes, h, w)
    shift = torch.tensor([left, top, left, top], dtype=torch.float32)
    lowres = _masks_from_logits(crop, boxes_input - shift, new_h, new_w)
    return {
        "boxes": boxes.numpy().astype(np.float32),
        "scores": scores.numpy().astype(np.float32),
        "masks": retina,
        "lowres": lowres,
        "boxes_input": boxes_input.numpy().astype(np.float32),
        "coefficients": coefs.numpy().astype(np.float32),
        "replaced": [int(i) for i in replaced.tolist()],
    }


def _areas(masks: np.ndarray) -> list[int]:
    return [int(a) for a in masks.reshape(masks.shape[0], -1).sum(axis=1)]


def official_everything(masks: np.ndarray) -> list[int]:
    """Indices of the masks by pixel count, largest first; ties keep detection order."""
    areas = _areas(masks)
    return sorted(range(len(areas)), key=lambda i: areas[i], reverse=True)


def official_point_prompt(masks: np.ndarray, points: Sequence[Sequence[int]], labels: Sequence[int]) -> np.ndarray:
    """Official ``point_prompt`` on retina masks (image pixels): walk the masks by area,
    largest first (stable); for each mask and each point in order, a mask containing a
    label-1 point is united into the result and one containing a label-0 point is erased
    from it. Returns one (h, w) bool mask."""
    h, w = masks.shape[1:]
    merged = np.zeros((h, w), dtype=bool)
    for i in official_everything(masks):
        m = masks[i]
        for (x, y), lab in zip(points, labels):
            x, y = int(x), int(y)
            if not (0 <= x < w and 0 <= y < h):
                raise ValueError("point prompts must lie inside the image")
            if m[y, x] and lab == 1:
                merged[m] = True
            if m[y, x] and lab == 0:
                merged[m] = False
    return merged


def official_box_prompt(masks: np.ndarray, boxes: Sequence[Sequence[float]]) -> list[int]:
    """Official ``box_prompt`` on retina masks: per box, round half-to-even, x1/y1 floored
    at 0 and x2/y2 capped at the mask size, IoU = inter / (box_area + mask_area - inter)
    in float32, first argmax. Returns the de-duplicated indices, ascending."""
    n, h, w = masks.shape
    if n == 0:
        return []
    full = torch.tensor(_areas(masks), dtype=torch.float32)  # exact: counts < 2**24
    picked = []
    for bx in boxes:
        x1 = round(bx[0]) if round(bx[0]) > 0 else 0
        y1 = round(bx[1]) if round(bx[1]) > 0 else 0
        x2 = round(bx[2]) if round(bx[2]) < w else w
        y2 = round(bx[3]) if round(bx[3]) < h else h
        box_area = (y2 - y1) * (x2 - x1)
        inside = masks[:, y1:y2, x1:x2].reshape(n, -1).sum(axis=1)
        inter = torch.tensor([int(v) for v in inside], dtype=torch.float32)
        union = box_area + full - inter
        ious = inter / union
        picked.append(int(torch.argmax(ious)))
    return sorted(set(picked))


def official_prompts(masks: np.ndarray, prompts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fill the ``"official"`` entry of each prompt dict (item 6 of FORMAT.md).

    ``prompts`` items: ``{"type": "everything"}``, ``{"type": "points", "points": [[x, y], ...],
    "labels": [...]}`` or ``{"type": "boxes", "boxes": [[x1, y1, x2, y2], ...]}``.
    Points results are RLE dicts, the others index lists. Returns new dicts.
    """
    out = []
    for p in prompts:
        q = dict(p)
        if p["type"] == "everything":
            q["official"] = official_everything(masks)
        elif p["type"] == "points":
            q["official"] = rle_encode(official_point_prompt(masks, p["points"], p["labels"]))
        elif p["type"] == "boxes":
            q["official"] = official_box_prompt(masks, p["boxes"])
        else:
            raise ValueError(f"unknown prompt type {p['type']!r}")
        out.append(q)
    return out


# --------------------------------------------------------------------------------------
# ultralytics' own FastSAM predictor
# --------------------------------------------------------------------------------------


def ultralytics_predict(
    onnx_path: str | Path,
    bgr_image: np.ndarray,
    input_size: int,
    conf: float = 0.4,
    iou: float = 0.9,
    max_det: int = 300,
):
    """Run ``ultralytics.FastSAM(onnx).predict`` (retina masks, CPU) on a BGR u8 image.

    Returns ``(predictor, results)``: the predictor (for :func:`ultralytics_prompt_indices`)
    and its list of ``Results`` for the no-prompt call.
    """
    from ultralytics import FastSAM

    model = FastSAM(str(onnx_path))
    results = model.predict(
        source=np.ascontiguousarray(bgr_image),
        imgsz=input_size,
        conf=conf,
        iou=iou,
        max_det=max_det,
        retina_masks=True,
        device="cpu",
        verbose=False,
    )
    return model.predictor, results


def ultralytics_arrays(results) -> dict[str, np.ndarray]:
    """Boxes (n, 4) float32, scores (n,) float32 and masks (n, h, w) bool of a no-prompt result."""
    r = results[0]
    data = r.boxes.data.detach().cpu()
    h, w = r.orig_shape
    if data.shape[0] == 0 or r.masks is None:
        return {
            "boxes": np.zeros((0, 4), np.float32),
            "scores": np.zeros((0,), np.float32),
            "masks": np.zeros((0, h, w), bool),
        }
    return {
        "boxes": data[:, :4].numpy().astype(np.float32),
        "scores": data[:, 4].numpy().astype(np.float32),
        "masks": r.masks.data.detach().cpu().numpy() > 0,
    }


def ultralytics_prompt_indices(predictor, results, bboxes=None, points=None, labels=None) -> list[int]:
    """Call the predictor's own ``prompt`` on a deep copy of the no-prompt ``results`` and
    map the returned rows back to indices of the no-prompt detections (exact match of
    ``boxes.data`` rows, in order). Returns ascending indices."""
    base = results[0].boxes.data.detach().cpu()
    got = predictor.prompt(copy.deepcopy(results), bboxes=bboxes, points=points, labels=labels)
    rows = got[0].boxes.data.detach().cpu() if len(got) and got[0].boxes is not None else base[:0]
    indices = []
    j = 0
    for row in rows:
        while j < base.shape[0] and not torch.equal(base[j], row):
            j += 1
        if j == base.shape[0]:
            raise AssertionError("a prompted row does not match any no-prompt detection")
        indices.append(j)
        j += 1
    return indices


# --------------------------------------------------------------------------------------
# RLE
# --------------------------------------------------------------------------------------


def rle_encode(mask: np.ndarray) -> dict[str, Any]:
    """COCO uncompressed RLE of an (h, w) bool mask: column-major order, alternating runs
    starting with a (possibly empty) run of zeros."""
    mask = np.asarray(mask, dtype=bool)
    h, w = mask.shape
    flat = mask.ravel(order="F")
    if flat.size == 0:
        return {"size": [int(h), int(w)], "counts": []}
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], change, [flat.size]))
    runs = np.diff(bounds)
    counts = runs.tolist()
    if flat[0]:
        counts = [0] + counts
    return {"size": [int(h), int(w)], "counts": [int(c) for c in counts]}


def rle_decode(rle: dict[str, Any]) -> np.ndarray:
    """Inverse of :func:`rle_encode`: (h, w) bool mask."""
    h, w = rle["size"]
    counts = np.asarray(rle["counts"], dtype=np.int64)
    if counts.sum() != h * w:
        raise ValueError("RLE counts do not add up to the mask size")
    values = np.zeros(len(counts), dtype=bool)
    values[1::2] = True
    flat = np.repeat(values, counts)
    return flat.reshape((w, h)).T.copy()


# --------------------------------------------------------------------------------------
# Prompt choice (deterministic, from the official detections)
# --------------------------------------------------------------------------------------


def _boundary_distance(masks: np.ndarray) -> np.ndarray:
    """Per pixel: distance (px) to the nearest edge of any mask (a pixel whose 4-neighbour
    differs), so a point chosen where it is large keeps its containment under small mask
    differences."""
    n, h, w = masks.shape
    edge = np.zeros((h, w), dtype=bool)
    for m in masks:
        dy = m[1:, :] != m[:-1, :]
        dx = m[:, 1:] != m[:, :-1]
        edge[1:, :] |= dy
        edge[:-1, :] |= dy
        edge[:, 1:] |= dx
        edge[:, :-1] |= dx
    if not edge.any():
        return np.full((h, w), np.float32(1e4), dtype=np.float32)
    return cv2.distanceTransform((~edge).astype(np.uint8), cv2.DIST_L2, 5)


def _best_pixel(score: np.ndarray, allowed: np.ndarray) -> tuple[int, int] | None:
    """(x, y) of the first (raster order) maximum of ``score`` over ``allowed`` pixels."""
    if not allowed.any():
        return None
    s = np.where(allowed, score, -np.inf)
    y, x = np.unravel_index(int(np.argmax(s)), s.shape)
    return int(x), int(y)


def _inner_margin(h: int, w: int) -> np.ndarray:
    m = np.zeros((h, w), bool)
    my, mx = max(1, h // 50), max(1, w // 50)
    m[my : h - my, mx : w - mx] = True
    return m


def _box_margin(masks: np.ndarray, box: Sequence[int], full: np.ndarray) -> float:
    """Gap between the best and the second-best official box-prompt IoU for one box
    (``full``: the mask areas)."""
    n, h, w = masks.shape
    x1, y1, x2, y2 = box
    inter = masks[:, y1:y2, x1:x2].reshape(n, -1).sum(axis=1).astype(np.float64)
    union = (x2 - x1) * (y2 - y1) + full - inter
    ious = np.sort(inter / np.maximum(union, 1))[::-1]
    return float(ious[0] - (ious[1] if n > 1 else 0.0))


def _spread_pick(items: list[int], k: int) -> list[int]:
    """At most k items, evenly spread over the list (keeps the prompt search cheap)."""
    if len(items) <= k:
        return list(items)
    return [items[round(j * (len(items) - 1) / (k - 1))] for j in range(k)]


def _perturb_box(box: np.ndarray, d: Sequence[int], w: int, h: int) -> list[int]:
    x1 = int(np.clip(round(float(box[0])) + d[0], 0, w - 2))
    y1 = int(np.clip(round(float(box[1])) + d[1], 0, h - 2))
    x2 = int(np.clip(round(float(box[2])) + d[2], x1 + 1, w - 1))
    y2 = int(np.clip(round(float(box[3])) + d[3], y1 + 1, h - 1))
    return [x1, y1, x2, y2]


def choose_prompts(boxes: np.ndarray, masks: np.ndarray) -> list[dict[str, Any]]:
    """Deterministic prompts from the official detections of one image.

    * everything;
    * one positive point well inside a mid-sized mask;
    * two positives (in a smaller and a larger mask) and one negative inside their union;
    * only negative points (two);
    * one positive point where the most masks overlap;
    * one box: a mid-sized detection box, moved by a few pixels;
    * two boxes: a large central box and another detection box moved by a few pixels.
    Points are chosen far from every mask edge; all coordinates are integers inside the image.
    """
    n, h, w = masks.shape
    prompts: list[dict[str, Any]] = [{"type": "everything"}]
    if n == 0:
        return prompts
    areas = np.array(_areas(masks))
    full = areas.astype(np.float64)
    nonempty = [i for i in official_everything(masks) if areas[i] > 0][::-1]  # ascending area
    if not nonempty:
        return prompts
    dist = _boundary_distance(masks)
    inner = _inner_margin(h, w)

    def point_in(i: int) -> tuple[int, int] | None:
        return _best_pixel(dist, masks[i] & inner)

    def roomy_point(rank: float, exclude: tuple[int, ...] = ()) -> tuple[int, tuple[int, int] | None]:
        """Among the masks ranked (by area) nearest to ``rank`` (0 smallest .. 1 largest), the
        one with the most room: its deepest point is the farthest from any mask edge."""
        centre = rank * (len(nonempty) - 1)
        near = sorted(range(len(nonempty)), key=lambda k: (abs(k - centre), k))[:6]
        best: tuple[float, int, tuple[int, int] | None] = (-1.0, nonempty[near[0]], None)
        for k in near:
            i = nonempty[k]
            if i in exclude:
                continue
            p = point_in(i)
            if p is not None and dist[p[1], p[0]] > best[0]:
                best = (float(dist[p[1], p[0]]), i, p)
        return best[1], best[2]

    # single positive in a mid-sized mask
    i_mid, p_mid = roomy_point(0.5)
    p_mid = p_mid or (w // 2, h // 2)
    prompts.append({"type": "points", "points": [list(p_mid)], "labels": [1]})

    # two positives (a smaller and a larger mask), one negative in the region they select
    i_small, pa = roomy_point(0.3)
    _, pb = roomy_point(0.8, exclude=(i_small,))
    pa = pa or (w // 3, h // 3)
    pb = pb or (2 * w // 3, 2 * h // 3)
    if pb == pa:
        pb = _best_pixel(dist, inner & ~masks[i_small]) or (2 * w // 3, 2 * h // 3)
    sel = np.zeros((h, w), bool)
    for m in masks:
        if m[pa[1], pa[0]] or m[pb[1], pb[0]]:
            sel |= m
    yy, xx = np.mgrid[0:h, 0:w]
    away = ((xx - pa[0]) ** 2 + (yy - pa[1]) ** 2 > (min(h, w) // 10) ** 2) & (
        (xx - pb[0]) ** 2 + (yy - pb[1]) ** 2 > (min(h, w) // 10) ** 2
    )
    pn = _best_pixel(dist, sel & away & inner) or _best_pixel(dist, away & inner) or (w - 2, h - 2)
    prompts.append({"type": "points", "points": [list(pa), list(pb), list(pn)], "labels": [1, 1, 0]})

    # only negatives: inside the largest mask and inside a mid one
    i_big, n1 = roomy_point(1.0)
    _, n2 = roomy_point(0.5, exclude=(i_big,))
    n1 = n1 or (w // 4, h // 4)
    n2 = n2 or (3 * w // 4, 3 * h // 4)
    if n2 == n1:
        n2 = _best_pixel(dist, inner & ~masks[i_big]) or (3 * w // 4, 3 * h // 4)
    prompts.append({"type": "points", "points": [list(n1), list(n2)], "labels": [0, 0]})

    # positive where most masks overlap (exercises the order of the union / erase walk),
    # at least 3 px from any mask edge where possible
    cover = masks.reshape(n, -1).sum(axis=0).reshape(h, w).astype(np.float32)
    score = cover * 1e4 + np.minimum(dist, 1e3)
    fresh = inner & ((xx - p_mid[0]) ** 2 + (yy - p_mid[1]) ** 2 > (min(h, w) // 10) ** 2)  # not the first prompt again
    p_many = _best_pixel(score, fresh & (dist >= 3)) or _best_pixel(score, fresh) or (w // 2, h // 2)
    prompts.append({"type": "points", "points": [list(p_many)], "labels": [1]})

    # one box near a mid-sized detection: among mid-sized ones, the clearest winner
    mid = _spread_pick(nonempty[len(nonempty) // 4 : max(len(nonempty) // 4 + 1, 3 * len(nonempty) // 4)], 8)
    cands = [(_box_margin(masks, _perturb_box(boxes[i], (3, -2, -4, 5), w, h), full), -k, i) for k, i in enumerate(mid)]
    i_box = max(cands)[2]
    box1 = _perturb_box(boxes[i_box], (3, -2, -4, 5), w, h)
    prompts.append({"type": "boxes", "boxes": [box1]})

    # two boxes: a large central one (the margin with the clearest winner) and another
    # detection box, moved
    bigs = [[w // k, h // k, w - 1 - w // k, h - 1 - h // k] for k in (10, 8, 6, 5)]
    big = max((_box_margin(masks, b, full), -k, b) for k, b in enumerate(bigs))[2]
    rest = _spread_pick([i for i in nonempty if i != i_box] or [i_box], 8)
    cands = [(_box_margin(masks, _perturb_box(boxes[i], (-3, 2, 2, -3), w, h), full), -k, i) for k, i in enumerate(rest)]
    i_box2 = max(cands)[2]
    box2 = _perturb_box(boxes[i_box2], (-3, 2, 2, -3), w, h)
    prompts.append({"type": "boxes", "boxes": [box2, big]})
    return prompts


# --------------------------------------------------------------------------------------
# One reference case
# --------------------------------------------------------------------------------------


def _is_prime(k: int) -> bool:
    return k >= 2 and all(k % d for d in range(2, int(math.isqrt(k)) + 1))


def pick_stride(numel: int, target: int = 8200) -> int:
    """Smallest prime stride giving at most ``target`` samples (about 8k values with the
    output sizes used here); a prime avoids locking onto one channel or anchor."""
    s = max(2, -(-numel // target))
    while not _is_prime(s):
        s += 1
    return s


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = int(np.logical_or(a, b).sum())
    return 1.0 if union == 0 else int(np.logical_and(a, b).sum()) / union


def _f(x) -> float:
    """float32 value -> the Python float that prints and parses back to the same float32."""
    return float(np.float32(x))


def make_case(
    onnx_path: str | Path,
    rgb: np.ndarray,
    input_size: int,
    *,
    model_ref: str,
    image_ref: str,
    conf: float = 0.4,
    iou: float = 0.9,
    max_det: int = 300,
    torch_model: torch.nn.Module | None = None,
    stats: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Build one reference case (FORMAT.md ``reference/<case>.json``) for an RGB u8 image.

    ``model_ref`` / ``image_ref`` are written as given ("model" / "image" of the JSON).
    With ``torch_model`` (a fp32 SegmentationModel in eval mode) the raw outputs are also
    compared with PyTorch and ``torch_vs_onnxruntime_max_abs`` is recorded. ``stats``, if
    given, is filled with summary numbers for the caller's report.

    Returns ``(case_dict, output0_sampled, output1_sampled)`` (1-D float32 arrays).
    """
    h, w = rgb.shape[:2]
    lb, info = letterbox(rgb, input_size)
    out0, out1 = run_onnx(onnx_path, lb)

    s0 = pick_stride(out0.size)
    s1 = pick_stride(out1.size)
    raw: dict[str, Any] = {
        "output0_shape": list(out0.shape),
        "output1_shape": list(out1.shape),
        "output0_stride": s0,
        "output1_stride": s1,
    }
    if torch_model is not None:
        x = torch.from_numpy(to_input_tensor(lb))
        with torch.no_grad():
            y = torch_model(x)
        t0, t1 = y[0] if isinstance(y[0], (tuple, list)) else (y[0], y[1])
        diff0 = float(np.abs(t0.numpy() - out0).max())
        diff1 = float(np.abs(t1.numpy() - out1).max())
        raw["torch_vs_onnxruntime_max_abs"] = max(diff0, diff1)
        if stats is not None:
            stats["torch_diff_output0"] = diff0
            stats["torch_diff_output1"] = diff1
            stats["torch_raw"] = (t0.numpy(), t1.numpy())

    off = official_postprocess(out0, out1, (h, w), input_size, conf, iou, max_det, letterbox_info=info)
    predictor, results = ultralytics_predict(onnx_path, np.ascontiguousarray(rgb[..., ::-1]), input_size, conf, iou, max_det)
    ul = ultralytics_arrays(results)

    prompts = official_prompts(off["masks"], choose_prompts(off["boxes"], off["masks"]))
    for p in prompts:
        if p["type"] == "points":
            p["ultralytics"] = ultralytics_prompt_indices(predictor, results, points=p["points"], labels=p["labels"])
        elif p["type"] == "boxes":
            p["ultralytics"] = ultralytics_prompt_indices(predictor, results, bboxes=p["boxes"])

    case = {
        "model": model_ref,
        "image": image_ref,
        "input_size": int(input_size),
        "image_width": int(w),
        "image_height": int(h),
        "letterbox": {**info, "sha256": hashlib.sha256(np.ascontiguousarray(lb).tobytes()).hexdigest()},
        "raw": raw,
        "conf": conf,
        "iou": iou,
        "max_det": int(max_det),
        "official": {
            "boxes": [[_f(v) for v in b] for b in off["boxes"]],
            "scores": [_f(v) for v in off["scores"]],
            "masks": [rle_encode(m) for m in off["masks"]],
            "lowres": {
                "width": info["new_width"],
                "height": info["new_height"],
                "masks": [rle_encode(m) for m in off["lowres"]],
            },
        },
        "ultralytics": {
            "boxes": [[_f(v) for v in b] for b in ul["boxes"]],
            "scores": [_f(v) for v in ul["scores"]],
            "masks": [rle_encode(m) for m in ul["masks"]],
        },
        "prompts": prompts,
    }

    if stats is not None and "torch_raw" in stats:
        # the same post-processing on PyTorch's raw outputs: how far another engine's float
        # noise moves the final results (detections in the same order expected)
        tt = official_postprocess(*stats.pop("torch_raw"), (h, w), input_size, conf, iou, max_det, letterbox_info=info)
        same = len(tt["scores"]) == len(off["scores"])
        agree: dict[str, Any] = {"same_count": same}
        if same and len(tt["scores"]):
            agree["max_score_diff"] = float(np.abs(tt["scores"] - off["scores"]).max())
            agree["max_box_diff"] = float(np.abs(tt["boxes"] - off["boxes"]).max())
            agree["min_mask_iou"] = min(_iou(a, b) for a, b in zip(tt["masks"], off["masks"]))
            agree["min_lowres_iou"] = min(_iou(a, b) for a, b in zip(tt["lowres"], off["lowres"]))
            agree["mask_pixels_differing"] = int(sum(int((a != b).sum()) for a, b in zip(tt["masks"], off["masks"])))
        stats["torch_postprocess"] = agree
    if stats is not None:
        scores = out0[0, 4]
        stats.update(
            {
                "anchors": int(scores.size),
                "frac_above_conf": float((scores > np.float32(conf)).mean()),
                "candidates": int((scores > np.float32(conf)).sum()),
                "official_detections": int(len(off["scores"])),
                "ultralytics_detections": int(len(ul["scores"])),
                "full_frame_replaced": off["replaced"],
                "empty_official_masks": int(sum(1 for m in off["masks"] if not m.any())),
                "score_ties_among_candidates": int(
                    len(scores[scores > np.float32(conf)]) - len(np.unique(scores[scores > np.float32(conf)]))
                ),
                "score_at_threshold": int((scores == np.float32(conf)).sum()),
                "official": off,
                "ultralytics": ul,
                "letterbox_rgb": lb,
                "raw_outputs": (out0, out1),
                "letterbox_info": info,
            }
        )
    return case, out0.reshape(-1)[::s0].astype(np.float32), out1.reshape(-1)[::s1].astype(np.float32)
