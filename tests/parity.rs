//! Parity with the references in `tests/fixtures` (see `FORMAT.md`): letterbox bit-exact with
//! OpenCV, raw outputs with onnxruntime, detections and masks with the official FastSAM semantics
//! and with ultralytics' predictor, prompt selections identical.

#![cfg(all(not(target_arch = "wasm32"), feature = "tract"))]

mod common;

use std::collections::HashMap;
use std::sync::OnceLock;

use common::*;
use fastsam_web::engine::RawOutputs;
use fastsam_web::pipeline::letterbox::Letterbox;
use fastsam_web::pipeline::postprocess;
use fastsam_web::pipeline::resize::resize_rgb_rows;
use fastsam_web::{
    BoxMode, FastSam, ImageView, MaskResolution, PixelFormat, PointMode, SegmentOptions,
    Segmentation, Selection, Semantics,
};
use sha2::{Digest, Sha256};

/// Score and coefficient / prototype tolerance (absolute), from the issue.
const ABS_TOL: f32 = 1e-4;
/// Box rows of `output0` are pixel coordinates up to the input size; float summation order alone
/// moves them by ~1e-5 of the input size between runtimes (TOOLCHAIN.md), above the 1e-4 absolute
/// bound at 640/1024 px, so they are bounded relative to the input size.
const BOX_REL_TOL: f32 = 1e-5;
/// Mask IoU bound for matched detections.
const MASK_IOU: f64 = 0.99;
/// Box IoU bound for matched detections.
const BOX_IOU: f64 = 0.99;

struct Run {
    name: String,
    letterbox: Letterbox,
    letterbox_sha: String,
    raw: RawOutputs,
}

/// Each case's model run once per test binary.
fn runs() -> &'static (Vec<LoadedCase>, Vec<Run>) {
    static RUNS: OnceLock<(Vec<LoadedCase>, Vec<Run>)> = OnceLock::new();
    RUNS.get_or_init(|| {
        let cases = load_cases(&fixtures().join("reference"), &fixtures());
        assert!(cases.len() >= 6, "expected at least 6 reference cases");
        let mut models: HashMap<String, FastSam> = HashMap::new();
        let runs = cases
            .iter()
            .map(|c| {
                let model = models.entry(c.case.model.clone()).or_insert_with(|| {
                    FastSam::from_onnx(&std::fs::read(c.path(&c.case.model)).unwrap()).unwrap()
                });
                let (rgb, w, h) = read_png_rgb(&c.path(&c.case.image));
                let image = ImageView::new(&rgb, w, h, PixelFormat::Rgb).unwrap();
                let (letterbox, input) = model.preprocess(&image);
                let lb_bytes = letterbox.apply_u8(&image);
                Run {
                    name: c.name.clone(),
                    letterbox,
                    letterbox_sha: format!("{:x}", Sha256::digest(&lb_bytes)),
                    raw: model.infer(&input).unwrap(),
                }
            })
            .collect();
        (cases, runs)
    })
}

fn segment(
    case: &LoadedCase,
    run: &Run,
    semantics: Semantics,
    resolution: MaskResolution,
) -> Segmentation {
    let options = SegmentOptions {
        conf: case.case.conf,
        iou: case.case.iou,
        max_det: case.case.max_det,
        semantics,
        mask_resolution: resolution,
        ..SegmentOptions::default()
    };
    postprocess(&run.raw, &run.letterbox, &options)
}

#[test]
fn resize_is_bit_exact_with_opencv() {
    let bytes = std::fs::read(fixtures().join("resize_cases.bin")).unwrap();
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let mut at = 0;
    let mut cases = 0;
    while at < bytes.len() {
        let [sw, sh, c, dw, dh] = [0, 1, 2, 3, 4].map(|i| word(at + 4 * i));
        at += 20;
        let src = bytes[at..at + sw * sh * c].to_vec();
        at += sw * sh * c;
        let expected = &bytes[at..at + dw * dh * c];
        at += dw * dh * c;
        let mut ours = vec![0u8; dw * dh * 3];
        resize_rgb_rows(&src, sw, sh, c, dw, dh, |y, row| {
            ours[y * dw * 3..(y + 1) * dw * 3].copy_from_slice(row)
        });
        let theirs: Vec<u8> = expected
            .chunks_exact(c)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        assert_eq!(
            ours, theirs,
            "{sw}x{sh}x{c} -> {dw}x{dh} differs from cv2.resize"
        );
        cases += 1;
    }
    assert!(cases >= 20, "only {cases} resize cases");
}

