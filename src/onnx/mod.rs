//! A reader of the parts of an ONNX file this crate looks at: declared inputs and outputs,
//! initializers, the nodes' names, operators, inputs, outputs and tensor or integer attributes, and
//! metadata. It borrows tensor bytes from the file
//! instead of copying them, and needs no inference engine, so the WebGPU build carries no tract.
//!
//! Field numbers follow `onnx.proto3` (<https://github.com/onnx/onnx/blob/main/onnx/onnx.proto3>);
//! fields not listed here are skipped.

mod wire;

use wire::{Fields, Value, WireError};

use crate::error::{Error, Result};

/// A model: its graph and `metadata_props`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ModelProto<'a> {
    /// The graph (absent in a file that is no ONNX model).
    pub graph: Option<GraphProto<'a>>,
    /// Key/value strings the exporter attached.
    pub metadata_props: Vec<StringStringEntryProto>,
}

/// One metadata entry.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StringStringEntryProto {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// A graph: nodes, initializers, inputs and outputs.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct GraphProto<'a> {
    /// Operators, in file order.
    pub node: Vec<NodeProto<'a>>,
    /// Constant tensors (the weights).
    pub initializer: Vec<TensorProto<'a>>,
    /// Declared inputs (old exports list initializers here too).
    pub input: Vec<ValueInfoProto>,
    /// Declared outputs.
    pub output: Vec<ValueInfoProto>,
}

/// One operator: its name, type, tensor names and attributes.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct NodeProto<'a> {
    /// Names of the tensors it reads.
    pub input: Vec<String>,
    /// Names of the tensors it writes.
    pub output: Vec<String>,
    /// The node's name: PyTorch exporters write the module path, `/model.22/cv2.1/cv2.1.2/Conv`.
    pub name: String,
    /// The operator (`Conv`, `Identity`, `Constant`, ...).
    pub op_type: String,
    /// Its attributes (only the name and a tensor value are read).
    pub attribute: Vec<AttributeProto<'a>>,
}

/// A node attribute; only integer and tensor values are read.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct AttributeProto<'a> {
    /// The attribute's name (`value` for a `Constant`, `to` for a `Cast`, `axis`, ...).
    pub name: String,
    /// Its integer value, when it holds one.
    pub i: Option<i64>,
    /// Its tensor, when it holds one.
    pub t: Option<TensorProto<'a>>,
}

/// A tensor: name, shape, element type and data, in whichever field the exporter used.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TensorProto<'a> {
    /// The tensor's name.
    pub name: String,
    /// Dimensions, outermost first.
    pub dims: Vec<i64>,
    /// `TensorProto.DataType` (1 = float32, 2 = uint8, 3 = int8, 6 = int32, 10 = float16, ...).
    pub data_type: i32,
    /// Values of a float32 tensor not stored raw.
    pub float_data: Vec<f32>,
    /// Values of int8/uint8/int32/float16 tensors not stored raw (float16 as bit patterns).
    pub int32_data: Vec<i32>,
    /// Little-endian values, borrowed from the file.
    pub raw_data: &'a [u8],
    /// 1 when the values live in an external file.
    pub data_location: Option<i32>,
}

/// A declared graph input or output.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ValueInfoProto {
    /// The tensor's name.
    pub name: String,
    /// Element type, when the value is a tensor.
    pub elem_type: Option<i32>,
    /// Declared dimensions: `Some(n)` for a fixed positive size, `None` for a symbolic one.
    pub dims: Vec<Option<i64>>,
}

/// Decodes the ONNX model in `bytes` (which its tensors keep borrowing).
pub fn decode(bytes: &[u8]) -> Result<ModelProto<'_>> {
    if bytes.is_empty() {
        return Err(Error::InvalidModel(
            "the model is empty (0 bytes); expected the bytes of a FastSAM .onnx file".into(),
        ));
    }
    model(bytes).map_err(|WireError(cause)| {
        Error::InvalidModel(format!(
            "the {} bytes are not a readable ONNX file ({cause}); was the download cut short, or is it a .pt checkpoint? Convert checkpoints with tools/convert.py",
            bytes.len()
        ))
    })
}

type Read<T> = std::result::Result<T, WireError>;

