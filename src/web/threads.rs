//! The threaded wasm build's thread pool: rayon's global pool, its threads lent by Web Workers.
//!
//! The JS side (js/threads.js) starts N workers on this module and its shared memory; each calls
//! [`run_pool_thread`] and waits there for a rayon thread to run. [`build_thread_pool`] then
//! builds rayon's global pool, whose N threads are handed to those waiting workers, and points
//! tract's matrix products at it. Statics live in the shared memory, so every worker sees the
//! same hand-off queue.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Mutex, OnceLock};

use rayon::ThreadBuilder;
use wasm_bindgen::prelude::*;

/// Rayon threads waiting for a Web Worker to run them.
struct HandOff {
    sender: Mutex<Sender<ThreadBuilder>>,
    receiver: Mutex<Receiver<ThreadBuilder>>,
}

fn hand_off() -> &'static HandOff {
    static QUEUE: OnceLock<HandOff> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (sender, receiver) = channel();
        HandOff {
            sender: Mutex::new(sender),
            receiver: Mutex::new(receiver),
        }
    })
}

/// `[module, memory]`: what a pool worker instantiates this build with.
#[wasm_bindgen(js_name = threadPoolShares)]
pub fn thread_pool_shares() -> js_sys::Array {
    js_sys::Array::of2(&wasm_bindgen::module(), &wasm_bindgen::memory())
}

/// Runs in a pool worker: waits for one of the pool's threads, then runs it for good.
#[wasm_bindgen(js_name = runPoolThread)]
pub fn run_pool_thread() -> Result<(), JsValue> {
    let thread = {
        let receiver = hand_off()
            .receiver
            .lock()
            .map_err(|_| JsValue::from_str("the thread pool's queue is poisoned"))?;
        receiver
            .recv()
            .map_err(|_| JsValue::from_str("the thread pool was never built"))?
    };
    thread.run();
    Ok(())
}

/// Builds rayon's global pool of `count` threads, once the `count` workers run
/// [`run_pool_thread`], and makes it tract's default. Returns the pool's size.
#[wasm_bindgen(js_name = buildThreadPool)]
pub fn build_thread_pool(count: usize) -> Result<usize, JsValue> {
    super::run_static_constructors();
    rayon::ThreadPoolBuilder::new()
        .num_threads(count)
        .spawn_handler(|thread| {
            hand_off()
                .sender
                .lock()
                .map_err(|_| std::io::Error::other("the thread pool's queue is poisoned"))?
                .send(thread)
                .map_err(|_| std::io::Error::other("no worker is waiting for the pool's threads"))
        })
        .build_global()
        .map_err(|e| JsValue::from_str(&format!("could not build the thread pool: {e}")))?;
    // Every tract plan of this instance (FastSAM and CLIP) now computes on the pool.
    tract_linalg::multithread::set_default_executor(
        tract_linalg::multithread::Executor::RayonGlobal,
    );
    POOL_SIZE.store(count, Ordering::SeqCst);
    Ok(count)
}

/// Size of the pool [`build_thread_pool`] built; 0 before. (Asking rayon instead would make
/// it set up a one-thread global pool, and the real one could not be built any more.)
static POOL_SIZE: AtomicUsize = AtomicUsize::new(0);

/// Threads in this instance's pool (0 before `buildThreadPool`).
#[wasm_bindgen(js_name = threadPoolSize)]
pub fn thread_pool_size() -> usize {
    POOL_SIZE.load(Ordering::SeqCst)
}
