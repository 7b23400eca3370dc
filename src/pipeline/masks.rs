//! Mask assembly: mask coefficients x prototypes, letterbox padding removed, bilinear upsampling to
//! the mask frame, zero outside the box, logit > 0.
//!
//! Only the pixels inside each box are computed, and only the prototype cells they read: a mask costs
//! in proportion to its box, not to the image.

use std::ops::Range;

use super::interpolate::{Grid, Taps, resize_rect};
use crate::engine::RawOutputs;
use crate::mask::{Mask, MaskBuilder};

/// How prototype logits reach the mask frame.
#[derive(Debug, Clone)]
pub(crate) enum Stages {
    /// The official FastSAM (ultralytics 8.0.x `process_mask_native`): crop the padding off the
    /// prototype grid (truncating), one bilinear resize to the frame.
    Single {
        rows: Range<usize>,
        cols: Range<usize>,
        x: Taps,
        y: Taps,
    },
    /// Ultralytics 8.4 `process_mask_native`: upsample the whole grid by `factor` (1, 2 or 4),
    /// crop the padding on whole pixels (rounding), then resize to the frame.
    Double {
        up_x: Taps,
        up_y: Taps,
        rows: Range<usize>,
        cols: Range<usize>,
        x: Taps,
        y: Taps,
    },
}

/// The geometry of mask assembly, independent of where it runs: which prototype cells are read and
/// the bilinear taps that take them to a `frame_width` x `frame_height` frame.
#[derive(Debug, Clone)]
pub struct MaskPlan {
    pub(crate) frame_width: usize,
    pub(crate) frame_height: usize,
    pub(crate) stages: Stages,
}

impl MaskPlan {
    /// The official assembly of a `proto_width` x `proto_height` prototype grid for an
    /// `image_width` x `image_height` image, producing masks over a `frame_width` x `frame_height`
    /// frame (the image itself for full-resolution "retina" masks, the letterbox content size for
    /// low-resolution ones).
    pub fn official(
        proto_height: usize,
        proto_width: usize,
        image_width: u32,
        image_height: u32,
        frame_width: u32,
        frame_height: u32,
    ) -> Self {
        let (mh, mw) = (proto_height as f64, proto_width as f64);
        let gain = f64::min(mh / image_height as f64, mw / image_width as f64);
        let pad_w = (mw - image_width as f64 * gain) / 2.0;
        let pad_h = (mh - image_height as f64 * gain) / 2.0;
        // Python int() truncates toward zero.
        let rows = (pad_h as usize)..((mh - pad_h) as usize);
        let cols = (pad_w as usize)..((mw - pad_w) as usize);
        let x = Taps::new(cols.len(), frame_width as usize, None);
        let y = Taps::new(rows.len(), frame_height as usize, None);
        Self {
            frame_width: frame_width as usize,
            frame_height: frame_height as usize,
            stages: Stages::Single { rows, cols, x, y },
        }
    }

    /// Ultralytics 8.4's assembly (full-resolution masks only).
    pub fn ultralytics(
        proto_height: usize,
        proto_width: usize,
        image_width: u32,
        image_height: u32,
    ) -> Self {
        let (mh, mw) = (proto_height, proto_width);
        let (h, w) = (image_height as f64, image_width as f64);
        let content = |side: f64, gain: f64| ((side * gain).round_ties_even() as i64).max(1);
        let gain = f64::min(4.0 * mh as f64 / h, 4.0 * mw as f64 / w);
        let pad = (4 * mh as i64 - content(h, gain)) | (4 * mw as i64 - content(w, gain));
        let factor = 4 / gcd(4, pad | pad.div_euclid(2)) as usize;
        let (uh, uw) = (mh * factor, mw * factor);
        let up_x = Taps::new(mw, uw, (factor > 1).then_some(factor as f64));
        let up_y = Taps::new(mh, uh, (factor > 1).then_some(factor as f64));
        let gain = f64::min(uh as f64 / h, uw as f64 / w);
        let (ch, cw) = (content(h, gain) as usize, content(w, gain) as usize);
        let top = ((uh - ch) as f64 / 2.0 - 0.1).round_ties_even() as usize;
        let left = ((uw - cw) as f64 / 2.0 - 0.1).round_ties_even() as usize;
        let (rows, cols) = (top..top + ch, left..left + cw);
        let x = Taps::new(cw, image_width as usize, None);
        let y = Taps::new(ch, image_height as usize, None);
        Self {
            frame_width: image_width as usize,
            frame_height: image_height as usize,
            stages: Stages::Double {
                up_x,
                up_y,
                rows,
                cols,
                x,
                y,
            },
        }
    }

