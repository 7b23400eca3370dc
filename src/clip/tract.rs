//! CLIP's encoders on the CPU: tract running the two ONNX files. Each encoder is built on its own
//! ([`TractImageEncoder`], [`TractTextEncoder`]) so that a caller short of memory can drop one
//! file's bytes before reading the other (ViT-B/32 is 352 + 254 MB in fp32).

use std::sync::Arc;

use tract_onnx::pb;
use tract_onnx::prelude::*;

use super::encoder::{ClipEngine, IMAGE_INPUT_LEN, check_embeddings, check_images, check_tokens};
use super::signature::{
    IMAGE_SIZE, Part, check, check_dims, check_vocabulary, context_length, embed_dim,
};
use crate::engine::tract::decode_onnx;
use crate::engine::widen::widen_half;
use crate::error::{Error, Result};

type Plan = Arc<TypedRunnableModel>;

fn cause(e: &TractError) -> String {
    e.chain().last().map(|c| c.to_string()).unwrap_or_default()
}

fn plan(proto: &pb::ModelProto, fact: InferenceFact, part: &str) -> Result<Plan> {
    let build = || -> TractResult<Plan> {
        onnx()
            .model_for_proto_model(proto)?
            .with_input_fact(0, fact)?
            .into_optimized()?
            .into_runnable()
    };
    build().map_err(|e| {
        Error::InvalidModel(format!(
            "tract could not build the CLIP {part} encoder ({})",
            cause(&e)
        ))
    })
}

fn run(plan: &Plan, input: Tensor) -> Result<Vec<f32>> {
    let fail = |e: TractError| Error::Inference(cause(&e));
    let outputs = plan.run(tvec!(input.into())).map_err(fail)?;
    crate::engine::tract::release_wide_vector_state();
    let out = outputs[0].cast_to::<f32>().map_err(fail)?;
    let view = out.to_plain_array_view::<f32>().map_err(fail)?;
    Ok(view.iter().copied().collect())
}

/// One encoder file, checked and decoded by tract.
struct Checked {
    proto: pb::ModelProto,
    embed_dim: usize,
    /// Tokens per sentence (text encoder only).
    context: usize,
}

/// Checks that `bytes` are the `part` encoder (whose vocabulary has `vocab_size` tokens, when
/// given) and decodes them for tract.
fn checked(bytes: &[u8], part: Part, vocab_size: Option<usize>) -> Result<Checked> {
    let file = crate::onnx::decode(bytes)?;
    check(&file, part)?;
    if let Some(vocab_size) = vocab_size {
        check_vocabulary(&file, vocab_size)?;
    }
    // float16 files run in f32, as the segmenter's do.
    let mut proto = decode_onnx(bytes)?;
    widen_half(&mut proto);
    Ok(Checked {
        embed_dim: embed_dim(&file, part)?,
        context: context_length(&file).unwrap_or(77),
        proto,
    })
}

/// Images per run of the tract image encoder: the patch tokens of several crops go through each
/// matrix product together (a shorter last batch is padded).
pub const IMAGE_BATCH: usize = 8;

/// tract's plan of `clip-image.onnx`, [`IMAGE_BATCH`] images per run.
pub struct TractImageEncoder {
    plan: Plan,
    embed_dim: usize,
}

impl TractImageEncoder {
    /// Checks and optimises the image encoder (`clip-image.onnx`).
    pub fn from_onnx(bytes: &[u8]) -> Result<Self> {
        Self::from_checked(checked(bytes, Part::Image, None)?)
    }

    fn from_checked(file: Checked) -> Result<Self> {
        let s = IMAGE_SIZE;
        let fact = InferenceFact::dt_shape(f32::datum_type(), [IMAGE_BATCH, 3, s, s]);
        Ok(Self {
            plan: plan(&file.proto, fact, "image")?,
            embed_dim: file.embed_dim,
        })
    }

    /// Embeds up to [`IMAGE_BATCH`] images (`count * 3 * 224 * 224` floats).
    fn run_batch(&self, pixels: &[f32], count: usize) -> Result<Vec<f32>> {
        let s = IMAGE_SIZE;
        let fail = |e: TractError| Error::Inference(cause(&e));
        let mut padded = vec![0f32; IMAGE_BATCH * IMAGE_INPUT_LEN];
        padded[..pixels.len()].copy_from_slice(pixels);
        let input = Tensor::from_shape(&[IMAGE_BATCH, 3, s, s], &padded).map_err(fail)?;
        let mut out = run(&self.plan, input)?;
        out.truncate(count * self.embed_dim);
        Ok(out)
    }
}

