//! The CPU engine: tract running the ONNX graph.

use std::sync::Arc;

use tract_onnx::pb;
use tract_onnx::prelude::*;

use super::graph::{Signature, WeightType, inspect};
use super::threads::Threads;
use super::widen::widen_half;
use super::{Engine, RawOutputs, check_input};
use crate::error::{Error, Result};

type Plan = Arc<TypedRunnableModel>;

/// tract's optimised plan for one FastSAM export.
pub struct TractEngine {
    plan: Plan,
    signature: Signature,
    /// Output slots of the detections and prototypes in the plan's outputs.
    slots: (usize, usize),
    threads: Threads,
}

impl std::fmt::Debug for TractEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TractEngine")
            .field("signature", &self.signature)
            .finish()
    }
}

/// Decodes ONNX bytes into tract's protobuf model, with an actionable error for anything else.
pub(crate) fn decode_onnx(bytes: &[u8]) -> Result<pb::ModelProto> {
    if bytes.is_empty() {
        return Err(Error::InvalidModel(
            "the model is empty (0 bytes); expected the bytes of a FastSAM .onnx file".into(),
        ));
    }
    onnx().proto_model_for_read(&mut &bytes[..]).map_err(|e| {
        Error::InvalidModel(format!(
            "the {} bytes are not a readable ONNX file ({}); was the download cut short, or is it a .pt checkpoint? Convert checkpoints with tools/convert.py",
            bytes.len(),
            root_cause(&e)
        ))
    })
}

/// Leaves the vector registers as the compiler expects them after tract has run. tract's x86-64
/// assembly kernels return without `vzeroupper`, and until one runs every SSE instruction of the
/// code after them (mask assembly, polygons) is about three times slower: natively on an AMD Zen 4,
/// FastSAM-s's post-processing of a 2000x1500 photo took 133 ms after a network run and 95 ms after
/// this. No-op elsewhere (wasm has no such state).
#[inline]
pub(crate) fn release_wide_vector_state() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU has AVX, which `vzeroupper` needs.
        unsafe { std::arch::x86_64::_mm256_zeroupper() }
    }
}

fn root_cause(e: &TractError) -> String {
    e.chain().last().map(|c| c.to_string()).unwrap_or_default()
}

impl TractEngine {
    /// Checks and optimises an ONNX FastSAM export. `input_size` is only used for dynamic exports.
    pub fn from_onnx(bytes: &[u8], input_size: Option<u32>) -> Result<Self> {
        let signature = inspect(&crate::onnx::decode(bytes)?, input_size)?;
        Self::build(decode_onnx(bytes)?, signature)
    }

    /// Like [`TractEngine::from_onnx`], freeing the file's bytes once tract has decoded them (before
    /// the plan is optimised), which lowers the peak memory of a load by the size of the file.
    pub fn from_bytes(bytes: Vec<u8>, input_size: Option<u32>) -> Result<Self> {
        let signature = inspect(&crate::onnx::decode(&bytes)?, input_size)?;
        let proto = decode_onnx(&bytes)?;
        drop(bytes);
        Self::build(proto, signature)
    }

    /// Builds the plan, float16 exports widened to float32 first (`widen`): the input is f32.
    fn build(mut proto: pb::ModelProto, signature: Signature) -> Result<Self> {
        let s = signature.input_size as usize;
        widen_half(&mut proto);
        let build = || -> TractResult<Plan> {
            onnx()
                .model_for_proto_model(&proto)?
                .with_input_fact(0, InferenceFact::dt_shape(f32::datum_type(), [1, 3, s, s]))?
                .into_optimized()?
                .into_runnable()
        };
        let plan = build().map_err(|e| {
            Error::InvalidModel(format!(
                "tract could not build the network ({}); the file declares a FastSAM signature but its graph is not runnable",
                root_cause(&e)
            ))
        })?;
        let names: Vec<&str> = plan
            .model()
            .output_outlets()
            .map_err(|e| Error::InvalidModel(e.to_string()))?
            .iter()
            .map(|o| plan.model().node(o.node).name.as_str())
            .collect();
        // tract keeps output order; identify by rank at run time if names were rewritten.
        let slots = match (
            names.iter().position(|n| *n == signature.detections_name),
            names.iter().position(|n| *n == signature.prototypes_name),
        ) {
            (Some(d), Some(p)) => (d, p),
            _ => (0, 1),
        };
        Ok(Self {
            plan,
            signature,
            slots,
            threads: Threads::default(),
        })
    }

    /// Runs the matrix products on `count` threads (1: on the caller's thread, the default).
    /// Natively each engine gets its own pool; in the threaded wasm build the engine uses the pool
    /// of Web Workers the JS loader started, and `count` only has to be more than 1. Fails when the
    /// crate was built without the `threads` feature and `count` is more than 1.
    pub fn with_threads(mut self, count: usize) -> Result<Self> {
        self.threads = Threads::new(count)?;
        Ok(self)
    }

    /// How many threads run the matrix products.
    pub fn threads(&self) -> usize {
        self.threads.count()
    }

    /// What the file declares.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }
}

impl Engine for TractEngine {
    fn name(&self) -> &'static str {
        "tract"
    }

    fn input_size(&self) -> u32 {
        self.signature.input_size
    }

    fn weight_type(&self) -> WeightType {
        self.signature.weight_type
    }

    fn threads(&self) -> usize {
        self.threads.count()
    }

    fn infer(&self, input: &[f32]) -> Result<RawOutputs> {
        let s = check_input(input, self.signature.input_size)?;
        let fail = |e: TractError| Error::Inference(root_cause(&e));
        let tensor = Tensor::from_shape(&[1, 3, s, s], input).map_err(fail)?;
        let outputs = self
            .threads
            .run(|| self.plan.run(tvec!(tensor.into())))
            .map_err(fail)?;
        release_wide_vector_state();
        let as_f32 = |t: &TValue| -> Result<(Vec<usize>, Vec<f32>)> {
            let t = t.cast_to::<f32>().map_err(fail)?;
            let view = t.to_plain_array_view::<f32>().map_err(fail)?;
            Ok((view.shape().to_vec(), view.iter().copied().collect()))
        };
        let (mut det, mut proto) = (
            as_f32(&outputs[self.slots.0])?,
            as_f32(&outputs[self.slots.1])?,
        );
        if det.0.len() == 4 {
            std::mem::swap(&mut det, &mut proto);
        }
        match (det.0.as_slice(), proto.0.as_slice()) {
            ([1, c, n], [1, m, h, w]) => {
                let raw = RawOutputs {
                    channels: *c,
                    anchors: *n,
                    mask_dim: *m,
                    proto_height: *h,
                    proto_width: *w,
                    predictions: det.1,
                    prototypes: proto.1,
                };
                raw.validate()?;
                Ok(raw)
            }
            (a, b) => Err(Error::Inference(format!(
                "unexpected output shapes {a:?} and {b:?}"
            ))),
        }
    }
}
