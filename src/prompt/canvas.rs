//! A one-bit-per-pixel canvas that masks are painted onto in order (set or erase), then read back
//! as a run-length [`Mask`]. Painting a run costs one word operation per 64 pixels it spans, with no
//! merging of run lists, so combining many overlapping masks costs what their runs cost.

use crate::mask::{Mask, MaskBuilder};

/// Bits of rows `top .. top + rows` of a `width`-wide frame, 64 pixels per word.
#[derive(Debug)]
pub struct BitCanvas {
    width: u32,
    height: u32,
    top: u32,
    words_per_row: usize,
    bits: Vec<u64>,
}

impl BitCanvas {
    /// A clear canvas over rows `rows` of a `width` x `height` frame.
    pub fn new(width: u32, height: u32, rows: std::ops::Range<u32>) -> Self {
        let words_per_row = (width as usize).div_ceil(64);
        let top = rows.start.min(height);
        let end = rows.end.clamp(top, height);
        Self {
            width,
            height,
            top,
            words_per_row,
            bits: vec![0; words_per_row * (end - top) as usize],
        }
    }

    /// Sets (`value` true) or clears every pixel of `mask` inside the canvas rows.
    pub fn paint(&mut self, mask: &Mask, value: bool) {
        debug_assert_eq!(mask.width(), self.width, "mask and canvas frames differ");
        if value {
            self.paint_with::<true>(mask);
        } else {
            self.paint_with::<false>(mask);
        }
    }

    fn paint_with<const SET: bool>(&mut self, mask: &Mask) {
        for (y, runs) in mask.rows() {
            let Some(row) = self.row_mut(y) else { continue };
            for &(start, end) in runs {
                for_words(start, end, |w, m| {
                    if SET {
                        row[w] |= m;
                    } else {
                        row[w] &= !m;
                    }
                });
            }
        }
    }

    fn row_mut(&mut self, y: u32) -> Option<&mut [u64]> {
        let i = y.checked_sub(self.top)? as usize;
        let n = self.words_per_row;
        self.bits.get_mut(i * n..(i + 1) * n)
    }

    /// The painted pixels as a mask.
    pub fn to_mask(&self) -> Mask {
        let mut builder = MaskBuilder::new(self.width, self.height);
        if self.words_per_row == 0 {
            return builder.finish();
        }
        for (i, row) in self.bits.chunks_exact(self.words_per_row).enumerate() {
            let y = self.top + i as u32;
            for_each_run(row, |start, end| builder.push_run(y, start, end));
        }
        builder.finish()
    }
}

/// Bits `lo .. hi` (0..=64) of a word.
#[inline(always)]
fn bits(lo: u32, hi: u32) -> u64 {
    let upto = |n: u32| if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
    upto(hi) & !upto(lo)
}

/// Calls `f(word, bits)` for each word the pixel range `start .. end` touches.
#[inline(always)]
fn for_words(start: u32, end: u32, mut f: impl FnMut(usize, u64)) {
    if end <= start {
        return;
    }
    let (first, last) = ((start / 64) as usize, ((end - 1) / 64) as usize);
    let (lo, hi) = (start % 64, (end - 1) % 64 + 1);
    if first == last {
        f(first, bits(lo, hi));
        return;
    }
    f(first, bits(lo, 64));
    for w in first + 1..last {
        f(w, u64::MAX);
    }
    f(last, bits(0, hi));
}

/// Calls `f(start, end)` for each run of set bits in a row, left to right.
fn for_each_run(row: &[u64], mut f: impl FnMut(u32, u32)) {
    let mut open: Option<u32> = None;
    for (w, &word) in row.iter().enumerate() {
        let base = w as u32 * 64;
        let mut at = 0u32;
        while at < 64 {
            let rest = word >> at;
            match open {
                // Inside a run: it goes on over the set bits from `at`.
                Some(start) => {
                    at += (!rest).trailing_zeros().min(64 - at);
                    if at < 64 {
                        f(start, base + at);
                        open = None;
                    }
                }
                None => {
                    if rest == 0 {
                        break;
                    }
                    at += rest.trailing_zeros();
                    open = Some(base + at);
                }
            }
        }
    }
    if let Some(start) = open {
        f(start, row.len() as u32 * 64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask_from(width: u32, height: u32, pixels: &[(u32, u32)]) -> Mask {
        let mut bitmap = vec![0u8; (width * height) as usize];
        for &(x, y) in pixels {
            bitmap[(y * width + x) as usize] = 1;
        }
        Mask::from_bitmap(width, height, &bitmap)
    }

    /// Random masks of a 150-pixel-wide frame (runs across word boundaries and at the edges).
    fn random_masks(seed: u64, count: usize) -> Vec<Mask> {
        let (w, h) = (150u32, 9u32);
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        (0..count)
            .map(|_| {
                let density = next() % 4;
                let mut bitmap = vec![0u8; (w * h) as usize];
                let mut on = false;
                for b in bitmap.iter_mut() {
                    if next() % 16 < density + 1 {
                        on = !on;
                    }
                    *b = on as u8;
                }
                Mask::from_bitmap(w, h, &bitmap)
            })
            .collect()
    }

    #[test]
    fn painting_in_order_matches_pixel_by_pixel() {
        for seed in 0..20 {
            let masks = random_masks(seed, 12);
            let (w, h) = (masks[0].width(), masks[0].height());
            let mut canvas = BitCanvas::new(w, h, 0..h);
            let mut expected = vec![0u8; (w * h) as usize];
            for (i, m) in masks.iter().enumerate() {
                let value = i % 3 != 2;
                canvas.paint(m, value);
                m.paint(&mut expected, value as u8);
            }
            assert_eq!(canvas.to_mask(), Mask::from_bitmap(w, h, &expected));
        }
    }

    #[test]
    fn runs_at_word_edges_and_frame_edges() {
        let (w, h) = (130, 3);
        let pixels: Vec<(u32, u32)> = [0, 63, 64, 65, 127, 128, 129]
            .iter()
            .map(|&x| (x, 1))
            .chain((60..70).map(|x| (x, 2)))
            .collect();
        let m = mask_from(w, h, &pixels);
        let mut canvas = BitCanvas::new(w, h, 0..h);
        canvas.paint(&m, true);
        assert_eq!(canvas.to_mask(), m);
        canvas.paint(&mask_from(w, h, &[(64, 1), (129, 1)]), false);
        let pixels: Vec<(u32, u32)> = pixels
            .into_iter()
            .filter(|&p| p != (64, 1) && p != (129, 1))
            .collect();
        assert_eq!(canvas.to_mask(), mask_from(w, h, &pixels));
    }

    #[test]
    fn rows_outside_the_canvas_are_ignored() {
        let m = mask_from(10, 6, &[(1, 0), (2, 3), (3, 5)]);
        let mut canvas = BitCanvas::new(10, 6, 2..4);
        canvas.paint(&m, true);
        assert_eq!(canvas.to_mask(), mask_from(10, 6, &[(2, 3)]));
        assert!(BitCanvas::new(10, 6, 4..4).to_mask().is_empty());
        assert!(BitCanvas::new(0, 0, 0..0).to_mask().is_empty());
    }
}
