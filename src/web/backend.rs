//! Which engine runs the network in the browser: the Burn port on WebGPU or tract on the CPU, and
//! the fallback from the first to the second when WebGPU is missing, fails to start, or fails
//! mid-session.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Reflect, Uint8Array};
#[cfg(feature = "burn")]
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
#[cfg(feature = "burn")]
use wasm_bindgen_futures::JsFuture;

use super::PlanTile;
use super::convert::now_ms;
use crate::engine::RawOutputs;
use crate::engine::graph::WeightType;
#[cfg(feature = "tract")]
use crate::engine::tract::TractEngine;
use crate::error::{Error, Result};
#[cfg(feature = "burn")]
use crate::pipeline::MaskAssembly;
use crate::pipeline::{Letterbox, SegmentOptions, postprocess};
use crate::segmentation::Segmentation;
#[cfg(feature = "tract")]
use crate::segmenter::FastSam;
#[cfg(feature = "burn")]
use crate::segmenter::check_outputs;

#[cfg(feature = "burn")]
use crate::engine::burn::BurnEngine;

/// The backend a caller asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// WebGPU when an adapter exists, else the CPU; falls back to the CPU if the GPU fails later.
    Auto,
    /// WebGPU or an error.
    WebGpu,
    /// The CPU (tract).
    Cpu,
}

impl Request {
    /// Parses the `backend` load option.
    pub fn parse(value: Option<&str>) -> Result<Self> {
        match value {
            None | Some("auto") => Ok(Self::Auto),
            Some("webgpu") => Ok(Self::WebGpu),
            Some("cpu") => Ok(Self::Cpu),
            Some(other) => Err(Error::InvalidOption(format!(
                "backend \"{other}\" is unknown; use \"auto\", \"webgpu\" or \"cpu\""
            ))),
        }
    }
}

/// The kernel a WebGPU model runs its convolutions on: the `gpuConv` load option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GpuConv {
    /// Burn's `conv2d` (its direct kernel on WebGPU).
    #[default]
    Direct,
    /// The port's tiled implicit GEMM (`model::kernels::tiled`).
    Tiled,
}

impl GpuConv {
    /// Parses the `gpuConv` load option. Every build accepts it (a `FastSamWorker` passes the same
    /// options to each); it matters only to models on WebGPU.
    pub fn parse(value: Option<&str>) -> Result<Self> {
        match value {
            None | Some("direct") => Ok(Self::Direct),
            Some("tiled") => Ok(Self::Tiled),
            Some(other) => Err(Error::InvalidOption(format!(
                "gpuConv \"{other}\" is unknown; use \"direct\" or \"tiled\""
            ))),
        }
    }
}

#[cfg(not(any(feature = "burn", feature = "tract")))]
compile_error!(
    "the wasm build needs an engine: enable the `burn` (WebGPU) or `tract` (CPU) feature"
);

/// What the WebGPU build (no tract) says where a model would need the CPU.
#[cfg(not(feature = "tract"))]
pub(super) const NO_CPU_ENGINE: &str = "this is fastsam-web's WebGPU build, which has no CPU engine: \
use FastSamWorker (it switches to the CPU build by itself) or import fastsam-web/cpu";

/// The WebGPU build's refusal of a load that needs the CPU: `backend: "cpu"` was asked for
/// (`reason` `None`), or WebGPU is unusable for `reason`.
#[cfg(not(feature = "tract"))]
pub(super) fn no_cpu_engine(reason: Option<String>) -> Error {
    match reason {
        None => Error::InvalidOption(format!(
            "backend \"cpu\" needs the CPU engine; {NO_CPU_ENGINE}"
        )),
        Some(why) => Error::NoWebGpu(format!(
            "WebGPU is not available here ({why}); {NO_CPU_ENGINE}"
        )),
    }
}

