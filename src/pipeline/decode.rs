//! From raw `output0` to detections: score threshold, centre-size to corner boxes, and
//! class-agnostic non-maximum suppression, as ultralytics' `non_max_suppression` does with one class.

use crate::engine::RawOutputs;

/// One detection before post-processing: a box in model-input pixels, its score and mask
/// coefficients, and the anchor it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// `[x1, y1, x2, y2]` in the frame the pipeline stage works in.
    pub bbox: [f32; 4],
    /// Object score (sigmoid already applied by the network).
    pub score: f32,
    /// Mask coefficients, one per prototype.
    pub coefficients: Vec<f32>,
    /// Column of `output0` this detection came from.
    pub anchor: usize,
}

/// Anchors whose score is strictly above `conf`, in anchor order, boxes converted to corners.
///
/// The comparison is done in `f32`, as PyTorch compares a float32 tensor with a Python float.
pub fn candidates(raw: &RawOutputs, conf: f32) -> Vec<Detection> {
    candidates_from(&raw.predictions, raw.anchors, raw.mask_dim, conf)
}

/// [`candidates`] on a bare `output0` buffer (`[5 + mask_dim, anchors]`, row-major).
pub fn candidates_from(
    predictions: &[f32],
    anchors: usize,
    mask_dim: usize,
    conf: f32,
) -> Vec<Detection> {
    let row = |r: usize| &predictions[r * anchors..(r + 1) * anchors];
    let scores = row(4);
    let (cx, cy, w, h) = (row(0), row(1), row(2), row(3));
    scores
        .iter()
        .enumerate()
        .filter(|&(_, &s)| s > conf)
        .map(|(a, &score)| {
            let (half_w, half_h) = (w[a] / 2.0, h[a] / 2.0);
            Detection {
                bbox: [
                    cx[a] - half_w,
                    cy[a] - half_h,
                    cx[a] + half_w,
                    cy[a] + half_h,
                ],
                score,
                coefficients: (0..mask_dim)
                    .map(|k| predictions[(5 + k) * anchors + a])
                    .collect(),
                anchor: a,
            }
        })
        .collect()
}

/// Greedy NMS as torchvision's CPU kernel: stable sort by descending score, a box is suppressed when
/// its IoU (computed in `f32`) with a kept box is greater than `iou` (compared in `f64`). Keeps at
/// most `max_det` boxes, in descending score order.
pub fn nms(mut detections: Vec<Detection>, iou: f64, max_det: usize) -> Vec<Detection> {
    detections.sort_by(|a, b| b.score.total_cmp(&a.score));
    let areas: Vec<f32> = detections.iter().map(|d| box_area(&d.bbox)).collect();
    let mut kept: Vec<usize> = Vec::new();
    'candidates: for i in 0..detections.len() {
        if kept.len() == max_det {
            break;
        }
        for &k in &kept {
            if (iou_f32(&detections[k].bbox, areas[k], &detections[i].bbox, areas[i]) as f64) > iou
            {
                continue 'candidates;
            }
        }
        kept.push(i);
    }
    let mut slots: Vec<Option<Detection>> = detections.into_iter().map(Some).collect();
    kept.into_iter().filter_map(|i| slots[i].take()).collect()
}

fn box_area(b: &[f32; 4]) -> f32 {
    (b[2] - b[0]) * (b[3] - b[1])
}

/// Intersection over union in `f32`, with precomputed areas (torchvision's formula).
fn iou_f32(a: &[f32; 4], area_a: f32, b: &[f32; 4], area_b: f32) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    inter / (area_a + area_b - inter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(b: [f32; 4], score: f32, anchor: usize) -> Detection {
        Detection {
            bbox: b,
            score,
            coefficients: vec![],
            anchor,
        }
    }

    #[test]
    fn suppresses_overlaps_above_threshold_only() {
        let d = vec![
            det([0.0, 0.0, 10.0, 10.0], 0.5, 0),
            det([0.0, 0.0, 10.0, 10.5], 0.9, 1), // IoU 0.952 with box 0
            det([0.0, 0.0, 10.0, 12.0], 0.7, 2), // IoU 0.833 with box 1
        ];
        let kept: Vec<usize> = nms(d, 0.9, 300).iter().map(|d| d.anchor).collect();
        assert_eq!(kept, vec![1, 2]);
    }

    #[test]
    fn ties_keep_anchor_order_and_max_det_truncates() {
        let d: Vec<Detection> = (0..5)
            .map(|i| det([i as f32 * 20.0, 0.0, i as f32 * 20.0 + 10.0, 10.0], 0.5, i))
            .collect();
        let kept: Vec<usize> = nms(d, 0.9, 3).iter().map(|d| d.anchor).collect();
        assert_eq!(kept, vec![0, 1, 2]);
    }

    #[test]
    fn candidates_use_strict_f32_threshold() {
        let raw = RawOutputs {
            // 2 anchors, 5 + 1 channels
            predictions: vec![
                10.0, 20.0, // cx
                10.0, 20.0, // cy
                4.0, 6.0, // w
                2.0, 8.0, // h
                0.4, 0.41, // score
                1.0, 2.0, // coefficient
            ],
            channels: 6,
            anchors: 2,
            prototypes: vec![0.0; 4],
            mask_dim: 1,
            proto_height: 2,
            proto_width: 2,
        };
        let c = candidates(&raw, 0.4);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].bbox, [17.0, 16.0, 23.0, 24.0]);
        assert_eq!(c[0].coefficients, vec![2.0]);
    }
}
