"""Build tests/fixtures/clip/preprocess_cases.bin: bit-exact references for CLIP's image
preprocessing in Rust (src/clip/preprocess): Pillow's bicubic resize and open_clip's full
``preprocess`` (PIL Resize(224, BICUBIC) -> CenterCrop(224) -> ToTensor -> Normalize).

The references are those of Pillow 13, whose bicubic resize runs the vertical pass first when the
height shrinks by more than twice as many pixels as the width (Pillow <= 12 always went horizontal
first; the results differ where the intermediate image clips). The script checks the version.

Seeded and reproducible; needs numpy, Pillow 13, torch, open_clip_torch. Usage:

    python tools/make_clip_preprocess_cases.py [--out tests/fixtures/clip/preprocess_cases.bin]

A wider sweep, not committed: `--large 2000 --seed 1 --out /tmp/sweep.bin`, then
`CLIP_PREPROCESS_CASES=/tmp/sweep.bin cargo test --no-default-features --test clip_preprocess`.

Binary layout (all integers little-endian):

    magic    8 bytes  b"FSCLIPP1"
    count    u32      number of cases
    cases    count records:
      kind     u8     0 = resize:    Image.resize((dst_w, dst_h), Image.BICUBIC) of the input
                      1 = clip:      open_clip's preprocess of the input (224 x 224 crop + floats)
                      2 = normalize: ToTensor + Normalize of a 224 x 224 input (no resize, no crop)
      w, h     u32 x2 input size
      dst_w, dst_h u32 x2  kind 0: the requested size; kinds 1, 2: 224, 224
      input    u8 source, then
                 0 = raw:       w*h*3 bytes, RGB, HWC
                 1 = generated: u8 pattern, u32 seed (see `generate`, reproduced by the Rust test)
                 2 = png:       u16 length, that many bytes of a path relative to tests/fixtures
                                (an RGB PNG, taken as is)
      output   u8 mode, then    the u8 result before /255 (kind 0: the resized image, kind 1: the
                                224 x 224 crop, kind 2: nothing), dst_h x dst_w x 3 HWC
                 0 = raw:    dst_w*dst_h*3 bytes
                 1 = sha256: 32 bytes of sha256(raw bytes)
                 2 = none
      samples  u32 n, then n x (u32 index, f32 value): the float output of torchvision at flat
               indices of its [3, 224, 224] tensor (n = 0 for kind 0)

Generated inputs (pattern, seed), for pixel (x, y), channel c, i = (y*w + x)*3 + c, all u32 wrapping:
    noise = lowbias32(i ^ (seed * 0x9E3779B9)), lowbias32(v): v ^= v >> 16; v *= 0x7FEB352D;
            v ^= v >> 15; v *= 0x846CA68B; v ^= v >> 16
    0: noise >> 24                                             (white noise, many clipped values)
    1: t = ((x*7 + y*3 + c*50) >> 2) & 511; triangle = t if t < 256 else 511 - t;
       clamp(triangle + (noise >> 28) - 8, 0, 255)             (smooth waves, mild noise)
    2: b = seed % 13 + 1; 255 if ((x / b) + (y / b) + c) odd else 0   (hard-edged checkerboard)
    3: (y*w + x + 85*c) % 256                                  (every value in every channel)
"""

from __future__ import annotations

import argparse
import hashlib
import struct
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SEED = 20250612
SIZE = 224
REGION = (20, 10)  # top-left corner of the region case in images/shapes_small.png
RAW_LIMIT = 24 * 1024  # larger u8 outputs are stored as sha256
MASK32 = 0xFFFFFFFF


def lowbias32(v: np.ndarray) -> np.ndarray:
    v = v.astype(np.uint64)
    v ^= v >> 16
    v = (v * 0x7FEB352D) & MASK32
    v ^= v >> 15
    v = (v * 0x846CA68B) & MASK32
    v ^= v >> 16
    return v


