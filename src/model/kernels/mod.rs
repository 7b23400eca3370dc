//! The one seam between the Burn port and the kernels that run its layers, and the one layout they
//! share.
//!
//! Activations are **NHWC** (`[1, height, width, channels]`, channels innermost) from the stem to
//! the head: the layout GPU convolution, pooling and resize kernels read (burn-cubecl's own
//! kernels permute NCHW to NHWC and back around every call, copying wherever the data is not
//! already laid out so). Here the data always is: each call below hands Burn an NCHW *view* of
//! NHWC memory, which Burn's kernels permute back to contiguous NHWC without a copy, and their
//! NHWC output is viewed as NHWC again. C2f's split is a channel slice of that memory (no copy),
//! the neck's concatenations join along channels.
//!
//! Convolution weights are packed once at load, `[out, kh, kw, in]` ("OHWI", the input-channel
//! run innermost like the activations), and likewise handed to Burn as an OIHW view.
//!
//! Convolutions run on one of two kernels ([`ConvKernels`]): Burn's generic `conv2d`, the
//! reference, or the tiled implicit GEMM of `tiled` on Burn's Cube backend (WebGPU in the browser,
//! wgpu natively; compiled with the `gpu-kernels` feature).

#[cfg(not(target_arch = "wasm32"))]
pub mod profile;
#[cfg(feature = "gpu-kernels")]
pub mod tiled;

use burn_tensor::activation::silu;
use burn_tensor::module::{conv_transpose2d, conv2d, interpolate, max_pool2d};
use burn_tensor::ops::{
    ConvOptions, ConvTransposeOptions, InterpolateMode, InterpolateOptions, MaxPoolOptions,
};
use burn_tensor::{Device, Tensor, TensorData};

/// NHWC -> an NCHW view of the same memory.
fn nchw_view(x: Tensor<4>) -> Tensor<4> {
    x.permute([0, 3, 1, 2])
}

/// An NCHW view (of NHWC memory, as Burn's kernels return it) -> NHWC.
fn nhwc_view(x: Tensor<4>) -> Tensor<4> {
    x.permute([0, 2, 3, 1])
}

/// What follows a convolution in the same kernel call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// Nothing (a plain `nn.Conv2d`).
    None,
    /// SiLU, `x * sigmoid(x)` (ultralytics `Conv`).
    Silu,
}

/// Where the network's layers run: the device, and which kernel runs its convolutions there.
#[derive(Debug, Clone)]
pub struct Placement {
    /// The device holding the weights and activations.
    pub device: Device,
    /// The convolution kernel.
    pub conv: ConvKernels,
}

impl From<Device> for Placement {
    /// `device` with the default kernels.
    fn from(device: Device) -> Self {
        Self {
            device,
            conv: ConvKernels::default(),
        }
    }
}

/// Which kernel runs the network's convolutions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConvKernels {
    /// Burn's own `conv2d` (on WebGPU its direct kernel): the reference.
    #[default]
    Burn,
    /// The tiled implicit GEMM of `tiled` where the weights live on Burn's Cube backend and the
    /// crate has it (the `gpu-kernels` feature); Burn's `conv2d` anywhere else.
    Tiled,
}

/// A square, odd-sized convolution's weights packed for the kernels, with its bias and stride;
/// padding is `k / 2` ("same" at stride 1).
#[derive(Debug, Clone)]
pub struct PackedConv {
    /// `[out, k, k, in]`, contiguous.
    weight: Tensor<4>,
    bias: Tensor<1>,
    options: ConvOptions<2>,
    out_channels: usize,
    /// Run by the tiled kernel (a Cube device, and [`ConvKernels::Tiled`] was asked).
    #[cfg(feature = "gpu-kernels")]
    tiled: bool,
}

impl PackedConv {
    /// Packs PyTorch-layout weights (`[out, in, k, k]`, row-major `weight`) and `bias` (`[out]`)
    /// onto `device`.
    pub fn pack(
        weight: &[f32],
        [out_channels, in_channels, k, _]: [usize; 4],
        bias: &[f32],
        stride: usize,
        at: &Placement,
    ) -> Self {
        let (device, kernels) = (&at.device, at.conv);
        let weight = tensor(
            &oihw_to_ohwi(weight, [out_channels, in_channels, k, k]),
            [out_channels, k, k, in_channels],
            device,
        );
        #[cfg(feature = "gpu-kernels")]
        let tiled = kernels == ConvKernels::Tiled && tiled::cube_tensor(weight.clone()).is_some();
        #[cfg(not(feature = "gpu-kernels"))]
        let _ = kernels;
        Self {
            weight,
            bias: tensor(bias, [out_channels], device),
            options: ConvOptions::new([stride, stride], [k / 2, k / 2], [1, 1], 1),
            out_channels,
            #[cfg(feature = "gpu-kernels")]
            tiled,
        }
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.out_channels
    }
}

