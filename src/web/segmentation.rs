//! `Segmentation` (one model run, prompted many times) and `Mask` (one result bitmap).

use std::rc::Rc;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::convert::{self, BoxOptionsJs, PointOptionsJs};
use super::error::{invalid, to_js};
use crate::error::Error;
use crate::mask::Mask;
use crate::prompt::Selection;
use crate::segmentation::Segmentation;

/// How long each stage of `segment()` took, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Timings {
    pub preprocess_ms: f64,
    pub inference_ms: f64,
    pub postprocess_ms: f64,
}

/// Every instance FastSAM found in one image. Prompts select among them without re-running the
/// model. free() releases the masks' memory.
#[wasm_bindgen(js_name = Segmentation)]
pub struct SegmentationJs {
    inner: Rc<Segmentation>,
    timings: Timings,
}

impl SegmentationJs {
    pub fn new(seg: Segmentation, timings: Timings) -> Self {
        Self {
            inner: Rc::new(seg),
            timings,
        }
    }

    fn instance(&self, index: usize) -> MaskJs {
        MaskJs {
            source: Source::Instance(self.inner.clone(), index),
        }
    }
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

    /// Network time, ms.
    #[wasm_bindgen(getter, js_name = inferenceMs)]
    pub fn inference_ms(&self) -> f64 {
        self.timings.inference_ms
    }

    /// NMS and mask assembly time, ms.
    #[wasm_bindgen(getter, js_name = postprocessMs)]
    pub fn postprocess_ms(&self) -> f64 {
        self.timings.postprocess_ms
    }

    /// Instance `index` (detection order, best score first).
    pub fn mask(&self, index: usize) -> Result<MaskJs, JsValue> {
        if index >= self.inner.len() {
            return Err(invalid(
                Error::InvalidPrompt,
                format!(
                    "mask index {index} is out of range; this segmentation has {} masks",
                    self.inner.len()
                ),
            ));
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

/// One mask: its bitmap, box, score and area.
#[wasm_bindgen(js_name = Mask)]
pub struct MaskJs {
    source: Source,
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
        }
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

    /// An `ImageData` for drawing: `rgba` (default `[30, 144, 255, 153]`) inside, transparent outside.
    #[wasm_bindgen(js_name = toImageData)]
    pub fn to_image_data(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "[number, number, number, number]")]
        rgba: Option<Vec<u8>>,
    ) -> Result<web_sys::ImageData, JsValue> {
        let color: [u8; 4] = match rgba.as_deref() {
            None => [30, 144, 255, 153],
            Some(&[r, g, b, a]) => [r, g, b, a],
            Some(other) => {
                return Err(invalid(
                    Error::InvalidOption,
                    format!("rgba must have 4 values, got {}", other.len()),
                ));
            }
        };
        let m = self.mask();
        let w = m.width() as usize;
        let mut pixels = vec![0u8; w * m.height() as usize * 4];
        for (y, runs) in m.rows() {
            for &(a, b) in runs {
                for x in a as usize..b as usize {
                    let at = (y as usize * w + x) * 4;
                    pixels[at..at + 4].copy_from_slice(&color);
                }
            }
        }
        // Copy out of wasm memory: an ImageData over a view of it would see the buffer reused.
        let array = js_sys::Uint8ClampedArray::new_with_length(pixels.len() as u32);
        array.copy_from(&pixels);
        web_sys::ImageData::new_with_js_u8_clamped_array_and_sh(&array, m.width(), m.height())
    }
}
