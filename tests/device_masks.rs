//! Mask assembly on the device (Burn's `flex` backend) against the CPU assembly, on synthetic
//! prototypes and boxes chosen for the edge cases the fixtures may not reach: ultralytics'
//! two-stage upsampling with factors 1, 2 and 4, images smaller and larger than the prototype grid,
//! boxes that are empty, fractional, partly outside the frame or the whole frame, and budgets small
//! enough to cut boxes into row strips.

#![cfg(all(not(target_arch = "wasm32"), feature = "burn"))]

use burn_tensor::{Device, Tensor, TensorData};
use fastsam_web::Mask;
use fastsam_web::engine::RawOutputs;
use fastsam_web::pipeline::device_masks::{CHUNK_PIXELS, DeviceMasks, READBACK_BYTES};
use fastsam_web::pipeline::{
    Letterbox, MaskResolution, Placed, SegmentOptions, Semantics, cpu_masks, mask_frame,
};

const MASK_DIM: usize = 4;

/// A deterministic generator of values in `-1..1`.
struct Noise(u32);

impl Noise {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        ((self.0 >> 8) as f32 / (1u32 << 24) as f32) * 2.0 - 1.0
    }
}

/// Smooth prototypes (sums of waves), so masks have large regions and long boundaries.
fn raw_outputs(size: usize, noise: &mut Noise) -> RawOutputs {
    let side = size / 4;
    let mut prototypes = Vec::with_capacity(MASK_DIM * side * side);
    for _ in 0..MASK_DIM {
        let (a, b, c) = (noise.next() * 0.2, noise.next() * 0.2, noise.next() * 3.0);
        for y in 0..side {
            for x in 0..side {
                prototypes.push((a * x as f32 + b * y as f32 + c).sin());
            }
        }
    }
    RawOutputs {
        predictions: vec![0.0; 5 + MASK_DIM],
        channels: 5 + MASK_DIM,
        anchors: 1,
        prototypes,
        mask_dim: MASK_DIM,
        proto_height: side,
        proto_width: side,
    }
}

/// Boxes in mask-frame pixels covering the edge cases, plus random ones.
fn boxes(fw: f32, fh: f32, noise: &mut Noise) -> Vec<[f32; 4]> {
    let mut boxes = vec![
        [0.0, 0.0, fw, fh],
        [5.0, 5.0, 5.0, fh],
        [-10.0, -10.0, fw * 0.3, fh * 0.4],
        [10.5, 3.2, fw * 0.6 + 0.3, fh * 0.9 + 0.7],
        [fw * 0.5, fh * 0.5, fw * 0.5 + 1.0, fh * 0.5 + 1.0],
        [fw * 0.7, fh * 0.2, fw + 50.0, fh + 50.0],
    ];
    for _ in 0..10 {
        let (x, y) = (
            (noise.next() + 1.0) * 0.5 * fw,
            (noise.next() + 1.0) * 0.5 * fh,
        );
        let (w, h) = (
            (noise.next() + 1.0) * 0.4 * fw,
            (noise.next() + 1.0) * 0.4 * fh,
        );
        boxes.push([x, y, x + w, y + h]);
    }
    boxes
}

fn device_masks(
    raw: &RawOutputs,
    placed: &[Placed],
    lb: &Letterbox,
    options: &SegmentOptions,
    (chunk_pixels, readback_bytes): (usize, usize),
) -> Vec<Mask> {
    let side = raw.proto_width;
    let prototypes = Tensor::<3>::from_data(
        TensorData::new(raw.prototypes.clone(), [MASK_DIM, side, side]),
        &Device::flex(),
    );
    let mut masks = DeviceMasks::with_budget(
        prototypes,
        placed,
        lb,
        options,
        chunk_pixels,
        readback_bytes,
    );
    while let Some(batch) = masks.next_batch() {
        masks.accept(batch.execute()).unwrap();
    }
    masks.finish().unwrap()
}

#[test]
fn device_assembly_matches_the_cpu_assembly_on_edge_cases() {
    let mut noise = Noise(7);
    let (mut compared, mut differing, mut pixels) = (0usize, 0u64, 0u64);
    // (image width, height, input size): ultralytics' factor is 4 for the first (300x200 at 1024),
    // 2 or 1 for others; the tall and the wide image have prototype rows/columns cropped to a few.
    for (iw, ih, size) in [
        (300, 200, 1024),
        (640, 480, 640),
        (97, 413, 640),
        (1500, 40, 640),
        (1000, 1000, 640),
    ] {
        let lb = Letterbox::new(iw, ih, size);
        let raw = raw_outputs(size as usize, &mut noise);
        for (semantics, mask_resolution) in [
            (Semantics::Official, MaskResolution::Full),
            (Semantics::Official, MaskResolution::Low),
            (Semantics::Ultralytics, MaskResolution::Full),
        ] {
            let options = SegmentOptions {
                semantics,
                mask_resolution,
                ..SegmentOptions::default()
            };
            let (fw, fh) = mask_frame(&lb, &options);
            let placed: Vec<Placed> = boxes(fw as f32, fh as f32, &mut noise)
                .into_iter()
                .enumerate()
                .map(|(anchor, crop)| Placed {
                    score: 0.5,
                    coefficients: (0..MASK_DIM).map(|_| noise.next()).collect(),
                    anchor,
                    bbox: crop,
                    crop,
                })
                .collect();
            let cpu = cpu_masks(&raw, &placed, &lb, &options);
            let name = format!("{iw}x{ih} at {size}, {semantics:?}, {mask_resolution:?}");
            assert!(cpu[1].is_empty(), "{name}: the zero-width box");
            assert!(cpu.iter().any(|m| !m.is_empty()), "{name}: all masks empty");
            for budget in [(CHUNK_PIXELS, READBACK_BYTES), (3_000, 2_000)] {
                let device = device_masks(&raw, &placed, &lb, &options, budget);
                assert_eq!(device.len(), cpu.len());
                for (i, (d, c)) in device.iter().zip(&cpu).enumerate() {
                    assert_eq!((d.width(), d.height()), (fw, fh), "{name}: frame");
                    let iou = d.iou(c);
                    assert!(iou >= 0.99, "{name}, budget {budget:?}: mask {i} IoU {iou}");
                    differing += d.area() + c.area() - 2 * d.intersection(c);
                    pixels += c.area();
                    compared += 1;
                }
            }
        }
    }
    println!("{compared} masks, {pixels} pixels, {differing} differ");
}
