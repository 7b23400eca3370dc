//! The CLIP encoders of the text prompt in the browser: the Burn port on WebGPU or tract on the
//! CPU, chosen at load like the segmenter's backend. A GPU failure rejects with `GPU_LOST`; the
//! JavaScript fallback policy (`js/fallback.js`) moves the encoder to the CPU build.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use super::backend::Request;
use super::convert::OwnedImage;
#[cfg(feature = "burn")]
use crate::clip::signature::check_vocabulary;
#[cfg(feature = "tract")]
use crate::clip::tract::TractClip;
use crate::clip::{
    ClipEngine, ClipTokenizer, RegionEmbeddings, TextMatch, TextOptions, regions, tokenize_all,
};
use crate::error::{Error, GpuFailure, Result};
use crate::image::ImageView;
use crate::segmentation::Segmentation;

#[cfg(feature = "burn")]
use crate::clip::burn::BurnClip;
#[cfg(feature = "burn")]
use crate::onnx;

#[derive(Clone)]
enum Active {
    #[cfg(feature = "burn")]
    Gpu(Rc<BurnClip>),
    #[cfg(feature = "tract")]
    Cpu(Rc<TractClip>),
}

/// The two ONNX files as the caller passed them (views of JS memory, not copies in wasm memory).
#[derive(Clone)]
pub struct EncoderFiles {
    pub image: Uint8Array,
    pub text: Uint8Array,
}

/// A loaded text encoder (tokenizer, image and text encoders) on its current backend.
pub struct TextRunner {
    tokenizer: ClipTokenizer,
    active: Active,
    /// Why the encoders run on the CPU although WebGPU was asked for, if they do.
    fallback_reason: Option<String>,
    /// Distinguishes loads, so a segmentation's cached region embeddings are not reused across
    /// encoders.
    id: u64,
}

/// A model's text encoder slot, shared with its segmentations, so an encoder loaded after
/// `segment()` still serves them.
#[derive(Clone, Default)]
pub struct TextSlot {
    runner: Rc<RefCell<Option<Rc<TextRunner>>>>,
    /// Incremented when a load starts; a load installs its encoder only if no later one started.
    generation: Rc<Cell<u64>>,
}

impl TextSlot {
    /// The current encoder.
    pub fn get(&self) -> Option<Rc<TextRunner>> {
        self.runner.borrow().clone()
    }

    /// Loads an encoder and installs it unless a later `load` started meanwhile.
    pub async fn load(&self, files: EncoderFiles, vocab: Vec<u8>, request: Request) -> Result<()> {
        let generation = self.generation.get() + 1;
        self.generation.set(generation);
        let runner = TextRunner::load(files, vocab, request).await?;
        if self.generation.get() == generation {
            *self.runner.borrow_mut() = Some(Rc::new(runner));
        }
        Ok(())
    }
}

thread_local! {
    static NEXT_ID: Cell<u64> = const { Cell::new(1) };
}

#[cfg(feature = "tract")]
/// The tract encoders, one file at a time (each copied into wasm memory only while tract decodes
/// it).
fn cpu_engine(files: &EncoderFiles, vocab_size: usize) -> Result<TractClip> {
    TractClip::from_loaders(
        || Ok(files.image.to_vec()),
        || Ok(files.text.to_vec()),
        vocab_size,
    )
}

