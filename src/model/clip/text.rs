//! CLIP's text encoder: token + positional embedding, causal transformer, `ln_final` at the
//! end-of-text position, `@ text_projection`.
//!
//! Width (`ln_final.weight`), depth, vocabulary size, context length and embedding size come
//! from the weight shapes; the head count from the file's metadata.

use crate::onnx as pb;
use burn_tensor::module::embedding;
use burn_tensor::{Device, Int, Tensor};

use super::attention::causal_mask;
use super::layer_norm::LayerNorm;
use super::linear::{Projection, shape_error};
use super::transformer::Transformer;
use super::{check_heads, heads_from_metadata, weights_of};
use crate::error::Result;
use crate::model::kernels::tensor;
use crate::model::weights::Weights;

/// The tensor whose length is the transformer width.
const WIDTH_TENSOR: &str = "ln_final.weight";

/// The text transformer, weights at the top level of the file (`token_embedding.weight`, ...).
#[derive(Debug, Clone)]
pub struct ClipText {
    /// `[V, T]`.
    token_embedding: Tensor<2>,
    /// `[1, C, T]`.
    positional_embedding: Tensor<3>,
    transformer: Transformer,
    ln_final: LayerNorm,
    text_projection: Projection,
    /// `[1, 1, C, C]`, built once.
    causal_mask: Tensor<4>,
    vocab_size: usize,
    context_length: usize,
}

impl ClipText {
    /// Loads the initializers of a `clip-text.onnx` (see `tests/fixtures/clip/CONTRACT.md`) onto
    /// `device`; the head count is the metadata entry `fastsam_web.clip.heads`. Missing or
    /// mis-shaped tensors and missing metadata give [`crate::Error::InvalidModel`] naming what is
    /// wrong.
    pub fn from_onnx(proto: &pb::ModelProto, device: &Device) -> Result<Self> {
        let weights = weights_of(proto)?;
        let width = Self::width(&weights)?;
        let heads = heads_from_metadata(proto, width, WIDTH_TENSOR)?;
        Self::load(&weights, heads, device)
    }

    /// Loads from already read weights with `heads` attention heads (which must divide the width).
    pub fn load(weights: &Weights, heads: usize, device: &Device) -> Result<Self> {
        let width = Self::width(weights)?;
        check_heads(heads, width, WIDTH_TENSOR)?;
        let name = "token_embedding.weight";
        let tokens = weights.get(name, None)?;
        let vocab_size = match tokens.shape[..] {
            [vocab, w] if w == width && vocab > 0 => vocab,
            _ => {
                return Err(shape_error(
                    name,
                    &tokens.shape,
                    &format!("[vocab_size, {width}] (width from `{WIDTH_TENSOR}`)"),
                ));
            }
        };

        let name = "positional_embedding";
        let pos = weights.get(name, None)?;
        let context_length = match pos.shape[..] {
            [c, w] if w == width && c > 0 => c,
            _ => {
                return Err(shape_error(
                    name,
                    &pos.shape,
                    &format!("[context_length, {width}]"),
                ));
            }
        };

        Ok(Self {
            token_embedding: tensor(&tokens.values, [vocab_size, width], device),
            positional_embedding: tensor(&pos.values, [1, context_length, width], device),
            transformer: Transformer::load(weights, "transformer", width, heads, device)?,
            ln_final: LayerNorm::load(weights, "ln_final", width, device)?,
            text_projection: Projection::load(weights, "text_projection", width, device)?,
            causal_mask: causal_mask(context_length, device),
            vocab_size,
            context_length,
        })
    }

    /// The transformer width T, from `ln_final.weight` `[T]` (as OpenAI's `build_model` reads it).
    fn width(weights: &Weights) -> Result<usize> {
        let shape = &weights.get(WIDTH_TENSOR, None)?.shape;
        match shape[..] {
            [width] if width > 0 => Ok(width),
            _ => Err(shape_error(WIDTH_TENSOR, shape, "[width]")),
        }
    }

    /// Size E of the text embeddings (512 for ViT-B/32).
    pub fn embed_dim(&self) -> usize {
        self.text_projection.out_features()
    }

    /// Tokens per sentence, padding included (77).
    pub fn context_length(&self) -> usize {
        self.context_length
    }

    /// Number of token ids (49408).
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// Number of transformer blocks.
    pub fn layers(&self) -> usize {
        self.transformer.layers()
    }

    /// `tokens`: `[N, C]` token ids (`C` = [`ClipText::context_length`], 77; zero-padded) ->
    /// `[N, E]` text embeddings (after `text_projection`, not L2-normalised), each taken at the
    /// first maximum id of its row (`<|endoftext|>`). Ids outside the vocabulary are clamped to
    /// it rather than read out of bounds.
    ///
    /// # Panics
    ///
    /// When `tokens` is not `[N, C]` (Burn checks the tensor shapes).
    pub fn forward(&self, tokens: Tensor<2, Int>) -> Tensor<2> {
        let [n, _] = tokens.dims();
        let eot = tokens.clone().argmax(1); // [N, 1]
        let ids = tokens.clamp(0, self.vocab_size as i64 - 1);
        let x = embedding(self.token_embedding.clone(), ids) + self.positional_embedding.clone();
        let x = self.transformer.forward(x, Some(&self.causal_mask)); // [N, C, T]

        let [_, _, width] = x.dims();
        let eot = eot.unsqueeze_dim::<3>(2).expand([n, 1, width]);
        let pooled = x.gather(1, eot).reshape([n, width]);
        self.text_projection.forward(self.ln_final.forward(pooled))
    }
}
