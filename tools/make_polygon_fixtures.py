"""Write tests/fixtures/polygons/cases.json: OpenCV's contours and simplified rings of project
masks, the reference the Rust polygon code (src/polygon/) is compared with point for point.

Masks: edge cases drawn here (a lone pixel, one-pixel lines, diagonal neighbours, holes, holes in
holes, masks on the border, empty and full frames), seeded random masks (noise, blobs) and every
official mask of the tiny-640 reference cases (read from tests/fixtures/reference/, not copied).

For each mask: ``cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)`` (points, hole
flag, parent index, ``cv2.contourArea``) and, for each tolerance, ``cv2.approxPolyDP(contour,
tolerance, True)`` of every contour. Seeded and reproducible; needs numpy and opencv-python-headless
(tools/requirements.txt).

Also writes tests/fixtures/polygons/formats.json: the COCO polygon segmentations and YOLO label
lines of the tiny-640__shapes_wide reference masks at tolerance 1 and 0, built from OpenCV's rings
as src/formats/ documents them, and checked here with the tools that read them: pycocotools decodes
the COCO polygons (their IoU with the masks, holes filled, is recorded and bounded) and ultralytics'
label loader (`verify_image_label`) reads the YOLO lines. With them, the Label Studio brush RLE of
each mask as Label Studio's converter writes it (``label_studio_converter.brush.mask2rle`` of the
mask times 255), checked by decoding it back with the converter.

Usage:
    python tools/make_polygon_fixtures.py            # into tests/fixtures/polygons/
    python tools/make_polygon_fixtures.py --out DIR
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
sys.path.insert(0, str(TOOLS))
from fastsam_reference import rle_decode, rle_encode  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
TOLERANCES = [0.5, 1.0, 2.0, 4.5]
REFERENCE_CASES = ["tiny-640__shapes_small", "tiny-640__shapes_wide", "tiny-640__shapes_tall"]


def drawn(rows: list[str]) -> np.ndarray:
    """A mask from rows of '#' (inside) and '.' (outside)."""
    return np.array([[c == "#" for c in row] for row in rows], dtype=bool)


def edge_cases() -> list[tuple[str, np.ndarray]]:
    cases = [
        ("empty", np.zeros((5, 7), bool)),
        ("full frame", np.ones((6, 9), bool)),
        ("lone pixel", drawn([".....", "..#..", "....."])),
        ("lone pixel in a corner", drawn(["#....", ".....", "....."])),
        ("one-pixel frame", drawn(["#"])),
        ("horizontal line", drawn(["......", ".####.", "......"])),
        ("vertical line", drawn(["...", ".#.", ".#.", ".#.", "..."])),
        ("diagonal line", drawn(["#....", ".#...", "..#..", "...#.", "....#"])),
        ("anti-diagonal line", drawn(["....#", "...#.", "..#..", ".#...", "#...."])),
        ("diagonal neighbours", drawn(["#.#", ".#.", "#.#"])),
        ("checkerboard", drawn(["#.#.#.", ".#.#.#", "#.#.#.", ".#.#.#"])),
        ("corners only", drawn(["#.#", "...", "#.#"])),
        ("square with a hole", drawn(["#####", "#...#", "#...#", "#...#", "#####"])),
        ("one-pixel hole", drawn(["###", "#.#", "###"])),
        (
            "island in a hole",
            drawn(["#######", "#.....#", "#.###.#", "#.#.#.#", "#.###.#", "#.....#", "#######"]),
        ),
        (
            "holes in holes",
            drawn(
                [
                    "###########",
                    "#.........#",
                    "#.#######.#",
                    "#.#.....#.#",
                    "#.#.###.#.#",
                    "#.#.#.#.#.#",
                    "#.#.###.#.#",
                    "#.#.....#.#",
                    "#.#######.#",
                    "#.........#",
                    "###########",
                ]
            ),
        ),
        (
            "two holes touching at a corner",
            drawn(["#####", "#.###", "##.##", "###.#", "#####"]),
        ),
        ("U shape", drawn(["#...#", "#...#", "#...#", "#####"])),
        ("border on every side", drawn(["#####", "#####", "##.##", "#####"])),
        ("touching left and right", drawn([".....", "#####", ".....", "##.##"])),
        (
            "staircase",
            drawn(["#.....", "##....", "###...", "####..", "#####.", "######"]),
        ),
        (
            "ring one pixel wide",
            drawn(["..###..", ".#...#.", "#.....#", "#.....#", "#.....#", ".#...#.", "..###.."]),
        ),
    ]
    return cases


def random_cases() -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(20261207)
    cases = []
    for i, (h, w, density) in enumerate([(12, 16, 0.5), (30, 40, 0.45), (30, 40, 0.6), (25, 31, 0.7)]):
        cases.append((f"noise {i} ({w}x{h}, {density})", rng.random((h, w)) < density))
    for i, (h, w, sigma, level) in enumerate([(90, 120, 3.0, 0.5), (150, 200, 6.0, 0.45), (64, 64, 1.5, 0.55)]):
        noise = rng.random((h, w)).astype(np.float32)
        blurred = cv2.GaussianBlur(noise, (0, 0), sigma)
        lo, hi = float(blurred.min()), float(blurred.max())
        cases.append((f"blobs {i} ({w}x{h})", (blurred - lo) / (hi - lo) > level))
    return cases


def describe(mask: np.ndarray) -> dict[str, Any]:
    contours, hierarchy = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    for i, contour in enumerate(contours):
        parent = int(hierarchy[0][i][3]) if hierarchy is not None else -1
        approx = {
            str(t): cv2.approxPolyDP(contour, t, True).reshape(-1, 2).tolist() for t in TOLERANCES
        }
        out.append(
            {
                "points": contour.reshape(-1, 2).tolist(),
                "parent": parent,
                "hole": parent >= 0,
                "area": float(cv2.contourArea(contour)),
                "approx": approx,
            }
        )
    return {"contours": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=FIXTURES / "polygons")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    write_formats(args.out / "formats.json")

    cases = []
    for name, mask in edge_cases() + random_cases():
        cases.append({"name": name, "mask": rle_encode(mask), **describe(mask)})
    for case in REFERENCE_CASES:
        reference = json.loads((FIXTURES / "reference" / f"{case}.json").read_text())
        for index, rle in enumerate(reference["official"]["masks"]):
            source = {"reference": f"{case}.json", "index": index}
            cases.append({"name": f"{case} mask {index}", "source": source, **describe(rle_decode(rle))})

    document = {
        "made_by": "tools/make_polygon_fixtures.py",
        "opencv": cv2.__version__,
        "tolerances": TOLERANCES,
        "cases": cases,
    }
    out = args.out / "cases.json"
    out.write_text(json.dumps(document, separators=(",", ":")) + "\n")
    total = sum(len(c["contours"]) for c in cases)
    print(f"wrote {out}: {len(cases)} masks, {total} contours, {out.stat().st_size} bytes")


def outer_rings(mask: np.ndarray, tolerance: float) -> list[np.ndarray]:
    """The mask's outer rings, simplified, in OpenCV's RETR_CCOMP order (as src/polygon/)."""
    contours, hierarchy = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    rings = []
    for i, contour in enumerate(contours):
        if hierarchy[0][i][3] >= 0:
            continue
        ring = contour if tolerance == 0 else cv2.approxPolyDP(contour, tolerance, True)
        rings.append(ring.reshape(-1, 2))
    return rings


def six_decimals(v: float) -> str:
    text = f"{v:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def write_formats(path: Path) -> None:
    import tempfile

    import pycocotools.mask as coco_mask
    from PIL import Image
    from ultralytics.data.utils import verify_image_label

    case = "tiny-640__shapes_wide"
    reference = json.loads((FIXTURES / "reference" / f"{case}.json").read_text())
    masks = [rle_decode(rle) for rle in reference["official"]["masks"]]
    h, w = masks[0].shape
    document: dict[str, Any] = {"made_by": "tools/make_polygon_fixtures.py", "reference": f"{case}.json"}
    for tolerance in (0.0, 1.0):
        coco, yolo, ious = [], [], []
        for mask in masks:
            rings = [r for r in outer_rings(mask, tolerance) if len(r) >= 3]
            coco.append([r.astype(float).reshape(-1).tolist() for r in rings] if rings else None)
            if rings:
                # pycocotools: the union of the rings against the mask with its holes filled.
                decoded = coco_mask.decode(coco_mask.merge(coco_mask.frPyObjects(coco[-1], h, w))).astype(bool)
                filled = np.zeros((h, w), np.uint8)
                cv2.drawContours(filled, [r.reshape(-1, 1, 2) for r in outer_rings(mask, 0)], -1, 1, -1)
                filled = filled.astype(bool)
                ious.append(float((decoded & filled).sum() / (decoded | filled).sum()))
                areas = [abs(cv2.contourArea(r.reshape(-1, 1, 2))) for r in rings]
                largest = rings[int(np.argmax(areas))]
                coords = " ".join(f"{six_decimals(x / w)} {six_decimals(y / h)}" for x, y in largest)
                yolo.append(f"0 {coords}")
        text = "\n".join(yolo) + "\n"
        # ultralytics reads the lines back as one polygon per mask, class 0, within the image.
        with tempfile.TemporaryDirectory() as tmp:
            image, label = Path(tmp) / "image.png", Path(tmp) / "image.txt"
            Image.fromarray(np.zeros((h, w, 3), np.uint8)).save(image)
            label.write_text(text)
            _, lb, shape, segments, *_rest, msg = verify_image_label((str(image), str(label), "", False, 1, 0, 0, False))
            assert lb is not None and len(segments) == len(yolo), msg
            assert shape == (h, w)
        key = "tolerance 0" if tolerance == 0 else "tolerance 1"
        document[key] = {
            "coco_segmentations": coco,
            "yolo": text,
            "pycocotools_iou": {"min": min(ious), "mean": sum(ious) / len(ious)},
        }
        assert min(ious) > 0.5, ious
        print(f"{key}: pycocotools IoU min {min(ious):.3f} mean {sum(ious) / len(ious):.3f}, {len(yolo)} YOLO lines")
    document["label_studio_brush"] = label_studio_brush(masks)
    path.write_text(json.dumps(document, separators=(",", ":")) + "\n")
    print(f"wrote {path}")


def label_studio_brush(masks: list[np.ndarray]) -> list[list[int]]:
    """Label Studio's brush RLE of each mask, and a check that its decoder gives the mask back."""
    from label_studio_converter import brush

    rles = []
    for mask in masks:
        rle = brush.mask2rle(mask.astype(np.uint8) * 255)
        h, w = mask.shape
        layer = np.reshape(brush.decode_rle(bytes(rle)), [h, w, 4])[:, :, 3]
        assert np.array_equal(layer > 0, mask)
        rles.append([int(b) for b in rle])
    print(f"label studio brush: {len(rles)} masks, {sum(map(len, rles))} bytes of RLE")
    return rles


if __name__ == "__main__":
    main()
