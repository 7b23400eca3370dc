//! `Segmentation` (one model run, prompted many times) and `Mask` (one result bitmap).

use std::rc::Rc;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::convert::{self, BoxOptionsJs, PointOptionsJs, PolygonOptionsJs, TextOptionsJs};
use super::error::{invalid, to_js};
use super::text::{TextSlot, TextState, match_sentences};
use crate::error::Error;
use crate::formats;
use crate::mask::Mask;
use crate::polygon::{Contour, ContourCache, Polygon, polygons_of_contours};
use crate::prompt::Selection;
use crate::render::{OverlayStyle, render_overlay};
use crate::segmentation::Segmentation;

/// How long each stage of `segment()` took, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Timings {
    pub preprocess_ms: f64,
    pub inference_ms: f64,
    pub postprocess_ms: f64,
}

/// Every instance FastSAM found in one image. Prompts select among them without re-running the
/// model. free() releases the masks' memory once every `Mask` taken from it is freed too: a Mask
/// of an instance (from `everything()`, `mask(i)`, a click or a box) shares it. Free the masks
/// you keep, or use `using` declarations.
#[wasm_bindgen(js_name = Segmentation)]
pub struct SegmentationJs {
    inner: Rc<Segmentation>,
    timings: Timings,
    /// The model's text encoder slot.
    text: TextSlot,
    /// The image and region embeddings for the text prompt.
    text_state: Rc<TextState>,
    /// The boundaries of the masks outlined last, shared by every `Mask` of this segmentation.
    outlines: Rc<ContourCache>,
}

impl SegmentationJs {
    pub fn new(
        seg: Segmentation,
        timings: Timings,
        text: TextSlot,
        text_state: Rc<TextState>,
    ) -> Self {
        Self {
            inner: Rc::new(seg),
            timings,
            text,
            text_state,
            outlines: Rc::default(),
        }
    }

    /// Runs the text prompt; the future owns everything it needs. Also returns the options used.
    fn text_matches(
        &self,
        prompt: &JsValue,
        options: Option<js_sys::Object>,
    ) -> Result<
        (
            impl std::future::Future<Output = crate::Result<Vec<crate::clip::TextMatch>>> + use<>,
            crate::clip::TextOptions,
        ),
        JsValue,
    > {
        let runner = self.text.get().ok_or_else(|| {
            invalid(
                Error::InvalidPrompt,
                "no text encoder is loaded; call model.loadTextEncoder({image, text, vocab}) first",
            )
        })?;
        let sentences = convert::sentences(prompt)?;
        let options: TextOptionsJs = convert::options(options, "text options")?;
        let options = crate::clip::TextOptions {
            threshold: options.threshold,
        };
        let future = match_sentences(
            runner,
            self.inner.clone(),
            self.text_state.clone(),
            sentences,
            options,
        );
        Ok((future, options))
    }

    /// The error for an instance index past the end.
    fn out_of_range(&self, index: usize) -> JsValue {
        invalid(
            Error::InvalidPrompt,
            format!(
                "mask index {index} is out of range; this segmentation has {} masks",
                self.inner.len()
            ),
        )
    }

    /// The instance indices a caller names, checked (default: every instance, largest first).
    fn order(&self, indices: Option<Vec<u32>>) -> Result<Vec<usize>, JsValue> {
        let order: Vec<usize> = match indices {
            Some(list) => list.into_iter().map(|i| i as usize).collect(),
            None => self.inner.everything(),
        };
        match order.iter().find(|&&i| i >= self.inner.len()) {
            Some(&bad) => Err(self.out_of_range(bad)),
            None => Ok(order),
        }
    }

    /// The instances `indices` names (default: every one, largest first) for an export.
    fn shapes(&self, indices: Option<Vec<u32>>) -> Result<Vec<formats::Shape<'_>>, JsValue> {
        let instances = self.inner.instances();
        Ok(self
            .order(indices)?
            .into_iter()
            .map(|i| formats::Shape {
                mask: &instances[i].mask,
                score: instances[i].score,
                index: Some(i),
            })
            .collect())
    }

    fn instance(&self, index: usize) -> MaskJs {
        MaskJs::instance(self.inner.clone(), index, self.outlines.clone())
    }
}

