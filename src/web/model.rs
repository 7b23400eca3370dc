//! `FastSam`: load a model, segment images.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::PlanTile;
use super::backend::{GpuConv, Request, Runner};
use super::convert::{self, LoadOptions, SegmentOptionsJs, now_ms};
use super::error::to_js;
use super::segmentation::{SegmentationJs, Timings};
use super::text::{EncoderFiles, TextSlot, TextState};
use crate::image::ImageView;
use crate::pipeline::letterbox::Letterbox;

/// A loaded FastSAM model. Load once, segment many images; free() releases its memory.
#[wasm_bindgen(js_name = FastSam)]
pub struct FastSamJs {
    inner: Rc<Runner>,
    text: TextSlot,
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
        let options: LoadOptions = convert::options(options, "load options")?;
        super::run_static_constructors();
        let tile = PlanTile::resolve(options.gemm_tile.as_deref()).map_err(to_js)?;
        let request = Request::parse(options.backend.as_deref()).map_err(to_js)?;
        let conv = GpuConv::parse(options.gpu_conv.as_deref()).map_err(to_js)?;
        let bytes = convert::model_bytes(&bytes)?;
        let runner = Runner::load(bytes, options.input_size, request, conv, tile)
            .await
            .map_err(to_js)?;
        Ok(FastSamJs {
            inner: Rc::new(runner),
            text: TextSlot::default(),
        })
    }

    /// Side of the square model input (640 or 1024 for the usual exports).
    #[wasm_bindgen(getter, js_name = inputSize)]
    pub fn input_size(&self) -> u32 {
        self.inner.input_size()
    }

    /// How the file stores its weights: `"fp32"`, `"fp16"` (half the download) or `"q8"`. The
    /// network computes in f32 whichever it is.
    #[wasm_bindgen(getter, unchecked_return_type = "\"fp32\" | \"fp16\" | \"q8\"")]
    pub fn dtype(&self) -> String {
        self.inner.weight_type().as_str().into()
    }

    /// Threads running the network: more than 1 only for the CPU path of the threaded build
    /// (which `FastSamWorker` loads on cross-origin isolated pages).
    #[wasm_bindgen(getter)]
    pub fn threads(&self) -> usize {
        self.inner.threads()
    }

    /// The tile of tract's wasm matrix products (`"4x8"` or `"8x8"`) this model's CPU plan is (or,
    /// on WebGPU, would be) built with: the load option `gemmTile`, by default the faster of the
    /// two on this machine as timed at the first load (4x8 where the engine has 16 SIMD registers,
    /// as on x86-64; 8x8 with 32, as on arm64). `"none"` in the WebGPU build, which has no CPU
    /// path.
    #[wasm_bindgen(getter, js_name = gemmTile, unchecked_return_type = "\"4x8\" | \"8x8\" | \"none\"")]
    pub fn gemm_tile(&self) -> String {
        self.inner.tile().name().into()
    }

    /// Which wasm build this is: `"single"` (both engines, one thread: the browser tests' build),
    /// `"webgpu"` (the Burn port only), `"cpu"` (tract only, one thread) or `"threaded"` (tract on a
    /// pool of workers).
    #[wasm_bindgen(
        getter,
        unchecked_return_type = "\"single\" | \"webgpu\" | \"cpu\" | \"threaded\""
    )]
    pub fn build(&self) -> String {
        if cfg!(feature = "threads") {
            "threaded"
        } else if cfg!(all(feature = "burn", feature = "tract")) {
            "single"
        } else if cfg!(feature = "burn") {
            "webgpu"
        } else {
            "cpu"
        }
        .into()
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

    /// Why the model runs on the CPU although WebGPU was asked for (no adapter, or it failed to
    /// start); `undefined` otherwise.
    #[wasm_bindgen(getter, js_name = fallbackReason)]
    pub fn fallback_reason(&self) -> Option<String> {
        self.inner.fallback_reason()
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
        let text = self.text.clone();
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
            let t1 = now_ms();
            let run = runner.segment(&input, &lb, &options).await.map_err(to_js)?;
            drop(input);
            let timings = Timings {
                preprocess_ms: t1 - t0,
                inference_ms: run.inference_ms,
                postprocess_ms: run.postprocess_ms,
            };
            let seg = run.segmentation;
            // The image is kept only for the text prompt's region crops.
            let kept = text.get().is_some().then_some(image);
            let state = TextState::with_image(kept);
            Ok(SegmentationJs::new(seg, timings, text, state).into())
        })
    }

    /// Loads CLIP for the text prompt (`Segmentation.text`): `files.image` (`clip-image.onnx`),
    /// `files.text` (`clip-text.onnx`) and `files.vocab` (`clip-bpe.txt.gz`), as written by
    /// `tools/clip_export.py`. `options.backend` as for `load` (default: `"auto"` when this model
    /// runs on WebGPU, else `"cpu"`). Replaces a previously loaded text encoder.
    #[wasm_bindgen(js_name = loadTextEncoder)]
    pub async fn load_text_encoder(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TextEncoderFiles")] files: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TextEncoderOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> Result<(), JsValue> {
        let options: convert::TextEncoderOptions =
            convert::options(options, "text encoder options")?;
        let default = if self.inner.backend() == "webgpu" {
            "auto"
        } else {
            "cpu"
        };
        let request =
            Request::parse(Some(options.backend.as_deref().unwrap_or(default))).map_err(to_js)?;
        let image = convert::text_encoder_file(&files, "image", "clip-image.onnx")?;
        let text = convert::text_encoder_file(&files, "text", "clip-text.onnx")?;
        let vocab = convert::text_encoder_file(&files, "vocab", "clip-bpe.txt.gz")?.to_vec();
        self.text
            .load(EncoderFiles { image, text }, vocab, request)
            .await
            .map_err(to_js)
    }

    /// The device the text encoder runs on (`"webgpu"` or `"cpu"`), `undefined` before
    /// `loadTextEncoder`.
    #[wasm_bindgen(getter, js_name = textBackend, unchecked_return_type = "\"webgpu\" | \"cpu\" | undefined")]
    pub fn text_backend(&self) -> Option<String> {
        self.text.get().map(|t| t.backend().to_string())
    }

    /// Why the text encoder runs on the CPU although WebGPU was asked for; `undefined` otherwise.
    #[wasm_bindgen(getter, js_name = textFallbackReason)]
    pub fn text_fallback_reason(&self) -> Option<String> {
        self.text.get().and_then(|t| t.fallback_reason())
    }

    /// Testing aid: behaves as if the GPU had just failed with `reason`: every later `segment()`
    /// rejects with `GPU_LOST`, as after a real failure (on which `FastSam` and `FastSamWorker` of
    /// the package's main entries move an `"auto"` model to the CPU build). Throws for a model on
    /// the CPU.
    #[wasm_bindgen(js_name = simulateGpuFailure)]
    pub fn simulate_gpu_failure(&self, reason: String) -> Result<(), JsValue> {
        self.inner.simulate_gpu_failure(&reason).map_err(to_js)
    }
}
