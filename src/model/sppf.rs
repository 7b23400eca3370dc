//! ultralytics `SPPF`: spatial pyramid pooling, fast (three chained 5x5 max-pools).

use burn_tensor::Tensor;

use super::conv::Conv;
use super::kernels::{Placement, max_pool_same};
use super::weights::Weights;
use crate::error::Result;

/// `cv1`, three stride-1 5x5 max-pools, concatenation of all four, `cv2`.
#[derive(Debug, Clone)]
pub struct Sppf {
    cv1: Conv,
    cv2: Conv,
}

impl Sppf {
    /// Loads `{prefix}.cv1` and `{prefix}.cv2`.
    pub fn load(weights: &Weights, prefix: &str, at: &Placement) -> Result<Self> {
        Ok(Self {
            cv1: Conv::load(weights, &format!("{prefix}.cv1"), 1, at)?,
            cv2: Conv::load(weights, &format!("{prefix}.cv2"), 1, at)?,
        })
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.cv2.out_channels()
    }

    /// Pyramid of max-pools over `cv1(x)` (NHWC).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y0 = self.cv1.forward(x);
        let y1 = max_pool_same(y0.clone(), 5);
        let y2 = max_pool_same(y1.clone(), 5);
        let y3 = max_pool_same(y2.clone(), 5);
        self.cv2.forward(Tensor::cat(vec![y0, y1, y2, y3], 3))
    }
}
