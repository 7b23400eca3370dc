//! Box prompts.

use super::{check_finite, to_frame};
use crate::error::{Error, Result};
use crate::segmentation::Segmentation;

/// How a box is turned into whole pixels before matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BoxMode {
    /// The official `box_prompt` (default): coordinates rounded half to even, clamped to the frame;
    /// IoU = inside / (box area + mask area - inside) in `f32`.
    #[default]
    Official,
    /// ultralytics' rule: coordinates truncated to integers, clamped; IoU in `f32` from integer areas.
    Ultralytics,
}

/// Runs a box prompt; returns de-duplicated instance indices in ascending order.
pub fn select(seg: &Segmentation, boxes: &[[f64; 4]], mode: BoxMode) -> Result<Vec<usize>> {
    let (iw, ih) = (seg.image_width(), seg.image_height());
    let (fw, fh) = (seg.mask_width(), seg.mask_height());
    let mut chosen = Vec::with_capacity(boxes.len());
    for (i, b) in boxes.iter().enumerate() {
        check_finite(b, "box", i)?;
        let [x1, y1, x2, y2] = *b;
        if !(x2 > x1 && y2 > y1) {
            return Err(Error::InvalidPrompt(format!(
                "box {i} {b:?} is empty; boxes are [x1, y1, x2, y2] with x2 > x1 and y2 > y1"
            )));
        }
        if x1 >= iw as f64 || y1 >= ih as f64 || x2 <= 0.0 || y2 <= 0.0 {
            return Err(Error::InvalidPrompt(format!(
                "box {i} {b:?} lies outside the {iw}x{ih} image"
            )));
        }
        let frame = [
            to_frame(x1, iw, fw),
            to_frame(y1, ih, fh),
            to_frame(x2, iw, fw),
            to_frame(y2, ih, fh),
        ];
        let whole = |v: f64| match mode {
            BoxMode::Official => v.round_ties_even(),
            BoxMode::Ultralytics => v.trunc(),
        };
        let clampx = |v: f64| whole(v).clamp(0.0, fw as f64) as u32;
        let clampy = |v: f64| whole(v).clamp(0.0, fh as f64) as u32;
        let (bx1, by1, bx2, by2) = (
            clampx(frame[0]),
            clampy(frame[1]),
            clampx(frame[2]),
            clampy(frame[3]),
        );
        if bx2 <= bx1 || by2 <= by1 {
            return Err(Error::InvalidPrompt(format!(
                "box {i} {b:?} covers no whole pixel of the {fw}x{fh} mask frame"
            )));
        }
        let box_area = (bx2 - bx1) as u64 * (by2 - by1) as u64;
        let mut best: Option<(usize, f32)> = None;
        for (k, inst) in seg.instances().iter().enumerate() {
            let inside = inst.mask.area_in_rect(bx1..bx2, by1..by2);
            let iou = match mode {
                // torch: python int + float32 tensor, minus float32 tensor, all in f32.
                BoxMode::Official => {
                    inside as f32 / ((box_area as f32 + inst.mask.area() as f32) - inside as f32)
                }
                BoxMode::Ultralytics => {
                    inside as f32 / (box_area + inst.mask.area() - inside) as f32
                }
            };
            // torch.argmax: the first maximum wins (NaN would win too, but unions are never 0 here).
            if best.is_none_or(|(_, v)| iou > v) {
                best = Some((k, iou));
            }
        }
        if let Some((k, _)) = best {
            chosen.push(k);
        }
    }
    chosen.sort_unstable();
    chosen.dedup();
    Ok(chosen)
}
