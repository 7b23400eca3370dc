//! Which engine runs the network in the browser: the Burn port on WebGPU or tract on the CPU,
//! chosen at load. A GPU that fails mid-session stays failed: every later run rejects with
//! `GPU_LOST`, and moving the model to the CPU is the JavaScript fallback policy's job
//! (`js/fallback.js`), which loads the CPU build: no build runs both engines for one model.

#[cfg(feature = "burn")]
use std::cell::RefCell;
use std::rc::Rc;

#[cfg(feature = "burn")]
use js_sys::Reflect;
#[cfg(feature = "burn")]
use wasm_bindgen::{JsCast, JsValue};
#[cfg(feature = "burn")]
use wasm_bindgen_futures::JsFuture;

use super::PlanTile;
use super::convert::now_ms;
use crate::engine::RawOutputs;
use crate::engine::graph::WeightType;
#[cfg(feature = "tract")]
use crate::engine::tract::TractEngine;
use crate::error::{Error, GpuFailure, Result};
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
    /// WebGPU when an adapter exists, else the CPU (where the build has the CPU engine).
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
use FastSamWorker or FastSam from fastsam-web (they switch to the CPU build by themselves) or import fastsam-web/cpu";

/// What a build with both engines (the browser tests') says after a GPU failure.
#[cfg(all(feature = "burn", feature = "tract"))]
pub(super) const NO_CPU_ENGINE: &str =
    "the model stays on the failed GPU: load it again with backend \"cpu\" to run it on the CPU";

