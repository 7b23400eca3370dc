//! Parity report against reference cases written by `tools/parity_refs.py` (full-size models on
//! real photos). `tools/parity.sh` runs both; this prints one line per case and exits non-zero when
//! a bound is missed.
//!
//! `cargo run --release --example parity -- target/parity [--engine tract|burn]`
//!
//! With `--engine burn` the Burn port (Burn's CPU backend, or wgpu with the `native-wgpu` feature)
//! is checked against the same references, and its raw outputs against tract's on every case.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::path::Path;

use common::*;
use fastsam_web::pipeline::postprocess;
use fastsam_web::{
    BoxMode, FastSam, ImageView, MaskResolution, PixelFormat, PointMode, SegmentOptions,
    Segmentation, Selection, Semantics,
};
use sha2::{Digest, Sha256};

/// Bounds for full-size models. Boxes: relative to the input size (summation order moves them by
/// ~2e-5 of it between runtimes, TOOLCHAIN.md). Scores keep the 1e-4. Coefficients and
/// prototypes of the full-size bench model differ by up to ~1e-3 between any two runtimes (the
/// converter measured 8.8e-4 between PyTorch and onnxruntime themselves), so they get 2e-3 here;
/// the fixture tests hold them to 1e-4. Mask and selection bounds are not loosened.
const BOX_REL: f32 = 5e-5;
const SCORE_ABS: f32 = 1e-4;
const FEATURE_ABS: f32 = 2e-3;
const MASK_IOU: f64 = 0.99;
const BOX_IOU: f64 = 0.99;

/// The engine under test, and tract beside it when that engine is not tract.
struct Models {
    checked: FastSam,
    tract: Option<FastSam>,
}

impl Models {
    fn load(bytes: &[u8], engine: &str) -> Self {
        let tract = FastSam::from_onnx(bytes).unwrap();
        match engine {
            "tract" => Self {
                checked: tract,
                tract: None,
            },
            "burn" => Self {
                checked: burn_model(bytes),
                tract: Some(tract),
            },
            other => panic!("--engine {other}: use tract or burn"),
        }
    }
}

#[cfg(all(not(feature = "native-wgpu"), not(target_arch = "wasm32")))]
fn burn_model(bytes: &[u8]) -> FastSam {
    use fastsam_web::engine::burn::BurnEngine;
    let device = burn_tensor::Device::flex();
    FastSam::with_engine(Box::new(
        BurnEngine::from_onnx(bytes, None, device, "burn-flex").unwrap(),
    ))
}

#[cfg(target_arch = "wasm32")]
fn burn_model(_bytes: &[u8]) -> FastSam {
    panic!("the parity example reads files and runs natively; it has no browser build")
}

#[cfg(all(feature = "native-wgpu", not(target_arch = "wasm32")))]
fn burn_model(bytes: &[u8]) -> FastSam {
    use fastsam_web::engine::burn::BurnEngine;
    let device = burn_tensor::Device::wgpu_options().init().unwrap();
    FastSam::with_engine(Box::new(
        BurnEngine::from_onnx(bytes, None, device, "burn-wgpu").unwrap(),
    ))
}

#[derive(Default)]
struct Report {
    failures: Vec<String>,
}

impl Report {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            let w = what();
            println!("  FAIL {w}");
            self.failures.push(w);
        }
    }
}

fn options(case: &Case, semantics: Semantics) -> SegmentOptions {
    SegmentOptions {
        conf: case.conf,
        iou: case.iou,
        max_det: case.max_det,
        semantics,
        mask_resolution: MaskResolution::Full,
        ..SegmentOptions::default()
    }
}

/// Returns (our index for each reference detection, worst box IoU, worst mask IoU, masks below bound).
fn compare(seg: &Segmentation, reference: &Detections) -> (Vec<Option<usize>>, f64, f64, usize) {
    let ours: Vec<([f32; 4], f32)> = seg.instances().iter().map(|i| (i.bbox, i.score)).collect();
    let theirs: Vec<([f32; 4], f32)> = reference
        .boxes
        .iter()
        .copied()
        .zip(reference.scores.iter().copied())
        .collect();
    let (matches, worst_box) = match_detections(&ours, &theirs, SCORE_ABS);
    let mut worst_mask = 1f64;
    let mut below = 0;
    for (j, m) in matches.iter().enumerate() {
        if let Some(i) = m {
            let iou = seg.instances()[*i].mask.iou(&reference.masks[j].to_mask());
            worst_mask = worst_mask.min(iou);
            below += (iou < MASK_IOU) as usize;
        }
    }
    (matches, worst_box, worst_mask, below)
}

