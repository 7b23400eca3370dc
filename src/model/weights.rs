//! Network weights read from the ONNX file's initializers, by their PyTorch names
//! (`model.0.conv.weight`, ...; Conv and BatchNorm already fused by the exporter).
//!
//! Exporters sometimes keep one copy of identical tensors and re-create the other names with
//! `Identity` nodes (ultralytics does this for the head biases); those aliases resolve here too.
//! float16 initializers are widened to f32.

use std::collections::HashMap;

use crate::onnx as pb;

use crate::error::{Error, Result};

/// ONNX `TensorProto.DataType` values we read.
const FLOAT: i32 = 1;
const FLOAT16: i32 = 10;

/// One weight tensor: its shape and row-major values.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightTensor {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Values in row-major order.
    pub values: Vec<f32>,
}

/// All float initializers of a model, by name.
#[derive(Debug, Default)]
pub struct Weights {
    tensors: HashMap<String, WeightTensor>,
    /// `Identity` outputs pointing at the tensor they copy.
    aliases: HashMap<String, String>,
}

impl Weights {
    /// Reads every float32/float16 initializer (and `Constant` node) of `model`.
    pub fn from_onnx(model: &pb::ModelProto) -> Result<Self> {
        let graph = model
            .graph
            .as_ref()
            .ok_or_else(|| Error::InvalidModel("the ONNX file has no graph".into()))?;
        let mut weights = Weights::default();
        for t in &graph.initializer {
            if let Some(w) = decode(t)? {
                weights.tensors.insert(t.name.clone(), w);
            }
        }
        for node in &graph.node {
            match node.op_type.as_str() {
                "Identity" if node.input.len() == 1 && node.output.len() == 1 => {
                    weights
                        .aliases
                        .insert(node.output[0].clone(), node.input[0].clone());
                }
                "Constant" if node.output.len() == 1 => {
                    let value = node.attribute.iter().find(|a| a.name == "value");
                    if let Some(t) = value.and_then(|a| a.t.as_ref())
                        && let Some(w) = decode(t)?
                    {
                        weights.tensors.insert(node.output[0].clone(), w);
                    }
                }
                _ => {}
            }
        }
        Ok(weights)
    }

    /// Builds weights directly from tensors (tests, other formats).
    pub fn from_tensors(tensors: impl IntoIterator<Item = (String, WeightTensor)>) -> Self {
        Self {
            tensors: tensors.into_iter().collect(),
            aliases: HashMap::new(),
        }
    }

    fn resolve(&self, name: &str) -> Option<&WeightTensor> {
        let mut name = name;
        for _ in 0..16 {
            if let Some(t) = self.tensors.get(name) {
                return Some(t);
            }
            name = self.aliases.get(name)?;
        }
        None
    }

    /// Whether a tensor of that name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.resolve(name).is_some()
    }

    /// The shape of `name`, if present.
    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.resolve(name).map(|t| t.shape.as_slice())
    }

    /// The tensor `name`, which must exist and (when `expected` is given) have that shape; the
    /// error names the tensor and both shapes.
    pub fn get(&self, name: &str, expected: Option<&[usize]>) -> Result<&WeightTensor> {
        let t = self.resolve(name).ok_or_else(|| {
            Error::InvalidModel(format!(
                "weight tensor `{name}` is missing from the ONNX file (expected {}); is this a FastSAM export with PyTorch initializer names? (tools/convert.py keeps them)",
                expected.map_or("a tensor".to_string(), |s| format!("shape {s:?}"))
            ))
        })?;
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

    /// Number of distinct tensors read.
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// True when no float tensor was found.
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }
}

/// Decodes a float32/float16 tensor; other types (shape constants, ...) give `None`.
fn decode(t: &pb::TensorProto) -> Result<Option<WeightTensor>> {
    if t.data_location == Some(1) {
        return Err(Error::InvalidModel(format!(
            "tensor `{}` is stored in an external data file; export a single self-contained .onnx",
            t.name
        )));
    }
    let shape: Vec<usize> = t.dims.iter().map(|&d| d.max(0) as usize).collect();
    let count: usize = shape.iter().product();
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
            .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        // The ONNX spec stores float16 in int32_data when not raw.
        FLOAT16 => t.int32_data.iter().map(|&v| f16_to_f32(v as u16)).collect(),
        _ => return Ok(None),
    };
    if values.len() != count {
        return Err(Error::InvalidModel(format!(
            "tensor `{}` holds {} values for shape {shape:?} ({count} expected); the file is damaged",
            t.name,
            values.len()
        )));
    }
    Ok(Some(WeightTensor { shape, values }))
}

/// IEEE 754 half to single precision.
fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let man = (h & 0x3ff) as u32;
    let bits = match (exp, man) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: normalise.
            let shift = m.leading_zeros() - 21;
            let m = (m << shift) & 0x3ff;
            sign | ((127 - 15 + 1 - shift) << 23) | (m << 13)
        }
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, m) => sign | 0x7fc0_0000 | (m << 13),
        (e, m) => sign | ((e + 127 - 15) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_decodes_exactly() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8); // smallest subnormal
        assert_eq!(f16_to_f32(0x03ff), 6.097_555e-5); // largest subnormal
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert!(f16_to_f32(0x7c00).is_infinite());
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x8000), -0.0);
    }

    #[test]
    fn reads_names_aliases_and_reports_shapes() {
        let raw: Vec<u8> = [1f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let tensor = |name: &str, dims: Vec<i64>, raw_data| pb::TensorProto {
            name: name.into(),
            dims,
            data_type: FLOAT,
            raw_data,
            ..Default::default()
        };
        let model = pb::ModelProto {
            graph: Some(pb::GraphProto {
                initializer: vec![tensor("a.weight", vec![2, 1], &raw)],
                node: vec![pb::NodeProto {
                    op_type: "Identity".into(),
                    input: vec!["a.weight".into()],
                    output: vec!["b.weight".into()],
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let w = Weights::from_onnx(&model).unwrap();
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
            e.contains("`c.bias` is missing") && e.contains("[4]"),
            "{e}"
        );
    }
}