/// The instances `text()` returns: one best per sentence (duplicates kept, so the list lines up
/// with the sentences), or with a threshold every passing instance once, by its best cosine over
/// the sentences.
fn text_selection(matches: &[crate::clip::TextMatch], thresholded: bool) -> Vec<usize> {
    if !thresholded {
        return matches
            .iter()
            .flat_map(|m| m.selected.iter().copied())
            .collect();
    }
    let mut best: Vec<(usize, f32)> = Vec::new();
    for m in matches {
        for &i in &m.selected {
            let cosine = m
                .scores
                .iter()
                .find(|s| s.instance == i)
                .map_or(f32::NEG_INFINITY, |s| s.cosine);
            match best.iter_mut().find(|(j, _)| *j == i) {
                Some((_, c)) => *c = c.max(cosine),
                None => best.push((i, cosine)),
            }
        }
    }
    best.sort_by(|a, b| b.1.total_cmp(&a.1));
    best.into_iter().map(|(i, _)| i).collect()
}

#[derive(Serialize)]
struct TextScoreJs {
    index: usize,
    cosine: f32,
    probability: f32,
}

#[derive(Serialize)]
struct ProposalJs {
    bbox: [f32; 4],
    score: f32,
    index: usize,
}

#[wasm_bindgen(js_class = Segmentation)]
impl SegmentationJs {
    /// Image width in pixels.
    #[wasm_bindgen(getter)]
    pub fn width(&self) -> u32 {
        self.inner.image_width()
    }

    /// Image height in pixels.
    #[wasm_bindgen(getter)]
    pub fn height(&self) -> u32 {
        self.inner.image_height()
    }

    /// Mask width (the image width unless `maskResolution: "low"`).
    #[wasm_bindgen(getter, js_name = maskWidth)]
    pub fn mask_width(&self) -> u32 {
        self.inner.mask_width()
    }

    /// Mask height.
    #[wasm_bindgen(getter, js_name = maskHeight)]
    pub fn mask_height(&self) -> u32 {
        self.inner.mask_height()
    }

