//! Masks in the formats labelling and training tools import: COCO (polygons or RLE), YOLO
//! segmentation labels, SVG, GeoJSON and Label Studio (polygons or brush RLE). The polygon formats are made from
//! [`crate::polygon`]'s rings (boundary pixel centres, OpenCV's points), with its options.
//!
//! Every function returns the file's text (JSON for the JSON formats), ready to save or to parse.
//! Coordinates, areas, boxes and run-length codes are in the pixels of the image the exports are
//! given the size of: a mask made at a lower resolution (`MaskResolution::Low`) is mapped onto the
//! image ([`polygons_in_frame`], [`Mask::resampled`]).

mod brush;
mod json;

pub use brush::label_studio_rle;

use json::{number, push_number, string};

use crate::error::Result;
use crate::mask::Mask;
use std::borrow::Cow;

use crate::parallel;
use crate::polygon::{Polygon, PolygonOptions, polygons_in_frame};

/// One mask to export, with what the formats record about it.
#[derive(Debug, Clone, Copy)]
pub struct Shape<'a> {
    /// The mask, covering the whole image at the image's resolution or another one.
    pub mask: &'a Mask,
    /// Detection score (COCO `score`, GeoJSON and Label Studio `score`).
    pub score: f32,
    /// Instance index in its segmentation, if it is one (GeoJSON and SVG record it).
    pub index: Option<usize>,
}

/// How [`coco`] writes a segmentation.
#[derive(Debug, Clone, PartialEq)]
pub struct CocoOptions {
    /// Polygons (default) or, with false, COCO uncompressed RLE: exact, holes included.
    /// COCO polygons cannot describe holes (pycocotools fills the union of the rings), so polygon
    /// annotations are the masks' outer rings; a mask without a ring of three points or more (a
    /// few pixels in a line) is written as RLE.
    pub polygons: bool,
    /// How the polygons are traced and simplified (`holes` is ignored).
    pub polygon: PolygonOptions,
    /// `images[0].id` and every annotation's `image_id` (default 1).
    pub image_id: u64,
    /// `images[0].file_name` (default "image.png").
    pub file_name: String,
    /// The one category, `categories[0]` with id 1 (default "object").
    pub category: String,
}

impl Default for CocoOptions {
    fn default() -> Self {
        Self {
            polygons: true,
            polygon: PolygonOptions::default(),
            image_id: 1,
            file_name: "image.png".into(),
            category: "object".into(),
        }
    }
}

/// A whole-image COCO dataset: `images` (one), `annotations` (one per mask, ids from 1, with
/// `bbox` `[x, y, width, height]` and `area` of the mask's pixels, `iscrowd` 0 and `score`) and
/// `categories` (one).
pub fn coco(shapes: &[Shape], width: u32, height: u32, options: &CocoOptions) -> Result<String> {
    let polygon_options = PolygonOptions {
        holes: false,
        normalized: false,
        ..options.polygon.clone()
    };
    polygon_options.validate()?;
    let annotations = parallel::try_map(shapes, |i, shape| -> Result<String> {
        let rings: Vec<Vec<[f64; 2]>> = if options.polygons {
            polygons_in_frame(shape.mask, [width, height], &polygon_options)?
                .into_iter()
                .map(|p| p.exterior)
                .filter(|ring| ring.len() >= 3)
                .collect()
        } else {
            Vec::new()
        };
        let mask = in_image(shape.mask, width, height);
        let segmentation = if rings.is_empty() {
            rle_json(&mask)
        } else {
            let flat: Vec<String> = rings.iter().map(|r| flat_ring(r, 1.0, 1.0)).collect();
            format!("[{}]", flat.join(","))
        };
        let bbox = mask
            .bounds()
            .map_or([0; 4], |[x1, y1, x2, y2]| [x1, y1, x2 - x1, y2 - y1]);
        Ok(format!(
            "{{\"id\":{},\"image_id\":{},\"category_id\":1,\"segmentation\":{segmentation},\"area\":{},\"bbox\":[{},{},{},{}],\"iscrowd\":0,\"score\":{}}}",
            i + 1,
            options.image_id,
            mask.area(),
            bbox[0],
            bbox[1],
            bbox[2],
            bbox[3],
            number(shape.score as f64),
        ))
    })?;
    Ok(format!(
        "{{\"images\":[{{\"id\":{},\"width\":{width},\"height\":{height},\"file_name\":{}}}],\"annotations\":[{}],\"categories\":[{{\"id\":1,\"name\":{}}}]}}",
        options.image_id,
        string(&options.file_name),
        annotations.join(","),
        string(&options.category),
    ))
}

