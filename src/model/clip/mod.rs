//! CLIP (ViT-B/32 and smaller variants of the same design) ported to Burn: the image encoder
//! [`ClipVision`] and the text encoder [`ClipText`], which FastSAM's text prompt uses to score
//! each mask's image region against a sentence.
//!
//! Like the FastSAM network, every block loads its weights by their OpenAI CLIP state-dict names
//! from the initializers of the ONNX files the CPU engine runs (`clip-image.onnx`,
//! `clip-text.onnx`; names, shapes and metadata are fixed by `tests/fixtures/clip/CONTRACT.md`).
//! Sizes come from the weight shapes; only the head count, which no weight shape carries, is
//! read from the file's `fastsam_web.clip.heads` metadata entry.
//!
//! One file per block: [`linear`] and [`layer_norm`] (the basic layers), [`attention`]
//! (multi-head self-attention, optional causal mask), [`transformer`] (residual blocks with the
//! QuickGELU MLP), [`vision`] and [`text`] (the two encoders).

use crate::onnx as pb;

use crate::error::{Error, Result};
use crate::model::weights::Weights;

pub mod attention;
pub mod layer_norm;
pub mod linear;
pub mod text;
pub mod transformer;
pub mod vision;

pub use text::ClipText;
pub use vision::ClipVision;

/// Metadata key of the attention head count.
pub const HEADS_KEY: &str = "fastsam_web.clip.heads";
/// Metadata key of the artifact format version.
pub const FORMAT_KEY: &str = "fastsam_web.clip.format";
/// The artifact format this port reads.
pub const FORMAT: &str = "1";

/// The float initializers of `proto`, after checking its declared format (when present).
fn weights_of(proto: &pb::ModelProto) -> Result<Weights> {
    if let Some(format) = metadata(proto, FORMAT_KEY)
        && format.trim() != FORMAT
    {
        return Err(Error::InvalidModel(format!(
            "the CLIP model declares {FORMAT_KEY} = {format:?}; this version reads format {FORMAT:?}"
        )));
    }
    Weights::from_onnx(proto)
}

/// The value of the metadata entry `key`, if any.
fn metadata<'a>(proto: &'a pb::ModelProto, key: &str) -> Option<&'a str> {
    proto
        .metadata_props
        .iter()
        .find(|p| p.key == key)
        .map(|p| p.value.as_str())
}

/// The head count declared in the metadata, checked against `width` (read from `width_tensor`).
fn heads_from_metadata(proto: &pb::ModelProto, width: usize, width_tensor: &str) -> Result<usize> {
    let value = metadata(proto, HEADS_KEY).ok_or_else(|| {
        Error::InvalidModel(format!(
            "the CLIP model has no `{HEADS_KEY}` metadata entry (its attention head count); export it with tools/clip_export.py"
        ))
    })?;
    let heads = value.trim().parse::<usize>().map_err(|_| {
        Error::InvalidModel(format!(
            "the CLIP model's `{HEADS_KEY}` metadata is {value:?}, expected a positive integer"
        ))
    })?;
    check_heads(heads, width, width_tensor)?;
    Ok(heads)
}

/// `heads` must be positive and divide the transformer width.
fn check_heads(heads: usize, width: usize, width_tensor: &str) -> Result<()> {
    if heads == 0 || !width.is_multiple_of(heads) {
        return Err(Error::InvalidModel(format!(
            "the CLIP model declares {heads} attention heads (`{HEADS_KEY}`), which does not divide its width {width} (from `{width_tensor}`)"
        )));
    }
    Ok(())
}
