//! The text prompt end to end, natively: CLIP's encoders on tract and on the Burn port (flex)
//! against the PyTorch references of the tiny fixture, then FastSAM's segmentation of the fixture
//! images -> region crops -> CLIP -> the mask each sentence picks, against the selection computed
//! in Python by tools/make_clip_fixtures.py (`tests/fixtures/clip/text_selection.json`).

#![cfg(all(not(target_arch = "wasm32"), feature = "tract"))]

mod common;

use std::path::PathBuf;

use common::{fixtures, max_abs_diff, read_npy_f32, read_png_rgb};
use fastsam_web::clip::preprocess::mask_region;
use fastsam_web::clip::tract::TractClip;
use fastsam_web::clip::{Clip, ClipEngine, ClipTokenizer, TextOptions, regions};
use fastsam_web::{Error, FastSam, ImageView, PixelFormat, SegmentOptions, Segmentation};
use serde::Deserialize;

/// Bound on raw embedding values (absolute), as for the segmenter's raw outputs.
const EMBED_TOL: f32 = 1e-3;
/// Bound on the embeddings of the float16 encoders against the float32 reference (measured: 1.2e-3
/// image, 2.7e-3 text, on embeddings up to 2.6).
const FP16_EMBED_TOL: f32 = 1e-2;
/// The same for 8-bit weights (measured: 2.8e-2 image, 1.2e-2 text).
const Q8_EMBED_TOL: f32 = 0.1;
/// Bound on cosine similarities after the whole chain (crop, resize, encoders). The fixture keeps
/// every best mask at least 1.4e-2 ahead of the next and every threshold 3.2e-3 from any cosine.
const COSINE_TOL: f32 = 1e-4;

#[derive(Deserialize)]
struct EmbeddingRef {
    image: ImageRef,
    text: TextRef,
}

#[derive(Deserialize)]
struct ImageRef {
    pixels: String,
    image_embeds: String,
}

#[derive(Deserialize)]
struct TextRef {
    sentences: Vec<String>,
    tokens: Vec<Vec<i64>>,
    text_embeds: String,
}

#[derive(Deserialize)]
struct SelectionRef {
    segmentation_model: String,
    images: Vec<ImageCase>,
}

#[derive(Deserialize)]
struct ImageCase {
    image: String,
    conf: f32,
    iou: f64,
    max_det: usize,
    instances: usize,
    eligible: Vec<usize>,
    regions: Vec<RegionRef>,
    sentences: Vec<SentenceRef>,
}

#[derive(Deserialize)]
struct RegionRef {
    index: usize,
    area: u64,
    bbox: [u32; 4],
    crop_sum: u64,
}

#[derive(Deserialize)]
struct SentenceRef {
    sentence: String,
    tokens: Vec<i64>,
    cosine: Vec<f32>,
    softmax: Vec<f32>,
    best: usize,
    threshold: f32,
    all: Vec<usize>,
}

fn dir() -> PathBuf {
    fixtures().join("clip")
}

fn read(name: &str) -> Vec<u8> {
    let path = dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_slice(&read(name)).unwrap()
}

fn tract_engine() -> TractClip {
    TractClip::from_onnx(&read("tiny-clip-image.onnx"), &read("tiny-clip-text.onnx")).unwrap()
}

#[cfg(feature = "burn")]
fn burn_engine() -> fastsam_web::clip::burn::BurnClip {
    burn_engine_of("tiny-clip-image.onnx", "tiny-clip-text.onnx")
}

#[cfg(feature = "burn")]
fn burn_engine_of(image: &str, text: &str) -> fastsam_web::clip::burn::BurnClip {
    let (image, text) = (read(image), read(text));
    let (image, text) = (
        fastsam_web::onnx::decode(&image).unwrap(),
        fastsam_web::onnx::decode(&text).unwrap(),
    );
    let device = burn_tensor::Device::default();
    fastsam_web::clip::burn::BurnClip::from_protos(&image, &text, device, "burn-flex").unwrap()
}

/// The tiny CLIP on the CPU engine, as `Clip::from_onnx` loads it.
fn tiny_clip() -> Clip {
    Clip::from_onnx(
        &read("tiny-clip-image.onnx"),
        &read("tiny-clip-text.onnx"),
        &read("clip-bpe.txt.gz"),
    )
    .unwrap()
}

/// The FastSAM model the selection reference segmented with.
fn segmenter(r: &SelectionRef) -> FastSam {
    FastSam::from_onnx(&std::fs::read(fixtures().join(&r.segmentation_model)).unwrap()).unwrap()
}

