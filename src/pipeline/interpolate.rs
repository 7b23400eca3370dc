//! PyTorch's bilinear interpolation (`F.interpolate(mode="bilinear", align_corners=False)`),
//! evaluated only on the rectangle a caller needs.

use std::ops::Range;

/// Per output coordinate: the two source indices and their weights, as PyTorch's CPU kernel
/// computes them in `f32`.
#[derive(Debug, Clone)]
pub struct Taps {
    /// Lower source index.
    pub first: Vec<usize>,
    /// Upper source index (equal to `first` on the last source pixel).
    pub second: Vec<usize>,
    /// Weight of `first`.
    pub weight_first: Vec<f32>,
    /// Weight of `second`.
    pub weight_second: Vec<f32>,
}

impl Taps {
    /// Taps for resizing `src` samples to `dst`. `scale_factor`, when given, is the factor passed
    /// to `F.interpolate(scale_factor=...)`, which PyTorch uses instead of `src / dst`.
    pub fn new(src: usize, dst: usize, scale_factor: Option<f64>) -> Self {
        let scale: f32 = match scale_factor {
            Some(f) if f > 0.0 => (1.0 / f) as f32,
            _ => src as f32 / dst as f32,
        };
        let mut taps = Taps {
            first: Vec::with_capacity(dst),
            second: Vec::with_capacity(dst),
            weight_first: Vec::with_capacity(dst),
            weight_second: Vec::with_capacity(dst),
        };
        for d in 0..dst {
            let real = (scale * (d as f32 + 0.5) - 0.5).max(0.0);
            let index = (real.floor() as usize).min(src - 1);
            let lambda = (real - index as f32).clamp(0.0, 1.0);
            taps.first.push(index);
            taps.second
                .push(if index < src - 1 { index + 1 } else { index });
            taps.weight_first.push(1.0 - lambda);
            taps.weight_second.push(lambda);
        }
        taps
    }

    /// Source indices that the outputs in `range` read (empty range -> empty).
    pub fn source_span(&self, range: &Range<usize>) -> Range<usize> {
        if range.is_empty() {
            return 0..0;
        }
        self.first[range.start]..self.second[range.end - 1] + 1
    }
}

/// A dense rectangle of a larger map: `data[(y - origin_y) * width + (x - origin_x)]` is the value
/// at absolute coordinates `(x, y)`.
#[derive(Debug, Clone, Copy)]
pub struct Grid<'a> {
    /// Row-major values of the rectangle.
    pub data: &'a [f32],
    /// Width of the rectangle.
    pub width: usize,
    /// Absolute column of `data[0]`.
    pub origin_x: usize,
    /// Absolute row of `data[0]`.
    pub origin_y: usize,
}

/// Evaluates the resize of `source` on the output rectangle `xs` x `ys`, calling `emit(y, row)`
/// for each output row with `xs.len()` values.
///
/// `source` must cover `taps_y.source_span(&ys)` x `taps_x.source_span(&xs)`. The arithmetic order
/// is PyTorch's: `(v00*wx0 + v01*wx1)*wy0 + (v10*wx0 + v11*wx1)*wy1`.
pub fn resize_rect(
    source: Grid,
    taps_x: &Taps,
    taps_y: &Taps,
    xs: Range<usize>,
    ys: Range<usize>,
    mut emit: impl FnMut(usize, &[f32]),
) {
    if xs.is_empty() || ys.is_empty() {
        return;
    }
    let src_rows = taps_y.source_span(&ys);
    let width = xs.len();
    let first: Vec<usize> = xs
        .clone()
        .map(|x| taps_x.first[x] - source.origin_x)
        .collect();
    let second: Vec<usize> = xs
        .clone()
        .map(|x| taps_x.second[x] - source.origin_x)
        .collect();
    let (wx0, wx1) = (
        &taps_x.weight_first[xs.clone()],
        &taps_x.weight_second[xs.clone()],
    );
    // Horizontal pass on each source row once.
    let mut horizontal = vec![0f32; src_rows.len() * width];
    for (r, sy) in src_rows.clone().enumerate() {
        let start = (sy - source.origin_y) * source.width;
        let src = &source.data[start..start + source.width];
        let out = &mut horizontal[r * width..(r + 1) * width];
        for i in 0..width {
            out[i] = src[first[i]] * wx0[i] + src[second[i]] * wx1[i];
        }
    }
    let mut row = vec![0f32; width];
    for y in ys {
        let a = (taps_y.first[y] - src_rows.start) * width;
        let b = (taps_y.second[y] - src_rows.start) * width;
        let (wa, wb) = (taps_y.weight_first[y], taps_y.weight_second[y]);
        let (ha, hb) = (&horizontal[a..a + width], &horizontal[b..b + width]);
        for i in 0..width {
            row[i] = ha[i] * wa + hb[i] * wb;
        }
        emit(y, &row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taps_match_pytorch_half_pixel_centres() {
        // 4 -> 8: out 0 reads src 0 with weight 1 (clamped), out 1 at 0.25.
        let t = Taps::new(4, 8, None);
        assert_eq!((t.first[0], t.second[0], t.weight_second[0]), (0, 1, 0.0));
        assert_eq!((t.first[1], t.weight_second[1]), (0, 0.25));
        assert_eq!((t.first[7], t.second[7]), (3, 3));
        // Downscale 8 -> 4: out 1 at 2.5.
        let t = Taps::new(8, 4, None);
        assert_eq!((t.first[1], t.weight_second[1]), (2, 0.5));
    }

    #[test]
    fn rect_matches_full_resize() {
        let src: Vec<f32> = (0..5 * 6).map(|i| ((i * 7) % 11) as f32 - 5.0).collect();
        let get = Grid {
            data: &src,
            width: 6,
            origin_x: 0,
            origin_y: 0,
        };
        let (tx, ty) = (Taps::new(6, 13, None), Taps::new(5, 9, None));
        let mut full = vec![0f32; 9 * 13];
        resize_rect(get, &tx, &ty, 0..13, 0..9, |y, row| {
            full[y * 13..(y + 1) * 13].copy_from_slice(row)
        });
        resize_rect(get, &tx, &ty, 3..8, 2..6, |y, row| {
            assert_eq!(row, &full[y * 13 + 3..y * 13 + 8]);
        });
    }
}