/// The mask at the image's resolution.
fn in_image(mask: &Mask, width: u32, height: u32) -> Cow<'_, Mask> {
    if (mask.width(), mask.height()) == (width, height) {
        Cow::Borrowed(mask)
    } else {
        Cow::Owned(mask.resampled(width, height))
    }
}

fn rle_json(mask: &Mask) -> String {
    let counts: Vec<String> = mask.coco_rle().iter().map(|c| c.to_string()).collect();
    format!(
        "{{\"size\":[{},{}],\"counts\":[{}]}}",
        mask.height(),
        mask.width(),
        counts.join(",")
    )
}

/// `[x0, y0, x1, y1, ...]` with x divided by `sx` and y by `sy`.
fn flat_ring(ring: &[[f64; 2]], sx: f64, sy: f64) -> String {
    let mut out = String::from("[");
    for (k, &[x, y]) in ring.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        push_number(&mut out, x / sx);
        out.push(',');
        push_number(&mut out, y / sy);
    }
    out.push(']');
    out
}

/// YOLO segmentation labels (ultralytics' `labels/*.txt`) for a `width` x `height` image: one line
/// per mask, `class x1 y1 x2 y2 ...` with coordinates divided by the image size (0..1, six
/// decimals). YOLO has one polygon per
/// object and no holes: a line holds the mask's largest outer ring; a mask without a ring of three
/// points or more has no line.
pub fn yolo(
    shapes: &[Shape],
    width: u32,
    height: u32,
    class: u32,
    polygon: &PolygonOptions,
) -> Result<String> {
    let options = PolygonOptions {
        holes: false,
        largest_only: true,
        normalized: true,
        ..polygon.clone()
    };
    options.validate()?;
    let lines = parallel::try_map(shapes, |_, shape| -> Result<String> {
        let mut text = String::new();
        for p in polygons_in_frame(shape.mask, [width, height], &options)? {
            if p.exterior.len() < 3 {
                continue;
            }
            text.push_str(&class.to_string());
            for [x, y] in &p.exterior {
                text.push(' ');
                text.push_str(&six_decimals(*x));
                text.push(' ');
                text.push_str(&six_decimals(*y));
            }
            text.push('\n');
        }
        Ok(text)
    })?;
    Ok(lines.concat())
}

fn six_decimals(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".into()
    } else {
        s.into()
    }
}

/// SVG path data of polygons: `M x y L x y ... Z` per ring, holes included, for
/// `fill-rule="evenodd"` (holes also run opposite to their outer ring, so `nonzero` works too).
pub fn svg_path(polygons: &[Polygon]) -> String {
    let mut d = String::new();
    for p in polygons {
        for ring in std::iter::once(&p.exterior).chain(&p.holes) {
            for (k, [x, y]) in ring.iter().enumerate() {
                d.push(if k == 0 { 'M' } else { 'L' });
                push_number(&mut d, *x);
                d.push(' ');
                push_number(&mut d, *y);
            }
            if !ring.is_empty() {
                d.push('Z');
            }
        }
    }
    d
}