    /// Number of instances.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.inner.len()
    }

    /// Letterboxing time, ms.
    #[wasm_bindgen(getter, js_name = preprocessMs)]
    pub fn preprocess_ms(&self) -> f64 {
        self.timings.preprocess_ms
    }

    /// Network time, ms: the run and its outputs read back (on WebGPU with `maskAssembly: "gpu"`,
    /// `output0` only; the masks' readback counts as post-processing).
    #[wasm_bindgen(getter, js_name = inferenceMs)]
    pub fn inference_ms(&self) -> f64 {
        self.timings.inference_ms
    }

    /// NMS and mask assembly time (on the GPU or the CPU), ms.
    #[wasm_bindgen(getter, js_name = postprocessMs)]
    pub fn postprocess_ms(&self) -> f64 {
        self.timings.postprocess_ms
    }

    /// Instance `index` (detection order, best score first).
    pub fn mask(&self, index: usize) -> Result<MaskJs, JsValue> {
        if index >= self.inner.len() {
            return Err(self.out_of_range(index));
        }
        Ok(self.instance(index))
    }

    /// Every mask, largest first.
    pub fn everything(&self) -> Vec<MaskJs> {
        self.inner
            .everything()
            .into_iter()
            .map(|i| self.instance(i))
            .collect()
    }

    /// Point prompt. `points`: `[[x, y], ...]` in image pixels; `labels`: 1 = object, 0 = background
    /// (all 1 when omitted). The default (official) mode returns one merged mask.
    pub fn points(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Array<[number, number]>")] points: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "number[]")] labels: Option<js_sys::Array>,
        #[wasm_bindgen(unchecked_optional_param_type = "PointOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> Result<Vec<MaskJs>, JsValue> {
        let points: Vec<[f64; 2]> = convert::argument(&points, "points must be [[x, y], ...]")?;
        let labels: Vec<i32> = match labels {
            Some(l) => convert::argument(&l.into(), "labels must be an array of 1 and 0")?,
            None => vec![1; points.len()],
        };
        let options: PointOptionsJs = convert::options(options, "point options")?;
        let selections = self
            .inner
            .points(&points, &labels, options.mode()?)
            .map_err(to_js)?;
        Ok(selections
            .into_iter()
            .map(|s| match s {
                Selection::Instance(i) => self.instance(i),
                Selection::Merged { mask, score, .. } => MaskJs::owned(mask, score),
            })
            .collect())
    }

    /// Box prompt. `boxes`: `[[x1, y1, x2, y2], ...]` in image pixels; for each box the mask with
    /// the highest IoU, duplicates removed.
    pub fn boxes(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Array<[number, number, number, number]>")]
        boxes: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "BoxOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> Result<Vec<MaskJs>, JsValue> {
        let boxes: Vec<[f64; 4]> =
            convert::argument(&boxes, "boxes must be [[x1, y1, x2, y2], ...]")?;
        let options: BoxOptionsJs = convert::options(options, "box options")?;
        let chosen = self.inner.boxes(&boxes, options.mode()?).map_err(to_js)?;
        Ok(chosen.into_iter().map(|i| self.instance(i)).collect())
    }

    /// Text prompt (CLIP): `prompt` is a sentence or an array of sentences. Without a threshold,
    /// resolves to the best mask of each sentence, in sentence order (the official behaviour;
    /// empty when no mask has more than 100 pixels); with `options.threshold`, to every mask
    /// whose cosine with some sentence is at least the threshold, once, by its best cosine.
    /// Masks of 100 pixels or fewer are not scored. The first call embeds every mask's region;
    /// later calls only embed the sentences. Needs `model.loadTextEncoder` before `segment()`
    /// (the segmentation keeps its image only then).
    #[wasm_bindgen(unchecked_return_type = "Promise<Mask[]>")]
    pub fn text(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | string[]")] prompt: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TextOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> js_sys::Promise {
        let prepared = self.text_matches(&prompt, options);
        let (seg, outlines) = (self.inner.clone(), self.outlines.clone());
        wasm_bindgen_futures::future_to_promise(async move {
            let (future, options) = prepared?;
            let matches = future.await.map_err(to_js)?;
            let picked = text_selection(&matches, options.threshold.is_some());
            let masks = js_sys::Array::new();
            for i in picked {
                masks.push(&JsValue::from(MaskJs::instance(
                    seg.clone(),
                    i,
                    outlines.clone(),
                )));
            }
            Ok(masks.into())
        })
    }

    /// The CLIP scores behind `text()`: for each sentence, every scored mask with its cosine
    /// similarity and softmax probability, in detection order.
    #[wasm_bindgen(js_name = textScores, unchecked_return_type = "Promise<TextScore[][]>")]
    pub fn text_scores(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | string[]")] prompt: JsValue,
    ) -> js_sys::Promise {
        let prepared = self.text_matches(&prompt, None);
        wasm_bindgen_futures::future_to_promise(async move {
            let matches = prepared?.0.await.map_err(to_js)?;
            let list: Vec<Vec<TextScoreJs>> = matches
                .iter()
                .map(|m| {
                    m.scores
                        .iter()
                        .map(|s| TextScoreJs {
                            index: s.instance,
                            cosine: s.cosine,
                            probability: s.probability,
                        })
                        .collect()
                })
                .collect();
            serde_wasm_bindgen::to_value(&list).map_err(JsValue::from)
        })
    }

    /// The masks' regions as polygons (default: every mask, largest first), each mask as
    /// `{index, score, area, bbox, width, height, polygons}` with the polygons of
    /// `Mask.toPolygons(options)`. The masks are traced at once, on the thread pool in the threaded
    /// build; the boundaries of the last ones traced are kept for outlining them again.
    #[wasm_bindgen(unchecked_return_type = "PolygonMask[]")]
    pub fn polygons(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "number[] | Uint32Array")] indices: Option<
            Vec<u32>,
        >,
        #[wasm_bindgen(unchecked_optional_param_type = "PolygonOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> Result<Vec<JsValue>, JsValue> {
        let options =
            convert::options::<PolygonOptionsJs>(options, "polygon options")?.resolve()?;
        let order = self.order(indices)?;
        let instances = self.inner.instances();
        let keyed: Vec<(usize, &Mask)> = order.iter().map(|&i| (i, &instances[i].mask)).collect();
        let contours = self.outlines.contours_of(&keyed);
        let traced: Vec<&[Contour]> = contours.iter().map(|c| &**c).collect();
        let size = [self.inner.mask_width(), self.inner.mask_height()];
        let polygons = crate::parallel::try_map(&traced, |_, contours| {
            polygons_of_contours(contours, size, &options)
        })
        .map_err(to_js)?;
        order
            .iter()
            .zip(&polygons)
            .map(|(&i, polygons)| {
                let instance = &instances[i];
                let info = MaskInfoJs {
                    index: i,
                    score: instance.score,
                    area: instance.mask.area() as f64,
                    bbox: instance.bbox,
                    width: size[0],
                    height: size[1],
                };
                let object = serde_wasm_bindgen::to_value(&info)?;
                js_sys::Reflect::set(&object, &"polygons".into(), &polygons_to_js(polygons))?;
                Ok(object)
            })
            .collect()
    }

    /// Draws instances as a translucent, outlined overlay over the mask frame, later ones on top.
    /// `indices` defaults to every instance, largest first (small objects stay visible). Options:
    /// `alpha` (0-255, default 140), `outline` (`[r, g, b, a]`, `null` for none), `colors`.
    pub fn overlay(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "number[] | Uint32Array")] indices: Option<
            Vec<u32>,
        >,
        #[wasm_bindgen(unchecked_optional_param_type = "OverlayOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> Result<web_sys::ImageData, JsValue> {
        let style = convert::overlay_style(options)?;
        let masks: Vec<&Mask> = self
            .order(indices)?
            .iter()
            .map(|&i| &self.inner.instances()[i].mask)
            .collect();
        let (w, h) = (self.inner.mask_width(), self.inner.mask_height());
        convert::image_data(&render_overlay(w, h, &masks, &style), w, h)
    }

    /// COCO dataset of the masks (default: every mask, largest first): `{images, annotations,
    /// categories}`, polygon segmentations unless `polygons: false` (then RLE).
    #[wasm_bindgen(js_name = toCoco, unchecked_return_type = "CocoDataset")]
    pub fn to_coco(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "number[] | Uint32Array")] indices: Option<
            Vec<u32>,
        >,
        #[wasm_bindgen(unchecked_optional_param_type = "CocoOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> Result<JsValue, JsValue> {
        let (polygon, own): (_, convert::CocoOptionsJs) =
            convert::export_options(options, "COCO options")?;
        let d = formats::CocoOptions::default();
        let image_id = match own.image_id {
            None => d.image_id,
            Some(v) if v.fract() == 0.0 && (0.0..9.0e15).contains(&v) => v as u64,
            Some(v) => {
                return Err(invalid(
                    Error::InvalidOption,
                    format!("imageId must be a whole number >= 0, got {v}"),
                ));
            }
        };
        let options = formats::CocoOptions {
            polygons: own.polygons.unwrap_or(d.polygons),
            polygon,
            image_id,
            file_name: own.file_name.unwrap_or(d.file_name),
            category: own.category.unwrap_or(d.category),
        };
        let shapes = self.shapes(indices)?;
        let (w, h) = (self.width(), self.height());
        parse_json(&formats::coco(&shapes, w, h, &options).map_err(to_js)?)
    }

    /// YOLO segmentation labels of the masks (default: every mask, largest first): one line per
    /// mask, `class x1 y1 x2 y2 ...` normalised to 0..1 (the mask's largest outer ring).
    #[wasm_bindgen(js_name = toYolo)]
    pub fn to_yolo(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "number[] | Uint32Array")] indices: Option<
            Vec<u32>,
        >,
        #[wasm_bindgen(unchecked_optional_param_type = "YoloOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> Result<String, JsValue> {
        let (polygon, own): (_, convert::YoloOptionsJs) =
            convert::export_options(options, "YOLO options")?;
        let shapes = self.shapes(indices)?;
        let (w, h) = (self.width(), self.height());
        formats::yolo(&shapes, w, h, own.class_id.unwrap_or(0), &polygon).map_err(to_js)
    }

    /// An SVG document of the masks (default: every mask, largest first), one `<path>` each.
    #[wasm_bindgen(js_name = toSvg)]
    pub fn to_svg(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "number[] | Uint32Array")] indices: Option<
            Vec<u32>,
        >,
        #[wasm_bindgen(unchecked_optional_param_type = "SvgOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> Result<String, JsValue> {
        let (polygon, own): (_, convert::SvgOptionsJs) =
            convert::export_options(options, "SVG options")?;
        let colors = own
            .colors
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| OverlayStyle::default().colors);
        let shapes = self.shapes(indices)?;
        let (w, h) = (self.width(), self.height());
        formats::svg(&shapes, w, h, &polygon, &colors).map_err(to_js)
    }

    /// A GeoJSON `FeatureCollection` of the masks (default: every mask, largest first), pixel
    /// coordinates with y down.
    #[wasm_bindgen(js_name = toGeoJson, unchecked_return_type = "GeoJsonFeatureCollection")]
    pub fn to_geojson(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "number[] | Uint32Array")] indices: Option<
            Vec<u32>,
        >,
        #[wasm_bindgen(unchecked_optional_param_type = "PolygonExportOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> Result<JsValue, JsValue> {
        let (polygon, _): (_, convert::NoOptionsJs) =
            convert::export_options(options, "GeoJSON options")?;
        let shapes = self.shapes(indices)?;
        let (w, h) = (self.width(), self.height());
        parse_json(&formats::geojson(&shapes, w, h, &polygon).map_err(to_js)?)
    }

    /// Label Studio results of the masks (default: every mask, largest first): `polygonlabels`,
    /// or `brushlabels` in Label Studio's brush RLE with `{ brush: true }`.
    #[wasm_bindgen(js_name = toLabelStudio, unchecked_return_type = "LabelStudioResult[]")]
    pub fn to_label_studio(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "number[] | Uint32Array")] indices: Option<
            Vec<u32>,
        >,
        #[wasm_bindgen(unchecked_optional_param_type = "LabelStudioOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> Result<JsValue, JsValue> {
        let (polygon, own): (_, convert::LabelStudioOptionsJs) =
            convert::export_options(options, "Label Studio options")?;
        let d = formats::LabelStudioOptions::default();
        let options = formats::LabelStudioOptions {
            from_name: own.from_name.unwrap_or(d.from_name),
            to_name: own.to_name.unwrap_or(d.to_name),
            label: own.label.unwrap_or(d.label),
            brush: own.brush.unwrap_or(d.brush),
            polygon,
        };
        let shapes = self.shapes(indices)?;
        let (w, h) = (self.width(), self.height());
        parse_json(&formats::label_studio(&shapes, w, h, &options).map_err(to_js)?)
    }

    /// Index of the smallest mask under image pixel `(x, y)`, `undefined` if none (for hover).
    #[wasm_bindgen(js_name = maskAt)]
    pub fn mask_at(&self, x: f64, y: f64) -> Option<u32> {
        self.inner.mask_at(x, y).map(|i| i as u32)
    }

    /// The boundaries of every mask as one mask.
    pub fn edges(&self) -> MaskJs {
        MaskJs::owned(self.inner.edges(), 0.0)
    }

    /// Object proposals: the `k` best-scoring boxes.
    #[wasm_bindgen(unchecked_return_type = "Proposal[]")]
    pub fn proposals(&self, k: usize) -> Result<JsValue, JsValue> {
        let list: Vec<ProposalJs> = self
            .inner
            .proposals(k)
            .into_iter()
            .map(|index| {
                let inst = &self.inner.instances()[index];
                ProposalJs {
                    bbox: inst.bbox,
                    score: inst.score,
                    index,
                }
            })
            .collect();
        serde_wasm_bindgen::to_value(&list).map_err(JsValue::from)
    }
}

