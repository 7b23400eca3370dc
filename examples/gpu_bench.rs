//! GPU timings of the Burn port natively on wgpu (Vulkan where a GPU driver exists), median and min
//! of N runs after warm-up: the network run (input upload, every layer, both outputs read back),
//! post-processing with the masks assembled on the CPU and on the GPU
//! (`pipeline::device_masks`), and a whole segmentation (letterbox, network, NMS, full-resolution
//! masks) each way.
//!
//! `cargo run --release --no-default-features --features native-wgpu --example gpu_bench --
//!     MODEL.onnx [MODEL.onnx ...] --image PHOTO.png [--runs 20] [--warmup 3]`
//!
//! With `--check`, each model also runs once on Burn's CPU backend (`flex`) and the GPU's raw
//! outputs and masks are compared with it: boxes relative to the input size, scores, mask
//! coefficients and prototypes absolute, masks by IoU; and the GPU's mask assembly is compared with
//! the CPU assembly of the same outputs. The run fails where a bound is missed.
//!
//! `tools/gpu_bench.sh` runs it on a lent GPU machine with full-size FastSAM-s/x files made by
//! `tools/bench_skeleton.py`. The first run of each model is printed on its own: it compiles the
//! shaders (and, in a build with Burn's `autotune` feature, benchmarks the kernel candidates).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::time_ms;
use fastsam_web::engine::burn::BurnEngine;
use fastsam_web::engine::{Engine, RawOutputs};
use fastsam_web::pipeline::{Letterbox, postprocess};
use fastsam_web::{FastSam, ImageView, PixelFormat, SegmentOptions, Segmentation};

/// Bounds of `--check`, those of the native Burn-vs-tract tests on full-size models
/// (`examples/parity.rs`): boxes relative to the input size, the rest absolute.
const BOX_REL: f32 = 5e-5;
const SCORE_ABS: f32 = 1e-4;
const FEATURE_ABS: f32 = 2e-3;
const MASK_IOU: f64 = 0.99;
const BOX_IOU: f64 = 0.99;

