//! Times the polygons of every mask of one segmentation (tolerance 1 px), split into tracing the
//! boundaries and simplifying them, with the counts the time follows; then the SVG export of every
//! mask, which traces the masks on rayon's pool with the `threads` feature (`RAYON_NUM_THREADS`
//! sets its size).
//!
//! `cargo run --release --features threads --example polygons -- MODEL.onnx IMAGE.png [RUNS]`

use std::time::{Duration, Instant};

#[path = "../tests/common/mod.rs"]
mod common;

use fastsam_web::polygon::{find_contours, polygons_of_contours};
use fastsam_web::{FastSam, ImageView, PixelFormat, PolygonOptions, SegmentOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: polygons MODEL.onnx IMAGE.png [RUNS]");
        std::process::exit(2);
    }
    let runs: usize = args.get(3).map(|r| r.parse()).transpose()?.unwrap_or(10);
    let model = FastSam::from_onnx(&std::fs::read(&args[1])?)?;
    let (rgb, width, height) = common::read_png_rgb(std::path::Path::new(&args[2]));
    let image = ImageView::new(&rgb, width, height, PixelFormat::Rgb)?;
    let (letterbox, input) = model.preprocess(&image);
    let raw = model.infer(&input)?;
    let seg = fastsam_web::pipeline::postprocess(&raw, &letterbox, &SegmentOptions::default());
    let masks: Vec<_> = seg.instances().iter().map(|i| &i.mask).collect();
    let size = [image.width(), image.height()];
    let options = PolygonOptions::default();

    let (mut trace, mut simplify, mut export) = (Vec::new(), Vec::new(), Vec::new());
    let shapes: Vec<_> = seg
        .instances()
        .iter()
        .enumerate()
        .map(|(i, instance)| fastsam_web::formats::Shape {
            mask: &instance.mask,
            score: instance.score,
            index: Some(i),
        })
        .collect();
    let mut counts = (0, 0, 0, 0);
    for run in 0..runs {
        let t0 = Instant::now();
        let contours: Vec<_> = masks.iter().map(|m| find_contours(m)).collect();
        let t1 = Instant::now();
        let mut kept = 0;
        for c in &contours {
            for p in polygons_of_contours(c, size, &options)? {
                kept += p.exterior.len() + p.holes.iter().map(Vec::len).sum::<usize>();
            }
        }
        simplify.push(t1.elapsed());
        trace.push(t1 - t0);
        let t2 = Instant::now();
        fastsam_web::formats::svg(&shapes, size[0], size[1], &options, &[[30, 144, 255]])?;
        export.push(t2.elapsed());
        if run == 0 {
            let rings = contours.iter().flatten();
            counts = (
                rings.clone().count(),
                rings.clone().filter(|c| c.is_hole).count(),
                rings.map(|c| c.points.len()).sum::<usize>(),
                kept,
            );
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (t, s) = (median(&mut trace), median(&mut simplify));
    let (rings, holes, traced, kept) = counts;
    println!(
        "{} masks at {}x{}: {rings} rings ({holes} holes), {traced} traced points, {kept} kept at 1 px",
        masks.len(),
        size[0],
        size[1]
    );
    println!(
        "median of {runs}: trace {t:.1?}, simplify {s:.1?}, total {:.1?}; SVG export of every mask {:.1?}",
        t + s,
        median(&mut export)
    );
    Ok(())
}
