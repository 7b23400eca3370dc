//! The edge map (the paper's zero-shot edge detection output): boundaries of every mask.

use crate::mask::{Mask, intersect_runs_into, subtract_runs_into};
use crate::segmentation::Segmentation;

/// Union of every instance's inner boundary, as one mask over the mask frame.
pub fn boundaries(seg: &Segmentation) -> Mask {
    let (w, h) = (seg.mask_width(), seg.mask_height());
    let mut edges = vec![0u8; w as usize * h as usize];
    let mut scratch = Scratch::default();
    for instance in seg.instances() {
        mark_boundary(&instance.mask, &mut edges, &mut scratch);
    }
    Mask::from_bitmap(w, h, &edges)
}

#[derive(Default)]
struct Scratch {
    interior: Vec<(u32, u32)>,
    tmp: Vec<(u32, u32)>,
    boundary: Vec<(u32, u32)>,
}

/// Sets `out` on pixels of `mask` with a 4-neighbour (inside the frame) outside the mask, working
/// on runs: interior = the row's runs shrunk by one pixel at inner ends, intersected with the rows
/// above and below; boundary = runs minus interior.
fn mark_boundary(mask: &Mask, out: &mut [u8], s: &mut Scratch) {
    let (w, h) = (mask.width(), mask.height());
    let full = [(0, w)];
    for (y, runs) in mask.rows() {
        if runs.is_empty() {
            continue;
        }
        s.interior.clear();
        s.interior.extend(runs.iter().filter_map(|&(a, b)| {
            // A pixel next to the frame border has no outside neighbour there.
            let a = if a == 0 { 0 } else { a + 1 };
            let b = if b == w { w } else { b - 1 };
            (b > a).then_some((a, b))
        }));
        let above: &[(u32, u32)] = if y == 0 { &full } else { mask.row(y - 1) };
        let below: &[(u32, u32)] = if y + 1 == h { &full } else { mask.row(y + 1) };
        intersect_runs_into(&s.interior, above, &mut s.tmp);
        intersect_runs_into(&s.tmp, below, &mut s.interior);
        subtract_runs_into(runs, &s.interior, &mut s.boundary);
        let row = &mut out[y as usize * w as usize..(y as usize + 1) * w as usize];
        for &(a, b) in &s.boundary {
            row[a as usize..b as usize].fill(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundary_of_a_square_and_of_the_frame_border() {
        // A 4x4 block inside a 6x6 frame: the 12 outer pixels are boundary, the 2x2 core is not.
        let mut bitmap = vec![0u8; 36];
        for y in 1..5 {
            for x in 1..5 {
                bitmap[y * 6 + x] = 1;
            }
        }
        let mut out = vec![0u8; 36];
        mark_boundary(
            &Mask::from_bitmap(6, 6, &bitmap),
            &mut out,
            &mut Scratch::default(),
        );
        assert_eq!(out.iter().filter(|&&v| v == 1).count(), 12);
        assert_eq!(out[2 * 6 + 2], 0);
        // A full frame has no boundary: the image border is not an edge.
        let mut out = vec![0u8; 36];
        mark_boundary(
            &Mask::from_bitmap(6, 6, &[1; 36]),
            &mut out,
            &mut Scratch::default(),
        );
        assert!(out.iter().all(|&v| v == 0));
        // A one-pixel-wide line is all boundary.
        let mut line = vec![0u8; 36];
        line[12..18].fill(1);
        let mut out = vec![0u8; 36];
        mark_boundary(
            &Mask::from_bitmap(6, 6, &line),
            &mut out,
            &mut Scratch::default(),
        );
        assert_eq!(out, line);
    }
}
