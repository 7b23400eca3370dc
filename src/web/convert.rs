//! JS values to Rust values: images, option bags, prompt arrays.

use js_sys::{Reflect, Uint8Array};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};

use super::error::invalid;
use crate::error::Error;
use crate::image::check_dimensions;
use crate::pipeline::{MaskAssembly, MaskResolution, SegmentOptions, Semantics};
use crate::polygon::PolygonOptions;
use crate::prompt::{BoxMode, PointMode};
use crate::render::OverlayStyle;

/// An option bag and the keys it accepts.
pub trait OptionBag: DeserializeOwned + Default {
    /// Accepted keys, as written in JavaScript.
    const KEYS: &'static [&'static str];
}

/// Deserialises an optional option bag (`undefined`/`null` = defaults), naming `what` in errors.
/// Unknown keys are errors, so a misspelt option is not silently ignored.
pub fn options<T: OptionBag>(value: Option<js_sys::Object>, what: &str) -> Result<T, JsValue> {
    let Some(object) = value else {
        return Ok(T::default());
    };
    for key in js_sys::Object::keys(&object).iter() {
        let key = key.as_string().unwrap_or_default();
        if !T::KEYS.contains(&key.as_str()) {
            return Err(invalid(
                Error::InvalidOption,
                format!(
                    "{what}: unknown option \"{key}\"; expected one of {}",
                    T::KEYS.join(", ")
                ),
            ));
        }
    }
    serde_wasm_bindgen::from_value(object.into())
        .map_err(|e| invalid(Error::InvalidOption, format!("{what}: {e}")))
}

/// Deserialises a required argument, naming `what` in errors.
pub fn argument<T: DeserializeOwned>(value: &JsValue, what: &str) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(value.clone())
        .map_err(|e| invalid(Error::InvalidPrompt, format!("{what}: {e}")))
}

/// `load()` options.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadOptions {
    pub input_size: Option<u32>,
    pub backend: Option<String>,
    pub gemm_tile: Option<String>,
    pub gpu_conv: Option<String>,
}

impl OptionBag for LoadOptions {
    const KEYS: &'static [&'static str] = &["inputSize", "backend", "gemmTile", "gpuConv"];
}

/// `segment()` options, mirrored onto [`SegmentOptions`].
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentOptionsJs {
    conf: Option<f32>,
    iou: Option<f64>,
    max_det: Option<usize>,
    mask_resolution: Option<String>,
    semantics: Option<String>,
    border_snap: Option<f32>,
    full_box_iou: Option<f32>,
    mask_assembly: Option<String>,
}

impl OptionBag for SegmentOptionsJs {
    const KEYS: &'static [&'static str] = &[
        "conf",
        "iou",
        "maxDet",
        "maskResolution",
        "semantics",
        "borderSnap",
        "fullBoxIou",
        "maskAssembly",
    ];
}

impl SegmentOptionsJs {
    /// The Rust options, every unset field at its default.
    pub fn resolve(self) -> Result<SegmentOptions, JsValue> {
        let d = SegmentOptions::default();
        let mask_resolution = match self.mask_resolution.as_deref() {
            None | Some("full") => MaskResolution::Full,
            Some("low") => MaskResolution::Low,
            Some(other) => return Err(bad_choice("maskResolution", other, "\"full\" or \"low\"")),
        };
        let semantics = match self.semantics.as_deref() {
            None | Some("official") => Semantics::Official,
            Some("ultralytics") => Semantics::Ultralytics,
            Some(other) => {
                return Err(bad_choice(
                    "semantics",
                    other,
                    "\"official\" or \"ultralytics\"",
                ));
            }
        };
        let mask_assembly = match self.mask_assembly.as_deref() {
            None | Some("auto") => MaskAssembly::Auto,
            Some("gpu") => MaskAssembly::Gpu,
            Some("cpu") => MaskAssembly::Cpu,
            Some(other) => {
                return Err(bad_choice(
                    "maskAssembly",
                    other,
                    "\"auto\", \"gpu\" or \"cpu\"",
                ));
            }
        };
        Ok(SegmentOptions {
            conf: self.conf.unwrap_or(d.conf),
            iou: self.iou.unwrap_or(d.iou),
            max_det: self.max_det.unwrap_or(d.max_det),
            mask_resolution,
            semantics,
            border_snap: self.border_snap.unwrap_or(d.border_snap),
            full_box_iou: self.full_box_iou.unwrap_or(d.full_box_iou),
            mask_assembly,
        })
    }
}

