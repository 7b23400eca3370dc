//! The `Segment` head: per level a box branch (`cv2`, DFL distributions), a score branch (`cv3`)
//! and a mask-coefficient branch (`cv4`), plus `Proto`, the prototype-mask generator. Its output is
//! exactly the ONNX export's: `output0` `[1, 4 + 1 + 32, anchors]` (box centre/size in input pixels,
//! score, coefficients) and `output1` `[1, 32, S/4, S/4]`. Inside, it works on NHWC activations
//! and anchor-major rows (`[1, anchors, values]`) and turns to the export's layouts at the end.

use burn_tensor::activation::{sigmoid, softmax};
use burn_tensor::{Device, Tensor};

use super::conv::Conv;
use super::kernels::{Placement, conv_transpose_2x2, tensor};
use super::weights::Weights;
use crate::error::{Error, Result};

/// Bins of the distribution-focal-loss box regression.
const REG_MAX: usize = 16;
/// Feature strides of the three levels (P3, P4, P5).
pub const STRIDES: [usize; 3] = [8, 16, 32];

/// `Conv 3x3 -> Conv 3x3 -> Conv2d 1x1`, the shape of every head branch.
#[derive(Debug, Clone)]
struct Branch {
    first: Conv,
    second: Conv,
    out: Conv,
}

impl Branch {
    fn load(weights: &Weights, prefix: &str, at: &Placement) -> Result<Self> {
        Ok(Self {
            first: Conv::load(weights, &format!("{prefix}.0"), 1, at)?,
            second: Conv::load(weights, &format!("{prefix}.1"), 1, at)?,
            out: Conv::load_plain(weights, &format!("{prefix}.2"), at)?,
        })
    }

    /// Runs the branch and flattens the spatial dims: `[1, H, W, C] -> [1, H * W, C']`.
    fn forward(&self, x: Tensor<4>) -> Tensor<3> {
        let y = self.out.forward(self.second.forward(self.first.forward(x)));
        let [b, h, w, c] = y.dims();
        y.reshape([b, h * w, c])
    }
}

/// ultralytics `Proto`: `Conv 3x3`, 2x transposed-convolution upsampling, `Conv 3x3`, `Conv 1x1`.
#[derive(Debug, Clone)]
pub struct Proto {
    cv1: Conv,
    upsample_weight: Tensor<4>,
    upsample_bias: Tensor<1>,
    cv2: Conv,
    cv3: Conv,
}

impl Proto {
    /// Loads `{prefix}.cv1`, `.upsample`, `.cv2`, `.cv3`.
    pub fn load(weights: &Weights, prefix: &str, at: &Placement) -> Result<Self> {
        let name = format!("{prefix}.upsample.weight");
        let w = weights.get(&name, None)?;
        let [cin, cout, 2, 2] = w.shape[..] else {
            return Err(Error::InvalidModel(format!(
                "weight tensor `{name}` has shape {:?}, expected [c, c, 2, 2]",
                w.shape
            )));
        };
        let b = weights.get(&format!("{prefix}.upsample.bias"), Some(&[cout]))?;
        Ok(Self {
            cv1: Conv::load(weights, &format!("{prefix}.cv1"), 1, at)?,
            upsample_weight: tensor(&w.values, [cin, cout, 2, 2], &at.device),
            upsample_bias: tensor(&b.values, [cout], &at.device),
            cv2: Conv::load(weights, &format!("{prefix}.cv2"), 1, at)?,
            cv3: Conv::load(weights, &format!("{prefix}.cv3"), 1, at)?,
        })
    }

    /// Prototype masks at twice the resolution of `x` (the P3 features), NHWC.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let up = conv_transpose_2x2(
            self.cv1.forward(x),
            &self.upsample_weight,
            &self.upsample_bias,
        );
        self.cv3.forward(self.cv2.forward(up))
    }
}

/// ultralytics `Segment` (a `Detect` head with mask coefficients and prototypes), one class.
#[derive(Debug, Clone)]
pub struct SegmentHead {
    boxes: Vec<Branch>,
    scores: Vec<Branch>,
    coefficients: Vec<Branch>,
    proto: Proto,
    /// The DFL convolution's weights, `[1, 1, 1, 16]`: the bin values a box side's expectation
    /// is taken over (0..16 in a float export; whatever a quantized file stores).
    bins: Tensor<4>,
}