impl TextRunner {
    /// Loads the encoders and vocabulary on the requested backend.
    pub async fn load(files: EncoderFiles, vocab: Vec<u8>, request: Request) -> Result<Self> {
        let tokenizer = ClipTokenizer::from_bytes(&vocab)?;
        drop(vocab);
        #[cfg_attr(not(feature = "tract"), allow(unused_mut))]
        let mut reason = None;
        let mut active = None;
        if request != Request::Cpu {
            match gpu_engine(&files, tokenizer.vocab_size()).await {
                Ok(Ok(engine)) => active = Some(engine),
                Ok(Err(model_error)) => return Err(model_error),
                Err(why) if request == Request::Auto => reason = Some(why),
                Err(why) => {
                    return Err(Error::NoWebGpu(GpuFailure::new(
                        format!("backend \"webgpu\" is not available: {why}"),
                        "use backend \"auto\" or \"cpu\"",
                    )));
                }
            }
        }
        let active = match active {
            Some(a) => a,
            #[cfg(feature = "tract")]
            None => Active::Cpu(Rc::new(cpu_engine(&files, tokenizer.vocab_size())?)),
            #[cfg(not(feature = "tract"))]
            None => return Err(super::backend::no_cpu_engine(reason)),
        };
        if active_engine(&active).context_length() != crate::clip::tokenizer::CONTEXT_LENGTH {
            return Err(Error::InvalidModel(format!(
                "the text encoder takes {} tokens but CLIP's tokenizer writes {}",
                active_engine(&active).context_length(),
                crate::clip::tokenizer::CONTEXT_LENGTH
            )));
        }
        let id = NEXT_ID.with(|n| {
            let id = n.get();
            n.set(id + 1);
            id
        });
        Ok(Self {
            tokenizer,
            active,
            fallback_reason: reason,
            id,
        })
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &ClipTokenizer {
        &self.tokenizer
    }

    /// Identity of this load.
    pub fn id(&self) -> u64 {
        self.id
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

    /// Why the encoders run on the CPU although WebGPU was asked for.
    pub fn fallback_reason(&self) -> Option<String> {
        self.fallback_reason.clone()
    }

    fn engine(&self) -> Rc<dyn ClipEngine> {
        active_engine(&self.active)
    }

    /// Runs the image encoder on `count` preprocessed images.
    pub async fn embed_images(&self, pixels: &[f32], count: usize) -> Result<Vec<f32>> {
        match &self.active {
            #[cfg(feature = "burn")]
            Active::Gpu(e) => e
                .embed_images_async(pixels, count)
                .await
                .map_err(|error| gpu_failed(&error)),
            #[cfg(feature = "tract")]
            Active::Cpu(e) => e.embed_images(pixels, count),
        }
    }

    /// Runs the text encoder on `count` token rows.
    pub async fn embed_texts(&self, tokens: &[i64], count: usize) -> Result<Vec<f32>> {
        match &self.active {
            #[cfg(feature = "burn")]
            Active::Gpu(e) => e
                .embed_texts_async(tokens, count)
                .await
                .map_err(|error| gpu_failed(&error)),
            #[cfg(feature = "tract")]
            Active::Cpu(e) => e.embed_texts(tokens, count),
        }
    }
}

/// The error of a text prompt whose GPU run failed.
#[cfg(feature = "burn")]
fn gpu_failed(error: &Error) -> Error {
    Error::GpuLost(GpuFailure::new(
        format!("WebGPU failed during a text prompt ({error})"),
        super::backend::NO_CPU_ENGINE,
    ))
}

fn active_engine(active: &Active) -> Rc<dyn ClipEngine> {
    match active {
        #[cfg(feature = "burn")]
        Active::Gpu(e) => e.clone(),
        #[cfg(feature = "tract")]
        Active::Cpu(e) => e.clone(),
    }
}

/// The Burn encoders on the page's WebGPU device, one file at a time. `Err` = no usable WebGPU;
/// `Ok(Err)` = the files are not CLIP encoders.
#[cfg(feature = "burn")]
async fn gpu_engine(
    files: &EncoderFiles,
    vocab_size: usize,
) -> std::result::Result<Result<Active>, String> {
    let device = super::backend::webgpu_device().await?;
    let build = || -> Result<Active> {
        // Each file is in wasm memory only while its weights are read.
        let vision = BurnClip::load_vision(&onnx::decode(&files.image.to_vec())?, &device)?;
        let text = {
            let bytes = files.text.to_vec();
            let proto = onnx::decode(&bytes)?;
            check_vocabulary(&proto, vocab_size)?;
            BurnClip::load_text(&proto, &device)?
        };
        let engine = BurnClip::new(vision, text, device.clone(), "burn-webgpu")?;
        Ok(Active::Gpu(Rc::new(engine)))
    };
    Ok(build())
}

#[cfg(not(feature = "burn"))]
async fn gpu_engine(
    _files: &EncoderFiles,
    _vocab_size: usize,
) -> std::result::Result<Result<Active>, String> {
    Err("this build of fastsam-web has no WebGPU engine".into())
}

/// What a segmentation keeps for the text prompt: its image (only when a text encoder was loaded
/// when it was made, or later on request) and its region embeddings once computed.
#[derive(Default)]
pub struct TextState {
    image: RefCell<Option<Rc<OwnedImage>>>,
    regions: RefCell<Regions>,
}

/// Region embeddings of one segmentation, per encoder load.
#[derive(Default)]
enum Regions {
    #[default]
    None,
    /// Being computed for encoder `id`; the promise settles when they are in the cache.
    Pending(u64, Promise),
    Ready(u64, Rc<RegionEmbeddings>),
}

impl TextState {
    /// Keeps `image` for later text prompts.
    pub fn with_image(image: Option<OwnedImage>) -> Rc<Self> {
        Rc::new(Self {
            image: RefCell::new(image.map(Rc::new)),
            regions: RefCell::default(),
        })
    }
}

/// Scores `sentences` against the regions of `seg`. Concurrent calls share one computation of the
/// region embeddings.
pub async fn match_sentences(
    runner: Rc<TextRunner>,
    seg: Rc<Segmentation>,
    state: Rc<TextState>,
    sentences: Vec<String>,
    options: TextOptions,
) -> Result<Vec<TextMatch>> {
    options.validate()?;
    let refs: Vec<&str> = sentences.iter().map(String::as_str).collect();
    let tokens = tokenize_all(runner.tokenizer(), &refs)?;
    let regions = loop {
        let pending = match &*state.regions.borrow() {
            Regions::Ready(id, r) if *id == runner.id() => Some(Ok(r.clone())),
            Regions::Pending(id, p) if *id == runner.id() => Some(Err(p.clone())),
            _ => None,
        };
        match pending {
            Some(Ok(ready)) => break ready,
            // Another call is embedding the regions: wait for it, then look again (it may have
            // failed, leaving the cache empty for this call to retry).
            Some(Err(promise)) => {
                let _ = JsFuture::from(promise).await;
            }
            None => {
                let (promise, settle) = settle_later();
                *state.regions.borrow_mut() = Regions::Pending(runner.id(), promise);
                let result = embed_regions(&runner, &seg, &state).await;
                let mut slot = state.regions.borrow_mut();
                if matches!(&*slot, Regions::Pending(id, _) if *id == runner.id()) {
                    *slot = match &result {
                        Ok(r) => Regions::Ready(runner.id(), r.clone()),
                        Err(_) => Regions::None,
                    };
                }
                drop(slot);
                let _ = settle.call0(&JsValue::NULL);
                break result?;
            }
        }
    };
    let texts = runner.embed_texts(&tokens, sentences.len()).await?;
    texts
        .chunks_exact(regions.dim().max(1))
        .map(|t| regions.select(t, &options))
        .collect()
}

/// A promise and the function that resolves it.
fn settle_later() -> (Promise, js_sys::Function) {
    let mut resolve = None;
    let promise = Promise::new(&mut |res, _rej| resolve = Some(res));
    (promise, resolve.expect("the executor runs synchronously"))
}

async fn embed_regions(
    runner: &TextRunner,
    seg: &Segmentation,
    state: &TextState,
) -> Result<Rc<RegionEmbeddings>> {
    let image = state.image.borrow().clone().ok_or_else(|| {
        Error::InvalidPrompt(
            "this segmentation was made before a text encoder was loaded, so its image was not kept; segment the image again".into(),
        )
    })?;
    let view = ImageView::from_interleaved(&image.data, image.width, image.height)?;
    let rgb = regions::rgb_in_mask_frame(seg, &view)?;
    let instances = regions::eligible(seg);
    let engine = runner.engine();
    let mut values = Vec::with_capacity(instances.len() * engine.embed_dim());
    for chunk in instances.chunks(engine.image_batch().max(1)) {
        let pixels = regions::region_inputs(seg, &rgb, chunk)?;
        values.extend(runner.embed_images(&pixels, chunk.len()).await?);
    }
    Ok(Rc::new(RegionEmbeddings::new(
        instances,
        engine.embed_dim(),
        values,
    )?))
}