/// `loadTextEncoder()` options.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TextEncoderOptions {
    pub backend: Option<String>,
}

impl OptionBag for TextEncoderOptions {
    const KEYS: &'static [&'static str] = &["backend"];
}

/// `text()` options.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TextOptionsJs {
    pub threshold: Option<f32>,
}

impl OptionBag for TextOptionsJs {
    const KEYS: &'static [&'static str] = &["threshold"];
}

/// A text prompt: one sentence or an array of them.
pub fn sentences(value: &JsValue) -> Result<Vec<String>, JsValue> {
    if let Some(s) = value.as_string() {
        return Ok(vec![s]);
    }
    argument::<Vec<String>>(value, "text prompt (a string or an array of strings)")
}

/// `points()` options.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PointOptionsJs {
    mode: Option<String>,
}

impl OptionBag for PointOptionsJs {
    const KEYS: &'static [&'static str] = &["mode"];
}

impl PointOptionsJs {
    pub fn mode(&self) -> Result<PointMode, JsValue> {
        match self.mode.as_deref() {
            None | Some("merged") => Ok(PointMode::Merged),
            Some("perPoint") => Ok(PointMode::PerPoint),
            Some("select") => Ok(PointMode::Select),
            Some(other) => Err(bad_choice(
                "mode",
                other,
                "\"merged\", \"perPoint\" or \"select\"",
            )),
        }
    }
}

/// `overlay()` options: `{ alpha?: number, outline?: [r, g, b, a] | null, colors?: [r, g, b][] }`.
pub fn overlay_style(value: Option<js_sys::Object>) -> Result<OverlayStyle, JsValue> {
    #[derive(Debug, Default, Deserialize)]
    struct Bag {
        alpha: Option<u8>,
        outline: Option<[u8; 4]>,
        colors: Option<Vec<[u8; 3]>>,
    }
    impl OptionBag for Bag {
        const KEYS: &'static [&'static str] = &["alpha", "outline", "colors"];
    }
    let no_outline = value
        .as_ref()
        .is_some_and(|o| Reflect::get(o, &"outline".into()).is_ok_and(|v| v.is_null()));
    let bag: Bag = options(value, "overlay options")?;
    let d = OverlayStyle::default();
    Ok(OverlayStyle {
        colors: bag.colors.filter(|c| !c.is_empty()).unwrap_or(d.colors),
        alpha: bag.alpha.unwrap_or(d.alpha),
        outline: if no_outline {
            None
        } else {
            bag.outline.or(d.outline)
        },
    })
}

/// RGBA bytes to an `ImageData`, copied out of wasm memory (a view of it would see the buffer
/// reused later).
pub fn image_data(rgba: &[u8], width: u32, height: u32) -> Result<web_sys::ImageData, JsValue> {
    let array = js_sys::Uint8ClampedArray::new_with_length(rgba.len() as u32);
    array.copy_from(rgba);
    web_sys::ImageData::new_with_js_u8_clamped_array_and_sh(&array, width, height)
}

/// `toPolygons()` options, mirrored onto [`PolygonOptions`].
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolygonOptionsJs {
    tolerance: Option<f64>,
    holes: Option<bool>,
    min_area: Option<f64>,
    max_points: Option<f64>,
    largest_only: Option<bool>,
    normalized: Option<bool>,
}

impl OptionBag for PolygonOptionsJs {
    const KEYS: &'static [&'static str] = &[
        "tolerance",
        "holes",
        "minArea",
        "maxPoints",
        "largestOnly",
        "normalized",
    ];
}

impl PolygonOptionsJs {
    /// The options with defaults filled in; range checks are [`PolygonOptions::validate`]'s.
    pub fn resolve(&self) -> Result<PolygonOptions, JsValue> {
        let d = PolygonOptions::default();
        let max_points = match self.max_points {
            None => None,
            Some(n) if n.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&n) => Some(n as usize),
            Some(n) => {
                return Err(invalid(
                    Error::InvalidOption,
                    format!("maxPoints must be a whole number of points >= 3, got {n}"),
                ));
            }
        };
        let options = PolygonOptions {
            tolerance: self.tolerance.unwrap_or(d.tolerance),
            holes: self.holes.unwrap_or(d.holes),
            min_area: self.min_area.unwrap_or(d.min_area),
            max_points,
            largest_only: self.largest_only.unwrap_or(d.largest_only),
            normalized: self.normalized.unwrap_or(d.normalized),
        };
        options.validate().map_err(super::error::to_js)?;
        Ok(options)
    }
}

