//! Mask boundaries as closed rings: Suzuki and Abe's border following (1985), reproducing OpenCV's
//! `cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)` point for point and in the
//! same order, on the run-length mask directly.
//!
//! The raster scan of the algorithm only ever starts a border at a run's first pixel (an outer
//! border, when that pixel is still unvisited) or at a run's last pixel (a hole border, unless the
//! pixel was marked as lying left of an already traced border), so the scan visits run ends only.
//! The border following reads the mask and writes its labels in bit planes over the mask's
//! bounding box: its work is proportional to the boundary's length.

use crate::mask::Mask;

/// One closed boundary of a mask, as OpenCV's `findContours` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contour {
    /// The boundary pixels `[x, y]` where the tracing turns (`CHAIN_APPROX_SIMPLE`): the ring runs
    /// through pixel centres, outer boundaries counter-clockwise on screen (down the left side
    /// first), holes clockwise. One point for a lone pixel, two for a straight one-pixel line.
    pub points: Vec<[u32; 2]>,
    /// True for the boundary of a hole.
    pub is_hole: bool,
    /// For a hole, the index (in the same list) of the outer boundary of the region around it.
    pub parent: Option<usize>,
}

/// Every outer boundary and every hole boundary of the mask (8-connected regions, 4-connected
/// holes; pixels outside the frame count as outside the mask).
///
/// The order is OpenCV's for `RETR_CCOMP`: outer boundaries from the last found in a top-to-bottom,
/// left-to-right scan to the first, each followed by its holes, also last found first.
pub fn find_contours(mask: &Mask) -> Vec<Contour> {
    if mask.is_empty() {
        return Vec::new();
    }
    let mut grid = RunGrid::new(mask);
    let components = grid.components();
    let mut found: Vec<Contour> = Vec::new();
    let mut outer_of_component = vec![usize::MAX; components.len()];
    let mut run = 0;
    for r in 0..grid.rows.len() {
        let y = grid.top + r as i64;
        for i in 0..grid.rows[r].len() {
            let (a, b) = grid.rows[r][i];
            if grid.unvisited(grid.index((a as i64, y))) {
                outer_of_component[components[run]] = found.len();
                let points = grid.follow((a as i64, y), false);
                found.push(Contour {
                    points,
                    is_hole: false,
                    parent: None,
                });
            }
            // OpenCV's scan stops at the last column, so a run ending at the right edge starts
            // nothing there (the pixel is always on an outer border traced before, in any case).
            if (b as i64) < grid.width && !bit(&grid.negative, grid.index((b as i64 - 1, y))) {
                let points = grid.follow((b as i64 - 1, y), true);
                found.push(Contour {
                    points,
                    is_hole: true,
                    parent: Some(outer_of_component[components[run]]),
                });
            }
            run += 1;
        }
    }
    opencv_order(found)
}

/// OpenCV inserts each contour as the first child of its parent and lists the tree depth first:
/// outer boundaries in reverse order of discovery, each followed by its holes, also reversed.
fn opencv_order(found: Vec<Contour>) -> Vec<Contour> {
    let mut holes: Vec<Vec<usize>> = vec![Vec::new(); found.len()];
    for (i, c) in found.iter().enumerate() {
        if let Some(p) = c.parent {
            holes[p].push(i);
        }
    }
    let mut order = Vec::with_capacity(found.len());
    for i in (0..found.len()).rev().filter(|&i| !found[i].is_hole) {
        order.push(i);
        order.extend(holes[i].iter().rev());
    }
    let mut position = vec![0; found.len()];
    for (new, &old) in order.iter().enumerate() {
        position[old] = new;
    }
    let mut slots: Vec<Option<Contour>> = found.into_iter().map(Some).collect();
    order
        .iter()
        .map(|&old| {
            let mut c = slots[old].take().expect("each contour is placed once");
            c.parent = c.parent.map(|p| position[p]);
            c
        })
        .collect()
}

/// Direction codes as `(dx, dy)` with y down, in OpenCV's order: 0 right, then counter-clockwise
/// on screen (1 up-right, 2 up, ... 7 down-right).
const STEPS: [(i64, i64); 8] = [
    (1, 0),
    (1, -1),
    (0, -1),
    (-1, -1),
    (-1, 0),
    (-1, 1),
    (0, 1),
    (1, 1),
];

