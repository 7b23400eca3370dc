//! ultralytics `Bottleneck` and `C2f` ("CSP bottleneck with two convolutions", faster variant).

use burn_tensor::Tensor;

use super::conv::Conv;
use super::kernels::Placement;
use super::weights::Weights;
use crate::error::Result;

/// Two 3x3 `Conv`s, with a residual connection when asked and the shapes allow it.
#[derive(Debug, Clone)]
pub struct Bottleneck {
    cv1: Conv,
    cv2: Conv,
    residual: bool,
}

impl Bottleneck {
    /// Loads `{prefix}.cv1` and `{prefix}.cv2`.
    pub fn load(weights: &Weights, prefix: &str, shortcut: bool, at: &Placement) -> Result<Self> {
        let cv1 = Conv::load(weights, &format!("{prefix}.cv1"), 1, at)?;
        let cv2 = Conv::load(weights, &format!("{prefix}.cv2"), 1, at)?;
        let in_channels = weights
            .shape(&format!("{prefix}.cv1.conv.weight"))
            .map_or(0, |s| s[1]);
        Ok(Self {
            residual: shortcut && in_channels == cv2.out_channels(),
            cv1,
            cv2,
        })
    }

    /// `x + cv2(cv1(x))` or `cv2(cv1(x))`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y = self.cv2.forward(self.cv1.forward(x.clone()));
        if self.residual { x + y } else { y }
    }
}

/// `cv1` splits into two halves; each bottleneck extends the last; `cv2` fuses them all.
#[derive(Debug, Clone)]
pub struct C2f {
    cv1: Conv,
    cv2: Conv,
    m: Vec<Bottleneck>,
}

impl C2f {
    /// Loads `{prefix}.cv1`, `{prefix}.cv2` and every `{prefix}.m.{j}` present in the weights (the
    /// depth multiple of the model scale decides how many).
    pub fn load(weights: &Weights, prefix: &str, shortcut: bool, at: &Placement) -> Result<Self> {
        let cv1 = Conv::load(weights, &format!("{prefix}.cv1"), 1, at)?;
        let cv2 = Conv::load(weights, &format!("{prefix}.cv2"), 1, at)?;
        let mut m = Vec::new();
        while weights.contains(&format!("{prefix}.m.{}.cv1.conv.weight", m.len())) {
            let p = format!("{prefix}.m.{}", m.len());
            m.push(Bottleneck::load(weights, &p, shortcut, at)?);
        }
        Ok(Self { cv1, cv2, m })
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.cv2.out_channels()
    }

    /// `cv2(cat(a, b, m1(b), m2(m1(b)), ...))` where `(a, b) = chunk(cv1(x), 2)`, along the channels
    /// of NHWC activations (the halves are slices of `cv1`'s output, not copies).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut parts = self.cv1.forward(x).chunk(2, 3);
        for bottleneck in &self.m {
            let last = parts.last().expect("two halves").clone();
            parts.push(bottleneck.forward(last));
        }
        self.cv2.forward(Tensor::cat(parts, 3))
    }
}
