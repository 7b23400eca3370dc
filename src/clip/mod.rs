//! The text prompt: CLIP ViT-B/32 scores each mask's image region against a sentence.
//!
//! [`tokenizer`] turns sentences into CLIP's 77 token ids; [`regions`] picks the masks to score and
//! [`preprocess`] turns each one's region into CLIP's normalised 224 x 224 input; a
//! [`ClipEngine`] (tract on the CPU, [`burn`] on WebGPU) embeds both; [`select`] compares them.
//! Region embeddings are computed once per segmentation: every further sentence costs one run of
//! the text encoder.
//!
//! ```no_run
//! # fn main() -> fastsam_web::Result<()> {
//! use fastsam_web::clip::{Clip, TextOptions};
//! # let (seg, image): (fastsam_web::Segmentation, fastsam_web::ImageView) = todo!();
//! let read = |p: &str| std::fs::read(p).unwrap();
//! let clip = Clip::from_onnx(&read("clip-image.onnx"), &read("clip-text.onnx"), &read("clip-bpe.txt.gz"))?;
//! let regions = clip.embed_regions(&seg, &image)?;
//! let dog = clip.select(&regions, &["a dog"], &TextOptions::default())?;
//! println!("best mask: {:?}", dog[0].best());
//! # Ok(()) }
//! ```

#[cfg(feature = "burn")]
pub mod burn;
pub mod encoder;
pub mod preprocess;
pub mod regions;
pub mod select;
pub mod signature;
pub mod tokenizer;
#[cfg(feature = "tract")]
pub mod tract;

pub use encoder::ClipEngine;
pub use select::{RegionEmbeddings, RegionScore, TextMatch, TextOptions};
pub use tokenizer::ClipTokenizer;

use crate::error::{Error, Result};
use crate::image::ImageView;
use crate::segmentation::Segmentation;

/// CLIP's tokenizer and encoders, ready to score masks against sentences.
pub struct Clip {
    tokenizer: ClipTokenizer,
    engine: Box<dyn ClipEngine>,
}

impl std::fmt::Debug for Clip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clip")
            .field("engine", &self.engine.name())
            .field("embed_dim", &self.engine.embed_dim())
            .finish()
    }
}

impl Clip {
    /// Loads the two encoders (`clip-image.onnx`, `clip-text.onnx`) on the CPU engine (tract) and
    /// the vocabulary (`clip-bpe.txt.gz`), as written by `tools/clip_export.py`.
    #[cfg(feature = "tract")]
    pub fn from_onnx(image: &[u8], text: &[u8], vocab: &[u8]) -> Result<Self> {
        let tokenizer = ClipTokenizer::from_bytes(vocab)?;
        let image = tract::TractImageEncoder::from_onnx(image)?;
        signature::check_vocabulary(&crate::onnx::decode(text)?, tokenizer.vocab_size())?;
        let engine = tract::TractClip::new(image, tract::TractTextEncoder::from_onnx(text)?)?;
        Self::with_engine(tokenizer, Box::new(engine))
    }

    /// Combines a tokenizer with any engine; their context lengths must agree.
    pub fn with_engine(tokenizer: ClipTokenizer, engine: Box<dyn ClipEngine>) -> Result<Self> {
        if engine.context_length() != tokenizer::CONTEXT_LENGTH {
            return Err(Error::InvalidModel(format!(
                "the text encoder takes {} tokens but the tokenizer writes {}",
                engine.context_length(),
                tokenizer::CONTEXT_LENGTH
            )));
        }
        Ok(Self { tokenizer, engine })
    }

    /// Name of the engine running the encoders.
    pub fn engine_name(&self) -> &'static str {
        self.engine.name()
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &ClipTokenizer {
        &self.tokenizer
    }

    /// Runs the image encoder on the region of every scored mask of `seg` (see [`regions`]);
    /// `image` must be the image `seg` was made from.
    pub fn embed_regions(&self, seg: &Segmentation, image: &ImageView) -> Result<RegionEmbeddings> {
        let rgb = regions::rgb_in_mask_frame(seg, image)?;
        let instances = regions::eligible(seg);
        let mut embeddings = Vec::with_capacity(instances.len() * self.engine.embed_dim());
        for chunk in instances.chunks(self.engine.image_batch().max(1)) {
            let pixels = regions::region_inputs(seg, &rgb, chunk)?;
            embeddings.extend(self.engine.embed_images(&pixels, chunk.len())?);
        }
        RegionEmbeddings::new(instances, self.engine.embed_dim(), embeddings)
    }

    /// Raw text embeddings of `sentences`, one row of `embed_dim` each.
    pub fn embed_texts(&self, sentences: &[&str]) -> Result<Vec<Vec<f32>>> {
        let tokens = tokenize_all(&self.tokenizer, sentences)?;
        let flat = self.engine.embed_texts(&tokens, sentences.len())?;
        Ok(flat
            .chunks_exact(self.engine.embed_dim().max(1))
            .map(<[f32]>::to_vec)
            .collect())
    }

    /// One [`TextMatch`] per sentence.
    pub fn select(
        &self,
        regions: &RegionEmbeddings,
        sentences: &[&str],
        options: &TextOptions,
    ) -> Result<Vec<TextMatch>> {
        options.validate()?;
        self.embed_texts(sentences)?
            .iter()
            .map(|t| regions.select(t, options))
            .collect()
    }
}

/// Token rows for `sentences`, checked to be non-empty.
pub fn tokenize_all(tokenizer: &ClipTokenizer, sentences: &[&str]) -> Result<Vec<i64>> {
    if sentences.is_empty() {
        return Err(Error::InvalidPrompt(
            "no sentence given; pass at least one, e.g. \"a dog\"".into(),
        ));
    }
    let mut tokens = Vec::with_capacity(sentences.len() * tokenizer::CONTEXT_LENGTH);
    for s in sentences {
        if s.trim().is_empty() {
            return Err(Error::InvalidPrompt(
                "a text prompt is empty; describe the object, e.g. \"a dog\"".into(),
            ));
        }
        tokens.extend(tokenizer.tokenize(s));
    }
    Ok(tokens)
}