enum Source {
    Instance(Rc<Segmentation>, usize),
    Owned {
        mask: Mask,
        score: f32,
        bbox: [f32; 4],
    },
}

/// One mask: its bitmap, box, score and area. A mask of an instance shares its segmentation's
/// memory, which stays allocated until both are freed; a merged point mask or `edges()` owns its
/// own.
#[wasm_bindgen(js_name = Mask)]
pub struct MaskJs {
    source: Source,
    /// Where its traced boundaries are kept: its segmentation's cache for an instance (so every
    /// `Mask` of that instance reuses them), its own for a mask a prompt built.
    outlines: Rc<ContourCache>,
}

#[wasm_bindgen(inline_js = r#"
/** `[{exterior, holes}]` from rings laid end to end: `coords` holds every ring's x, y pairs,
 * `ringPoints` each ring's point count (a polygon's exterior, then its holes), `holeCounts` each
 * polygon's number of holes. One call builds them all, where a call per ring cost more. */
export function polygonsFromRings(coords, ringPoints, holeCounts) {
  let ring = 0;
  let at = 0;
  const take = () => {
    const n = 2 * ringPoints[ring++];
    const flat = new Array(n);
    for (let i = 0; i < n; i++) flat[i] = coords[at + i];
    at += n;
    return flat;
  };
  const polygons = new Array(holeCounts.length);
  for (let p = 0; p < polygons.length; p++) {
    const exterior = take();
    const holes = new Array(holeCounts[p]);
    for (let h = 0; h < holes.length; h++) holes[h] = take();
    polygons[p] = { exterior, holes };
  }
  return polygons;
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = polygonsFromRings)]
    fn polygons_from_rings(coords: &[f64], ring_points: &[u32], hole_counts: &[u32]) -> JsValue;
}

