//! The GPU engine: the hand-written Burn port of the network ([`crate::model::network`]) with its
//! weights read from the same ONNX file the CPU engine runs.
//!
//! On WebGPU the two raw outputs are read back with one asynchronous transaction
//! ([`BurnEngine::infer_async`]); natively (Burn's `flex` CPU backend in tests, wgpu where a GPU
//! exists) the synchronous [`Engine::infer`] does the same.

use crate::onnx as pb;
use burn::tensor::{Device, Tensor, TensorData, Transaction};

use super::graph::{Signature, inspect};
use super::{Engine, RawOutputs, check_input};
use crate::error::{Error, Result};
use crate::model::network::FastSamNet;
use crate::model::weights::Weights;

/// The Burn network on one device.
#[derive(Debug)]
pub struct BurnEngine {
    net: FastSamNet,
    device: Device,
    signature: Signature,
    name: &'static str,
}

impl BurnEngine {
    /// Checks an ONNX FastSAM export and loads its weights onto `device`. `name` is what
    /// [`Engine::name`] reports ("burn-webgpu", "burn-flex", ...).
    pub fn from_onnx(
        bytes: &[u8],
        input_size: Option<u32>,
        device: Device,
        name: &'static str,
    ) -> Result<Self> {
        Self::from_proto(&crate::onnx::decode(bytes)?, input_size, device, name)
    }

    /// Like [`BurnEngine::from_onnx`] for an already decoded model.
    pub fn from_proto(
        proto: &pb::ModelProto,
        input_size: Option<u32>,
        device: Device,
        name: &'static str,
    ) -> Result<Self> {
        let signature = inspect(proto, input_size)?;
        let weights = Weights::from_onnx(proto)?;
        let net = FastSamNet::load(&weights, &device)?;
        Ok(Self {
            net,
            device,
            signature,
            name,
        })
    }

    /// The YOLOv8 scale of the loaded weights ("s" for FastSAM-s, "x" for FastSAM-x).
    pub fn scale(&self) -> &'static str {
        self.net.scale()
    }

    /// What the file declares.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Queues the network on the device and returns a transaction reading both outputs.
    fn run(&self, input: &[f32]) -> Result<Transaction> {
        let s = check_input(input, self.signature.input_size)?;
        let x = Tensor::<4>::from_data(TensorData::new(input.to_vec(), [1, 3, s, s]), &self.device);
        let (detections, prototypes) = self.net.forward(x);
        Ok(Transaction::default()
            .register(detections)
            .register(prototypes))
    }

    /// Runs the network and reads the outputs without blocking (the only way on WebGPU).
    pub async fn infer_async(&self, input: &[f32]) -> Result<RawOutputs> {
        let data = self
            .run(input)?
            .execute_async()
            .await
            .map_err(|e| Error::Inference(format!("reading the GPU results failed: {e:?}")))?;
        raw_outputs(data)
    }
}

impl Engine for BurnEngine {
    fn name(&self) -> &'static str {
        self.name
    }

    fn input_size(&self) -> u32 {
        self.signature.input_size
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn infer(&self, input: &[f32]) -> Result<RawOutputs> {
        raw_outputs(self.run(input)?.execute())
    }

    #[cfg(target_arch = "wasm32")]
    fn infer(&self, _input: &[f32]) -> Result<RawOutputs> {
        Err(Error::Inference(
            "the WebGPU engine reads its results asynchronously; call infer_async".into(),
        ))
    }
}

/// `[output0, output1]` as read from the device to [`RawOutputs`].
fn raw_outputs(data: Vec<TensorData>) -> Result<RawOutputs> {
    let [detections, prototypes]: [TensorData; 2] = data
        .try_into()
        .map_err(|_| Error::Inference("the device returned the wrong number of outputs".into()))?;
    let (det_shape, proto_shape) = (detections.shape().to_vec(), prototypes.shape().to_vec());
    let values = |d: TensorData| {
        d.try_into_vec::<f32>()
            .map_err(|e| Error::Inference(format!("unexpected output type: {e:?}")))
    };
    let (&[1, channels, anchors], &[1, mask_dim, proto_height, proto_width]) =
        (&det_shape[..], &proto_shape[..])
    else {
        return Err(Error::Inference(format!(
            "the network produced outputs of shapes {det_shape:?} and {proto_shape:?}"
        )));
    };
    Ok(RawOutputs {
        predictions: values(detections)?,
        channels,
        anchors,
        prototypes: values(prototypes)?,
        mask_dim,
        proto_height,
        proto_width,
    })
}
