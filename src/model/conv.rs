//! ultralytics `Conv`: a 2-D convolution (BatchNorm already fused into its weights by the ONNX
//! exporter) followed by SiLU; and the plain `nn.Conv2d` the heads end with.

use burn_tensor::activation::silu;
use burn_tensor::module::conv2d;
use burn_tensor::ops::ConvOptions;
use burn_tensor::{Device, Tensor, TensorData};

use super::weights::Weights;
use crate::error::{Error, Result};

/// A convolution with bias, optionally followed by SiLU.
#[derive(Debug, Clone)]
pub struct Conv {
    weight: Tensor<4>,
    bias: Tensor<1>,
    options: ConvOptions<2>,
    activation: bool,
    out_channels: usize,
}

impl Conv {
    /// `Conv` at `{prefix}.conv.{weight,bias}` with SiLU; kernel size from the weight, padding
    /// `k / 2` ("same" for odd kernels).
    pub fn load(weights: &Weights, prefix: &str, stride: usize, device: &Device) -> Result<Self> {
        Self::build(weights, &format!("{prefix}.conv"), stride, true, device)
    }

    /// A plain `nn.Conv2d` at `{prefix}.{weight,bias}` (no activation).
    pub fn load_plain(weights: &Weights, prefix: &str, device: &Device) -> Result<Self> {
        Self::build(weights, prefix, 1, false, device)
    }

    fn build(
        weights: &Weights,
        prefix: &str,
        stride: usize,
        activation: bool,
        device: &Device,
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
        Ok(Self {
            weight: tensor(&w.values, [out_channels, in_channels, kh, kw], device),
            bias: tensor(&b.values, [out_channels], device),
            options: ConvOptions::new([stride, stride], [kh / 2, kh / 2], [1, 1], 1),
            activation,
            out_channels,
        })
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.out_channels
    }

    /// Convolution (+ SiLU).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y = conv2d(
            x,
            self.weight.clone(),
            Some(self.bias.clone()),
            self.options.clone(),
        );
        if self.activation { silu(y) } else { y }
    }
}

/// A float tensor of `shape` from row-major `values` on `device`.
pub fn tensor<const D: usize>(values: &[f32], shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), device)
}
