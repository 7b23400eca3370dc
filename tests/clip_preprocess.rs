//! CLIP image preprocessing against Pillow / torchvision / open_clip references
//! (`tests/fixtures/clip/preprocess_cases.bin`, made by `tools/make_clip_preprocess_cases.py`,
//! whose docstring documents the layout): the bicubic resize and the 224 x 224 crop must be
//! bit-exact, the normalised floats within 1e-5 (they are bit-exact in practice).

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Instant;

use common::{fixtures, read_png_rgb};
use fastsam_web::Mask;
use fastsam_web::clip::preprocess::{
    clip_input, clip_pixels, mask_region, normalize, resize_bicubic,
};
use sha2::{Digest, Sha256};

const SIZE: usize = 224;
const FLOAT_TOLERANCE: f32 = 1e-5;

/// The reference u8 output of a case.
enum Expected {
    Raw(Vec<u8>),
    Sha256([u8; 32]),
    Nothing,
}

struct Case {
    kind: u8,
    w: u32,
    h: u32,
    dst: (u32, u32),
    input: Vec<u8>,
    /// How the input was given (for messages).
    source: String,
    expected: Expected,
    samples: Vec<(usize, f32)>,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let s = &self.bytes[self.at..self.at + n];
        self.at += n;
        s
    }
    fn u8(&mut self) -> u8 {
        self.take(1)[0]
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.take(2).try_into().unwrap())
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take(4).try_into().unwrap())
    }
    fn f32(&mut self) -> f32 {
        f32::from_le_bytes(self.take(4).try_into().unwrap())
    }
}

fn lowbias32(mut v: u32) -> u32 {
    v ^= v >> 16;
    v = v.wrapping_mul(0x7feb_352d);
    v ^= v >> 15;
    v = v.wrapping_mul(0x846c_a68b);
    v ^= v >> 16;
    v
}

/// The generated inputs of the fixture script (`generate` there).
fn generate(pattern: u8, seed: u32, w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(w as usize * h as usize * 3);
    let key = seed.wrapping_mul(0x9e37_79b9);
    for y in 0..h {
        for x in 0..w {
            for c in 0..3u32 {
                let i = (y.wrapping_mul(w).wrapping_add(x))
                    .wrapping_mul(3)
                    .wrapping_add(c);
                let noise = lowbias32(i ^ key);
                out.push(match pattern {
                    0 => (noise >> 24) as u8,
                    1 => {
                        let t = ((x * 7 + y * 3 + c * 50) >> 2) & 511;
                        let tri = if t < 256 { t } else { 511 - t } as i32;
                        (tri + (noise >> 28) as i32 - 8).clamp(0, 255) as u8
                    }
                    2 => {
                        let b = seed % 13 + 1;
                        if (x / b + y / b + c) % 2 == 1 { 255 } else { 0 }
                    }
                    3 => ((y * w + x + 85 * c) % 256) as u8,
                    other => panic!("unknown pattern {other}"),
                });
            }
        }
    }
    out
}

fn load_cases() -> Vec<Case> {
    // A wider sweep made by the script can replace the fixture (see the script's docstring).
    let path = std::env::var_os("CLIP_PREPROCESS_CASES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| fixtures().join("clip/preprocess_cases.bin"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut r = Reader {
        bytes: &bytes,
        at: 0,
    };
    assert_eq!(r.take(8), b"FSCLIPP1");
    let count = r.u32();
    let mut cases = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let kind = r.u8();
        let (w, h, dst_w, dst_h) = (r.u32(), r.u32(), r.u32(), r.u32());
        let (input, source) = match r.u8() {
            0 => (
                r.take(w as usize * h as usize * 3).to_vec(),
                "raw".to_string(),
            ),
            1 => {
                let (pattern, seed) = (r.u8(), r.u32());
                (
                    generate(pattern, seed, w, h),
                    format!("pattern {pattern} seed {seed}"),
                )
            }
            2 => {
                let len = r.u16() as usize;
                let name = std::str::from_utf8(r.take(len)).unwrap().to_string();
                let (rgb, pw, ph) = read_png_rgb(&fixtures().join(&name));
                assert_eq!((pw, ph), (w, h), "{name}");
                (rgb, name)
            }
            other => panic!("unknown input source {other}"),
        };
        let expected = match r.u8() {
            0 => Expected::Raw(r.take(dst_w as usize * dst_h as usize * 3).to_vec()),
            1 => Expected::Sha256(r.take(32).try_into().unwrap()),
            2 => Expected::Nothing,
            other => panic!("unknown output mode {other}"),
        };
        let n = r.u32();
        let samples = (0..n).map(|_| (r.u32() as usize, r.f32())).collect();
        cases.push(Case {
            kind,
            w,
            h,
            dst: (dst_w, dst_h),
            input,
            source,
            expected,
            samples,
        });
    }
    assert_eq!(r.at, bytes.len(), "trailing bytes");
    cases
}

