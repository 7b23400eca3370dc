//! Reads what an ONNX file declares (inputs, outputs, initializers) and checks that it is a FastSAM
//! export before any engine spends time on it.

use crate::onnx as pb;

use crate::error::{Error, Result};
use crate::model::weights::decode;

/// Number of mask prototypes / coefficients in YOLOv8-seg.
pub const MASK_DIM: usize = 32;

/// Element type of the network input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    /// 32-bit float.
    F32,
    /// 16-bit float (a `--half` export).
    F16,
}

/// How a file stores its weights (both engines compute in f32 whichever it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightType {
    /// 32-bit floats.
    F32,
    /// 16-bit floats (half the download).
    F16,
    /// 8-bit integers with scales (`DequantizeLinear`).
    Q8,
}

impl WeightType {
    /// `"fp32"`, `"fp16"` or `"q8"`.
    pub fn as_str(self) -> &'static str {
        match self {
            WeightType::F32 => "fp32",
            WeightType::F16 => "fp16",
            WeightType::Q8 => "q8",
        }
    }

    /// The type that holds most of the initializers' values.
    fn of(graph: &pb::GraphProto) -> Self {
        let mut counts = [0usize; 3];
        for t in &graph.initializer {
            let values: usize = t.dims.iter().map(|&d| d.max(0) as usize).product();
            match t.data_type {
                1 => counts[0] += values,
                10 => counts[1] += values,
                2 | 3 => counts[2] += values,
                _ => {}
            }
        }
        let types = [WeightType::F32, WeightType::F16, WeightType::Q8];
        let most = (0..3).max_by_key(|&i| (counts[i], usize::MAX - i));
        most.map_or(WeightType::F32, |i| types[i])
    }
}

/// What a FastSAM ONNX export declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// Name of the image input (`images` in ultralytics exports).
    pub input_name: String,
    /// Side of the square input, read from the graph.
    pub input_size: u32,
    /// Element type of the input.
    pub input_type: InputType,
    /// How the weights are stored.
    pub weight_type: WeightType,
    /// Name of the detections output (`output0`).
    pub detections_name: String,
    /// Name of the prototypes output (`output1`).
    pub prototypes_name: String,
}

/// Element type and declared dimensions (`None` where symbolic) of a graph input or output.
pub(crate) fn dims(info: &pb::ValueInfoProto) -> (Option<i32>, Vec<Option<i64>>) {
    (info.elem_type, info.dims.clone())
}

fn show(d: &[Option<i64>]) -> String {
    let parts: Vec<String> = d
        .iter()
        .map(|v| v.map_or("?".to_string(), |v| v.to_string()))
        .collect();
    format!("[{}]", parts.join(", "))
}

fn describe(infos: &[&pb::ValueInfoProto]) -> String {
    let parts: Vec<String> = infos
        .iter()
        .map(|i| format!("{} {}", i.name, show(&dims(i).1)))
        .collect();
    parts.join(", ")
}

const EXPECTED: &str = "a FastSAM ONNX export (YOLOv8-seg with one class: input [1, 3, S, S], \
outputs [1, 37, N] and [1, 32, S/4, S/4]; tools/convert.py makes one from FastSAM-s.pt or FastSAM-x.pt)";