fn tokenizer() -> ClipTokenizer {
    ClipTokenizer::from_bytes(&read("clip-bpe.txt.gz")).unwrap()
}

/// Raw embeddings of the reference inputs on `engine`, against PyTorch.
fn check_embeddings(engine: &dyn ClipEngine) {
    let r: EmbeddingRef = json("tiny-clip.json");
    let pixels = read_npy_f32(&dir().join(&r.image.pixels));
    let count = pixels.len() / (3 * 224 * 224);
    let got = engine.embed_images(&pixels, count).unwrap();
    let want = read_npy_f32(&dir().join(&r.image.image_embeds));
    let d = max_abs_diff(&got, &want);
    println!("{}: image embeddings max abs diff {d:.2e}", engine.name());
    assert!(
        d <= EMBED_TOL,
        "{}: image embeddings differ by {d}",
        engine.name()
    );

    let tokens: Vec<i64> = r.text.tokens.concat();
    let got = engine.embed_texts(&tokens, r.text.tokens.len()).unwrap();
    let want = read_npy_f32(&dir().join(&r.text.text_embeds));
    let d = max_abs_diff(&got, &want);
    println!("{}: text embeddings max abs diff {d:.2e}", engine.name());
    assert!(
        d <= EMBED_TOL,
        "{}: text embeddings differ by {d}",
        engine.name()
    );

    // The reference token ids are what our tokenizer writes.
    let tok = tokenizer();
    for (s, ids) in r.text.sentences.iter().zip(&r.text.tokens) {
        assert_eq!(&tok.tokenize(s), ids, "tokens of {s:?}");
    }
}

#[test]
fn tract_embeddings_match_pytorch() {
    check_embeddings(&tract_engine());
}

#[cfg(feature = "burn")]
#[test]
fn burn_embeddings_match_pytorch() {
    check_embeddings(&burn_engine());
}

/// float16 and 8-bit encoders (`tools/clip_export.py --dtype fp16 / q8`) load on both engines,
/// which compute in f32 and so agree with each other as closely as on the float32 files; against
/// the float32 reference the embeddings move by the rounding of the weights alone.
#[cfg(feature = "burn")]
#[test]
fn float16_and_q8_encoders_load_on_both_engines_alike() {
    for (dtype, bound) in [("fp16", FP16_EMBED_TOL), ("q8", Q8_EMBED_TOL)] {
        lower_precision_encoders(dtype, bound);
    }
}

#[cfg(feature = "burn")]
fn lower_precision_encoders(dtype: &str, bound: f32) {
    let (image, text) = (
        &format!("tiny-clip-image-{dtype}.onnx"),
        &format!("tiny-clip-text-{dtype}.onnx"),
    );
    let tract = TractClip::from_onnx(&read(image), &read(text)).unwrap();
    let burn = burn_engine_of(image, text);
    let r: EmbeddingRef = json("tiny-clip.json");
    let pixels = read_npy_f32(&dir().join(&r.image.pixels));
    let count = pixels.len() / (3 * 224 * 224);
    let tokens: Vec<i64> = r.text.tokens.concat();
    let rows = r.text.tokens.len();
    for (what, t, b, want) in [
        (
            "image",
            tract.embed_images(&pixels, count).unwrap(),
            burn.embed_images(&pixels, count).unwrap(),
            read_npy_f32(&dir().join(&r.image.image_embeds)),
        ),
        (
            "text",
            tract.embed_texts(&tokens, rows).unwrap(),
            burn.embed_texts(&tokens, rows).unwrap(),
            read_npy_f32(&dir().join(&r.text.text_embeds)),
        ),
    ] {
        let engines = max_abs_diff(&t, &b);
        let rounding = max_abs_diff(&t, &want);
        let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
        println!(
            "{dtype} {what} embeddings: tract vs burn {engines:.1e}, vs the fp32 reference {rounding:.1e} (values up to {scale:.2})"
        );
        assert!(
            engines <= EMBED_TOL,
            "{dtype} {what}: tract vs burn {engines}"
        );
        assert!(rounding <= bound, "{dtype} {what}: vs fp32 {rounding}");
    }
}

/// Segments one fixture image with the tiny FastSAM model as the reference did.
fn segment(case: &ImageCase, model: &FastSam) -> (Vec<u8>, u32, u32, Segmentation) {
    let (rgb, w, h) = read_png_rgb(&fixtures().join(&case.image));
    let view = ImageView::new(&rgb, w, h, PixelFormat::Rgb).unwrap();
    let options = SegmentOptions {
        conf: case.conf,
        iou: case.iou,
        max_det: case.max_det,
        ..SegmentOptions::default()
    };
    let seg = model.segment(&view, &options).unwrap();
    (rgb, w, h, seg)
}

