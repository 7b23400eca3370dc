//! The FastSAM network (YOLOv8-seg) ported to Burn, and its weights.
//!
//! One file per block family, each block loading its weights by PyTorch name from the same ONNX
//! file the CPU engine runs: [`conv`] (Conv+BN+SiLU), [`c2f`] (Bottleneck, C2f), [`sppf`],
//! [`head`] (Detect + Proto = Segment), wired together in [`network`]. Every layer's kernel is
//! called through [`kernels`], which also fixes the one layout the network runs in (NHWC).

#[cfg(feature = "burn")]
pub mod c2f;
#[cfg(feature = "burn")]
pub mod clip;
#[cfg(feature = "burn")]
pub mod conv;
#[cfg(feature = "burn")]
pub mod head;
#[cfg(feature = "burn")]
pub mod kernels;
#[cfg(feature = "burn")]
pub mod network;
#[cfg(feature = "burn")]
pub mod sppf;
pub mod weights;