#[test]
fn letterbox_is_bit_exact_with_ultralytics() {
    let (cases, runs) = runs();
    for (c, r) in cases.iter().zip(runs) {
        let lb = &c.case.letterbox;
        assert_eq!(
            (
                r.letterbox.new_width,
                r.letterbox.new_height,
                r.letterbox.left,
                r.letterbox.top
            ),
            (lb.new_width, lb.new_height, lb.left, lb.top),
            "{}: placement",
            r.name
        );
        assert_eq!(r.letterbox_sha, lb.sha256, "{}: letterboxed pixels", r.name);
    }
}

#[test]
fn input_size_is_read_from_the_graph() {
    let (cases, runs) = runs();
    let mut sizes: Vec<u32> = cases.iter().map(|c| c.case.input_size).collect();
    sizes.dedup();
    assert!(sizes.contains(&640) && sizes.contains(&1024), "{sizes:?}");
    for (c, r) in cases.iter().zip(runs) {
        assert_eq!(r.letterbox.size, c.case.input_size, "{}", r.name);
    }
}

#[test]
fn raw_outputs_match_onnxruntime() {
    let (cases, runs) = runs();
    for (c, r) in cases.iter().zip(runs) {
        let spec = c.case.raw.as_ref().expect("fixtures carry raw outputs");
        let s = c.case.input_size as f32;
        assert_eq!(
            [1, r.raw.channels, r.raw.anchors],
            spec.output0_shape[..],
            "{}",
            r.name
        );
        assert_eq!(
            [1, r.raw.mask_dim, r.raw.proto_height, r.raw.proto_width],
            spec.output1_shape[..],
            "{}",
            r.name
        );
        let out0 = read_npy_f32(&fixtures().join(format!("reference/{}.output0.npy", r.name)));
        let out1 = read_npy_f32(&fixtures().join(format!("reference/{}.output1.npy", r.name)));
        let (mut box_rel, mut score_abs, mut coef_abs, mut proto_abs) = (0f32, 0f32, 0f32, 0f32);
        for (k, &want) in out0.iter().enumerate() {
            let i = k * spec.output0_stride;
            let diff = (r.raw.predictions[i] - want).abs();
            match i / r.raw.anchors {
                0..=3 => box_rel = box_rel.max(diff / s),
                4 => score_abs = score_abs.max(diff),
                _ => coef_abs = coef_abs.max(diff),
            }
        }
        for (k, &want) in out1.iter().enumerate() {
            let i = k * spec.output1_stride;
            proto_abs = proto_abs.max((r.raw.prototypes[i] - want).abs());
        }
        println!(
            "{}: boxes {box_rel:.2e} x input size, scores {score_abs:.2e}, coefficients {coef_abs:.2e}, prototypes {proto_abs:.2e}",
            r.name
        );
        assert!(box_rel <= BOX_REL_TOL, "{}: box rows {box_rel}", r.name);
        assert!(score_abs <= ABS_TOL, "{}: scores {score_abs}", r.name);
        assert!(coef_abs <= ABS_TOL, "{}: coefficients {coef_abs}", r.name);
        assert!(proto_abs <= ABS_TOL, "{}: prototypes {proto_abs}", r.name);
    }
}

/// Matches our instances to the reference detections and checks boxes, scores and masks.
/// Returns, for each reference index, our index.
fn check_detections(name: &str, seg: &Segmentation, reference: &Detections) -> Vec<usize> {
    let ours: Vec<([f32; 4], f32)> = seg.instances().iter().map(|i| (i.bbox, i.score)).collect();
    let theirs: Vec<([f32; 4], f32)> = reference
        .boxes
        .iter()
        .copied()
        .zip(reference.scores.iter().copied())
        .collect();
    assert_eq!(ours.len(), theirs.len(), "{name}: number of detections");
    let (matches, worst_box) = match_detections(&ours, &theirs, ABS_TOL);
    let matches: Vec<usize> = matches
        .into_iter()
        .enumerate()
        .map(|(j, m)| m.unwrap_or_else(|| panic!("{name}: reference detection {j} unmatched")))
        .collect();
    let mut worst_mask = 1f64;
    for (j, &i) in matches.iter().enumerate() {
        let theirs = reference.masks[j].to_mask();
        let iou = seg.instances()[i].mask.iou(&theirs);
        worst_mask = worst_mask.min(iou);
        assert!(
            iou >= MASK_IOU,
            "{name}: mask of reference detection {j} (ours {i}) IoU {iou}"
        );
    }
    println!(
        "{name}: {} detections, worst box IoU {worst_box:.6}, worst mask IoU {worst_mask:.6}",
        matches.len()
    );
    assert!(worst_box >= BOX_IOU, "{name}: worst box IoU {worst_box}");
    matches
}

