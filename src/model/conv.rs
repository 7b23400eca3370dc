//! ultralytics `Conv`: a 2-D convolution (BatchNorm already fused into its weights by the ONNX
//! exporter) followed by SiLU; and the plain `nn.Conv2d` the heads end with.

use burn_tensor::Tensor;

use super::kernels::{self, Activation, PackedConv, Placement};
use super::weights::Weights;
use crate::error::{Error, Result};

/// A convolution with bias, optionally followed by SiLU, on NHWC activations.
#[derive(Debug, Clone)]
pub struct Conv {
    packed: PackedConv,
    activation: Activation,
}

impl Conv {
    /// `Conv` at `{prefix}.conv.{weight,bias}` with SiLU; kernel size from the weight, padding
    /// `k / 2` ("same" for odd kernels).
    pub fn load(weights: &Weights, prefix: &str, stride: usize, at: &Placement) -> Result<Self> {
        Self::build(
            weights,
            &format!("{prefix}.conv"),
            stride,
            Activation::Silu,
            at,
        )
    }

    /// A plain `nn.Conv2d` at `{prefix}.{weight,bias}` (no activation).
    pub fn load_plain(weights: &Weights, prefix: &str, at: &Placement) -> Result<Self> {
        Self::build(weights, prefix, 1, Activation::None, at)
    }

    fn build(
        weights: &Weights,
        prefix: &str,
        stride: usize,
        activation: Activation,
        at: &Placement,
    ) -> Result<Self> {
        let name = format!("{prefix}.weight");
        let w = weights.get(&name, None)?;
        let [out_channels, in_channels, kh, kw] = w.shape[..] else {
            return Err(Error::InvalidModel(format!(
                "weight tensor `{name}` has shape {:?}, expected [out, in, k, k]",
                w.shape
            )));
        };
        if kh != kw || kh % 2 == 0 {
            return Err(Error::InvalidModel(format!(
                "weight tensor `{name}` has a {kh}x{kw} kernel; YOLOv8 convolutions are square and odd"
            )));
        }
        let b = weights.get(&format!("{prefix}.bias"), Some(&[out_channels]))?;
        let shape = [out_channels, in_channels, kh, kw];
        Ok(Self {
            packed: PackedConv::pack(&w.values, shape, &b.values, stride, at),
            activation,
        })
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.packed.out_channels()
    }

    /// Convolution (+ SiLU), NHWC in and out.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        kernels::conv(x, &self.packed, self.activation)
    }
}