impl SegmentHead {
    /// Loads `{prefix}.cv2.{0,1,2}`, `.cv3.*`, `.cv4.*`, `.proto` and `.dfl` (its fixed bins
    /// 0..16 when the file has no DFL convolution).
    pub fn load(weights: &Weights, prefix: &str, at: &Placement) -> Result<Self> {
        let dfl = format!("{prefix}.dfl.conv.weight");
        let bins: Vec<f32> = if weights.contains(&dfl) {
            weights.get(&dfl, Some(&[1, REG_MAX, 1, 1]))?.values.clone()
        } else {
            (0..REG_MAX).map(|v| v as f32).collect()
        };
        let branches = |name: &str| -> Result<Vec<Branch>> {
            (0..3)
                .map(|i| Branch::load(weights, &format!("{prefix}.{name}.{i}"), at))
                .collect()
        };
        let head = Self {
            boxes: branches("cv2")?,
            scores: branches("cv3")?,
            coefficients: branches("cv4")?,
            proto: Proto::load(weights, &format!("{prefix}.proto"), at)?,
            bins: tensor(&bins, [1, 1, 1, REG_MAX], &at.device),
        };
        let classes = weights
            .shape(&format!("{prefix}.cv3.0.2.weight"))
            .map_or(0, |s| s[0]);
        if classes != 1 {
            return Err(Error::InvalidModel(format!(
                "the head predicts {classes} classes; FastSAM has exactly one"
            )));
        }
        Ok(head)
    }

    /// `(output0, output1)` for the three NHWC feature levels.
    pub fn forward(&self, features: [Tensor<4>; 3]) -> (Tensor<3>, Tensor<4>) {
        let device = features[0].device();
        let sizes: Vec<[usize; 2]> = features
            .iter()
            .map(|f| {
                let [_, h, w, _] = f.dims();
                [h, w]
            })
            .collect();
        let protos = self.proto.forward(features[0].clone());
        let mut boxes = Vec::with_capacity(3);
        let mut scores = Vec::with_capacity(3);
        let mut coefficients = Vec::with_capacity(3);
        for (i, x) in features.into_iter().enumerate() {
            boxes.push(self.boxes[i].forward(x.clone()));
            scores.push(self.scores[i].forward(x.clone()));
            coefficients.push(self.coefficients[i].forward(x));
        }
        let boxes = Tensor::cat(boxes, 1);
        let anchors = boxes.dims()[1];
        let (points, strides) = anchor_grid(&sizes, &device);
        let distances = dfl(boxes, self.bins.clone());
        let near = points.clone() - distances.clone().narrow(2, 0, 2);
        let far = points + distances.narrow(2, 2, 2);
        let centre = (near.clone() + far.clone()) / 2.0;
        let size = far - near;
        let decoded = Tensor::cat(vec![centre, size], 2) * strides;
        let rows = Tensor::cat(
            vec![
                decoded,
                sigmoid(Tensor::cat(scores, 1)),
                Tensor::cat(coefficients, 1),
            ],
            2,
        );
        debug_assert_eq!(rows.dims()[1], anchors);
        (rows.swap_dims(1, 2), protos.permute([0, 3, 1, 2]))
    }
}

/// Distribution focal loss decoding: `[1, A, 4 * 16]` bin logits to `[1, A, 4]` distances
/// (the expectation of each side's softmax over the `[1, 1, 1, 16]` bin values).
fn dfl(boxes: Tensor<3>, bins: Tensor<4>) -> Tensor<3> {
    let [b, a, _] = boxes.dims();
    let probabilities = softmax(boxes.reshape([b, a, 4, REG_MAX]), 3);
    (probabilities * bins).sum_dim(3).reshape([b, a, 4])
}

/// Anchor centres (`[1, A, 2]`, x then y, in feature cells, +0.5) and their strides (`[1, A, 1]`),
/// level by level, row-major within a level (ultralytics `make_anchors`).
fn anchor_grid(sizes: &[[usize; 2]], device: &Device) -> (Tensor<3>, Tensor<3>) {
    let total: usize = sizes.iter().map(|[h, w]| h * w).sum();
    let mut points = Vec::with_capacity(2 * total);
    let mut strides = Vec::with_capacity(total);
    for (&[h, w], stride) in sizes.iter().zip(STRIDES) {
        for y in 0..h {
            for x in 0..w {
                points.extend([x as f32 + 0.5, y as f32 + 0.5]);
                strides.push(stride as f32);
            }
        }
    }
    (
        tensor(&points, [1, total, 2], device),
        tensor(&strides, [1, total, 1], device),
    )
}
