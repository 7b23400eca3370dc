//! How many threads tract's matrix products (and its large element-wise passes) run on.

use crate::error::{Error, Result};

#[cfg(feature = "threads")]
use tract_linalg::multithread::{Executor, multithread_tract_scope};

/// The thread setting of one tract engine: the caller's thread alone, or a rayon pool.
#[derive(Debug, Clone)]
pub struct Threads {
    count: usize,
    #[cfg(feature = "threads")]
    executor: Option<Executor>,
}

impl Default for Threads {
    fn default() -> Self {
        Self {
            count: 1,
            #[cfg(feature = "threads")]
            executor: None,
        }
    }
}

impl Threads {
    /// `count` threads: natively a new pool of that size; in the threaded wasm build the pool of
    /// Web Workers already started from JavaScript, whatever its size.
    pub fn new(count: usize) -> Result<Self> {
        match count {
            0 => Err(Error::InvalidOption(
                "threads must be at least 1 (1 runs on the calling thread)".into(),
            )),
            1 => Ok(Self::default()),
            _ => Self::pool(count),
        }
    }

    #[cfg(not(feature = "threads"))]
    fn pool(count: usize) -> Result<Self> {
        Err(Error::InvalidOption(format!(
            "threads: {count} needs a build with thread support (the crate's `threads` feature, or the package's threaded wasm build); use threads: 1"
        )))
    }

    #[cfg(all(feature = "threads", not(target_arch = "wasm32")))]
    fn pool(count: usize) -> Result<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(count)
            .thread_name(|i| format!("fastsam-tract-{i}"))
            .build()
            .map_err(|e| Error::InvalidOption(format!("could not start {count} threads: {e}")))?;
        Ok(Self {
            count,
            executor: Some(Executor::MultiThread(std::sync::Arc::new(pool))),
        })
    }

    /// Web Workers cannot be started from Rust: `count` is the size of rayon's global pool, which
    /// the caller built beforehand (`buildThreadPool` in src/web/threads.rs). That call also made
    /// the pool tract's default executor for every plan, so there is nothing to switch per run.
    #[cfg(all(feature = "threads", target_arch = "wasm32"))]
    fn pool(count: usize) -> Result<Self> {
        Ok(Self {
            count,
            executor: None,
        })
    }

    /// Number of threads that run the matrix products.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Runs `f` with tract's matrix products on these threads.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        #[cfg(feature = "threads")]
        if let Some(executor) = &self.executor {
            return multithread_tract_scope(executor.clone(), f);
        }
        f()
    }
}