/// Convolution with bias, then `activation`: NHWC in, NHWC out.
pub fn conv(x: Tensor<4>, conv: &PackedConv, activation: Activation) -> Tensor<4> {
    #[cfg(not(target_arch = "wasm32"))]
    return profile::time(x, conv, |x| run_conv(x, conv, activation));
    #[cfg(target_arch = "wasm32")]
    run_conv(x, conv, activation)
}

/// [`conv`] on the kernel `conv` was packed for.
fn run_conv(x: Tensor<4>, conv: &PackedConv, activation: Activation) -> Tensor<4> {
    #[cfg(feature = "gpu-kernels")]
    if conv.tiled {
        let cube = |t: Tensor<4>| tiled::cube_tensor(t).expect("the weights' device runs it");
        let bias = tiled::cube_tensor(conv.bias.clone()).expect("the weights' device runs it");
        return tiled::conv(
            cube(x),
            cube(conv.weight.clone()),
            bias,
            conv.weight.dims()[1],
            conv.options.stride[0],
            activation == Activation::Silu,
        );
    }
    let y = nhwc_view(conv2d(
        nchw_view(x),
        nchw_view(conv.weight.clone()),
        Some(conv.bias.clone()),
        conv.options.clone(),
    ));
    match activation {
        Activation::None => y,
        Activation::Silu => silu(y),
    }
}

/// `k`x`k` max-pool, stride 1, padding `k / 2` (SPPF's pools): NHWC in, NHWC out.
pub fn max_pool_same(x: Tensor<4>, k: usize) -> Tensor<4> {
    let options = MaxPoolOptions::new([k, k])
        .with_stride([1, 1])
        .with_padding([k / 2, k / 2]);
    nhwc_view(max_pool2d(nchw_view(x), options))
}

/// Nearest-neighbour 2x upsampling (`nn.Upsample(scale_factor=2, mode="nearest")`): NHWC in,
/// NHWC out.
pub fn upsample_nearest_2x(x: Tensor<4>) -> Tensor<4> {
    let [_, h, w, _] = x.dims();
    let options =
        InterpolateOptions::new(InterpolateMode::Nearest).with_output_size([2 * h, 2 * w]);
    nhwc_view(interpolate(nchw_view(x), options))
}

/// A 2x2, stride-2 transposed convolution (the prototype branch's upsampling) with PyTorch-layout
/// weights `[in, out, 2, 2]`: NHWC in, NHWC out.
pub fn conv_transpose_2x2(x: Tensor<4>, weight: &Tensor<4>, bias: &Tensor<1>) -> Tensor<4> {
    let options = ConvTransposeOptions::new([2, 2], [0, 0], [0, 0], [1, 1], 1);
    nhwc_view(conv_transpose2d(
        nchw_view(x),
        weight.clone(),
        Some(bias.clone()),
        options,
    ))
}

/// `[out, in, kh, kw]` row-major to `[out, kh, kw, in]` row-major.
fn oihw_to_ohwi(values: &[f32], [o, i, kh, kw]: [usize; 4]) -> Vec<f32> {
    let mut packed = vec![0.0; values.len()];
    for oc in 0..o {
        for ic in 0..i {
            for y in 0..kh {
                for x in 0..kw {
                    packed[((oc * kh + y) * kw + x) * i + ic] =
                        values[((oc * i + ic) * kh + y) * kw + x];
                }
            }
        }
    }
    packed
}

/// A float tensor of `shape` from row-major `values` on `device`.
pub fn tensor<const D: usize>(values: &[f32], shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_puts_input_channels_innermost() {
        // out 2, in 3, 1x2 kernel: value = 100*o + 10*i + x.
        let values: Vec<f32> = (0..2)
            .flat_map(|o| {
                (0..3).flat_map(move |i| (0..2).map(move |x| (100 * o + 10 * i + x) as f32))
            })
            .collect();
        let packed = oihw_to_ohwi(&values, [2, 3, 1, 2]);
        assert_eq!(
            packed,
            [
                0., 10., 20., 1., 11., 21., 100., 110., 120., 101., 111., 121.
            ]
        );
    }
}
