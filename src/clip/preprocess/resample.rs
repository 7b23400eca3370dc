//! Bicubic resize of 8-bit RGB images, bit-exact with Pillow's `Image.resize(size, Image.BICUBIC)`.
//!
//! CLIP's reference preprocessing resizes with Pillow, whose 8-bit path (`libImaging/Resample.c`) is
//! a separable convolution in fixed point:
//!
//! - per output position along an axis, `scale = in / out`, `filterscale = max(scale, 1)` (the
//!   kernel is stretched when reducing: antialiasing), `support = 2 * filterscale`, source window
//!   `[trunc(center - support + 0.5), trunc(center + support + 0.5))` clamped to the image, with
//!   `center = (i + 0.5) * scale`;
//! - weights `bicubic((j - center + 0.5) / filterscale)` with `a = -0.5`, divided by their sum, all
//!   in `f64` in Pillow's order of operations, then rounded half away from zero to 22 fractional bits;
//! - two passes, each into an 8-bit image, accumulating in `i32` from `1 << 21` and clipping
//!   `acc >> 22` to 0..=255; a pass whose size is unchanged is skipped. The order matters (the
//!   intermediate image is clipped): Pillow 13 runs the horizontal pass first unless the height
//!   shrinks by more than twice as many pixels as the width (see [`horizontal_first`]); Pillow 12
//!   and older always ran it first. We follow Pillow 13.
//!
//! Output pixels are independent once the weights are known, so [`resize_bicubic_window`] computes
//! only a rectangle of the resized image (what survives CLIP's centre crop) with the same values.

use std::ops::Range;

/// Fractional bits of Pillow's 8-bit weights (`PRECISION_BITS = 32 - 8 - 2`).
const PRECISION_BITS: u32 = 22;
/// Rounding offset every accumulator starts from.
const HALF: i32 = 1 << (PRECISION_BITS - 1);
/// Support of the bicubic kernel at scale 1.
const BICUBIC_SUPPORT: f64 = 2.0;

/// Pillow's bicubic kernel (Keys, `a = -0.5`), written in the same order of operations.
fn bicubic(x: f64) -> f64 {
    const A: f64 = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        (((x - 5.0) * x + 8.0) * x - 4.0) * A
    } else {
        0.0
    }
}

/// Pillow's `clip8`: the accumulator's integer part, saturated to a byte.
#[inline]
fn clip8(acc: i32) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Fixed-point filter taps of a range of output positions along one axis.
struct Taps {
    /// First source index of each output position.
    starts: Vec<usize>,
    /// Number of source indices of each output position.
    counts: Vec<usize>,
    /// `weights[i * stride .. i * stride + counts[i]]` are output position `i`'s weights.
    weights: Vec<i32>,
    stride: usize,
}

impl Taps {
    /// Taps of output positions `outputs` when resizing `in_size` samples to `out_size`
    /// (`precompute_coeffs` followed by `normalize_coeffs_8bpc`). Needs `in_size, out_size >= 1`.
    fn new(in_size: usize, out_size: usize, outputs: Range<usize>) -> Self {
        // Pillow's box is a float rectangle: `(in1 - in0)` is a float, exact for our sizes.
        let scale = (in_size as f32) as f64 / out_size as f64;
        let filterscale = scale.max(1.0);
        let support = BICUBIC_SUPPORT * filterscale;
        let stride = support.ceil() as usize * 2 + 1;
        let inv_filterscale = 1.0 / filterscale;
        let n = outputs.len();
        let mut taps = Taps {
            starts: Vec::with_capacity(n),
            counts: Vec::with_capacity(n),
            weights: vec![0; n * stride],
            stride,
        };
        let mut k = vec![0.0f64; stride];
        for (i, out) in outputs.enumerate() {
            let center = (out as f64 + 0.5) * scale;
            // C's `(int)` truncates toward zero, like `as`.
            let xmin = ((center - support + 0.5) as i64).max(0);
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64);
            let count = (xmax - xmin).clamp(0, stride as i64) as usize;
            let mut sum = 0.0;
            for (x, w) in k[..count].iter_mut().enumerate() {
                *w = bicubic(((x as i64 + xmin) as f64 - center + 0.5) * inv_filterscale);
                sum += *w;
            }
            let fixed = &mut taps.weights[i * stride..i * stride + count];
            for (f, &w) in fixed.iter_mut().zip(&k[..count]) {
                let w = if sum != 0.0 { w / sum } else { w };
                let scaled = w * (1 << PRECISION_BITS) as f64;
                *f = if w < 0.0 {
                    (-0.5 + scaled) as i32
                } else {
                    (0.5 + scaled) as i32
                };
            }
            taps.starts.push(xmin as usize);
            taps.counts.push(count);
        }
        taps
    }

    /// Source index range that output position `i` reads.
    fn span(&self, i: usize) -> Range<usize> {
        self.starts[i]..self.starts[i] + self.counts[i]
    }

    /// The source indices all output positions read together.
    fn source_range(&self) -> Range<usize> {
        let last = self.counts.len() - 1;
        self.starts[0]..self.span(last).end
    }

    /// Weights of output position `i`.
    fn weights(&self, i: usize) -> &[i32] {
        &self.weights[i * self.stride..i * self.stride + self.counts[i]]
    }
}