/// An SVG document of the image's size with one `<path>` per mask (`data-index`, `data-score`,
/// a fill colour from `colors` in turn, translucent, outlined). The paths' points are pixel
/// centres, so the group is shifted by half a pixel to sit on the image's pixels.
pub fn svg(
    shapes: &[Shape],
    width: u32,
    height: u32,
    polygon: &PolygonOptions,
    colors: &[[u8; 3]],
) -> Result<String> {
    let options = PolygonOptions {
        normalized: false,
        ..polygon.clone()
    };
    options.validate()?;
    let mut text = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n<g transform=\"translate(0.5 0.5)\" fill-rule=\"evenodd\" fill-opacity=\"0.55\" stroke=\"#fff\" stroke-opacity=\"0.9\" stroke-linejoin=\"round\">\n"
    );
    let paths = parallel::try_map(shapes, |i, shape| -> Result<String> {
        let d = svg_path(&polygons_in_frame(shape.mask, [width, height], &options)?);
        let [r, g, b] = colors
            .get(i % colors.len().max(1))
            .copied()
            .unwrap_or([30, 144, 255]);
        let index = shape
            .index
            .map(|k| format!(" data-index=\"{k}\""))
            .unwrap_or_default();
        Ok(format!(
            "<path{index} data-score=\"{}\" fill=\"rgb({r},{g},{b})\" d=\"{d}\"/>\n",
            number(shape.score as f64)
        ))
    })?;
    text.push_str(&paths.concat());
    text.push_str("</g>\n</svg>\n");
    Ok(text)
}

/// A GeoJSON `FeatureCollection` of a `width` x `height` image's masks, one `Feature` per mask: a
/// `Polygon` (one region) or `MultiPolygon` geometry in pixel coordinates with y pointing down (not geographic
/// coordinates), rings closed (the first point repeated last), rings of fewer than three points
/// left out (`null` geometry when none is left); `properties`: `index`, `score`, `area` (pixels).
pub fn geojson(
    shapes: &[Shape],
    width: u32,
    height: u32,
    polygon: &PolygonOptions,
) -> Result<String> {
    polygon.validate()?;
    let features = parallel::try_map(shapes, |_, shape| -> Result<String> {
        let mut polygons = Vec::new();
        for p in polygons_in_frame(shape.mask, [width, height], polygon)? {
            if p.exterior.len() < 3 {
                continue;
            }
            let rings: Vec<String> = std::iter::once(&p.exterior)
                .chain(p.holes.iter().filter(|h| h.len() >= 3))
                .map(|ring| closed_ring(ring))
                .collect();
            polygons.push(format!("[{}]", rings.join(",")));
        }
        let geometry = match polygons.len() {
            0 => "null".to_string(),
            1 => format!("{{\"type\":\"Polygon\",\"coordinates\":{}}}", polygons[0]),
            _ => format!(
                "{{\"type\":\"MultiPolygon\",\"coordinates\":[{}]}}",
                polygons.join(",")
            ),
        };
        let index = shape.index.map_or("null".to_string(), |i| i.to_string());
        Ok(format!(
            "{{\"type\":\"Feature\",\"geometry\":{geometry},\"properties\":{{\"index\":{index},\"score\":{},\"area\":{}}}}}",
            number(shape.score as f64),
            in_image(shape.mask, width, height).area()
        ))
    })?;
    Ok(format!(
        "{{\"type\":\"FeatureCollection\",\"features\":[{}]}}",
        features.join(",")
    ))
}

fn closed_ring(ring: &[[f64; 2]]) -> String {
    let mut out = String::from("[");
    for (k, &[x, y]) in ring.iter().chain(ring.first()).enumerate() {
        if k > 0 {
            out.push(',');
        }
        out.push('[');
        push_number(&mut out, x);
        out.push(',');
        push_number(&mut out, y);
        out.push(']');
    }
    out.push(']');
    out
}

