//! Checks that two ONNX files are the CLIP encoders this crate loads (see
//! `tests/fixtures/clip/CONTRACT.md`, made by `tools/clip_export.py`) before an engine spends time
//! on them.

use crate::onnx as pb;

use crate::engine::graph::dims;
use crate::error::{Error, Result};

/// ONNX `TensorProto.DataType` of 64-bit integers.
const INT64: i32 = 7;
/// ONNX `TensorProto.DataType` of 32-bit floats.
const FLOAT: i32 = 1;

/// Side of CLIP ViT-B/32's square input.
pub const IMAGE_SIZE: usize = 224;

/// Which of the two encoders a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// `clip-image.onnx`: `pixels` [N,3,224,224] -> `image_embeds` [N,E].
    Image,
    /// `clip-text.onnx`: `tokens` [N,77] int64 -> `text_embeds` [N,E].
    Text,
}

impl Part {
    fn file(self) -> &'static str {
        match self {
            Part::Image => "clip-image.onnx",
            Part::Text => "clip-text.onnx",
        }
    }
}

/// Reads a metadata string of the model (`fastsam_web.clip.*`).
pub fn metadata<'a>(proto: &'a pb::ModelProto, key: &str) -> Option<&'a str> {
    proto
        .metadata_props
        .iter()
        .find(|p| p.key == key)
        .map(|p| p.value.as_str())
}

/// Checks that `proto` is the `part` encoder: one input of the right type and shape, one output.
pub fn check(proto: &pb::ModelProto, part: Part) -> Result<()> {
    let wrong = |what: String| {
        Error::InvalidModel(format!(
            "this is not the CLIP {} encoder fastsam-web expects ({what}); pass {} as made by tools/clip_export.py",
            match part {
                Part::Image => "image",
                Part::Text => "text",
            },
            part.file()
        ))
    };
    let graph = proto
        .graph
        .as_ref()
        .ok_or_else(|| wrong("the file has no graph".into()))?;
    let inputs = data_inputs(graph);
    let [input] = inputs[..] else {
        return Err(wrong(format!("it has {} inputs, not 1", inputs.len())));
    };
    if graph.output.len() != 1 {
        return Err(wrong(format!(
            "it has {} outputs, not 1",
            graph.output.len()
        )));
    }
    let (elem, shape) = dims(input);
    match part {
        Part::Image => {
            let s = Some(IMAGE_SIZE as i64);
            if elem != Some(FLOAT) || shape.len() != 4 || shape[1..] != [Some(3), s, s] {
                return Err(wrong(format!(
                    "input \"{}\" is not float32 [N, 3, 224, 224]",
                    input.name
                )));
            }
        }
        Part::Text => {
            if elem != Some(INT64) || shape.len() != 2 || shape[1].is_none() {
                return Err(wrong(format!(
                    "input \"{}\" is not int64 [N, context]",
                    input.name
                )));
            }
        }
    }
    Ok(())
}

/// The context length the text encoder declares (77 for CLIP).
pub fn context_length(proto: &pb::ModelProto) -> Option<usize> {
    let input = *data_inputs(proto.graph.as_ref()?).first()?;
    dims(input).1.get(1).copied().flatten().map(|c| c as usize)
}

/// The graph inputs that are not initializers (old exports list weights as inputs too).
fn data_inputs<'g>(graph: &'g pb::GraphProto<'_>) -> Vec<&'g pb::ValueInfoProto> {
    let initializers: std::collections::HashSet<&str> =
        graph.initializer.iter().map(|t| t.name.as_str()).collect();
    graph
        .input
        .iter()
        .filter(|i| !initializers.contains(i.name.as_str()))
        .collect()
}

/// The dimensions of the weight `name`: its initializer's, or (in an 8-bit file) those of the
/// integer initializer the `DequantizeLinear` that makes `name` reads.
fn weight_dims(proto: &pb::ModelProto, name: &str) -> Option<Vec<i64>> {
    let graph = proto.graph.as_ref()?;
    let source = graph
        .node
        .iter()
        .find(|n| n.op_type == "DequantizeLinear" && n.output.first().is_some_and(|o| o == name))
        .and_then(|n| n.input.first())
        .map_or(name, String::as_str);
    graph
        .initializer
        .iter()
        .find(|t| t.name == source)
        .map(|t| t.dims.clone())
}

/// Width of the embeddings, read from the projection matrix (`visual.proj` or `text_projection`,
/// `[width, embed_dim]`).
pub fn embed_dim(proto: &pb::ModelProto, part: Part) -> Result<usize> {
    let name = match part {
        Part::Image => "visual.proj",
        Part::Text => "text_projection",
    };
    match weight_dims(proto, name).as_deref() {
        Some(&[_, e]) if e > 0 => Ok(e as usize),
        other => Err(Error::InvalidModel(format!(
            "{} has no 2-D initializer \"{name}\" (found {other:?}); was it exported by tools/clip_export.py?",
            part.file()
        ))),
    }
}

/// Checks that the image and text embeddings have the same width, and returns it.
pub fn check_dims(image: usize, text: usize) -> Result<usize> {
    if image != text {
        return Err(Error::InvalidModel(format!(
            "the image and text encoders come from different CLIP models (embeddings of {image} and {text} values)"
        )));
    }
    Ok(image)
}

/// Checks that the vocabulary file belongs to the text encoder: as many token ids as rows of
/// `token_embedding.weight`.
pub fn check_vocabulary(text: &pb::ModelProto, vocab_size: usize) -> Result<()> {
    let rows = weight_dims(text, "token_embedding.weight").and_then(|d| d.first().copied());
    match rows {
        Some(r) if r as usize == vocab_size => Ok(()),
        Some(r) => Err(Error::InvalidModel(format!(
            "the vocabulary has {vocab_size} tokens but the text encoder embeds {r}; pass the clip-bpe.txt.gz written with clip-text.onnx"
        ))),
        None => Err(Error::InvalidModel(
            "clip-text.onnx has no initializer \"token_embedding.weight\"; was it exported by tools/clip_export.py?".into(),
        )),
    }
}
