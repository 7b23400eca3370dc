//! The Burn port on native wgpu against the same port on Burn's CPU backend (`flex`), on every
//! fixture model and photo, with each convolution kernel (Burn's own and the port's tiled one):
//! raw outputs within the parity bounds, detections matched with masks by IoU, and the masks
//! assembled on the device against the CPU assembly of the same outputs.
//!
//! Without a GPU this runs on lavapipe, Mesa's Vulkan driver on the CPU (`scripts/setup.sh`
//! installs it): the GPU kernels (convolutions, pools, resizes, the device mask assembly) are then
//! checked in the test suite, not only in headless Chromium. With no Vulkan adapter at all the
//! test says so and passes, unless `FASTSAM_REQUIRE_VULKAN=1` (set by `scripts/test.sh`).

#![cfg(all(not(target_arch = "wasm32"), feature = "native-wgpu"))]

mod common;

use burn_tensor::Device;
use common::gpu_check::{check_against_cpu, check_assembly};
use common::{fixtures, read_png_rgb};
use fastsam_web::engine::Engine;
use fastsam_web::engine::burn::BurnEngine;
use fastsam_web::model::kernels::{ConvKernels, Placement};
use fastsam_web::pipeline::{Letterbox, postprocess};
use fastsam_web::{ImageView, PixelFormat, SegmentOptions};

/// The Vulkan device, or `None` (after saying why) where none exists and none is required.
fn vulkan() -> Option<Device> {
    match Device::wgpu_options().init() {
        Ok(device) => Some(device),
        Err(e) if std::env::var_os("FASTSAM_REQUIRE_VULKAN").is_none() => {
            println!("skipped: no wgpu adapter ({e:?}); install mesa-vulkan-drivers for lavapipe");
            None
        }
        Err(e) => panic!("FASTSAM_REQUIRE_VULKAN is set but wgpu found no adapter: {e:?}"),
    }
}

#[test]
fn wgpu_matches_the_cpu_backend_on_every_fixture() {
    let Some(device) = vulkan() else { return };
    let options = SegmentOptions::default();
    let mut all_ok = true;
    for (model, conv) in [
        ("tiny-640.onnx", ConvKernels::Burn),
        ("tiny-640.onnx", ConvKernels::Tiled),
        ("tiny-1024.onnx", ConvKernels::Tiled),
    ] {
        let bytes = std::fs::read(fixtures().join("models").join(model)).unwrap();
        let at = Placement {
            device: device.clone(),
            conv,
        };
        let gpu = BurnEngine::from_onnx(&bytes, None, at, "burn-wgpu").unwrap();
        let cpu = BurnEngine::from_onnx(&bytes, None, Device::flex(), "burn-flex").unwrap();
        let size = gpu.input_size();
        for photo in ["shapes_small.png", "shapes_tall.png", "shapes_wide.png"] {
            let (rgb, w, h) = read_png_rgb(&fixtures().join("images").join(photo));
            let image = ImageView::new(&rgb, w, h, PixelFormat::Rgb).unwrap();
            let lb = Letterbox::new(w, h, size);
            let input = lb.apply(&image);
            let label = format!("{model} ({conv:?} convolutions) on {photo}");
            let (raw, reference) = (gpu.infer(&input).unwrap(), cpu.infer(&input).unwrap());
            let segs = (
                postprocess(&raw, &lb, &options),
                postprocess(&reference, &lb, &options),
            );
            assert!(
                !segs.1.is_empty(),
                "{label}: the fixture should detect something"
            );
            all_ok &= check_against_cpu(&label, &raw, &reference, size, (&segs.0, &segs.1));
            let run = gpu.run_on_device(&input).unwrap();
            all_ok &= check_assembly(&label, &run.segment(&lb, &options).unwrap(), &segs.0);
        }
    }
    assert!(all_ok, "a bound was missed (the table above says which)");
}
