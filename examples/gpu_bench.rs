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
//! With `--layers`, each model instead prints a per-layer table of its convolutions on Burn's
//! kernel and on the tiled one (`model::kernels::profile`: the device is waited for around each
//! layer, so the layers do not overlap): median of `--runs` network runs after `--warmup`.
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
use fastsam_web::model::kernels::profile::{self, ConvTiming};
use fastsam_web::model::kernels::{ConvKernels, Placement};
use fastsam_web::pipeline::{Letterbox, postprocess};
use fastsam_web::{FastSam, ImageView, PixelFormat, SegmentOptions};

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut models, mut image, mut runs, mut warmup) = (Vec::new(), None, 20usize, 3usize);
    let (mut check_cpu, mut layers) = (false, false);
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
            "--layers" => layers = true,
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
    if layers {
        for path in &models {
            layer_table(path, &device, &photo, (warmup, runs));
        }
        return;
    }
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

/// Prints the per-layer table of `--layers` for the model at `path`.
fn layer_table(
    path: &str,
    device: &burn_tensor::Device,
    photo: &ImageView,
    (warmup, runs): (usize, usize),
) {
    let bytes = std::fs::read(path).unwrap();
    let kernels = [ConvKernels::Burn, ConvKernels::Tiled];
    // Per kernel, per run, per layer.
    let mut timings: Vec<Vec<Vec<ConvTiming>>> = Vec::new();
    let mut title = String::new();
    for conv in kernels {
        let at = Placement {
            device: device.clone(),
            conv,
        };
        let engine = BurnEngine::from_onnx(&bytes, None, at, "burn-wgpu").unwrap();
        let size = engine.input_size();
        title = format!("FastSAM-{} {size}", engine.scale());
        let input = Letterbox::new(photo.width(), photo.height(), size).apply(photo);
        for _ in 0..warmup.max(1) {
            engine.infer(&input).unwrap();
        }
        let runs = (0..runs.max(1))
            .map(|_| profile::convolutions(|| engine.infer(&input).unwrap()).1)
            .collect();
        timings.push(runs);
    }
    let median = |kernel: usize, layer: usize| {
        let mut ms: Vec<f64> = timings[kernel].iter().map(|r| r[layer].ms).collect();
        ms.sort_by(f64::total_cmp);
        ms[ms.len() / 2]
    };
    println!("\n{title}: every convolution, median of {runs} runs (ms)\n");
    println!(
        "| # | input (h x w x c) | out | kernel/stride | MMAC | Burn's conv | tiled | ratio |"
    );
    println!("|---:|---|---:|---|---:|---:|---:|---:|");
    let layers = &timings[0][0];
    let (mut total_burn, mut total_tiled) = (0.0, 0.0);
    for (i, layer) in layers.iter().enumerate() {
        let (burn, tiled) = (median(0, i), median(1, i));
        (total_burn, total_tiled) = (total_burn + burn, total_tiled + tiled);
        let [_, h, w, c] = layer.input;
        println!(
            "| {i} | {h} x {w} x {c} | {} | {}x{}/{} | {:.1} | {burn:.2} | {tiled:.2} | {:.2}x |",
            layer.out_channels,
            layer.kernel,
            layer.kernel,
            layer.stride,
            layer.macs() as f64 / 1e6,
            tiled / burn
        );
    }
    let macs: u64 = layers.iter().map(ConvTiming::macs).sum();
    println!(
        "| all | {} convolutions | | | {:.1} | {total_burn:.1} | {total_tiled:.1} | {:.2}x |",
        layers.len(),
        macs as f64 / 1e6,
        total_tiled / total_burn
    );
}
