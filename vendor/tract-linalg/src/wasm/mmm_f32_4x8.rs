//! WASM SIMD f32 4x8 kernel: 4 rows x 8 columns, 8 v128 accumulators. Added by fastsam-web's
//! vendored copy (see vendor/README.md in that repository).
//!
//! V8 compiles wasm SIMD on x86-64 to the 16 xmm registers and keeps a few as scratch.
//! `wasm_f32_8x8`'s 16 accumulators, its 2 B vectors and the A broadcasts do not fit there, and
//! the spills add memory traffic to every k-step. This tile's 8 accumulators, 2 B vectors and one
//! broadcast do fit: on a YOLOv8 network in Chromium on x86-64 it runs the whole model 1.2-1.4x
//! faster than 8x8 (6x8 and 5x8 spill again; 3x8 and a shuffle-broadcast 4x8 are a little
//! slower). On targets with 32 vector registers (arm64) 8x8 keeps its edge, so the tile is
//! chosen per engine: see [`super::set_gemm_tile`]. A is broadcast with `v128.load32_splat`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use crate::Scaler;
use crate::mmm::FusedKerSpec;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
unsafe fn kernel_f32_4x8(mut pnl: *const FusedKerSpec<f32>) -> isize {
    use std::arch::wasm32::*;
    /// Rows; `acc[2 * r]` holds columns 0-3 of row `r`, `acc[2 * r + 1]` its columns 4-7.
    const MR: usize = 4;

    unsafe {
        let mut acc = [f32x4_splat(0.0); 2 * MR];
        // `$e` (of the splatted scalar `$x` and the accumulator `$v`) on every accumulator.
        macro_rules! each {
            ($s:expr, |$x:ident, $v:ident| $e:expr) => {{
                let $x = $s;
                for $v in acc.iter_mut() {
                    *$v = $e;
                }
            }};
        }
        // `$e` with one value per row, splatted.
        macro_rules! per_row {
            ($rows:expr, |$x:ident, $v:ident| $e:expr) => {{
                for r in 0..MR {
                    let $x = f32x4_splat(*$rows.add(r));
                    for j in 0..2 {
                        let $v = acc[2 * r + j];
                        acc[2 * r + j] = $e;
                    }
                }
            }};
        }
        // `$e` with the 8 column values as two v128.
        macro_rules! per_col {
            ($cols:expr, |$x:ident, $v:ident| $e:expr) => {{
                let p = $cols as *const v128;
                let halves = [v128_load(p), v128_load(p.add(1))];
                for r in 0..MR {
                    for j in 0..2 {
                        let $x = halves[j];
                        let $v = acc[2 * r + j];
                        acc[2 * r + j] = $e;
                    }
                }
            }};
        }

        while !pnl.is_null() {
            match *pnl {
                FusedKerSpec::Done => break,
                FusedKerSpec::Clear => acc = [f32x4_splat(0.0); 2 * MR],
                FusedKerSpec::LoadTile(_cols, rows) => {
                    let p = rows as *const v128;
                    for (i, v) in acc.iter_mut().enumerate() {
                        *v = v128_load(p.add(i));
                    }
                }
                FusedKerSpec::ScalarMin(a) => each!(f32x4_splat(a), |s, v| f32x4_min(s, *v)),
                FusedKerSpec::ScalarMax(a) => each!(f32x4_splat(a), |s, v| f32x4_max(s, *v)),
                FusedKerSpec::ScalarAdd(a) => each!(f32x4_splat(a), |s, v| f32x4_add(s, *v)),
                FusedKerSpec::ScalarMul(a) => each!(f32x4_splat(a), |s, v| f32x4_mul(s, *v)),
                FusedKerSpec::ScalarSub(a) => each!(f32x4_splat(a), |s, v| f32x4_sub(s, *v)),
                FusedKerSpec::ScalarSubF(a) => each!(f32x4_splat(a), |s, v| f32x4_sub(*v, s)),
                FusedKerSpec::LeakyRelu(a) => each!(f32x4_splat(a), |s, v| {
                    let positive = f32x4_gt(*v, f32x4_splat(0.0));
                    v128_bitselect(*v, f32x4_mul(s, *v), positive)
                }),
                FusedKerSpec::PerRowMin(rows) => per_row!(rows, |s, v| f32x4_min(s, v)),
                FusedKerSpec::PerRowMax(rows) => per_row!(rows, |s, v| f32x4_max(s, v)),
                FusedKerSpec::PerRowAdd(rows) => per_row!(rows, |s, v| f32x4_add(s, v)),
                FusedKerSpec::PerRowMul(rows) => per_row!(rows, |s, v| f32x4_mul(s, v)),
                FusedKerSpec::PerRowSub(rows) => per_row!(rows, |s, v| f32x4_sub(s, v)),
                FusedKerSpec::PerRowSubF(rows) => per_row!(rows, |s, v| f32x4_sub(v, s)),
                FusedKerSpec::PerColMin(cols) => per_col!(cols, |c, v| f32x4_min(c, v)),
                FusedKerSpec::PerColMax(cols) => per_col!(cols, |c, v| f32x4_max(c, v)),
                FusedKerSpec::PerColAdd(cols) => per_col!(cols, |c, v| f32x4_add(c, v)),
                FusedKerSpec::PerColMul(cols) => per_col!(cols, |c, v| f32x4_mul(c, v)),
                FusedKerSpec::PerColSub(cols) => per_col!(cols, |c, v| f32x4_sub(c, v)),
                FusedKerSpec::PerColSubF(cols) => per_col!(cols, |c, v| f32x4_sub(v, c)),
                FusedKerSpec::QScale(shift, rp, mult) => {
                    let scale = Scaler::from_fuse_params(shift, rp, mult).scale;
                    each!(f32x4_splat(scale), |s, v| f32x4_mul(s, *v))
                }
                FusedKerSpec::RoundingShiftRight(shift, _rp) => {
                    each!(f32x4_splat(2f32.powi(-(shift as i32))), |s, v| f32x4_mul(s, *v))
                }
                FusedKerSpec::ShiftLeft(shift) => {
                    each!(f32x4_splat(2f32.powi(shift as i32)), |s, v| f32x4_mul(s, *v))
                }
                FusedKerSpec::AddRowColProducts(rows, cols) => {
                    let p = cols as *const v128;
                    let (lo, hi) = (v128_load(p), v128_load(p.add(1)));
                    for r in 0..MR {
                        let s = f32x4_splat(*rows.add(r));
                        acc[2 * r] = madd_f32x4!(acc[2 * r], s, lo);
                        acc[2 * r + 1] = madd_f32x4!(acc[2 * r + 1], s, hi);
                    }
                }
                FusedKerSpec::AddUnicast(tile) => {
                    let mut ptr: *const u8 = tile.ptr;
                    let cs = tile.col_byte_stride;
                    for r in 0..MR {
                        let at = |c: isize| *(ptr.offset(cs * c) as *const f32);
                        acc[2 * r] = f32x4_add(f32x4(at(0), at(1), at(2), at(3)), acc[2 * r]);
                        acc[2 * r + 1] =
                            f32x4_add(f32x4(at(4), at(5), at(6), at(7)), acc[2 * r + 1]);
                        ptr = ptr.add(tile.row_byte_stride as usize);
                    }
                }
                FusedKerSpec::Store(tile) => {
                    let mut ptr: *mut u8 = tile.ptr;
                    let cs = tile.col_byte_stride;
                    for r in 0..MR {
                        let (lo, hi) = (acc[2 * r], acc[2 * r + 1]);
                        *(ptr as *mut f32) = f32x4_extract_lane::<0>(lo);
                        *(ptr.offset(cs) as *mut f32) = f32x4_extract_lane::<1>(lo);
                        *(ptr.offset(cs * 2) as *mut f32) = f32x4_extract_lane::<2>(lo);
                        *(ptr.offset(cs * 3) as *mut f32) = f32x4_extract_lane::<3>(lo);
                        *(ptr.offset(cs * 4) as *mut f32) = f32x4_extract_lane::<0>(hi);
                        *(ptr.offset(cs * 5) as *mut f32) = f32x4_extract_lane::<1>(hi);
                        *(ptr.offset(cs * 6) as *mut f32) = f32x4_extract_lane::<2>(hi);
                        *(ptr.offset(cs * 7) as *mut f32) = f32x4_extract_lane::<3>(hi);
                        ptr = ptr.add(tile.row_byte_stride as usize);
                    }
                }
                FusedKerSpec::AddMatMul { k, pa, pb, packing: _ } => {
                    // A: packed [k][4], one v128.load32_splat per row and k-step.
                    // B: packed [k][8], two v128 per k-step.
                    let a = pa as *const f32;
                    let b = pb as *const v128;
                    for i in 0..k {
                        let (lo, hi) = (v128_load(b.add(2 * i)), v128_load(b.add(2 * i + 1)));
                        let ai = a.add(MR * i);
                        for r in 0..MR {
                            let s = v128_load32_splat(ai.add(r) as *const u32);
                            acc[2 * r] = madd_f32x4!(acc[2 * r], s, lo);
                            acc[2 * r + 1] = madd_f32x4!(acc[2 * r + 1], s, hi);
                        }
                    }
                }
            }
            pnl = pnl.add(1);
        }
        0
    }
}

bail_stub!(wasm32; unsafe fn kernel_f32_4x8(*const FusedKerSpec<f32>) -> isize);

MMMRustKernel!(wasm32; kernel_f32_4x8 => wasm_f32_4x8<f32>(4,8)@(16,16));
