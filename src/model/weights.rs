//! Network weights read from an ONNX file, asked for by their PyTorch names
//! (`model.0.conv.weight`, ...; Conv and BatchNorm already fused by the exporter).
//!
//! A name is bound through the graph first: the name of each `Conv` and `ConvTranspose` node holds
//! its module path (`/model.22/cv2.1/cv2.1.2/Conv` is `model.22.cv2.1.2`), and its weight and bias
//! inputs lead, through any `Identity`, `Cast` and `DequantizeLinear` nodes, to an initializer or a
//! `Constant`, whatever the exporter called it: simplifiers keep one name for equal tensors
//! (onnxslim), other exporters write `onnx::Conv_123`, float16 converters insert `Cast`. A name no
//! node binds is looked up among the initializers (files whose nodes carry no module paths).
//! float16 tensors are widened to f32; quantized ones are dequantized.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use half::f16;

use crate::onnx as pb;

use crate::error::{Error, Result};

/// ONNX `TensorProto.DataType` values we read.
const FLOAT: i32 = 1;
const UINT8: i32 = 2;
const INT8: i32 = 3;
const UINT16: i32 = 4;
const INT16: i32 = 5;
const INT32: i32 = 6;
const FLOAT16: i32 = 10;
const DOUBLE: i32 = 11;

/// How many `Identity`/`Cast`/`DequantizeLinear` steps a weight may pass through.
const MAX_CHAIN: usize = 16;

/// One weight tensor: its shape and row-major values.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightTensor {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Values in row-major order.
    pub values: Vec<f32>,
}

/// A quantized integer tensor (the input of a `DequantizeLinear`).
#[derive(Debug, Clone, PartialEq)]
struct IntTensor {
    shape: Vec<usize>,
    values: Vec<i32>,
}

/// A tensor the graph computes from other tensors, by the operator that makes it.
#[derive(Debug, Clone, PartialEq)]
enum Producer {
    /// `Identity`, or `Cast` to a float type as wide as f32: the same values.
    Same(String),
    /// `Cast` to float16: the values rounded to half precision.
    ToHalf(String),
    /// `DequantizeLinear`: `(x - zero_point) * scale`, per tensor or along `axis`.
    Dequantize {
        x: String,
        scale: String,
        zero_point: Option<String>,
        axis: i64,
    },
}

/// Where the graph reads one layer parameter (`{module}.weight` or `{module}.bias`) from.
#[derive(Debug, Clone, PartialEq)]
struct Binding {
    /// The input of the weighted node.
    input: String,
    /// The node, for error messages.
    node: String,
}

/// The weights of a model, found by PyTorch name.
#[derive(Debug, Default)]
pub struct Weights {
    /// Float initializers and `Constant` outputs, by tensor name.
    tensors: HashMap<String, WeightTensor>,
    /// Integer initializers and constants that `DequantizeLinear` nodes read.
    integers: HashMap<String, IntTensor>,
    /// Tensors computed from others, by output name.
    producers: HashMap<String, Producer>,
    /// Layer parameters bound through the graph, by PyTorch name.
    bound: HashMap<String, Binding>,
}

