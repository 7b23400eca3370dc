//! The text prompt through the JS API in headless Chromium: `loadTextEncoder` + `Segmentation.text`
//! on the CPU (tract) and on WebGPU (Burn, SwiftShader here), against the selection computed in
//! Python (`tests/fixtures/clip/text_selection.json`), and its errors.

use super::*;

const CLIP_IMAGE: &[u8] = include_bytes!("../fixtures/clip/tiny-clip-image.onnx");
const CLIP_TEXT: &[u8] = include_bytes!("../fixtures/clip/tiny-clip-text.onnx");
const CLIP_VOCAB: &[u8] = include_bytes!("../fixtures/clip/clip-bpe.txt.gz");
/// The same encoders with float16 and with 8-bit weights (`tools/clip_export.py --dtype`).
const CLIP_LOWER_PRECISION: [(&str, &[u8], &[u8]); 2] = [
    (
        "fp16",
        include_bytes!("../fixtures/clip/tiny-clip-image-fp16.onnx"),
        include_bytes!("../fixtures/clip/tiny-clip-text-fp16.onnx"),
    ),
    (
        "q8",
        include_bytes!("../fixtures/clip/tiny-clip-image-q8.onnx"),
        include_bytes!("../fixtures/clip/tiny-clip-text-q8.onnx"),
    ),
];
const SELECTION_JSON: &str = include_str!("../fixtures/clip/text_selection.json");

/// Cosine bound after the whole chain (see tests/clip_text.rs).
const COSINE_TOL: f32 = 1e-4;

#[derive(Deserialize)]
struct SelectionRef {
    images: Vec<ImageCase>,
}

#[derive(Deserialize)]
struct ImageCase {
    image: String,
    sentences: Vec<SentenceRef>,
}

#[derive(Deserialize)]
struct SentenceRef {
    sentence: String,
    cosine: Vec<f32>,
    best: usize,
    threshold: f32,
    all: Vec<usize>,
}

#[derive(Deserialize)]
struct Score {
    index: usize,
    cosine: f32,
}

/// The `images/shapes_wide.png` case (the image `web.rs` segments).
fn wide_case() -> ImageCase {
    let r: SelectionRef = serde_json::from_str(SELECTION_JSON).unwrap();
    r.images
        .into_iter()
        .find(|c| c.image == "images/shapes_wide.png")
        .unwrap()
}

fn clip_files(image: &[u8]) -> JsValue {
    clip_files_of(image, CLIP_TEXT)
}

fn clip_files_of(image: &[u8], text: &[u8]) -> JsValue {
    let files = Object::new();
    Reflect::set(&files, &"image".into(), &Uint8Array::from(image).into()).unwrap();
    Reflect::set(&files, &"text".into(), &Uint8Array::from(text).into()).unwrap();
    Reflect::set(
        &files,
        &"vocab".into(),
        &Uint8Array::from(CLIP_VOCAB).into(),
    )
    .unwrap();
    files.into()
}

async fn text(
    seg: &SegmentationJs,
    prompt: JsValue,
    options: Option<Object>,
) -> Result<Vec<MaskJs>, JsValue> {
    let value = JsFuture::from(seg.text(prompt, options)).await?;
    Ok(Array::from(&value)
        .iter()
        .map(|m| MaskJs::try_from_js_value(m).expect("a Mask"))
        .collect())
}

