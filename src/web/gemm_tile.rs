//! Picks tract's wasm matrix-product tile for this browser by timing both once.
//!
//! The vendored tract-linalg (vendor/README.md) has two f32 GEMM tiles: 4x8, fastest where the
//! engine has 16 vector registers (x86-64), and 8x8, fastest with 32 (arm64). A wasm module cannot
//! ask which machine it runs on, so the first model load times both kernels on the same work
//! (about 20 ms) and keeps the faster for every plan built afterwards.

use std::sync::Once;

use tract_linalg::mmm::FusedKerSpec;
use tract_linalg::wasm::{GemmTile, gemm_tile, gemm_tile_kernels, set_gemm_tile};

use super::convert::now_ms;

/// Depth of the timed products.
const K: usize = 256;
/// Rows of A timed per kernel call sequence: the same multiply-adds for both tiles.
const ROWS: usize = 4096;
/// Rounds; each kernel keeps its best.
const ROUNDS: usize = 3;

/// Chooses the tile once per wasm instance (later calls return at once).
pub fn choose_once() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if let Some(tile) = fastest() {
            set_gemm_tile(tile);
        }
    });
}

/// `"4x8"` or `"8x8"`: the tile plans are built with.
pub fn current() -> &'static str {
    match gemm_tile() {
        GemmTile::Rows4 => "4x8",
        GemmTile::Rows8 => "8x8",
    }
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
    let mut best = [f64::INFINITY; 2];
    for _ in 0..ROUNDS {
        for (slot, (_, mr, kernel)) in best.iter_mut().zip(&kernels) {
            let start = now_ms();
            for _ in 0..ROWS / mr {
                std::hint::black_box(kernel(std::hint::black_box(&ops)));
            }
            *slot = slot.min(now_ms() - start);
        }
    }
    if !best.iter().all(|t| t.is_finite() && *t > 0.0) {
        return None;
    }
    let pick = if best[0] <= best[1] { 0 } else { 1 };
    Some(kernels[pick].0)
}
