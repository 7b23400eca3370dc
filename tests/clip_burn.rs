//! The Burn port of CLIP's encoders (on Burn's `flex` CPU backend) against the PyTorch reference
//! embeddings of the tiny random-init fixture (`tests/fixtures/clip/tiny-clip.json`, made by
//! tools/make_clip_fixtures.py), and its load-time errors.

#![cfg(all(not(target_arch = "wasm32"), feature = "burn"))]

mod common;

use std::path::PathBuf;

use burn_tensor::{Device, Int, Tensor, TensorData};
use common::{max_abs_diff, read_npy_f32};
use fastsam_web::Error;
use fastsam_web::model::clip::{ClipText, ClipVision};
use fastsam_web::onnx as pb;
use serde::Deserialize;

/// Bound on every embedding value (absolute), as for the FastSAM port.
const ABS_TOL: f32 = 1e-3;

#[derive(Deserialize)]
struct Reference {
    image_model: String,
    text_model: String,
    embed_dim: usize,
    image: ImageReference,
    text: TextReference,
    /// `[images][sentences]` cosine similarities of the reference embeddings.
    cosine: Vec<Vec<f32>>,
}

#[derive(Deserialize)]
struct ImageReference {
    pixels: String,
    pixels_shape: [usize; 4],
    image_embeds: String,
    image_embeds_shape: [usize; 2],
}

#[derive(Deserialize)]
struct TextReference {
    tokens: Vec<Vec<i64>>,
    eot_positions: Vec<usize>,
    text_embeds: String,
    text_embeds_shape: [usize; 2],
}

fn dir() -> PathBuf {
    common::fixtures().join("clip")
}