/// Reference mask areas, and the largest area difference between a matched pair of masks.
fn area_slack(
    seg: &Segmentation,
    reference: &Detections,
    matches: &[Option<usize>],
) -> (Vec<u64>, u64) {
    let areas: Vec<u64> = reference.masks.iter().map(|m| m.to_mask().area()).collect();
    let slack = matches
        .iter()
        .enumerate()
        .filter_map(|(j, m)| m.map(|i| seg.instances()[i].mask.area().abs_diff(areas[j])))
        .max()
        .unwrap_or(0);
    (areas, slack)
}

fn mapped(ours: &[usize], matches: &[Option<usize>]) -> Vec<Option<usize>> {
    let mut m: Vec<Option<usize>> = ours
        .iter()
        .map(|&i| matches.iter().position(|&x| x == Some(i)))
        .collect();
    m.sort_unstable();
    m
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let engine = match args.iter().position(|a| a == "--engine") {
        Some(i) => args.get(i + 1).cloned().unwrap_or_default(),
        None => "tract".into(),
    };
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--") && **a != engine)
        .cloned()
        .unwrap_or_else(|| "target/parity".into());
    let dir = Path::new(&dir);
    let cases = load_cases(&dir.join("reference"), dir);
    let mut models: HashMap<String, Models> = HashMap::new();
    let mut report = Report::default();
    for c in &cases {
        let case = &c.case;
        println!("{}:", c.name);
        let models = models
            .entry(case.model.clone())
            .or_insert_with(|| Models::load(&std::fs::read(c.path(&case.model)).unwrap(), &engine));
        let model = &models.checked;
        let (rgb, w, h) = read_png_rgb(&c.path(&case.image));
        let image = ImageView::new(&rgb, w, h, PixelFormat::Rgb).unwrap();
        let (lb, input) = model.preprocess(&image);
        let sha = format!("{:x}", Sha256::digest(lb.apply_u8(&image)));
        report.check(sha == case.letterbox.sha256, || {
            format!("{}: letterboxed pixels differ", c.name)
        });
        let started = std::time::Instant::now();
        let raw = model.infer(&input).unwrap();
        println!(
            "  {} ran in {:.0} ms",
            model.engine_name(),
            started.elapsed().as_secs_f64() * 1e3
        );
        if let Some(tract) = &models.tract {
            let want = tract.infer(&input).unwrap();
            let s = case.input_size as f32;
            let (mut boxes, mut scores, mut coefs) = (0f32, 0f32, 0f32);
            for (i, (a, b)) in raw.predictions.iter().zip(&want.predictions).enumerate() {
                let d = (a - b).abs();
                match i / raw.anchors {
                    0..=3 => boxes = boxes.max(d / s),
                    4 => scores = scores.max(d),
                    _ => coefs = coefs.max(d),
                }
            }
            let protos = raw
                .prototypes
                .iter()
                .zip(&want.prototypes)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            println!(
                "  vs tract: boxes {boxes:.1e} x S ({:.4} px), scores {scores:.1e}, coefficients {coefs:.1e}, prototypes {protos:.1e}",
                boxes * s
            );
            report.check(boxes <= BOX_REL, || {
                format!("{}: boxes vs tract {boxes}", c.name)
            });
            report.check(scores <= FEATURE_ABS, || {
                format!("{}: scores vs tract {scores}", c.name)
            });
            report.check(coefs.max(protos) <= FEATURE_ABS, || {
                format!(
                    "{}: coefficients/prototypes vs tract {coefs} {protos}",
                    c.name
                )
            });
        }

        if let Some(spec) = &case.raw {
            let stem = c.name.clone();
            let out0 = read_npy_f32(&dir.join(format!("reference/{stem}.output0.npy")));
            let out1 = read_npy_f32(&dir.join(format!("reference/{stem}.output1.npy")));
            let s = case.input_size as f32;
            let (mut boxes, mut scores, mut coefs, mut protos) = (0f32, 0f32, 0f32, 0f32);
            for (k, &want) in out0.iter().enumerate() {
                let i = k * spec.output0_stride;
                let d = (raw.predictions[i] - want).abs();
                match i / raw.anchors {
                    0..=3 => boxes = boxes.max(d / s),
                    4 => scores = scores.max(d),
                    _ => coefs = coefs.max(d),
                }
            }
            for (k, &want) in out1.iter().enumerate() {
                protos = protos.max((raw.prototypes[k * spec.output1_stride] - want).abs());
            }
            println!(
                "  raw: boxes {boxes:.1e} x S ({:.4} px), scores {scores:.1e}, coefficients {coefs:.1e}, prototypes {protos:.1e}",
                boxes * s
            );
            report.check(boxes <= BOX_REL, || format!("{}: boxes {boxes}", c.name));
            report.check(scores <= SCORE_ABS, || {
                format!("{}: scores {scores}", c.name)
            });
            report.check(coefs <= FEATURE_ABS, || {
                format!("{}: coefficients {coefs}", c.name)
            });
            report.check(protos <= FEATURE_ABS, || {
                format!("{}: prototypes {protos}", c.name)
            });
        }

        let mut segs = Vec::new();
        for (semantics, reference, label) in [
            (Semantics::Official, &case.official, "official"),
            (Semantics::Ultralytics, &case.ultralytics, "ultralytics"),
        ] {
            let seg = postprocess(&raw, &lb, &options(case, semantics));
            let (matches, worst_box, worst_mask, below) = compare(&seg, reference);
            let unmatched = matches.iter().filter(|m| m.is_none()).count();
            println!(
                "  {label}: {} vs {} detections, unmatched {unmatched}, worst box IoU {worst_box:.5}, worst mask IoU {worst_mask:.5} ({below} masks < {MASK_IOU})",
                seg.len(),
                reference.boxes.len()
            );
            report.check(seg.len() == reference.boxes.len() && unmatched == 0, || {
                format!("{}: {label} detections", c.name)
            });
            report.check(worst_box >= BOX_IOU, || {
                format!("{}: {label} box IoU {worst_box}", c.name)
            });
            report.check(below == 0, || {
                format!("{}: {label} {below} masks below IoU bound", c.name)
            });
            segs.push((seg, matches));
        }
        let (official, om) = &segs[0];
        let (ultra, um) = &segs[1];
        let mut prompts = 0;
        for p in &case.prompts {
            prompts += 1;
            match p {
                PromptRef::Everything { official: want } => {
                    let ours: Vec<usize> = official
                        .everything()
                        .iter()
                        .filter_map(|&i| om.iter().position(|&x| x == Some(i)))
                        .collect();
                    let (ref_areas, slack) = area_slack(official, &case.official, om);
                    let verdict = check_area_order(&ours, want, &ref_areas, slack);
                    report.check(verdict.is_ok(), || {
                        format!("{}: everything order: {}", c.name, verdict.unwrap_err())
                    });
                }
                PromptRef::Points {
                    points,
                    labels,
                    official: want,
                    ultralytics: want_u,
                } => {
                    let merged = official.points(points, labels, PointMode::Merged).unwrap();
                    if let [Selection::Merged { mask, .. }] = merged.as_slice() {
                        let iou = mask.iou(&want.to_mask());
                        report.check(iou >= MASK_IOU, || {
                            format!("{}: points {points:?} IoU {iou}", c.name)
                        });
                    }
                    let picked: Vec<usize> = ultra
                        .points(points, labels, PointMode::Select)
                        .unwrap()
                        .into_iter()
                        .filter_map(|s| match s {
                            Selection::Instance(i) => Some(i),
                            _ => None,
                        })
                        .collect();
                    let want_u: Vec<Option<usize>> = want_u.iter().map(|&i| Some(i)).collect();
                    report.check(mapped(&picked, um) == want_u, || {
                        format!("{}: ultralytics points {points:?}", c.name)
                    });
                }
                PromptRef::Boxes {
                    boxes,
                    official: want,
                    ultralytics: want_u,
                } => {
                    let got = official.boxes(boxes, BoxMode::Official).unwrap();
                    let want: Vec<Option<usize>> = want.iter().map(|&i| Some(i)).collect();
                    report.check(mapped(&got, om) == want, || {
                        format!("{}: boxes {boxes:?}", c.name)
                    });
                    let got = ultra.boxes(boxes, BoxMode::Ultralytics).unwrap();
                    let want_u: Vec<Option<usize>> = want_u.iter().map(|&i| Some(i)).collect();
                    report.check(mapped(&got, um) == want_u, || {
                        format!("{}: ultralytics boxes {boxes:?}", c.name)
                    });
                }
            }
        }
        println!("  prompts: {prompts} checked");
    }
    println!(
        "\n{} cases, {} failures",
        cases.len(),
        report.failures.len()
    );
    if !report.failures.is_empty() {
        std::process::exit(1);
    }
}