/// Checks every `DequantizeLinear` of the file's weights, for both engines alike: its scale is a
/// tensor of the file, every scale is a positive finite number, and there is one per tensor or one
/// per channel along `axis`.
fn check_dequantization(graph: &pb::GraphProto) -> Result<()> {
    let initializers: std::collections::HashMap<&str, &pb::TensorProto> = graph
        .initializer
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    for node in graph
        .node
        .iter()
        .filter(|n| n.op_type == "DequantizeLinear")
    {
        let (Some(x), Some(scale)) = (node.input.first(), node.input.get(1)) else {
            return Err(Error::InvalidModel(format!(
                "DequantizeLinear `{}` has {} inputs; it needs the quantized tensor and its scale",
                node.name,
                node.input.len()
            )));
        };
        let Some(values) = initializers.get(x.as_str()) else {
            continue; // dequantizes something computed: not a weight
        };
        let Some(t) = initializers.get(scale.as_str()) else {
            return Err(Error::InvalidModel(format!(
                "the scale `{scale}` of the 8-bit weight `{x}` is not in the file; the file is damaged or was edited"
            )));
        };
        let Some(scales) = decode(t)? else {
            return Err(Error::InvalidModel(format!(
                "the scale `{scale}` of the 8-bit weight `{x}` is not a float tensor"
            )));
        };
        if let Some(bad) = scales.values.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(Error::InvalidModel(format!(
                "the scale `{scale}` of the 8-bit weight `{x}` holds {bad}; scales must be positive"
            )));
        }
        if scales.values.len() != 1 {
            let rank = values.dims.len() as i64;
            let axis = node
                .attribute
                .iter()
                .find(|a| a.name == "axis")
                .and_then(|a| a.i)
                .unwrap_or(1);
            let axis = if axis < 0 { axis + rank } else { axis };
            let channels = usize::try_from(axis)
                .ok()
                .and_then(|a| values.dims.get(a))
                .map(|&d| d.max(0) as usize);
            if channels != Some(scales.values.len()) {
                return Err(Error::InvalidModel(format!(
                    "the scale `{scale}` holds {} values for the 8-bit weight `{x}` of shape {:?} (axis {axis}): one per tensor or one per channel",
                    scales.values.len(),
                    values.dims
                )));
            }
        }
    }
    Ok(())
}