/// Reused bit-plane storage: a mask's planes are zeroed in place rather than allocated, so
/// tracing many masks does not fault in fresh pages for each.
mod scratch {
    use std::cell::RefCell;

    thread_local! {
        static FREE: RefCell<Vec<Vec<u64>>> = const { RefCell::new(Vec::new()) };
    }

    /// `n` zeroed words.
    pub fn take(n: usize) -> Vec<u64> {
        let mut words = FREE
            .with(|free| free.borrow_mut().pop())
            .unwrap_or_default();
        words.clear();
        words.resize(n, 0);
        words
    }

    /// Gives `words` back for the next mask (at most three buffers are kept).
    pub fn give(words: Vec<u64>) {
        FREE.with(|free| {
            let mut free = free.borrow_mut();
            if free.len() < 3 {
                free.push(words);
            }
        });
    }
}

/// The mask over its bounding box (plus an empty one-pixel border) as three bit planes: which
/// pixels are inside, and the labels the border following writes (OpenCV's image labels:
/// unvisited, positive, negative). A pixel is a bit index `y * stride + x` in box coordinates, so
/// a step to a neighbour adds a constant, as OpenCV's pointer steps do.
struct RunGrid<'a> {
    width: i64,
    /// Frame coordinates of the box's top-left pixel, less the border.
    origin: (i64, i64),
    /// Bits per row of the planes.
    stride: usize,
    /// The runs of each stored row of the mask, from its first row.
    rows: Vec<&'a [(u32, u32)]>,
    top: i64,
    inside: Vec<u64>,
    /// On a traced border (a positive label).
    positive: Vec<u64>,
    /// On a traced border with outside pixels of that border to its right (a negative label):
    /// never starts a hole border.
    negative: Vec<u64>,
    /// The points of the border being followed: one buffer for every border of the mask, each
    /// copied out at its exact length (an allocation per border instead of one per doubling).
    points: Vec<[u32; 2]>,
}

#[inline]
fn bit(plane: &[u64], i: usize) -> bool {
    plane[i >> 6] >> (i & 63) & 1 != 0
}

#[inline]
fn set_bit(plane: &mut [u64], i: usize) {
    plane[i >> 6] |= 1 << (i & 63);
}

/// Sets bits `a..b` (`a < b`).
fn fill_bits(plane: &mut [u64], a: usize, b: usize) {
    let (first, last) = (a >> 6, (b - 1) >> 6);
    let head = !0u64 << (a & 63);
    let tail = !0u64 >> (63 - ((b - 1) & 63));
    if first == last {
        plane[first] |= head & tail;
    } else {
        plane[first] |= head;
        plane[first + 1..last].fill(!0);
        plane[last] |= tail;
    }
}

impl Drop for RunGrid<'_> {
    fn drop(&mut self) {
        for plane in [&mut self.inside, &mut self.positive, &mut self.negative] {
            scratch::give(std::mem::take(plane));
        }
    }
}

impl<'a> RunGrid<'a> {
    fn new(mask: &'a Mask) -> Self {
        let [x1, y1, x2, y2] = mask.bounds().unwrap_or([0, 0, 0, 0]);
        let stride = ((x2 - x1) as usize + 2).div_ceil(64) * 64;
        let words = stride / 64 * ((y2 - y1) as usize + 2);
        let mut inside = scratch::take(words);
        let mut rows = Vec::new();
        let mut top = 0;
        for (i, (y, row)) in mask.rows().enumerate() {
            if i == 0 {
                top = y as i64;
            }
            rows.push(row);
            let base = ((y - y1) as usize + 1) * stride + 1;
            for &(a, b) in row {
                fill_bits(
                    &mut inside,
                    base + (a - x1) as usize,
                    base + (b - x1) as usize,
                );
            }
        }
        Self {
            width: mask.width() as i64,
            origin: (x1 as i64 - 1, y1 as i64 - 1),
            stride,
            rows,
            top,
            inside,
            positive: scratch::take(words),
            negative: scratch::take(words),
            points: Vec::new(),
        }
    }

    /// The bit index of frame pixel `(x, y)`; every pixel next to a mask pixel is in the box.
    #[inline]
    fn index(&self, (x, y): (i64, i64)) -> usize {
        (y - self.origin.1) as usize * self.stride + (x - self.origin.0) as usize
    }

