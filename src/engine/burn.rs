//! The GPU engine: the hand-written Burn port of the network ([`crate::model::network`]) with its
//! weights read from the same ONNX file the CPU engine runs.
//!
//! On WebGPU the two raw outputs are read back with one asynchronous transaction
//! ([`BurnEngine::infer_async`]); natively (Burn's `flex` CPU backend in tests, wgpu where a GPU
//! exists) the synchronous [`Engine::infer`] does the same. [`BurnEngine::run_on_device_async`]
//! then [`DeviceRun::segment_async`] (natively `run_on_device` and `segment`) instead keep the
//! prototypes on the device and assemble the masks there ([`crate::pipeline::device_masks`]):
//! only `output0` and bit-packed masks come back.

use crate::onnx as pb;
use burn_tensor::{Device, Tensor, TensorData, Transaction};

use super::graph::{Signature, WeightType, inspect};
use super::{Engine, RawOutputs, check_input};
use crate::error::{Error, Result};
use crate::model::kernels::Placement;
use crate::model::network::FastSamNet;
use crate::model::weights::Weights;
use crate::pipeline::device_masks::DeviceMasks;
use crate::pipeline::{Letterbox, Placed, SegmentOptions, finish, place};
use crate::segmentation::Segmentation;

/// The Burn network on one device.
#[derive(Debug)]
pub struct BurnEngine {
    net: FastSamNet,
    device: Device,
    signature: Signature,
    name: &'static str,
}

impl BurnEngine {
    /// Checks an ONNX FastSAM export and loads its weights onto a device: a [`Device`] (Burn's
    /// convolution kernels) or a [`Placement`] (the kernels chosen). `name` is what
    /// [`Engine::name`] reports ("burn-webgpu", "burn-flex", ...).
    pub fn from_onnx(
        bytes: &[u8],
        input_size: Option<u32>,
        at: impl Into<Placement>,
        name: &'static str,
    ) -> Result<Self> {
        Self::from_proto(&crate::onnx::decode(bytes)?, input_size, at, name)
    }

    /// Like [`BurnEngine::from_onnx`] for an already decoded model.
    pub fn from_proto(
        proto: &pb::ModelProto,
        input_size: Option<u32>,
        at: impl Into<Placement>,
        name: &'static str,
    ) -> Result<Self> {
        let at = at.into();
        let signature = inspect(proto, input_size)?;
        let weights = Weights::from_onnx(proto)?;
        let net = FastSamNet::load(&weights, &at)?;
        Ok(Self {
            net,
            device: at.device,
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
            .map_err(read_failed)?;
        raw_outputs(data)
    }

    /// Queues the network and returns a transaction reading `output0`, with `output1` left on the
    /// device as `[mask_dim, height, width]`.
    fn run_keeping_prototypes(&self, input: &[f32]) -> Result<(Transaction, Tensor<3>)> {
        let s = check_input(input, self.signature.input_size)?;
        let x = Tensor::<4>::from_data(TensorData::new(input.to_vec(), [1, 3, s, s]), &self.device);
        let (detections, prototypes) = self.net.forward(x);
        let [_, mask_dim, height, width] = prototypes.dims();
        if height * 4 != s || width * 4 != s {
            return Err(Error::Inference(format!(
                "prototypes are {width}x{height} but a {s} px input gives {}x{}",
                s / 4,
                s / 4
            )));
        }
        let prototypes = prototypes.reshape([mask_dim, height, width]);
        Ok((Transaction::default().register(detections), prototypes))
    }

    /// Runs the network and reads `output0`, leaving the prototypes on the device for
    /// [`DeviceRun::segment`] (natively).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn run_on_device(&self, input: &[f32]) -> Result<DeviceRun> {
        let (read, prototypes) = self.run_keeping_prototypes(input)?;
        DeviceRun::new(read.execute(), prototypes)
    }

    /// [`BurnEngine::run_on_device`] without blocking (the only way on WebGPU).
    pub async fn run_on_device_async(&self, input: &[f32]) -> Result<DeviceRun> {
        let (read, prototypes) = self.run_keeping_prototypes(input)?;
        DeviceRun::new(read.execute_async().await.map_err(read_failed)?, prototypes)
    }
}

/// A network run whose `output0` has been read back while its prototypes stay on the device,
/// where [`DeviceRun::segment`] assembles the masks.
#[derive(Debug)]
pub struct DeviceRun {
    /// `output0` as `[5 + mask_dim, anchors]`, row-major.
    predictions: Vec<f32>,
    anchors: usize,
    /// `output1` as `[mask_dim, height, width]`.
    prototypes: Tensor<3>,
}

impl DeviceRun {
    /// Checks `output0` as read back (`[1, 5 + mask_dim, anchors]`) against the prototypes.
    fn new(data: Vec<TensorData>, prototypes: Tensor<3>) -> Result<Self> {
        let [detections]: [TensorData; 1] = data.try_into().map_err(|_| {
            Error::Inference("the device returned the wrong number of outputs".into())
        })?;
        let shape = detections.shape().to_vec();
        let mask_dim = prototypes.dims()[0];
        let &[1, channels, anchors] = &shape[..] else {
            return Err(Error::Inference(format!(
                "the network produced output0 of shape {shape:?}"
            )));
        };
        if channels != 5 + mask_dim {
            return Err(Error::Inference(format!(
                "output0 has {channels} rows but {mask_dim} prototypes need {}",
                5 + mask_dim
            )));
        }
        let predictions = detections
            .try_into_vec::<f32>()
            .map_err(|e| Error::Inference(format!("unexpected output type: {e:?}")))?;
        Ok(Self {
            predictions,
            anchors,
            prototypes,
        })
    }

