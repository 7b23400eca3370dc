//! CLIP's image encoder (`VisionTransformer`): patch convolution, class token, positional
//! embedding, `ln_pre`, transformer, `ln_post` of the class token, `@ visual.proj`.
//!
//! Width, patch size, depth and embedding size come from the weight shapes; the image size from
//! the positional embedding (`1 + (size / patch)^2` rows); the head count from the file's metadata.

use crate::onnx as pb;
use burn_tensor::module::conv2d;
use burn_tensor::ops::ConvOptions;
use burn_tensor::{Device, Tensor};

use super::layer_norm::LayerNorm;
use super::linear::{Projection, shape_error};
use super::transformer::Transformer;
use super::{heads_from_metadata, weights_of};
use crate::error::Result;
use crate::model::kernels::tensor;
use crate::model::weights::Weights;

/// The ViT image encoder, weights under `visual.`.
#[derive(Debug, Clone)]
pub struct ClipVision {
    /// `visual.conv1.weight` `[W, 3, P, P]`, applied with stride P and no bias.
    patch_weight: Tensor<4>,
    patch_options: ConvOptions<2>,
    /// `[1, 1, W]`.
    class_embedding: Tensor<3>,
    /// `[1, 1 + G*G, W]`.
    positional_embedding: Tensor<3>,
    ln_pre: LayerNorm,
    transformer: Transformer,
    ln_post: LayerNorm,
    proj: Projection,
    patch_size: usize,
    image_size: usize,
}

impl ClipVision {
    /// Loads the `visual.*` initializers of a `clip-image.onnx` (see
    /// `tests/fixtures/clip/CONTRACT.md`) onto `device`; the head count is the metadata entry
    /// `fastsam_web.clip.heads`. Missing or mis-shaped tensors and missing metadata give
    /// [`crate::Error::InvalidModel`] naming what is wrong.
    pub fn from_onnx(proto: &pb::ModelProto, device: &Device) -> Result<Self> {
        let weights = weights_of(proto)?;
        let width = Self::width(&weights)?;
        let heads = heads_from_metadata(proto, width, "visual.conv1.weight")?;
        Self::load(&weights, heads, device)
    }

    /// Loads from already read weights with `heads` attention heads (which must divide the width).
    pub fn load(weights: &Weights, heads: usize, device: &Device) -> Result<Self> {
        let name = "visual.conv1.weight";
        let conv = weights.get(name, None)?;
        let &[width, 3, patch, patch_w] = &conv.shape[..] else {
            return Err(shape_error(name, &conv.shape, "[width, 3, patch, patch]"));
        };
        if patch != patch_w || patch == 0 || width == 0 {
            return Err(shape_error(name, &conv.shape, "[width, 3, patch, patch]"));
        }
        super::check_heads(heads, width, name)?;

        let class = weights.get("visual.class_embedding", Some(&[width]))?;
        let name = "visual.positional_embedding";
        let pos = weights.get(name, None)?;
        let grid = match pos.shape[..] {
            [tokens, w] if w == width => grid_side(tokens),
            _ => None,
        }
        .ok_or_else(|| shape_error(name, &pos.shape, &format!("[1 + G*G, {width}]")))?;
        let tokens = 1 + grid * grid;

        let transformer = Transformer::load(weights, "visual.transformer", width, heads, device)?;
        Ok(Self {
            patch_weight: tensor(&conv.values, [width, 3, patch, patch], device),
            patch_options: ConvOptions::new([patch, patch], [0, 0], [1, 1], 1),
            class_embedding: tensor(&class.values, [1, 1, width], device),
            positional_embedding: tensor(&pos.values, [1, tokens, width], device),
            ln_pre: LayerNorm::load(weights, "visual.ln_pre", width, device)?,
            transformer,
            ln_post: LayerNorm::load(weights, "visual.ln_post", width, device)?,
            proj: Projection::load(weights, "visual.proj", width, device)?,
            patch_size: patch,
            image_size: grid * patch,
        })
    }

    /// The transformer width W, from `visual.conv1.weight`.
    fn width(weights: &Weights) -> Result<usize> {
        let name = "visual.conv1.weight";
        let shape = &weights.get(name, None)?.shape;
        match shape[..] {
            [width, 3, _, _] => Ok(width),
            _ => Err(shape_error(name, shape, "[width, 3, patch, patch]")),
        }
    }

    /// Size E of the image embeddings (512 for ViT-B/32).
    pub fn embed_dim(&self) -> usize {
        self.proj.out_features()
    }

    /// Side of the square input image (224 for ViT-B/32).
    pub fn image_size(&self) -> usize {
        self.image_size
    }

    /// Side of one patch (32 for ViT-B/32).
    pub fn patch_size(&self) -> usize {
        self.patch_size
    }

    /// Number of transformer blocks.
    pub fn layers(&self) -> usize {
        self.transformer.layers()
    }

    /// `pixels`: `[N, 3, S, S]` CLIP-normalised RGB with `S` = [`ClipVision::image_size`] (224)
    /// -> `[N, E]` image embeddings (after `visual.proj`, not L2-normalised).
    ///
    /// # Panics
    ///
    /// When `pixels` has another shape (Burn checks the tensor shapes); callers build it from
    /// [`ClipVision::image_size`].
    pub fn forward(&self, pixels: Tensor<4>) -> Tensor<2> {
        let patches = conv2d(
            pixels,
            self.patch_weight.clone(),
            None,
            self.patch_options.clone(),
        ); // [N, W, G, G]
        let [n, width, gh, gw] = patches.dims();
        let patches = patches.reshape([n, width, gh * gw]).swap_dims(1, 2); // [N, G*G, W]
        let class = self.class_embedding.clone().expand([n, 1, width]);
        let x = Tensor::cat(vec![class, patches], 1) + self.positional_embedding.clone();

        let x = self.transformer.forward(self.ln_pre.forward(x), None);
        let class = x.narrow(1, 0, 1).reshape([n, width]);
        self.proj.forward(self.ln_post.forward(class))
    }
}

/// `G` with `tokens == 1 + G * G`, if any (and `G > 0`).
fn grid_side(tokens: usize) -> Option<usize> {
    let patches = tokens.checked_sub(1)?;
    let side = (patches as f64).sqrt().round() as usize;
    (side > 0 && side * side == patches).then_some(side)
}

#[cfg(test)]
mod tests {
    use super::grid_side;

    #[test]
    fn positional_length_gives_the_grid() {
        assert_eq!(grid_side(50), Some(7));
        assert_eq!(grid_side(5), Some(2));
        assert_eq!(grid_side(1), None);
        assert_eq!(grid_side(49), None);
        assert_eq!(grid_side(0), None);
    }
}
