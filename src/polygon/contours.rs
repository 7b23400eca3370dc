//! Mask boundaries as closed rings: Suzuki and Abe's border following (1985), reproducing OpenCV's
//! `cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)` point for point and in the
//! same order, on the run-length mask directly.
//!
//! The raster scan of the algorithm only ever starts a border at a run's first pixel (an outer
//! border, when that pixel is still unvisited) or at a run's last pixel (a hole border, unless the
//! pixel was marked as lying left of an already traced border). So the labels the algorithm writes
//! are kept for run ends only, and the tracing reads the mask through its runs: the work is
//! proportional to the boundary length, not to the area of the mask or its bounding box.

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
    let mut grid = RunGrid::new(mask);
    let components = grid.components();
    let mut found: Vec<Contour> = Vec::new();
    let mut outer_of_component = vec![usize::MAX; grid.runs.len()];
    for r in 0..grid.rows.len() {
        let y = grid.top + r as i64;
        for i in 0..grid.rows[r].len() {
            let run = grid.offsets[r] + i;
            let (a, b) = grid.rows[r][i];
            if grid.first_mark[run] == Mark::Unvisited {
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
            if (b as i64) < grid.width && grid.last_mark[run] != Mark::Negative {
                let points = grid.follow((b as i64 - 1, y), true);
                found.push(Contour {
                    points,
                    is_hole: true,
                    parent: Some(outer_of_component[components[run]]),
                });
            }
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

/// What the border following has written on a run's end pixel (OpenCV's image labels, reduced to
/// what the scan reads back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    /// Not on any border traced so far (label 1).
    Unvisited,
    /// On a traced border (a positive label).
    Positive,
    /// On a traced border with outside pixels of that border to its right (a negative label):
    /// never starts a hole border.
    Negative,
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

/// The mask's runs indexed for neighbour lookups, with the border marks of each run's first and
/// last pixel.
struct RunGrid<'a> {
    width: i64,
    top: i64,
    /// The runs of each stored row, `rows[y - top]`.
    rows: Vec<&'a [(u32, u32)]>,
    /// `offsets[r]`: index of row `r`'s first run in the mask's run order.
    offsets: Vec<usize>,
    runs: Vec<(u32, u32)>,
    first_mark: Vec<Mark>,
    last_mark: Vec<Mark>,
}

impl<'a> RunGrid<'a> {
    fn new(mask: &'a Mask) -> Self {
        let mut rows = Vec::new();
        let mut offsets = Vec::new();
        let mut runs = Vec::new();
        let mut top = 0;
        for (i, (y, row)) in mask.rows().enumerate() {
            if i == 0 {
                top = y as i64;
            }
            offsets.push(runs.len());
            runs.extend_from_slice(row);
            rows.push(row);
        }
        let n = runs.len();
        Self {
            width: mask.width() as i64,
            top,
            rows,
            offsets,
            runs,
            first_mark: vec![Mark::Unvisited; n],
            last_mark: vec![Mark::Unvisited; n],
        }
    }

    /// The index of the run holding pixel `(x, y)`, `None` when the pixel is outside the mask.
    fn run_at(&self, (x, y): (i64, i64)) -> Option<usize> {
        let r = y - self.top;
        if x < 0 || r < 0 || r >= self.rows.len() as i64 {
            return None;
        }
        let runs = self.rows[r as usize];
        let i = runs.partition_point(|&(_, end)| (end as i64) <= x);
        (i < runs.len() && runs[i].0 as i64 <= x).then(|| self.offsets[r as usize] + i)
    }

    fn inside(&self, p: (i64, i64)) -> bool {
        self.run_at(p).is_some()
    }

    /// Writes OpenCV's label on pixel `p` where the scan can read it back (a run's end pixels):
    /// `negative` always wins, a positive label only replaces "unvisited".
    fn mark(&mut self, p: (i64, i64), negative: bool) {
        let Some(run) = self.run_at(p) else { return };
        let (a, b) = self.runs[run];
        let new = if negative {
            Mark::Negative
        } else {
            Mark::Positive
        };
        for (is_end, marks) in [
            (p.0 == a as i64, &mut self.first_mark),
            (p.0 == b as i64 - 1, &mut self.last_mark),
        ] {
            if is_end && (negative || marks[run] == Mark::Unvisited) {
                marks[run] = new;
            }
        }
    }

    /// Follows one border from its start pixel (OpenCV's `icvFetchContour`), marking the pixels it
    /// passes, and returns the pixels where the direction changes.
    fn follow(&mut self, start: (i64, i64), is_hole: bool) -> Vec<[u32; 2]> {
        let point = |(x, y): (i64, i64)| [x as u32, y as u32];
        let step = |(x, y): (i64, i64), s: usize| (x + STEPS[s & 7].0, y + STEPS[s & 7].1);
        let mut points = Vec::new();

        // The first neighbour, searched clockwise from the side the border was entered from.
        let first_end = if is_hole { 0 } else { 4 };
        let mut s = first_end;
        let mut second;
        loop {
            s = (s + 7) & 7;
            second = step(start, s);
            if self.inside(second) || s == first_end {
                break;
            }
        }
        if s == first_end {
            // A lone pixel.
            self.mark(start, true);
            points.push(point(start));
            return points;
        }

        let mut current = start;
        let mut previous_direction = s ^ 4;
        loop {
            // The next border pixel: counter-clockwise from the direction we came from.
            let search_end = s;
            let mut next = current;
            while s < 15 {
                s += 1;
                next = step(current, s);
                if self.inside(next) {
                    break;
                }
            }
            s &= 7;
            // Passing direction 0 (right) means the right neighbour is outside: a negative label.
            let right_is_outside = s.wrapping_sub(1) < search_end;
            self.mark(current, right_is_outside);
            if s != previous_direction {
                points.push(point(current));
                previous_direction = s;
            }
            if next == start && current == second {
                break;
            }
            current = next;
            s = (s + 4) & 7;
        }
        points
    }

    /// The 8-connected component of every run (an index into the runs, the component's first run
    /// in scan order).
    fn components(&self) -> Vec<usize> {
        let mut parent: Vec<usize> = (0..self.runs.len()).collect();
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
                        root(&mut parent, self.offsets[r - 1] + i),
                        root(&mut parent, self.offsets[r] + j),
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
