//! `nn.MultiheadAttention` as CLIP uses it: self-attention with one fused q/k/v projection
//! (`in_proj_weight`), all heads batched in one `[N, H, L, D]` matmul, and an optional additive mask
//! (the text encoder's causal mask, see [`causal_mask`]).

use burn_tensor::activation::softmax;
use burn_tensor::{Device, Tensor};

use super::linear::Linear;
use crate::error::Result;
use crate::model::kernels::tensor;
use crate::model::weights::Weights;

/// What masked positions get added to their attention scores: large enough that `exp` gives
/// exactly 0, finite so that GPU shaders without IEEE infinities behave.
const MASKED: f32 = -1e9;

/// Multi-head self-attention.
#[derive(Debug, Clone)]
pub struct MultiHeadAttention {
    /// `[W] -> [3W]`: queries, keys and values in one matmul.
    in_proj: Linear,
    out_proj: Linear,
    heads: usize,
    head_dim: usize,
}

impl MultiHeadAttention {
    /// Loads `{prefix}.in_proj_weight` `[3W, W]`, `{prefix}.in_proj_bias` `[3W]` and
    /// `{prefix}.out_proj.{weight,bias}` `[W, W]`, `[W]`. `heads` must divide `width` (checked by
    /// the caller, which reads it from the file's metadata).
    pub fn load(
        weights: &Weights,
        prefix: &str,
        width: usize,
        heads: usize,
        device: &Device,
    ) -> Result<Self> {
        let in_weight = format!("{prefix}.in_proj_weight");
        // Checks the full shape first so that the error names it.
        weights.get(&in_weight, Some(&[3 * width, width]))?;
        let in_proj = Linear::load_named(
            weights,
            &in_weight,
            &format!("{prefix}.in_proj_bias"),
            width,
            device,
        )?;
        weights.get(&format!("{prefix}.out_proj.weight"), Some(&[width, width]))?;
        let out_proj = Linear::load(weights, &format!("{prefix}.out_proj"), width, device)?;
        Ok(Self {
            in_proj,
            out_proj,
            heads,
            head_dim: width / heads,
        })
    }

    /// `[N, L, W] -> [N, L, W]`; `mask` (`[1, 1, L, L]`, 0 or [`MASKED`]) is added to the scores.
    pub fn forward(&self, x: Tensor<3>, mask: Option<&Tensor<4>>) -> Tensor<3> {
        let [n, l, w] = x.dims();
        let (h, d) = (self.heads, self.head_dim);
        let qkv = self.in_proj.forward(x);
        // [N, L, W] slice of the fused projection -> [N, H, L, D].
        let split = |i: usize| {
            qkv.clone()
                .narrow(2, i * w, w)
                .reshape([n, l, h, d])
                .swap_dims(1, 2)
        };
        let (q, k, v) = (split(0), split(1), split(2));

        let scale = 1.0 / (d as f64).sqrt();
        let scores = q.matmul(k.swap_dims(2, 3)) * scale; // [N, H, L, L]
        let scores = match mask {
            Some(mask) => scores + mask.clone(),
            None => scores,
        };
        let context = softmax(scores, 3).matmul(v); // [N, H, L, D]
        self.out_proj
            .forward(context.swap_dims(1, 2).reshape([n, l, w]))
    }
}

/// The causal mask for `len` positions, `[1, 1, len, len]`: 0 where key `j <= i` (query `i`), a
/// large negative number above the diagonal.
pub fn causal_mask(len: usize, device: &Device) -> Tensor<4> {
    let values: Vec<f32> = (0..len)
        .flat_map(|i| (0..len).map(move |j| if j > i { MASKED } else { 0.0 }))
        .collect();
    tensor(&values, [1, 1, len, len], device)
}