impl Weights {
    /// Reads the float initializers and constants of `model`, and binds the weight and bias of
    /// every `Conv` and `ConvTranspose` node whose name holds a module path.
    pub fn from_onnx(model: &pb::ModelProto) -> Result<Self> {
        let graph = model
            .graph
            .as_ref()
            .ok_or_else(|| Error::InvalidModel("the ONNX file has no graph".into()))?;
        let quantized: HashSet<&str> = graph
            .node
            .iter()
            .filter(|n| n.op_type == "DequantizeLinear")
            .flat_map(|n| [n.input.first(), n.input.get(2)])
            .flatten()
            .map(String::as_str)
            .collect();
        let mut weights = Weights::default();
        let mut constant = |name: &str, t: &pb::TensorProto| -> Result<()> {
            if quantized.contains(name)
                && let Some(q) = decode_integers(t)?
            {
                weights.integers.insert(name.to_string(), q);
            } else if let Some(w) = decode(t)? {
                weights.tensors.insert(name.to_string(), w);
            }
            Ok(())
        };
        for t in &graph.initializer {
            constant(&t.name, t)?;
        }
        for node in &graph.node {
            if node.op_type == "Constant"
                && node.output.len() == 1
                && let Some(t) = attribute(node, "value").and_then(|a| a.t.as_ref())
            {
                constant(&node.output[0], t)?;
            }
        }
        for node in &graph.node {
            let (Some(input), [output]) = (node.input.first(), node.output.as_slice()) else {
                continue;
            };
            let producer = match node.op_type.as_str() {
                "Identity" => Producer::Same(input.clone()),
                "Cast" => match attribute(node, "to").and_then(|a| a.i) {
                    Some(t) if t == i64::from(FLOAT) || t == i64::from(DOUBLE) => {
                        Producer::Same(input.clone())
                    }
                    Some(t) if t == i64::from(FLOAT16) => Producer::ToHalf(input.clone()),
                    _ => continue,
                },
                "DequantizeLinear" => {
                    let Some(scale) = node.input.get(1) else {
                        continue;
                    };
                    if attribute(node, "block_size").and_then(|a| a.i).unwrap_or(0) != 0 {
                        return Err(Error::InvalidModel(format!(
                            "node `{}` dequantizes `{input}` blockwise (opset 21 `block_size`); export with per-tensor or per-channel quantization",
                            node.name
                        )));
                    }
                    Producer::Dequantize {
                        x: input.clone(),
                        scale: scale.clone(),
                        zero_point: node.input.get(2).filter(|z| !z.is_empty()).cloned(),
                        axis: attribute(node, "axis").and_then(|a| a.i).unwrap_or(1),
                    }
                }
                _ => continue,
            };
            weights.producers.insert(output.clone(), producer);
        }
        for node in &graph.node {
            if !matches!(node.op_type.as_str(), "Conv" | "ConvTranspose") {
                continue;
            }
            let Some(module) = module_path(&node.name) else {
                continue;
            };
            for (slot, param) in [(1, "weight"), (2, "bias")] {
                if let Some(input) = node.input.get(slot).filter(|i| !i.is_empty()) {
                    weights.bound.insert(
                        format!("{module}.{param}"),
                        Binding {
                            input: input.clone(),
                            node: node.name.clone(),
                        },
                    );
                }
            }
        }
        Ok(weights)
    }

    /// Builds weights directly from tensors (tests, other formats).
    pub fn from_tensors(tensors: impl IntoIterator<Item = (String, WeightTensor)>) -> Self {
        Self {
            tensors: tensors.into_iter().collect(),
            ..Self::default()
        }
    }