/// Resizes an interleaved RGB (3 bytes per pixel, row-major) `w` x `h` image to `dst_w` x `dst_h`
/// exactly as Pillow's `Image.resize((dst_w, dst_h), Image.BICUBIC)` does for an 8-bit `RGB` image
/// (no `box`, no `reducing_gap`).
///
/// Returns an empty vector when a side is 0 or `src.len() != w * h * 3`.
pub fn resize_bicubic(src: &[u8], w: u32, h: u32, dst_w: u32, dst_h: u32) -> Vec<u8> {
    let (w, h, dst_w, dst_h) = (w as usize, h as usize, dst_w as usize, dst_h as usize);
    if w == 0
        || h == 0
        || dst_w == 0
        || dst_h == 0
        || w.checked_mul(h).and_then(|p| p.checked_mul(3)) != Some(src.len())
    {
        return Vec::new();
    }
    resize_bicubic_window(src, w, h, [dst_w, dst_h], 0..dst_w, 0..dst_h)
}

/// The columns `xs` x rows `ys` of [`resize_bicubic`]`(src, w, h, dst[0], dst[1])`, as an
/// interleaved RGB image of `xs.len()` x `ys.len()` pixels, computing only what that rectangle needs.
///
/// The caller guarantees `w, h >= 1`, `src.len() == w * h * 3` and `xs`, `ys` within `dst`.
pub(crate) fn resize_bicubic_window(
    src: &[u8],
    w: usize,
    h: usize,
    dst: [usize; 2],
    xs: Range<usize>,
    ys: Range<usize>,
) -> Vec<u8> {
    let [dst_w, dst_h] = dst;
    debug_assert_eq!(src.len(), w * h * 3);
    debug_assert!(xs.end <= dst_w && ys.end <= dst_h);
    if xs.is_empty() || ys.is_empty() {
        return Vec::new();
    }
    // Pillow skips the pass of an axis whose size does not change.
    let horizontal = (dst_w != w).then(|| Taps::new(w, dst_w, xs.clone()));
    let vertical = (dst_h != h).then(|| Taps::new(h, dst_h, ys.clone()));
    if horizontal_first(w, h, dst_w, dst_h) {
        // The source rows the vertical pass reads, resampled horizontally.
        let rows = vertical.as_ref().map_or(ys.clone(), Taps::source_range);
        let temp = match &horizontal {
            Some(taps) => horizontal_pass(src, w, rows.clone(), 0, taps),
            None => copy_window(src, w, xs.clone(), rows.clone()),
        };
        match &vertical {
            Some(taps) => vertical_pass(&temp, xs.len(), 0..xs.len(), rows.start, taps),
            None => temp,
        }
    } else {
        // The source columns the horizontal pass reads, resampled vertically.
        let cols = horizontal.as_ref().map_or(xs.clone(), Taps::source_range);
        let temp = match &vertical {
            Some(taps) => vertical_pass(src, w, cols.clone(), 0, taps),
            None => copy_window(src, w, cols.clone(), ys.clone()),
        };
        match &horizontal {
            Some(taps) => horizontal_pass(&temp, cols.len(), 0..ys.len(), cols.start, taps),
            None => temp,
        }
    }
}

/// Pillow 13's pass order: vertical first only when the height shrinks by more than twice what
/// the width shrinks (`libImaging/Resample.c`, `ImagingResampleInner`). Pillow 12 and older always
/// go horizontal first, which gives different bytes where the passes clip.
fn horizontal_first(w: usize, h: usize, dst_w: usize, dst_h: usize) -> bool {
    let shrink_h = h as i64 - dst_h as i64;
    let shrink_w = w as i64 - dst_w as i64;
    !(shrink_h > 0 && shrink_h > shrink_w * 2)
}

/// Rows `rows`, columns `cols` of an interleaved RGB image `w` pixels wide.
fn copy_window(src: &[u8], w: usize, cols: Range<usize>, rows: Range<usize>) -> Vec<u8> {
    let mut out = Vec::with_capacity(cols.len() * rows.len() * 3);
    for y in rows {
        out.extend_from_slice(&src[(y * w + cols.start) * 3..(y * w + cols.end) * 3]);
    }
    out
}

