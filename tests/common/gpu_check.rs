//! Checks of the Burn port on a GPU (or a Vulkan driver on the CPU) against Burn's CPU backend,
//! shared by `tests/burn_wgpu.rs` and `examples/gpu_bench.rs --check`. Each prints one table row
//! and returns whether its bounds hold.

use fastsam_web::Segmentation;
use fastsam_web::engine::RawOutputs;

use super::{match_detections, max_abs_diff as max_diff};

/// Bounds of the checks, those of the native Burn-vs-tract comparison of full-size models
/// (`examples/parity.rs`): boxes relative to the input size, the rest absolute.
pub const BOX_REL: f32 = 5e-5;
pub const SCORE_ABS: f32 = 1e-4;
pub const FEATURE_ABS: f32 = 2e-3;
pub const MASK_IOU: f64 = 0.99;
pub const BOX_IOU: f64 = 0.99;

/// Compares GPU outputs with the CPU backend's; returns whether every bound holds.
pub fn check_against_cpu(
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
    let (matches, worst_box) = match_detections(&detections(g), &detections(c), SCORE_ABS);
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

/// Compares masks assembled on the GPU with the CPU assembly of the same outputs (same detections
/// in the same order); returns whether every mask IoU holds the bound.
pub fn check_assembly(label: &str, gpu: &Segmentation, cpu: &Segmentation) -> bool {
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
