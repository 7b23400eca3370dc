//! The result of one model run: every instance (box, score, mask). Prompts select from it.

use crate::mask::Mask;

/// One segmented object.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// Detection box `[x1, y1, x2, y2]` in original-image pixels (after FastSAM's fix-up).
    pub bbox: [f32; 4],
    /// Object score in 0..1.
    pub score: f32,
    /// The instance mask over the segmentation's mask frame.
    pub mask: Mask,
    /// Column of the network output the detection came from.
    pub anchor: usize,
}

/// All instances of one image, in detection order (descending score).
#[derive(Debug, Clone, PartialEq)]
pub struct Segmentation {
    image_width: u32,
    image_height: u32,
    mask_width: u32,
    mask_height: u32,
    instances: Vec<Instance>,
}

impl Segmentation {
    /// Assembles a segmentation; every mask must be `mask_width` x `mask_height`.
    pub fn new(
        image_width: u32,
        image_height: u32,
        mask_width: u32,
        mask_height: u32,
        instances: Vec<Instance>,
    ) -> Self {
        debug_assert!(
            instances
                .iter()
                .all(|i| i.mask.width() == mask_width && i.mask.height() == mask_height)
        );
        Self {
            image_width,
            image_height,
            mask_width,
            mask_height,
            instances,
        }
    }

    /// Width of the segmented image.
    pub fn image_width(&self) -> u32 {
        self.image_width
    }

    /// Height of the segmented image.
    pub fn image_height(&self) -> u32 {
        self.image_height
    }

    /// Width of the masks (the image width for full-resolution masks).
    pub fn mask_width(&self) -> u32 {
        self.mask_width
    }

    /// Height of the masks.
    pub fn mask_height(&self) -> u32 {
        self.mask_height
    }

    /// The instances, in detection order.
    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }

    /// Number of instances.
    pub fn len(&self) -> usize {
        self.instances.len()
    }

    /// True when nothing was detected.
    pub fn is_empty(&self) -> bool {
        self.instances.is_empty()
    }
}