    /// Threshold, NMS and boxes on the CPU, then the masks on the device (natively).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn segment(&self, lb: &Letterbox, options: &SegmentOptions) -> Result<Segmentation> {
        let placed = self.place(lb, options);
        let mut masks = DeviceMasks::new(self.prototypes.clone(), &placed, lb, options);
        while let Some(batch) = masks.next_batch() {
            masks.accept(batch.execute())?;
        }
        let masks = masks.finish()?;
        Ok(finish(placed, masks, lb, options))
    }

    /// [`DeviceRun::segment`] without blocking (the only way on WebGPU).
    pub async fn segment_async(
        &self,
        lb: &Letterbox,
        options: &SegmentOptions,
    ) -> Result<Segmentation> {
        let placed = self.place(lb, options);
        let mut masks = DeviceMasks::new(self.prototypes.clone(), &placed, lb, options);
        while let Some(batch) = masks.next_batch() {
            masks.accept(batch.execute_async().await.map_err(read_failed)?)?;
        }
        let masks = masks.finish()?;
        Ok(finish(placed, masks, lb, options))
    }

    /// Both outputs on the CPU, the prototypes read back (natively): what [`BurnEngine::infer`]
    /// would have returned for this run, for comparing the device assembly with the CPU one.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn raw_outputs(&self) -> Result<RawOutputs> {
        let [mask_dim, proto_height, proto_width] = self.prototypes.dims();
        let prototypes = self
            .prototypes
            .clone()
            .into_data()
            .try_into_vec::<f32>()
            .map_err(|e| Error::Inference(format!("unexpected output type: {e:?}")))?;
        Ok(RawOutputs {
            predictions: self.predictions.clone(),
            channels: 5 + mask_dim,
            anchors: self.anchors,
            prototypes,
            mask_dim,
            proto_height,
            proto_width,
        })
    }

    /// The prototypes on the device, `[mask_dim, height, width]`.
    pub fn prototypes(&self) -> &Tensor<3> {
        &self.prototypes
    }

    /// Threshold, NMS and boxes (the first half of post-processing) on the CPU.
    pub fn place(&self, lb: &Letterbox, options: &SegmentOptions) -> Vec<Placed> {
        let mask_dim = self.prototypes.dims()[0];
        place(&self.predictions, self.anchors, mask_dim, lb, options)
    }
}

/// The error of a failed readback from the device.
fn read_failed(e: impl std::fmt::Debug) -> Error {
    Error::Inference(format!("reading the GPU results failed: {e:?}"))
}

impl Engine for BurnEngine {
    fn name(&self) -> &'static str {
        self.name
    }

    fn input_size(&self) -> u32 {
        self.signature.input_size
    }

    fn weight_type(&self) -> WeightType {
        self.signature.weight_type
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