/// tract on the CPU; in the threaded build, on the pool of workers when one was started.
#[cfg(feature = "tract")]
fn cpu_model(engine: TractEngine) -> Result<FastSam> {
    #[cfg(feature = "threads")]
    let engine = match super::threads::thread_pool_size() {
        0 | 1 => engine,
        pool => engine.with_threads(pool)?,
    };
    Ok(FastSam::with_engine(Box::new(engine)))
}

enum Active {
    #[cfg(feature = "burn")]
    Gpu(Rc<BurnEngine>),
    #[cfg(feature = "tract")]
    Cpu(Rc<FastSam>),
}

/// A loaded network on its current backend.
pub struct Runner {
    active: RefCell<Active>,
    input_size: u32,
    /// Input size requested at load (for dynamic exports), reused by a CPU fallback.
    // Read by the move to the CPU, which the WebGPU build does not have.
    #[cfg_attr(not(feature = "tract"), allow(dead_code))]
    requested_size: Option<u32>,
    /// Matrix-product tile of the tract plans, reused by a CPU fallback.
    tile: PlanTile,
    /// The ONNX bytes, kept on the JS heap (not in wasm memory) while a GPU run may still fall
    /// back to the CPU.
    // Read by the move to the CPU, which the WebGPU build does not have.
    #[cfg_attr(not(feature = "tract"), allow(dead_code))]
    fallback_bytes: RefCell<Option<Uint8Array>>,
    /// Why the runner is on the CPU although WebGPU was asked for, if it is.
    fallback_reason: RefCell<Option<String>>,
    /// Called with `{backend, reason}` when a GPU failure moves the runner to the CPU.
    on_change: RefCell<Option<js_sys::Function>>,
    /// Why the GPU failed, in the WebGPU build (which has no CPU to move to).
    #[cfg(not(feature = "tract"))]
    lost: RefCell<Option<String>>,
    /// Loaded with backend "auto": in the WebGPU build, a GPU failure marks the runner as lost
    /// and says where the CPU engine is (a "webgpu" model just reports the error).
    #[cfg(not(feature = "tract"))]
    auto: bool,
}

impl Runner {
    /// Loads `bytes` on the requested backend.
    /// `tile`: the matrix-product tile of its tract plans (now, or at a fallback).
    pub async fn load(
        bytes: Vec<u8>,
        input_size: Option<u32>,
        request: Request,
        conv: GpuConv,
        tile: PlanTile,
    ) -> Result<Self> {
        #[cfg_attr(not(feature = "tract"), allow(unused_mut))]
        let mut reason = None;
        if request != Request::Cpu {
            match gpu_runner(&bytes, input_size, request, conv, tile).await {
                Ok(runner) => return Ok(runner),
                Err(Fallback::Model(e)) => return Err(e),
                Err(Fallback::NoGpu(why)) if request == Request::Auto => reason = Some(why),
                Err(Fallback::NoGpu(why)) => {
                    return Err(Error::NoWebGpu(format!(
                        "backend \"webgpu\" is not available: {why}; use backend \"auto\" or \"cpu\""
                    )));
                }
            }
        }
        #[cfg(feature = "tract")]
        {
            let model = cpu_model(tile.build(|| TractEngine::from_bytes(bytes, input_size))?)?;
            let size = model.input_size();
            Ok(Self::new(
                Active::Cpu(Rc::new(model)),
                size,
                input_size,
                tile,
                None,
                reason,
            ))
        }
        #[cfg(not(feature = "tract"))]
        {
            drop(bytes);
            Err(no_cpu_engine(reason))
        }
    }

    fn new(
        active: Active,
        input_size: u32,
        requested_size: Option<u32>,
        tile: PlanTile,
        fallback_bytes: Option<Uint8Array>,
        fallback_reason: Option<String>,
    ) -> Self {
        Self {
            active: RefCell::new(active),
            input_size,
            requested_size,
            tile,
            fallback_bytes: RefCell::new(fallback_bytes),
            fallback_reason: RefCell::new(fallback_reason),
            on_change: RefCell::new(None),
            #[cfg(not(feature = "tract"))]
            lost: RefCell::new(None),
            #[cfg(not(feature = "tract"))]
            auto: false,
        }
    }