/// Where Label Studio results go in the user's labelling config.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelStudioOptions {
    /// The `<PolygonLabels name=...>` (or `<BrushLabels name=...>`) control (default "label").
    pub from_name: String,
    /// The `<Image name=...>` object (default "image").
    pub to_name: String,
    /// The label every shape gets (default "object").
    pub label: String,
    /// `brushlabels` results in Label Studio's brush RLE (exact masks, holes included) instead of
    /// `polygonlabels` (default false).
    pub brush: bool,
    /// How polygons are traced and simplified (`holes` is ignored; unused for brush results).
    pub polygon: PolygonOptions,
}

impl Default for LabelStudioOptions {
    fn default() -> Self {
        Self {
            from_name: "label".into(),
            to_name: "image".into(),
            label: "object".into(),
            brush: false,
            polygon: PolygonOptions::default(),
        }
    }
}

/// Label Studio results (the `result` list of a prediction or annotation), with
/// `original_width`/`original_height` and the mask's `score`: `polygonlabels`, one per outer ring
/// of three points or more (Label Studio polygons have no holes), points in percent of the image
/// size; or with `brush`, `brushlabels`, one per non-empty mask, `{"format": "rle", "rle": [...]}`
/// ([`label_studio_rle`]).
pub fn label_studio(
    shapes: &[Shape],
    width: u32,
    height: u32,
    options: &LabelStudioOptions,
) -> Result<String> {
    let polygon = PolygonOptions {
        holes: false,
        normalized: false,
        ..options.polygon.clone()
    };
    polygon.validate()?;
    if options.brush {
        return label_studio_brush(shapes, width, height, options);
    }
    let (w, h) = (width.max(1) as f64, height.max(1) as f64);
    let results = parallel::try_map(shapes, |i, shape| -> Result<Vec<String>> {
        let polygons = polygons_in_frame(shape.mask, [width, height], &polygon)?;
        let mut results = Vec::new();
        for (k, p) in polygons.iter().enumerate() {
            if p.exterior.len() < 3 {
                continue;
            }
            let points: Vec<String> = p
                .exterior
                .iter()
                .map(|[x, y]| format!("[{},{}]", number(x * 100.0 / w), number(y * 100.0 / h)))
                .collect();
            results.push(label_studio_result(
                &format!("{}-{k}", shape.index.unwrap_or(i)),
                "polygonlabels",
                &format!("\"points\":[{}],\"closed\":true", points.join(",")),
                shape.score,
                (width, height),
                options,
            ));
        }
        Ok(results)
    })?;
    Ok(format!("[{}]", results.concat().join(",")))
}

fn label_studio_brush(
    shapes: &[Shape],
    width: u32,
    height: u32,
    options: &LabelStudioOptions,
) -> Result<String> {
    let results = parallel::try_map(shapes, |i, shape| -> Result<Option<String>> {
        if shape.mask.is_empty() {
            return Ok(None);
        }
        let rle: Vec<String> = label_studio_rle(&in_image(shape.mask, width, height))?
            .iter()
            .map(|b| b.to_string())
            .collect();
        Ok(Some(label_studio_result(
            &shape.index.unwrap_or(i).to_string(),
            "brushlabels",
            &format!("\"format\":\"rle\",\"rle\":[{}]", rle.join(",")),
            shape.score,
            (width, height),
            options,
        )))
    })?;
    let results: Vec<String> = results.into_iter().flatten().collect();
    Ok(format!("[{}]", results.join(",")))
}

/// One Label Studio result of type `kind` (`polygonlabels`, `brushlabels`): `value` holds the
/// shape's `fields`, then the label under the `kind` key.
fn label_studio_result(
    id: &str,
    kind: &str,
    fields: &str,
    score: f32,
    (width, height): (u32, u32),
    options: &LabelStudioOptions,
) -> String {
    format!(
        "{{\"id\":{},\"type\":\"{kind}\",\"from_name\":{},\"to_name\":{},\"original_width\":{width},\"original_height\":{height},\"image_rotation\":0,\"value\":{{{fields},\"{kind}\":[{}]}},\"score\":{}}}",
        string(id),
        string(&options.from_name),
        string(&options.to_name),
        string(&options.label),
        number(score as f64),
    )
}
