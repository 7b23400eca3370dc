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
    NoWebGpu(GpuFailure),
    /// The GPU failed during a run (the device was lost, or a command failed). The model stays on
    /// it and every later run fails too; the package's JavaScript entries move an `"auto"` model
    /// to the CPU build on this code.
    GpuLost(GpuFailure),
}

/// What went wrong with the GPU, apart from what the caller can do about it: JavaScript gets the
/// first as the error's `reason` (the package's fallback says it when it moves a model to the CPU)
/// and both in its `message`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GpuFailure {
    /// `what`, then `; advice` when there is advice.
    message: String,
    /// The length of `what` in `message`.
    what: usize,
}

impl GpuFailure {
    /// `what` failed (with the browser's or driver's own words), and what the caller can do.
    pub fn new(what: impl Into<String>, advice: &str) -> Self {
        let mut message = what.into();
        let what = message.len();
        if !advice.is_empty() {
            message.push_str("; ");
            message.push_str(advice);
        }
        Self { message, what }
    }

    /// What failed, without the advice.
    pub fn what(&self) -> &str {
        &self.message[..self.what]
    }
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
            | Error::Inference(m) => m,
            Error::NoWebGpu(f) | Error::GpuLost(f) => &f.message,
        }
    }

    /// For a GPU failure, what failed without the advice: JavaScript's `error.reason`.
    pub fn gpu_failure(&self) -> Option<&str> {
        match self {
            Error::NoWebGpu(f) | Error::GpuLost(f) => Some(f.what()),
            _ => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gpu_failure_keeps_what_failed_apart_from_the_advice() {
        let lost = Error::GpuLost(GpuFailure::new(
            "WebGPU failed (device lost)",
            "load it again",
        ));
        assert_eq!(lost.gpu_failure(), Some("WebGPU failed (device lost)"));
        assert_eq!(lost.message(), "WebGPU failed (device lost); load it again");
        assert_eq!(
            lost.to_string(),
            "GPU failed: WebGPU failed (device lost); load it again"
        );
        let bare = Error::NoWebGpu(GpuFailure::new("no adapter", ""));
        assert_eq!(
            (bare.message(), bare.gpu_failure()),
            ("no adapter", Some("no adapter"))
        );
        assert_eq!(Error::InvalidOption("x".into()).gpu_failure(), None);
    }
}
