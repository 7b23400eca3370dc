//! How far a lower-precision copy of a model moves its results: raw outputs, detections, masks
//! and prompt selections of `OTHER.onnx` against `FP32.onnx` on each PNG, then over all of them
//! (the tables of docs/precision.md).
//!
//! `cargo run --release --example precision -- FP32.onnx OTHER.onnx IMAGE.png...`

#[path = "../tests/common/mod.rs"]
mod common;

use common::precision::{Agreement, compare};
use fastsam_web::{FastSam, ImageView, MaskResolution, PixelFormat, SegmentOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: precision FP32.onnx OTHER.onnx IMAGE.png...");
        std::process::exit(2);
    }
    let reference = FastSam::from_onnx(&std::fs::read(&args[1])?)?;
    let other = FastSam::from_onnx(&std::fs::read(&args[2])?)?;
    let options = SegmentOptions {
        mask_resolution: MaskResolution::Full,
        ..SegmentOptions::default()
    };
    println!(
        "| image | scores | coefficients | prototypes | boxes (x input size) | detections matched | mask IoU min / mean | prompts agreeing (IoU >= 0.9) | prompt IoU min |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut all = Agreement::none();
    for path in &args[3..] {
        let (rgb, w, h) = common::read_png_rgb(std::path::Path::new(path));
        let image = ImageView::new(&rgb, w, h, PixelFormat::Rgb)?;
        let a = compare(&reference, &other, &image, &options);
        let name = std::path::Path::new(path)
            .file_name()
            .map_or(path.clone(), |n| n.to_string_lossy().into_owned());
        row(&name, &a);
        all = all.add(a);
    }
    row("**all**", &all);
    Ok(())
}

fn row(name: &str, a: &Agreement) {
    println!(
        "| {name} | {:.1e} | {:.1e} | {:.1e} | {:.1e} | {} / {} | {:.3} / {:.3} | {} / {} | {:.3} |",
        a.scores,
        a.coefficients,
        a.prototypes,
        a.boxes,
        a.matched,
        a.detections,
        a.mask_iou_min,
        a.mask_iou_mean(),
        a.prompts_agreeing,
        a.prompts,
        a.prompt_iou_min,
    );
}
