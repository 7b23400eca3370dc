//! Borrowed views of interleaved 8-bit images, validated once at the boundary.

use crate::error::{Error, Result};

/// The largest image accepted, in pixels (8192 x 8192). Larger photos should be downscaled first:
/// FastSAM sees at most 1024 px anyway, and full-resolution masks of bigger images do not fit a
/// browser's memory.
pub const MAX_PIXELS: u64 = 8192 * 8192;
/// The largest accepted width or height.
pub const MAX_SIDE: u32 = 16384;

/// Channel layout of an interleaved 8-bit image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// R, G, B bytes per pixel.
    Rgb,
    /// R, G, B, A bytes per pixel (`ImageData` layout); alpha is ignored.
    Rgba,
}

impl PixelFormat {
    /// Bytes per pixel.
    pub fn channels(self) -> usize {
        match self {
            PixelFormat::Rgb => 3,
            PixelFormat::Rgba => 4,
        }
    }
}

/// A validated, borrowed, row-major interleaved image.
#[derive(Debug, Clone, Copy)]
pub struct ImageView<'a> {
    data: &'a [u8],
    width: u32,
    height: u32,
    format: PixelFormat,
}

impl<'a> ImageView<'a> {
    /// Wraps `data` as a `width` x `height` image in `format`, checking size limits and buffer length.
    pub fn new(data: &'a [u8], width: u32, height: u32, format: PixelFormat) -> Result<Self> {
        check_dimensions(width, height)?;
        let expected = width as usize * height as usize * format.channels();
        if data.len() != expected {
            return Err(Error::InvalidImage(format!(
                "buffer has {} bytes but a {width}x{height} {} image needs {expected} ({width} x {height} x {})",
                data.len(),
                match format {
                    PixelFormat::Rgb => "RGB",
                    PixelFormat::Rgba => "RGBA",
                },
                format.channels()
            )));
        }
        Ok(Self {
            data,
            width,
            height,
            format,
        })
    }

    /// Wraps `data`, inferring RGB or RGBA from its length.
    pub fn from_interleaved(data: &'a [u8], width: u32, height: u32) -> Result<Self> {
        check_dimensions(width, height)?;
        let pixels = width as usize * height as usize;
        let format = if data.len() == pixels * 4 {
            PixelFormat::Rgba
        } else if data.len() == pixels * 3 {
            PixelFormat::Rgb
        } else {
            return Err(Error::InvalidImage(format!(
                "buffer has {} bytes; a {width}x{height} image needs {} (RGBA) or {} (RGB)",
                data.len(),
                pixels * 4,
                pixels * 3
            )));
        };
        Self::new(data, width, height, format)
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Channel layout.
    pub fn format(&self) -> PixelFormat {
        self.format
    }

    /// The raw interleaved bytes.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The bytes of row `y`.
    pub fn row(&self, y: usize) -> &'a [u8] {
        let stride = self.width as usize * self.format.channels();
        &self.data[y * stride..(y + 1) * stride]
    }
}

/// Checks that a `width` x `height` image is non-empty and within [`MAX_PIXELS`] / [`MAX_SIDE`].
pub fn check_dimensions(width: u32, height: u32) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::InvalidImage(format!(
            "image is {width}x{height}; both sides must be at least 1 pixel"
        )));
    }
    let pixels = width as u64 * height as u64;
    if width > MAX_SIDE || height > MAX_SIDE || pixels > MAX_PIXELS {
        return Err(Error::InvalidImage(format!(
            "image is {width}x{height} ({:.1} megapixels); the limit is {:.1} megapixels and {MAX_SIDE} px per side: downscale it first (FastSAM works at 1024 px at most)",
            pixels as f64 / 1e6,
            MAX_PIXELS as f64 / 1e6
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_empty_and_mismatched_buffers() {
        assert!(matches!(
            ImageView::new(&[], 0, 0, PixelFormat::Rgb),
            Err(Error::InvalidImage(_))
        ));
        let e = ImageView::new(&[0; 10], 2, 2, PixelFormat::Rgb).unwrap_err();
        assert!(e.message().contains("needs 12"), "{e}");
        let e = ImageView::from_interleaved(&[0; 10], 2, 2).unwrap_err();
        assert!(e.message().contains("16 (RGBA) or 12 (RGB)"), "{e}");
    }

    #[test]
    fn infers_channels_from_length() {
        assert_eq!(
            ImageView::from_interleaved(&[0; 16], 2, 2)
                .unwrap()
                .format(),
            PixelFormat::Rgba
        );
        assert_eq!(
            ImageView::from_interleaved(&[0; 12], 2, 2)
                .unwrap()
                .format(),
            PixelFormat::Rgb
        );
    }

    #[test]
    fn refuses_huge_images_before_touching_the_buffer() {
        let e = check_dimensions(16000, 16000).unwrap_err();
        assert!(e.message().contains("256.0 megapixels"), "{e}");
        assert!(check_dimensions(8192, 8192).is_ok());
        assert!(check_dimensions(16384, 100).is_ok());
        assert!(check_dimensions(16385, 1).is_err());
    }
}
