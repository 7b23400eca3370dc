//! Letterboxing: fit an image into the model's square input exactly as ultralytics does for a
//! fixed-size export (keep aspect ratio, resize with OpenCV's bilinear, centre, pad with grey 114).

use super::resize::resize_rgb_rows;
use crate::image::ImageView;

/// The grey ultralytics pads with.
pub const PAD_VALUE: u8 = 114;

/// Where an image lands inside the model's `size` x `size` input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Letterbox {
    /// Side of the square model input.
    pub size: u32,
    /// Original image width.
    pub image_width: u32,
    /// Original image height.
    pub image_height: u32,
    /// Width of the resized image inside the input.
    pub new_width: u32,
    /// Height of the resized image inside the input.
    pub new_height: u32,
    /// Columns of padding on the left.
    pub left: u32,
    /// Rows of padding on top.
    pub top: u32,
}

impl Letterbox {
    /// Computes the placement of a `width` x `height` image in a `size` x `size` input
    /// (ultralytics `LetterBox(auto=False, scaleup=True, center=True)`).
    pub fn new(width: u32, height: u32, size: u32) -> Self {
        let ratio = f64::min(size as f64 / height as f64, size as f64 / width as f64);
        // Python's round() is round-half-to-even.
        let new_width = ((width as f64 * ratio).round_ties_even() as u32).max(1);
        let new_height = ((height as f64 * ratio).round_ties_even() as u32).max(1);
        let half_dw = (size - new_width) as f64 / 2.0;
        let half_dh = (size - new_height) as f64 / 2.0;
        Self {
            size,
            image_width: width,
            image_height: height,
            new_width,
            new_height,
            left: (half_dw - 0.1).round_ties_even() as u32,
            top: (half_dh - 0.1).round_ties_even() as u32,
        }
    }

    /// The letterboxed image as `size * size * 3` RGB bytes (row-major, interleaved).
    pub fn apply_u8(&self, image: &ImageView) -> Vec<u8> {
        let s = self.size as usize;
        let mut out = vec![PAD_VALUE; s * s * 3];
        self.for_each_row(image, |y, row| {
            let start = (y * s + self.left as usize) * 3;
            out[start..start + row.len()].copy_from_slice(row);
        });
        out
    }

    /// The network input: `3 * size * size` floats, planar RGB (CHW), each byte divided by 255.
    pub fn apply(&self, image: &ImageView) -> Vec<f32> {
        let s = self.size as usize;
        let plane = s * s;
        let mut out = vec![PAD_VALUE as f32 / 255.0; 3 * plane];
        let left = self.left as usize;
        self.for_each_row(image, |y, row| {
            for (x, rgb) in row.chunks_exact(3).enumerate() {
                let at = y * s + left + x;
                out[at] = rgb[0] as f32 / 255.0;
                out[plane + at] = rgb[1] as f32 / 255.0;
                out[2 * plane + at] = rgb[2] as f32 / 255.0;
            }
        });
        out
    }

    /// Calls `write(input_row, rgb_bytes)` for every row the image covers in the model input.
    fn for_each_row(&self, image: &ImageView, mut write: impl FnMut(usize, &[u8])) {
        let (w, h) = (image.width() as usize, image.height() as usize);
        let channels = image.format().channels();
        let top = self.top as usize;
        if (w, h) == (self.new_width as usize, self.new_height as usize) {
            let mut rgb = vec![0u8; w * 3];
            for y in 0..h {
                for (dst, src) in rgb
                    .chunks_exact_mut(3)
                    .zip(image.row(y).chunks_exact(channels))
                {
                    dst.copy_from_slice(&src[..3]);
                }
                write(top + y, &rgb);
            }
        } else {
            resize_rgb_rows(
                image.data(),
                w,
                h,
                channels,
                self.new_width as usize,
                self.new_height as usize,
                |y, row| write(top + y, row),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::PixelFormat;

    #[test]
    fn placement_matches_ultralytics_rounding() {
        // 1072x603 at 640: ratio 0.597, 640x360, pad 140 top and bottom.
        let lb = Letterbox::new(1072, 603, 640);
        assert_eq!(
            (lb.new_width, lb.new_height, lb.left, lb.top),
            (640, 360, 0, 140)
        );
        // Odd padding: the extra row goes to the bottom (round(dh - 0.1) on top).
        let lb = Letterbox::new(640, 479, 640);
        assert_eq!((lb.new_height, lb.top), (479, 80));
        // Small images are scaled up.
        let lb = Letterbox::new(257, 263, 640);
        assert_eq!(
            (lb.new_width, lb.new_height, lb.left, lb.top),
            (625, 640, 7, 0)
        );
        // A one-pixel-high strip keeps one row.
        assert_eq!(Letterbox::new(5000, 1, 640).new_height, 1);
    }

    #[test]
    fn pads_with_grey_and_normalises() {
        let data = vec![255u8; 4 * 2 * 4];
        let image = ImageView::new(&data, 4, 2, PixelFormat::Rgba).unwrap();
        let lb = Letterbox::new(4, 2, 8);
        let input = lb.apply(&image);
        assert_eq!(input.len(), 3 * 64);
        assert_eq!(input[0], 114.0 / 255.0); // top padding
        assert_eq!(input[(lb.top as usize) * 8], 1.0); // first image row
        assert_eq!(lb.apply_u8(&image).len(), 8 * 8 * 3);
    }
}
