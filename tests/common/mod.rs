//! Shared helpers for the fixture tests: reading `tests/fixtures` (see `FORMAT.md`) and comparing
//! our results with the references.
#![allow(dead_code)]

pub mod gpu_check;
pub mod precision;

use std::path::{Path, PathBuf};

use fastsam_web::Mask;
use serde::Deserialize;

/// A mask drawn as rows of `#` (inside) and `.` (outside).
pub fn drawn_mask(rows: &[&str]) -> Mask {
    let bitmap: Vec<u8> = rows
        .iter()
        .flat_map(|r| r.bytes().map(|b| (b == b'#') as u8))
        .collect();
    Mask::from_bitmap(rows[0].len() as u32, rows.len() as u32, &bitmap)
}

/// A 12 x 6 mask: a 10 x 6 square with a 6 x 2 hole, and a lone pixel to its right.
pub fn square_with_hole() -> Mask {
    drawn_mask(&[
        "##########..",
        "##########..",
        "##......##..",
        "##......##.#",
        "##########..",
        "##########..",
    ])
}

/// `tests/fixtures` of the checkout the tests run in. Read at run time (cargo sets
/// `CARGO_MANIFEST_DIR` for the test process): a test binary reused from a build in another clone
/// that shares the target directory must read this checkout's fixtures, not that clone's.
pub fn fixtures() -> PathBuf {
    manifest_dir().join("tests/fixtures")
}

/// The crate root, at run time when cargo says it, else where the tests were compiled.
pub fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The settings of the reference cases (`FORMAT.md`): conf 0.4, IoU 0.9, the 32 best detections,
/// full-resolution masks.
pub fn reference_options() -> fastsam_web::SegmentOptions {
    fastsam_web::SegmentOptions {
        conf: 0.4,
        iou: 0.9,
        max_det: 32,
        mask_resolution: fastsam_web::MaskResolution::Full,
        ..fastsam_web::SegmentOptions::default()
    }
}

/// Reads a 1-D little-endian `.npy` array of float32.
pub fn read_npy_f32(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_npy_f32(&bytes)
}

/// Parses `.npy` bytes holding float32 or float16 values (any shape, C order) as f32.
pub fn parse_npy_f32(bytes: &[u8]) -> Vec<f32> {
    assert_eq!(&bytes[..6], b"\x93NUMPY", "not an npy file");
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        _ => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
    };
    let header = std::str::from_utf8(&bytes[start..start + header_len]).unwrap();
    assert!(header.contains("'fortran_order': False"), "{header}");
    let data = &bytes[start + header_len..];
    if header.contains("'<f2'") {
        return data
            .chunks_exact(2)
            .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
            .collect();
    }
    assert!(
        header.contains("'<f4'"),
        "expected little-endian float32 or float16: {header}"
    );
    data.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// IEEE half to single precision (exact).
fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = ((h >> 10) & 0x1f) as i32;
    let fraction = (h & 0x3ff) as f32;
    sign * match exponent {
        0 => fraction * 2f32.powi(-24),
        31 if fraction == 0.0 => f32::INFINITY,
        31 => f32::NAN,
        e => (1.0 + fraction / 1024.0) * 2f32.powi(e - 15),
    }
}

/// Decodes an 8-bit RGB or RGBA PNG into `(rgb, width, height)`.
pub fn read_png_rgb(path: &Path) -> (Vec<u8>, u32, u32) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    decode_png_rgb(std::io::BufReader::new(file))
}

/// Decodes PNG bytes into `(rgb, width, height)`.
pub fn decode_png_rgb(reader: impl std::io::BufRead + std::io::Seek) -> (Vec<u8>, u32, u32) {
    let decoder = png::Decoder::new(reader);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let rgb = match info.color_type {
        png::ColorType::Rgb => buf[..info.buffer_size()].to_vec(),
        png::ColorType::Rgba => buf[..info.buffer_size()]
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
        other => panic!("unsupported PNG colour type {other:?}"),
    };
    (rgb, info.width, info.height)
}

#[derive(Debug, Deserialize)]
pub struct Rle {
    pub size: [u32; 2],
    pub counts: Vec<u32>,
}

impl Rle {
    pub fn to_mask(&self) -> Mask {
        Mask::from_coco_rle(self.size[1], self.size[0], &self.counts).expect("valid RLE")
    }
}

#[derive(Debug, Deserialize)]
pub struct LetterboxRef {
    pub new_width: u32,
    pub new_height: u32,
    pub left: u32,
    pub top: u32,
    pub sha256: String,
}

#[derive(Debug, Deserialize)]
pub struct RawRef {
    pub output0_shape: Vec<usize>,
    pub output1_shape: Vec<usize>,
    pub output0_stride: usize,
    pub output1_stride: usize,
}

#[derive(Debug, Deserialize)]
pub struct LowRes {
    pub width: u32,
    pub height: u32,
    pub masks: Vec<Rle>,
}

