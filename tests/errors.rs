//! Bad inputs give clear errors, never panics, and leave the model usable.

#![cfg(all(not(target_arch = "wasm32"), feature = "tract"))]

mod common;

use common::*;
use fastsam_web::{
    BoxMode, Error, FastSam, GpuFailure, ImageView, PixelFormat, PointMode, SegmentOptions,
    Segmentation,
};

fn model_bytes() -> Vec<u8> {
    std::fs::read(fixtures().join("models/tiny-640.onnx")).unwrap()
}

fn first_image() -> (Vec<u8>, u32, u32) {
    let mut pngs: Vec<_> = std::fs::read_dir(fixtures().join("images"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    pngs.sort();
    read_png_rgb(&pngs[0])
}

fn segment(model: &FastSam) -> Segmentation {
    let (rgb, w, h) = first_image();
    let image = ImageView::new(&rgb, w, h, PixelFormat::Rgb).unwrap();
    model.segment(&image, &SegmentOptions::default()).unwrap()
}

fn model_error(bytes: &[u8]) -> String {
    match FastSam::from_onnx(bytes) {
        Err(Error::InvalidModel(m)) => m,
        Err(other) => panic!("expected InvalidModel, got {other}"),
        Ok(_) => panic!("bad model bytes were accepted"),
    }
}

#[test]
fn empty_model_bytes() {
    let m = model_error(&[]);
    assert!(m.contains("empty"), "{m}");
}

#[test]
fn random_model_bytes() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let m = model_error(&bytes);
    assert!(m.contains("FastSAM") || m.contains("ONNX"), "{m}");
}

#[test]
fn truncated_model_bytes() {
    let bytes = model_bytes();
    let m = model_error(&bytes[..bytes.len() / 2]);
    assert!(m.contains("ONNX"), "{m}");
}

#[test]
fn a_checkpoint_instead_of_onnx() {
    // A .pt file is a zip archive.
    let m = model_error(b"PK\x03\x04\x14\x00\x00\x00\x08\x00archive/data.pkl");
    assert!(!m.is_empty());
}

#[test]
fn non_fastsam_onnx_models_say_what_they_are() {
    let read = |n: &str| std::fs::read(fixtures().join("models").join(n)).unwrap();
    let classifier = model_error(&read("classifier.onnx"));
    assert!(
        classifier.contains("classifier") && classifier.contains("[1, 10]"),
        "{classifier}"
    );
    let seg80 = model_error(&read("seg80.onnx"));
    assert!(
        seg80.contains("80 classes") && seg80.contains("exactly one class"),
        "{seg80}"
    );
    let detect = model_error(&read("detect.onnx"));
    assert!(detect.contains("1 outputs"), "{detect}");
    for m in [classifier, seg80, detect] {
        assert!(m.contains("expected a FastSAM ONNX export"), "{m}");
    }
}

#[test]
fn bad_images_are_refused_and_the_model_still_works() {
    let model = FastSam::from_onnx(&model_bytes()).unwrap();
    let before = segment(&model);

    let e = ImageView::new(&[], 0, 0, PixelFormat::Rgba).unwrap_err();
    assert!(
        matches!(e, Error::InvalidImage(_)) && e.message().contains("0x0"),
        "{e}"
    );
    let e = ImageView::new(&[0; 11], 2, 2, PixelFormat::Rgb).unwrap_err();
    assert!(e.message().contains("needs 12"), "{e}");
    let e = ImageView::from_interleaved(&[0; 15], 2, 2).unwrap_err();
    assert!(e.message().contains("16 (RGBA) or 12 (RGB)"), "{e}");
    // 16000 x 16000 is refused from its size alone (no 1 GB buffer needed to find out).
    let e = ImageView::new(&[], 16000, 16000, PixelFormat::Rgba).unwrap_err();
    assert!(
        e.message().contains("16000x16000") && e.message().contains("downscale"),
        "{e}"
    );
    let huge = vec![0u8; 16000 * 16000 * 3];
    assert!(ImageView::new(&huge, 16000, 16000, PixelFormat::Rgb).is_err());
    drop(huge);

    let options = SegmentOptions {
        conf: 1.5,
        ..SegmentOptions::default()
    };
    let (rgb, w, h) = first_image();
    let image = ImageView::new(&rgb, w, h, PixelFormat::Rgb).unwrap();
    let e = model.segment(&image, &options).unwrap_err();
    assert!(
        matches!(e, Error::InvalidOption(_)) && e.message().contains("conf"),
        "{e}"
    );

    assert_eq!(
        segment(&model),
        before,
        "the model must be unaffected by refused calls"
    );
}

#[test]
fn bad_prompts_are_refused_and_the_segmentation_still_works() {
    let model = FastSam::from_onnx(&model_bytes()).unwrap();
    let seg = segment(&model);
    let (w, h) = (seg.image_width() as f64, seg.image_height() as f64);
    let centre = [[w / 2.0, h / 2.0]];
    let good = seg.points(&centre, &[1], PointMode::Merged).unwrap();

    let prompt_error = |r: fastsam_web::Result<Vec<fastsam_web::Selection>>| match r {
        Err(Error::InvalidPrompt(m)) => m,
        other => panic!("expected InvalidPrompt, got {other:?}"),
    };
    let m = prompt_error(seg.points(&[[w, 1.0]], &[1], PointMode::Merged));
    assert!(m.contains("outside"), "{m}");
    let m = prompt_error(seg.points(&[[-1.0, 1.0]], &[1], PointMode::Merged));
    assert!(m.contains("outside"), "{m}");
    let m = prompt_error(seg.points(&[[f64::NAN, 1.0]], &[1], PointMode::PerPoint));
    assert!(m.contains("finite"), "{m}");
    let m = prompt_error(seg.points(&centre, &[1, 0], PointMode::Merged));
    assert!(m.contains("1 points but 2 labels"), "{m}");
    let m = prompt_error(seg.points(&centre, &[2], PointMode::Select));
    assert!(m.contains("label 0 is 2"), "{m}");

    let box_error = |r: fastsam_web::Result<Vec<usize>>| match r {
        Err(Error::InvalidPrompt(m)) => m,
        other => panic!("expected InvalidPrompt, got {other:?}"),
    };
    let m = box_error(seg.boxes(&[[w + 10.0, 0.0, w + 20.0, 5.0]], BoxMode::Official));
    assert!(m.contains("outside"), "{m}");
    let m = box_error(seg.boxes(&[[0.0, f64::NAN, 5.0, 5.0]], BoxMode::Official));
    assert!(m.contains("finite"), "{m}");
    let m = box_error(seg.boxes(&[[10.0, 10.0, 5.0, 20.0]], BoxMode::Ultralytics));
    assert!(m.contains("empty"), "{m}");
    let m = box_error(seg.boxes(&[[3.2, 3.2, 3.4, 3.4]], BoxMode::Official));
    assert!(m.contains("no whole pixel"), "{m}");
    // Partly outside is fine: clamped to the image.
    assert!(
        seg.boxes(&[[-50.0, -50.0, w / 2.0, h / 2.0]], BoxMode::Official)
            .is_ok()
    );

    assert_eq!(seg.points(&centre, &[1], PointMode::Merged).unwrap(), good);
}

/// The JavaScript side lists every code Rust raises: the `ERROR_CODES` array and the
/// `FastSamErrorCode` types of the worker client and of the wasm module's declarations.
#[test]
fn every_error_code_is_listed_for_javascript() {
    let root = manifest_dir();
    let read = |path: &str| std::fs::read_to_string(root.join(path)).unwrap();
    let lists = [
        ("js/errors.js", read("js/errors.js")),
        ("js/errors.d.ts", read("js/errors.d.ts")),
        ("src/web/mod.rs", read("src/web/mod.rs")),
    ];
    let errors = [
        Error::InvalidModel(String::new()),
        Error::InvalidImage(String::new()),
        Error::InvalidPrompt(String::new()),
        Error::InvalidOption(String::new()),
        Error::Inference(String::new()),
        Error::NoWebGpu(GpuFailure::default()),
        Error::GpuLost(GpuFailure::default()),
    ];
    for error in errors {
        // Exhaustive: a new variant fails to compile here until it is listed above.
        match error {
            Error::InvalidModel(_)
            | Error::InvalidImage(_)
            | Error::InvalidPrompt(_)
            | Error::InvalidOption(_)
            | Error::Inference(_)
            | Error::NoWebGpu(_)
            | Error::GpuLost(_) => {}
        }
        let quoted = format!("\"{}\"", error.code());
        for (file, text) in &lists {
            assert!(text.contains(&quoted), "{file} does not list {quoted}");
        }
    }
}