/// Reads one message: `field` stores each `(number, value)` it knows into the message; the loop,
/// the skipping of unknown fields and the first framing error are handled here.
fn message<'a, T: Default>(
    bytes: &'a [u8],
    mut field: impl FnMut(&mut T, u32, Value<'a>) -> Read<()>,
) -> Read<T> {
    let mut out = T::default();
    for item in Fields::new(bytes) {
        let (number, value) = item?;
        field(&mut out, number, value)?;
    }
    Ok(out)
}

fn model(bytes: &[u8]) -> Read<ModelProto<'_>> {
    message(bytes, |out: &mut ModelProto, number, v| {
        match number {
            7 => out.graph = Some(graph(v.bytes("ModelProto.graph")?)?),
            14 => out
                .metadata_props
                .push(entry(v.bytes("ModelProto.metadata_props")?)?),
            _ => {}
        }
        Ok(())
    })
}

fn entry(bytes: &[u8]) -> Read<StringStringEntryProto> {
    message(bytes, |out: &mut StringStringEntryProto, number, v| {
        match number {
            1 => out.key = v.string("metadata key")?,
            2 => out.value = v.string("metadata value")?,
            _ => {}
        }
        Ok(())
    })
}

fn graph(bytes: &[u8]) -> Read<GraphProto<'_>> {
    message(bytes, |out: &mut GraphProto, number, v| {
        match number {
            1 => out.node.push(node(v.bytes("GraphProto.node")?)?),
            5 => out
                .initializer
                .push(tensor(v.bytes("GraphProto.initializer")?)?),
            11 => out.input.push(value_info(v.bytes("GraphProto.input")?)?),
            12 => out.output.push(value_info(v.bytes("GraphProto.output")?)?),
            _ => {}
        }
        Ok(())
    })
}

fn node(bytes: &[u8]) -> Read<NodeProto<'_>> {
    message(bytes, |out: &mut NodeProto, number, v| {
        match number {
            1 => out.input.push(v.string("NodeProto.input")?),
            2 => out.output.push(v.string("NodeProto.output")?),
            3 => out.name = v.string("NodeProto.name")?,
            4 => out.op_type = v.string("NodeProto.op_type")?,
            5 => out
                .attribute
                .push(attribute(v.bytes("NodeProto.attribute")?)?),
            _ => {}
        }
        Ok(())
    })
}

fn attribute(bytes: &[u8]) -> Read<AttributeProto<'_>> {
    message(bytes, |out: &mut AttributeProto, number, v| {
        match number {
            1 => out.name = v.string("AttributeProto.name")?,
            3 => out.i = Some(v.int("AttributeProto.i")?),
            5 => out.t = Some(tensor(v.bytes("AttributeProto.t")?)?),
            _ => {}
        }
        Ok(())
    })
}

fn tensor(bytes: &[u8]) -> Read<TensorProto<'_>> {
    let mut ints = Vec::new();
    let mut out = message(bytes, |out: &mut TensorProto, number, v| {
        match number {
            1 => v.ints_into(&mut out.dims, "TensorProto.dims")?,
            2 => out.data_type = v.int("TensorProto.data_type")? as i32,
            4 => v.floats_into(&mut out.float_data, "TensorProto.float_data")?,
            5 => v.ints_into(&mut ints, "TensorProto.int32_data")?,
            8 => out.name = v.string("TensorProto.name")?,
            9 => out.raw_data = v.bytes("TensorProto.raw_data")?,
            14 => out.data_location = Some(v.int("TensorProto.data_location")? as i32),
            _ => {}
        }
        Ok(())
    })?;
    out.int32_data = ints.into_iter().map(|v| v as i32).collect();
    Ok(out)
}

fn value_info(bytes: &[u8]) -> Read<ValueInfoProto> {
    message(bytes, |out: &mut ValueInfoProto, number, v| {
        match number {
            1 => out.name = v.string("ValueInfoProto.name")?,
            // TypeProto: only `tensor_type` (1) describes a tensor.
            2 => {
                let tensor = message(
                    v.bytes("ValueInfoProto.type")?,
                    |t: &mut Option<_>, n, v| {
                        if n == 1 {
                            *t = Some(tensor_type(v.bytes("TypeProto.tensor_type")?)?);
                        }
                        Ok(())
                    },
                )?;
                if let Some((elem_type, dims)) = tensor {
                    (out.elem_type, out.dims) = (Some(elem_type), dims);
                }
            }
            _ => {}
        }
        Ok(())
    })
}