#[derive(Debug, Deserialize)]
pub struct Detections {
    pub boxes: Vec<[f32; 4]>,
    pub scores: Vec<f32>,
    pub masks: Vec<Rle>,
    pub lowres: Option<LowRes>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum PromptRef {
    Everything {
        official: Vec<usize>,
    },
    Points {
        points: Vec<[f64; 2]>,
        labels: Vec<i32>,
        official: Rle,
        ultralytics: Vec<usize>,
    },
    Boxes {
        boxes: Vec<[f64; 4]>,
        official: Vec<usize>,
        ultralytics: Vec<usize>,
    },
}

#[derive(Debug, Deserialize)]
pub struct Case {
    pub model: String,
    pub image: String,
    pub input_size: u32,
    pub image_width: u32,
    pub image_height: u32,
    pub letterbox: LetterboxRef,
    pub raw: Option<RawRef>,
    pub conf: f32,
    pub iou: f64,
    pub max_det: usize,
    pub official: Detections,
    pub ultralytics: Detections,
    pub prompts: Vec<PromptRef>,
}

/// A reference case and the folder its relative paths start from.
pub struct LoadedCase {
    pub name: String,
    pub dir: PathBuf,
    pub case: Case,
}

impl LoadedCase {
    pub fn path(&self, relative: &str) -> PathBuf {
        let p = Path::new(relative);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.dir.join(p)
        }
    }
}

/// Every `*.json` case in `dir/reference` (or `dir` itself), sorted by name. Relative paths in a
/// case resolve against `root`.
pub fn load_cases(reference_dir: &Path, root: &Path) -> Vec<LoadedCase> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(reference_dir)
        .unwrap_or_else(|e| panic!("{}: {e}", reference_dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|p| LoadedCase {
            name: p.file_stem().unwrap().to_string_lossy().into_owned(),
            case: serde_json::from_slice(&std::fs::read(&p).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", p.display())),
            dir: root.to_path_buf(),
        })
        .collect()
}

/// Box IoU of two `[x1, y1, x2, y2]` boxes (1 for two identical empty boxes).
pub fn box_iou(a: &[f32; 4], b: &[f32; 4]) -> f64 {
    let (a, b) = (a.map(|v| v as f64), b.map(|v| v as f64));
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = iw * ih;
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    if union <= 0.0 {
        if a == b { 1.0 } else { 0.0 }
    } else {
        inter / union
    }
}

/// For every reference detection, the index of our detection that matches it: score within
/// `score_tol` and the best box IoU among those. Returns `(matches, worst_box_iou)`.
pub fn match_detections(
    ours: &[([f32; 4], f32)],
    theirs: &[([f32; 4], f32)],
    score_tol: f32,
) -> (Vec<Option<usize>>, f64) {
    let mut used = vec![false; ours.len()];
    let mut worst = 1.0f64;
    let matches = theirs
        .iter()
        .map(|(tb, ts)| {
            let best = ours
                .iter()
                .enumerate()
                .filter(|(i, (_, s))| !used[*i] && (s - ts).abs() <= score_tol)
                .map(|(i, (b, _))| (i, box_iou(b, tb)))
                .max_by(|a, b| a.1.total_cmp(&b.1));
            match best {
                Some((i, iou)) => {
                    used[i] = true;
                    worst = worst.min(iou);
                    Some(i)
                }
                None => {
                    worst = 0.0;
                    None
                }
            }
        })
        .collect();
    (matches, worst)
}

/// Checks an "everything" order (reference indices, largest area first) against the reference
/// order. Both must hold every detection once; where they differ, the swapped masks must have
/// reference areas within `slack` pixels, the largest area disagreement between our masks and the
/// reference masks (the order is by area, so pixel-level mask differences can swap near ties).
pub fn check_area_order(
    ours: &[usize],
    want: &[usize],
    ref_areas: &[u64],
    slack: u64,
) -> Result<(), String> {
    let (mut a, mut b) = (ours.to_vec(), want.to_vec());
    a.sort_unstable();
    b.sort_unstable();
    if a != b {
        return Err("the everything prompt must return every detection once".into());
    }
    for (k, (&o, &w)) in ours.iter().zip(want).enumerate() {
        let gap = ref_areas[o].abs_diff(ref_areas[w]);
        if gap > slack {
            return Err(format!(
                "position {k}: detection {o} (area {}) where the reference has {w} (area {}), more than {slack} px apart",
                ref_areas[o], ref_areas[w]
            ));
        }
    }
    Ok(())
}

/// Largest absolute difference between two equally long slices.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Median and min in milliseconds of `runs` timed calls of `f` after `warmup` untimed ones.
pub fn time_ms<T>(warmup: usize, runs: usize, mut f: impl FnMut() -> T) -> (f64, f64) {
    for _ in 0..warmup {
        std::hint::black_box(f());
    }
    let mut samples: Vec<std::time::Duration> = (0..runs.max(1))
        .map(|_| {
            let t = std::time::Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect();
    samples.sort();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    (ms(samples[samples.len() / 2]), ms(samples[0]))
}
