//! Prompt-guided selection over one [`Segmentation`]: each prompt is a cheap query, the model is not
//! run again.
//!
//! Coordinates are always original-image pixels; they are mapped onto the mask frame the way the
//! official code does when masks are low-resolution.

mod boxes;
mod edges;
mod everything;
mod points;
mod proposals;

use crate::error::{Error, Result};
use crate::mask::Mask;
use crate::segmentation::Segmentation;

pub use boxes::BoxMode;
pub use points::PointMode;

/// One mask chosen by a prompt.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// An instance of the segmentation, by index into [`Segmentation::instances`].
    Instance(usize),
    /// A mask the prompt built (the official point prompt's union of instances).
    Merged {
        /// The mask, over the segmentation's mask frame.
        mask: Mask,
        /// Highest score among the instances added to the union (0 when none was).
        score: f32,
        /// Instances that were added to the union, in the order they were added.
        sources: Vec<usize>,
    },
}

impl Segmentation {
    /// Every instance, largest mask first (ties keep detection order).
    pub fn everything(&self) -> Vec<usize> {
        everything::by_area(self)
    }

    /// Point prompt: `points` as `[x, y]` image pixels, `labels` 1 (foreground) or 0 (background).
    pub fn points(
        &self,
        points: &[[f64; 2]],
        labels: &[i32],
        mode: PointMode,
    ) -> Result<Vec<Selection>> {
        points::select(self, points, labels, mode)
    }

    /// Box prompt: for each `[x1, y1, x2, y2]` box (image pixels) the instance whose mask has the
    /// highest IoU with it; duplicates removed, ascending index order.
    pub fn boxes(&self, boxes: &[[f64; 4]], mode: BoxMode) -> Result<Vec<usize>> {
        boxes::select(self, boxes, mode)
    }

    /// The boundaries of every mask as one mask (a pixel is on a boundary when it is inside a mask
    /// and one of its 4 neighbours inside the frame is not).
    pub fn edges(&self) -> Mask {
        edges::boundaries(self)
    }

    /// Object proposals: the `k` highest-scoring instances, best first.
    pub fn proposals(&self, k: usize) -> Vec<usize> {
        proposals::top_k(self, k)
    }
}

/// Maps an image coordinate onto a mask frame axis as the official prompts do: unchanged (truncated
/// to a whole pixel) when the frame is the image, `int(v * frame / image)` otherwise.
fn to_frame(v: f64, image_side: u32, frame_side: u32) -> f64 {
    if image_side == frame_side {
        v
    } else {
        (v * frame_side as f64 / image_side as f64).trunc()
    }
}

fn check_finite(values: &[f64], what: &str, index: usize) -> Result<()> {
    if values.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(Error::InvalidPrompt(format!(
            "{what} {index} is {values:?}: coordinates must be finite numbers"
        )))
    }
}
