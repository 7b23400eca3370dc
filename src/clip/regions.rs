//! Which masks the text prompt scores, and the CLIP input of each one's image region.
//!
//! Our region (see docs/text-prompt.md): the tight bounding box of the mask's pixels,
//! with the pixels outside the mask blacked out. The official code pastes the box (not the mask) on
//! a white canvas of the whole image size instead, which CLIP then shrinks and centre-crops: objects
//! away from the centre are cut off and small ones become a few pixels.

use std::borrow::Cow;

use super::encoder::IMAGE_INPUT_LEN;
use super::preprocess::{clip_input, mask_region, resize_bicubic};
use crate::error::{Error, Result};
use crate::image::{ImageView, PixelFormat};
use crate::segmentation::Segmentation;

/// Masks of at most this many pixels are not scored (as in the official code).
pub const MAX_SKIPPED_AREA: u64 = 100;

/// Instances the text prompt scores: those whose mask has more than [`MAX_SKIPPED_AREA`] pixels,
/// in detection order.
pub fn eligible(seg: &Segmentation) -> Vec<usize> {
    seg.instances()
        .iter()
        .enumerate()
        .filter(|(_, i)| i.mask.area() > MAX_SKIPPED_AREA)
        .map(|(k, _)| k)
        .collect()
}

/// The image as RGB bytes over the mask frame: itself for full-resolution masks, resized with
/// bicubic (as the official code's `image.resize`) for low-resolution ones.
pub fn rgb_in_mask_frame<'a>(seg: &Segmentation, image: &ImageView<'a>) -> Result<Cow<'a, [u8]>> {
    if (image.width(), image.height()) != (seg.image_width(), seg.image_height()) {
        return Err(Error::InvalidImage(format!(
            "the image is {}x{} but the segmentation was made from a {}x{} image; pass the same image",
            image.width(),
            image.height(),
            seg.image_width(),
            seg.image_height()
        )));
    }
    let rgb: Cow<'a, [u8]> = match image.format() {
        PixelFormat::Rgb => Cow::Borrowed(image.data()),
        PixelFormat::Rgba => Cow::Owned(
            image
                .data()
                .chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect(),
        ),
    };
    let (mw, mh) = (seg.mask_width(), seg.mask_height());
    if (mw, mh) == (image.width(), image.height()) {
        return Ok(rgb);
    }
    Ok(Cow::Owned(resize_bicubic(
        &rgb,
        image.width(),
        image.height(),
        mw,
        mh,
    )))
}

/// CLIP inputs (`instances.len() * 3 * 224 * 224` floats) of the regions of `instances`, given the
/// RGB image over the mask frame (from [`rgb_in_mask_frame`]).
pub fn region_inputs(seg: &Segmentation, rgb: &[u8], instances: &[usize]) -> Result<Vec<f32>> {
    let (w, h) = (seg.mask_width(), seg.mask_height());
    let mut out = Vec::with_capacity(instances.len() * IMAGE_INPUT_LEN);
    for &k in instances {
        let instance = seg.instances().get(k).ok_or_else(|| {
            Error::InvalidPrompt(format!(
                "instance {k} does not exist ({} instances)",
                seg.len()
            ))
        })?;
        let (crop, cw, ch) = mask_region(rgb, w, h, &instance.mask)?.ok_or_else(|| {
            Error::InvalidPrompt(format!(
                "instance {k} has an empty mask; it cannot be scored"
            ))
        })?;
        out.extend(clip_input(&crop, cw, ch)?);
    }
    Ok(out)
}
