//! float16 exports run in f32 on tract, as they do on the Burn port: before tract sees the graph,
//! every float16 initializer and constant is widened to float32 (exactly: every half is a float),
//! every `Cast` to float16 becomes a `Cast` to float32 (a no-op on float32 data), and every
//! declared float16 input and output type becomes float32. The declared types of intermediate
//! values, which float16 converters add (sometimes with a symbolic batch size that tract then
//! cannot unify with the plan's fixed one), are dropped: tract infers them. The arithmetic is then
//! today's fp32 arithmetic on the file's weights; tract computing in f16 instead is emulated in
//! wasm and about 100x slower.

use half::f16;
use tract_onnx::pb;
use tract_onnx::pb::type_proto;

const FLOAT: i32 = 1;
const FLOAT16: i32 = 10;

/// Rewrites the float16 parts of `model` to float32. Returns how many tensors, casts and declared
/// types were rewritten (0 for a float32 export, which is left as it was).
pub(crate) fn widen_half(model: &mut pb::ModelProto) -> usize {
    let Some(graph) = model.graph.as_mut() else {
        return 0;
    };
    let changed = widen_graph(graph);
    if changed > 0 {
        graph.value_info.clear();
    }
    changed
}

fn widen_graph(graph: &mut pb::GraphProto) -> usize {
    let mut changed = 0;
    for t in &mut graph.initializer {
        changed += widen_tensor(t);
    }
    for node in &mut graph.node {
        let is_cast = node.op_type == "Cast";
        for a in &mut node.attribute {
            if is_cast && a.name == "to" && a.i == i64::from(FLOAT16) {
                a.i = i64::from(FLOAT);
                changed += 1;
            }
            if let Some(t) = a.t.as_mut() {
                changed += widen_tensor(t);
            }
            if let Some(g) = a.g.as_mut() {
                changed += widen_graph(g);
            }
        }
    }
    for info in graph.input.iter_mut().chain(&mut graph.output) {
        if let Some(pb::TypeProto {
            value: Some(type_proto::Value::TensorType(t)),
            ..
        }) = info.r#type.as_mut()
            && t.elem_type == FLOAT16
        {
            t.elem_type = FLOAT;
            changed += 1;
        }
    }
    changed
}

/// A float16 tensor as float32 (the values live in `raw_data`, or as bit patterns in
/// `int32_data`); other tensors are left alone.
fn widen_tensor(t: &mut pb::TensorProto) -> usize {
    if t.data_type != FLOAT16 {
        return 0;
    }
    let halves: Vec<f16> = if t.raw_data.is_empty() {
        t.int32_data
            .iter()
            .map(|&v| f16::from_bits(v as u16))
            .collect()
    } else {
        t.raw_data
            .chunks_exact(2)
            .map(|c| f16::from_le_bytes([c[0], c[1]]))
            .collect()
    };
    t.raw_data = halves
        .iter()
        .flat_map(|h| h.to_f32().to_le_bytes())
        .collect();
    t.int32_data.clear();
    t.data_type = FLOAT;
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor_type(elem_type: i32) -> Option<pb::TypeProto> {
        Some(pb::TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type,
                shape: None,
            })),
            ..Default::default()
        })
    }

    #[test]
    fn half_tensors_casts_and_types_become_float() {
        let half_bits: Vec<u8> = [0x3c00u16, 0x3555]
            .iter()
            .flat_map(|h| h.to_le_bytes())
            .collect();
        let mut model = pb::ModelProto {
            graph: Some(pb::GraphProto {
                initializer: vec![pb::TensorProto {
                    dims: vec![2],
                    data_type: FLOAT16,
                    raw_data: half_bits,
                    ..Default::default()
                }],
                node: vec![
                    pb::NodeProto {
                        op_type: "Cast".into(),
                        attribute: vec![pb::AttributeProto {
                            name: "to".into(),
                            i: i64::from(FLOAT16),
                            ..Default::default()
                        }],
                        ..Default::default()
                    },
                    pb::NodeProto {
                        op_type: "Constant".into(),
                        attribute: vec![pb::AttributeProto {
                            name: "value".into(),
                            t: Some(pb::TensorProto {
                                data_type: FLOAT16,
                                int32_data: vec![0xc000],
                                ..Default::default()
                            }),
                            ..Default::default()
                        }],
                        ..Default::default()
                    },
                ],
                input: vec![pb::ValueInfoProto {
                    r#type: tensor_type(FLOAT16),
                    ..Default::default()
                }],
                output: vec![pb::ValueInfoProto {
                    r#type: tensor_type(FLOAT),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(widen_half(&mut model), 4);
        let g = model.graph.as_ref().unwrap();
        let init = &g.initializer[0];
        assert_eq!(init.data_type, FLOAT);
        let values: Vec<f32> = init
            .raw_data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(values, [1.0, 0.333_251_95]);
        assert_eq!(g.node[0].attribute[0].i, i64::from(FLOAT));
        let constant = g.node[1].attribute[0].t.as_ref().unwrap();
        assert_eq!(constant.raw_data, (-2f32).to_le_bytes());
        assert!(constant.int32_data.is_empty());
        assert_eq!(g.input[0].r#type, tensor_type(FLOAT));
        // A float32 model is left as it was.
        assert_eq!(widen_half(&mut model), 0);
    }
}
