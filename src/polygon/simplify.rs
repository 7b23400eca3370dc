//! Ring simplification: Douglas-Peucker as OpenCV's `cv2.approxPolyDP(ring, epsilon, closed=True)`
//! computes it (checked against OpenCV 5.0), point for point: the same start, the same split points
//! (distance to the chord as a segment), the same final pass that drops points on nearly straight
//! lines.

/// The ring with every point dropped that lies within `epsilon` pixels of the simplified outline.
/// `epsilon` is finite and not negative.
pub fn approx_closed(ring: &[[u32; 2]], epsilon: f64) -> Vec<[u32; 2]> {
    let mut kept = Vec::new();
    Simplifier::default().approx_closed(ring, epsilon, &mut kept);
    kept
}

/// [`approx_closed`] for many rings, reusing its working memory: a mask's rings are simplified
/// one after the other without an allocation for each (which costs most in the threaded wasm
/// build, where the threads share one allocator).
#[derive(Debug, Default)]
pub struct Simplifier {
    /// The slices still to split, as (first, last) point indices.
    stack: Vec<(usize, usize)>,
}

impl Simplifier {
    /// [`approx_closed`] of `ring` into `kept` (cleared first).
    pub fn approx_closed(&mut self, ring: &[[u32; 2]], epsilon: f64, kept: &mut Vec<[u32; 2]>) {
        kept.clear();
        self.stack.clear();
        approx_closed_into(ring, epsilon, &mut self.stack, kept);
    }
}

fn approx_closed_into(
    ring: &[[u32; 2]],
    epsilon: f64,
    stack: &mut Vec<(usize, usize)>,
    kept: &mut Vec<[u32; 2]>,
) {
    let count = ring.len();
    if count == 0 {
        return;
    }
    // Indices below are kept in 0..count by a compare, not `%` (a division per point).
    let at = |i: usize| {
        let [x, y] = ring[i];
        (x as f64, y as f64)
    };
    let next = |i: usize| if i + 1 == count { 0 } else { i + 1 };
    let eps = epsilon * epsilon;

    // 1. Two roughly farthest points: three rounds of "the point farthest from the last one".
    let mut start = 0;
    let mut farthest = 0;
    let mut within = false;
    for _ in 0..3 {
        start = (start + farthest) % count;
        let (sx, sy) = at(start);
        let mut max = 0.0;
        let mut pos = start;
        for j in 1..count {
            pos = next(pos);
            let (x, y) = at(pos);
            let d = (x - sx) * (x - sx) + (y - sy) * (y - sy);
            if d > max {
                max = d;
                farthest = j;
            }
        }
        within = max <= eps;
    }
    if within {
        kept.push(ring[start]);
    } else {
        let mid = (start + farthest) % count;
        stack.push((mid, start));
        stack.push((start, mid));
    }

    // 2. Split each slice at its farthest point until every point is within epsilon of its chord.
    while let Some((first, last)) = stack.pop() {
        let (ex, ey) = at(last);
        let (sx, sy) = at(first);
        let mut pos = next(first);
        let mut split = first;
        let close_enough = if pos != last {
            // Squared distance to the chord as a segment (to its nearest end beyond either end),
            // times the chord's squared length: no division, exact on integer points.
            let (dx, dy) = (ex - sx, ey - sy);
            let length2 = dx * dx + dy * dy;
            let mut max = 0.0;
            while pos != last {
                let (x, y) = at(pos);
                let here = pos;
                pos = next(pos);
                let projection = (x - sx) * dx + (y - sy) * dy;
                let d = if projection < 0.0 {
                    ((x - sx) * (x - sx) + (y - sy) * (y - sy)) * length2
                } else if projection > length2 {
                    ((x - ex) * (x - ex) + (y - ey) * (y - ey)) * length2
                } else {
                    let cross = (y - sy) * dx - (x - sx) * dy;
                    cross * cross
                };
                if d > max {
                    max = d;
                    split = here;
                }
            }
            max <= eps * length2
        } else {
            true
        };
        if close_enough {
            kept.push(ring[first]);
        } else {
            stack.push((split, last));
            stack.push((first, split));
        }
    }

    // 3. Drop points that sit on a nearly straight line between their neighbours.
    drop_collinear(kept, eps);
}

/// OpenCV's final pass over a closed approximation: walking the ring once, a point is dropped when
/// it lies within half the tolerance of the line through its neighbours, between them.
fn drop_collinear(ring: &mut Vec<[u32; 2]>, eps: f64) {
    let count = ring.len();
    let mut new_count = count;
    let xy = |p: [u32; 2]| (p[0] as f64, p[1] as f64);
    let mut pos = count - 1;
    let read = |ring: &Vec<[u32; 2]>, pos: &mut usize| {
        let p = ring[*pos];
        *pos += 1;
        if *pos >= count {
            *pos = 0;
        }
        p
    };
    let mut start = read(ring, &mut pos);
    let mut write = pos;
    let mut middle = read(ring, &mut pos);
    let mut i = 0;
    while i < count && new_count > 2 {
        let end = read(ring, &mut pos);
        let ((sx, sy), (mx, my), (ex, ey)) = (xy(start), xy(middle), xy(end));
        let (dx, dy) = (ex - sx, ey - sy);
        let dist = ((mx - sx) * dy - (my - sy) * dx).abs();
        let forward = (mx - sx) * (ex - mx) + (my - sy) * (ey - my);
        if dist * dist <= 0.5 * eps * (dx * dx + dy * dy)
            && dx != 0.0
            && dy != 0.0
            && forward >= 0.0
        {
            new_count -= 1;
            start = end;
            ring[write] = start;
            write = (write + 1) % count;
            middle = read(ring, &mut pos);
            i += 2;
            continue;
        }
        start = middle;
        ring[write] = start;
        write = (write + 1) % count;
        middle = end;
        i += 1;
    }
    ring.truncate(new_count);
}
