//! The engine seam: something that turns the letterboxed input tensor into the network's two raw
//! outputs. The rest of the pipeline never knows which engine ran.

#[cfg(feature = "burn")]
pub mod burn;
pub mod graph;
#[cfg(feature = "tract")]
pub mod threads;
#[cfg(feature = "tract")]
pub mod tract;
#[cfg(feature = "tract")]
pub(crate) mod widen;

use crate::error::{Error, Result};

/// The two raw outputs of a YOLOv8-seg network, batch dimension dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct RawOutputs {
    /// `output0` as `[channels, anchors]`, row-major: rows 0-3 box centre x, centre y, width, height
    /// (model-input pixels), row 4 the score, rows 5.. the mask coefficients.
    pub predictions: Vec<f32>,
    /// Rows of `predictions` (4 + 1 + mask coefficients).
    pub channels: usize,
    /// Columns of `predictions`: one per anchor (8400 at 640, 21504 at 1024).
    pub anchors: usize,
    /// `output1` as `[mask_dim, proto_height, proto_width]`, row-major.
    pub prototypes: Vec<f32>,
    /// Number of prototype masks (32).
    pub mask_dim: usize,
    /// Prototype height (input size / 4).
    pub proto_height: usize,
    /// Prototype width (input size / 4).
    pub proto_width: usize,
}

impl RawOutputs {
    /// Checks that the buffers agree with the declared shapes.
    pub fn validate(&self) -> Result<()> {
        if self.channels != 5 + self.mask_dim
            || self.predictions.len() != self.channels * self.anchors
            || self.prototypes.len() != self.mask_dim * self.proto_height * self.proto_width
        {
            return Err(Error::Inference(format!(
                "engine returned inconsistent outputs: predictions {} values for [{}, {}], prototypes {} values for [{}, {}, {}]",
                self.predictions.len(),
                self.channels,
                self.anchors,
                self.prototypes.len(),
                self.mask_dim,
                self.proto_height,
                self.proto_width
            )));
        }
        Ok(())
    }

    /// Row `r` of `predictions` (one value per anchor).
    pub fn row(&self, r: usize) -> &[f32] {
        &self.predictions[r * self.anchors..(r + 1) * self.anchors]
    }
}

/// Checks that `input` is a planar RGB `size` x `size` image; returns the side.
pub(crate) fn check_input(input: &[f32], size: u32) -> Result<usize> {
    let s = size as usize;
    if input.len() != 3 * s * s {
        return Err(Error::Inference(format!(
            "input has {} values, the model needs 3 x {s} x {s}",
            input.len()
        )));
    }
    Ok(s)
}

/// What every inference engine provides.
pub trait Engine {
    /// A short name for reports ("tract", "burn-wgpu", ...).
    fn name(&self) -> &'static str;
    /// Side of the square model input in pixels.
    fn input_size(&self) -> u32;
    /// How the loaded file stores its weights.
    fn weight_type(&self) -> graph::WeightType;
    /// Runs the network on a planar RGB input of `3 * size * size` floats in 0..1.
    fn infer(&self, input: &[f32]) -> Result<RawOutputs>;
    /// Threads the engine computes on (1 unless it was given more).
    fn threads(&self) -> usize {
        1
    }
}