fn reference() -> Reference {
    let path = dir().join("tiny-clip.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// The decoded fixture `file` (its bytes are leaked: the model borrows them, and tests are short).
fn proto(file: &str) -> pb::ModelProto<'static> {
    let bytes = std::fs::read(dir().join(file)).unwrap();
    pb::decode(Box::leak(bytes.into_boxed_slice())).unwrap()
}

fn values(t: Tensor<2>) -> (Vec<f32>, [usize; 2]) {
    let dims = t.dims();
    (t.into_data().try_into_vec::<f32>().unwrap(), dims)
}

fn tokens(rows: &[Vec<i64>], device: &Device) -> Tensor<2, Int> {
    let flat: Vec<i64> = rows.concat();
    Tensor::from_data(TensorData::new(flat, [rows.len(), rows[0].len()]), device)
}

fn image_embeds(r: &Reference, device: &Device) -> (Vec<f32>, [usize; 2]) {
    let vision = ClipVision::from_onnx(&proto(&r.image_model), device).unwrap();
    let pixels = read_npy_f32(&dir().join(&r.image.pixels));
    let x = Tensor::<4>::from_data(TensorData::new(pixels, r.image.pixels_shape), device);
    values(vision.forward(x))
}

fn text_embeds(r: &Reference, device: &Device) -> (Vec<f32>, [usize; 2]) {
    let text = ClipText::from_onnx(&proto(&r.text_model), device).unwrap();
    values(text.forward(tokens(&r.text.tokens, device)))
}

#[test]
fn sizes_come_from_the_weights() {
    let r = reference();
    let device = Device::flex();
    let vision = ClipVision::from_onnx(&proto(&r.image_model), &device).unwrap();
    assert_eq!(vision.embed_dim(), r.embed_dim);
    assert_eq!(vision.image_size(), r.image.pixels_shape[3]);
    assert_eq!(vision.patch_size(), 32);
    assert_eq!(vision.layers(), 2);
    let text = ClipText::from_onnx(&proto(&r.text_model), &device).unwrap();
    assert_eq!(text.embed_dim(), r.embed_dim);
    assert_eq!(text.context_length(), 77);
    assert_eq!(text.vocab_size(), 49408);
    assert_eq!(text.layers(), 2);
}

#[test]
fn image_embeddings_match_pytorch() {
    let r = reference();
    let (ours, dims) = image_embeds(&r, &Device::flex());
    assert_eq!(dims, r.image.image_embeds_shape);
    let want = read_npy_f32(&dir().join(&r.image.image_embeds));
    let diff = max_abs_diff(&ours, &want);
    println!("image_embeds: max abs diff {diff:e} over {dims:?}");
    assert!(diff <= ABS_TOL, "image_embeds differ by {diff}");
}

#[test]
fn text_embeddings_match_pytorch() {
    let r = reference();
    // The fixture covers an EOT at every kind of position, the last one included.
    assert!(r.text.eot_positions.contains(&76));
    let (ours, dims) = text_embeds(&r, &Device::flex());
    assert_eq!(dims, r.text.text_embeds_shape);
    let want = read_npy_f32(&dir().join(&r.text.text_embeds));
    let diff = max_abs_diff(&ours, &want);
    println!("text_embeds: max abs diff {diff:e} over {dims:?}");
    assert!(diff <= ABS_TOL, "text_embeds differ by {diff}");
}

#[test]
fn cosines_match_pytorch() {
    let r = reference();
    let device = Device::flex();
    let (image, [_, e]) = image_embeds(&r, &device);
    let (text, _) = text_embeds(&r, &device);
    let unit = |v: &[f32]| {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect::<Vec<_>>()
    };
    let mut worst = 0f32;
    for (i, row) in r.cosine.iter().enumerate() {
        let a = unit(&image[i * e..(i + 1) * e]);
        for (j, &want) in row.iter().enumerate() {
            let b = unit(&text[j * e..(j + 1) * e]);
            let cos: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            worst = worst.max((cos - want).abs());
        }
    }
    println!("cosine: max abs diff {worst:e}");
    assert!(worst <= ABS_TOL, "cosines differ by {worst}");
}

#[test]
fn batch_rows_are_independent() {
    let r = reference();
    let device = Device::flex();
    let (all, [_, e]) = image_embeds(&r, &device);
    let vision = ClipVision::from_onnx(&proto(&r.image_model), &device).unwrap();
    let pixels = read_npy_f32(&dir().join(&r.image.pixels));
    let [_, c, h, w] = r.image.pixels_shape;
    let one = &pixels[2 * c * h * w..3 * c * h * w];
    let x = Tensor::<4>::from_data(TensorData::new(one.to_vec(), [1, c, h, w]), &device);
    let (alone, _) = values(vision.forward(x));
    assert!(max_abs_diff(&alone, &all[2 * e..3 * e]) <= 1e-5);

    let text = ClipText::from_onnx(&proto(&r.text_model), &device).unwrap();
    let (all, [_, e]) = text_embeds(&r, &device);
    let (alone, _) = values(text.forward(tokens(&r.text.tokens[3..4], &device)));
    assert!(max_abs_diff(&alone, &all[3 * e..4 * e]) <= 1e-5);
}

#[test]
fn text_attention_is_causal() {
    // Positions after the end-of-text token cannot change its embedding, whatever they hold
    // (ids below the EOT id, so that the pooled position stays the same).
    let r = reference();
    let device = Device::flex();
    let text = ClipText::from_onnx(&proto(&r.text_model), &device).unwrap();
    let row = r.text.tokens[0].clone();
    let eot = r.text.eot_positions[0];
    let mut noisy = row.clone();
    for (k, id) in noisy.iter_mut().enumerate().skip(eot + 1) {
        *id = (k as i64 * 7919) % 49000;
    }
    let (clean, _) = values(text.forward(tokens(std::slice::from_ref(&row), &device)));
    let (padded, _) = values(text.forward(tokens(&[noisy], &device)));
    assert!(max_abs_diff(&clean, &padded) <= 1e-6);

    // ...while a token before it does.
    let mut changed = row;
    changed[1] += 1;
    let (other, _) = values(text.forward(tokens(&[changed], &device)));
    assert!(max_abs_diff(&clean, &other) > 1e-4);
}

/// `proto` without the metadata entry `key`.
fn without_metadata(mut proto: pb::ModelProto<'static>, key: &str) -> pb::ModelProto<'static> {
    proto.metadata_props.retain(|p| p.key != key);
    proto
}

fn with_heads(mut proto: pb::ModelProto<'static>, heads: &str) -> pb::ModelProto<'static> {
    for p in &mut proto.metadata_props {
        if p.key == "fastsam_web.clip.heads" {
            p.value = heads.into();
        }
    }
    proto
}

fn invalid_model(e: Error) -> String {
    assert_eq!(e.code(), "INVALID_MODEL", "{e}");
    e.to_string()
}

#[test]
fn missing_heads_metadata_is_a_clear_error() {
    let r = reference();
    let device = Device::flex();
    let image = without_metadata(proto(&r.image_model), "fastsam_web.clip.heads");
    let e = invalid_model(ClipVision::from_onnx(&image, &device).unwrap_err());
    assert!(
        e.contains("`fastsam_web.clip.heads`") && e.contains("head count"),
        "{e}"
    );
    let text = without_metadata(proto(&r.text_model), "fastsam_web.clip.heads");
    let e = invalid_model(ClipText::from_onnx(&text, &device).unwrap_err());
    assert!(e.contains("`fastsam_web.clip.heads`"), "{e}");
}

#[test]
fn heads_must_divide_the_width() {
    let r = reference();
    let device = Device::flex();
    let image = with_heads(proto(&r.image_model), "3");
    let e = invalid_model(ClipVision::from_onnx(&image, &device).unwrap_err());
    assert!(
        e.contains("3 attention heads") && e.contains("width 32"),
        "{e}"
    );
    let text = with_heads(proto(&r.text_model), "zero");
    let e = invalid_model(ClipText::from_onnx(&text, &device).unwrap_err());
    assert!(e.contains("\"zero\""), "{e}");
    let text = with_heads(proto(&r.text_model), "0");
    let e = invalid_model(ClipText::from_onnx(&text, &device).unwrap_err());
    assert!(e.contains("0 attention heads"), "{e}");
}

/// `proto` with the initializer `name` replaced by zeros of shape `dims`.
fn with_initializer(
    mut proto: pb::ModelProto<'static>,
    name: &str,
    dims: &[usize],
) -> pb::ModelProto<'static> {
    let graph = proto.graph.as_mut().unwrap();
    let t = graph
        .initializer
        .iter_mut()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no initializer {name}"));
    let count: usize = dims.iter().product();
    *t = pb::TensorProto {
        name: name.into(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: 1,
        raw_data: Box::leak(vec![0; 4 * count].into_boxed_slice()),
        ..Default::default()
    };
    proto
}

#[test]
fn a_mis_shaped_tensor_is_named() {
    let r = reference();
    let device = Device::flex();
    let text = with_initializer(proto(&r.text_model), "token_embedding.weight", &[49408, 6]);
    let e = invalid_model(ClipText::from_onnx(&text, &device).unwrap_err());
    assert!(
        e.contains("`token_embedding.weight` has shape [49408, 6]")
            && e.contains("[vocab_size, 8]"),
        "{e}"
    );
    let text = with_initializer(proto(&r.text_model), "token_embedding.weight", &[8]);
    let e = invalid_model(ClipText::from_onnx(&text, &device).unwrap_err());
    assert!(e.contains("`token_embedding.weight` has shape [8]"), "{e}");

    let name = "transformer.resblocks.1.attn.in_proj_weight";
    let text = with_initializer(proto(&r.text_model), name, &[24, 4]);
    let e = invalid_model(ClipText::from_onnx(&text, &device).unwrap_err());
    assert!(
        e.contains(&format!("`{name}` has shape [24, 4], expected [24, 8]")),
        "{e}"
    );

    let name = "visual.positional_embedding";
    let image = with_initializer(proto(&r.image_model), name, &[49, 32]);
    let e = invalid_model(ClipVision::from_onnx(&image, &device).unwrap_err());
    assert!(e.contains(&format!("`{name}` has shape [49, 32]")), "{e}");
}

#[test]
fn a_missing_tensor_is_named() {
    let r = reference();
    let device = Device::flex();
    let mut image = proto(&r.image_model);
    let graph = image.graph.as_mut().unwrap();
    graph
        .initializer
        .retain(|t| t.name != "visual.ln_post.bias");
    let e = invalid_model(ClipVision::from_onnx(&image, &device).unwrap_err());
    assert!(e.contains("`visual.ln_post.bias` is missing"), "{e}");
    // A text model is not an image model.
    let e = invalid_model(ClipVision::from_onnx(&proto(&r.text_model), &device).unwrap_err());
    assert!(e.contains("`visual.conv1.weight` is missing"), "{e}");
}
