//! `FastSam`: load a model, segment images.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::backend::{Request, Runner};
use super::convert::{self, LoadOptions, SegmentOptionsJs, now_ms};
use super::error::to_js;
use super::segmentation::{SegmentationJs, Timings};
use crate::image::ImageView;
use crate::pipeline::letterbox::Letterbox;
use crate::pipeline::postprocess;

/// A loaded FastSAM model. Load once, segment many images; free() releases its memory.
#[wasm_bindgen(js_name = FastSam)]
pub struct FastSamJs {
    inner: Rc<Runner>,
}

#[wasm_bindgen(js_class = FastSam)]
impl FastSamJs {
    /// Loads the ONNX export of a FastSAM checkpoint (`Uint8Array` or `ArrayBuffer`) on the
    /// backend `options.backend` asks for (`"auto"` by default: WebGPU when the browser has an
    /// adapter, else the CPU). Rejects with a `FastSamError` (`code: "INVALID_MODEL"`) for anything
    /// that is not a FastSAM model.
    pub async fn load(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | ArrayBuffer")] bytes: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "LoadOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> Result<FastSamJs, JsValue> {
        super::run_static_constructors();
        let options: LoadOptions = convert::options(options, "load options")?;
        let request = Request::parse(options.backend.as_deref()).map_err(to_js)?;
        let bytes = convert::model_bytes(&bytes)?;
        let runner = Runner::load(bytes, options.input_size, request)
            .await
            .map_err(to_js)?;
        Ok(FastSamJs {
            inner: Rc::new(runner),
        })
    }

    /// Side of the square model input (640 or 1024 for the usual exports).
    #[wasm_bindgen(getter, js_name = inputSize)]
    pub fn input_size(&self) -> u32 {
        self.inner.input_size()
    }

    /// The device the network runs on now: `"webgpu"` or `"cpu"`.
    #[wasm_bindgen(getter, unchecked_return_type = "\"webgpu\" | \"cpu\"")]
    pub fn backend(&self) -> String {
        self.inner.backend().into()
    }

    /// The inference engine: `"burn"` (WebGPU) or `"tract"` (CPU).
    #[wasm_bindgen(getter, unchecked_return_type = "\"burn\" | \"tract\"")]
    pub fn engine(&self) -> String {
        self.inner.engine().into()
    }

    /// Why the model runs on the CPU although WebGPU was asked for (no adapter, failed start, or a
    /// GPU failure mid-session); `undefined` otherwise.
    #[wasm_bindgen(getter, js_name = fallbackReason)]
    pub fn fallback_reason(&self) -> Option<String> {
        self.inner.fallback_reason()
    }

    /// Called with `{ backend: "cpu", reason }` when a GPU failure moves the model to the CPU.
    #[wasm_bindgen(getter, js_name = onbackendchange)]
    pub fn on_backend_change(&self) -> Option<js_sys::Function> {
        self.inner.on_change()
    }

    /// Sets the backend-change callback (`null` removes it).
    #[wasm_bindgen(setter, js_name = onbackendchange)]
    pub fn set_on_backend_change(&self, callback: Option<js_sys::Function>) {
        self.inner.set_on_change(callback);
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
        let runner = self.inner.clone();
        future_to_promise(async move {
            let options: SegmentOptionsJs = convert::options(options, "segment options")?;
            let options = options.resolve()?;
            options.validate().map_err(to_js)?;
            let image = convert::image(&image)?;
            let view = ImageView::from_interleaved(&image.data, image.width, image.height)
                .map_err(to_js)?;
            let t0 = now_ms();
            let lb = Letterbox::new(view.width(), view.height(), runner.input_size());
            let input = lb.apply(&view);
            drop(image);
            let t1 = now_ms();
            let raw = runner.infer(&input).await.map_err(to_js)?;
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

    /// Testing aid: behaves as if the GPU had just failed with `reason`, moving an `"auto"` model
    /// to the CPU exactly as a real failure would. Rejects for models not loaded with `"auto"`.
    #[wasm_bindgen(js_name = simulateGpuFailure)]
    pub fn simulate_gpu_failure(&self, reason: String) -> Result<(), JsValue> {
        self.inner.fall_back(&reason).map(|_| ()).map_err(to_js)
    }
}