/// Polygons as JavaScript gets them: `{exterior, holes}` with flat `[x0, y0, x1, y1, ...]` number
/// arrays (COCO's layout), built in one call from the rings laid end to end.
fn polygons_to_js(polygons: &[Polygon]) -> JsValue {
    let points: usize = polygons
        .iter()
        .map(|p| p.exterior.len() + p.holes.iter().map(Vec::len).sum::<usize>())
        .sum();
    let mut coords = Vec::with_capacity(2 * points);
    let mut ring_points = Vec::new();
    let mut hole_counts = Vec::with_capacity(polygons.len());
    for polygon in polygons {
        for ring in std::iter::once(&polygon.exterior).chain(&polygon.holes) {
            coords.extend_from_slice(ring.as_flattened());
            ring_points.push(ring.len() as u32);
        }
        hole_counts.push(polygon.holes.len() as u32);
    }
    polygons_from_rings(&coords, &ring_points, &hole_counts)
}

/// JSON text made by [`formats`] as a JavaScript value.
fn parse_json(text: &str) -> Result<JsValue, JsValue> {
    js_sys::JSON::parse(text)
}

/// An instance described as `FastSamWorker` describes masks (its `MaskInfo`).
#[derive(Serialize)]
struct MaskInfoJs {
    index: usize,
    score: f32,
    area: f64,
    bbox: [f32; 4],
    width: u32,
    height: u32,
}

