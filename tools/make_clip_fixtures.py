"""Build the CLIP test fixtures in tests/fixtures/clip/ (seeded, reproducible), as laid out in
the "CLIP fixtures" section of tests/fixtures/FORMAT.md and in tests/fixtures/clip/CONTRACT.md:

* ``tiny-clip-image.onnx`` / ``tiny-clip-text.onnx``: a reduced open_clip ``CLIP`` (QuickGELU,
  the ViT-B/32 layout with small widths: embed 16; vision width 32, 2 layers, 2 heads, 32 px
  patches on 224 px; text width 8, 2 layers, 2 heads, context 77, vocabulary 49408), seeded random
  init, a few weights scaled so that the embeddings depend clearly on the input; exported with
  tools/clip_export.py's own modules (the same code users convert real weights with);
* ``tiny-clip.json`` + ``tiny-clip.pixels.npy`` / ``tiny-clip.image_embeds.npy`` /
  ``tiny-clip.text_embeds.npy``: reference embeddings of open_clip (PyTorch) for preprocessed
  crops of the fixture images and for varied sentences (their token ids in the JSON);
* ``text_selection.json``: the text prompt end to end on the tiny-640 segmentation of fixture
  images (official retina masks of tools/fastsam_reference.py): region crops, cosines, softmax,
  best mask per sentence and an "all" selection at a threshold.

Usage:
    python tools/make_clip_fixtures.py                 # into tests/fixtures/clip
    python tools/make_clip_fixtures.py --out /tmp/clipfx --models-only
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))

SEED = 7  # torch seed of the tiny CLIP's init

# tiny CLIP (ViT-B/32 layout, small widths)
EMBED = 16
VISION = dict(width=32, layers=2, heads=2)
TEXT = dict(width=8, layers=2, heads=2, vocab=49408)

# init scaling (see scale_init): the patch embedding is enlarged against the positional one, the
# class embedding shrunk, and the residual branches of the vision blocks enlarged, so that the
# class token carries the image instead of a constant
CONV_GAIN = 4.0
CLASS_GAIN = 0.2
VISION_BRANCH_GAIN = 4.0
LN_NOISE = 0.1  # LayerNorm weights 1 + LN_NOISE * N(0, 1), biases LN_NOISE / 2 * N(0, 1)
BIAS_NOISE = 0.02  # attention in/out projection biases

MIN_MARGIN = 1e-2  # smallest best - second-best cosine accepted per (image, sentence)
MIN_GAP = 3e-3  # smallest distance of the "all" threshold to any cosine

# reference embedding cases: (image stem, crop, description); crop is None (whole image),
# [x1, y1, x2, y2] (a plain rectangle), or {"instance": i}: the contract's region crop of the
# i-th official mask of the tiny-640 segmentation of that image (reference/tiny-640__<stem>.json)
IMAGE_CASES = [
    ("shapes_wide", None, "whole image (landscape 512x384, downscaled)"),
    ("shapes_tall", None, "whole image (portrait 360x540, downscaled)"),
    ("shapes_wide", [300, 20, 340, 300], "narrow tall strip (40x280)"),
    ("shapes_small", {"instance": 16}, "region crop of mask 16 (204x193, black outside the mask, upscaled)"),
]

TEXT_CASES = [
    "a photo of a red circle",
    "blue square",
    "",
    "A Green Triangle, on the LEFT!",
    "the sky at night with 3 stars",
    "dog",
    "a very small yellow blob next to a big purple rectangle in the corner",
    "café naïve résumé",
    "don't stop... it's 2024 :)",
    " ".join(["repeat"] * 90),  # longer than the context: truncated, EOT at position 76
]

# text prompt end to end
SELECTION_MODEL = "tiny-640"
SELECTION_IMAGES = ["shapes_wide", "shapes_tall"]
SENTENCE_POOL = [
    "a red circle",
    "the blue rectangle",
    "a green shape",
    "a small yellow object",
    "the background",
    "something purple on the right",
    "an orange polygon",
    "a dark blob",
    "a white square in the middle",
    "the largest object",
    "a pink triangle",
    "grey stripes",
]
N_SENTENCES = 6
AREA_MIN = 100  # masks with area <= AREA_MIN are skipped (contract)


# --------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------


def build_tiny_clip(seed: int = SEED):
    """Seeded random-init reduced open_clip CLIP with the ViT-B/32 layout, scaled (eval mode)."""
    import torch
    from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg

    torch.manual_seed(seed)
    vision = CLIPVisionCfg(
        layers=VISION["layers"],
        width=VISION["width"],
        head_width=VISION["width"] // VISION["heads"],
        patch_size=32,
        image_size=224,
    )
    text = CLIPTextCfg(
        context_length=77, vocab_size=TEXT["vocab"], width=TEXT["width"], heads=TEXT["heads"], layers=TEXT["layers"]
    )
    model = CLIP(EMBED, vision_cfg=vision, text_cfg=text, quick_gelu=True)
    scale_init(model)
    return model.eval()


def scale_init(model) -> None:
    """Make the vision tower's class token depend on the image: an untrained ViT with the default
    init outputs nearly the same embedding for every image (cosines 0.9-0.99 between crops).
    Also give every LayerNorm and attention bias random values (the default init leaves them at
    1 / 0, which would let a port that swaps or drops them pass)."""
    import torch

    v = model.visual
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".ln_" in name or name.startswith("ln_") or name.startswith("visual.ln_"):
                if name.endswith(".weight"):
                    p.copy_(1.0 + LN_NOISE * torch.randn_like(p))
                else:
                    p.copy_(LN_NOISE / 2 * torch.randn_like(p))
            elif name.endswith("attn.in_proj_bias") or name.endswith("attn.out_proj.bias"):
                p.copy_(BIAS_NOISE * torch.randn_like(p))
        v.conv1.weight.mul_(CONV_GAIN)
        v.class_embedding.mul_(CLASS_GAIN)
        for b in v.transformer.resblocks:
            b.attn.out_proj.weight.mul_(VISION_BRANCH_GAIN)
            b.mlp.c_proj.weight.mul_(VISION_BRANCH_GAIN)


def state_dict(model) -> dict[str, Any]:
    return {k: v.detach().float().clone() for k, v in model.state_dict().items()}


def model_description(seed: int) -> str:
    return (
        f"fixture: random-init tiny CLIP, ViT-B/32 layout (embed {EMBED}; vision width {VISION['width']}, "
        f"{VISION['layers']} layers; text width {TEXT['width']}, {TEXT['layers']} layers), seed {seed}; not a trained model"
    )


def export_models(model, out: Path, seed: int) -> dict[str, Any]:
    """Write tiny-clip-image.onnx / tiny-clip-text.onnx through clip_export's own code."""
    import clip_export as ce

    sd = state_dict(model)
    lay = ce.check_openai_layout(sd, VISION["heads"], TEXT["heads"])
    paths = ce.export_onnx(sd, lay, out, model_description(seed), prefix="tiny-clip")
    info = {side: ce.check_onnx(paths[side], sd, lay, side) for side in ("image", "text")}
    return {"paths": paths, "layout": lay, "sd": sd, "info": info}


