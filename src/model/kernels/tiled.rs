//! A tiled implicit-GEMM convolution for Burn's Cube backend (WebGPU in the browser, wgpu
//! natively), written in CubeCL because Burn's own WGSL convolution for
//! devices without cooperative matrices is the direct kernel: one output vector per invocation,
//! its whole window read from memory, nothing shared between invocations.
//!
//! The convolution is a matrix product `output[pixel, out] = sum_k patch[pixel, k] * weight[out, k]`
//! over `k = (ky, kx, in)`, the order of the packed weights and of the NHWC input's channels. A
//! workgroup of 16x16 invocations computes a 64x64 tile of it (64 pixels, 64 output channels),
//! each invocation a 4x4 block in registers; 16-deep slices of the patch and weight tiles are
//! staged in workgroup memory (8.3 KB, under WebGPU's 16 KiB minimum), so each value read from
//! memory serves 64 multiply-adds instead of 4. Bias and SiLU are applied in the store. No
//! subgroup operations and no cooperative matrices: any WebGPU adapter runs it.

use burn_cubecl::Cube;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::ir::FloatKind;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_dtype;
use burn_cubecl::tensor::CubeTensor;
use burn_tensor::{DType, Shape, Tensor as BurnTensor};

/// Pixels and output channels per workgroup tile. Inside the kernel the tile sizes are written
/// out: 64 (this), 16 (the depth of the slices staged in workgroup memory) and 65 (a staged row:
/// one more than the tile, so the 16 invocations writing one column of a slice hit 16 different
/// memory banks; 16 x 65 = 1040 values per slice).
const TILE: usize = 64;

#[cube(launch_unchecked)]
fn conv_tiled_kernel<F: Float>(
    input: &Tensor<F>,
    weight: &Tensor<F>,
    bias: &Tensor<F>,
    output: &mut Tensor<F>,
    stride: u32,
    padding: u32,
    #[comptime] kernel: u32,
    #[comptime] silu: bool,
    #[define(F)] _dtype: ElemType,
) {
    let in_h = input.shape(1);
    let in_w = input.shape(2);
    let in_c = input.shape(3);
    let row_stride = input.stride(1);
    let col_stride = input.stride(2);
    let out_w = output.shape(2);
    let out_c = output.shape(3);
    let pixels = output.shape(1) * out_w;
    let taps = kernel as usize;
    let depth = taps * taps * in_c;
    let stride = stride as usize;
    let padding = padding as usize;

    let tx = UNIT_POS_X as usize;
    let ty = UNIT_POS_Y as usize;
    let unit = ty * 16 + tx;
    let n0 = CUBE_POS_X as usize * 64;
    let m0 = CUBE_POS_Y as usize * 64;

    let mut patches = Shared::<[F]>::new_slice(1040usize);
    let mut weights = Shared::<[F]>::new_slice(1040usize);
    let mut acc = Array::<F>::new(16usize);
    #[unroll]
    for i in 0..16usize {
        acc[i] = F::new(0.0);
    }

    // Each invocation stages the same slice position `kk` of four rows (`row + 16 r`) at every
    // step, so where those rows' pixels sit in the input is worked out once, here; inside the loop
    // only `k` is split into (ky, kx, channel), once per step. `kk` runs fastest across
    // invocations so that neighbours read neighbouring input channels and weights.
    let kk = unit % 16;
    let row = unit / 16;
    let mut top = Array::<usize>::new(4usize);
    let mut left = Array::<usize>::new(4usize);
    let mut inside = Array::<bool>::new(4usize);
    #[unroll]
    for r in 0..4usize {
        let m = m0 + row + 16 * r;
        // Shifted by `padding` to stay unsigned: input row `y - padding`, column `x - padding`.
        top[r] = (m / out_w) * stride;
        left[r] = (m % out_w) * stride;
        inside[r] = m < pixels;
    }

    let mut k0 = 0usize.runtime();
    while k0 < depth {
        let k = k0 + kk;
        let channel = k % in_c;
        let tap = k / in_c;
        let ky = tap / taps;
        let kx = tap - ky * taps;
        #[unroll]
        for r in 0..4usize {
            let y = top[r] + ky;
            let x = left[r] + kx;
            let mut value = F::new(0.0);
            if k < depth
                && inside[r]
                && y >= padding
                && y < in_h + padding
                && x >= padding
                && x < in_w + padding
            {
                value = input[(y - padding) * row_stride + (x - padding) * col_stride + channel];
            }
            patches[kk * 65 + row + 16 * r] = value;

            let n = n0 + row + 16 * r;
            let mut w = F::new(0.0);
            if k < depth && n < out_c {
                w = weight[n * depth + k];
            }
            weights[kk * 65 + row + 16 * r] = w;
        }
        sync_cube();

        #[unroll]
        for kk in 0..16usize {
            let mut a = Array::<F>::new(4usize);
            let mut b = Array::<F>::new(4usize);
            #[unroll]
            for i in 0..4usize {
                a[i] = patches[kk * 65 + ty + 16 * i];
                b[i] = weights[kk * 65 + tx + 16 * i];
            }
            #[unroll]
            for i in 0..4usize {
                #[unroll]
                for j in 0..4usize {
                    acc[i * 4 + j] += a[i] * b[j];
                }
            }
        }
        sync_cube();
        k0 += 16;
    }

    #[unroll]
    for i in 0..4usize {
        let m = m0 + ty + 16 * i;
        #[unroll]
        for j in 0..4usize {
            let n = n0 + tx + 16 * j;
            if m < pixels && n < out_c {
                let mut v = acc[i * 4 + j] + bias[n];
                if silu {
                    v = v / (F::new(1.0) + (F::new(0.0) - v).exp());
                }
                output[m * out_c + n] = v;
            }
        }
    }
}

