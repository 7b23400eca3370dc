//! Prompt-guided selection over one [`Segmentation`]: each prompt is a cheap query, the model is not
//! run again.
//!
//! Coordinates are always original-image pixels; they are mapped onto the mask frame the way the
//! official code does when masks are low-resolution.

mod boxes;
mod canvas;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segmentation::Instance;

    /// Three nested squares in a 10x10 frame (big 0..10, mid 2..8, small 4..6) and a separate
    /// bar (0..10 x 9..10, rows only), with scores chosen so score order differs from area order.
    fn nested() -> Segmentation {
        let square = |a: usize, b: usize| {
            let mut bm = vec![0u8; 100];
            for y in a..b {
                for x in a..b {
                    bm[y * 10 + x] = 1;
                }
            }
            Mask::from_bitmap(10, 10, &bm)
        };
        let inst = |mask: Mask, score: f32| Instance {
            bbox: mask.bounds().unwrap().map(|v| v as f32),
            score,
            mask,
            anchor: 0,
        };
        Segmentation::new(
            10,
            10,
            10,
            10,
            vec![
                inst(square(4, 6), 0.9),
                inst(square(0, 10), 0.8),
                inst(square(2, 8), 0.7),
            ],
        )
    }

    fn merged_mask(s: &[Selection]) -> &Mask {
        match s {
            [Selection::Merged { mask, .. }] => mask,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn everything_and_proposals_orders() {
        let seg = nested();
        assert_eq!(seg.everything(), vec![1, 2, 0]);
        assert_eq!(seg.proposals(2), vec![0, 1]);
        assert_eq!(seg.proposals(10).len(), 3);
    }

    #[test]
    fn merged_points_follow_the_official_loop() {
        let seg = nested();
        // A click on the small square unions all three (largest first): the whole frame.
        let s = seg.points(&[[5.0, 5.0]], &[1], PointMode::Merged).unwrap();
        assert_eq!(merged_mask(&s).area(), 100);
        // Object at the centre, background at (3, 3): big and mid contain both points, so each is
        // added then erased; small contains only the object point and is what remains.
        let s = seg
            .points(&[[5.0, 5.0], [3.0, 3.0]], &[1, 0], PointMode::Merged)
            .unwrap();
        let m = merged_mask(&s);
        assert_eq!(m.area(), 4);
        assert!(m.contains(5, 5) && !m.contains(3, 3) && !m.contains(0, 0));
        let Selection::Merged { score, sources, .. } = &s[0] else {
            unreachable!()
        };
        assert_eq!((*score, sources.clone()), (0.9, vec![1, 2, 0]));
        // Only background points: nothing.
        let s = seg.points(&[[5.0, 5.0]], &[0], PointMode::Merged).unwrap();
        assert!(merged_mask(&s).is_empty());
    }

    #[test]
    fn per_point_takes_the_smallest_mask_without_background() {
        let seg = nested();
        let pick = |pts: &[[f64; 2]], labels: &[i32]| -> Vec<Selection> {
            seg.points(pts, labels, PointMode::PerPoint).unwrap()
        };
        assert_eq!(pick(&[[5.0, 5.0]], &[1]), vec![Selection::Instance(0)]);
        assert_eq!(pick(&[[3.0, 3.0]], &[1]), vec![Selection::Instance(2)]);
        // A background point inside the small square rules it out: the mid square contains it too,
        // so only the big one remains... which also contains it: nothing.
        assert!(pick(&[[5.0, 5.0], [4.5, 4.5]], &[1, 0]).is_empty());
        // Background at (1, 1) excludes only the big square.
        assert_eq!(
            pick(&[[3.0, 3.0], [1.0, 1.0]], &[1, 0]),
            vec![Selection::Instance(2)]
        );
        // Two clicks on the same object give it once.
        assert_eq!(
            pick(&[[5.0, 5.0], [4.0, 5.0]], &[1, 1]),
            vec![Selection::Instance(0)]
        );
    }

    #[test]
    fn select_mode_is_ultralytics_rule() {
        let seg = nested();
        let pick = |pts: &[[f64; 2]], labels: &[i32]| -> Vec<Selection> {
            seg.points(pts, labels, PointMode::Select).unwrap()
        };
        let all = |v: &[usize]| {
            v.iter()
                .map(|&i| Selection::Instance(i))
                .collect::<Vec<_>>()
        };
        assert_eq!(pick(&[[3.0, 3.0]], &[1]), all(&[1, 2]));
        assert_eq!(pick(&[[5.0, 5.0], [3.0, 3.0]], &[1, 0]), all(&[0]));
        // All background: every mask not containing a point.
        assert_eq!(pick(&[[1.0, 1.0]], &[0]), all(&[0, 2]));
    }

    #[test]
    fn boxes_pick_the_best_iou_and_deduplicate() {
        let seg = nested();
        assert_eq!(
            seg.boxes(&[[4.0, 4.0, 6.0, 6.0]], BoxMode::Official)
                .unwrap(),
            vec![0]
        );
        assert_eq!(
            seg.boxes(&[[1.6, 1.6, 8.4, 8.4]], BoxMode::Official)
                .unwrap(),
            vec![2]
        );
        assert_eq!(
            seg.boxes(
                &[
                    [-5.0, -5.0, 50.0, 50.0],
                    [2.0, 2.0, 8.0, 8.0],
                    [0.0, 0.0, 10.0, 10.0]
                ],
                BoxMode::Official
            )
            .unwrap(),
            vec![1, 2]
        );
        // Truncation vs rounding: 1.6 -> 1 (ultralytics) keeps a 7x7 box whose best match is mid.
        assert_eq!(
            seg.boxes(&[[1.6, 1.6, 8.6, 8.6]], BoxMode::Ultralytics)
                .unwrap(),
            vec![2]
        );
    }

    #[test]
    fn low_resolution_frames_scale_coordinates_like_the_official_code() {
        let m = Mask::from_bitmap(5, 5, &[1; 25]);
        let seg = Segmentation::new(
            10,
            10,
            5,
            5,
            vec![Instance {
                bbox: [0.0, 0.0, 10.0, 10.0],
                score: 1.0,
                mask: m,
                anchor: 0,
            }],
        );
        // Image (9.9, 9.9) maps to int(9.9 * 5 / 10) = 4 in a 5x5 frame.
        let s = seg
            .points(&[[9.9, 9.9]], &[1], PointMode::PerPoint)
            .unwrap();
        assert_eq!(s, vec![Selection::Instance(0)]);
    }
}
