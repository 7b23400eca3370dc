//! GPU timings of the Burn port natively on wgpu (Vulkan where a GPU driver exists), median and min
//! of N runs after warm-up: the network run (input upload, every layer, both outputs read back),
//! post-processing with the masks assembled on the CPU and on the GPU
//! (`pipeline::device_masks`), and a whole segmentation (letterbox, network, NMS, full-resolution
//! masks) each way.
//!
//! `cargo run --release --no-default-features --features native-wgpu --example gpu_bench --
//!     MODEL.onnx [MODEL.onnx ...] --image PHOTO.png [--runs 20] [--warmup 3] [--conv burn|tiled]`
//!
//! `--conv` picks the convolution kernel (`model::kernels::ConvKernels`; the crate's default
//! otherwise).
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

use common::gpu_check::{check_against_cpu, check_assembly};
use common::time_ms;
use fastsam_web::engine::Engine;
use fastsam_web::engine::burn::BurnEngine;
use fastsam_web::model::kernels::{ConvKernels, Placement};
use fastsam_web::pipeline::{Letterbox, postprocess};
use fastsam_web::{FastSam, ImageView, PixelFormat, SegmentOptions};

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut models, mut image, mut runs, mut warmup) = (Vec::new(), None, 20usize, 3usize);
    let mut check_cpu = false;
    let mut conv = ConvKernels::default();
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
            "--conv" => {
                conv = match it.next().map(String::as_str) {
                    Some("burn") => ConvKernels::Burn,
                    Some("tiled") => ConvKernels::Tiled,
                    _ => panic!("--conv burn|tiled"),
                }
            }
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
        let at = Placement {
            device: device.clone(),
            conv,
        };
        let engine = BurnEngine::from_onnx(&bytes, None, at, "burn-wgpu").unwrap();
        let load = ms(t.elapsed());
        let label = format!(
            "FastSAM-{} {} ({conv:?} conv)",
            engine.scale(),
            engine.input_size()
        );
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
            all_ok &= check_against_cpu(&label, &raw, &reference, size, (&segs.0, &segs.1));
        }
    }
    if !all_ok {
        std::process::exit(1);
    }
}