#[test]
fn official_detections_and_masks_match() {
    let (cases, runs) = runs();
    for (c, r) in cases.iter().zip(runs) {
        let seg = segment(c, r, Semantics::Official, MaskResolution::Full);
        check_detections(&r.name, &seg, &c.case.official);
    }
}

#[test]
fn official_low_resolution_masks_match() {
    let (cases, runs) = runs();
    for (c, r) in cases.iter().zip(runs) {
        let low = c.case.official.lowres.as_ref().expect("lowres reference");
        let seg = segment(c, r, Semantics::Official, MaskResolution::Low);
        assert_eq!(
            (seg.mask_width(), seg.mask_height()),
            (low.width, low.height),
            "{}",
            r.name
        );
        let reference = Detections {
            boxes: c.case.official.boxes.clone(),
            scores: c.case.official.scores.clone(),
            masks: low
                .masks
                .iter()
                .map(|m| Rle {
                    size: m.size,
                    counts: m.counts.clone(),
                })
                .collect(),
            lowres: None,
        };
        check_detections(&format!("{} (low)", r.name), &seg, &reference);
    }
}

#[test]
fn ultralytics_detections_and_masks_match() {
    let (cases, runs) = runs();
    for (c, r) in cases.iter().zip(runs) {
        let seg = segment(c, r, Semantics::Ultralytics, MaskResolution::Full);
        check_detections(
            &format!("{} (ultralytics)", r.name),
            &seg,
            &c.case.ultralytics,
        );
    }
}

fn to_reference(ours: &[usize], matches: &[usize]) -> Vec<usize> {
    let mut inverse = vec![usize::MAX; matches.iter().max().map_or(0, |m| m + 1)];
    for (j, &i) in matches.iter().enumerate() {
        inverse[i] = j;
    }
    let mut mapped: Vec<usize> = ours.iter().map(|&i| inverse[i]).collect();
    mapped.sort_unstable();
    mapped
}

#[test]
fn prompts_select_the_reference_masks() {
    let (cases, runs) = runs();
    let mut checked = 0;
    for (c, r) in cases.iter().zip(runs) {
        let official = segment(c, r, Semantics::Official, MaskResolution::Full);
        let ultra = segment(c, r, Semantics::Ultralytics, MaskResolution::Full);
        let om = check_detections(&r.name, &official, &c.case.official);
        let um = check_detections(&r.name, &ultra, &c.case.ultralytics);
        for p in &c.case.prompts {
            match p {
                PromptRef::Everything { official: want } => {
                    let order: Vec<usize> = official
                        .everything()
                        .iter()
                        .map(|&i| om.iter().position(|&m| m == i).unwrap())
                        .collect();
                    let areas: Vec<u64> = c
                        .case
                        .official
                        .masks
                        .iter()
                        .map(|m| m.to_mask().area())
                        .collect();
                    let slack = om
                        .iter()
                        .enumerate()
                        .map(|(j, &i)| official.instances()[i].mask.area().abs_diff(areas[j]))
                        .max()
                        .unwrap_or(0);
                    if let Err(e) = check_area_order(&order, want, &areas, slack) {
                        panic!("{}: everything order: {e}", r.name);
                    }
                }
                PromptRef::Points {
                    points,
                    labels,
                    official: want,
                    ultralytics: want_u,
                } => {
                    let merged = official.points(points, labels, PointMode::Merged).unwrap();
                    let [Selection::Merged { mask, .. }] = merged.as_slice() else {
                        panic!("merged mode returns one merged mask");
                    };
                    let iou = mask.iou(&want.to_mask());
                    assert!(
                        iou >= MASK_IOU,
                        "{}: points {points:?} {labels:?}: IoU {iou}",
                        r.name
                    );
                    let picked: Vec<usize> = ultra
                        .points(points, labels, PointMode::Select)
                        .unwrap()
                        .into_iter()
                        .map(|s| match s {
                            Selection::Instance(i) => i,
                            other => panic!("select mode returned {other:?}"),
                        })
                        .collect();
                    assert_eq!(
                        &to_reference(&picked, &um),
                        want_u,
                        "{}: points (ultralytics)",
                        r.name
                    );
                }
                PromptRef::Boxes {
                    boxes,
                    official: want,
                    ultralytics: want_u,
                } => {
                    let picked = official.boxes(boxes, BoxMode::Official).unwrap();
                    assert_eq!(
                        &to_reference(&picked, &om),
                        want,
                        "{}: boxes {boxes:?}",
                        r.name
                    );
                    let picked = ultra.boxes(boxes, BoxMode::Ultralytics).unwrap();
                    assert_eq!(
                        &to_reference(&picked, &um),
                        want_u,
                        "{}: boxes (ultralytics)",
                        r.name
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} prompts checked");
}
