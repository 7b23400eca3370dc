//! The FastSAM network (YOLOv8-seg) and its weights.

pub mod weights;
