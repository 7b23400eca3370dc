//! `nn.LayerNorm` over the last dimension (CLIP's `LayerNorm`, epsilon 1e-5).

use burn_tensor::module::layer_norm;
use burn_tensor::{Device, Tensor};

use crate::error::Result;
use crate::model::kernels::tensor;
use crate::model::weights::Weights;

/// CLIP's LayerNorm epsilon (PyTorch's default).
const EPSILON: f64 = 1e-5;

/// A LayerNorm with learned scale and shift.
#[derive(Debug, Clone)]
pub struct LayerNorm {
    gamma: Tensor<1>,
    beta: Tensor<1>,
}

impl LayerNorm {
    /// Loads `{prefix}.weight` and `{prefix}.bias`, both `[width]`.
    pub fn load(weights: &Weights, prefix: &str, width: usize, device: &Device) -> Result<Self> {
        let gamma = weights.get(&format!("{prefix}.weight"), Some(&[width]))?;
        let beta = weights.get(&format!("{prefix}.bias"), Some(&[width]))?;
        Ok(Self {
            gamma: tensor(&gamma.values, [width], device),
            beta: tensor(&beta.values, [width], device),
        })
    }

    /// Normalises the last dimension of `x`.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        layer_norm(x, self.gamma.clone(), Some(self.beta.clone()), EPSILON)
    }
}