/// Largest absolute difference of two equally long slices.
fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Compares GPU outputs with the CPU backend's; returns whether every bound holds.
fn check(
    label: &str,
    gpu: &RawOutputs,
    cpu: &RawOutputs,
    input_size: u32,
    masks: (&Segmentation, &Segmentation),
) -> bool {
    let a = gpu.anchors;
    let rows = |r: &RawOutputs, from: usize, to: usize| r.predictions[from * a..to * a].to_vec();
    let boxes = max_diff(&rows(gpu, 0, 4), &rows(cpu, 0, 4)) / input_size as f32;
    let scores = max_diff(&rows(gpu, 4, 5), &rows(cpu, 4, 5));
    let coefficients = max_diff(&rows(gpu, 5, gpu.channels), &rows(cpu, 5, cpu.channels));
    let prototypes = max_diff(&gpu.prototypes, &cpu.prototypes);
    // Detections pair up by score and box, as in examples/parity.rs: near-equal scores may
    // swap places between two runtimes, so index order is not compared.
    let (g, c) = masks;
    let detections = |s: &Segmentation| -> Vec<([f32; 4], f32)> {
        s.instances().iter().map(|i| (i.bbox, i.score)).collect()
    };
    let (matches, worst_box) = common::match_detections(&detections(g), &detections(c), SCORE_ABS);
    let unmatched = matches.iter().filter(|m| m.is_none()).count();
    let pairs: Vec<(f64, u64, u64, f32)> = matches
        .iter()
        .zip(c.instances())
        .filter_map(|(m, theirs)| {
            m.map(|i| {
                let ours = &g.instances()[i];
                let iou = ours.mask.iou(&theirs.mask);
                (iou, ours.mask.area(), theirs.mask.area(), theirs.score)
            })
        })
        .collect();
    let min_iou = pairs.iter().map(|p| p.0).fold(1.0, f64::min);
    for (iou, ours, theirs, score) in pairs.iter().filter(|p| p.0 < MASK_IOU) {
        println!(
            "|   | mask below the IoU bound: IoU {iou:.5}, {ours} vs {theirs} pixels, score {score:.4} | | |"
        );
    }
    let ok = boxes <= BOX_REL
        && scores <= SCORE_ABS
        && coefficients <= FEATURE_ABS
        && prototypes <= FEATURE_ABS
        && g.len() == c.len()
        && unmatched == 0
        && worst_box >= BOX_IOU
        && min_iou >= MASK_IOU;
    println!(
        "| {label} | GPU vs Burn CPU backend: boxes {boxes:.1e} of input, scores {scores:.1e}, coefficients {coefficients:.1e}, prototypes {prototypes:.1e}; {} vs {} detections, {unmatched} unmatched, worst box IoU {worst_box:.5}, worst mask IoU {min_iou:.5} | {} | |",
        g.len(),
        c.len(),
        if ok { "ok" } else { "FAILED" }
    );
    ok
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Compares masks assembled on the GPU with the CPU assembly of the same outputs (same detections
/// in the same order); returns whether every mask IoU holds the bound.
fn check_assembly(label: &str, gpu: &Segmentation, cpu: &Segmentation) -> bool {
    let same = gpu.len() == cpu.len()
        && gpu
            .instances()
            .iter()
            .zip(cpu.instances())
            .all(|(g, c)| g.anchor == c.anchor && g.bbox == c.bbox);
    let (mut worst, mut differing) = (1f64, 0u64);
    for (g, c) in gpu.instances().iter().zip(cpu.instances()) {
        worst = worst.min(g.mask.iou(&c.mask));
        differing += g.mask.area() + c.mask.area() - 2 * g.mask.intersection(&c.mask);
    }
    let ok = same && worst >= MASK_IOU;
    println!(
        "| {label} | masks assembled on the GPU vs on the CPU: {} vs {} detections, worst mask IoU {worst:.5}, {differing} pixels differ | {} | |",
        gpu.len(),
        cpu.len(),
        if ok { "ok" } else { "FAILED" }
    );
    ok
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut models, mut image, mut runs, mut warmup) = (Vec::new(), None, 20usize, 3usize);
    let mut check_cpu = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut number = |flag: &str| -> usize {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{flag} N"))
        };
        match a.as_str() {
            "--image" => image = it.next().cloned(),
            "--runs" => runs = number("--runs"),
            "--warmup" => warmup = number("--warmup"),
            "--check" => check_cpu = true,
            m => models.push(m.to_string()),
        }
    }
    let image = image.expect("--image PHOTO.png");
    let (rgb, w, h) = common::read_png_rgb(std::path::Path::new(&image));
    let photo = ImageView::new(&rgb, w, h, PixelFormat::Rgb).unwrap();
    let options = SegmentOptions::default();

    let t = Instant::now();
    let device = burn_tensor::Device::wgpu_options()
        .init()
        .expect("no wgpu adapter");
    println!("wgpu device ready in {:.0} ms", ms(t.elapsed()));
    println!("| model | what | median ms | min ms |\n|---|---|---:|---:|");
    let mut all_ok = true;
    for path in &models {
        let bytes = std::fs::read(path).unwrap();
        let t = Instant::now();
        let engine = BurnEngine::from_onnx(&bytes, None, device.clone(), "burn-wgpu").unwrap();
        let load = ms(t.elapsed());
        let label = format!("FastSAM-{} {}", engine.scale(), engine.input_size());
        let size = engine.input_size();
        let cpu = check_cpu.then(|| {
            let flex =
                BurnEngine::from_onnx(&bytes, None, burn_tensor::Device::flex(), "burn-flex");
            FastSam::with_engine(Box::new(flex.unwrap()))
        });
        drop(bytes);
        let (lb, input) = {
            let lb = Letterbox::new(w, h, size);
            let input = lb.apply(&photo);
            (lb, input)
        };

        let t = Instant::now();
        let raw = engine.infer(&input).unwrap();
        let first = ms(t.elapsed());
        println!("| {label} | load weights onto the GPU | {load:.0} | |");
        println!("| {label} | first network run (shader compilation, autotune) | {first:.0} | |");

        let (med, min) = time_ms(warmup, runs, || engine.infer(&input).unwrap());
        println!(
            "| {label} | network run: upload, forward, both outputs read back | {med:.2} | {min:.2} |"
        );
        let masks = postprocess(&raw, &lb, &options).len();
        let (med, min) = time_ms(1, runs, || postprocess(&raw, &lb, &options));
        println!(
            "| {label} | post-processing on the CPU: NMS + {masks} masks at {w}x{h} | {med:.2} | {min:.2} |"
        );
        let (med, min) = time_ms(1, runs, || {
            let input = Letterbox::new(w, h, size).apply(&photo);
            postprocess(&engine.infer(&input).unwrap(), &lb, &options)
        });
        println!("| {label} | whole segmentation, masks on the CPU | {med:.2} | {min:.2} |");

        let (med, min) = time_ms(1, runs, || engine.run_on_device(&input).unwrap());
        println!(
            "| {label} | network run: upload, forward, output0 read back | {med:.2} | {min:.2} |"
        );
        let run = engine.run_on_device(&input).unwrap();
        let (med, min) = time_ms(1, runs, || run.segment(&lb, &options).unwrap());
        println!(
            "| {label} | post-processing with the masks on the GPU: NMS + {masks} masks at {w}x{h}, bits read back | {med:.2} | {min:.2} |"
        );
        let (med, min) = time_ms(1, runs, || {
            let input = Letterbox::new(w, h, size).apply(&photo);
            let run = engine.run_on_device(&input).unwrap();
            run.segment(&lb, &options).unwrap()
        });
        println!("| {label} | whole segmentation, masks on the GPU | {med:.2} | {min:.2} |");
        all_ok &= check_assembly(
            &label,
            &run.segment(&lb, &options).unwrap(),
            &postprocess(&raw, &lb, &options),
        );
        if let Some(cpu) = cpu {
            let t = Instant::now();
            let reference = cpu.infer(&input).unwrap();
            println!(
                "| {label} | one network run on Burn's CPU backend (flex), for --check | {:.0} | |",
                ms(t.elapsed())
            );
            let segs = (
                postprocess(&raw, &lb, &options),
                postprocess(&reference, &lb, &options),
            );
            all_ok &= check(&label, &raw, &reference, size, (&segs.0, &segs.1));
        }
    }
    if !all_ok {
        std::process::exit(1);
    }
}