/// Loads the text encoder on `backend` and checks every sentence of the fixture.
async fn check_text_prompt(backend: &str) {
    let case = wide_case();
    let model = load(MODEL).await.unwrap();
    let options = object(&format!(r#"{{"backend": "{backend}"}}"#));
    model
        .load_text_encoder(clip_files(CLIP_IMAGE), Some(options))
        .await
        .unwrap();
    assert_eq!(model.text_backend().as_deref(), Some(backend));
    let seg = segment(&model, fixture_image()).await.unwrap();

    // One sentence at a time: its best mask, then every mask above its threshold.
    for s in &case.sentences {
        let best = text(&seg, s.sentence.clone().into(), None).await.unwrap();
        let got: Vec<u32> = best.iter().map(|m| m.index().unwrap()).collect();
        assert_eq!(got, vec![s.best as u32], "{backend} {:?}", s.sentence);
        let options = object(&format!(r#"{{"threshold": {}}}"#, s.threshold));
        let all = text(&seg, s.sentence.clone().into(), Some(options))
            .await
            .unwrap();
        let got: Vec<usize> = all.iter().map(|m| m.index().unwrap() as usize).collect();
        assert_eq!(
            got, s.all,
            "{backend} {:?} above {}",
            s.sentence, s.threshold
        );
    }

    // All sentences at once: one best mask each, in order, and the scores behind them.
    let sentences: Vec<&str> = case.sentences.iter().map(|s| s.sentence.as_str()).collect();
    let masks = text(&seg, to_js(&sentences), None).await.unwrap();
    let got: Vec<usize> = masks.iter().map(|m| m.index().unwrap() as usize).collect();
    let want: Vec<usize> = case.sentences.iter().map(|s| s.best).collect();
    assert_eq!(got, want, "{backend}: batch of sentences");
    let scores = JsFuture::from(seg.text_scores(to_js(&sentences)))
        .await
        .unwrap();
    let scores: Vec<Vec<Score>> = serde_wasm_bindgen::from_value(scores).unwrap();
    let mut worst = 0f32;
    for (got, s) in scores.iter().zip(&case.sentences) {
        assert_eq!(got.len(), s.cosine.len());
        for (g, &want) in got.iter().zip(&s.cosine) {
            worst = worst.max((g.cosine - want).abs());
        }
        assert!(got.iter().all(|g| g.index < seg.length()));
    }
    web_sys::console::log_1(&format!("{backend}: text cosines max abs diff {worst:.2e}").into());
    assert!(worst <= COSINE_TOL, "{backend}: cosines differ by {worst}");
}

/// float16 and 8-bit encoders load on both backends, which compute in f32 and give the same
/// cosines for every mask and sentence.
#[wasm_bindgen_test]
async fn float16_and_q8_encoders_agree_on_both_backends() {
    let case = wide_case();
    let sentences: Vec<&str> = case.sentences.iter().map(|s| s.sentence.as_str()).collect();
    for (dtype, image, text_file) in CLIP_LOWER_PRECISION {
        let mut per_backend = Vec::new();
        for backend in ["cpu", "webgpu"] {
            let model = load(MODEL).await.unwrap();
            let options = object(&format!(r#"{{"backend": "{backend}"}}"#));
            model
                .load_text_encoder(clip_files_of(image, text_file), Some(options))
                .await
                .unwrap_or_else(|e| panic!("{dtype} on {backend}: {e:?}"));
            assert_eq!(model.text_backend().as_deref(), Some(backend));
            let seg = segment(&model, fixture_image()).await.unwrap();
            let scores = JsFuture::from(seg.text_scores(to_js(&sentences)))
                .await
                .unwrap();
            let mut scores: Vec<Vec<Score>> = serde_wasm_bindgen::from_value(scores).unwrap();
            for row in &mut scores {
                row.sort_by_key(|s| s.index);
            }
            per_backend.push(scores);
        }
        let (cpu, gpu) = (&per_backend[0], &per_backend[1]);
        assert_eq!(cpu.len(), sentences.len(), "{dtype}");
        let mut worst = 0f32;
        for (c, g) in cpu.iter().zip(gpu) {
            assert_eq!(c.len(), g.len(), "{dtype}");
            for (c, g) in c.iter().zip(g) {
                assert_eq!(c.index, g.index, "{dtype}");
                worst = worst.max((c.cosine - g.cosine).abs());
            }
        }
        web_sys::console::log_1(&format!("{dtype}: cpu vs webgpu cosines {worst:.2e}").into());
        assert!(worst <= COSINE_TOL, "{dtype}: cosines differ by {worst}");
    }
}

#[wasm_bindgen_test]
async fn text_prompt_on_the_cpu_picks_the_reference_masks() {
    check_text_prompt("cpu").await;
}

#[wasm_bindgen_test]
async fn text_prompt_on_webgpu_picks_the_reference_masks() {
    check_text_prompt("webgpu").await;
}

#[wasm_bindgen_test]
async fn text_prompt_errors_are_actionable_and_harmless() {
    let model = load(MODEL).await.unwrap();
    let seg = segment(&model, fixture_image()).await.unwrap();
    let e = text(&seg, "a dog".into(), None)
        .await
        .err()
        .expect("the prompt should reject");
    assert_error(e, "INVALID_PROMPT", "loadTextEncoder");

    // The FastSAM model where the CLIP image encoder belongs, and a missing file.
    let e = model
        .load_text_encoder(clip_files(MODEL), None)
        .await
        .unwrap_err();
    assert_error(e, "INVALID_MODEL", "CLIP image encoder");
    let files = Object::new();
    let e = model
        .load_text_encoder(files.into(), None)
        .await
        .unwrap_err();
    assert_error(e, "INVALID_MODEL", "files.image");
    assert_eq!(model.text_backend(), None);

    model
        .load_text_encoder(clip_files(CLIP_IMAGE), None)
        .await
        .unwrap();
    // A segmentation made before the encoder was loaded did not keep its image.
    let e = text(&seg, "a dog".into(), None)
        .await
        .err()
        .expect("the prompt should reject");
    assert_error(e, "INVALID_PROMPT", "segment the image again");
    let seg = segment(&model, fixture_image()).await.unwrap();
    let e = text(&seg, "".into(), None)
        .await
        .err()
        .expect("the prompt should reject");
    assert_error(e, "INVALID_PROMPT", "empty");
    let e = text(&seg, JsValue::from(3), None)
        .await
        .err()
        .expect("the prompt should reject");
    assert_error(e, "INVALID_PROMPT", "string");
    let e = text(&seg, "a dog".into(), Some(object(r#"{"threshold": 5}"#)))
        .await
        .err()
        .expect("the prompt should reject");
    assert_error(e, "INVALID_OPTION", "threshold");
    let e = text(&seg, "a dog".into(), Some(object(r#"{"limit": 5}"#)))
        .await
        .err()
        .expect("the prompt should reject");
    assert_error(e, "INVALID_OPTION", "limit");
    // Nothing above broke the model, the encoder or the segmentation.
    let masks = text(&seg, "a dog".into(), None).await.unwrap();
    assert_eq!(masks.len(), 1);
    assert_eq!(seg.everything().len(), seg.length());
}

#[wasm_bindgen_test]
async fn concurrent_text_prompts_agree_and_a_new_encoder_is_used() {
    let case = wide_case();
    let model = load(MODEL).await.unwrap();
    model
        .load_text_encoder(clip_files(CLIP_IMAGE), None)
        .await
        .unwrap();
    let seg = segment(&model, fixture_image()).await.unwrap();
    let s = &case.sentences[0];
    // Both calls start before either has embedded the regions.
    let a = JsFuture::from(seg.text(s.sentence.clone().into(), None));
    let b = JsFuture::from(seg.text_scores(s.sentence.clone().into()));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    let a = MaskJs::try_from_js_value(Array::from(&a).get(0)).unwrap();
    assert_eq!(a.index(), Some(s.best as u32));
    let b: Vec<Vec<Score>> = serde_wasm_bindgen::from_value(b).unwrap();
    assert_eq!(b[0].len(), s.cosine.len());
    // A second load replaces the encoder; the segmentation's cached regions are recomputed.
    model
        .load_text_encoder(clip_files(CLIP_IMAGE), None)
        .await
        .unwrap();
    let again = text(&seg, s.sentence.clone().into(), None).await.unwrap();
    assert_eq!(again[0].index(), Some(s.best as u32));
}