/// Horizontal pass over rows `rows` of `src` (`src_w` pixels wide, its first column being column
/// `x0` of the taps' source): `rows.len()` rows of one pixel per tap.
fn horizontal_pass(
    src: &[u8],
    src_w: usize,
    rows: Range<usize>,
    x0: usize,
    taps: &Taps,
) -> Vec<u8> {
    let row_bytes = taps.counts.len() * 3;
    let mut out = vec![0u8; rows.len() * row_bytes];
    for (line, y) in out.chunks_exact_mut(row_bytes).zip(rows) {
        let source = &src[y * src_w * 3..(y + 1) * src_w * 3];
        for (j, px) in line.chunks_exact_mut(3).enumerate() {
            let span = taps.span(j);
            let pixels = &source[(span.start - x0) * 3..(span.end - x0) * 3];
            let (mut r, mut g, mut b) = (HALF, HALF, HALF);
            for (p, &k) in pixels.chunks_exact(3).zip(taps.weights(j)) {
                r += p[0] as i32 * k;
                g += p[1] as i32 * k;
                b += p[2] as i32 * k;
            }
            px.copy_from_slice(&[clip8(r), clip8(g), clip8(b)]);
        }
    }
    out
}

/// Vertical pass over columns `cols` of `src` (`src_w` pixels wide, its first row being row `y0`
/// of the taps' source): one row of `cols.len()` pixels per tap.
fn vertical_pass(src: &[u8], src_w: usize, cols: Range<usize>, y0: usize, taps: &Taps) -> Vec<u8> {
    let row_bytes = cols.len() * 3;
    let mut out = Vec::with_capacity(taps.counts.len() * row_bytes);
    let mut acc = vec![0i32; row_bytes];
    for i in 0..taps.counts.len() {
        acc.fill(HALF);
        for (y, &k) in taps.span(i).zip(taps.weights(i)) {
            let start = ((y - y0) * src_w + cols.start) * 3;
            for (a, &p) in acc.iter_mut().zip(&src[start..start + row_bytes]) {
                *a += p as i32 * k;
            }
        }
        out.extend(acc.iter().map(|&a| clip8(a)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(w: usize, h: usize) -> Vec<u8> {
        (0..w * h * 3).map(|i| (i * 37 % 251) as u8).collect()
    }

    #[test]
    fn weights_sum_to_one_in_fixed_point() {
        for (src, dst) in [(1, 224), (7, 3), (2000, 224), (224, 225), (5, 5)] {
            let taps = Taps::new(src, dst, 0..dst);
            for i in 0..dst {
                let sum: i32 = taps.weights(i).iter().sum();
                assert!(
                    (sum - (1 << PRECISION_BITS)).abs() <= 8,
                    "{src}->{dst} @{i}: {sum}"
                );
                assert!(taps.span(i).end <= src);
            }
        }
    }

    #[test]
    fn window_equals_crop_of_full_resize() {
        for (w, h, dw, dh) in [
            (9, 7, 20, 3),
            (40, 31, 13, 17),
            (1, 5, 3, 30),
            (6, 6, 6, 11),
            (9, 40, 12, 5),
            (30, 60, 20, 9),
            (7, 50, 7, 6),
        ] {
            let src = pattern(w, h);
            let full = resize_bicubic(&src, w as u32, h as u32, dw as u32, dh as u32);
            assert_eq!(full.len(), dw * dh * 3);
            let (xs, ys) = (1..dw - 1, dh / 3..dh);
            let window = resize_bicubic_window(&src, w, h, [dw, dh], xs.clone(), ys.clone());
            let expected: Vec<u8> = ys
                .flat_map(|y| full[(y * dw + xs.start) * 3..(y * dw + xs.end) * 3].to_vec())
                .collect();
            assert_eq!(window, expected, "{w}x{h} -> {dw}x{dh}");
        }
    }

    #[test]
    fn pass_order_follows_pillow_13() {
        assert!(horizontal_first(28, 29, 28, 29));
        assert!(horizontal_first(15, 14, 7, 2)); // 12 > 16 is false
        assert!(!horizontal_first(14, 35, 2, 5)); // 30 > 24
        assert!(!horizontal_first(28, 29, 31, 24)); // 5 > -6
        assert!(horizontal_first(3, 8, 27, 35)); // the height grows
        assert!(horizontal_first(2000, 1500, 298, 224));
    }

    #[test]
    fn same_size_is_a_copy_and_bad_input_is_empty() {
        let src = pattern(5, 4);
        assert_eq!(resize_bicubic(&src, 5, 4, 5, 4), src);
        assert!(resize_bicubic(&src, 5, 3, 2, 2).is_empty());
        assert!(resize_bicubic(&src, 5, 4, 0, 2).is_empty());
        assert!(resize_bicubic(&[], 0, 0, 2, 2).is_empty());
    }

    #[test]
    fn constant_image_stays_constant() {
        let src = vec![200u8; 13 * 9 * 3];
        let out = resize_bicubic(&src, 13, 9, 31, 4);
        assert!(out.iter().all(|&v| v == 200));
    }
}