/// An export's options: the polygon options (`toPolygons`' keys but `normalized`) and the
/// format's own (`T`), in one object. Unknown keys are errors listing both sets.
pub fn export_options<T: OptionBag>(
    value: Option<js_sys::Object>,
    what: &str,
) -> Result<(PolygonOptions, T), JsValue> {
    let Some(object) = value else {
        return Ok((PolygonOptionsJs::default().resolve()?, T::default()));
    };
    let polygon_keys: Vec<&str> = PolygonOptionsJs::KEYS
        .iter()
        .copied()
        .filter(|k| *k != "normalized")
        .collect();
    let (polygon, own) = (js_sys::Object::new(), js_sys::Object::new());
    for key in js_sys::Object::keys(&object).iter() {
        let name = key.as_string().unwrap_or_default();
        let target = if polygon_keys.contains(&name.as_str()) {
            &polygon
        } else if T::KEYS.contains(&name.as_str()) {
            &own
        } else {
            let mut accepted: Vec<&str> = T::KEYS.to_vec();
            accepted.extend(&polygon_keys);
            return Err(invalid(
                Error::InvalidOption,
                format!(
                    "{what}: unknown option \"{name}\"; expected one of {}",
                    accepted.join(", ")
                ),
            ));
        };
        Reflect::set(target, &key, &Reflect::get(&object, &key)?)?;
    }
    let polygon: PolygonOptionsJs = options(Some(polygon), what)?;
    Ok((polygon.resolve()?, options(Some(own), what)?))
}

/// `toCoco()` options besides the polygon ones.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CocoOptionsJs {
    pub polygons: Option<bool>,
    pub image_id: Option<f64>,
    pub file_name: Option<String>,
    pub category: Option<String>,
}

impl OptionBag for CocoOptionsJs {
    const KEYS: &'static [&'static str] = &["polygons", "imageId", "fileName", "category"];
}

/// `toYolo()` options besides the polygon ones.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct YoloOptionsJs {
    pub class_id: Option<u32>,
}

impl OptionBag for YoloOptionsJs {
    const KEYS: &'static [&'static str] = &["classId"];
}

/// `toSvg()` options besides the polygon ones.
#[derive(Debug, Default, Deserialize)]
pub struct SvgOptionsJs {
    pub colors: Option<Vec<[u8; 3]>>,
}

impl OptionBag for SvgOptionsJs {
    const KEYS: &'static [&'static str] = &["colors"];
}

/// Options with no keys of their own (`toGeoJson()`).
#[derive(Debug, Default, Deserialize)]
pub struct NoOptionsJs {}

impl OptionBag for NoOptionsJs {
    const KEYS: &'static [&'static str] = &[];
}

/// `toLabelStudio()` options besides the polygon ones.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelStudioOptionsJs {
    pub from_name: Option<String>,
    pub to_name: Option<String>,
    pub label: Option<String>,
    pub brush: Option<bool>,
}

impl OptionBag for LabelStudioOptionsJs {
    const KEYS: &'static [&'static str] = &["fromName", "toName", "label", "brush"];
}

/// `boxes()` options.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BoxOptionsJs {
    mode: Option<String>,
}

impl OptionBag for BoxOptionsJs {
    const KEYS: &'static [&'static str] = &["mode"];
}

impl BoxOptionsJs {
    pub fn mode(&self) -> Result<BoxMode, JsValue> {
        match self.mode.as_deref() {
            None | Some("official") => Ok(BoxMode::Official),
            Some("ultralytics") => Ok(BoxMode::Ultralytics),
            Some(other) => Err(bad_choice("mode", other, "\"official\" or \"ultralytics\"")),
        }
    }
}

fn bad_choice(field: &str, got: &str, expected: &str) -> JsValue {
    invalid(
        Error::InvalidOption,
        format!("{field} is \"{got}\"; expected {expected}"),
    )
}

