//! Per-layer timings of the network's convolutions, natively (`examples/gpu_bench.rs --layers`):
//! while [`convolutions`] runs a closure, every [`super::conv`] call waits for the device before
//! and after its kernel and records how long it took, with its shape. The waits serialise the
//! layers, so the sum exceeds a normal run; the table says which layers the time goes to.

use std::cell::RefCell;
use std::time::Instant;

use burn_tensor::Tensor;

use super::PackedConv;

/// One convolution call: its shapes and wall time.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvTiming {
    /// Input `[1, height, width, channels]`.
    pub input: [usize; 4],
    /// Output channels.
    pub out_channels: usize,
    /// Kernel size (square).
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// From the device idle with the input ready to the device idle with the output written.
    pub ms: f64,
}

impl ConvTiming {
    /// Multiply-adds of the call.
    pub fn macs(&self) -> u64 {
        let [_, h, w, c] = self.input;
        let (oh, ow) = (h.div_ceil(self.stride), w.div_ceil(self.stride));
        (oh * ow * self.out_channels * self.kernel * self.kernel * c) as u64
    }
}

thread_local! {
    static RECORDED: RefCell<Option<Vec<ConvTiming>>> = const { RefCell::new(None) };
}

/// Runs `f`, timing every convolution it makes on this thread.
pub fn convolutions<R>(f: impl FnOnce() -> R) -> (R, Vec<ConvTiming>) {
    RECORDED.with(|r| *r.borrow_mut() = Some(Vec::new()));
    let result = f();
    let timings = RECORDED.with(|r| r.borrow_mut().take()).unwrap_or_default();
    (result, timings)
}

/// `run(x)`, timed and recorded if [`convolutions`] is running.
pub(super) fn time(
    x: Tensor<4>,
    conv: &PackedConv,
    run: impl FnOnce(Tensor<4>) -> Tensor<4>,
) -> Tensor<4> {
    if RECORDED.with(|r| r.borrow().is_none()) {
        return run(x);
    }
    let device = x.device();
    let input = x.dims();
    let wait = || device.sync().expect("the device runs");
    wait();
    let start = Instant::now();
    let y = run(x);
    wait();
    let ms = start.elapsed().as_secs_f64() * 1e3;
    let [_, kernel, _, _] = conv.weight.dims();
    let timing = ConvTiming {
        input,
        out_channels: conv.out_channels,
        kernel,
        stride: conv.options.stride[0],
        ms,
    };
    RECORDED.with(|r| r.borrow_mut().as_mut().map(|v| v.push(timing)));
    y
}