/// The WebGPU build's refusal of a load that needs the CPU: `backend: "cpu"` was asked for
/// (`reason` `None`), or WebGPU is unusable for `reason`.
#[cfg(not(feature = "tract"))]
pub(super) fn no_cpu_engine(reason: Option<String>) -> Error {
    match reason {
        None => Error::InvalidOption(format!(
            "backend \"cpu\" needs the CPU engine; {NO_CPU_ENGINE}"
        )),
        Some(why) => Error::NoWebGpu(GpuFailure::new(
            format!("WebGPU is not available here ({why})"),
            NO_CPU_ENGINE,
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

/// The engine a runner holds.
enum Active {
    #[cfg(feature = "burn")]
    Gpu(Rc<BurnEngine>),
    #[cfg(feature = "tract")]
    Cpu(Rc<FastSam>),
}

/// A loaded network on the backend chosen at load.
pub struct Runner {
    active: Active,
    input_size: u32,
    /// Matrix-product tile of the tract plans.
    tile: PlanTile,
    /// Why the runner is on the CPU although WebGPU was asked for, if it is.
    fallback_reason: Option<String>,
    /// Why the GPU failed, once it has: a lost device does not come back, so every later run
    /// fails too.
    #[cfg(feature = "burn")]
    lost: RefCell<Option<String>>,
}

impl Runner {
    /// Loads `bytes` on the requested backend: `Auto` takes WebGPU where it starts, else the CPU
    /// where this build has the CPU engine. `tile`: the matrix-product tile of its tract plans.
    pub async fn load(
        bytes: Vec<u8>,
        input_size: Option<u32>,
        request: Request,
        conv: GpuConv,
        tile: PlanTile,
    ) -> Result<Self> {
        let mut reason = None;
        if request != Request::Cpu {
            match gpu_engine(&bytes, input_size, conv).await {
                Ok(engine) => return Ok(Self::new(engine, tile, None)),
                Err(Fallback::Model(e)) => return Err(e),
                Err(Fallback::NoGpu(why)) if request == Request::Auto => reason = Some(why),
                Err(Fallback::NoGpu(why)) => {
                    return Err(Error::NoWebGpu(GpuFailure::new(
                        format!("backend \"webgpu\" is not available: {why}"),
                        "use backend \"auto\" or \"cpu\"",
                    )));
                }
            }
        }
        #[cfg(feature = "tract")]
        {
            let model = cpu_model(tile.build(|| TractEngine::from_bytes(bytes, input_size))?)?;
            Ok(Self::new(Active::Cpu(Rc::new(model)), tile, reason))
        }
        #[cfg(not(feature = "tract"))]
        {
            drop(bytes);
            Err(no_cpu_engine(reason.take()))
        }
    }

    fn new(active: Active, tile: PlanTile, fallback_reason: Option<String>) -> Self {
        let input_size = match &active {
            #[cfg(feature = "burn")]
            Active::Gpu(engine) => {
                use crate::engine::Engine;
                engine.input_size()
            }
            #[cfg(feature = "tract")]
            Active::Cpu(model) => model.input_size(),
        };
        Self {
            active,
            input_size,
            tile,
            fallback_reason,
            #[cfg(feature = "burn")]
            lost: RefCell::new(None),
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
        match &self.active {
            #[cfg(feature = "burn")]
            Active::Gpu(_) => "webgpu",
            #[cfg(feature = "tract")]
            Active::Cpu(_) => "cpu",
        }
    }

    /// How the loaded file stores its weights.
    pub fn weight_type(&self) -> WeightType {
        match &self.active {
            #[cfg(feature = "burn")]
            Active::Gpu(engine) => engine.signature().weight_type,
            #[cfg(feature = "tract")]
            Active::Cpu(model) => model.weight_type(),
        }
    }

    /// Threads computing the network: the pool's size for tract in the threaded build, else 1.
    pub fn threads(&self) -> usize {
        match &self.active {
            #[cfg(feature = "burn")]
            Active::Gpu(_) => 1,
            #[cfg(feature = "tract")]
            Active::Cpu(model) => model.threads(),
        }
    }

    /// `"burn"` or `"tract"`.
    pub fn engine(&self) -> &'static str {
        match &self.active {
            #[cfg(feature = "burn")]
            Active::Gpu(_) => "burn",
            #[cfg(feature = "tract")]
            Active::Cpu(_) => "tract",
        }
    }

    /// Why WebGPU is not in use although it was asked for (`None` when it is, or was not asked).
    pub fn fallback_reason(&self) -> Option<String> {
        self.fallback_reason.clone()
    }

    /// Runs the network on a letterboxed input. A GPU failure marks the GPU as failed and rejects
    /// with `GPU_LOST`, now and at every later run.
    pub async fn infer(&self, input: &[f32]) -> Result<RawOutputs> {
        match &self.active {
            #[cfg(feature = "burn")]
            Active::Gpu(engine) => {
                self.check_gpu()?;
                let result = engine.infer_async(input).await.and_then(|raw| {
                    check_outputs(&raw, self.input_size)?;
                    Ok(raw)
                });
                result.map_err(|e| self.gpu_failed(&e.to_string()))
            }
            #[cfg(feature = "tract")]
            Active::Cpu(model) => model.infer(input),
        }
    }

    /// Runs the network and its post-processing, timing both. On the GPU with
    /// [`MaskAssembly::Gpu`] (or `Auto` on a hardware adapter) the masks are assembled there; if
    /// that fails, the input is run again with the masks assembled on the CPU, where a GPU failure
    /// rejects as in [`Runner::infer`].
    pub async fn segment(
        &self,
        input: &[f32],
        lb: &Letterbox,
        options: &SegmentOptions,
    ) -> Result<Timed> {
        let start = now_ms();
        #[cfg(feature = "burn")]
        if let Active::Gpu(engine) = &self.active
            && masks_on_gpu(options.mask_assembly)
        {
            self.check_gpu()?;
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
                // read back, and a GPU that fails there too rejects as usual.
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

    /// `GPU_LOST` once the GPU has failed.
    #[cfg(feature = "burn")]
    fn check_gpu(&self) -> Result<()> {
        match self.lost.borrow().as_deref() {
            Some(why) => Err(lost_gpu(why)),
            None => Ok(()),
        }
    }

    /// Marks the GPU as failed for `why` (the first reason is kept) and gives the error to report.
    #[cfg(feature = "burn")]
    fn gpu_failed(&self, why: &str) -> Error {
        let mut lost = self.lost.borrow_mut();
        lost_gpu(lost.get_or_insert_with(|| why.to_string()))
    }

    /// Testing aid: behaves as if the GPU had just failed for `why`, so every later run rejects
    /// with `GPU_LOST`. Refused for a model on the CPU, which has no GPU to fail.
    pub fn simulate_gpu_failure(&self, why: &str) -> Result<()> {
        match &self.active {
            #[cfg(feature = "burn")]
            Active::Gpu(_) => {
                self.gpu_failed(why);
                Ok(())
            }
            #[cfg(feature = "tract")]
            Active::Cpu(_) => {
                let _ = why;
                Err(Error::InvalidOption(
                    "the model runs on the CPU: it has no GPU to fail".into(),
                ))
            }
        }
    }
}

/// The error of a run once the GPU failed.
#[cfg(feature = "burn")]
fn lost_gpu(why: &str) -> Error {
    Error::GpuLost(GpuFailure::new(
        format!("WebGPU failed during a run ({why})"),
        NO_CPU_ENGINE,
    ))
}

/// A segmentation and how long its two halves took, in milliseconds.
pub struct Timed {
    /// The result.
    pub segmentation: Segmentation,
    /// The network run, results read back.
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
async fn gpu_engine(
    bytes: &[u8],
    input_size: Option<u32>,
    conv: GpuConv,
) -> std::result::Result<Active, Fallback> {
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
    Ok(Active::Gpu(Rc::new(engine)))
}

#[cfg(not(feature = "burn"))]
async fn gpu_engine(
    _bytes: &[u8],
    _input_size: Option<u32>,
    _conv: GpuConv,
) -> std::result::Result<Active, Fallback> {
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