    /// Side of the square model input.
    pub fn input_size(&self) -> u32 {
        self.input_size
    }

    /// Matrix-product tile of the tract plans.
    pub fn tile(&self) -> PlanTile {
        self.tile
    }

    /// `"webgpu"` or `"cpu"`.
    pub fn backend(&self) -> &'static str {
        match &*self.active.borrow() {
            #[cfg(feature = "burn")]
            Active::Gpu(_) => "webgpu",
            #[cfg(feature = "tract")]
            Active::Cpu(_) => "cpu",
        }
    }

    /// How the loaded file stores its weights.
    pub fn weight_type(&self) -> WeightType {
        match &*self.active.borrow() {
            #[cfg(feature = "burn")]
            Active::Gpu(engine) => engine.signature().weight_type,
            #[cfg(feature = "tract")]
            Active::Cpu(model) => model.weight_type(),
        }
    }

    /// Threads computing the network: the pool's size for tract in the threaded build, else 1.
    pub fn threads(&self) -> usize {
        match &*self.active.borrow() {
            #[cfg(feature = "burn")]
            Active::Gpu(_) => 1,
            #[cfg(feature = "tract")]
            Active::Cpu(model) => model.threads(),
        }
    }

    /// `"burn"` or `"tract"`.
    pub fn engine(&self) -> &'static str {
        match &*self.active.borrow() {
            #[cfg(feature = "burn")]
            Active::Gpu(_) => "burn",
            #[cfg(feature = "tract")]
            Active::Cpu(_) => "tract",
        }
    }

    /// Why WebGPU is not in use although it was asked for (`None` when it is, or was not asked).
    pub fn fallback_reason(&self) -> Option<String> {
        self.fallback_reason.borrow().clone()
    }

    /// Sets the callback told about a move to the CPU.
    pub fn set_on_change(&self, callback: Option<js_sys::Function>) {
        *self.on_change.borrow_mut() = callback;
    }

    /// The current callback.
    pub fn on_change(&self) -> Option<js_sys::Function> {
        self.on_change.borrow().clone()
    }

    /// Runs the network on a letterboxed input. A GPU failure in `auto` mode moves the runner to
    /// the CPU for good and reruns the input there.
    pub async fn infer(&self, input: &[f32]) -> Result<RawOutputs> {
        #[cfg(feature = "burn")]
        if let Some(engine) = self.gpu_engine()? {
            let result = engine.infer_async(input).await.and_then(|raw| {
                check_outputs(&raw, self.input_size)?;
                Ok(raw)
            });
            match result {
                Ok(raw) => return Ok(raw),
                Err(e) => self.after_gpu_failure(e)?,
            }
        }
        self.cpu_model()?.infer(input)
    }

    /// Runs the network and its post-processing, timing both. On the GPU with
    /// [`MaskAssembly::Gpu`] (or `Auto` on a hardware adapter) the masks are assembled there; if
    /// that fails, the input is run again with the masks assembled on the CPU, where a GPU failure
    /// in `auto` mode moves the runner to the CPU for good as in [`Runner::infer`].
    pub async fn segment(
        &self,
        input: &[f32],
        lb: &Letterbox,
        options: &SegmentOptions,
    ) -> Result<Timed> {
        let start = now_ms();
        #[cfg(feature = "burn")]
        if masks_on_gpu(options.mask_assembly)
            && let Some(engine) = self.gpu_engine()?
        {
            let result = async {
                let run = engine.run_on_device_async(input).await?;
                let network_done = now_ms();
                let segmentation = run.segment_async(lb, options).await?;
                Ok::<_, Error>((segmentation, network_done))
            }
            .await;
            match result {
                Ok((segmentation, network_done)) => {
                    return Ok(Timed {
                        segmentation,
                        inference_ms: network_done - start,
                        postprocess_ms: now_ms() - network_done,
                    });
                }
                // Assembling on the CPU may still work: the network reruns with both outputs
                // read back, and a GPU that fails there too moves the model as usual.
                Err(e) => web_sys::console::warn_1(
                    &format!("fastsam-web: masks on the GPU failed ({e}); assembling on the CPU")
                        .into(),
                ),
            }
        }
        let raw = self.infer(input).await?;
        let network_done = now_ms();
        let segmentation = postprocess(&raw, lb, options);
        Ok(Timed {
            segmentation,
            inference_ms: network_done - start,
            postprocess_ms: now_ms() - network_done,
        })
    }

    /// The GPU engine while the runner is on it (`None` on the CPU). In the WebGPU build, a GPU
    /// that failed stays failed (a lost device does not come back).
    #[cfg(feature = "burn")]
    fn gpu_engine(&self) -> Result<Option<Rc<BurnEngine>>> {
        #[cfg(not(feature = "tract"))]
        if let Some(why) = self.lost.borrow().clone() {
            return Err(lost_gpu(&why));
        }
        Ok(match &*self.active.borrow() {
            Active::Gpu(engine) => Some(engine.clone()),
            #[cfg(feature = "tract")]
            Active::Cpu(_) => None,
        })
    }

    /// After a failed GPU run: `Ok` once an `auto` runner has moved to the CPU (the caller reruns
    /// there), else the error to report.
    #[cfg(feature = "burn")]
    fn after_gpu_failure(&self, error: Error) -> Result<()> {
        #[cfg(feature = "tract")]
        if self.fallback_bytes.borrow().is_some() {
            self.fall_back(&error.to_string())?;
            return Ok(());
        }
        #[cfg(not(feature = "tract"))]
        if self.auto {
            return match self.fall_back(&error.to_string()) {
                Err(lost) => Err(lost),
                Ok(never) => match never {},
            };
        }
        Err(Error::GpuLost(format!(
            "the GPU failed ({}) and this model was not loaded with backend \"auto\"",
            error.message()
        )))
    }

    /// The CPU model the runner is on.
    #[cfg(feature = "tract")]
    fn cpu_model(&self) -> Result<Rc<FastSam>> {
        match &*self.active.borrow() {
            Active::Cpu(model) => Ok(model.clone()),
            #[cfg(feature = "burn")]
            Active::Gpu(_) => Err(Error::Inference(
                "internal error: the model is on the GPU".into(),
            )),
        }
    }

    /// The WebGPU build has no CPU model: every run went to the GPU.
    #[cfg(not(feature = "tract"))]
    fn cpu_model(&self) -> Result<NoCpuModel> {
        Err(Error::Inference(NO_CPU_ENGINE.into()))
    }

    /// Moves to the CPU after a GPU failure: builds tract from the kept bytes and tells the
    /// callback.
    #[cfg(feature = "tract")]
    pub fn fall_back(&self, why: &str) -> Result<Rc<FastSam>> {
        let Some(bytes) = self.fallback_bytes.borrow_mut().take() else {
            return Err(Error::GpuLost(format!(
                "the GPU failed ({why}) and this model was not loaded with backend \"auto\""
            )));
        };
        let engine = self
            .tile
            .build(|| TractEngine::from_bytes(bytes.to_vec(), self.requested_size))?;
        let model = Rc::new(cpu_model(engine)?);
        *self.active.borrow_mut() = Active::Cpu(model.clone());
        let reason = format!("WebGPU failed during a run, now on the CPU: {why}");
        *self.fallback_reason.borrow_mut() = Some(reason.clone());
        if let Some(callback) = self.on_change() {
            let event = js_sys::Object::new();
            let _ = Reflect::set(&event, &"backend".into(), &"cpu".into());
            let _ = Reflect::set(&event, &"reason".into(), &reason.into());
            if let Err(e) = callback.call1(&JsValue::NULL, &event) {
                web_sys::console::warn_2(&"onbackendchange threw".into(), &e);
            }
        }
        Ok(model)
    }

    /// The WebGPU build cannot move to the CPU: the GPU stays marked as failed, and this and every
    /// later run fail with an error saying where the CPU engine is.
    #[cfg(not(feature = "tract"))]
    pub fn fall_back(&self, why: &str) -> Result<std::convert::Infallible> {
        if !self.auto {
            return Err(Error::GpuLost(format!(
                "the GPU failed ({why}) and this model was not loaded with backend \"auto\""
            )));
        }
        self.lost
            .borrow_mut()
            .get_or_insert_with(|| why.to_string());
        Err(lost_gpu(why))
    }
}