impl Case {
    fn name(&self) -> String {
        format!(
            "kind {} {}x{} ({}) -> {}x{}",
            self.kind, self.w, self.h, self.source, self.dst.0, self.dst.1
        )
    }

    /// Asserts that `got` (the u8 result) is the reference.
    fn check_u8(&self, got: &[u8]) {
        match &self.expected {
            Expected::Raw(want) => {
                assert_eq!(got.len(), want.len(), "{}", self.name());
                let differ = got.iter().zip(want).filter(|(a, b)| a != b).count();
                let worst = got
                    .iter()
                    .zip(want)
                    .map(|(&a, &b)| (a as i32 - b as i32).abs())
                    .max()
                    .unwrap_or(0);
                assert_eq!(
                    differ,
                    0,
                    "{}: {differ} of {} bytes differ (max {worst})",
                    self.name(),
                    want.len()
                );
            }
            Expected::Sha256(want) => {
                let digest: [u8; 32] = Sha256::digest(got).into();
                assert_eq!(&digest, want, "{}: sha256 differs", self.name());
            }
            Expected::Nothing => {}
        }
    }

    /// Largest difference from the reference floats.
    fn float_error(&self, got: &[f32]) -> f32 {
        assert_eq!(got.len(), 3 * SIZE * SIZE, "{}", self.name());
        self.samples
            .iter()
            .map(|&(i, want)| (got[i] - want).abs())
            .fold(0.0, f32::max)
    }
}

#[test]
fn resize_is_bit_exact_with_pillow_bicubic() {
    let cases = load_cases();
    let resize: Vec<&Case> = cases.iter().filter(|c| c.kind == 0).collect();
    assert!(resize.len() >= 60, "{} resize cases", resize.len());
    for case in resize {
        let got = resize_bicubic(&case.input, case.w, case.h, case.dst.0, case.dst.1);
        case.check_u8(&got);
    }
}

#[test]
fn clip_preprocess_matches_open_clip() {
    let cases = load_cases();
    let mut worst = 0.0f32;
    let mut count = 0;
    for case in cases.iter().filter(|c| c.kind == 1) {
        let pixels = clip_pixels(&case.input, case.w, case.h).unwrap();
        case.check_u8(&pixels);
        let x = clip_input(&case.input, case.w, case.h).unwrap();
        assert_eq!(x, normalize(&pixels).unwrap());
        assert!(!case.samples.is_empty());
        let error = case.float_error(&x);
        assert!(error <= FLOAT_TOLERANCE, "{}: {error}", case.name());
        worst = worst.max(error);
        count += 1;
    }
    assert!(count >= 15, "{count} clip cases");
    println!("clip_input vs open_clip: {count} cases, max abs {worst:e}");
}

#[test]
fn normalisation_of_every_value_matches_torchvision() {
    let cases = load_cases();
    let case = cases.iter().find(|c| c.kind == 2).expect("normalize case");
    assert_eq!(case.samples.len(), 3 * 256);
    let x = normalize(&case.input).unwrap();
    let error = case.float_error(&x);
    assert!(error <= FLOAT_TOLERANCE, "{error}");
    println!("normalize vs torchvision, all 3 x 256 values: max abs {error:e}");
}