/// `TypeProto.Tensor`: element type (0 when not given) and shape.
fn tensor_type(bytes: &[u8]) -> Read<(i32, Vec<Option<i64>>)> {
    message(bytes, |out: &mut (i32, Vec<Option<i64>>), number, v| {
        match number {
            1 => out.0 = v.int("TypeProto.Tensor.elem_type")? as i32,
            2 => {
                out.1 = message(
                    v.bytes("TypeProto.Tensor.shape")?,
                    |dims: &mut Vec<_>, n, d| {
                        if n == 1 {
                            dims.push(dimension(d.bytes("TensorShapeProto.dim")?)?);
                        }
                        Ok(())
                    },
                )?;
            }
            _ => {}
        }
        Ok(())
    })
}

/// `TensorShapeProto.Dimension`: a positive `dim_value`, else unknown.
fn dimension(bytes: &[u8]) -> Read<Option<i64>> {
    message(bytes, |value: &mut Option<i64>, number, v| {
        match number {
            1 => *value = Some(v.int("Dimension.dim_value")?).filter(|&d| d > 0),
            2 => *value = None,
            _ => {}
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A field key: number and wire type.
    fn key(number: u32, wire: u8) -> u8 {
        ((number << 3) | u32::from(wire)) as u8
    }

    fn sub(number: u32, body: &[u8]) -> Vec<u8> {
        let mut out = vec![key(number, 2), body.len() as u8];
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn decodes_graph_io_initializers_and_metadata() {
        // Input "x": float [1, 3, 64, "s"].
        let dims = [
            sub(1, &[key(1, 0), 1]),
            sub(1, &[key(1, 0), 3]),
            sub(1, &[key(1, 0), 64]),
            sub(1, &sub(2, b"s")),
        ]
        .concat();
        let tensor_type = [vec![key(1, 0), 1], sub(2, &dims)].concat();
        let input = [sub(1, b"x"), sub(2, &sub(1, &tensor_type))].concat();
        // Initializer "w": float [2] stored raw, plus an unknown field 99 (skipped).
        let raw = [1f32.to_le_bytes(), 2f32.to_le_bytes()].concat();
        let init = [
            vec![key(1, 0), 2, key(2, 0), 1],
            sub(8, b"w"),
            sub(9, &raw),
            vec![0x98, 0x06, 7],
        ]
        .concat();
        let node = [sub(1, b"w"), sub(2, b"y"), sub(4, b"Identity")].concat();
        let graph = [sub(1, &node), sub(5, &init), sub(11, &input)].concat();
        let meta = [sub(1, b"k"), sub(2, b"v")].concat();
        let file = [vec![key(1, 0), 8], sub(7, &graph), sub(14, &meta)].concat();

        let model = decode(&file).unwrap();
        let g = model.graph.as_ref().unwrap();
        assert_eq!(g.input[0].name, "x");
        assert_eq!(g.input[0].elem_type, Some(1));
        assert_eq!(g.input[0].dims, [Some(1), Some(3), Some(64), None]);
        assert_eq!(g.initializer[0].name, "w");
        assert_eq!(g.initializer[0].dims, [2]);
        assert_eq!(g.initializer[0].raw_data, &raw[..]);
        assert_eq!(g.node[0].op_type, "Identity");
        assert_eq!(
            (g.node[0].input.as_slice(), g.node[0].output.as_slice()),
            (&["w".to_string()][..], &["y".to_string()][..])
        );
        assert_eq!(
            model.metadata_props[0],
            StringStringEntryProto {
                key: "k".into(),
                value: "v".into()
            }
        );
    }

    #[test]
    fn unreadable_bytes_are_an_invalid_model() {
        let err = decode(b"PK\x03\x04 a zip archive").unwrap_err();
        assert_eq!(err.code(), "INVALID_MODEL");
        assert!(err.message().contains("not a readable ONNX file"), "{err}");
        assert!(decode(&[]).unwrap_err().message().contains("empty"));
        // A graph whose length runs past the end of the file.
        assert!(decode(&[key(7, 2), 50, 1, 2]).is_err());
    }
}
