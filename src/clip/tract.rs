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
    let out = outputs[0].cast_to::<f32>().map_err(fail)?;
    let view = out.to_plain_array_view::<f32>().map_err(fail)?;
    Ok(view.iter().copied().collect())
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
    /// Checks and optimises the image encoder.
    pub fn from_proto(proto: &pb::ModelProto) -> Result<Self> {
        check(proto, Part::Image)?;
        let embed_dim = embed_dim(proto, Part::Image)?;
        let s = IMAGE_SIZE;
        let fact = InferenceFact::dt_shape(f32::datum_type(), [IMAGE_BATCH, 3, s, s]);
        Ok(Self {
            plan: plan(proto, fact, "image")?,
            embed_dim,
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
    /// Checks and optimises the text encoder.
    pub fn from_proto(proto: &pb::ModelProto) -> Result<Self> {
        check(proto, Part::Text)?;
        let embed_dim = embed_dim(proto, Part::Text)?;
        let context = context_length(proto).unwrap_or(77);
        let fact = InferenceFact::dt_shape(i64::datum_type(), [1, context]);
        Ok(Self {
            plan: plan(proto, fact, "text")?,
            context,
            embed_dim,
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
    /// Checks and optimises the two encoders.
    pub fn from_protos(image: &pb::ModelProto, text: &pb::ModelProto) -> Result<Self> {
        Self::new(
            TractImageEncoder::from_proto(image)?,
            TractTextEncoder::from_proto(text)?,
        )
    }

    /// Builds the encoders one file at a time: `image` and `text` decode their file when called,
    /// so each file's protobuf is freed before the next is read (ViT-B/32 is 606 MB in fp32). The
    /// text encoder must embed `vocab_size` tokens (the tokenizer's).
    pub fn from_decoders(
        image: impl FnOnce() -> Result<pb::ModelProto>,
        text: impl FnOnce() -> Result<pb::ModelProto>,
        vocab_size: usize,
    ) -> Result<Self> {
        let image = TractImageEncoder::from_proto(&image()?)?;
        let text = {
            let proto = text()?;
            check_vocabulary(&proto, vocab_size)?;
            TractTextEncoder::from_proto(&proto)?
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