/// Stands for the CPU model the WebGPU build does not have.
#[cfg(not(feature = "tract"))]
enum NoCpuModel {}

#[cfg(not(feature = "tract"))]
impl NoCpuModel {
    fn infer(&self, _input: &[f32]) -> Result<RawOutputs> {
        match *self {}
    }
}

/// The error of a run in the WebGPU build once its GPU failed.
#[cfg(not(feature = "tract"))]
fn lost_gpu(why: &str) -> Error {
    Error::GpuLost(format!(
        "WebGPU failed during a run ({why}); {NO_CPU_ENGINE}"
    ))
}

/// A segmentation and how long its two halves took, in milliseconds.
pub struct Timed {
    /// The result.
    pub segmentation: Segmentation,
    /// The network run, results read back (all of it after a move to the CPU mid-run).
    pub inference_ms: f64,
    /// Threshold, NMS, boxes and masks (on the GPU: with the masks' readback).
    pub postprocess_ms: f64,
}

/// Why the GPU engine could not be built.
enum Fallback {
    /// The file is not a FastSAM model: an error on every backend.
    #[cfg_attr(not(feature = "burn"), allow(dead_code))]
    Model(Error),
    /// No usable WebGPU: auto mode goes on with the CPU.
    NoGpu(String),
}

/// The Burn engine on the page's WebGPU device.
#[cfg(feature = "burn")]
async fn gpu_runner(
    bytes: &[u8],
    input_size: Option<u32>,
    request: Request,
    conv: GpuConv,
    tile: PlanTile,
) -> std::result::Result<Runner, Fallback> {
    use crate::engine::Engine;
    use crate::model::kernels::{ConvKernels, Placement};
    let proto = crate::onnx::decode(bytes).map_err(Fallback::Model)?;
    let device = webgpu_device().await.map_err(Fallback::NoGpu)?;
    let conv = match conv {
        GpuConv::Direct => ConvKernels::Burn,
        GpuConv::Tiled => ConvKernels::Tiled,
    };
    let engine = BurnEngine::from_proto(
        &proto,
        input_size,
        Placement { device, conv },
        "burn-webgpu",
    )
    .map_err(Fallback::Model)?;
    let size = engine.input_size();
    // The bytes of an "auto" model are kept for a move to the CPU (the CPU build only).
    let keep =
        (cfg!(feature = "tract") && request == Request::Auto).then(|| Uint8Array::from(bytes));
    #[cfg_attr(feature = "tract", allow(unused_mut))]
    let mut runner = Runner::new(
        Active::Gpu(Rc::new(engine)),
        size,
        input_size,
        tile,
        keep,
        None,
    );
    #[cfg(not(feature = "tract"))]
    {
        runner.auto = request == Request::Auto;
    }
    Ok(runner)
}