/// An image copied into wasm memory after its size has been checked.
pub struct OwnedImage {
    pub data: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

fn size_field(image: &JsValue, name: &str) -> Result<u32, JsValue> {
    let v = Reflect::get(image, &name.into()).unwrap_or(JsValue::UNDEFINED);
    match v.as_f64() {
        Some(n) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= u32::MAX as f64 => {
            Ok(n as u32)
        }
        _ => Err(invalid(
            Error::InvalidImage,
            format!("image.{name} must be a non-negative whole number, got {v:?}"),
        )),
    }
}

/// Reads `ImageData` or `{data, width, height}`. Sizes are checked before the pixels are copied,
/// so a huge image is refused without allocating its buffer in wasm memory.
pub fn image(value: &JsValue) -> Result<OwnedImage, JsValue> {
    if !value.is_object() {
        return Err(invalid(
            Error::InvalidImage,
            "expected an ImageData or an object {data, width, height}",
        ));
    }
    let width = size_field(value, "width")?;
    let height = size_field(value, "height")?;
    check_dimensions(width, height).map_err(super::error::to_js)?;
    let data = Reflect::get(value, &"data".into()).unwrap_or(JsValue::UNDEFINED);
    let bytes = if let Some(a) = data.dyn_ref::<Uint8Array>() {
        a.clone()
    } else if let Some(a) = data.dyn_ref::<js_sys::Uint8ClampedArray>() {
        Uint8Array::new_with_byte_offset_and_length(&a.buffer(), a.byte_offset(), a.length())
    } else if let Some(b) = data.dyn_ref::<js_sys::ArrayBuffer>() {
        Uint8Array::new(b)
    } else {
        return Err(invalid(
            Error::InvalidImage,
            "image.data must be a Uint8Array, Uint8ClampedArray or ArrayBuffer of RGBA or RGB bytes",
        ));
    };
    let pixels = width as u64 * height as u64;
    let len = bytes.length() as u64;
    if len != pixels * 4 && len != pixels * 3 {
        return Err(invalid(
            Error::InvalidImage,
            format!(
                "image.data has {len} bytes; a {width}x{height} image needs {} (RGBA) or {} (RGB)",
                pixels * 4,
                pixels * 3
            ),
        ));
    }
    Ok(OwnedImage {
        data: bytes.to_vec(),
        width,
        height,
    })
}

/// Model bytes from a `Uint8Array`, `ArrayBuffer` or any typed array view.
pub fn model_bytes(value: &JsValue) -> Result<Vec<u8>, JsValue> {
    bytes(value).ok_or_else(|| {
        invalid(
            Error::InvalidModel,
            "model bytes must be a Uint8Array or ArrayBuffer holding a FastSAM .onnx file",
        )
    })
}

/// Field `name` of the text encoder's `files` argument: a view of the caller's bytes (no copy).
pub fn text_encoder_file(files: &JsValue, name: &str, what: &str) -> Result<Uint8Array, JsValue> {
    let value = Reflect::get(files, &name.into()).unwrap_or(JsValue::UNDEFINED);
    view(&value).ok_or_else(|| {
        invalid(
            Error::InvalidModel,
            format!("files.{name} must be a Uint8Array or ArrayBuffer holding {what}"),
        )
    })
}

/// A copy of the bytes of a `Uint8Array`, `ArrayBuffer` or other typed array view; `None` for
/// anything else.
fn bytes(value: &JsValue) -> Option<Vec<u8>> {
    view(value).map(|v| v.to_vec())
}

/// A `Uint8Array` over the bytes of a `Uint8Array`, `ArrayBuffer` or other typed array view.
fn view(value: &JsValue) -> Option<Uint8Array> {
    if let Some(a) = value.dyn_ref::<Uint8Array>() {
        Some(a.clone())
    } else if let Some(b) = value.dyn_ref::<js_sys::ArrayBuffer>() {
        Some(Uint8Array::new(b))
    } else if ArrayBufferViewLike::is(value) {
        let field = |name: &str| Reflect::get(value, &name.into()).ok();
        let buffer: js_sys::ArrayBuffer = field("buffer")?.dyn_into().ok()?;
        let offset = field("byteOffset")?.as_f64().unwrap_or(0.0) as u32;
        let length = field("byteLength")?.as_f64().unwrap_or(0.0) as u32;
        Some(Uint8Array::new_with_byte_offset_and_length(
            &buffer, offset, length,
        ))
    } else {
        None
    }
}

struct ArrayBufferViewLike;

impl ArrayBufferViewLike {
    fn is(value: &JsValue) -> bool {
        js_sys::ArrayBuffer::is_view(value)
    }
}

/// Milliseconds from `performance.now()` (window or worker), `Date.now()` as a fallback.
pub fn now_ms() -> f64 {
    let global = js_sys::global();
    Reflect::get(&global, &"performance".into())
        .ok()
        .filter(|p| p.is_object())
        .and_then(|p| {
            let now = Reflect::get(&p, &"now".into()).ok()?;
            let f: &js_sys::Function = now.dyn_ref()?;
            f.call0(&p).ok()?.as_f64()
        })
        .unwrap_or_else(js_sys::Date::now)
}
