//! Native timings: tract inference, post-processing and every prompt (median and min of N runs
//! after warm-up), printed as a markdown table.
//!
//! `cargo run --release --example bench -- MODEL.onnx [MODEL.onnx ...] --image PHOTO.png [--runs 5]`
//!
//! Post-processing is timed on a 2000x1500 crop of the photo (FastSAM's 300 detections with full
//! resolution masks), prompts on that segmentation, with points at the centres of the three best
//! proposals (as `npm run bench` places them).

#[path = "../tests/common/mod.rs"]
mod common;

use fastsam_web::pipeline::postprocess;
use fastsam_web::{
    BoxMode, FastSam, ImageView, MaskResolution, PixelFormat, PointMode, SegmentOptions,
};

/// A labelled piece of work to time.
type Job<'a> = Box<dyn Fn() + 'a>;

fn crop(rgb: &[u8], w: u32, cw: u32, ch: u32) -> Vec<u8> {
    (0..ch as usize)
        .flat_map(|y| rgb[y * w as usize * 3..][..cw as usize * 3].iter().copied())
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut models = Vec::new();
    let (mut image, mut runs) = (None, 5usize);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--image" => image = it.next().cloned(),
            "--runs" => runs = it.next().and_then(|v| v.parse().ok()).expect("--runs N"),
            m => models.push(m.to_string()),
        }
    }
    let image = image.expect("--image PHOTO.png");
    let (rgb, w, h) = common::read_png_rgb(std::path::Path::new(&image));
    let photo = ImageView::new(&rgb, w, h, PixelFormat::Rgb).unwrap();

    println!("| what | median ms | min ms |\n|---|---:|---:|");
    let mut last = None;
    for path in &models {
        let model = FastSam::from_onnx(&std::fs::read(path).unwrap()).unwrap();
        let (_, input) = model.preprocess(&photo);
        let (med, min) = common::time_ms(2, runs, || model.infer(&input).unwrap());
        let name = std::path::Path::new(path)
            .file_name()
            .unwrap()
            .to_string_lossy();
        println!("| tract inference, {name} ({w}x{h} photo) | {med:.1} | {min:.1} |");
        let (med, min) = common::time_ms(2, runs, || model.preprocess(&photo));
        println!(
            "| letterbox {w}x{h} -> {} | {med:.2} | {min:.2} |",
            model.input_size()
        );
        last = Some(model);
    }
    let model = last.expect("at least one model");

    let (cw, ch) = (w.min(2000), h.min(1500));
    let cropped = crop(&rgb, w, cw, ch);
    let view = ImageView::new(&cropped, cw, ch, PixelFormat::Rgb).unwrap();
    let (lb, input) = model.preprocess(&view);
    let raw = model.infer(&input).unwrap();
    let full = SegmentOptions::default();
    let low = SegmentOptions {
        mask_resolution: MaskResolution::Low,
        ..SegmentOptions::default()
    };
    let seg = postprocess(&raw, &lb, &full);
    let n = seg.len();
    let (med, min) = common::time_ms(1, runs, || postprocess(&raw, &lb, &full));
    println!(
        "| post-processing: NMS + {n} full-resolution masks at {cw}x{ch} | {med:.1} | {min:.1} |"
    );
    let (med, min) = common::time_ms(1, runs, || postprocess(&raw, &lb, &low));
    println!(
        "| post-processing, low-resolution masks ({}x{}) | {med:.1} | {min:.1} |",
        lb.new_width, lb.new_height
    );

    let (fw, fh) = (cw as f64, ch as f64);
    // Points at the centres of the three best proposals, as the browser bench picks them.
    let mut centres: Vec<[f64; 2]> = seg
        .proposals(3)
        .into_iter()
        .map(|i| {
            let [x1, y1, x2, y2] = seg.instances()[i].bbox;
            [f64::from(x1 + x2) / 2.0, f64::from(y1 + y2) / 2.0]
        })
        .collect();
    if centres.is_empty() {
        centres.push([fw / 2.0, fh / 2.0]);
    }
    while centres.len() < 3 {
        centres.push(centres[centres.len() - 1]);
    }
    let p1 = [centres[0]];
    let p3 = [centres[0], centres[1], centres[2]];
    let prompt_runs = runs.max(20);
    let rows: Vec<(&str, Job)> = vec![
        (
            "prompt: everything (sort by area)",
            Box::new(|| drop(seg.everything())),
        ),
        (
            "prompt: 1 point, merged (official)",
            Box::new(|| drop(seg.points(&p1, &[1], PointMode::Merged).unwrap())),
        ),
        (
            "prompt: 3 points (+,+,-), merged",
            Box::new(|| drop(seg.points(&p3, &[1, 1, 0], PointMode::Merged).unwrap())),
        ),
        (
            "prompt: 3 points, per point",
            Box::new(|| drop(seg.points(&p3, &[1, 1, 0], PointMode::PerPoint).unwrap())),
        ),
        (
            "prompt: 1 box",
            Box::new(|| {
                drop(
                    seg.boxes(
                        &[[fw * 0.2, fh * 0.2, fw * 0.7, fh * 0.9]],
                        BoxMode::Official,
                    )
                    .unwrap(),
                )
            }),
        ),
        (
            "prompt: 3 boxes",
            Box::new(|| {
                drop(
                    seg.boxes(
                        &[
                            [0.0, 0.0, fw / 2.0, fh / 2.0],
                            [fw / 2.0, fh / 2.0, fw, fh],
                            [fw * 0.1, fh * 0.3, fw * 0.9, fh * 0.6],
                        ],
                        BoxMode::Official,
                    )
                    .unwrap(),
                )
            }),
        ),
        (
            "edges (all mask boundaries)",
            Box::new(|| drop(seg.edges())),
        ),
        ("proposals (top 100)", Box::new(|| drop(seg.proposals(100)))),
    ];
    for (label, f) in rows {
        let (med, min) = common::time_ms(2, prompt_runs, &f);
        println!("| {label}, {n} masks at {cw}x{ch} | {med:.2} | {min:.2} |");
    }
}
