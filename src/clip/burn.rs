//! CLIP's encoders on Burn: the hand-written port ([`crate::model::clip`]) with its weights read
//! from the same two ONNX files tract runs. On WebGPU results are read asynchronously
//! ([`BurnClip::embed_images_async`], [`BurnClip::embed_texts_async`]); natively (flex, or wgpu
//! where a GPU exists) the synchronous [`ClipEngine`] methods do the same.

use crate::onnx as pb;
use burn_tensor::{Device, Int, Tensor, TensorData};

use super::encoder::{ClipEngine, check_embeddings, check_images, check_tokens};
use super::signature::{IMAGE_SIZE, Part, check, check_dims};
use crate::error::{Error, Result};
use crate::model::clip::{ClipText, ClipVision};

/// Images per encoder call on the GPU.
const IMAGE_BATCH: usize = 16;

/// The Burn CLIP encoders on one device.
pub struct BurnClip {
    vision: ClipVision,
    text: ClipText,
    device: Device,
    embed_dim: usize,
    name: &'static str,
}

impl std::fmt::Debug for BurnClip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BurnClip")
            .field("name", &self.name)
            .field("embed_dim", &self.embed_dim)
            .finish()
    }
}

impl BurnClip {
    /// Checks both files and loads their weights onto `device`; `name` is what
    /// [`ClipEngine::name`] reports.
    pub fn from_protos(
        image: &pb::ModelProto,
        text: &pb::ModelProto,
        device: Device,
        name: &'static str,
    ) -> Result<Self> {
        let vision = Self::load_vision(image, &device)?;
        let text = Self::load_text(text, &device)?;
        Self::new(vision, text, device, name)
    }

    /// Checks `clip-image.onnx` and loads the vision tower onto `device`.
    pub fn load_vision(proto: &pb::ModelProto, device: &Device) -> Result<ClipVision> {
        check(proto, Part::Image)?;
        ClipVision::from_onnx(proto, device)
    }

    /// Checks `clip-text.onnx` and loads the text tower onto `device`.
    pub fn load_text(proto: &pb::ModelProto, device: &Device) -> Result<ClipText> {
        check(proto, Part::Text)?;
        ClipText::from_onnx(proto, device)
    }

    /// Pairs two towers loaded separately (so a caller can drop one file before reading the
    /// other); their embeddings must have the same width.
    pub fn new(
        vision: ClipVision,
        text: ClipText,
        device: Device,
        name: &'static str,
    ) -> Result<Self> {
        let embed_dim = check_dims(vision.embed_dim(), text.embed_dim())?;
        Ok(Self {
            vision,
            text,
            device,
            embed_dim,
            name,
        })
    }

    fn image_tensor(&self, pixels: &[f32], count: usize) -> Result<Tensor<2>> {
        check_images(pixels, count)?;
        let s = IMAGE_SIZE;
        let x = Tensor::<4>::from_data(
            TensorData::new(pixels.to_vec(), [count, 3, s, s]),
            &self.device,
        );
        Ok(self.vision.forward(x))
    }

    fn text_tensor(&self, tokens: &[i64], count: usize) -> Result<Tensor<2>> {
        let context = self.text.context_length();
        check_tokens(tokens, count, context)?;
        let x = Tensor::<2, Int>::from_data(
            TensorData::new(tokens.to_vec(), [count, context]),
            &self.device,
        );
        Ok(self.text.forward(x))
    }

    /// [`ClipEngine::embed_images`] without blocking (the only way on WebGPU).
    pub async fn embed_images_async(&self, pixels: &[f32], count: usize) -> Result<Vec<f32>> {
        let data = self.image_tensor(pixels, count)?.into_data_async().await;
        self.values(data, count)
    }

    /// [`ClipEngine::embed_texts`] without blocking (the only way on WebGPU).
    pub async fn embed_texts_async(&self, tokens: &[i64], count: usize) -> Result<Vec<f32>> {
        let data = self.text_tensor(tokens, count)?.into_data_async().await;
        self.values(data, count)
    }

    fn values(
        &self,
        data: std::result::Result<TensorData, impl std::fmt::Debug>,
        count: usize,
    ) -> Result<Vec<f32>> {
        let values = data
            .map_err(|e| Error::Inference(format!("reading the GPU results failed: {e:?}")))?
            .try_into_vec::<f32>()
            .map_err(|e| Error::Inference(format!("unexpected output type: {e:?}")))?;
        check_embeddings(&values, count, self.embed_dim)?;
        Ok(values)
    }
}

impl ClipEngine for BurnClip {
    fn name(&self) -> &'static str {
        self.name
    }

    fn embed_dim(&self) -> usize {
        self.embed_dim
    }

    fn context_length(&self) -> usize {
        self.text.context_length()
    }

    fn image_batch(&self) -> usize {
        IMAGE_BATCH
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn embed_images(&self, pixels: &[f32], count: usize) -> Result<Vec<f32>> {
        let data = self.image_tensor(pixels, count)?.try_into_data();
        self.values(data, count)
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn embed_texts(&self, tokens: &[i64], count: usize) -> Result<Vec<f32>> {
        let data = self.text_tensor(tokens, count)?.try_into_data();
        self.values(data, count)
    }

    #[cfg(target_arch = "wasm32")]
    fn embed_images(&self, _pixels: &[f32], _count: usize) -> Result<Vec<f32>> {
        Err(Error::Inference(
            "the WebGPU engine reads its results asynchronously; call embed_images_async".into(),
        ))
    }

    #[cfg(target_arch = "wasm32")]
    fn embed_texts(&self, _tokens: &[i64], _count: usize) -> Result<Vec<f32>> {
        Err(Error::Inference(
            "the WebGPU engine reads its results asynchronously; call embed_texts_async".into(),
        ))
    }
}