/// The mask IoU bound of the parity tests (`tests/parity.rs`): an IoU of at least 0.99 allows the
/// areas of two masks to differ by at most 1% of the larger.
const MASK_AREA_REL: f64 = 0.01;

/// One region's mask and crop against the Python reference. The masks come from our segmentation
/// of the fixture, whose boundary pixels may flip between CPUs (tract's native kernels sum in
/// another order on AVX2 than on AVX-512): an identical mask must give the identical bounding box
/// and crop; a mask that differs stays within the parity mask bound, and what its crop does to
/// CLIP is bounded by the cosine tolerance and the exact selections checked after.
fn check_region(
    case: &ImageCase,
    region: &RegionRef,
    seg: &Segmentation,
    rgb: &[u8],
    w: u32,
    h: u32,
) {
    let what = format!("{} mask {}", case.image, region.index);
    let mask = &seg.instances()[region.index].mask;
    let (crop, cw, ch) = mask_region(rgb, w, h, mask).unwrap().unwrap();
    let [x1, y1, x2, y2] = region.bbox;
    if mask.area() == region.area {
        assert_eq!((cw, ch), (x2 - x1, y2 - y1), "{what}");
        let sum: u64 = crop.iter().map(|&v| v as u64).sum();
        assert_eq!(sum, region.crop_sum, "{what} crop");
    } else {
        let larger = mask.area().max(region.area) as f64;
        assert!(
            mask.area().abs_diff(region.area) as f64 <= MASK_AREA_REL * larger,
            "{what}: area {} against {}",
            mask.area(),
            region.area
        );
        assert!(
            cw.abs_diff(x2 - x1) <= 2 && ch.abs_diff(y2 - y1) <= 2,
            "{what}: crop {cw}x{ch} against {}x{}",
            x2 - x1,
            y2 - y1
        );
        println!("{what}: area {} against {}", mask.area(), region.area);
    }
}

/// The whole text prompt on `engine` against the Python selection.
fn check_selection(engine: Box<dyn ClipEngine>) {
    let r: SelectionRef = json("text_selection.json");
    let model = segmenter(&r);
    let name = engine.name();
    let clip = Clip::with_engine(tokenizer(), engine).unwrap();
    for case in &r.images {
        let (rgb, w, h, seg) = segment(case, &model);
        assert_eq!(seg.len(), case.instances, "{}: instances", case.image);
        assert_eq!(
            regions::eligible(&seg),
            case.eligible,
            "{}: eligible",
            case.image
        );
        for region in &case.regions {
            check_region(case, region, &seg, &rgb, w, h);
        }

        let view = ImageView::new(&rgb, w, h, PixelFormat::Rgb).unwrap();
        let regions = clip.embed_regions(&seg, &view).unwrap();
        assert_eq!(regions.instances(), &case.eligible[..]);
        let sentences: Vec<&str> = case.sentences.iter().map(|s| s.sentence.as_str()).collect();
        for s in &case.sentences {
            assert_eq!(
                clip.tokenizer().tokenize(&s.sentence),
                s.tokens,
                "{:?}",
                s.sentence
            );
        }
        let best = clip
            .select(&regions, &sentences, &TextOptions::default())
            .unwrap();
        let mut worst = 0f32;
        for (m, s) in best.iter().zip(&case.sentences) {
            let cos: Vec<f32> = m.scores.iter().map(|x| x.cosine).collect();
            let prob: Vec<f32> = m.scores.iter().map(|x| x.probability).collect();
            let d = max_abs_diff(&cos, &s.cosine);
            worst = worst.max(d);
            assert!(
                d <= COSINE_TOL,
                "{name} {:?}: cosines differ by {d}",
                s.sentence
            );
            let d = max_abs_diff(&prob, &s.softmax);
            assert!(
                d <= 1e-2,
                "{name} {:?}: probabilities differ by {d}",
                s.sentence
            );
            assert_eq!(
                m.selected,
                vec![s.best],
                "{name} {:?}: best mask",
                s.sentence
            );
            assert_eq!(m.best(), Some(s.best));

            let options = TextOptions {
                threshold: Some(s.threshold),
            };
            let all = clip.select(&regions, &[&s.sentence], &options).unwrap();
            assert_eq!(
                all[0].selected, s.all,
                "{name} {:?}: all above {}",
                s.sentence, s.threshold
            );
        }
        println!("{name} {}: cosines max abs diff {worst:.2e}", case.image);
    }
}

