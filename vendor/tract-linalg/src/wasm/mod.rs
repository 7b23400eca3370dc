//! The wasm kernel tree, behind `simd128` and — for the activations — `relaxed-simd`.
//!
//! Running its tests needs `wasmtime` and the wasi target:
//!
//! ```text
//! RUSTFLAGS='-C target-feature=+simd128,+relaxed-simd' \
//! CARGO_TARGET_WASM32_WASIP1_RUNNER=wasmtime \
//! cargo test --target wasm32-wasip1 -p tract-linalg
//! ```
use crate::DatumType;

#[macro_use]
mod madd;
#[macro_use]
mod fuse;

mod act;
mod act_f32;
mod by_scalar;
mod depthwise;
#[cfg(all(test, target_arch = "wasm32", target_feature = "simd128"))]
mod dispatch_tests;
mod exp;
mod ln;
mod mmm_f32_gemm;
mod mmm_f32_gemv;
mod mmm_f32_4x8;
mod mmm_i32;
mod reduce;
mod softmax_rows;

pub use act::*;
pub use act_f32::*;
pub use by_scalar::*;
pub use depthwise::*;
pub use exp::*;
pub use ln::*;
pub use mmm_f32_gemm::*;
pub use mmm_f32_gemv::*;
pub use mmm_f32_4x8::*;
pub use mmm_i32::*;
pub use softmax_rows::*;

/// Every kernel this tier names must be one written for wasm: its answer is held to the suitable
/// list, and a generic kernel counts as no opinion, leaving the N>1 rule to pick max(nr*mr) among
/// the surviving GEMV kernels — i.e. wasm_f32_32x1, a matrix-vector kernel, for every GEMM.
fn preferred(
    _isa: &crate::isa::IsaSet,
    dt: DatumType,
    query: &crate::mmm::Query,
    _suitable: &[crate::mmm::Suitable],
) -> Option<&'static str> {
    match (dt, query.n) {
        // int8 -> i32 matmul: SIMD kernel (the generic scalar is the tier below).
        (DatumType::I32, Some(1)) => None,
        (DatumType::I32, _) => Some(wasm_i32_4x4.name.as_str()),
        // GEMV routes by M-band to the kernel whose MR fits. Bands derived from
        // benches/wasm.rs: at each edge, using the next-larger kernel beats halving outer
        // iterations of the smaller one (1 outer with ILP-absorbed padding > 2 outer with the
        // kernel preamble doubled). M=4/8/16 are exact tile fits at the lower edges; M=17/9/5
        // are the first values where the next-larger kernel wins.
        (DatumType::F32, Some(1)) => Some(match query.m.unwrap_or(0) {
            0..=4 => &wasm_f32_4x1.name,
            5..=8 => &wasm_f32_8x1.name,
            9..=16 => &wasm_f32_16x1.name,
            _ => &wasm_f32_32x1.name,
        }),
        // GEMM: one tile at every N, the one `set_gemm_tile` chose (4x8 unless told). With A
        // broadcast from two v128 loads 8x8 outruns 4x16 even where N fills 4x16's 16-wide tile,
        // and neither 8-wide tile wastes columns at N=8 or N=24.
        (DatumType::F32, _) => Some(match gemm_tile() {
            GemmTile::Rows4 => wasm_f32_4x8.name.as_str(),
            GemmTile::Rows8 => wasm_f32_8x8.name.as_str(),
        }),
        _ => None,
    }
}

/// The f32 GEMM tile: both are 8 columns wide, and which is faster depends on the engine's
/// register file, which a wasm module cannot query. `wasm_f32_8x8` (16 accumulators) suits
/// engines with 32 vector registers (arm64); `wasm_f32_4x8` (8 accumulators) those with 16
/// (x86-64), where 8x8 spills. Callers that can time code (a browser's `performance.now()`) can
/// measure both once with [`gemm_tile_kernels`] and call [`set_gemm_tile`] before building plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GemmTile {
    /// `wasm_f32_4x8`, the default.
    Rows4,
    /// `wasm_f32_8x8`.
    Rows8,
}

static GEMM_TILE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// The GEMM tile plans built from now on use.
pub fn set_gemm_tile(tile: GemmTile) {
    GEMM_TILE.store(tile as u8, std::sync::atomic::Ordering::Relaxed);
}

/// The GEMM tile in use.
pub fn gemm_tile() -> GemmTile {
    match GEMM_TILE.load(std::sync::atomic::Ordering::Relaxed) {
        1 => GemmTile::Rows8,
        _ => GemmTile::Rows4,
    }
}

/// A GEMM tile's kernel entry point, to time it: runs a `FusedKerSpec` list on one tile.
pub type GemmTileKernel = fn(&[crate::mmm::FusedKerSpec<f32>]) -> isize;

/// Each tile with its rows (`mr`; both have 8 columns) and kernel.
pub fn gemm_tile_kernels() -> [(GemmTile, usize, GemmTileKernel); 2] {
    use crate::mmm::MatMatMulKer;
    [
        (GemmTile::Rows4, wasm_f32_4x8.mr(), |ops| wasm_f32_4x8.kernel(ops)),
        (GemmTile::Rows8, wasm_f32_8x8.mr(), |ops| wasm_f32_8x8.kernel(ops)),
    ]
}

inventory::submit! {
    crate::mmm_tiers::MmmTier {
        arch: Some(crate::isa::Arch::Wasm32Simd128),
        precedence: 1,
        name: "wasm-simd128",
        applies: |_| true,
        preferred,
    }
}

/// What this build offers, in the shared vocabulary. Unlike the other trees this is a build
/// question rather than a probe: wasm features are enabled at compile time and a module cannot
/// ask the engine what it got.
pub fn isa_set() -> crate::isa::IsaSet {
    use crate::isa::{Isa, IsaSet};
    let mut set = IsaSet::of_arch(crate::isa::Arch::Wasm32Simd128).with(Isa::Wasm32Simd128);
    // The depthwise, by-scalar and row softmax kernels are reached only through their registry
    // entries, and wasm-ld drops an object nothing references, entries included; every registry
    // query passes through here.
    #[cfg(target_feature = "simd128")]
    std::hint::black_box((
        depthwise::depthwise_w_f32 as *const (),
        depthwise::depthwise_c_f32 as *const (),
        <wasm_max_by_scalar_f32_16n as crate::frame::element_wise::ElementWiseKer<f32, f32>>::run
            as *const (),
        <wasm_min_by_scalar_f32_16n as crate::frame::element_wise::ElementWiseKer<f32, f32>>::run
            as *const (),
        softmax_rows::softmax_rows_f32 as *const (),
    ));
    if cfg!(target_feature = "relaxed-simd") {
        set = set.with(Isa::Wasm32RelaxedSimd);
    }
    set
}
