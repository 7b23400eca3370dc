//! CLIP's image preprocessing, identical to the `preprocess` of OpenAI `clip.load` /
//! `open_clip.create_model_and_transforms` (PIL + torchvision), and the mask-region crop fed to it.
//!
//! The reference pipeline on an RGB PIL image is
//! `Resize(224, BICUBIC) -> CenterCrop(224) -> ToTensor -> Normalize(mean, std)`:
//!
//! - `Resize(224)` scales the shorter side to 224 and the longer side to
//!   `int(224 * long / short)` (a float division, truncated), with Pillow's bicubic
//!   ([`resize_bicubic`], bit-exact); an image already at that size is not resampled;
//! - `CenterCrop(224)` keeps 224 x 224 from `top = round((H - 224) / 2)` (Python's `round`: half to
//!   even), `left` likewise. The resized image is never smaller than 224 (`224 * long / short >= 224`
//!   and division rounds monotonically), so torchvision's zero padding never applies;
//! - `ToTensor` and `Normalize` are `(v as f32 / 255 - mean) / std` in `f32`, planar `[3, 224, 224]`.
//!
//! Only the 224 x 224 window is resampled ([`clip_pixels`]), so a 1-pixel-wide region, which
//! torchvision enlarges to 224 x 224·h, costs the same as any other.

mod region;
mod resample;

pub use region::mask_region;
pub use resample::resize_bicubic;

use crate::error::Result;
use crate::image::{ImageView, PixelFormat};

/// CLIP's input side, in pixels.
pub const CLIP_SIZE: u32 = 224;

/// CLIP's per-channel normalisation mean (torchvision converts the Python floats to `f32`).
pub const CLIP_MEAN: [f32; 3] = [
    0.48145466_f64 as f32,
    0.4578275_f64 as f32,
    0.40821073_f64 as f32,
];

/// CLIP's per-channel normalisation standard deviation.
pub const CLIP_STD: [f32; 3] = [
    0.26862954_f64 as f32,
    0.26130258_f64 as f32,
    0.27577711_f64 as f32,
];

/// The size torchvision's `Resize(224)` gives a `w` x `h` image: the shorter side 224, the longer
/// `int(224 * long / short)`. Needs `w, h >= 1`.
pub fn resized_size(w: u32, h: u32) -> (u32, u32) {
    let (short, long) = if w <= h { (w, h) } else { (h, w) };
    // Python's int / int: both exact in f64, one correctly rounded division, then truncation.
    let new_long = (CLIP_SIZE as f64 * long as f64 / short as f64) as u32;
    if w <= h {
        (CLIP_SIZE, new_long)
    } else {
        (new_long, CLIP_SIZE)
    }
}

/// torchvision `CenterCrop`'s offset along a side of `size >= 224`: `int(round((size - 224) / 2))`.
fn crop_offset(size: u32) -> u32 {
    (f64::from(size.saturating_sub(CLIP_SIZE)) / 2.0).round_ties_even() as u32
}

/// CLIP's resized and centre-cropped image, before normalisation: 224 x 224 interleaved RGB `u8`,
/// bit-exact with PIL's `CenterCrop(224)(Resize(224, BICUBIC)(image))`.
///
/// # Errors
/// [`crate::Error::InvalidImage`] for an empty or oversized image or a buffer that is not
/// `w * h * 3` bytes.
pub fn clip_pixels(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>> {
    ImageView::new(rgb, w, h, PixelFormat::Rgb)?;
    let (rw, rh) = resized_size(w, h);
    let (left, top) = (crop_offset(rw) as usize, crop_offset(rh) as usize);
    let side = CLIP_SIZE as usize;
    Ok(resample::resize_bicubic_window(
        rgb,
        w as usize,
        h as usize,
        [rw as usize, rh as usize],
        left..left + side,
        top..top + side,
    ))
}

/// `ToTensor` + `Normalize` of a 224 x 224 interleaved RGB image: planar `[3, 224, 224]` `f32`.
///
/// # Errors
/// [`crate::Error::InvalidImage`] when `pixels` is not 224 x 224 x 3 bytes.
pub fn normalize(pixels: &[u8]) -> Result<Vec<f32>> {
    let plane = (CLIP_SIZE * CLIP_SIZE) as usize;
    ImageView::new(pixels, CLIP_SIZE, CLIP_SIZE, PixelFormat::Rgb)?;
    // 3 x 256 possible values: one table lookup per element.
    let table: Vec<[f32; 256]> = (0..3)
        .map(|c| std::array::from_fn(|v| (v as f32 / 255.0 - CLIP_MEAN[c]) / CLIP_STD[c]))
        .collect();
    let mut out = vec![0.0f32; 3 * plane];
    let (r, rest) = out.split_at_mut(plane);
    let (g, b) = rest.split_at_mut(plane);
    for (i, px) in pixels.chunks_exact(3).enumerate() {
        r[i] = table[0][px[0] as usize];
        g[i] = table[1][px[1] as usize];
        b[i] = table[2][px[2] as usize];
    }
    Ok(out)
}

/// CLIP's full image preprocessing of an RGB image (`w` x `h`, 3 bytes per pixel, row-major):
/// the normalised planar `[3, 224, 224]` `f32` input of `clip-image.onnx`.
///
/// # Errors
/// [`crate::Error::InvalidImage`] for an empty or oversized image or a buffer that is not
/// `w * h * 3` bytes.
pub fn clip_input(rgb: &[u8], w: u32, h: u32) -> Result<Vec<f32>> {
    normalize(&clip_pixels(rgb, w, h)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn resized_size_follows_torchvision() {
        assert_eq!(resized_size(1000, 800), (280, 224));
        assert_eq!(resized_size(800, 1000), (224, 280));
        assert_eq!(resized_size(224, 224), (224, 224));
        assert_eq!(resized_size(1, 1), (224, 224));
        assert_eq!(resized_size(1, 3), (224, 672));
        // 224 * 7 / 3 = 522.67 -> 522
        assert_eq!(resized_size(3, 7), (224, 522));
    }

    #[test]
    fn crop_offset_rounds_half_to_even() {
        assert_eq!(crop_offset(224), 0);
        assert_eq!(crop_offset(225), 0); // round(0.5) == 0
        assert_eq!(crop_offset(227), 2); // round(1.5) == 2
        assert_eq!(crop_offset(229), 2); // round(2.5) == 2
        assert_eq!(crop_offset(280), 28);
    }

    #[test]
    fn output_shape_and_constant_image() {
        let rgb = vec![128u8; 30 * 20 * 3];
        let x = clip_input(&rgb, 30, 20).unwrap();
        assert_eq!(x.len(), 3 * 224 * 224);
        for c in 0..3 {
            let expected = (128.0 / 255.0 - CLIP_MEAN[c]) / CLIP_STD[c];
            assert!(
                x[c * 224 * 224..(c + 1) * 224 * 224]
                    .iter()
                    .all(|&v| v == expected)
            );
        }
    }

    #[test]
    fn thin_images_work() {
        for (w, h) in [(1, 1), (1, 500), (700, 1), (2, 3)] {
            let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i % 256) as u8).collect();
            assert_eq!(clip_pixels(&rgb, w, h).unwrap().len(), 224 * 224 * 3);
        }
    }

    #[test]
    fn rejects_bad_images() {
        for (len, w, h) in [(0, 0, 0), (0, 5, 0), (11, 2, 2), (13, 2, 2)] {
            let e = clip_input(&vec![0; len], w, h).unwrap_err();
            assert!(matches!(e, Error::InvalidImage(_)), "{e}");
        }
        assert!(normalize(&[0; 10]).is_err());
    }
}