#[test]
fn tract_text_prompt_selects_the_reference_masks() {
    check_selection(Box::new(tract_engine()));
}

#[cfg(feature = "burn")]
#[test]
fn burn_text_prompt_selects_the_reference_masks() {
    check_selection(Box::new(burn_engine()));
}

#[test]
fn wrong_files_are_clear_errors() {
    let fastsam = std::fs::read(fixtures().join("models/tiny-640.onnx")).unwrap();
    let (image, text, vocab) = (
        read("tiny-clip-image.onnx"),
        read("tiny-clip-text.onnx"),
        read("clip-bpe.txt.gz"),
    );
    let message = |r: fastsam_web::Result<Clip>| match r {
        Err(Error::InvalidModel(m)) => m,
        other => panic!("expected InvalidModel, got {other:?}"),
    };
    let m = message(Clip::from_onnx(&fastsam, &text, &vocab));
    assert!(
        m.contains("CLIP image encoder") && m.contains("clip_export.py"),
        "{m}"
    );
    let m = message(Clip::from_onnx(&text, &image, &vocab));
    assert!(m.contains("CLIP image encoder"), "{m}");
    let m = message(Clip::from_onnx(&image, &text, b"not a vocabulary"));
    assert!(!m.is_empty());
    let m = message(Clip::from_onnx(&image, &[], &vocab));
    assert!(m.contains("empty"), "{m}");
}

#[test]
fn empty_prompts_and_foreign_images_are_errors() {
    let clip = tiny_clip();
    let r: SelectionRef = json("text_selection.json");
    let model = segmenter(&r);
    let (rgb, w, h, seg) = segment(&r.images[0], &model);
    let view = ImageView::new(&rgb, w, h, PixelFormat::Rgb).unwrap();
    let regions = clip.embed_regions(&seg, &view).unwrap();
    for bad in [&[][..], &["  "][..], &["a dog", ""][..]] {
        let e = clip
            .select(&regions, bad, &TextOptions::default())
            .unwrap_err();
        assert!(matches!(e, Error::InvalidPrompt(_)), "{bad:?}: {e}");
    }
    let e = clip
        .select(
            &regions,
            &["a dog"],
            &TextOptions {
                threshold: Some(2.0),
            },
        )
        .unwrap_err();
    assert!(matches!(e, Error::InvalidOption(_)), "{e}");
    // An image of another size than the segmented one.
    let small = vec![0u8; 10 * 10 * 3];
    let other = ImageView::new(&small, 10, 10, PixelFormat::Rgb).unwrap();
    let e = clip.embed_regions(&seg, &other).unwrap_err();
    assert!(e.message().contains("same image"), "{e}");
    // Nothing to score: a segmentation without instances selects nothing, without error.
    let empty = Segmentation::new(w, h, w, h, Vec::new());
    let none = clip.embed_regions(&empty, &view).unwrap();
    let m = clip
        .select(&none, &["a dog"], &TextOptions::default())
        .unwrap();
    assert!(m[0].selected.is_empty());
}

#[test]
fn low_resolution_masks_crop_from_the_resized_image() {
    use fastsam_web::MaskResolution;
    use fastsam_web::clip::preprocess::resize_bicubic;
    let clip = tiny_clip();
    let r: SelectionRef = json("text_selection.json");
    let model = segmenter(&r);
    let case = &r.images[0];
    let (rgb, w, h) = read_png_rgb(&fixtures().join(&case.image));
    let view = ImageView::new(&rgb, w, h, PixelFormat::Rgb).unwrap();
    let options = SegmentOptions {
        max_det: case.max_det,
        mask_resolution: MaskResolution::Low,
        ..SegmentOptions::default()
    };
    let seg = model.segment(&view, &options).unwrap();
    assert!(
        (seg.mask_width(), seg.mask_height()) != (w, h),
        "masks are low-resolution"
    );
    let framed = regions::rgb_in_mask_frame(&seg, &view).unwrap();
    let resized = resize_bicubic(&rgb, w, h, seg.mask_width(), seg.mask_height());
    assert_eq!(
        &framed[..],
        &resized[..],
        "the image is resized to the mask frame"
    );
    let embedded = clip.embed_regions(&seg, &view).unwrap();
    assert_eq!(embedded.instances(), &regions::eligible(&seg)[..]);
    assert!(!embedded.instances().is_empty());
    let m = clip
        .select(&embedded, &["a red circle"], &TextOptions::default())
        .unwrap();
    assert_eq!(m[0].selected.len(), 1);
}