/// Checks the declared inputs and outputs of `model` and returns its [`Signature`].
///
/// `input_size` overrides the input side for exports with a dynamic input shape.
pub fn inspect(model: &pb::ModelProto, input_size: Option<u32>) -> Result<Signature> {
    let invalid =
        |found: String| Error::InvalidModel(format!("expected {EXPECTED}; found {found}"));
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| invalid("an ONNX file without a graph".into()))?;
    if graph.node.is_empty() {
        return Err(invalid("a graph with no operators".into()));
    }
    let initializers: std::collections::HashSet<&str> =
        graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs: Vec<&pb::ValueInfoProto> = graph
        .input
        .iter()
        .filter(|i| !initializers.contains(i.name.as_str()))
        .collect();
    let outputs: Vec<&pb::ValueInfoProto> = graph.output.iter().collect();

    if inputs.len() != 1 {
        return Err(invalid(format!(
            "{} inputs ({})",
            inputs.len(),
            describe(&inputs)
        )));
    }
    let (elem, in_dims) = dims(inputs[0]);
    let input_type = match elem {
        Some(1) => InputType::F32,
        Some(10) => InputType::F16,
        other => {
            return Err(invalid(format!(
                "input {} of ONNX element type {:?} (need float32 or float16)",
                inputs[0].name, other
            )));
        }
    };
    let declared_size = match in_dims.as_slice() {
        [_, Some(3), h, w] => match (h, w) {
            (Some(h), Some(w)) if h == w => Some(*h as u32),
            (None, None) => None,
            _ => {
                return Err(invalid(format!(
                    "a non-square input {} {}",
                    inputs[0].name,
                    show(&in_dims)
                )));
            }
        },
        _ => {
            return Err(invalid(format!(
                "input {} {}",
                inputs[0].name,
                show(&in_dims)
            )));
        }
    };
    let size = match (declared_size, input_size) {
        (Some(s), _) => s,
        (None, Some(s)) => s,
        (None, None) => {
            return Err(Error::InvalidModel(format!(
                "the model input {} has a dynamic size {}; pass `inputSize` (for example 1024) or export with a fixed size (tools/convert.py --imgsz)",
                inputs[0].name,
                show(&in_dims)
            )));
        }
    };
    if size == 0 || size % 32 != 0 || size > 4096 {
        return Err(invalid(format!(
            "input size {size} (must be a multiple of 32, at most 4096)"
        )));
    }

    if outputs.len() != 2 {
        let hint = if outputs.len() == 1 {
            match dims(outputs[0]).1.as_slice() {
                [_, Some(c)] => format!(" (a classifier with {c} classes?)"),
                [_, Some(c), _] => {
                    format!(" (a detection model with {} classes, no masks?)", c - 4)
                }
                _ => String::new(),
            }
        } else {
            String::new()
        };
        return Err(invalid(format!(
            "{} outputs ({}){hint}",
            outputs.len(),
            describe(&outputs)
        )));
    }
    let (d0, d1) = (dims(outputs[0]).1, dims(outputs[1]).1);
    // Outputs are identified by rank: detections are 3-D, prototypes 4-D.
    let (det, det_dims, proto, proto_dims) = match (d0.len(), d1.len()) {
        (3, 4) => (outputs[0], d0, outputs[1], d1),
        (4, 3) => (outputs[1], d1, outputs[0], d0),
        _ => return Err(invalid(format!("outputs {}", describe(&outputs)))),
    };
    let proto_side = (size / 4) as i64;
    match proto_dims.as_slice() {
        [_, Some(32), h, w]
            if h.is_none_or(|h| h == proto_side) && w.is_none_or(|w| w == proto_side) => {}
        _ => {
            return Err(invalid(format!(
                "prototypes output {} {} (need [1, 32, {proto_side}, {proto_side}])",
                proto.name,
                show(&proto_dims)
            )));
        }
    }
    let anchors: i64 = [8, 16, 32].iter().map(|s| (size as i64 / s).pow(2)).sum();
    match det_dims.as_slice() {
        [_, Some(c), n] if *c == 4 + 1 + MASK_DIM as i64 && n.is_none_or(|n| n == anchors) => {}
        [_, Some(c), _] if *c > 4 + MASK_DIM as i64 => {
            return Err(invalid(format!(
                "a segmentation model with {} classes (output {} {}); FastSAM has exactly one class",
                c - 4 - MASK_DIM as i64,
                det.name,
                show(&det_dims)
            )));
        }
        _ => {
            return Err(invalid(format!(
                "detections output {} {} (need [1, 37, {anchors}])",
                det.name,
                show(&det_dims)
            )));
        }
    }
    check_dequantization(graph)?;
    Ok(Signature {
        input_name: inputs[0].name.clone(),
        input_size: size,
        input_type,
        weight_type: WeightType::of(graph),
        detections_name: det.name.clone(),
        prototypes_name: proto.name.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A graph with an int8 weight `w` of shape [2, 1] and a DequantizeLinear reading `scale`.
    fn quantized<'a>(scales: &'a [u8], scale_name: &str, count: i64) -> pb::GraphProto<'a> {
        pb::GraphProto {
            initializer: vec![
                pb::TensorProto {
                    name: "w".into(),
                    dims: vec![2, 1],
                    data_type: 3,
                    raw_data: &[1, 2],
                    ..Default::default()
                },
                pb::TensorProto {
                    name: scale_name.into(),
                    dims: vec![count],
                    data_type: 1,
                    raw_data: scales,
                    ..Default::default()
                },
            ],
            node: vec![pb::NodeProto {
                op_type: "DequantizeLinear".into(),
                name: "dq".into(),
                input: vec!["w".into(), "s".into()],
                output: vec!["model.0.conv.weight".into()],
                attribute: vec![pb::AttributeProto {
                    name: "axis".into(),
                    i: Some(0),
                    t: None,
                }],
            }],
            ..Default::default()
        }
    }

    fn floats(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn quantized_weights_need_positive_scales_of_the_right_length() {
        let good = floats(&[0.5, 0.25]);
        assert!(check_dequantization(&quantized(&good, "s", 2)).is_ok());
        let one = floats(&[0.5]);
        assert!(check_dequantization(&quantized(&one, "s", 1)).is_ok());
        for (scales, name, count, needle) in [
            (
                floats(&[0.5, 0.0]),
                "s",
                2,
                "`s` of the 8-bit weight `w` holds 0",
            ),
            (floats(&[f32::NAN, 1.0]), "s", 2, "holds NaN"),
            (
                floats(&[0.5, 0.5, 0.5]),
                "s",
                3,
                "`s` holds 3 values for the 8-bit weight `w` of shape [2, 1]",
            ),
            (
                good.clone(),
                "t",
                2,
                "the scale `s` of the 8-bit weight `w` is not in the file",
            ),
        ] {
            let err = check_dequantization(&quantized(&scales, name, count)).unwrap_err();
            assert_eq!(err.code(), "INVALID_MODEL");
            assert!(err.message().contains(needle), "{err}");
        }
    }
}