/// The fixture's region case: an ellipse mask over `images/shapes_small.png`, cropped by
/// numpy in the script; [`mask_region`] must give the same bytes.
#[test]
fn mask_region_matches_the_fixture_region() {
    const REGION: (u32, u32, u32, u32) = (20, 10, 130, 80); // x, y, w, h
    let (rgb, w, h) = read_png_rgb(&fixtures().join("images/shapes_small.png"));
    let (x0, y0, rw, rh) = REGION;
    let mut bitmap = vec![0u8; w as usize * h as usize];
    for y in 0..rh as i64 {
        for x in 0..rw as i64 {
            let outside = (x - 65).pow(2) * 40 * 40 + (y - 40).pow(2) * 65 * 65 > 65 * 65 * 40 * 40;
            if !outside {
                bitmap[(y as usize + y0 as usize) * w as usize + x as usize + x0 as usize] = 1;
            }
        }
    }
    let mask = Mask::from_bitmap(w, h, &bitmap);
    let (crop, cw, ch) = mask_region(&rgb, w, h, &mask).unwrap().unwrap();
    assert_eq!((cw, ch), (rw, rh));
    let cases = load_cases();
    let case = cases
        .iter()
        .find(|c| c.kind == 1 && c.source == "raw" && (c.w, c.h) == (rw, rh))
        .expect("region case");
    assert!(
        crop == case.input,
        "mask_region differs from the script's crop"
    );
    case.check_u8(&clip_pixels(&crop, cw, ch).unwrap());
}

#[test]
fn errors_are_values() {
    assert!(clip_input(&[], 0, 0).is_err());
    assert!(clip_input(&[0; 5], 1, 2).is_err());
    assert!(clip_pixels(&[0; 7], 1, 2).is_err());
    assert!(normalize(&[0; 224 * 224]).is_err());
    assert!(resize_bicubic(&[0; 5], 1, 2, 3, 3).is_empty());
    let mask = Mask::empty(2, 2);
    assert!(mask_region(&[0; 12], 2, 2, &mask).unwrap().is_none());
    assert!(mask_region(&[0; 12], 4, 1, &mask).is_err());
}

/// Timings (run with `--ignored --nocapture`, ideally `--release`).
#[test]
#[ignore]
fn timing() {
    let (w, h) = (1000, 800);
    let rgb = generate(1, 7, w, h);
    let runs = 20;
    let start = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(clip_input(&rgb, w, h).unwrap());
    }
    let per = start.elapsed().as_secs_f64() * 1e3 / runs as f64;
    println!("clip_input {w}x{h}: {per:.2} ms");

    let (w, h) = (2000u32, 1500u32);
    let image = generate(0, 9, w, h);
    // A large irregular mask: a disc of radius 700 with a hole, about 1.4 M pixels.
    let mut bitmap = vec![0u8; (w * h) as usize];
    for y in 0..h as i64 {
        for x in 0..w as i64 {
            let d = (x - 1000).pow(2) + (y - 750).pow(2);
            bitmap[(y * w as i64 + x) as usize] = (d < 700 * 700 && d > 200 * 200) as u8;
        }
    }
    let mask = Mask::from_bitmap(w, h, &bitmap);
    let start = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(mask_region(&image, w, h, &mask).unwrap());
    }
    let per = start.elapsed().as_secs_f64() * 1e3 / runs as f64;
    println!(
        "mask_region {w}x{h}, mask area {} in a 1400x1400 box: {per:.2} ms",
        mask.area()
    );
    let (crop, cw, ch) = mask_region(&image, w, h, &mask).unwrap().unwrap();
    let start = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(clip_input(&crop, cw, ch).unwrap());
    }
    let per = start.elapsed().as_secs_f64() * 1e3 / runs as f64;
    println!("clip_input of that {cw}x{ch} region: {per:.2} ms");
}
