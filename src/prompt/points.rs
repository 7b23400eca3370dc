//! Point prompts.

use super::canvas::BitCanvas;
use super::{Selection, check_finite, to_frame};
use crate::error::{Error, Result};
use crate::mask::Mask;
use crate::segmentation::Segmentation;

/// How points choose masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PointMode {
    /// The official `point_prompt` (default): masks sorted by area, largest first; for each mask and
    /// each point in order, a mask containing a foreground point is added to one merged mask and a
    /// mask containing a background point is erased from it. Returns one merged mask.
    #[default]
    Merged,
    /// One mask per foreground point: the smallest mask that contains the point and no background
    /// point (ties: higher score, then detection order). Points that hit no such mask give nothing;
    /// a mask chosen twice is returned once.
    PerPoint,
    /// ultralytics' rule: every mask that contains a foreground point (every mask when all points
    /// are background) and no background point, in detection order.
    Select,
}

/// A validated point on the mask frame.
#[derive(Debug, Clone, Copy)]
struct FramePoint {
    x: u32,
    y: u32,
    foreground: bool,
}

fn validate(seg: &Segmentation, points: &[[f64; 2]], labels: &[i32]) -> Result<Vec<FramePoint>> {
    if points.len() != labels.len() {
        return Err(Error::InvalidPrompt(format!(
            "got {} points but {} labels; give one label (1 = object, 0 = background) per point",
            points.len(),
            labels.len()
        )));
    }
    let (w, h) = (seg.image_width(), seg.image_height());
    points
        .iter()
        .zip(labels)
        .enumerate()
        .map(|(i, (&[x, y], &label))| {
            check_finite(&[x, y], "point", i)?;
            if !(0.0..w as f64).contains(&x) || !(0.0..h as f64).contains(&y) {
                return Err(Error::InvalidPrompt(format!(
                    "point {i} ({x}, {y}) is outside the {w}x{h} image; x must be in [0, {w}) and y in [0, {h})"
                )));
            }
            let foreground = match label {
                1 => true,
                0 => false,
                other => {
                    return Err(Error::InvalidPrompt(format!(
                        "label {i} is {other}; labels are 1 (object) or 0 (background)"
                    )));
                }
            };
            Ok(FramePoint {
                x: to_frame(x, w, seg.mask_width()) as u32,
                y: to_frame(y, h, seg.mask_height()) as u32,
                foreground,
            })
        })
        .collect()
}

/// Runs a point prompt.
pub fn select(
    seg: &Segmentation,
    points: &[[f64; 2]],
    labels: &[i32],
    mode: PointMode,
) -> Result<Vec<Selection>> {
    let points = validate(seg, points, labels)?;
    Ok(match mode {
        PointMode::Merged => vec![merged(seg, &points)],
        PointMode::PerPoint => per_point(seg, &points)
            .into_iter()
            .map(Selection::Instance)
            .collect(),
        PointMode::Select => select_any(seg, &points)
            .into_iter()
            .map(Selection::Instance)
            .collect(),
    })
}

fn merged(seg: &Segmentation, points: &[FramePoint]) -> Selection {
    // The official loop, as a list of operations: for each mask (largest first) and each point it
    // contains, union the mask in (foreground) or erase it (background).
    let mut ops: Vec<(&Mask, bool)> = Vec::new();
    let mut sources = Vec::new();
    let mut score = 0f32;
    for i in super::everything::by_area(seg) {
        let instance = &seg.instances()[i];
        // Consecutive operations with the same mask collapse to the last one: (R ∪ M) \ M = R \ M
        // and (R \ M) ∪ M = R ∪ M. So each mask is applied once, with its last point's label.
        let mut last = None;
        for p in points {
            if instance.mask.contains(p.x, p.y) {
                last = Some(p.foreground);
                if p.foreground {
                    if !sources.contains(&i) {
                        sources.push(i);
                    }
                    score = score.max(instance.score);
                }
            }
        }
        if let Some(foreground) = last {
            ops.push((&instance.mask, foreground));
        }
    }
    // Painted in order on a bit canvas over the rows the masks span: the cost follows the masks'
    // runs (one word operation per 64 pixels of a run), not their areas.
    let rows = ops.iter().filter_map(|(m, _)| m.row_span()).fold(
        None,
        |acc: Option<(u32, u32)>, (top, end)| {
            Some(acc.map_or((top, end), |(t, e)| (t.min(top), e.max(end))))
        },
    );
    let mask = match rows {
        Some((top, end)) => {
            let mut canvas = BitCanvas::new(seg.mask_width(), seg.mask_height(), top..end);
            for (mask, foreground) in &ops {
                canvas.paint(mask, *foreground);
            }
            canvas.to_mask()
        }
        None => Mask::empty(seg.mask_width(), seg.mask_height()),
    };
    Selection::Merged {
        mask,
        score,
        sources,
    }
}

fn per_point(seg: &Segmentation, points: &[FramePoint]) -> Vec<usize> {
    let background: Vec<&FramePoint> = points.iter().filter(|p| !p.foreground).collect();
    let mut chosen: Vec<usize> = Vec::new();
    for p in points.iter().filter(|p| p.foreground) {
        let best = seg
            .instances()
            .iter()
            .enumerate()
            .filter(|(_, inst)| {
                inst.mask.contains(p.x, p.y)
                    && !background.iter().any(|b| inst.mask.contains(b.x, b.y))
            })
            .min_by(|(ia, a), (ib, b)| {
                a.mask
                    .area()
                    .cmp(&b.mask.area())
                    .then(b.score.total_cmp(&a.score))
                    .then(ia.cmp(ib))
            })
            .map(|(i, _)| i);
        if let Some(i) = best
            && !chosen.contains(&i)
        {
            chosen.push(i);
        }
    }
    chosen
}

fn select_any(seg: &Segmentation, points: &[FramePoint]) -> Vec<usize> {
    let all_background = points.iter().all(|p| !p.foreground);
    seg.instances()
        .iter()
        .enumerate()
        .filter(|(_, inst)| {
            let hit = |fg: bool| {
                points
                    .iter()
                    .any(|p| p.foreground == fg && inst.mask.contains(p.x, p.y))
            };
            (all_background || hit(true)) && !hit(false)
        })
        .map(|(i, _)| i)
        .collect()
}
