//! The image region CLIP sees for one mask: the mask's tight bounding box cut out of the image,
//! with the pixels outside the mask set to black (see `tests/fixtures/clip/CONTRACT.md`).

use crate::error::{Error, Result};
use crate::image::{ImageView, PixelFormat};
use crate::mask::Mask;

/// Crops the RGB image (`w` x `h`, 3 bytes per pixel) to the tight bounding box `[x1, x2) x [y1, y2)`
/// of `mask` and blacks out the pixels of the crop outside the mask.
///
/// Returns the crop as interleaved RGB with its width and height, or `None` for an empty mask.
/// The mask's frame must be the image's (full-resolution masks). Works run by run: the cost is one
/// pass over the crop, whatever the number of masks already cropped.
///
/// # Errors
/// [`Error::InvalidImage`] for an empty or oversized image, a buffer that is not `w * h * 3` bytes,
/// or a mask whose frame differs from the image size.
pub fn mask_region(rgb: &[u8], w: u32, h: u32, mask: &Mask) -> Result<Option<(Vec<u8>, u32, u32)>> {
    ImageView::new(rgb, w, h, PixelFormat::Rgb)?;
    if mask.width() != w || mask.height() != h {
        return Err(Error::InvalidImage(format!(
            "the mask is {}x{} but the image is {w}x{h}; crop regions need full-resolution masks",
            mask.width(),
            mask.height()
        )));
    }
    let Some([x1, y1, x2, y2]) = mask.bounds() else {
        return Ok(None);
    };
    let (crop_w, crop_h) = (x2 - x1, y2 - y1);
    let stride = w as usize * 3;
    let crop_stride = crop_w as usize * 3;
    let mut out = Vec::with_capacity(crop_stride * crop_h as usize);
    for y in y1..y2 {
        let row = &rgb[y as usize * stride..(y as usize + 1) * stride];
        let row_start = out.len();
        for &(a, b) in mask.row(y) {
            // Runs are sorted and disjoint: pad with black up to the run, then copy it.
            out.resize(row_start + (a - x1) as usize * 3, 0);
            out.extend_from_slice(&row[a as usize * 3..b as usize * 3]);
        }
        out.resize(row_start + crop_stride, 0);
    }
    Ok(Some((out, crop_w, crop_h)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, pixel by pixel.
    fn naive(rgb: &[u8], w: u32, h: u32, bitmap: &[u8]) -> Option<(Vec<u8>, u32, u32)> {
        let inside = |x: u32, y: u32| bitmap[(y * w + x) as usize] != 0;
        let (mut x1, mut y1, mut x2, mut y2) = (u32::MAX, u32::MAX, 0, 0);
        for y in 0..h {
            for x in 0..w {
                if inside(x, y) {
                    (x1, y1, x2, y2) = (x1.min(x), y1.min(y), x2.max(x + 1), y2.max(y + 1));
                }
            }
        }
        if x2 == 0 {
            return None;
        }
        let mut out = Vec::new();
        for y in y1..y2 {
            for x in x1..x2 {
                let i = (y * w + x) as usize * 3;
                let keep = inside(x, y);
                out.extend(rgb[i..i + 3].iter().map(|&v| if keep { v } else { 0 }));
            }
        }
        Some((out, x2 - x1, y2 - y1))
    }

    fn image(w: u32, h: u32) -> Vec<u8> {
        // No zero bytes, so a blacked-out pixel cannot pass for an image pixel.
        (0..w * h * 3).map(|i| (i * 7 % 254 + 1) as u8).collect()
    }

    fn check(w: u32, h: u32, bitmap: &[u8]) {
        let rgb = image(w, h);
        let mask = Mask::from_bitmap(w, h, bitmap);
        let got = mask_region(&rgb, w, h, &mask).unwrap();
        assert_eq!(got, naive(&rgb, w, h, bitmap), "{w}x{h} {bitmap:?}");
    }

    #[test]
    fn matches_per_pixel_definition_on_hand_made_masks() {
        #[rustfmt::skip]
        let ring = [
            0, 0, 0, 0, 0, 0,
            0, 1, 1, 1, 0, 0,
            0, 1, 0, 1, 0, 0,
            0, 1, 1, 1, 0, 0,
            0, 0, 0, 0, 0, 0,
        ];
        check(6, 5, &ring);
        #[rustfmt::skip]
        let disjoint = [
            1, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 1, 1,
            0, 0, 0, 0, 0, 0,
        ];
        check(6, 5, &disjoint);
        // Several runs per row, gaps, an empty row inside the box, touching the frame's borders.
        #[rustfmt::skip]
        let runs = [
            1, 1, 0, 1, 0, 1,
            0, 0, 0, 0, 0, 0,
            0, 1, 0, 0, 1, 1,
        ];
        check(6, 3, &runs);
        check(1, 1, &[1]);
        check(4, 2, &[1; 8]);
        check(3, 4, &[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
    }

    #[test]
    fn matches_per_pixel_definition_on_random_masks() {
        let mut state = 0x2545_f491_u32;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        for _ in 0..200 {
            let (w, h) = (next() % 23 + 1, next() % 17 + 1);
            let density = next() % 4;
            let bitmap: Vec<u8> = (0..w * h).map(|_| (next() % 4 < density) as u8).collect();
            check(w, h, &bitmap);
        }
    }

    #[test]
    fn empty_mask_is_none() {
        let rgb = image(4, 3);
        let got = mask_region(&rgb, 4, 3, &Mask::empty(4, 3)).unwrap();
        assert_eq!(got, None);
    }

    #[test]
    fn rejects_mismatched_frames_and_buffers() {
        let rgb = image(4, 3);
        let mask = Mask::from_bitmap(4, 3, &[1; 12]);
        let other = Mask::from_bitmap(3, 4, &[1; 12]);
        let e = mask_region(&rgb, 4, 3, &other).unwrap_err();
        assert!(matches!(e, Error::InvalidImage(_)), "{e}");
        assert!(e.message().contains("3x4"), "{e}");
        let e = mask_region(&rgb[..35], 4, 3, &mask).unwrap_err();
        assert!(matches!(e, Error::InvalidImage(_)), "{e}");
        let e = mask_region(&[], 0, 0, &Mask::empty(0, 0)).unwrap_err();
        assert!(matches!(e, Error::InvalidImage(_)), "{e}");
    }
}