/// tract's plan of `clip-text.onnx`, one sentence per run.
pub struct TractTextEncoder {
    plan: Plan,
    context: usize,
    embed_dim: usize,
}

impl TractTextEncoder {
    /// Checks and optimises the text encoder (`clip-text.onnx`).
    pub fn from_onnx(bytes: &[u8]) -> Result<Self> {
        Self::from_checked(checked(bytes, Part::Text, None)?)
    }

    fn from_checked(file: Checked) -> Result<Self> {
        let fact = InferenceFact::dt_shape(i64::datum_type(), [1, file.context]);
        Ok(Self {
            plan: plan(&file.proto, fact, "text")?,
            context: file.context,
            embed_dim: file.embed_dim,
        })
    }
}

/// The two tract encoders.
pub struct TractClip {
    image: TractImageEncoder,
    text: TractTextEncoder,
}

impl std::fmt::Debug for TractClip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TractClip")
            .field("context", &self.text.context)
            .field("embed_dim", &self.image.embed_dim)
            .finish()
    }
}

impl TractClip {
    /// Checks and optimises the two encoders (`clip-image.onnx`, `clip-text.onnx`).
    pub fn from_onnx(image: &[u8], text: &[u8]) -> Result<Self> {
        Self::new(
            TractImageEncoder::from_onnx(image)?,
            TractTextEncoder::from_onnx(text)?,
        )
    }

    /// Builds the encoders one file at a time: `image` and `text` return their file's bytes when
    /// called, and each file's bytes and protobuf are freed before the next is read (ViT-B/32 is
    /// 606 MB in fp32). The text encoder must embed `vocab_size` tokens (the tokenizer's).
    pub fn from_loaders(
        image: impl FnOnce() -> Result<Vec<u8>>,
        text: impl FnOnce() -> Result<Vec<u8>>,
        vocab_size: usize,
    ) -> Result<Self> {
        let image = {
            let bytes = image()?;
            let file = checked(&bytes, Part::Image, None)?;
            drop(bytes);
            TractImageEncoder::from_checked(file)?
        };
        let text = {
            let bytes = text()?;
            let file = checked(&bytes, Part::Text, Some(vocab_size))?;
            drop(bytes);
            TractTextEncoder::from_checked(file)?
        };
        Self::new(image, text)
    }

    /// Pairs two encoders built separately; their embeddings must have the same width.
    pub fn new(image: TractImageEncoder, text: TractTextEncoder) -> Result<Self> {
        check_dims(image.embed_dim, text.embed_dim)?;
        Ok(Self { image, text })
    }
}

impl ClipEngine for TractClip {
    fn name(&self) -> &'static str {
        "tract"
    }

    fn embed_dim(&self) -> usize {
        self.image.embed_dim
    }

    fn context_length(&self) -> usize {
        self.text.context
    }

    fn image_batch(&self) -> usize {
        IMAGE_BATCH
    }

    fn embed_images(&self, pixels: &[f32], count: usize) -> Result<Vec<f32>> {
        check_images(pixels, count)?;
        let mut out = Vec::with_capacity(count * self.embed_dim());
        for batch in pixels.chunks(IMAGE_BATCH * IMAGE_INPUT_LEN) {
            out.extend(self.image.run_batch(batch, batch.len() / IMAGE_INPUT_LEN)?);
        }
        check_embeddings(&out, count, self.embed_dim())?;
        Ok(out)
    }

    fn embed_texts(&self, tokens: &[i64], count: usize) -> Result<Vec<f32>> {
        let context = self.text.context;
        check_tokens(tokens, count, context)?;
        let mut out = Vec::with_capacity(count * self.embed_dim());
        for row in tokens.chunks_exact(context) {
            let t =
                Tensor::from_shape(&[1, context], row).map_err(|e| Error::Inference(cause(&e)))?;
            out.extend(run(&self.text.plan, t)?);
        }
        check_embeddings(&out, count, self.embed_dim())?;
        Ok(out)
    }
}
