//! `nn.Linear` loaded from a PyTorch `[out, in]` weight, and the bias-free projection matrices
//! CLIP stores the other way round (`x @ proj`, `[in, out]`).

use burn_tensor::module::linear;
use burn_tensor::{Device, Tensor};

use crate::error::{Error, Result};
use crate::model::kernels::tensor;
use crate::model::weights::Weights;

/// `y = x W^T + b`, the weight kept transposed (`[in, out]`, Burn's layout) so that the forward
/// pass is one matmul.
#[derive(Debug, Clone)]
pub struct Linear {
    weight: Tensor<2>,
    bias: Tensor<1>,
    out_features: usize,
}

impl Linear {
    /// Loads `{prefix}.weight` (`[out, in]`, `in` = `in_features`) and `{prefix}.bias` (`[out]`).
    pub fn load(
        weights: &Weights,
        prefix: &str,
        in_features: usize,
        device: &Device,
    ) -> Result<Self> {
        Self::load_named(
            weights,
            &format!("{prefix}.weight"),
            &format!("{prefix}.bias"),
            in_features,
            device,
        )
    }

    /// Like [`Linear::load`] with explicit tensor names (`attn.in_proj_weight`, ...).
    pub fn load_named(
        weights: &Weights,
        weight_name: &str,
        bias_name: &str,
        in_features: usize,
        device: &Device,
    ) -> Result<Self> {
        let w = weights.get(weight_name, None)?;
        let &[out_features, found_in] = &w.shape[..] else {
            return Err(shape_error(weight_name, &w.shape, "[out, in]"));
        };
        if found_in != in_features {
            return Err(Error::InvalidModel(format!(
                "weight tensor `{weight_name}` has shape {:?}, expected [{out_features}, {in_features}]",
                w.shape
            )));
        }
        let b = weights.get(bias_name, Some(&[out_features]))?;
        let transposed = transpose(&w.values, out_features, in_features);
        Ok(Self {
            weight: tensor(&transposed, [in_features, out_features], device),
            bias: tensor(&b.values, [out_features], device),
            out_features,
        })
    }

    /// Output features.
    pub fn out_features(&self) -> usize {
        self.out_features
    }

    /// Applies the layer to the last dimension of `x`.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        linear(x, self.weight.clone(), Some(self.bias.clone()))
    }
}

/// A bias-free `[in, out]` matrix applied as `x @ proj` (`visual.proj`, `text_projection`).
#[derive(Debug, Clone)]
pub struct Projection {
    weight: Tensor<2>,
    out_features: usize,
}

impl Projection {
    /// Loads `name`, which must be `[in_features, out]`.
    pub fn load(
        weights: &Weights,
        name: &str,
        in_features: usize,
        device: &Device,
    ) -> Result<Self> {
        let w = weights.get(name, None)?;
        let &[found_in, out_features] = &w.shape[..] else {
            return Err(shape_error(name, &w.shape, "[width, embed_dim]"));
        };
        if found_in != in_features {
            return Err(Error::InvalidModel(format!(
                "weight tensor `{name}` has shape {:?}, expected [{in_features}, {out_features}]",
                w.shape
            )));
        }
        Ok(Self {
            weight: tensor(&w.values, [in_features, out_features], device),
            out_features,
        })
    }

    /// Output features (the embedding size).
    pub fn out_features(&self) -> usize {
        self.out_features
    }

    /// `x @ proj` over the last dimension.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        linear(x, self.weight.clone(), None)
    }
}

/// The `[rows, cols]` row-major matrix `values`, transposed to `[cols, rows]`.
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for (r, row) in values.chunks_exact(cols).enumerate() {
        for (c, &v) in row.iter().enumerate() {
            out[c * rows + r] = v;
        }
    }
    out
}

/// "`name` has shape [..], expected `what`".
pub(super) fn shape_error(name: &str, shape: &[usize], what: &str) -> Error {
    Error::InvalidModel(format!(
        "weight tensor `{name}` has shape {shape:?}, expected {what}"
    ))
}

#[cfg(test)]
mod tests {
    use super::transpose;

    #[test]
    fn transposes_row_major() {
        // [[1, 2, 3], [4, 5, 6]] -> [[1, 4], [2, 5], [3, 6]]
        assert_eq!(
            transpose(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3),
            vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]
        );
    }
}
