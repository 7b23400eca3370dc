//! CLIP's `Transformer`: a stack of pre-norm residual attention blocks,
//! `x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))`, with a QuickGELU MLP.

use burn_tensor::activation::sigmoid;
use burn_tensor::{Device, Tensor};

use super::attention::MultiHeadAttention;
use super::layer_norm::LayerNorm;
use super::linear::Linear;
use crate::error::Result;
use crate::model::weights::Weights;

/// `c_proj(QuickGELU(c_fc(x)))`.
#[derive(Debug, Clone)]
pub struct Mlp {
    c_fc: Linear,
    c_proj: Linear,
}

impl Mlp {
    /// Loads `{prefix}.c_fc` (`[M, W]`; M = 4W in CLIP, read from the weight) and `{prefix}.c_proj`
    /// (`[W, M]`).
    pub fn load(weights: &Weights, prefix: &str, width: usize, device: &Device) -> Result<Self> {
        let c_fc = Linear::load(weights, &format!("{prefix}.c_fc"), width, device)?;
        let hidden = c_fc.out_features();
        weights.get(&format!("{prefix}.c_proj.weight"), Some(&[width, hidden]))?;
        let c_proj = Linear::load(weights, &format!("{prefix}.c_proj"), hidden, device)?;
        Ok(Self { c_fc, c_proj })
    }

    /// `[N, L, W] -> [N, L, W]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.c_proj.forward(quick_gelu(self.c_fc.forward(x)))
    }
}

/// `x * sigmoid(1.702 x)`, the GELU approximation CLIP was trained with.
pub fn quick_gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    x.clone() * sigmoid(x * 1.702)
}

/// One `ResidualAttentionBlock`.
#[derive(Debug, Clone)]
pub struct ResidualBlock {
    ln_1: LayerNorm,
    attn: MultiHeadAttention,
    ln_2: LayerNorm,
    mlp: Mlp,
}

impl ResidualBlock {
    /// Loads `{prefix}.ln_1`, `.attn`, `.ln_2`, `.mlp`.
    pub fn load(
        weights: &Weights,
        prefix: &str,
        width: usize,
        heads: usize,
        device: &Device,
    ) -> Result<Self> {
        Ok(Self {
            ln_1: LayerNorm::load(weights, &format!("{prefix}.ln_1"), width, device)?,
            attn: MultiHeadAttention::load(
                weights,
                &format!("{prefix}.attn"),
                width,
                heads,
                device,
            )?,
            ln_2: LayerNorm::load(weights, &format!("{prefix}.ln_2"), width, device)?,
            mlp: Mlp::load(weights, &format!("{prefix}.mlp"), width, device)?,
        })
    }

    /// `[N, L, W] -> [N, L, W]`, `mask` as in [`MultiHeadAttention::forward`].
    pub fn forward(&self, x: Tensor<3>, mask: Option<&Tensor<4>>) -> Tensor<3> {
        let x = x.clone() + self.attn.forward(self.ln_1.forward(x), mask);
        x.clone() + self.mlp.forward(self.ln_2.forward(x))
    }
}

/// The block stack; its depth is the number of `{prefix}.resblocks.{i}` found in the file.
#[derive(Debug, Clone)]
pub struct Transformer {
    blocks: Vec<ResidualBlock>,
}

impl Transformer {
    /// Loads `{prefix}.resblocks.0`, `.1`, ... (at least one block).
    pub fn load(
        weights: &Weights,
        prefix: &str,
        width: usize,
        heads: usize,
        device: &Device,
    ) -> Result<Self> {
        let block = |i: usize| format!("{prefix}.resblocks.{i}");
        let mut blocks = Vec::new();
        // Block 0 is required (its loader names the missing tensor); the others while present.
        while blocks.is_empty() || weights.contains(&format!("{}.ln_1.weight", block(blocks.len())))
        {
            blocks.push(ResidualBlock::load(
                weights,
                &block(blocks.len()),
                width,
                heads,
                device,
            )?);
        }
        Ok(Self { blocks })
    }

    /// Number of residual blocks.
    pub fn layers(&self) -> usize {
        self.blocks.len()
    }

    /// `[N, L, W] -> [N, L, W]`.
    pub fn forward(&self, x: Tensor<3>, mask: Option<&Tensor<4>>) -> Tensor<3> {
        self.blocks
            .iter()
            .fold(x, |x, block| block.forward(x, mask))
    }
}
