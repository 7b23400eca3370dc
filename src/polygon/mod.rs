//! Masks as polygons, the shapes labelling tools import: every outer boundary and every hole as a
//! closed ring ([`contours`], OpenCV's `findContours` with `RETR_CCOMP` and `CHAIN_APPROX_SIMPLE`),
//! simplified with a tolerance in pixels ([`simplify`], OpenCV's `approxPolyDP`).
//!
//! Coordinates are those of OpenCV and ultralytics' `masks.xy`: a ring runs through the centres of
//! the mask's boundary pixels, so pixel `(x, y)` is the point `[x, y]` and filling the ring covers
//! the mask less half a pixel around its edge.

pub mod cache;
pub mod contours;
pub mod simplify;

pub use cache::ContourCache;
pub use contours::{Contour, find_contours};

use simplify::Simplifier;

use crate::error::{Error, Result};
use crate::mask::Mask;

/// How [`polygons`] turns a mask's boundaries into polygons.
#[derive(Debug, Clone, PartialEq)]
pub struct PolygonOptions {
    /// Douglas-Peucker tolerance in pixels (`cv2.approxPolyDP`'s `epsilon`): every dropped boundary
    /// point lies within it of the ring. 0 gives the traced boundary itself (`findContours`'
    /// points). Default 1.
    pub tolerance: f64,
    /// Keep the rings of holes. Default true.
    pub holes: bool,
    /// Drop rings enclosing less than this many square pixels (`cv2.contourArea` of the ring; a
    /// lone pixel or a one-pixel line encloses 0). A dropped outer ring takes its holes with it.
    /// Default 0: keep every ring.
    pub min_area: f64,
    /// At most this many points per ring (at least 3): where the tolerance leaves more, the
    /// smallest larger tolerance that meets the limit is found by bisection. Default: no limit.
    pub max_points: Option<usize>,
    /// Keep only the polygon whose outer ring encloses the largest area. Default false.
    pub largest_only: bool,
    /// Divide x by the mask width and y by its height, giving 0..1 (ultralytics' `masks.xyn`).
    /// Default false: pixel coordinates.
    pub normalized: bool,
}

impl Default for PolygonOptions {
    fn default() -> Self {
        Self {
            tolerance: 1.0,
            holes: true,
            min_area: 0.0,
            max_points: None,
            largest_only: false,
            normalized: false,
        }
    }
}

impl PolygonOptions {
    /// Checks every field; the error names the one out of range.
    pub fn validate(&self) -> Result<()> {
        if !(self.tolerance.is_finite() && self.tolerance >= 0.0) {
            return Err(Error::InvalidOption(format!(
                "tolerance must be a finite number of pixels >= 0, got {}",
                self.tolerance
            )));
        }
        if !(self.min_area.is_finite() && self.min_area >= 0.0) {
            return Err(Error::InvalidOption(format!(
                "minArea must be a finite number of square pixels >= 0, got {}",
                self.min_area
            )));
        }
        if let Some(n) = self.max_points
            && n < 3
        {
            return Err(Error::InvalidOption(format!(
                "maxPoints must be at least 3 (a ring needs three points), got {n}"
            )));
        }
        Ok(())
    }
}

/// One region of a mask: its outer ring and the rings of the holes inside it. Rings are open
/// lists (the first point is not repeated at the end), `[x, y]` with y down.
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    /// The outer boundary, counter-clockwise on screen (down the left side first).
    pub exterior: Vec<[f64; 2]>,
    /// The holes, each clockwise on screen.
    pub holes: Vec<Vec<[f64; 2]>>,
}

/// The mask's regions as polygons, in OpenCV's order (see [`find_contours`]).
pub fn polygons(mask: &Mask, options: &PolygonOptions) -> Result<Vec<Polygon>> {
    options.validate()?;
    polygons_of_contours(&find_contours(mask), [mask.width(), mask.height()], options)
}

/// The mask's regions as polygons in the pixels of a `frame` (width, height) that shows the same
/// picture at another resolution: the image, for a mask made at `maskResolution: "low"`.
///
/// The rings are traced and simplified at the mask's own resolution, with `tolerance` and
/// `min_area` (given in frame pixels) scaled to it, and their points are mapped centre to centre:
/// `x' = (x + 0.5) * frame_width / mask_width - 0.5`, likewise in y, so a pixel centre lands on the
/// centre of the block of frame pixels it covers. `normalized` divides by the frame's size. With
/// `frame` the mask's own size this is [`polygons`].
pub fn polygons_in_frame(
    mask: &Mask,
    frame: [u32; 2],
    options: &PolygonOptions,
) -> Result<Vec<Polygon>> {
    options.validate()?;
    let own = [mask.width(), mask.height()];
    if frame == own {
        return polygons(mask, options);
    }
    if own.contains(&0) {
        return Ok(Vec::new());
    }
    let sx = frame[0] as f64 / own[0] as f64;
    let sy = frame[1] as f64 / own[1] as f64;
    let scale = sx.max(sy);
    let at_own_size = PolygonOptions {
        tolerance: options.tolerance / scale,
        min_area: options.min_area / (sx * sy),
        normalized: false,
        ..options.clone()
    };
    let (nx, ny) = if options.normalized {
        (frame[0].max(1) as f64, frame[1].max(1) as f64)
    } else {
        (1.0, 1.0)
    };
    let map = |ring: &mut Vec<[f64; 2]>| {
        for [x, y] in ring.iter_mut() {
            *x = ((*x + 0.5) * sx - 0.5) / nx;
            *y = ((*y + 0.5) * sy - 0.5) / ny;
        }
    };
    let mut polygons = polygons(mask, &at_own_size)?;
    for p in &mut polygons {
        map(&mut p.exterior);
        p.holes.iter_mut().for_each(map);
    }
    Ok(polygons)
}

