//! The seam between the text prompt and whatever runs CLIP's two encoders (tract on the CPU, the
//! Burn port on WebGPU or natively).

use crate::error::{Error, Result};

use super::signature::IMAGE_SIZE;

/// Floats in one CLIP image input (planar RGB, 224 x 224).
pub const IMAGE_INPUT_LEN: usize = 3 * IMAGE_SIZE * IMAGE_SIZE;

/// What every CLIP engine provides. Embeddings are returned row-major, `count x embed_dim`, as the
/// encoders produce them (not normalised).
pub trait ClipEngine {
    /// A short name for reports ("tract", "burn-webgpu", ...).
    fn name(&self) -> &'static str;
    /// Length of an embedding (512 for ViT-B/32).
    fn embed_dim(&self) -> usize;
    /// Token slots per sentence (77 for CLIP).
    fn context_length(&self) -> usize;
    /// How many images the engine would like per call (more costs memory, not correctness).
    fn image_batch(&self) -> usize;
    /// Embeds `count` preprocessed images laid out one after the other (`count * 3 * 224 * 224`).
    fn embed_images(&self, pixels: &[f32], count: usize) -> Result<Vec<f32>>;
    /// Embeds `count` token rows of `context_length` ids each.
    fn embed_texts(&self, tokens: &[i64], count: usize) -> Result<Vec<f32>>;
}

/// Checks the buffer lengths of an `embed_images` call.
pub(crate) fn check_images(pixels: &[f32], count: usize) -> Result<()> {
    if pixels.len() != count * IMAGE_INPUT_LEN {
        return Err(Error::Inference(format!(
            "{} values given for {count} CLIP images of 3 x 224 x 224",
            pixels.len()
        )));
    }
    Ok(())
}

/// Checks the buffer lengths of an `embed_texts` call.
pub(crate) fn check_tokens(tokens: &[i64], count: usize, context: usize) -> Result<()> {
    if tokens.len() != count * context {
        return Err(Error::Inference(format!(
            "{} token ids given for {count} rows of {context}",
            tokens.len()
        )));
    }
    Ok(())
}

/// Checks what an engine returned: `count` rows of `dim` finite values.
pub(crate) fn check_embeddings(values: &[f32], count: usize, dim: usize) -> Result<()> {
    if values.len() != count * dim {
        return Err(Error::Inference(format!(
            "the encoder returned {} values for {count} embeddings of {dim}",
            values.len()
        )));
    }
    if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
        return Err(Error::Inference(format!(
            "the encoder returned a non-finite value ({bad})"
        )));
    }
    Ok(())
}
