//! Lower-precision weights against their fp32 source: `models/exports/float16.onnx` is
//! `models/tiny-640.onnx` through onnxconverter_common's float16 converter, `q8.onnx` the same with
//! 8-bit convolution weights (`tools/convert.py --dtype q8`). Both engines compute in f32 whatever
//! the file stores (tract widens float16 tensors and folds the dequantization of constant weights;
//! the Burn port reads both into f32), so what differs is the rounding of the weights alone. The fixtures are random-weight
//! networks: these bounds hold the numerical error of the format, not the quality of masks on real
//! photos with trained weights (docs/precision.md has both).

#![cfg(all(not(target_arch = "wasm32"), feature = "tract"))]

mod common;

use common::precision::{Agreement, compare};
use common::*;
use fastsam_web::{FastSam, ImageView, PixelFormat, WeightType};

/// `other` against `models/tiny-640.onnx` on the three fixture images, with the reference cases'
/// settings (up to 32 detections), summed.
fn agreement(other: &str, weight_type: WeightType) -> Agreement {
    let load =
        |path: &str| FastSam::from_onnx(&std::fs::read(fixtures().join(path)).unwrap()).unwrap();
    let (fp32, low) = (load("models/tiny-640.onnx"), load(other));
    assert_eq!(
        (fp32.weight_type(), low.weight_type()),
        (WeightType::F32, weight_type)
    );
    let options = reference_options();
    let mut all = Agreement::none();
    for stem in ["shapes_wide", "shapes_tall", "shapes_small"] {
        let (rgb, w, h) = read_png_rgb(&fixtures().join(format!("images/{stem}.png")));
        let image = ImageView::new(&rgb, w, h, PixelFormat::Rgb).unwrap();
        all = all.add(compare(&fp32, &low, &image, &options));
    }
    println!(
        "{} vs fp32: {} of {} detections matched, mask IoU min {:.4} mean {:.4}, {} of {} prompts agree (IoU >= 0.9), prompt IoU min {:.4}; scores {:.1e}, boxes {:.1e} x input size",
        weight_type.as_str(),
        all.matched,
        all.detections,
        all.mask_iou_min,
        all.mask_iou_mean(),
        all.prompts_agreeing,
        all.prompts,
        all.prompt_iou_min,
        all.scores,
        all.boxes,
    );
    all
}

#[test]
fn float16_weights_keep_detections_masks_and_prompts() {
    let all = agreement("models/exports/float16.onnx", WeightType::F16);
    // Measured: 94 of 96 matched, mask IoU min 0.968 and mean 0.994, every prompt agreeing with
    // IoU >= 0.967 (these random-weight networks amplify the rounding: docs/precision.md).
    assert!(all.matched * 10 >= all.detections * 9, "{all:?}");
    assert!(all.mask_iou_min >= 0.95, "{all:?}");
    assert!(all.mask_iou_mean() >= 0.98, "{all:?}");
    assert_eq!(all.prompts_agreeing, all.prompts, "{all:?}");
    assert!(all.prompt_iou_min >= 0.95 && all.prompts >= 24, "{all:?}");
}

/// 8-bit weights move these networks much further (docs/precision.md): the bounds are the measured
/// figures with a margin, guarding against a regression, not a quality claim.
#[test]
fn q8_weights_stay_within_their_measured_error() {
    let all = agreement("models/exports/q8.onnx", WeightType::Q8);
    assert!(all.matched * 10 >= all.detections * 7, "{all:?}");
    assert!(all.mask_iou_mean() >= 0.80, "{all:?}");
    assert!(all.prompts >= 24, "{all:?}");
}