#[derive(Serialize)]
struct RleJs {
    size: [u32; 2],
    counts: Vec<u32>,
}

impl MaskJs {
    fn owned(mask: Mask, score: f32) -> Self {
        let bbox = mask.bounds().map_or([0.0; 4], |b| b.map(|v| v as f32));
        Self {
            source: Source::Owned { mask, score, bbox },
            outlines: Rc::default(),
        }
    }

    fn instance(seg: Rc<Segmentation>, index: usize, outlines: Rc<ContourCache>) -> Self {
        Self {
            source: Source::Instance(seg, index),
            outlines,
        }
    }

    /// The mask's boundaries, traced once and kept (see [`ContourCache`]).
    fn contours(&self) -> Rc<[Contour]> {
        let key = match &self.source {
            Source::Instance(_, i) => *i,
            Source::Owned { .. } => 0,
        };
        self.outlines.contours(key, self.mask())
    }

    /// The mask's polygons, from its kept boundaries.
    fn polygons(&self, options: &PolygonOptionsJs) -> Result<Vec<Polygon>, JsValue> {
        let mask = self.mask();
        polygons_of_contours(
            &self.contours(),
            [mask.width(), mask.height()],
            &options.resolve()?,
        )
        .map_err(to_js)
    }

    fn mask(&self) -> &Mask {
        match &self.source {
            Source::Instance(seg, i) => &seg.instances()[*i].mask,
            Source::Owned { mask, .. } => mask,
        }
    }
}

#[wasm_bindgen(js_class = Mask)]
impl MaskJs {
    /// Bitmap width.
    #[wasm_bindgen(getter)]
    pub fn width(&self) -> u32 {
        self.mask().width()
    }

    /// Bitmap height.
    #[wasm_bindgen(getter)]
    pub fn height(&self) -> u32 {
        self.mask().height()
    }

    /// Pixels inside the mask.
    #[wasm_bindgen(getter)]
    pub fn area(&self) -> f64 {
        self.mask().area() as f64
    }

