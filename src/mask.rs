//! Binary masks stored as horizontal runs: compact (a 2000x1500 image's 300 masks fit in a few MB)
//! and fast for what prompts ask (point lookups, areas inside boxes, unions).

use std::ops::Range;

/// A binary mask over a `width` x `height` frame, stored row by row as half-open column runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mask {
    width: u32,
    height: u32,
    /// First stored row; rows outside `top .. top + row_starts.len() - 1` are empty.
    top: u32,
    /// `runs[row_starts[i] .. row_starts[i + 1]]` are the runs of row `top + i`.
    row_starts: Vec<u32>,
    /// `(start, end)` column ranges, sorted and disjoint within a row.
    runs: Vec<(u32, u32)>,
    area: u64,
}

impl Mask {
    /// An all-zero mask.
    pub fn empty(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            top: 0,
            row_starts: vec![0],
            runs: Vec::new(),
            area: 0,
        }
    }

    /// Builds a mask from a row-major bitmap (non-zero = inside).
    pub fn from_bitmap(width: u32, height: u32, bitmap: &[u8]) -> Self {
        Self::from_region(width, height, [0, 0, width, height], bitmap)
    }

    /// Builds a `width` x `height` mask from a bitmap of the rectangle `[x1, y1, x2, y2]` (exclusive
    /// ends); everything outside the rectangle is empty.
    pub fn from_region(width: u32, height: u32, rect: [u32; 4], bitmap: &[u8]) -> Self {
        let [x1, y1, x2, y2] = rect;
        let rw = (x2 - x1) as usize;
        assert!(x2 <= width && y2 <= height);
        assert_eq!(bitmap.len(), rw * (y2 - y1) as usize);
        let mut builder = MaskBuilder::new(width, height);
        if rw == 0 {
            return builder.finish();
        }
        for (dy, row) in bitmap.chunks_exact(rw).enumerate() {
            let y = y1 + dy as u32;
            let mut x = 0;
            while x < row.len() {
                if row[x] != 0 {
                    let start = x;
                    while x < row.len() && row[x] != 0 {
                        x += 1;
                    }
                    builder.push_run(y, x1 + start as u32, x1 + x as u32);
                } else {
                    x += 1;
                }
            }
        }
        builder.finish()
    }

    /// Frame width.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Frame height.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Number of pixels inside the mask.
    pub fn area(&self) -> u64 {
        self.area
    }

    /// True when no pixel is set.
    pub fn is_empty(&self) -> bool {
        self.area == 0
    }

    /// The runs of row `y` (empty outside the stored rows).
    pub fn row(&self, y: u32) -> &[(u32, u32)] {
        let stored = self.row_starts.len() as u32 - 1;
        if y < self.top || y >= self.top + stored {
            return &[];
        }
        let i = (y - self.top) as usize;
        &self.runs[self.row_starts[i] as usize..self.row_starts[i + 1] as usize]
    }

    /// The stored rows as `(y, runs)`, top to bottom.
    pub fn rows(&self) -> impl Iterator<Item = (u32, &[(u32, u32)])> + '_ {
        self.row_starts.windows(2).enumerate().map(move |(i, w)| {
            (
                self.top + i as u32,
                &self.runs[w[0] as usize..w[1] as usize],
            )
        })
    }

    /// The rows the mask stores, `(first, end)` with `end` exclusive, or `None` when it is empty.
    /// Every set pixel lies in them (edge rows may be empty). O(1), unlike [`Mask::bounds`].
    pub fn row_span(&self) -> Option<(u32, u32)> {
        (self.area > 0).then(|| (self.top, self.top + self.row_starts.len() as u32 - 1))
    }

    /// Whether pixel `(x, y)` is inside.
    pub fn contains(&self, x: u32, y: u32) -> bool {
        let runs = self.row(y);
        let i = runs.partition_point(|&(_, end)| end <= x);
        i < runs.len() && runs[i].0 <= x
    }

    /// Pixels inside both the mask and the rectangle `xs` x `ys`.
    pub fn area_in_rect(&self, xs: Range<u32>, ys: Range<u32>) -> u64 {
        let mut total = 0u64;
        let stored = self.top..self.top + self.row_starts.len() as u32 - 1;
        for y in ys.start.max(stored.start)..ys.end.min(stored.end) {
            for &(a, b) in self.row(y) {
                let (lo, hi) = (a.max(xs.start), b.min(xs.end));
                if hi > lo {
                    total += (hi - lo) as u64;
                }
            }
        }
        total
    }

    /// Tight bounds `[x1, y1, x2, y2]` (exclusive ends) of the set pixels, `None` if empty.
    pub fn bounds(&self) -> Option<[u32; 4]> {
        let mut b: Option<[u32; 4]> = None;
        for (y, runs) in self.rows() {
            if let (Some(first), Some(last)) = (runs.first(), runs.last()) {
                b = Some(match b {
                    None => [first.0, y, last.1, y + 1],
                    Some([x1, y1, x2, _]) => [x1.min(first.0), y1, x2.max(last.1), y + 1],
                });
            }
        }
        b
    }

    /// Sets `value` in a row-major `width * height` buffer wherever the mask is set.
    pub fn paint(&self, buffer: &mut [u8], value: u8) {
        let w = self.width as usize;
        for (y, runs) in self.rows() {
            let row = &mut buffer[y as usize * w..(y as usize + 1) * w];
            for &(a, b) in runs {
                row[a as usize..b as usize].fill(value);
            }
        }
    }

    /// Like [`Mask::paint`] into a bitmap of the rectangle `[x1, y1, x2, y2]` only.
    pub fn paint_region(&self, buffer: &mut [u8], rect: [u32; 4], value: u8) {
        let [x1, y1, x2, y2] = rect;
        let rw = (x2 - x1) as usize;
        for (y, runs) in self.rows() {
            if y < y1 || y >= y2 {
                continue;
            }
            let row = &mut buffer[(y - y1) as usize * rw..(y - y1 + 1) as usize * rw];
            for &(a, b) in runs {
                let (a, b) = (a.max(x1), b.min(x2));
                if b > a {
                    row[(a - x1) as usize..(b - x1) as usize].fill(value);
                }
            }
        }
    }

    /// The mask as a row-major bitmap of 0 and 1.
    pub fn to_bitmap(&self) -> Vec<u8> {
        let mut bitmap = vec![0u8; self.width as usize * self.height as usize];
        self.paint(&mut bitmap, 1);
        bitmap
    }

    /// The mask at another resolution over the same picture (nearest neighbour, pixel centres
    /// aligned): pixel `(x, y)` of the result takes this mask's pixel
    /// `floor((x + 0.5) * width / new_width)`, likewise in y. This is how a mask made at
    /// `maskResolution: "low"` covers the image's pixels.
    pub fn resampled(&self, new_width: u32, new_height: u32) -> Mask {
        if (new_width, new_height) == (self.width, self.height) {
            return self.clone();
        }
        // First target index whose centre falls at or after source index `i`:
        // the smallest t with (2t + 1) * from >= 2 * i * to.
        let first = |i: u32, from: u32, to: u32| -> u32 {
            let need = 2 * i as u64 * to as u64;
            let from = from as u64;
            (need.saturating_sub(from)).div_ceil(2 * from) as u32
        };
        let mut builder = MaskBuilder::new(new_width, new_height);
        if self.width == 0 || self.height == 0 || new_width == 0 || new_height == 0 {
            return builder.finish();
        }
        let mut runs = Vec::new();
        for (y, row) in self.rows() {
            let (y0, y1) = (
                first(y, self.height, new_height),
                first(y + 1, self.height, new_height).min(new_height),
            );
            if y1 <= y0 {
                continue;
            }
            runs.clear();
            runs.extend(row.iter().map(|&(a, b)| {
                (
                    first(a, self.width, new_width).min(new_width),
                    first(b, self.width, new_width).min(new_width),
                )
            }));
            for ty in y0..y1 {
                for &(a, b) in &runs {
                    builder.push_run(ty, a, b);
                }
            }
        }
        builder.finish()
    }

    /// Every outer and hole boundary, as OpenCV's `findContours(RETR_CCOMP, CHAIN_APPROX_SIMPLE)`
    /// gives them ([`crate::polygon::find_contours`]).
    pub fn contours(&self) -> Vec<crate::polygon::Contour> {
        crate::polygon::find_contours(self)
    }

    /// The mask's regions as simplified polygons with their holes ([`crate::polygon::polygons`]).
    pub fn polygons(
        &self,
        options: &crate::polygon::PolygonOptions,
    ) -> crate::Result<Vec<crate::polygon::Polygon>> {
        crate::polygon::polygons(self, options)
    }

    /// Calls `f(y, start, end)` for every run of boundary pixels: pixels inside the mask with a
    /// 4-neighbour inside the frame that is outside the mask (the frame border is not a boundary).
    ///
    /// Works on runs: interior = the row's runs shrunk by one pixel at inner ends, intersected with
    /// the rows above and below; boundary = runs minus interior.
    pub fn for_each_boundary_run(&self, mut f: impl FnMut(u32, u32, u32)) {
        let (w, h) = (self.width, self.height);
        let full = [(0, w)];
        let (mut interior, mut tmp, mut boundary) = (Vec::new(), Vec::new(), Vec::new());
        for (y, runs) in self.rows() {
            if runs.is_empty() {
                continue;
            }
            interior.clear();
            interior.extend(runs.iter().filter_map(|&(a, b)| {
                let a = if a == 0 { 0 } else { a + 1 };
                let b = if b == w { w } else { b - 1 };
                (b > a).then_some((a, b))
            }));
            let above: &[(u32, u32)] = if y == 0 { &full } else { self.row(y - 1) };
            let below: &[(u32, u32)] = if y + 1 == h { &full } else { self.row(y + 1) };
            intersect_runs_into(&interior, above, &mut tmp);
            intersect_runs_into(&tmp, below, &mut interior);
            subtract_runs_into(runs, &interior, &mut boundary);
            for &(a, b) in &boundary {
                f(y, a, b);
            }
        }
    }

    /// Pixels set in both masks (same frame).
    pub fn intersection(&self, other: &Mask) -> u64 {
        let mut total = 0;
        for (y, runs) in self.rows() {
            let theirs = other.row(y);
            let mut j = 0;
            for &(a, b) in runs {
                while j < theirs.len() && theirs[j].1 <= a {
                    j += 1;
                }
                let mut k = j;
                while k < theirs.len() && theirs[k].0 < b {
                    let (lo, hi) = (a.max(theirs[k].0), b.min(theirs[k].1));
                    total += (hi - lo) as u64;
                    k += 1;
                }
            }
        }
        total
    }

    /// Intersection over union with another mask of the same frame (1 when both are empty).
    pub fn iou(&self, other: &Mask) -> f64 {
        let inter = self.intersection(other);
        let union = self.area + other.area - inter;
        if union == 0 {
            1.0
        } else {
            inter as f64 / union as f64
        }
    }

    /// COCO's uncompressed RLE counts: column-major, alternating runs starting with zeros.
    pub fn coco_rle(&self) -> Vec<u32> {
        let h = self.height as u64;
        let Some([x1, y1, x2, y2]) = self.bounds() else {
            return vec![(self.width as u64 * h) as u32];
        };
        // Transpose the bounding rectangle so columns can be walked in order.
        let (bw, bh) = ((x2 - x1) as usize, (y2 - y1) as usize);
        let mut columns = vec![false; bw * bh];
        for (y, runs) in self.rows() {
            for &(a, b) in runs {
                for x in a..b {
                    columns[(x - x1) as usize * bh + (y - y1) as usize] = true;
                }
            }
        }
        let mut counts = Vec::new();
        let mut position = 0u64; // linear column-major index where the current run started
        let mut inside = false;
        for cx in 0..bw {
            for cy in 0..bh {
                if columns[cx * bh + cy] != inside {
                    let at = (x1 as u64 + cx as u64) * h + y1 as u64 + cy as u64;
                    counts.push((at - position) as u32);
                    position = at;
                    inside = !inside;
                }
            }
            if inside {
                // The run carries on into the next column only when the rectangle spans the full
                // height (the next linear pixel is then inside it); otherwise zeros follow.
                let contiguous = y1 == 0 && y2 as u64 == h && cx + 1 < bw;
                if !contiguous {
                    let at = (x1 as u64 + cx as u64) * h + y2 as u64;
                    counts.push((at - position) as u32);
                    position = at;
                    inside = false;
                }
            }
        }
        let total = self.width as u64 * h;
        if position < total {
            counts.push((total - position) as u32);
        }
        counts
    }

    /// Decodes COCO uncompressed RLE counts into a mask.
    pub fn from_coco_rle(width: u32, height: u32, counts: &[u32]) -> Option<Self> {
        let total = width as u64 * height as u64;
        let mut bitmap = vec![0u8; total as usize];
        let mut position = 0u64;
        for (i, &count) in counts.iter().enumerate() {
            let end = position + count as u64;
            if end > total {
                return None;
            }
            if i % 2 == 1 {
                for p in position..end {
                    let (x, y) = (p / height as u64, p % height as u64);
                    bitmap[(y * width as u64 + x) as usize] = 1;
                }
            }
            position = end;
        }
        (position == total).then(|| Self::from_bitmap(width, height, &bitmap))
    }
}

