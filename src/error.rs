//! The crate's one error type. Every failure a caller can cause is a value of [`Error`], never a panic.

use std::fmt;

/// What went wrong, with a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The model bytes are not a FastSAM (YOLOv8-seg, one class) ONNX export.
    InvalidModel(String),
    /// The image is empty, too large, or its buffer does not match its size.
    InvalidImage(String),
    /// A prompt (point, box, label, index) is malformed or outside the image.
    InvalidPrompt(String),
    /// An option is out of range.
    InvalidOption(String),
    /// The inference engine failed while running a model it had accepted.
    Inference(String),
    /// WebGPU cannot be used here (no adapter, or the device did not start) and the call could not
    /// go to the CPU: `backend: "webgpu"` was asked for, or the build has no CPU engine.
    NoWebGpu(String),
    /// The GPU failed during a run (the device was lost, or a command failed). The model stays on
    /// it and every later run fails too; the package's JavaScript entries move an `"auto"` model
    /// to the CPU build on this code.
    GpuLost(String),
}

impl Error {
    /// A stable machine-readable code, also exposed as `error.code` in JavaScript.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidModel(_) => "INVALID_MODEL",
            Error::InvalidImage(_) => "INVALID_IMAGE",
            Error::InvalidPrompt(_) => "INVALID_PROMPT",
            Error::InvalidOption(_) => "INVALID_OPTION",
            Error::Inference(_) => "INFERENCE_FAILED",
            Error::NoWebGpu(_) => "NO_WEBGPU",
            Error::GpuLost(_) => "GPU_LOST",
        }
    }

    /// The human-readable message without the category prefix.
    pub fn message(&self) -> &str {
        match self {
            Error::InvalidModel(m)
            | Error::InvalidImage(m)
            | Error::InvalidPrompt(m)
            | Error::InvalidOption(m)
            | Error::Inference(m)
            | Error::NoWebGpu(m)
            | Error::GpuLost(m) => m,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Error::InvalidModel(_) => "invalid model",
            Error::InvalidImage(_) => "invalid image",
            Error::InvalidPrompt(_) => "invalid prompt",
            Error::InvalidOption(_) => "invalid option",
            Error::Inference(_) => "inference failed",
            Error::NoWebGpu(_) => "WebGPU unavailable",
            Error::GpuLost(_) => "GPU failed",
        };
        write!(f, "{kind}: {}", self.message())
    }
}

impl std::error::Error for Error {}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
