//! The edge map (the paper's zero-shot edge detection output): boundaries of every mask.

use crate::mask::Mask;
use crate::segmentation::Segmentation;

/// Union of every instance's inner boundary (see [`Mask::for_each_boundary_run`]), as one mask
/// over the mask frame.
pub fn boundaries(seg: &Segmentation) -> Mask {
    let (w, h) = (seg.mask_width(), seg.mask_height());
    let mut edges = vec![0u8; w as usize * h as usize];
    for instance in seg.instances() {
        instance.mask.for_each_boundary_run(|y, a, b| {
            let row = y as usize * w as usize;
            edges[row + a as usize..row + b as usize].fill(1);
        });
    }
    Mask::from_bitmap(w, h, &edges)
}

#[cfg(test)]
mod tests {
    use crate::mask::Mask;

    fn boundary(mask: &Mask) -> Vec<u8> {
        let mut out = vec![0u8; (mask.width() * mask.height()) as usize];
        mask.for_each_boundary_run(|y, a, b| {
            let row = (y * mask.width()) as usize;
            out[row + a as usize..row + b as usize].fill(1);
        });
        out
    }

    #[test]
    fn boundary_of_a_square_and_of_the_frame_border() {
        // A 4x4 block inside a 6x6 frame: the 12 outer pixels are boundary, the 2x2 core is not.
        let mut bitmap = vec![0u8; 36];
        for y in 1..5 {
            for x in 1..5 {
                bitmap[y * 6 + x] = 1;
            }
        }
        let out = boundary(&Mask::from_bitmap(6, 6, &bitmap));
        assert_eq!(out.iter().filter(|&&v| v == 1).count(), 12);
        assert_eq!(out[2 * 6 + 2], 0);
        // A full frame has no boundary: the image border is not an edge.
        assert!(
            boundary(&Mask::from_bitmap(6, 6, &[1; 36]))
                .iter()
                .all(|&v| v == 0)
        );
        // A one-pixel-wide line is all boundary.
        let mut line = vec![0u8; 36];
        line[12..18].fill(1);
        assert_eq!(boundary(&Mask::from_bitmap(6, 6, &line)), line);
    }
}
