//! The bit-packed form in which device-assembled masks cross to the CPU: each row of a mask
//! rectangle is cut into words of [`BITS_PER_WORD`] pixels, pixel `i` of a word at bit `i`, and each
//! word travels as an `f32` holding that integer.
//!
//! Why `f32` and 24 bits: the device packs with one multiply-and-sum over float tensors, which every
//! Burn backend has, and a sum of distinct powers of two below `2^24` is exact in `f32` whatever
//! the order of summation. Integer tensors would be 4 or 8 bytes per element depending on the
//! backend, and 32-bit sums of bit weights overflow a signed `i32`.

use std::ops::Range;

use crate::mask::MaskBuilder;

/// Pixels per packed word.
pub const BITS_PER_WORD: usize = 24;

/// Words that hold a row of `width` pixels.
pub fn words_per_row(width: usize) -> usize {
    width.div_ceil(BITS_PER_WORD)
}

/// Packs a row of booleans (non-zero = set) into words, as the device does.
pub fn pack_row(row: &[u8]) -> Vec<f32> {
    row.chunks(BITS_PER_WORD)
        .map(|chunk| {
            let word = chunk
                .iter()
                .enumerate()
                .filter(|&(_, &b)| b != 0)
                .fold(0u32, |w, (i, _)| w | 1 << i);
            word as f32
        })
        .collect()
}

/// Pushes the set pixels of `columns` (row-relative pixel indices) of the packed row `words` as
/// runs of row `y`, each pixel index shifted by `origin`.
pub fn push_row_runs(
    builder: &mut MaskBuilder,
    y: u32,
    words: &[f32],
    columns: Range<usize>,
    origin: usize,
) {
    let mut pos = columns.start;
    while pos < columns.end {
        let word_index = pos / BITS_PER_WORD;
        let word_end = ((word_index + 1) * BITS_PER_WORD).min(columns.end);
        let count = word_end - pos;
        let all = (1u32 << count) - 1;
        let bits = (words[word_index] as u32 >> (pos % BITS_PER_WORD)) & all;
        // Runs inside the word; the builder merges runs that touch across words.
        let mut b = 0;
        while b < count {
            let rest = bits >> b;
            if rest == 0 {
                break;
            }
            b += rest.trailing_zeros() as usize;
            let ones = ((bits >> b).trailing_ones() as usize).min(count - b);
            let start = (origin + pos + b) as u32;
            builder.push_run(y, start, start + ones as u32);
            b += ones;
        }
        pos = word_end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::Mask;

    fn unpack(width: u32, height: u32, rows: &[Vec<f32>], xs: Range<usize>) -> Mask {
        let mut builder = MaskBuilder::new(width, height);
        for (y, words) in rows.iter().enumerate() {
            push_row_runs(&mut builder, y as u32, words, xs.clone(), 0);
        }
        builder.finish()
    }

    #[test]
    fn words_hold_24_pixels_exactly() {
        let mut row = vec![1u8; 50];
        row[23] = 0;
        let words = pack_row(&row);
        assert_eq!(words.len(), words_per_row(50));
        assert_eq!(words[0], ((1u32 << 23) - 1) as f32);
        assert_eq!(words[1], ((1u32 << 24) - 1) as f32);
        assert_eq!(words[2], 3.0);
    }

    #[test]
    fn round_trip_matches_the_bitmap_inside_any_column_range() {
        // A deterministic pseudo-random bitmap with long and short runs across word edges.
        let (w, h) = (101usize, 7usize);
        let mut state = 12345u32;
        let bitmap: Vec<u8> = (0..w * h)
            .map(|i| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                u8::from((state >> 16) % 5 < 2 || (i % w) / 30 == 1)
            })
            .collect();
        let rows: Vec<Vec<f32>> = bitmap.chunks(w).map(pack_row).collect();
        for xs in [0..w, 3..w, 24..48, 23..25, 50..51, 7..7] {
            let mut clipped = bitmap.clone();
            for (i, px) in clipped.iter_mut().enumerate() {
                if !xs.contains(&(i % w)) {
                    *px = 0;
                }
            }
            let expected = Mask::from_bitmap(w as u32, h as u32, &clipped);
            assert_eq!(
                unpack(w as u32, h as u32, &rows, xs.clone()),
                expected,
                "{xs:?}"
            );
        }
    }

    #[test]
    fn origin_shifts_the_runs() {
        let words = pack_row(&[0, 1, 1, 0]);
        let mut builder = MaskBuilder::new(20, 1);
        push_row_runs(&mut builder, 0, &words, 0..4, 10);
        let mut bitmap = vec![0u8; 20];
        bitmap[11] = 1;
        bitmap[12] = 1;
        assert_eq!(builder.finish(), Mask::from_bitmap(20, 1, &bitmap));
    }
}
