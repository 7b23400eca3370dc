//! Pre- and post-processing around the network: letterbox in, detections and masks out.

pub mod bits;
pub mod boxes;
pub mod decode;
#[cfg(feature = "burn")]
pub mod device_masks;
pub mod interpolate;
pub mod letterbox;
pub mod masks;
pub mod resize;

use crate::engine::RawOutputs;
use crate::error::{Error, Result};
use crate::mask::Mask;
use crate::segmentation::{Instance, Segmentation};
use boxes::{full_frame_fixup, to_content, to_image_official, to_image_ultralytics};
pub use letterbox::Letterbox;
use masks::{MaskAssembler, MaskPlan};

/// Which reference implementation the post-processing reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Semantics {
    /// The official CASIA-IVA-Lab/FastSAM code (default): full-image fix-up in the model input frame
    /// before the masks are made, one-stage mask upsampling, empty masks kept.
    #[default]
    Official,
    /// ultralytics 8.4's `FastSAMPredictor`: per-axis box scaling, two-stage mask upsampling, empty
    /// masks dropped, fix-up in image pixels after the masks are made.
    Ultralytics,
}

/// Resolution of the masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MaskResolution {
    /// Masks at the original image size (the official `retina_masks=True`).
    #[default]
    Full,
    /// Masks at the letterbox content size (at most the model input size): much faster on large
    /// images; scale them up for display.
    Low,
}

/// Where the browser API (`FastSam.segment`) assembles masks when the network runs on WebGPU.
/// CPU engines, and the native [`crate::FastSam`], always assemble on the CPU; natively,
/// `BurnEngine::run_on_device` and `DeviceRun::segment` assemble on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MaskAssembly {
    /// On the GPU unless WebGPU's adapter is a software fallback (SwiftShader: the "GPU" is the
    /// CPU, which then has less to do assembling the masks itself). Default.
    #[default]
    Auto,
    /// On the GPU: the prototypes stay there, and only `output0` and the bit-packed masks are
    /// read back.
    Gpu,
    /// On the CPU: both raw outputs are read back and assembled as on a CPU engine.
    Cpu,
}

/// Post-processing settings. The defaults are those of the official `Inference.py`.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentOptions {
    /// Minimum object score (strictly greater passes). Default 0.4.
    pub conf: f32,
    /// NMS IoU threshold (strictly greater suppresses). Default 0.9.
    pub iou: f64,
    /// Maximum number of detections kept. Default 300.
    pub max_det: usize,
    /// Mask resolution. Default full.
    pub mask_resolution: MaskResolution,
    /// Reference behaviour. Default official.
    pub semantics: Semantics,
    /// Box edges closer than this to the border (px of the fix-up's frame) are snapped. Default 20.
    pub border_snap: f32,
    /// Boxes with IoU above this against the whole frame become the whole frame. Default 0.9.
    pub full_box_iou: f32,
    /// Where a WebGPU model assembles the masks. Default [`MaskAssembly::Auto`].
    pub mask_assembly: MaskAssembly,
}

impl Default for SegmentOptions {
    fn default() -> Self {
        Self {
            conf: 0.4,
            iou: 0.9,
            max_det: 300,
            mask_resolution: MaskResolution::Full,
            semantics: Semantics::Official,
            border_snap: 20.0,
            full_box_iou: 0.9,
            mask_assembly: MaskAssembly::Auto,
        }
    }
}

/// ultralytics feeds at most this many candidates to NMS.
const MAX_NMS: usize = 30_000;

impl SegmentOptions {
    /// Checks every field's range.
    pub fn validate(&self) -> Result<()> {
        let unit = |name: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(Error::InvalidOption(format!(
                    "{name} must be between 0 and 1, got {v}"
                )))
            }
        };
        unit("conf", self.conf as f64)?;
        unit("iou", self.iou)?;
        unit("fullBoxIou", self.full_box_iou as f64)?;
        if self.max_det == 0 || self.max_det > MAX_NMS {
            return Err(Error::InvalidOption(format!(
                "maxDet must be between 1 and {MAX_NMS}, got {}",
                self.max_det
            )));
        }
        if !(self.border_snap.is_finite() && self.border_snap >= 0.0) {
            return Err(Error::InvalidOption(format!(
                "borderSnap must be a non-negative number of pixels, got {}",
                self.border_snap
            )));
        }
        Ok(())
    }
}

/// A detection after NMS and FastSAM's fix-up, with the boxes its mask needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    /// Object score.
    pub score: f32,
    /// Mask coefficients.
    pub coefficients: Vec<f32>,
    /// Column of `output0` it came from.
    pub anchor: usize,
    /// Box in original-image pixels (official semantics: already fixed up).
    pub bbox: [f32; 4],
    /// Box that crops the mask, in mask-frame pixels.
    pub crop: [f32; 4],
}