    /// The source rectangles evaluating the frame rectangle `xs` x `ys` reads.
    pub(crate) fn reads(&self, xs: &Range<usize>, ys: &Range<usize>) -> Reads {
        match &self.stages {
            Stages::Single { rows, cols, x, y } => {
                let cropped = (x.source_span(xs), y.source_span(ys));
                Reads {
                    cells: (shift(&cropped.0, cols.start), shift(&cropped.1, rows.start)),
                    upsampled: cropped.clone(),
                    cropped,
                }
            }
            Stages::Double {
                up_x,
                up_y,
                rows,
                cols,
                x,
                y,
            } => {
                // The last resize reads this rectangle of the cropped upsampled grid...
                let cropped = (x.source_span(xs), y.source_span(ys));
                let upsampled = (shift(&cropped.0, cols.start), shift(&cropped.1, rows.start));
                // ...which the upsampling computes from this rectangle of prototype cells.
                let cells = (
                    up_x.source_span(&upsampled.0),
                    up_y.source_span(&upsampled.1),
                );
                Reads {
                    cells,
                    upsampled,
                    cropped,
                }
            }
        }
    }

    /// Frame pixels `(columns, rows)` that `bbox` (frame pixels) keeps: `x1 <= col < x2`,
    /// `y1 <= row < y2`.
    pub fn box_span(&self, bbox: &[f32; 4]) -> (Range<usize>, Range<usize>) {
        (
            pixel_span(bbox[0], bbox[2], self.frame_width),
            pixel_span(bbox[1], bbox[3], self.frame_height),
        )
    }
}

/// The source rectangles, each `(columns, rows)`, that evaluating a rectangle of the mask frame
/// reads ([`MaskPlan::reads`]).
#[derive(Debug, Clone)]
pub(crate) struct Reads {
    /// Prototype cells the logits are needed on.
    pub cells: (Range<usize>, Range<usize>),
    /// The rectangle of the padding-cropped grid the last resize reads (for `Single` the cropped
    /// prototype grid, for `Double` the cropped upsampled one).
    pub cropped: (Range<usize>, Range<usize>),
    /// `Double`: `cropped` in upsampled-grid coordinates, what the upsampling produces (for
    /// `Single`, equal to `cropped`).
    pub upsampled: (Range<usize>, Range<usize>),
}

/// Turns detections (coefficients + box) into masks over one frame, on the CPU.
#[derive(Debug, Clone)]
pub struct MaskAssembler<'a> {
    raw: &'a RawOutputs,
    plan: MaskPlan,
}

impl<'a> MaskAssembler<'a> {
    /// Assembles masks from `raw`'s prototypes as `plan` says.
    pub fn new(raw: &'a RawOutputs, plan: MaskPlan) -> Self {
        Self { raw, plan }
    }

    /// The official assembly (see [`MaskPlan::official`]).
    pub fn official(
        raw: &'a RawOutputs,
        image_width: u32,
        image_height: u32,
        frame_width: u32,
        frame_height: u32,
    ) -> Self {
        let plan = MaskPlan::official(
            raw.proto_height,
            raw.proto_width,
            image_width,
            image_height,
            frame_width,
            frame_height,
        );
        Self::new(raw, plan)
    }

    /// Ultralytics 8.4's assembly (full-resolution masks only).
    pub fn ultralytics(raw: &'a RawOutputs, image_width: u32, image_height: u32) -> Self {
        let plan =
            MaskPlan::ultralytics(raw.proto_height, raw.proto_width, image_width, image_height);
        Self::new(raw, plan)
    }

    /// The mask of one detection: `coefficients` against the prototypes, kept where `x1 <= col < x2`
    /// and `y1 <= row < y2` for `bbox` in frame pixels, thresholded at logit > 0.
    pub fn mask(&self, coefficients: &[f32], bbox: &[f32; 4]) -> Mask {
        let (xs, ys) = self.plan.box_span(bbox);
        let frame = (self.plan.frame_width as u32, self.plan.frame_height as u32);
        let mut builder = MaskBuilder::new(frame.0, frame.1);
        let mut threshold =
            |y: usize, row: &[f32]| push_positive_runs(&mut builder, y, xs.start, row);
        let reads = self.plan.reads(&xs, &ys);
        let (cells_x, cells_y) = reads.cells;
        let logits = self.logits(coefficients, cells_y.clone(), cells_x.clone());
        let cells = Grid {
            data: &logits,
            width: cells_x.len(),
            origin_x: cells_x.start,
            origin_y: cells_y.start,
        };
        let (cropped_x, cropped_y) = reads.cropped;
        match &self.plan.stages {
            Stages::Single { x, y, .. } => {
                // The cells are the cropped grid's, shifted by the padding.
                let grid = Grid {
                    origin_x: cropped_x.start,
                    origin_y: cropped_y.start,
                    ..cells
                };
                resize_rect(grid, x, y, xs.clone(), ys.clone(), &mut threshold);
            }
            Stages::Double {
                up_x, up_y, x, y, ..
            } => {
                let (ux, uy) = reads.upsampled;
                let mut upsampled = Vec::with_capacity(ux.len() * uy.len());
                resize_rect(cells, up_x, up_y, ux.clone(), uy, |_, row| {
                    upsampled.extend_from_slice(row)
                });
                let grid = Grid {
                    data: &upsampled,
                    width: ux.len(),
                    origin_x: cropped_x.start,
                    origin_y: cropped_y.start,
                };
                resize_rect(grid, x, y, xs.clone(), ys.clone(), &mut threshold);
            }
        }
        builder.finish()
    }