/// The Cube backend's tensor behind `tensor`, or `None` on another backend.
pub fn cube_tensor<const D: usize>(tensor: BurnTensor<D>) -> Option<CubeTensor> {
    tensor.try_into_primitive::<Cube>().ok()
}

/// `silu?(conv(x, weight) + bias)` on NHWC `x` (`[1, h, w, in]`, channels contiguous) with packed
/// `[out, k, k, in]` weights: `[1, oh, ow, out]`.
pub fn conv(
    x: CubeTensor,
    weight: CubeTensor,
    bias: CubeTensor,
    kernel: usize,
    stride: usize,
    silu: bool,
) -> BurnTensor<4> {
    let x = if x.meta.strides()[3] == 1 {
        x
    } else {
        into_contiguous(x)
    };
    let [batch, in_h, in_w, _] = x.meta.shape().dims();
    debug_assert_eq!(batch, 1, "the network runs one image at a time");
    let padding = kernel / 2;
    let out_h = (in_h + 2 * padding - kernel) / stride + 1;
    let out_w = (in_w + 2 * padding - kernel) / stride + 1;
    let out_c = weight.meta.shape()[0];
    let output = empty_device_dtype(
        x.client.clone(),
        x.device.clone(),
        Shape::new([1, out_h, out_w, out_c]),
        DType::F32,
    );
    let count = CubeCount::Static(
        out_c.div_ceil(TILE) as u32,
        (out_h * out_w).div_ceil(TILE) as u32,
        1,
    );
    // SAFETY: every read and write of the kernel is guarded by the tensors' own shapes.
    unsafe {
        conv_tiled_kernel::launch_unchecked(
            &x.client.clone(),
            count,
            CubeDim::new_2d(16, 16),
            x.into_tensor_arg(),
            weight.into_tensor_arg(),
            bias.into_tensor_arg(),
            output.clone().into_tensor_arg(),
            stride as u32,
            padding as u32,
            kernel as u32,
            silu,
            ElemType::Float(FloatKind::F32),
        );
    }
    BurnTensor::from_primitive::<Cube>(output)
}