    /// The tensor the graph binds to `name`, else the initializer of that name.
    fn find(&self, name: &str) -> Result<Option<Cow<'_, WeightTensor>>> {
        if let Some(binding) = self.bound.get(name)
            && let Some(t) = self.value(&binding.input, 0)?
        {
            return Ok(Some(t));
        }
        self.value(name, 0)
    }

    /// The values of tensor `name`: stored, or computed by its producer chain.
    fn value(&self, name: &str, depth: usize) -> Result<Option<Cow<'_, WeightTensor>>> {
        if let Some(t) = self.tensors.get(name) {
            return Ok(Some(Cow::Borrowed(t)));
        }
        if depth >= MAX_CHAIN {
            return Ok(None);
        }
        Ok(match self.producers.get(name) {
            None => None,
            Some(Producer::Same(input)) => self.value(input, depth + 1)?,
            Some(Producer::ToHalf(input)) => self.value(input, depth + 1)?.map(|t| {
                let mut t = t.into_owned();
                for v in &mut t.values {
                    *v = f16::from_f32(*v).to_f32();
                }
                Cow::Owned(t)
            }),
            Some(Producer::Dequantize {
                x,
                scale,
                zero_point,
                axis,
            }) => {
                let (Some(q), Some(scale)) = (self.integers.get(x), self.value(scale, depth + 1)?)
                else {
                    return Ok(None);
                };
                let zero = zero_point.as_ref().and_then(|z| self.integers.get(z));
                Some(Cow::Owned(dequantize(name, q, &scale, zero, *axis)?))
            }
        })
    }

    /// The shape of tensor `name`, found without computing its values.
    fn shape_of(&self, name: &str, depth: usize) -> Option<&[usize]> {
        if let Some(t) = self.tensors.get(name) {
            return Some(&t.shape);
        }
        if depth >= MAX_CHAIN {
            return None;
        }
        match self.producers.get(name)? {
            Producer::Same(input) | Producer::ToHalf(input) => self.shape_of(input, depth + 1),
            Producer::Dequantize { x, .. } => self.integers.get(x).map(|q| q.shape.as_slice()),
        }
    }

    /// Whether a tensor of that name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.shape(name).is_some()
    }

    /// The shape of `name`, if present.
    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.bound
            .get(name)
            .and_then(|b| self.shape_of(&b.input, 0))
            .or_else(|| self.shape_of(name, 0))
    }

    /// The tensor `name`, which must exist and (when `expected` is given) have that shape; the
    /// error names the layer, where its tensor was looked for, and both shapes.
    pub fn get(&self, name: &str, expected: Option<&[usize]>) -> Result<Cow<'_, WeightTensor>> {
        let t = self
            .find(name)?
            .ok_or_else(|| self.missing(name, expected))?;
        if let Some(expected) = expected
            && t.shape != expected
        {
            return Err(Error::InvalidModel(format!(
                "weight tensor `{name}` has shape {:?}, expected {expected:?}",
                t.shape
            )));
        }
        Ok(t)
    }

    /// The error for a parameter found neither through the graph nor by name.
    fn missing(&self, name: &str, expected: Option<&[usize]>) -> Error {
        let expected = expected.map_or("a tensor".to_string(), |s| format!("shape {s:?}"));
        let (layer, param) = name.rsplit_once('.').unwrap_or(("", name));
        Error::InvalidModel(match self.bound.get(name) {
            Some(b) => format!(
                "layer `{layer}`: the {param} input `{}` of node `{}` is not a constant tensor (an initializer or a Constant, possibly through Identity, Cast or DequantizeLinear); expected {expected}",
                b.input, b.node
            ),
            None => format!(
                "weight tensor `{name}` is missing (expected {expected}): no Conv node of the graph is named after layer `{layer}` (as `/model.22/cv2.1/cv2.1.2/Conv` is after `model.22.cv2.1.2`) and no initializer is called `{name}`; is this an export of the expected PyTorch model?"
            ),
        })
    }

    /// Number of distinct float tensors read.
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// True when no float tensor was found.
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty() && self.integers.is_empty()
    }
}

/// The attribute `name` of `node`.
fn attribute<'n, 'a>(
    node: &'n pb::NodeProto<'a>,
    name: &str,
) -> Option<&'n pb::AttributeProto<'a>> {
    node.attribute.iter().find(|a| a.name == name)
}

/// The PyTorch module path in the name PyTorch's exporter gives a node: its scopes without the
/// operator, where a scope that extends the one before it replaces it (`/model.22/cv2.1/cv2.1.2/Conv`
/// is `model.22.cv2.1.2`: `cv2.1.2` is the third element of the `cv2.1` sequence). `None` for names
/// without scopes (`Conv_12`).
pub fn module_path(node_name: &str) -> Option<String> {
    let scopes = node_name.strip_prefix('/')?;
    let (scopes, _operator) = scopes.rsplit_once('/')?;
    let mut path: Vec<&str> = Vec::new();
    for scope in scopes.split('/') {
        match path.last() {
            Some(last)
                if scope.len() > last.len()
                    && scope.starts_with(last)
                    && scope.as_bytes()[last.len()] == b'.' =>
            {
                *path.last_mut().expect("checked above") = scope;
            }
            _ => path.push(scope),
        }
    }
    (!path.is_empty() && path.iter().all(|s| !s.is_empty())).then(|| path.join("."))
}

