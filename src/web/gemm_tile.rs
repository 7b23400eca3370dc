//! Picks tract's wasm matrix-product tile for this browser by timing both once.
//!
//! The vendored tract-linalg (vendor/README.md) has two f32 GEMM tiles: 4x8, fastest where the
//! engine has 16 vector registers (x86-64), and 8x8, fastest with 32 (arm64). A wasm module cannot
//! ask which machine it runs on, so the first model load times both kernels on the same work
//! (about 70 ms, most of it warm-up) and keeps the faster for every plan built afterwards.

use std::sync::OnceLock;

use tract_linalg::mmm::FusedKerSpec;
use tract_linalg::wasm::{GemmTile, GemmTileKernel, gemm_tile_kernels, set_gemm_tile};

use super::convert::now_ms;
use crate::error::{Error, Result};

/// Depth of the timed products.
const K: usize = 256;
/// Rows of A per timed round: the same multiply-adds for both tiles (about 2 ms).
const ROWS: usize = 4096;
/// Untimed work per kernel first. V8 runs new wasm code in its baseline compiler (Liftoff) and
/// moves hot functions to its optimising one in the background; timing the baseline code ranks
/// the tiles wrongly (it picked 8x8, 35 % slower on x86-64, in a benchmark run), so both kernels
/// run this long before any round counts.
const WARMUP_MS: f64 = 25.0;
/// At most this many warm-up rounds (a clock that does not advance must not stall a load).
const MAX_WARMUP_ROUNDS: usize = 40;
/// Timed rounds, alternating the kernels; each keeps its best.
const ROUNDS: usize = 5;
/// 8x8 must beat 4x8 by this factor to be chosen: where both are close, the default stays.
const MARGIN: f64 = 0.97;

/// The tile a model's tract plans are built with: the load option `gemmTile`, resolved.
#[derive(Debug, Clone, Copy)]
pub struct PlanTile(GemmTile);

impl PlanTile {
    /// `None` or `"auto"`: the tile timed fastest here (measured once per wasm instance; 4x8
    /// without a usable clock); `"4x8"` or `"8x8"`: that one (for comparisons, and for engines
    /// where the timing misjudges).
    pub fn resolve(request: Option<&str>) -> Result<Self> {
        match request {
            None | Some("auto") => Ok(Self(measured().unwrap_or(GemmTile::Rows4))),
            Some("4x8") => Ok(Self(GemmTile::Rows4)),
            Some("8x8") => Ok(Self(GemmTile::Rows8)),
            Some(other) => Err(Error::InvalidOption(format!(
                "gemmTile \"{other}\" is unknown; use \"auto\", \"4x8\" or \"8x8\""
            ))),
        }
    }

    /// `"4x8"` or `"8x8"`.
    pub fn name(self) -> &'static str {
        match self.0 {
            GemmTile::Rows4 => "4x8",
            GemmTile::Rows8 => "8x8",
        }
    }

    /// Runs `build` (which builds tract plans) with this tile in force. Plans read the tile when
    /// they are built, and nothing else runs in between, so models loaded with different tiles
    /// (or a GPU model falling back later) each get their own.
    pub fn build<R>(self, build: impl FnOnce() -> R) -> R {
        set_gemm_tile(self.0);
        build()
    }
}

/// The tile timed fastest in this instance (timed at the first call).
fn measured() -> Option<GemmTile> {
    static MEASURED: OnceLock<Option<GemmTile>> = OnceLock::new();
    *MEASURED.get_or_init(fastest)
}

/// The tile whose kernel did the same products in less time, `None` without a usable clock.
fn fastest() -> Option<GemmTile> {
    let a = vec![0.5f32; K * 8];
    let b = vec![0.25f32; K * 8];
    let ops = [
        FusedKerSpec::Clear,
        FusedKerSpec::AddMatMul {
            k: K,
            pa: a.as_ptr() as *const u8,
            pb: b.as_ptr() as *const u8,
            packing: 0,
        },
        FusedKerSpec::Done,
    ];
    let kernels = gemm_tile_kernels();
    let round = |&(_, mr, kernel): &(GemmTile, usize, GemmTileKernel)| {
        let start = now_ms();
        for _ in 0..ROWS / mr {
            std::hint::black_box(kernel(std::hint::black_box(&ops)));
        }
        now_ms() - start
    };
    let mut warm = [0f64; 2];
    for _ in 0..MAX_WARMUP_ROUNDS {
        if warm.iter().all(|&t| t >= WARMUP_MS) {
            break;
        }
        for (spent, kernel) in warm.iter_mut().zip(&kernels) {
            *spent += round(kernel);
        }
    }
    let mut best = [f64::INFINITY; 2];
    for _ in 0..ROUNDS {
        for (slot, kernel) in best.iter_mut().zip(&kernels) {
            *slot = slot.min(round(kernel));
        }
    }
    if !best.iter().all(|t| t.is_finite() && *t > 0.0) {
        return None;
    }
    debug_assert_eq!(kernels[1].0, GemmTile::Rows8);
    let pick = if best[1] < best[0] * MARGIN { 1 } else { 0 };
    Some(kernels[pick].0)
}
