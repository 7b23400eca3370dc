//! `FastSam`: load a model, segment images.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::convert::{self, LoadOptions, SegmentOptionsJs, now_ms};
use super::error::{invalid, to_js};
use super::segmentation::{SegmentationJs, Timings};
use crate::error::Error;
use crate::image::ImageView;
use crate::pipeline::postprocess;
use crate::segmenter::FastSam;

/// A loaded FastSAM model. Load once, segment many images; free() releases its memory.
#[wasm_bindgen(js_name = FastSam)]
pub struct FastSamJs {
    inner: Rc<FastSam>,
}

#[wasm_bindgen(js_class = FastSam)]
impl FastSamJs {
    /// Loads the ONNX export of a FastSAM checkpoint (`Uint8Array` or `ArrayBuffer`).
    /// Rejects with a `FastSamError` (`code: "INVALID_MODEL"`) for anything that is not one.
    pub async fn load(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | ArrayBuffer")] bytes: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "LoadOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> Result<FastSamJs, JsValue> {
        let options: LoadOptions = convert::options(options, "load options")?;
        match options.backend.as_deref() {
            None | Some("auto") | Some("cpu") => {}
            Some(other) => {
                return Err(invalid(
                    Error::InvalidOption,
                    format!(
                        "backend \"{other}\" is not available in this build; use \"cpu\" or \"auto\""
                    ),
                ));
            }
        }
        let bytes = convert::model_bytes(&bytes)?;
        let model = match options.input_size {
            Some(size) => FastSam::from_onnx_with_size(&bytes, size),
            None => FastSam::from_onnx(&bytes),
        }
        .map_err(to_js)?;
        Ok(FastSamJs {
            inner: Rc::new(model),
        })
    }

    /// Side of the square model input (640 or 1024 for the usual exports).
    #[wasm_bindgen(getter, js_name = inputSize)]
    pub fn input_size(&self) -> u32 {
        self.inner.input_size()
    }

    /// The device the network runs on: `"cpu"`.
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        "cpu".into()
    }

    /// The inference engine: `"tract"`.
    #[wasm_bindgen(getter)]
    pub fn engine(&self) -> String {
        self.inner.engine_name().into()
    }

    /// Runs the model once on `image` and resolves to a `Segmentation` to prompt.
    #[wasm_bindgen(unchecked_return_type = "Promise<Segmentation>")]
    pub fn segment(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ImageInput")] image: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "SegmentOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> Promise {
        let model = self.inner.clone();
        future_to_promise(async move {
            let options: SegmentOptionsJs = convert::options(options, "segment options")?;
            let options = options.resolve()?;
            options.validate().map_err(to_js)?;
            let image = convert::image(&image)?;
            let view = ImageView::from_interleaved(&image.data, image.width, image.height)
                .map_err(to_js)?;
            let t0 = now_ms();
            let (lb, input) = model.preprocess(&view);
            drop(image);
            let t1 = now_ms();
            let raw = model.infer(&input).map_err(to_js)?;
            drop(input);
            let t2 = now_ms();
            let seg = postprocess(&raw, &lb, &options);
            let t3 = now_ms();
            let timings = Timings {
                preprocess_ms: t1 - t0,
                inference_ms: t2 - t1,
                postprocess_ms: t3 - t2,
            };
            Ok(SegmentationJs::new(seg, timings).into())
        })
    }
}