/// `(q - zero) * scale` (ONNX `DequantizeLinear`): one scale for the tensor, or one per index
/// along `axis`.
fn dequantize(
    name: &str,
    q: &IntTensor,
    scale: &WeightTensor,
    zero: Option<&IntTensor>,
    axis: i64,
) -> Result<WeightTensor> {
    let bad = |what: String| Error::InvalidModel(format!("DequantizeLinear `{name}`: {what}"));
    let per_tensor = scale.values.len() == 1;
    let (dim, inner) = if per_tensor {
        (1, 1)
    } else {
        let rank = q.shape.len() as i64;
        let axis = if axis < 0 { axis + rank } else { axis };
        if !(0..rank).contains(&axis) {
            return Err(bad(format!(
                "axis {axis} for a tensor of shape {:?}",
                q.shape
            )));
        }
        let axis = axis as usize;
        (q.shape[axis], q.shape[axis + 1..].iter().product::<usize>())
    };
    if scale.values.len() != dim {
        return Err(bad(format!(
            "{} scales for {dim} channels of shape {:?}",
            scale.values.len(),
            q.shape
        )));
    }
    if let Some(z) = zero
        && z.values.len() != dim
    {
        return Err(bad(format!(
            "{} zero points for {dim} scales",
            z.values.len()
        )));
    }
    let values = q
        .values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let c = (i / inner) % dim;
            let z = zero.map_or(0, |z| z.values[c]);
            (v - z) as f32 * scale.values[c]
        })
        .collect();
    Ok(WeightTensor {
        shape: q.shape.clone(),
        values,
    })
}

/// Rejects tensors whose values live in another file.
fn check_embedded(t: &pb::TensorProto) -> Result<()> {
    if t.data_location == Some(1) {
        return Err(Error::InvalidModel(format!(
            "tensor `{}` is stored in an external data file; export a single self-contained .onnx",
            t.name
        )));
    }
    Ok(())
}

fn shape_of(t: &pb::TensorProto) -> Vec<usize> {
    t.dims.iter().map(|&d| d.max(0) as usize).collect()
}

fn check_count(t: &pb::TensorProto, shape: &[usize], count: usize) -> Result<()> {
    let want: usize = shape.iter().product();
    if count != want {
        return Err(Error::InvalidModel(format!(
            "tensor `{}` holds {count} values for shape {shape:?} ({want} expected); the file is damaged",
            t.name
        )));
    }
    Ok(())
}

/// Decodes a float32/float16 tensor; other types (shape constants, ...) give `None`.
pub(crate) fn decode(t: &pb::TensorProto) -> Result<Option<WeightTensor>> {
    check_embedded(t)?;
    let shape = shape_of(t);
    let values: Vec<f32> = match t.data_type {
        FLOAT if !t.raw_data.is_empty() => t
            .raw_data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        FLOAT => t.float_data.clone(),
        FLOAT16 if !t.raw_data.is_empty() => t
            .raw_data
            .chunks_exact(2)
            .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        // The ONNX spec stores float16 in int32_data when not raw.
        FLOAT16 => t
            .int32_data
            .iter()
            .map(|&v| f16::from_bits(v as u16).to_f32())
            .collect(),
        _ => return Ok(None),
    };
    check_count(t, &shape, values.len())?;
    Ok(Some(WeightTensor { shape, values }))
}

