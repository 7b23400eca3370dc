//! The `threads` load option natively: tract on a pool gives exactly the single-thread outputs.

#![cfg(all(not(target_arch = "wasm32"), feature = "tract"))]

mod common;

use common::*;
use fastsam_web::{FastSam, LoadOptions};

fn model_bytes() -> Vec<u8> {
    std::fs::read(fixtures().join("models/tiny-640.onnx")).unwrap()
}

fn load(threads: usize) -> fastsam_web::Result<FastSam> {
    FastSam::from_onnx_with_options(
        &model_bytes(),
        &LoadOptions {
            threads,
            ..LoadOptions::default()
        },
    )
}

#[test]
fn zero_threads_is_refused() {
    let error = load(0).unwrap_err();
    assert_eq!(error.code(), "INVALID_OPTION");
    assert!(error.to_string().contains("at least 1"), "{error}");
}

#[cfg(not(feature = "threads"))]
#[test]
fn more_threads_need_the_feature() {
    let error = load(2).unwrap_err();
    assert!(error.to_string().contains("`threads` feature"), "{error}");
}

#[cfg(feature = "threads")]
#[test]
fn a_pool_gives_the_single_thread_results_bit_for_bit() {
    use fastsam_web::{ImageView, PixelFormat, SegmentOptions};
    let single = load(1).unwrap();
    let pooled = load(3).unwrap();
    assert_eq!((single.threads(), pooled.threads()), (1, 3));
    let (rgb, w, h) = read_png_rgb(&fixtures().join("images/shapes_wide.png"));
    let image = ImageView::new(&rgb, w, h, PixelFormat::Rgb).unwrap();
    let (_, input) = single.preprocess(&image);
    let (a, b) = (single.infer(&input).unwrap(), pooled.infer(&input).unwrap());
    // Work is split by output panels, never inside a sum: the same floats, not merely close ones.
    assert_eq!(a.predictions, b.predictions);
    assert_eq!(a.prototypes, b.prototypes);
    let options = SegmentOptions::default();
    let (sa, sb) = (
        single.segment(&image, &options).unwrap(),
        pooled.segment(&image, &options).unwrap(),
    );
    assert!(!sa.is_empty(), "the fixture gives masks");
    assert_eq!(sa, sb);
}