    /// Not yet on any traced border (OpenCV's label 1).
    fn unvisited(&self, i: usize) -> bool {
        !bit(&self.positive, i) && !bit(&self.negative, i)
    }

    /// Writes OpenCV's label on pixel `i`: `negative` always, a positive label only on an
    /// unvisited pixel.
    #[inline]
    fn mark(&mut self, i: usize, negative: bool) {
        if negative {
            set_bit(&mut self.negative, i);
        } else if !bit(&self.negative, i) {
            set_bit(&mut self.positive, i);
        }
    }

    /// Follows one border from its start pixel (OpenCV's `icvFetchContour`), marking the pixels it
    /// passes, and returns the pixels where the direction changes.
    fn follow(&mut self, start: (i64, i64), is_hole: bool) -> Vec<[u32; 2]> {
        let stride = self.stride as isize;
        // Bit offsets of the eight neighbours, twice, so a search can run past direction 7.
        let mut deltas = [0isize; 16];
        for (k, d) in deltas.iter_mut().enumerate() {
            let (dx, dy) = STEPS[k & 7];
            *d = dx as isize + dy as isize * stride;
        }
        let step = |i: usize, s: usize| (i as isize + deltas[s]) as usize;
        let mut points = std::mem::take(&mut self.points);
        points.clear();
        let origin = self.index(start);

        // The first neighbour, searched clockwise from the side the border was entered from.
        let first_end = if is_hole { 0 } else { 4 };
        let mut s = first_end;
        let mut second;
        loop {
            s = (s + 7) & 7;
            second = step(origin, s);
            if bit(&self.inside, second) || s == first_end {
                break;
            }
        }
        if s == first_end {
            // A lone pixel.
            self.mark(origin, true);
            points.push([start.0 as u32, start.1 as u32]);
            return self.copy_out(points);
        }

        let (mut current, mut at) = (origin, start);
        let mut previous_direction = s ^ 4;
        loop {
            // The next border pixel: counter-clockwise from the direction we came from.
            let search_end = s;
            let mut next = current;
            while s < 15 {
                s += 1;
                next = step(current, s);
                if bit(&self.inside, next) {
                    break;
                }
            }
            s &= 7;
            // Passing direction 0 (right) means the right neighbour is outside: a negative label.
            let right_is_outside = s.wrapping_sub(1) < search_end;
            self.mark(current, right_is_outside);
            if s != previous_direction {
                points.push([at.0 as u32, at.1 as u32]);
                previous_direction = s;
            }
            if next == origin && current == second {
                break;
            }
            current = next;
            at = (at.0 + STEPS[s].0, at.1 + STEPS[s].1);
            s = (s + 4) & 7;
        }
        self.copy_out(points)
    }

    /// The followed border's points at their exact length; `points` is kept for the next border.
    fn copy_out(&mut self, points: Vec<[u32; 2]>) -> Vec<[u32; 2]> {
        let ring = points.clone();
        self.points = points;
        ring
    }

    /// The 8-connected component of every run, runs numbered in scan order (a component is
    /// named by its first run).
    fn components(&self) -> Vec<usize> {
        let mut offsets = Vec::with_capacity(self.rows.len());
        let mut n = 0;
        for row in &self.rows {
            offsets.push(n);
            n += row.len();
        }
        let mut parent: Vec<usize> = (0..n).collect();
        fn root(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        for r in 1..self.rows.len() {
            let (above, below) = (self.rows[r - 1], self.rows[r]);
            let (mut i, mut j) = (0, 0);
            while i < above.len() && j < below.len() {
                let ((a, b), (c, d)) = (above[i], below[j]);
                // 8-connected: the runs overlap or touch at a corner.
                if c <= b && a <= d {
                    let (x, y) = (
                        root(&mut parent, offsets[r - 1] + i),
                        root(&mut parent, offsets[r] + j),
                    );
                    let (low, high) = (x.min(y), x.max(y));
                    parent[high] = low;
                }
                if b < d {
                    i += 1;
                } else {
                    j += 1;
                }
            }
        }
        (0..parent.len()).map(|i| root(&mut parent, i)).collect()
    }
}
