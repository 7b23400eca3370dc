//! FastSAM (Fast Segment Anything) for the browser and native Rust.
//!
//! Data flows one way: image bytes -> letterboxed tensor -> engine (raw `output0`, `output1`) ->
//! detections -> masks -> prompt selection -> bitmaps. The model runs once per image; every prompt
//! is a cheap selection over the masks of that run. The text prompt ([`clip`]) scores each mask's
//! image region against a sentence with CLIP.
//!
//! ```no_run
//! use fastsam_web::{FastSam, ImageView, PixelFormat, SegmentOptions};
//! # fn main() -> fastsam_web::Result<()> {
//! let model = FastSam::from_onnx(&std::fs::read("FastSAM-s.onnx").unwrap())?;
//! # let (rgb, width, height) = (vec![0u8; 4 * 4 * 3], 4, 4);
//! let image = ImageView::new(&rgb, width, height, PixelFormat::Rgb)?;
//! let seg = model.segment(&image, &SegmentOptions::default())?;
//! let clicked = seg.points(&[[120.0, 80.0]], &[1], Default::default())?;
//! # Ok(()) }
//! ```

// The API: the items re-exported below, and the modules that are public. The others are the
// implementation of those items.
pub mod clip;
pub mod engine;
mod error;
pub mod formats;
mod image;
mod mask;
pub mod model;
pub mod onnx;
mod parallel;
pub mod pipeline;
pub mod polygon;
mod prompt;
mod render;
mod segmentation;
mod segmenter;

#[cfg(target_arch = "wasm32")]
pub mod web;

pub use engine::graph::WeightType;
pub use error::{Error, GpuFailure, Result};
pub use image::{ImageView, MAX_PIXELS, MAX_SIDE, PixelFormat};
pub use mask::Mask;
pub use pipeline::{MaskAssembly, MaskResolution, SegmentOptions, Semantics};
pub use polygon::{Contour, Polygon, PolygonOptions};
pub use prompt::{BoxMode, PointMode, Selection};
pub use render::{OverlayStyle, render_overlay};
pub use segmentation::{Instance, Segmentation};
pub use segmenter::{FastSam, LoadOptions};