# --------------------------------------------------------------------------------------
# Preprocessing, region crops
# --------------------------------------------------------------------------------------


def load_rgb(stem: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(ROOT / "tests" / "fixtures" / "images" / f"{stem}.png").convert("RGB"))


def clip_preprocess():
    """open_clip's evaluation transform for a 224 px model (PIL bicubic resize, center crop,
    ToTensor, CLIP normalisation): the contract's preprocessing."""
    import open_clip

    return open_clip.image_transform(224, is_train=False)


def preprocess(rgb: np.ndarray) -> np.ndarray:
    """RGB u8 HWC -> float32 [3, 224, 224] through open_clip's transform."""
    from PIL import Image

    return clip_preprocess()(Image.fromarray(np.ascontiguousarray(rgb))).numpy().astype(np.float32)


def region_crop(rgb: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """The contract's region of a mask: tight box [x1, x2) x [y1, y2) of its pixels, pixels of
    the crop outside the mask set to black. Returns (crop, [x1, y1, x2, y2])."""
    ys, xs = np.nonzero(mask)
    x1, x2, y1, y2 = int(xs.min()), int(xs.max()) + 1, int(ys.min()), int(ys.max()) + 1
    crop = rgb[y1:y2, x1:x2].copy()
    crop[~mask[y1:y2, x1:x2]] = 0
    return crop, [x1, y1, x2, y2]


# --------------------------------------------------------------------------------------
# Encoders
# --------------------------------------------------------------------------------------


def encode(model, pixels: np.ndarray | None = None, tokens: np.ndarray | None = None) -> np.ndarray:
    """open_clip embeddings (not normalised), float32."""
    import torch

    with torch.no_grad():
        if pixels is not None:
            return model.encode_image(torch.from_numpy(pixels)).numpy().astype(np.float32)
        return model.encode_text(torch.from_numpy(tokens)).numpy().astype(np.float32)


def ort_run(path: Path, name: str, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 3
    s = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    return s.run(None, {name: x})[0]


def tokenize(sentences: list[str]) -> np.ndarray:
    import open_clip

    return open_clip.tokenize(sentences).numpy().astype(np.int64)


def cosines(img: np.ndarray, txt: np.ndarray) -> np.ndarray:
    """[K, M] cosine similarities (float64 from the float32 embeddings)."""
    a = img.astype(np.float64)
    b = txt.astype(np.float64)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return a @ b.T


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def _f(x) -> float:
    """float32 value -> the Python float that parses back to the same float32."""
    return float(np.float32(x))


# --------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------


def check_behaviour(model) -> dict[str, Any]:
    """Assert that different crops / sentences give clearly different embeddings and that
    crop-sentence cosines are spread (an untrained net could output a constant)."""
    crops = []
    for stem in ("shapes_wide", "shapes_tall", "shapes_small"):
        rgb = load_rgb(stem)
        h, w = rgb.shape[:2]
        crops += [rgb, rgb[: h // 2, : w // 2], rgb[h // 3 :, w // 3 :]]
    img = encode(model, pixels=np.stack([preprocess(c) for c in crops]))
    txt = encode(model, tokens=tokenize(SENTENCE_POOL))
    ci = cosines(img, img)
    ct = cosines(txt, txt)
    cx = cosines(img, txt)
    off_i = ci[~np.eye(len(ci), dtype=bool)]
    off_t = ct[~np.eye(len(ct), dtype=bool)]
    info = {
        "image_cos_offdiag_max": float(off_i.max()),
        "image_cos_offdiag_mean": float(off_i.mean()),
        "text_cos_offdiag_max": float(off_t.max()),
        "text_cos_offdiag_mean": float(off_t.mean()),
        "cross_cos_range_per_sentence_min": float((cx.max(0) - cx.min(0)).min()),
    }
    assert info["image_cos_offdiag_max"] < 0.99 and info["image_cos_offdiag_mean"] < 0.8, info
    assert info["text_cos_offdiag_max"] < 0.99 and info["text_cos_offdiag_mean"] < 0.8, info
    assert info["cross_cos_range_per_sentence_min"] > 0.1, info
    return info


# --------------------------------------------------------------------------------------
# Reference embeddings
# --------------------------------------------------------------------------------------


def embedding_cases(model, paths: dict[str, Path], out: Path) -> dict[str, Any]:
    pixels = []
    cases = []
    for stem, box, desc in IMAGE_CASES:
        rgb = load_rgb(stem)
        case: dict[str, Any] = {"image": f"images/{stem}.png", "description": desc}
        if box is None:
            crop = rgb
            case["crop"] = None
        elif isinstance(box, dict):
            _, masks, info = reference_masks(stem)
            crop, bbox = region_crop(rgb, masks[box["instance"]])
            case.update(crop=bbox, region_of={"reference_case": info["reference_case"], "instance": box["instance"]})
        else:
            crop = rgb[box[1] : box[3], box[0] : box[2]]
            case["crop"] = box
        pixels.append(preprocess(crop))
        cases.append(case)
    # Stored as float16 to halve the file; the references are computed from those rounded values,
    # so they are exact for whoever feeds the stored pixels.
    pixels = np.stack(pixels).astype(np.float16).astype(np.float32)
    tokens = tokenize(TEXT_CASES)
    img = encode(model, pixels=pixels)
    txt = encode(model, tokens=tokens)
    img_ort = ort_run(paths["image"], "pixels", pixels)
    txt_ort = ort_run(paths["text"], "tokens", tokens)
    np.save(out / "tiny-clip.pixels.npy", pixels.astype(np.float16))
    np.save(out / "tiny-clip.image_embeds.npy", img)
    np.save(out / "tiny-clip.text_embeds.npy", txt)
    doc = {
        "format": 1,
        "image_model": paths["image"].name,
        "text_model": paths["text"].name,
        "embed_dim": EMBED,
        "image": {
            "pixels": "tiny-clip.pixels.npy",
            "pixels_shape": list(pixels.shape),
            "pixels_dtype": "float16 (references computed from these rounded values)",
            "image_embeds": "tiny-clip.image_embeds.npy",
            "image_embeds_shape": list(img.shape),
            "cases": cases,
            "onnxruntime_vs_torch_max_abs": float(np.abs(img_ort - img).max()),
            "embed_max_abs": float(np.abs(img).max()),
        },
        "text": {
            "sentences": TEXT_CASES,
            "tokens": tokens.tolist(),
            "eot_positions": [int(np.argmax(r)) for r in tokens],
            "text_embeds": "tiny-clip.text_embeds.npy",
            "text_embeds_shape": list(txt.shape),
            "onnxruntime_vs_torch_max_abs": float(np.abs(txt_ort - txt).max()),
            "embed_max_abs": float(np.abs(txt).max()),
        },
        "cosine": [[_f(v) for v in row] for row in cosines(img, txt)],
    }
    (out / "tiny-clip.json").write_text(json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n")
    return doc


# --------------------------------------------------------------------------------------
# Text prompt end to end
# --------------------------------------------------------------------------------------


def reference_masks(stem: str) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """(rgb, official retina masks (n, h, w) bool, info) of the tiny-640 fixture segmentation,
    as tools/make_fixtures.py makes reference/<case>.json; checked against that file."""
    import fastsam_reference as ref

    fx = ROOT / "tests" / "fixtures"
    case_path = fx / "reference" / f"{SELECTION_MODEL}__{stem}.json"
    case = json.loads(case_path.read_text())
    rgb = load_rgb(stem)
    h, w = rgb.shape[:2]
    size = int(case["input_size"])
    lb, info = ref.letterbox(rgb, size)
    out0, out1 = ref.run_onnx(fx / "models" / f"{SELECTION_MODEL}.onnx", lb)
    off = ref.official_postprocess(
        out0, out1, (h, w), size, case["conf"], case["iou"], case["max_det"], letterbox_info=info
    )
    masks = off["masks"].astype(bool)
    want = np.stack([ref.rle_decode(r) for r in case["official"]["masks"]]).astype(bool)
    same = masks.shape == want.shape and bool(np.array_equal(masks, want))
    assert same, f"{case_path.name}: the recomputed masks differ from the reference case's"
    return rgb, masks, {"reference_case": f"reference/{case_path.name}", "conf": case["conf"], "iou": case["iou"], "max_det": case["max_det"]}


def choose_threshold(cos: np.ndarray) -> tuple[float, int, float]:
    """A threshold selecting between 2 and half of the n masks (at least 2, fewer than n), at the
    middle of the widest gap between consecutive sorted cosines in that range.
    Returns (threshold, count, gap)."""
    c = np.sort(cos)[::-1]
    n = len(c)
    best = None
    for k in range(2, max(2, n // 2) + 1):  # select the top k
        if k >= n:
            break
        gap = c[k - 1] - c[k]
        if best is None or gap > best[2]:
            best = (float((c[k - 1] + c[k]) / 2), k, float(gap))
    assert best is not None, "too few eligible masks for an 'all' selection"
    return best


def perturbation_check(model, pixels: np.ndarray, txt: np.ndarray, best: list[int], seed: int) -> float:
    """Largest cosine change when every preprocessed input moves by up to one u8 level (what a
    different resampler could do); asserts the best mask of each sentence does not change."""
    rng = np.random.default_rng(seed)
    std = np.array([0.26862954, 0.26130258, 0.27577711], np.float32).reshape(1, 3, 1, 1)
    noisy = pixels + (rng.uniform(-1, 1, pixels.shape).astype(np.float32) / 255.0) / std
    c0 = cosines(encode(model, pixels=pixels), txt)
    c1 = cosines(encode(model, pixels=noisy), txt)
    assert [int(np.argmax(c1[:, j])) for j in range(c1.shape[1])] == best, "best mask changes under 1-level noise"
    return float(np.abs(c1 - c0).max())


def text_selection(model, paths: dict[str, Path], out: Path, seed: int) -> dict[str, Any]:
    images = []
    per_image = []
    for stem in SELECTION_IMAGES:
        rgb, masks, info = reference_masks(stem)
        eligible, skipped, regions, pixels = [], [], [], []
        for i, m in enumerate(masks):
            area = int(m.sum())
            if area <= AREA_MIN:
                skipped.append({"index": i, "area": area})
                continue
            crop, box = region_crop(rgb, m)
            eligible.append(i)
            regions.append({"index": i, "area": area, "bbox": box, "crop_sum": int(crop.astype(np.int64).sum())})
            pixels.append(preprocess(crop))
        pixels = np.stack(pixels).astype(np.float32)
        img = encode(model, pixels=pixels)
        img_ort = ort_run(paths["image"], "pixels", pixels)
        per_image.append((stem, rgb, masks, info, eligible, skipped, regions, pixels, img, img_ort))

    # sentences: the first of the pool whose best mask is clear on every image
    chosen, rejected = [], []
    pool_tokens = tokenize(SENTENCE_POOL)
    pool_txt = encode(model, tokens=pool_tokens)
    for j, s in enumerate(SENTENCE_POOL):
        ok = True
        for *_, img, _ in per_image:
            c = np.sort(cosines(img, pool_txt[j : j + 1])[:, 0])[::-1]
            if c[0] - c[1] < MIN_MARGIN:
                ok = False
        (chosen if ok else rejected).append(s)
        if len(chosen) == N_SENTENCES:
            break
    assert len(chosen) == N_SENTENCES, f"only {len(chosen)} sentences with a clear best mask"
    tokens = tokenize(chosen)
    txt = encode(model, tokens=tokens)
    txt_ort = ort_run(paths["text"], "tokens", tokens)

    summary = {"rejected_sentences": rejected, "images": []}
    for stem, rgb, masks, info, eligible, skipped, regions, pixels, img, img_ort in per_image:
        cos = cosines(img, txt)  # [K, M]
        sentences = []
        bests = []
        margins, gaps = [], []
        for j, s in enumerate(chosen):
            cj = cos[:, j]
            order = np.argsort(-cj, kind="stable")
            best = int(order[0])
            bests.append(best)
            margin = float(cj[order[0]] - cj[order[1]])
            thr, count, gap = choose_threshold(cj)
            assert gap >= 2 * MIN_GAP, f"{stem} / {s!r}: no clear threshold gap ({gap:.2e})"
            sel = [int(k) for k in order if cj[k] >= thr]
            assert len(sel) == count
            margins.append(margin)
            gaps.append(gap)
            sentences.append(
                {
                    "sentence": s,
                    "tokens": tokens[j].tolist(),
                    "cosine": [_f(v) for v in cj],
                    "softmax": [_f(v) for v in softmax(100.0 * cj)],
                    "best": eligible[best],
                    "best_margin": margin,
                    "threshold": _f(thr),
                    "threshold_gap": gap,
                    "all": [eligible[k] for k in sel],
                }
            )
        noise = perturbation_check(model, pixels, txt, bests, seed)
        images.append(
            {
                "image": f"images/{stem}.png",
                "image_width": int(rgb.shape[1]),
                "image_height": int(rgb.shape[0]),
                **info,
                "instances": int(len(masks)),
                "skipped": skipped,
                "eligible": eligible,
                "regions": regions,
                "image_embeds": [[_f(v) for v in row] for row in img],
                "onnxruntime_vs_torch_max_abs": float(np.abs(img_ort - img).max()),
                "sentences": sentences,
            }
        )
        summary["images"].append(
            {
                "image": stem,
                "instances": int(len(masks)),
                "eligible": len(eligible),
                "skipped": len(skipped),
                "min_best_margin": min(margins),
                "min_threshold_gap": min(gaps),
                "all_counts": [len(s_["all"]) for s_ in sentences],
                "cos_change_under_1_level_noise": noise,
                "ort_diff": float(np.abs(img_ort - img).max()),
            }
        )
    doc = {
        "format": 1,
        "image_model": paths["image"].name,
        "text_model": paths["text"].name,
        "segmentation_model": f"models/{SELECTION_MODEL}.onnx",
        "area_min_exclusive": AREA_MIN,
        "logit_scale": 100.0,
        "sentences": chosen,
        "text_embeds": [[_f(v) for v in row] for row in txt],
        "text_onnxruntime_vs_torch_max_abs": float(np.abs(txt_ort - txt).max()),
        "images": images,
    }
    (out / "text_selection.json").write_text(json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n")
    summary["text_ort_diff"] = doc["text_onnxruntime_vs_torch_max_abs"]
    return summary


def write_fp16(out: Path) -> None:
    """tiny-clip-{image,text}-{fp16,q8}.onnx: the two encoders with float16 and with 8-bit weights
    (``clip_export.py --dtype fp16 / q8``), for the tests that both engines load them."""
    import clip_export as ce

    for side in ("image", "text"):
        for dtype, write in (("fp16", ce.to_float16), ("q8", ce.to_q8)):
            dst = out / f"tiny-clip-{side}-{dtype}.onnx"
            write(out / f"tiny-clip-{side}.onnx", dst)
            print(f"{dst.name}: {dst.stat().st_size / 1e3:.0f} kB")


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "tests" / "fixtures" / "clip"), help="output folder (default tests/fixtures/clip)")
    ap.add_argument("--seed", type=int, default=SEED, help=f"model seed (default {SEED})")
    ap.add_argument("--models-only", action="store_true", help="only write the two ONNX files")
    ap.add_argument(
        "--fp16-only",
        action="store_true",
        help="only write tiny-clip-{image,text}-{fp16,q8}.onnx, from the two float32 files in --out",
    )
    args = ap.parse_args(argv)
    if args.fp16_only:
        write_fp16(Path(args.out))
        return 0

    os.environ.setdefault("YOLO_VERBOSE", "False")
    import torch

    import clip_export as ce

    torch.set_num_threads(1)  # reproducible float sums
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model = build_tiny_clip(args.seed)
    behaviour = check_behaviour(model)
    ex = export_models(model, out, args.seed)
    paths = ex["paths"]
    diffs = ce.verify(paths, ex["sd"], ex["layout"], seed=args.seed)
    print(f"tiny CLIP: {ex['layout'].describe()}")
    print("  behaviour: " + ", ".join(f"{k} {v:.3f}" for k, v in behaviour.items()))
    print("  random inputs, max abs diff: " + ", ".join(f"{k} {v:.2e}" for k, v in diffs.items()))
    for side in ("image", "text"):
        i = ex["info"][side]
        print(f"  {paths[side].name}: {i['nodes']} nodes, ops {', '.join(i['ops'])}; extra initializers {i['extra_initializers']}")
    write_fp16(out)
    if not args.models_only:
        doc = embedding_cases(model, paths, out)
        print(
            f"tiny-clip.json: {len(IMAGE_CASES)} image cases (ort diff {doc['image']['onnxruntime_vs_torch_max_abs']:.2e}, "
            f"|embed| <= {doc['image']['embed_max_abs']:.3g}), {len(TEXT_CASES)} sentences "
            f"(ort diff {doc['text']['onnxruntime_vs_torch_max_abs']:.2e}, |embed| <= {doc['text']['embed_max_abs']:.3g})"
        )
        sel = text_selection(model, paths, out, args.seed)
        print(f"text_selection.json: sentences rejected for a close best: {sel['rejected_sentences']}; text ort diff {sel['text_ort_diff']:.2e}")
        for s in sel["images"]:
            print(
                f"  {s['image']}: {s['instances']} instances, {s['eligible']} eligible, {s['skipped']} skipped; "
                f"min best margin {s['min_best_margin']:.2e}, min threshold gap {s['min_threshold_gap']:.2e}, "
                f"'all' counts {s['all_counts']}, cos change under 1-level noise {s['cos_change_under_1_level_noise']:.1e}, "
                f"ort diff {s['ort_diff']:.2e}"
            )
    print("files:")
    for p in sorted(out.iterdir()):
        if p.is_file():
            print(f"  {p.name}  {p.stat().st_size / 1e3:.1f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
