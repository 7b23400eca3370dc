//! The edge map (the paper's zero-shot edge detection output): boundaries of every mask.

use crate::mask::{Mask, MaskBuilder};
use crate::segmentation::Segmentation;

/// Union of every instance's inner boundary, as one mask over the mask frame.
pub fn boundaries(seg: &Segmentation) -> Mask {
    let (w, h) = (seg.mask_width() as usize, seg.mask_height() as usize);
    let mut edges = vec![0u8; w * h];
    for instance in seg.instances() {
        mark_boundary(&instance.mask, &mut edges);
    }
    let mut builder = MaskBuilder::new(w as u32, h as u32);
    for (y, row) in edges.chunks_exact(w.max(1)).enumerate() {
        let mut x = 0;
        while x < w {
            if row[x] != 0 {
                let start = x;
                while x < w && row[x] != 0 {
                    x += 1;
                }
                builder.push_run(y as u32, start as u32, x as u32);
            } else {
                x += 1;
            }
        }
    }
    builder.finish()
}

/// Sets `out` on pixels of `mask` with a 4-neighbour (inside the frame) outside the mask.
fn mark_boundary(mask: &Mask, out: &mut [u8]) {
    let Some([x1, y1, x2, y2]) = mask.bounds() else {
        return;
    };
    let (w, h) = (mask.width() as usize, mask.height());
    let (x1, x2) = (x1 as usize, x2 as usize);
    let span = x2 - x1;
    // Rows y-1, y, y+1 of the mask inside the bounds, as bitmaps (index 0 is column x1).
    let decode = |y: i64| -> Vec<bool> {
        let mut row = vec![false; span];
        if y >= 0 && (y as u32) < h {
            for &(a, b) in mask.row(y as u32) {
                row[a as usize - x1..b as usize - x1].fill(true);
            }
        }
        row
    };
    let mut above = decode(y1 as i64 - 1);
    let mut current = decode(y1 as i64);
    for y in y1..y2 {
        let below = decode(y as i64 + 1);
        let out_row = &mut out[y as usize * w..(y as usize + 1) * w];
        for i in 0..span {
            if !current[i] {
                continue;
            }
            let x = x1 + i;
            let left_out = x > 0 && (i == 0 || !current[i - 1]);
            let right_out = x + 1 < w && (i + 1 == span || !current[i + 1]);
            let up_out = y > 0 && !above[i];
            let down_out = y + 1 < h && !below[i];
            if left_out || right_out || up_out || down_out {
                out_row[x] = 1;
            }
        }
        above = std::mem::replace(&mut current, below);
    }
}