#[cfg(not(feature = "burn"))]
async fn gpu_runner(
    _bytes: &[u8],
    _input_size: Option<u32>,
    _request: Request,
    _conv: GpuConv,
    _tile: PlanTile,
) -> std::result::Result<Runner, Fallback> {
    Err(Fallback::NoGpu(
        "this build of fastsam-web has no WebGPU engine".into(),
    ))
}

#[cfg(feature = "burn")]
thread_local! {
    /// The WebGPU device, set up once per page or worker and shared by every model.
    static DEVICE: RefCell<Option<burn_tensor::Device>> = const { RefCell::new(None) };
    /// Whether the device's adapter is a software fallback (SwiftShader).
    static FALLBACK_ADAPTER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a WebGPU model assembles its masks on the GPU under `assembly`.
#[cfg(feature = "burn")]
fn masks_on_gpu(assembly: MaskAssembly) -> bool {
    match assembly {
        MaskAssembly::Auto => !fallback_adapter(),
        MaskAssembly::Gpu => true,
        MaskAssembly::Cpu => false,
    }
}

/// Whether WebGPU runs on a software fallback adapter (`GPUAdapterInfo.isFallbackAdapter`, or
/// the older `GPUAdapter.isFallbackAdapter`): a CPU emulating a GPU.
#[cfg(feature = "burn")]
fn fallback_adapter() -> bool {
    FALLBACK_ADAPTER.with(|f| f.get())
}

/// The page's WebGPU device for Burn, set up on first use. `Err` says why there is none.
#[cfg(feature = "burn")]
pub(super) async fn webgpu_device() -> std::result::Result<burn_tensor::Device, String> {
    if let Some(device) = DEVICE.with(|d| d.borrow().clone()) {
        return Ok(device);
    }
    let fallback = require_adapter().await?;
    FALLBACK_ADAPTER.with(|f| f.set(fallback));
    let device = burn_tensor::Device::wgpu_options()
        .graphics_api(burn_tensor::wgpu::WgpuBackend::WebGpu)
        .init_async()
        .await
        .map_err(|e| {
            format!(
                "WebGPU initialisation failed: {}",
                first_line(&e.to_string())
            )
        })?;
    DEVICE.with(|d| *d.borrow_mut() = Some(device.clone()));
    Ok(device)
}

/// wgpu writes a rejected browser promise as `JsValue(Error: why\n<stack>)`: keeps `why`.
#[cfg(feature = "burn")]
fn first_line(error: &str) -> String {
    let text = match error.split_once("JsValue(") {
        Some((head, value)) => {
            let value = value.strip_suffix(')').unwrap_or(value);
            format!("{head}{}", value.strip_prefix("Error: ").unwrap_or(value))
        }
        None => error.to_string(),
    };
    text.lines().next().unwrap_or_default().to_string()
}

/// Checks `navigator.gpu.requestAdapter()` before Burn asks for a device, so a browser without
/// WebGPU gives a reason instead of an error deep in wgpu. `Ok(true)` for a software fallback
/// adapter.
#[cfg(feature = "burn")]
async fn require_adapter() -> std::result::Result<bool, String> {
    let global = js_sys::global();
    let gpu = Reflect::get(&global, &"navigator".into())
        .and_then(|n| Reflect::get(&n, &"gpu".into()))
        .unwrap_or(JsValue::UNDEFINED);
    if gpu.is_undefined() || gpu.is_null() {
        return Err("this browser exposes no WebGPU (navigator.gpu is missing)".into());
    }
    let request: js_sys::Function = Reflect::get(&gpu, &"requestAdapter".into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or("navigator.gpu.requestAdapter is not a function")?;
    let promise: js_sys::Promise = request
        .call0(&gpu)
        .ok()
        .and_then(|p| p.dyn_into().ok())
        .ok_or("navigator.gpu.requestAdapter() failed")?;
    let adapter = JsFuture::from(promise)
        .await
        .map_err(|e| first_line(&format!("navigator.gpu.requestAdapter() rejected: {e:?}")))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err("the browser has WebGPU but no adapter (no usable GPU)".into());
    }
    let flag = |object: &JsValue| {
        Reflect::get(object, &"isFallbackAdapter".into())
            .ok()
            .and_then(|v| v.as_bool())
    };
    let info = Reflect::get(&adapter, &"info".into()).unwrap_or(JsValue::UNDEFINED);
    Ok(flag(&info).or_else(|| flag(&adapter)).unwrap_or(false))
}