    /// Mask logits (coefficients x prototypes) on the prototype cells `rows` x `cols`.
    fn logits(&self, coefficients: &[f32], rows: Range<usize>, cols: Range<usize>) -> Vec<f32> {
        let raw = self.raw;
        let plane = raw.proto_height * raw.proto_width;
        let width = cols.len();
        let mut out = vec![0f32; rows.len() * width];
        for (k, &c) in coefficients.iter().enumerate() {
            let proto = &raw.prototypes[k * plane..(k + 1) * plane];
            for (r, py) in rows.clone().enumerate() {
                let src =
                    &proto[py * raw.proto_width + cols.start..py * raw.proto_width + cols.end];
                let dst = &mut out[r * width..(r + 1) * width];
                for (d, &p) in dst.iter_mut().zip(src) {
                    *d += c * p;
                }
            }
        }
        out
    }
}

/// Pixel indices `i` with `lo <= i < hi` (compared as `f32`, as `crop_mask` does) inside `0..len`.
pub fn pixel_span(lo: f32, hi: f32, len: usize) -> Range<usize> {
    let first = |v: f32| -> usize {
        if v.is_nan() || v <= 0.0 {
            0
        } else {
            (v.ceil() as usize).min(len)
        }
    };
    let (a, b) = (first(lo), first(hi));
    a..b.max(a)
}

pub(crate) fn shift(r: &Range<usize>, by: usize) -> Range<usize> {
    r.start + by..r.end + by
}

fn push_positive_runs(builder: &mut MaskBuilder, y: usize, x0: usize, row: &[f32]) {
    let mut x = 0;
    while x < row.len() {
        if row[x] > 0.0 {
            let start = x;
            while x < row.len() && row[x] > 0.0 {
                x += 1;
            }
            builder.push_run(y as u32, (x0 + start) as u32, (x0 + x) as u32);
        } else {
            x += 1;
        }
    }
}

fn gcd(a: i64, b: i64) -> i64 {
    let (mut a, mut b) = (a.abs(), b.abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixel_span_is_crop_mask_rule() {
        assert_eq!(pixel_span(0.0, 10.0, 20), 0..10);
        assert_eq!(pixel_span(0.5, 9.5, 20), 1..10);
        assert_eq!(pixel_span(-3.0, 30.0, 20), 0..20);
        assert_eq!(pixel_span(5.0, 5.0, 20), 5..5);
        assert_eq!(pixel_span(f32::NAN, 4.0, 20), 0..4);
    }

    #[test]
    fn python_gcd_of_zero_is_the_other() {
        assert_eq!(gcd(4, 0), 4);
        assert_eq!(gcd(4, 6), 2);
        assert_eq!(gcd(4, 3), 1);
    }

    fn raw_with_prototype(value: impl Fn(usize, usize) -> f32, side: usize) -> RawOutputs {
        RawOutputs {
            predictions: vec![0.0; 6],
            channels: 6,
            anchors: 1,
            prototypes: (0..side * side)
                .map(|i| value(i / side, i % side))
                .collect(),
            mask_dim: 1,
            proto_height: side,
            proto_width: side,
        }
    }

    #[test]
    fn positive_prototype_fills_the_box_only() {
        let raw = raw_with_prototype(|_, _| 1.0, 8);
        let a = MaskAssembler::official(&raw, 40, 20, 40, 20);
        let m = a.mask(&[1.0], &[2.5, 3.0, 10.0, 7.2]);
        assert_eq!(m.bounds(), Some([3, 3, 10, 8]));
        assert_eq!(m.area(), 7 * 5);
        // A negative coefficient gives an empty mask.
        assert!(a.mask(&[-1.0], &[0.0, 0.0, 40.0, 20.0]).is_empty());
    }

    #[test]
    fn padding_rows_are_cropped_before_upsampling() {
        // Image 2:1 in a square input: the top and bottom quarter of the prototype grid is padding.
        // Make the padding rows positive and the content negative: no mask pixel may appear.
        let raw = raw_with_prototype(|y, _| if (2..6).contains(&y) { -1.0 } else { 5.0 }, 8);
        let a = MaskAssembler::official(&raw, 40, 20, 40, 20);
        assert!(a.mask(&[1.0], &[0.0, 0.0, 40.0, 20.0]).is_empty());
        let u = MaskAssembler::ultralytics(&raw, 40, 20);
        assert!(u.mask(&[1.0], &[0.0, 0.0, 40.0, 20.0]).is_empty());
    }
}
