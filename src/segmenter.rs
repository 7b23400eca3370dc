//! [`FastSam`]: a loaded model plus the pipeline around it.

use crate::engine::graph::WeightType;
#[cfg(feature = "tract")]
use crate::engine::tract::TractEngine;
use crate::engine::{Engine, RawOutputs};
use crate::error::{Error, Result};
use crate::image::ImageView;
use crate::pipeline::{Letterbox, SegmentOptions, postprocess};
use crate::segmentation::Segmentation;

/// How [`FastSam::from_onnx_with_options`] loads a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// Input size for exports with a dynamic input shape (`None`: read from the graph).
    pub input_size: Option<u32>,
    /// Threads for tract's matrix products (default 1). More than 1 needs the `threads` feature.
    pub threads: usize,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            input_size: None,
            threads: 1,
        }
    }
}

/// A FastSAM model ready to segment images.
pub struct FastSam {
    engine: Box<dyn Engine>,
}

impl std::fmt::Debug for FastSam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastSam")
            .field("engine", &self.engine.name())
            .field("input_size", &self.engine.input_size())
            .finish()
    }
}

impl FastSam {
    /// Loads an ONNX FastSAM export on the CPU engine (tract). The input size is read from the graph.
    #[cfg(feature = "tract")]
    pub fn from_onnx(bytes: &[u8]) -> Result<Self> {
        Ok(Self::with_engine(Box::new(TractEngine::from_onnx(
            bytes, None,
        )?)))
    }

    /// Loads an ONNX export whose input size is dynamic, running it at `input_size`.
    #[cfg(feature = "tract")]
    pub fn from_onnx_with_size(bytes: &[u8], input_size: u32) -> Result<Self> {
        Ok(Self::with_engine(Box::new(TractEngine::from_onnx(
            bytes,
            Some(input_size),
        )?)))
    }

    /// Loads an ONNX export on tract with `options` (input size of dynamic exports, threads).
    #[cfg(feature = "tract")]
    pub fn from_onnx_with_options(bytes: &[u8], options: &LoadOptions) -> Result<Self> {
        let engine =
            TractEngine::from_onnx(bytes, options.input_size)?.with_threads(options.threads)?;
        Ok(Self::with_engine(Box::new(engine)))
    }

    /// Wraps any engine.
    pub fn with_engine(engine: Box<dyn Engine>) -> Self {
        Self { engine }
    }

    /// Side of the square model input.
    pub fn input_size(&self) -> u32 {
        self.engine.input_size()
    }

    /// How the loaded file stores its weights (`fp32`, `fp16`, `q8`); the network computes in
    /// f32 in every case.
    pub fn weight_type(&self) -> WeightType {
        self.engine.weight_type()
    }

    /// Name of the engine running the network.
    pub fn engine_name(&self) -> &'static str {
        self.engine.name()
    }

    /// Threads running the network's matrix products.
    pub fn threads(&self) -> usize {
        self.engine.threads()
    }

    /// Letterboxes `image` into the network input (planar RGB in 0..1).
    pub fn preprocess(&self, image: &ImageView) -> (Letterbox, Vec<f32>) {
        let lb = Letterbox::new(image.width(), image.height(), self.input_size());
        let input = lb.apply(image);
        (lb, input)
    }

    /// Runs the network on a preprocessed input.
    pub fn infer(&self, input: &[f32]) -> Result<RawOutputs> {
        let raw = self.engine.infer(input)?;
        check_outputs(&raw, self.input_size())?;
        Ok(raw)
    }

    /// Segments everything in `image`: the model runs once; prompt the result as often as needed.
    pub fn segment(&self, image: &ImageView, options: &SegmentOptions) -> Result<Segmentation> {
        options.validate()?;
        let (lb, input) = self.preprocess(image);
        let raw = self.infer(&input)?;
        Ok(postprocess(&raw, &lb, options))
    }
}

/// Checks that an engine's outputs are consistent with themselves and with a `input_size` input.
pub fn check_outputs(raw: &RawOutputs, input_size: u32) -> Result<()> {
    raw.validate()?;
    let s = input_size as usize;
    if raw.proto_height * 4 != s || raw.proto_width * 4 != s {
        return Err(Error::Inference(format!(
            "prototypes are {}x{} but a {s} px input gives {}x{}",
            raw.proto_width,
            raw.proto_height,
            s / 4,
            s / 4
        )));
    }
    Ok(())
}