/// Intersection of two sorted, disjoint run lists, into a reused buffer (cleared first).
pub fn intersect_runs_into(a: &[(u32, u32)], b: &[(u32, u32)], out: &mut Vec<(u32, u32)>) {
    out.clear();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (lo, hi) = (a[i].0.max(b[j].0), a[i].1.min(b[j].1));
        if hi > lo {
            out.push((lo, hi));
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
}

/// `a` minus `b`, for sorted, disjoint run lists.
#[cfg(test)]
fn subtract_runs(a: &[(u32, u32)], b: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut out = Vec::with_capacity(a.len() + 1);
    subtract_runs_into(a, b, &mut out);
    out
}

/// [`subtract_runs`] into a reused buffer (cleared first).
pub fn subtract_runs_into(a: &[(u32, u32)], b: &[(u32, u32)], out: &mut Vec<(u32, u32)>) {
    out.clear();
    let mut j = 0;
    for &(start, end) in a {
        let mut start = start;
        while j < b.len() && b[j].1 <= start {
            j += 1;
        }
        let mut k = j;
        while k < b.len() && b[k].0 < end {
            if b[k].0 > start {
                out.push((start, b[k].0));
            }
            start = start.max(b[k].1);
            k += 1;
        }
        if start < end {
            out.push((start, end));
        }
    }
}

/// Accumulates runs row by row (rows in increasing order, runs left to right) into a [`Mask`].
#[derive(Debug)]
pub struct MaskBuilder {
    mask: Mask,
    /// Row the last run was pushed to, `None` before the first run.
    last_row: Option<u32>,
}

impl MaskBuilder {
    /// Starts an empty mask over a `width` x `height` frame.
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            mask: Mask::empty(width, height),
            last_row: None,
        }
    }

    /// Adds the run `start .. end` to row `y`. Rows must not decrease; adjacent runs are merged.
    pub fn push_run(&mut self, y: u32, start: u32, end: u32) {
        if end <= start {
            return;
        }
        let m = &mut self.mask;
        match self.last_row {
            None => {
                m.top = y;
                m.row_starts = vec![0];
            }
            Some(last) => {
                debug_assert!(y >= last, "rows must be pushed in order");
                for _ in last..y {
                    m.row_starts.push(m.runs.len() as u32);
                }
            }
        }
        let row_begin = *m.row_starts.last().unwrap() as usize;
        let row_has_runs = m.runs.len() > row_begin;
        match m.runs.last_mut() {
            Some(prev) if row_has_runs && prev.1 == start => prev.1 = end,
            _ => m.runs.push((start, end)),
        }
        m.area += (end - start) as u64;
        self.last_row = Some(y);
    }

    /// The finished mask.
    pub fn finish(mut self) -> Mask {
        if self.last_row.is_some() {
            self.mask.row_starts.push(self.mask.runs.len() as u32);
        }
        self.mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Vec<u8>, Mask) {
        #[rustfmt::skip]
        let bitmap = vec![
            0, 0, 0, 0, 0,
            0, 1, 1, 0, 1,
            0, 0, 0, 0, 0,
            1, 1, 0, 1, 1,
        ];
        let m = Mask::from_bitmap(5, 4, &bitmap);
        (bitmap, m)
    }

    #[test]
    fn bitmap_round_trip_and_queries() {
        let (bitmap, m) = sample();
        assert_eq!(m.to_bitmap(), bitmap);
        assert_eq!(m.area(), 7);
        assert!(m.contains(1, 1) && m.contains(4, 1) && !m.contains(3, 1) && !m.contains(0, 0));
        assert!(!m.contains(2, 2) && m.contains(0, 3));
        assert_eq!(m.bounds(), Some([0, 1, 5, 4]));
        assert_eq!(m.area_in_rect(1..4, 0..4), 4);
        assert_eq!(Mask::empty(5, 4).bounds(), None);
        // The stored rows hold the bounds' rows.
        let (top, end) = m.row_span().unwrap();
        assert!(top <= 1 && end >= 4 && end <= 4, "{top}..{end}");
        assert_eq!(Mask::empty(5, 4).row_span(), None);
    }

    #[test]
    fn coco_rle_round_trip() {
        let (_, m) = sample();
        let counts = m.coco_rle();
        // Column-major: col0 = 0,0,0,1 ; col1 = 0,1,0,1 ; col2 = 0,1,0,0 ; col3 = 0,0,0,1 ; col4 = 0,1,0,1
        assert_eq!(counts, vec![3, 1, 1, 1, 1, 1, 1, 1, 5, 1, 1, 1, 1, 1]);
        assert_eq!(counts.iter().sum::<u32>(), 20);
        assert_eq!(Mask::from_coco_rle(5, 4, &counts).unwrap(), m);
        // Runs that wrap from one column's bottom to the next column's top stay one run.
        let full = Mask::from_bitmap(2, 2, &[1, 1, 1, 1]);
        assert_eq!(full.coco_rle(), vec![0, 4]);
        assert_eq!(Mask::empty(3, 2).coco_rle(), vec![6]);
    }

    #[test]
    fn regions_paint_and_rebuild() {
        let (bitmap, m) = sample();
        let rect = [1, 1, 4, 4];
        let mut region = vec![0u8; 9];
        m.paint_region(&mut region, rect, 1);
        assert_eq!(region, vec![1, 1, 0, 0, 0, 0, 1, 0, 1]);
        let rebuilt = Mask::from_region(5, 4, rect, &region);
        let expected: Vec<u8> = bitmap
            .iter()
            .enumerate()
            .map(|(i, &v)| v * ((1..4).contains(&(i % 5)) && i / 5 >= 1) as u8)
            .collect();
        assert_eq!(rebuilt.to_bitmap(), expected);
    }

    #[test]
    fn run_set_operations() {
        let a = [(0, 4), (6, 9), (12, 20)];
        let b = [(3, 7), (9, 10), (15, 16), (25, 30)];
        assert_eq!(
            subtract_runs(&a, &b),
            vec![(0, 3), (7, 9), (12, 15), (16, 20)]
        );
        assert_eq!(subtract_runs(&a, &[]), a.to_vec());
        assert!(subtract_runs(&b, &[(0, 40)]).is_empty());
    }

    #[test]
    fn intersection_and_iou() {
        let (_, a) = sample();
        let b = Mask::from_bitmap(
            5,
            4,
            &[0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        );
        assert_eq!(a.intersection(&b), 3);
        assert!((a.iou(&b) - 3.0 / 9.0).abs() < 1e-12);
    }

    #[test]
    fn resampling_takes_the_source_pixel_under_each_centre() {
        let (bitmap, m) = sample();
        for (w, h) in [(5, 4), (10, 8), (16, 13), (3, 2), (7, 9), (1, 1), (0, 3)] {
            let r = m.resampled(w, h);
            assert_eq!((r.width(), r.height()), (w, h));
            let expected: Vec<u8> = (0..h)
                .flat_map(|y| (0..w).map(move |x| (x, y)))
                .map(|(x, y)| {
                    let sx = ((2 * x + 1) * 5 / (2 * w)) as usize;
                    let sy = ((2 * y + 1) * 4 / (2 * h)) as usize;
                    bitmap[sy * 5 + sx]
                })
                .collect();
            assert_eq!(r.to_bitmap(), expected, "{w}x{h}");
            assert_eq!(r.area(), expected.iter().map(|&v| v as u64).sum::<u64>());
        }
        assert_eq!(m.resampled(5, 4), m);
    }
}