/// The regions of contours already traced by [`find_contours`] from a mask of `size` (width,
/// height) as polygons: for callers that outline one mask at several options (a tolerance slider)
/// and trace it once.
pub fn polygons_of_contours(
    contours: &[Contour],
    size: [u32; 2],
    options: &PolygonOptions,
) -> Result<Vec<Polygon>> {
    options.validate()?;
    let scale = if options.normalized {
        [size[0].max(1) as f64, size[1].max(1) as f64]
    } else {
        [1.0, 1.0]
    };
    let finish = |ring: &[[u32; 2]]| -> Vec<[f64; 2]> {
        ring.iter()
            .map(|&[x, y]| [x as f64 / scale[0], y as f64 / scale[1]])
            .collect()
    };

    struct Region {
        area: f64,
        polygon: Polygon,
    }
    let mut regions: Vec<Region> = Vec::new();
    let mut region_of = vec![usize::MAX; contours.len()];
    // Areas are only read to filter rings or to pick the largest region.
    let needs_area = options.min_area > 0.0 || options.largest_only;
    let (mut simplifier, mut ring) = (Simplifier::default(), Vec::new());
    for (i, contour) in contours.iter().enumerate() {
        // A hole is kept when holes are and its outer ring was.
        let region = match contour.parent {
            None => None,
            Some(parent) if options.holes && region_of[parent] != usize::MAX => {
                Some(region_of[parent])
            }
            Some(_) => continue,
        };
        let area = if needs_area {
            ring_area(&contour.points)
        } else {
            0.0
        };
        if area < options.min_area {
            continue;
        }
        simplify_ring(&contour.points, options, &mut simplifier, &mut ring);
        match region {
            None => {
                region_of[i] = regions.len();
                regions.push(Region {
                    area,
                    polygon: Polygon {
                        exterior: finish(&ring),
                        holes: Vec::new(),
                    },
                });
            }
            Some(r) => regions[r].polygon.holes.push(finish(&ring)),
        }
    }
    if options.largest_only
        && let Some(best) = regions
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.area.total_cmp(&b.1.area).then(b.0.cmp(&a.0)))
            .map(|(i, _)| i)
    {
        regions = vec![regions.swap_remove(best)];
    }
    Ok(regions.into_iter().map(|region| region.polygon).collect())
}

/// The ring at the options' tolerance, or at the smallest larger one that keeps `max_points`, into
/// `out` (cleared first).
fn simplify_ring(
    ring: &[[u32; 2]],
    options: &PolygonOptions,
    simplifier: &mut Simplifier,
    out: &mut Vec<[u32; 2]>,
) {
    // Tolerance 0 is the traced ring itself, as findContours gives it (approxPolyDP at 0 would
    // keep the same points but start the ring elsewhere).
    if options.tolerance == 0.0 {
        out.clear();
        out.extend_from_slice(ring);
    } else {
        simplifier.approx_closed(ring, options.tolerance, out);
    }
    let Some(limit) = options.max_points else {
        return;
    };
    if out.len() <= limit {
        return;
    }
    // At the ring's bounding-box diagonal every point is within tolerance of the first: one point.
    let (mut low, mut high) = (options.tolerance, bounding_diagonal(ring));
    let mut best = Vec::new();
    simplifier.approx_closed(ring, high, &mut best);
    let mut candidate = Vec::new();
    for _ in 0..40 {
        if high - low <= 1e-3 {
            break;
        }
        let mid = 0.5 * (low + high);
        simplifier.approx_closed(ring, mid, &mut candidate);
        if candidate.len() <= limit {
            high = mid;
            std::mem::swap(&mut best, &mut candidate);
        } else {
            low = mid;
        }
    }
    std::mem::swap(out, &mut best);
}

fn bounding_diagonal(ring: &[[u32; 2]]) -> f64 {
    let (mut min, mut max) = ([u32::MAX; 2], [0u32; 2]);
    for p in ring {
        for k in 0..2 {
            min[k] = min[k].min(p[k]);
            max[k] = max[k].max(p[k]);
        }
    }
    let (dx, dy) = ((max[0] - min[0]) as f64, (max[1] - min[1]) as f64);
    (dx * dx + dy * dy).sqrt() + 1.0
}

/// The area a ring encloses (shoelace formula, as `cv2.contourArea`), in square pixels.
pub fn ring_area<T: Copy + Into<f64>>(ring: &[[T; 2]]) -> f64 {
    let n = ring.len();
    let mut twice = 0.0;
    for i in 0..n {
        let [x0, y0] = ring[i];
        let [x1, y1] = ring[(i + 1) % n];
        twice += x0.into() * y1.into() - x1.into() * y0.into();
    }
    (0.5 * twice).abs()
}
