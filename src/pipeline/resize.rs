//! Bilinear resize of 8-bit images, bit-exact with OpenCV's `cv2.resize(..., INTER_LINEAR)`.
//!
//! Ultralytics letterboxes with OpenCV, and OpenCV's 8-bit bilinear path is fixed point: 11-bit
//! weights, a horizontal pass into `i32`, then a vertical pass whose rounding is that of its SIMD
//! kernel. Matching it exactly makes our network input identical to the reference's, so parity
//! tests compare the engines and not two resamplers. The y weights, unlike the x weights, are not
//! pinned at the borders (OpenCV clamps the row index only); that quirk is reproduced.

/// Fixed-point scale of OpenCV's resize weights (`INTER_RESIZE_COEF_SCALE`).
const WEIGHT_ONE: f32 = 2048.0;

/// For each output coordinate: the two source indices and their fixed-point weights.
struct Taps {
    first: Vec<usize>,
    second: Vec<usize>,
    weight_first: Vec<i32>,
    weight_second: Vec<i32>,
}

impl Taps {
    /// `pin_borders`: OpenCV's x axis moves samples left of 0 / right of the last pixel onto the edge
    /// pixel with weight 1; its y axis keeps the fractional weight and clamps the row index.
    fn new(dst: usize, src: usize, pin_borders: bool) -> Self {
        let scale = 1.0 / (dst as f64 / src as f64);
        let mut taps = Taps {
            first: Vec::with_capacity(dst),
            second: Vec::with_capacity(dst),
            weight_first: Vec::with_capacity(dst),
            weight_second: Vec::with_capacity(dst),
        };
        let last = src as i64 - 1;
        for d in 0..dst {
            let position = ((d as f64 + 0.5) * scale - 0.5) as f32;
            let mut index = position.floor() as i64;
            let mut fraction = position - index as f32;
            if pin_borders {
                if index < 0 {
                    index = 0;
                    fraction = 0.0;
                }
                if index >= last {
                    index = last;
                    fraction = 0.0;
                }
            }
            taps.first.push(index.clamp(0, last) as usize);
            taps.second.push((index + 1).clamp(0, last) as usize);
            taps.weight_first
                .push(((1.0 - fraction) * WEIGHT_ONE).round_ties_even() as i32);
            taps.weight_second
                .push((fraction * WEIGHT_ONE).round_ties_even() as i32);
        }
        taps
    }
}

/// Resizes the first three channels of an interleaved 8-bit image (`channels` = 3 or 4) and calls
/// `write_row(y, rgb_row)` for every output row, `rgb_row` holding `dst_w * 3` bytes.
pub fn resize_rgb_rows(
    src: &[u8],
    src_w: usize,
    src_h: usize,
    channels: usize,
    dst_w: usize,
    dst_h: usize,
    mut write_row: impl FnMut(usize, &[u8]),
) {
    debug_assert_eq!(src.len(), src_w * src_h * channels);
    let x = Taps::new(dst_w, src_w, true);
    let y = Taps::new(dst_h, src_h, false);
    // Horizontally resampled source rows, cached by source row index (two live at a time).
    let mut cache: [(usize, Vec<i32>); 2] = [
        (usize::MAX, vec![0; dst_w * 3]),
        (usize::MAX, vec![0; dst_w * 3]),
    ];
    let mut out = vec![0u8; dst_w * 3];
    let horizontal = |row: usize, buf: &mut Vec<i32>| {
        let s = &src[row * src_w * channels..(row + 1) * src_w * channels];
        for dx in 0..dst_w {
            let a = x.first[dx] * channels;
            let b = x.second[dx] * channels;
            let (wa, wb) = (x.weight_first[dx], x.weight_second[dx]);
            for c in 0..3 {
                buf[dx * 3 + c] = s[a + c] as i32 * wa + s[b + c] as i32 * wb;
            }
        }
    };
    for dy in 0..dst_h {
        let (r0, r1) = (y.first[dy], y.second[dy]);
        for (slot, row) in [(0usize, r0), (1usize, r1)] {
            if cache[slot].0 != row {
                // Reuse the other slot's work when the rows slide by one.
                let other = 1 - slot;
                if cache[other].0 == row {
                    let v = cache[other].1.clone();
                    cache[slot] = (row, v);
                } else {
                    horizontal(row, &mut cache[slot].1);
                    cache[slot].0 = row;
                }
            }
        }
        let (b0, b1) = (y.weight_first[dy], y.weight_second[dy]);
        let (s0, s1) = (&cache[0].1, &cache[1].1);
        for i in 0..dst_w * 3 {
            // OpenCV's vertical SIMD kernel: 16-bit high multiplies, then a rounding shift by 2.
            let v = (((s0[i] >> 4) * b0) >> 16) + (((s1[i] >> 4) * b1) >> 16);
            out[i] = ((v + 2) >> 2).clamp(0, 255) as u8;
        }
        write_row(dy, &out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resize(src: &[u8], w: usize, h: usize, c: usize, dw: usize, dh: usize) -> Vec<u8> {
        let mut out = vec![0; dw * dh * 3];
        resize_rgb_rows(src, w, h, c, dw, dh, |y, row| {
            out[y * dw * 3..(y + 1) * dw * 3].copy_from_slice(row)
        });
        out
    }

    #[test]
    fn identity_size_is_a_copy() {
        let src: Vec<u8> = (0..5 * 4 * 3).map(|i| (i * 37 % 256) as u8).collect();
        assert_eq!(resize(&src, 5, 4, 3, 5, 4), src);
    }

    #[test]
    fn constant_image_stays_constant() {
        let src = vec![200u8; 7 * 3 * 4];
        assert!(resize(&src, 7, 3, 4, 19, 11).iter().all(|&v| v == 200));
    }

    #[test]
    fn drops_alpha() {
        let src = [10, 20, 30, 255, 40, 50, 60, 0];
        assert_eq!(resize(&src, 2, 1, 4, 2, 1), vec![10, 20, 30, 40, 50, 60]);
    }
}
