//! The whole YOLOv8-seg network as FastSAM uses it: backbone, PAN neck, segment head. Layer
//! numbers are ultralytics' (`model.{i}`), so each field reads like the model's YAML.
//!
//! The scale (n/s/m/l/x: FastSAM-s is YOLOv8s-seg, FastSAM-x is YOLOv8x-seg) is not configured:
//! channel counts come from the weight shapes and block depths from the weight names.

use burn_tensor::Tensor;

use super::c2f::C2f;
use super::conv::Conv;
use super::head::SegmentHead;
use super::kernels::{Placement, upsample_nearest_2x as upsample2};
use super::sppf::Sppf;
use super::weights::Weights;
use crate::error::Result;

/// YOLOv8-seg, one class.
#[derive(Debug, Clone)]
pub struct FastSamNet {
    stem: Conv,        // 0  P1/2
    down1: Conv,       // 1  P2/4
    stage1: C2f,       // 2
    down2: Conv,       // 3  P3/8
    stage2: C2f,       // 4
    down3: Conv,       // 5  P4/16
    stage3: C2f,       // 6
    down4: Conv,       // 7  P5/32
    stage4: C2f,       // 8
    sppf: Sppf,        // 9
    top_down1: C2f,    // 12 (after upsample 10 + concat 11 with 6)
    top_down2: C2f,    // 15 (after upsample 13 + concat 14 with 4): P3 output
    bottom_up1: Conv,  // 16
    pan1: C2f,         // 18 (after concat 17 with 12): P4 output
    bottom_up2: Conv,  // 19
    pan2: C2f,         // 21 (after concat 20 with 9): P5 output
    head: SegmentHead, // 22
}

impl FastSamNet {
    /// Builds the network from ONNX-initializer weights on `at`'s device, its convolutions on
    /// `at`'s kernels.
    pub fn load(w: &Weights, at: &Placement) -> Result<Self> {
        let conv = |i: usize, stride: usize| Conv::load(w, &format!("model.{i}"), stride, at);
        let c2f = |i: usize, shortcut: bool| C2f::load(w, &format!("model.{i}"), shortcut, at);
        Ok(Self {
            stem: conv(0, 2)?,
            down1: conv(1, 2)?,
            stage1: c2f(2, true)?,
            down2: conv(3, 2)?,
            stage2: c2f(4, true)?,
            down3: conv(5, 2)?,
            stage3: c2f(6, true)?,
            down4: conv(7, 2)?,
            stage4: c2f(8, true)?,
            sppf: Sppf::load(w, "model.9", at)?,
            top_down1: c2f(12, false)?,
            top_down2: c2f(15, false)?,
            bottom_up1: conv(16, 2)?,
            pan1: c2f(18, false)?,
            bottom_up2: conv(19, 2)?,
            pan2: c2f(21, false)?,
            head: SegmentHead::load(w, "model.22", at)?,
        })
    }

    /// The YOLOv8 scale the weights match ("n", "s", "m", "l", "x"), from the stem's width;
    /// "custom" otherwise (the reduced-width test models).
    pub fn scale(&self) -> &'static str {
        match self.stem.out_channels() {
            16 => "n",
            32 => "s",
            48 => "m",
            64 => "l",
            80 => "x",
            _ => "custom",
        }
    }

    /// `[1, 3, S, S]` RGB in 0..1 to `(output0 [1, 37, A], output1 [1, 32, S/4, S/4])`, the
    /// ONNX export's layouts; every layer in between runs on NHWC activations
    /// ([`super::kernels`]).
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<3>, Tensor<4>) {
        let x = x.permute([0, 2, 3, 1]);
        let x = self.down1.forward(self.stem.forward(x));
        let x = self.stage1.forward(x);
        let p3 = self.stage2.forward(self.down2.forward(x));
        let p4 = self.stage3.forward(self.down3.forward(p3.clone()));
        let p5 = self
            .sppf
            .forward(self.stage4.forward(self.down4.forward(p4.clone())));

        let t4 = self
            .top_down1
            .forward(Tensor::cat(vec![upsample2(p5.clone()), p4], 3));
        let out3 = self
            .top_down2
            .forward(Tensor::cat(vec![upsample2(t4.clone()), p3], 3));
        let out4 = self.pan1.forward(Tensor::cat(
            vec![self.bottom_up1.forward(out3.clone()), t4],
            3,
        ));
        let out5 = self.pan2.forward(Tensor::cat(
            vec![self.bottom_up2.forward(out4.clone()), p5],
            3,
        ));
        self.head.forward([out3, out4, out5])
    }
}