/// Size of the frame masks are made in for `options` (the image, or the letterbox content).
pub fn mask_frame(lb: &Letterbox, options: &SegmentOptions) -> (u32, u32) {
    match options.mask_resolution {
        MaskResolution::Full => (lb.image_width, lb.image_height),
        MaskResolution::Low => (lb.new_width, lb.new_height),
    }
}

/// Threshold, NMS and boxes: the first half of post-processing, on `output0` alone
/// (`[5 + mask_dim, anchors]`, row-major).
pub fn place(
    predictions: &[f32],
    anchors: usize,
    mask_dim: usize,
    lb: &Letterbox,
    options: &SegmentOptions,
) -> Vec<Placed> {
    let mut candidates = decode::candidates_from(predictions, anchors, mask_dim, options.conf);
    if candidates.len() > MAX_NMS {
        candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
        candidates.truncate(MAX_NMS);
    }
    let detections = decode::nms(candidates, options.iou, options.max_det);
    let mut input_boxes: Vec<[f32; 4]> = detections.iter().map(|d| d.bbox).collect();
    let low = options.mask_resolution == MaskResolution::Low;
    let to_image = match options.semantics {
        Semantics::Official => {
            let s = lb.size as f32;
            let (snap, iou) = (options.border_snap, options.full_box_iou);
            full_frame_fixup(&mut input_boxes, s, s, snap, iou, 0.0);
            to_image_official
        }
        Semantics::Ultralytics => to_image_ultralytics,
    };
    detections
        .into_iter()
        .zip(input_boxes)
        .map(|(d, b)| {
            let bbox = to_image(&b, lb);
            Placed {
                score: d.score,
                coefficients: d.coefficients,
                anchor: d.anchor,
                bbox,
                crop: if low { to_content(&b, lb) } else { bbox },
            }
        })
        .collect()
}

/// The mask geometry for a `proto_width` x `proto_height` prototype grid under `options`.
pub fn mask_plan(
    proto_height: usize,
    proto_width: usize,
    lb: &Letterbox,
    options: &SegmentOptions,
) -> MaskPlan {
    let (iw, ih) = (lb.image_width, lb.image_height);
    let (fw, fh) = mask_frame(lb, options);
    match (options.semantics, options.mask_resolution) {
        (Semantics::Ultralytics, MaskResolution::Full) => {
            MaskPlan::ultralytics(proto_height, proto_width, iw, ih)
        }
        _ => MaskPlan::official(proto_height, proto_width, iw, ih, fw, fh),
    }
}

/// Masks of placed detections made on the CPU from the raw prototypes.
pub fn cpu_masks(
    raw: &RawOutputs,
    placed: &[Placed],
    lb: &Letterbox,
    options: &SegmentOptions,
) -> Vec<Mask> {
    let plan = mask_plan(raw.proto_height, raw.proto_width, lb, options);
    let assembler = MaskAssembler::new(raw, plan);
    placed
        .iter()
        .map(|p| assembler.mask(&p.coefficients, &p.crop))
        .collect()
}

/// The second half of post-processing: pairs placed detections with their masks and, for
/// ultralytics' semantics, drops empty masks and applies the fix-up in image pixels.
pub fn finish(
    placed: Vec<Placed>,
    masks: Vec<Mask>,
    lb: &Letterbox,
    options: &SegmentOptions,
) -> Segmentation {
    debug_assert_eq!(placed.len(), masks.len());
    let (iw, ih) = (lb.image_width, lb.image_height);
    let (fw, fh) = mask_frame(lb, options);
    let mut instances: Vec<Instance> = placed
        .into_iter()
        .zip(masks)
        .map(|(p, mask)| Instance {
            bbox: p.bbox,
            score: p.score,
            mask,
            anchor: p.anchor,
        })
        .collect();
    if options.semantics == Semantics::Ultralytics {
        instances.retain(|i| !i.mask.is_empty());
        let mut boxes: Vec<[f32; 4]> = instances.iter().map(|i| i.bbox).collect();
        let (snap, iou) = (options.border_snap, options.full_box_iou);
        full_frame_fixup(&mut boxes, iw as f32, ih as f32, snap, iou, 1e-7);
        for (i, b) in instances.iter_mut().zip(boxes) {
            i.bbox = b;
        }
    }
    Segmentation::new(iw, ih, fw, fh, instances)
}

/// Raw network outputs to a [`Segmentation`]: threshold, NMS, full-image fix-up, boxes to image
/// pixels, masks. `options` must be valid (see [`SegmentOptions::validate`]).
pub fn postprocess(raw: &RawOutputs, lb: &Letterbox, options: &SegmentOptions) -> Segmentation {
    let placed = place(&raw.predictions, raw.anchors, raw.mask_dim, lb, options);
    let masks = cpu_masks(raw, &placed, lb, options);
    finish(placed, masks, lb, options)
}