/// Decodes an 8/16/32-bit integer tensor; other types give `None`.
fn decode_integers(t: &pb::TensorProto) -> Result<Option<IntTensor>> {
    check_embedded(t)?;
    let shape = shape_of(t);
    let raw = t.raw_data;
    let values: Vec<i32> = match t.data_type {
        UINT8 | INT8 | UINT16 | INT16 | INT32 if raw.is_empty() => t.int32_data.clone(),
        UINT8 => raw.iter().map(|&b| i32::from(b)).collect(),
        INT8 => raw.iter().map(|&b| i32::from(b as i8)).collect(),
        UINT16 => raw
            .chunks_exact(2)
            .map(|c| i32::from(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        INT16 => raw
            .chunks_exact(2)
            .map(|c| i32::from(i16::from_le_bytes([c[0], c[1]])))
            .collect(),
        INT32 => raw
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        _ => return Ok(None),
    };
    check_count(t, &shape, values.len())?;
    Ok(Some(IntTensor { shape, values }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32_tensor<'a>(name: &str, dims: Vec<i64>, raw_data: &'a [u8]) -> pb::TensorProto<'a> {
        pb::TensorProto {
            name: name.into(),
            dims,
            data_type: FLOAT,
            raw_data,
            ..Default::default()
        }
    }

    fn node<'a>(op: &str, name: &str, input: &[&str], output: &str) -> pb::NodeProto<'a> {
        pb::NodeProto {
            op_type: op.into(),
            name: name.into(),
            input: input.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            ..Default::default()
        }
    }

    fn int_attribute<'a>(name: &str, i: i64) -> pb::AttributeProto<'a> {
        pb::AttributeProto {
            name: name.into(),
            i: Some(i),
            t: None,
        }
    }

    fn model<'a>(
        initializer: Vec<pb::TensorProto<'a>>,
        node: Vec<pb::NodeProto<'a>>,
    ) -> pb::ModelProto<'a> {
        pb::ModelProto {
            graph: Some(pb::GraphProto {
                initializer,
                node,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn le(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn float16_decodes_exactly() {
        let raw: Vec<u8> = [0x3c00u16, 0xc000, 0x3555, 0x0001, 0x7bff, 0x8000]
            .iter()
            .flat_map(|h| h.to_le_bytes())
            .collect();
        let t = pb::TensorProto {
            name: "h".into(),
            dims: vec![6],
            data_type: FLOAT16,
            raw_data: &raw,
            ..Default::default()
        };
        let values = decode(&t).unwrap().unwrap().values;
        assert_eq!(
            values,
            [1.0, -2.0, 0.333_251_95, 5.960_464_5e-8, 65504.0, -0.0]
        );
        assert!(values[5].is_sign_negative());
    }

    #[test]
    fn module_paths_come_from_pytorch_node_names() {
        for (node, path) in [
            ("/model.22/cv2.1/cv2.1.2/Conv", Some("model.22.cv2.1.2")),
            ("/model.2/m.0/cv1/conv/Conv", Some("model.2.m.0.cv1.conv")),
            (
                "/model.22/proto/upsample/ConvTranspose",
                Some("model.22.proto.upsample"),
            ),
            ("/model.0/conv/Conv_3", Some("model.0.conv")),
            // A scope that only shares a prefix does not replace the one before it.
            ("/model.1/model.10/Conv", Some("model.1.model.10")),
            ("Conv_12", None),
            ("/Conv", None),
            ("", None),
        ] {
            assert_eq!(module_path(node).as_deref(), path, "{node}");
        }
    }

    #[test]
    fn reads_names_aliases_and_reports_shapes() {
        let raw = le(&[1.0, 2.0]);
        let m = model(
            vec![f32_tensor("a.weight", vec![2, 1], &raw)],
            vec![node("Identity", "", &["a.weight"], "b.weight")],
        );
        let w = Weights::from_onnx(&m).unwrap();
        assert_eq!(
            w.get("b.weight", Some(&[2, 1])).unwrap().values,
            vec![1.0, 2.0]
        );
        let e = w.get("a.weight", Some(&[1, 2])).unwrap_err().to_string();
        assert!(
            e.contains("`a.weight` has shape [2, 1], expected [1, 2]"),
            "{e}"
        );
        let e = w.get("c.bias", Some(&[4])).unwrap_err().to_string();
        assert!(
            e.contains("`c.bias` is missing (expected shape [4])")
                && e.contains("named after layer `c`")
                && e.contains("no initializer is called `c.bias`"),
            "{e}"
        );
    }

    /// onnxslim keeps one initializer for equal tensors: the second layer reads the first one's
    /// bias, under the first one's name.
    #[test]
    fn parameters_bind_through_the_graph_when_initializers_are_shared_or_renamed() {
        let (weight, bias) = (le(&[0.5; 4]), le(&[3.0, 4.0]));
        let m = model(
            vec![
                f32_tensor("onnx::Conv_7", vec![2, 2, 1, 1], &weight),
                f32_tensor("model.22.cv2.0.2.bias", vec![2], &bias),
            ],
            vec![
                node(
                    "Conv",
                    "/model.22/cv2.0/cv2.0.2/Conv",
                    &["x", "onnx::Conv_7", "model.22.cv2.0.2.bias"],
                    "y0",
                ),
                node(
                    "Conv",
                    "/model.22/cv2.1/cv2.1.2/Conv",
                    &["x", "onnx::Conv_7", "model.22.cv2.0.2.bias"],
                    "y1",
                ),
            ],
        );
        let w = Weights::from_onnx(&m).unwrap();
        for layer in ["model.22.cv2.0.2", "model.22.cv2.1.2"] {
            assert_eq!(
                w.get(&format!("{layer}.weight"), Some(&[2, 2, 1, 1]))
                    .unwrap()
                    .values,
                [0.5; 4]
            );
            assert_eq!(
                w.get(&format!("{layer}.bias"), Some(&[2])).unwrap().values,
                [3.0, 4.0]
            );
            assert!(w.contains(&format!("{layer}.bias")));
        }
        assert!(!w.contains("model.22.cv2.2.2.bias"));
    }

    #[test]
    fn casts_and_dequantization_are_followed() {
        let weight = le(&[0.1, 1.0 / 3.0]);
        let scales = le(&[0.5, 0.25]);
        let q: Vec<u8> = [-4i8, 2, 0, 8].iter().map(|&v| v as u8).collect();
        let zero: Vec<u8> = [1i8, -1].iter().map(|&v| v as u8).collect();
        let int8 = |name: &str, dims, raw| pb::TensorProto {
            name: String::from(name),
            dims,
            data_type: INT8,
            raw_data: raw,
            ..Default::default()
        };
        let mut cast = node("Cast", "", &["w32"], "w16");
        cast.attribute = vec![int_attribute("to", i64::from(FLOAT16))];
        let mut back = node("Cast", "", &["w16"], "w");
        back.attribute = vec![int_attribute("to", i64::from(FLOAT))];
        let mut dq = node("DequantizeLinear", "", &["q", "s", "z"], "dq");
        dq.attribute = vec![int_attribute("axis", 0)];
        let m = model(
            vec![
                f32_tensor("w32", vec![2], &weight),
                f32_tensor("s", vec![2], &scales),
                int8("q", vec![2, 2], &q),
                int8("z", vec![2], &zero),
            ],
            vec![
                cast,
                back,
                dq,
                node("Conv", "/model.0/conv/Conv", &["x", "dq", "w"], "y"),
            ],
        );
        let w = Weights::from_onnx(&m).unwrap();
        let bias = w.get("model.0.conv.bias", Some(&[2])).unwrap();
        assert_eq!(
            bias.values,
            [
                f16::from_f32(0.1).to_f32(),
                f16::from_f32(1.0 / 3.0).to_f32()
            ]
        );
        assert_eq!(w.shape("model.0.conv.weight"), Some(&[2, 2][..]));
        let weight = w.get("model.0.conv.weight", None).unwrap();
        // Row 0: (q - 1) * 0.5, row 1: (q + 1) * 0.25.
        assert_eq!(weight.values, [-2.5, 0.5, 0.25, 2.25]);
    }

    #[test]
    fn a_bound_input_that_is_no_constant_names_the_node() {
        let m = model(
            vec![],
            vec![node(
                "Conv",
                "/model.0/conv/Conv",
                &["x", "computed", "b"],
                "y",
            )],
        );
        let w = Weights::from_onnx(&m).unwrap();
        let e = w.get("model.0.conv.weight", None).unwrap_err();
        assert_eq!(e.code(), "INVALID_MODEL");
        assert!(
            e.to_string().contains(
                "layer `model.0.conv`: the weight input `computed` of node `/model.0/conv/Conv`"
            ),
            "{e}"
        );
    }
}