def generate(pattern: int, seed: int, w: int, h: int) -> np.ndarray:
    """The generated input of (pattern, seed): H x W x 3 uint8 (documented in the module docstring)."""
    y, x, c = np.meshgrid(np.arange(h, dtype=np.uint64), np.arange(w, dtype=np.uint64),
                          np.arange(3, dtype=np.uint64), indexing="ij")
    i = ((y * w + x) * 3 + c) & MASK32
    noise = lowbias32(i ^ np.uint64((seed * 0x9E3779B9) & MASK32))
    if pattern == 0:
        out = noise >> 24
    elif pattern == 1:
        t = ((x * 7 + y * 3 + c * 50) >> 2) & 511
        tri = np.where(t < 256, t, 511 - t).astype(np.int64)
        out = np.clip(tri + (noise >> 28).astype(np.int64) - 8, 0, 255)
    elif pattern == 2:
        b = np.uint64(seed % 13 + 1)
        out = np.where(((x // b) + (y // b) + c) % 2 == 1, 255, 0)
    elif pattern == 3:
        out = (y * w + x + 85 * c) % 256
    else:
        raise ValueError(pattern)
    return out.astype(np.uint8)


def load_png(rel: str) -> np.ndarray:
    im = Image.open(FIXTURES / rel)
    assert im.mode == "RGB", (rel, im.mode)
    return np.asarray(im)


def clip_transforms():
    """open_clip's ViT-B-32 inference preprocess, as create_model_and_transforms builds it."""
    import open_clip

    _, _, preprocess = open_clip.create_model_and_transforms("ViT-B-32", pretrained=None)
    names = [type(t).__name__ for t in preprocess.transforms]
    assert names == ["Resize", "CenterCrop", "MaybeConvertMode", "MaybeToTensor", "Normalize"], names
    resize, crop = preprocess.transforms[0], preprocess.transforms[1]
    assert resize.size == SIZE and "BICUBIC" in str(resize.interpolation), resize
    norm = preprocess.transforms[-1]
    assert tuple(norm.mean) == (0.48145466, 0.4578275, 0.40821073), norm.mean
    assert tuple(norm.std) == (0.26862954, 0.26130258, 0.27577711), norm.std
    pixels = lambda im: np.asarray(crop(resize(im)).convert("RGB"))  # noqa: E731
    from torchvision.transforms import Compose

    tensor = Compose(preprocess.transforms[-2:])
    return preprocess, pixels, tensor


class Writer:
    def __init__(self) -> None:
        self.body = bytearray()
        self.count = 0

    def case(self, kind: int, w: int, h: int, dst: tuple[int, int], source: bytes,
             output: np.ndarray | None, raw: bool | None, samples: list[tuple[int, float]]) -> None:
        self.count += 1
        b = self.body
        b += struct.pack("<B4I", kind, w, h, dst[0], dst[1])
        b += source
        if output is None:
            b += b"\x02"
        else:
            assert output.shape == (dst[1], dst[0], 3) and output.dtype == np.uint8, output.shape
            data = output.tobytes()
            store_raw = len(data) <= RAW_LIMIT if raw is None else raw
            b += b"\x00" + data if store_raw else b"\x01" + hashlib.sha256(data).digest()
        b += struct.pack("<I", len(samples))
        for index, value in samples:
            b += struct.pack("<If", index, value)

    def bytes(self) -> bytes:
        return b"FSCLIPP1" + struct.pack("<I", self.count) + bytes(self.body)


def source_raw(arr: np.ndarray) -> bytes:
    return b"\x00" + arr.tobytes()


def source_gen(pattern: int, seed: int) -> bytes:
    return struct.pack("<BBI", 1, pattern, seed)


def source_png(rel: str) -> bytes:
    name = rel.encode()
    return struct.pack("<BH", 2, len(name)) + name


def pil_bicubic(arr: np.ndarray, dst: tuple[int, int]) -> np.ndarray:
    out = np.asarray(Image.fromarray(arr, "RGB").resize(dst, Image.BICUBIC))
    return out.reshape(dst[1], dst[0], 3)


def resize_cases(writer: Writer, rng: np.random.Generator, extra_large: int = 24) -> None:
    # Random small sizes, up and down, raw inputs and outputs.
    for k in range(48):
        w, h, dw, dh = (int(v) for v in rng.integers(1, 41, 4))
        if k % 4 == 0:  # strong reductions
            dw, dh = max(1, w // int(rng.integers(2, 9))), max(1, h // int(rng.integers(2, 9)))
        arr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8) if k % 2 else generate(k % 3, k, w, h)
        writer.case(0, w, h, (dw, dh), source_raw(arr), pil_bicubic(arr, (dw, dh)), None, [])
    # Special shapes, generated inputs: 1-pixel sides, unchanged axes, odd and large factors.
    special = [
        (1, 1, 5, 7), (1, 1, 300, 1), (1, 9, 3, 2), (9, 1, 1, 1), (13, 1, 224, 224),
        (1, 150, 224, 33600), (2, 2, 224, 224), (7, 5, 224, 160), (21, 15, 7, 5), (35, 35, 7, 7),
        (10, 10, 33, 33), (50, 40, 50, 17), (50, 40, 13, 40), (224, 225, 224, 225),
        (2000, 3, 224, 3), (3, 2000, 3, 224), (4000, 1, 7, 1), (2000, 1500, 224, 168),
        (2000, 1500, 1, 1), (1500, 2000, 224, 298), (999, 777, 287, 224), (640, 481, 224, 224),
        (97, 89, 224, 205),
    ]
    for k, (w, h, dw, dh) in enumerate(special):
        pattern, seed = k % 3, 1000 + k
        arr = generate(pattern, seed, w, h)
        writer.case(0, w, h, (dw, dh), source_gen(pattern, seed), pil_bicubic(arr, (dw, dh)), None, [])
    # Random larger sizes, generated inputs (outputs mostly as sha256).
    for k in range(extra_large):
        w, h = (int(v) for v in rng.integers(1, 900, 2))
        dw, dh = (int(v) for v in rng.integers(1, 500, 2))
        if k % 3 == 0:  # the shape CLIP uses: shorter side 224
            dw, dh = (224, max(224, int(224 * h / w))) if w <= h else (max(224, int(224 * w / h)), 224)
        pattern, seed = k % 3, 3000 + k
        arr = generate(pattern, seed, w, h)
        writer.case(0, w, h, (dw, dh), source_gen(pattern, seed), pil_bicubic(arr, (dw, dh)), None, [])
    # Project images (smooth shapes and edges).
    for rel, dst in [("images/shapes_wide.png", (37, 29)), ("images/shapes_wide.png", (298, 224)),
                     ("images/shapes_tall.png", (224, 301)), ("images/shapes_small.png", (611, 17))]:
        arr = load_png(rel)
        h, w = arr.shape[:2]
        writer.case(0, w, h, dst, source_png(rel), pil_bicubic(arr, dst), None, [])


def float_samples(x: np.ndarray, rng: np.random.Generator, n: int) -> list[tuple[int, float]]:
    flat = x.reshape(-1)
    # The corners of each plane, plus random positions.
    corners = [c * SIZE * SIZE + o for c in range(3) for o in (0, SIZE - 1, SIZE * SIZE - SIZE, SIZE * SIZE - 1)]
    picks = sorted(set(corners) | {int(i) for i in rng.choice(flat.size, n, replace=False)})
    return [(i, float(flat[i])) for i in picks]


def clip_cases(writer: Writer, rng: np.random.Generator) -> float:
    import torch

    preprocess, pixels, tensor = clip_transforms()
    mean = torch.tensor((0.48145466, 0.4578275, 0.40821073), dtype=torch.float32)[:, None, None]
    std = torch.tensor((0.26862954, 0.26130258, 0.27577711), dtype=torch.float32)[:, None, None]
    worst = 0.0

    def add(source: bytes, arr: np.ndarray, raw: bool = False) -> None:
        nonlocal worst
        h, w = arr.shape[:2]
        im = Image.fromarray(arr, "RGB")
        crop = pixels(im)
        x = preprocess(im).numpy()
        assert x.shape == (3, SIZE, SIZE) and x.dtype == np.float32
        # The floats are ToTensor + Normalize of the u8 crop; check the split is right.
        again = tensor(Image.fromarray(crop, "RGB")).numpy()
        assert np.array_equal(again, x)
        manual = ((torch.from_numpy(crop).permute(2, 0, 1).float() / 255 - mean) / std).numpy()
        worst = max(worst, float(np.abs(manual - x).max()))
        writer.case(1, w, h, (SIZE, SIZE), source, crop, raw, float_samples(x, rng, 384))

    for rel in ["images/shapes_wide.png", "images/shapes_tall.png", "images/shapes_small.png"]:
        add(source_png(rel), load_png(rel), raw=rel.endswith("wide.png"))
    generated = [
        (1, 1, 1), (1, 150, 0), (300, 1, 2), (2, 3, 1), (224, 224, 0), (224, 225, 1), (227, 224, 2),
        (225, 300, 1), (229, 500, 0), (1000, 800, 1), (801, 1003, 2), (2000, 1500, 1), (5, 2000, 0),
    ]
    for k, (w, h, pattern) in enumerate(generated):
        seed = 5000 + k
        add(source_gen(pattern, seed), generate(pattern, seed, w, h))
    # A region crop as the contract makes it (its bounding box is the whole 130 x 80 rectangle),
    # pixels outside the mask black; the Rust test rebuilds it with mask_region.
    arr = load_png("images/shapes_small.png")
    region = arr[REGION[1]:REGION[1] + 80, REGION[0]:REGION[0] + 130].copy()
    yy, xx = np.mgrid[0:80, 0:130]
    region[(xx - 65) ** 2 * 40**2 + (yy - 40) ** 2 * 65**2 > 65**2 * 40**2] = 0
    add(b"\x00" + region.tobytes(), region)
    return worst


def normalize_case(writer: Writer) -> None:
    """Every u8 value of every channel through ToTensor + Normalize."""
    _, _, tensor = clip_transforms()
    arr = generate(3, 0, SIZE, SIZE)
    x = tensor(Image.fromarray(arr, "RGB")).numpy().reshape(-1)
    samples = [(c * SIZE * SIZE + p, float(x[c * SIZE * SIZE + p])) for c in range(3) for p in range(256)]
    writer.case(2, SIZE, SIZE, (SIZE, SIZE), source_gen(3, 0), None, None, samples)


def main() -> None:
    import PIL

    assert int(PIL.__version__.split(".")[0]) >= 13, f"Pillow 13 needed, found {PIL.__version__}"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=FIXTURES / "clip" / "preprocess_cases.bin")
    parser.add_argument("--large", type=int, default=24,
                        help="random larger resize cases (a wider sweep, not for the fixture)")
    parser.add_argument("--seed", type=int, default=SEED, help="seed (not for the fixture)")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    writer = Writer()
    resize_cases(writer, rng, args.large)
    worst = clip_cases(writer, rng)
    normalize_case(writer)
    data = writer.bytes()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"{args.out}: {writer.count} cases, {len(data)} bytes; "
          f"torchvision vs (u8/255 - mean)/std in float32: max abs {worst:.3g}")


if __name__ == "__main__":
    main()
