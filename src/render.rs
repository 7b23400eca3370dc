//! Drawing masks as a translucent, outlined RGBA overlay (what a demo or an app shows on top of
//! the photo), and finding the mask under the pointer.

use crate::mask::Mask;
use crate::segmentation::Segmentation;

/// How masks are drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct OverlayStyle {
    /// Fill colours, used in turn (mask `k` of the list gets `colors[k % len]`).
    pub colors: Vec<[u8; 3]>,
    /// Fill opacity, 0..=255.
    pub alpha: u8,
    /// Outline colour and opacity; `None` draws no outline.
    pub outline: Option<[u8; 4]>,
}

impl Default for OverlayStyle {
    fn default() -> Self {
        Self {
            colors: palette(24),
            alpha: 140,
            outline: Some([255, 255, 255, 230]),
        }
    }
}

/// `n` well-separated colours (golden-angle hues, full saturation, bright).
pub fn palette(n: usize) -> Vec<[u8; 3]> {
    (0..n.max(1))
        .map(|i| {
            let hue = (i as f64 * 137.507_764) % 360.0;
            let (s, v) = (0.75, 0.95);
            let c = v * s;
            let x = c * (1.0 - ((hue / 60.0) % 2.0 - 1.0).abs());
            let m = v - c;
            let (r, g, b) = match (hue / 60.0) as u32 {
                0 => (c, x, 0.0),
                1 => (x, c, 0.0),
                2 => (0.0, c, x),
                3 => (0.0, x, c),
                4 => (x, 0.0, c),
                _ => (c, 0.0, x),
            };
            [r, g, b].map(|v| ((v + m) * 255.0).round() as u8)
        })
        .collect()
}

/// Draws `masks` (all over one `width` x `height` frame) in order, later ones on top, into RGBA
/// bytes (transparent where no mask is).
pub fn render_overlay(width: u32, height: u32, masks: &[&Mask], style: &OverlayStyle) -> Vec<u8> {
    let w = width as usize;
    let mut rgba = vec![0u8; w * height as usize * 4];
    let colors = if style.colors.is_empty() {
        palette(1)
    } else {
        style.colors.clone()
    };
    for (k, mask) in masks.iter().enumerate() {
        let [r, g, b] = colors[k % colors.len()];
        let fill = [r, g, b, style.alpha];
        for (y, runs) in mask.rows() {
            let row = &mut rgba[y as usize * w * 4..(y as usize + 1) * w * 4];
            for &(a, e) in runs {
                for px in row[a as usize * 4..e as usize * 4].chunks_exact_mut(4) {
                    px.copy_from_slice(&fill);
                }
            }
        }
        if let Some(outline) = style.outline {
            mask.for_each_boundary_run(|y, a, e| {
                let row = &mut rgba[y as usize * w * 4..(y as usize + 1) * w * 4];
                for px in row[a as usize * 4..e as usize * 4].chunks_exact_mut(4) {
                    px.copy_from_slice(&outline);
                }
            });
        }
    }
    rgba
}

impl Segmentation {
    /// The smallest instance containing image pixel `(x, y)` (ties: better score), if any.
    pub fn mask_at(&self, x: f64, y: f64) -> Option<usize> {
        if !(x.is_finite() && y.is_finite()) || x < 0.0 || y < 0.0 {
            return None;
        }
        let (iw, ih) = (self.image_width() as f64, self.image_height() as f64);
        if x >= iw || y >= ih {
            return None;
        }
        let fx = (x * self.mask_width() as f64 / iw) as u32;
        let fy = (y * self.mask_height() as f64 / ih) as u32;
        self.instances()
            .iter()
            .enumerate()
            .filter(|(_, inst)| inst.mask.contains(fx, fy))
            .min_by(|(_, a), (_, b)| {
                a.mask
                    .area()
                    .cmp(&b.mask.area())
                    .then(b.score.total_cmp(&a.score))
            })
            .map(|(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_masks_draw_on_top_with_outlines() {
        let big = Mask::from_bitmap(4, 4, &[1; 16]);
        let mut small_bits = vec![0u8; 16];
        small_bits[5] = 1;
        let small = Mask::from_bitmap(4, 4, &small_bits);
        let style = OverlayStyle {
            colors: vec![[10, 20, 30], [40, 50, 60]],
            alpha: 100,
            outline: Some([1, 2, 3, 4]),
        };
        let rgba = render_overlay(4, 4, &[&big, &small], &style);
        // The full-frame mask has no boundary: filled everywhere.
        assert_eq!(&rgba[0..4], &[10, 20, 30, 100]);
        // The single pixel is all outline, drawn last.
        assert_eq!(&rgba[5 * 4..6 * 4], &[1, 2, 3, 4]);
        let plain = render_overlay(
            4,
            4,
            &[&small],
            &OverlayStyle {
                outline: None,
                ..style
            },
        );
        assert_eq!(&plain[5 * 4..6 * 4], &[10, 20, 30, 100]);
        assert_eq!(&plain[0..4], &[0, 0, 0, 0]);
    }

    #[test]
    fn palette_is_distinct() {
        let p = palette(24);
        for i in 0..p.len() {
            for j in i + 1..p.len() {
                assert_ne!(p[i], p[j]);
            }
        }
    }
}