    /// Detection score (for merged point masks: the best score among the merged instances).
    #[wasm_bindgen(getter)]
    pub fn score(&self) -> f32 {
        match &self.source {
            Source::Instance(seg, i) => seg.instances()[*i].score,
            Source::Owned { score, .. } => *score,
        }
    }

    /// `[x1, y1, x2, y2]`: the detection box in image pixels for instances, the tight bounds of the
    /// pixels for masks a prompt built.
    #[wasm_bindgen(getter)]
    pub fn bbox(&self) -> Vec<f32> {
        match &self.source {
            Source::Instance(seg, i) => seg.instances()[*i].bbox.to_vec(),
            Source::Owned { bbox, .. } => bbox.to_vec(),
        }
    }

    /// Index of the instance in its segmentation, `undefined` for masks a prompt built.
    #[wasm_bindgen(getter)]
    pub fn index(&self) -> Option<u32> {
        match &self.source {
            Source::Instance(_, i) => Some(*i as u32),
            Source::Owned { .. } => None,
        }
    }

    /// The bitmap: `width * height` bytes, row-major, 1 inside and 0 outside.
    pub fn data(&self) -> Vec<u8> {
        self.mask().to_bitmap()
    }

    /// COCO uncompressed RLE: `{size: [height, width], counts}` (column-major).
    #[wasm_bindgen(js_name = toRle, unchecked_return_type = "CocoRle")]
    pub fn to_rle(&self) -> Result<JsValue, JsValue> {
        let m = self.mask();
        let rle = RleJs {
            size: [m.height(), m.width()],
            counts: m.coco_rle(),
        };
        serde_wasm_bindgen::to_value(&rle).map_err(JsValue::from)
    }

    /// The mask's regions as polygons: each an outer ring and its holes, flat `[x0, y0, x1, y1,
    /// ...]` arrays through boundary pixel centres (OpenCV's `findContours` and `approxPolyDP`).
    #[wasm_bindgen(js_name = toPolygons, unchecked_return_type = "Polygon[]")]
    pub fn to_polygons(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "PolygonOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> Result<JsValue, JsValue> {
        let options: PolygonOptionsJs = convert::options(options, "polygon options")?;
        Ok(polygons_to_js(&self.polygons(&options)?))
    }

    /// SVG path data of the mask's polygons (`M x y L ... Z` per ring, holes included): draw it
    /// with `fill-rule="evenodd"`, shifted by half a pixel to sit on the image's pixels.
    #[wasm_bindgen(js_name = toSvgPath)]
    pub fn to_svg_path(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "PolygonOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> Result<String, JsValue> {
        let options: PolygonOptionsJs = convert::options(options, "polygon options")?;
        Ok(formats::svg_path(&self.polygons(&options)?))
    }

    /// An `ImageData` for drawing: `rgba` (default `[30, 144, 255, 153]`) inside, transparent
    /// outside; with `outline` (`[r, g, b, a]`) the mask's boundary pixels get that colour.
    #[wasm_bindgen(js_name = toImageData)]
    pub fn to_image_data(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "[number, number, number, number]")]
        rgba: Option<Vec<u8>>,
        #[wasm_bindgen(unchecked_optional_param_type = "[number, number, number, number]")]
        outline: Option<Vec<u8>>,
    ) -> Result<web_sys::ImageData, JsValue> {
        let four = |v: Option<Vec<u8>>, what: &str| -> Result<Option<[u8; 4]>, JsValue> {
            match v.as_deref() {
                None => Ok(None),
                Some(&[r, g, b, a]) => Ok(Some([r, g, b, a])),
                Some(other) => Err(invalid(
                    Error::InvalidOption,
                    format!(
                        "{what} must have 4 values (r, g, b, a), got {}",
                        other.len()
                    ),
                )),
            }
        };
        let [r, g, b, a] = four(rgba, "rgba")?.unwrap_or([30, 144, 255, 153]);
        let style = OverlayStyle {
            colors: vec![[r, g, b]],
            alpha: a,
            outline: four(outline, "outline")?,
        };
        let m = self.mask();
        convert::image_data(
            &render_overlay(m.width(), m.height(), &[m], &style),
            m.width(),
            m.height(),
        )
    }
}
