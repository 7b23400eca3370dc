//! The JavaScript API in headless Chromium (`bash scripts/test-browser.sh`, part of `npm test`):
//! the same fixtures as the native parity tests, driven through the exported `FastSam` /
//! `Segmentation` / `Mask` classes and JS values, including every error path.
#![cfg(target_arch = "wasm32")]

use fastsam_web::web::{FastSamJs, MaskJs, SegmentationJs};
use fastsam_web::{Mask, PolygonOptions, formats};
use js_sys::{Array, Object, Reflect, Uint8Array, Uint8ClampedArray};
use serde::Deserialize;
use wasm_bindgen::convert::TryFromJsValue;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[path = "web/gpu.rs"]
mod gpu;
#[path = "web/text.rs"]
mod text;

const MODEL: &[u8] = include_bytes!("fixtures/models/tiny-640.onnx");
const CLASSIFIER: &[u8] = include_bytes!("fixtures/models/classifier.onnx");
const IMAGE_PNG: &[u8] = include_bytes!("fixtures/images/shapes_wide.png");
const CASE_JSON: &str = include_str!("fixtures/reference/tiny-640__shapes_wide.json");

#[derive(Deserialize)]
struct Rle {
    size: [u32; 2],
    counts: Vec<u32>,
}

impl Rle {
    fn to_mask(&self) -> Mask {
        Mask::from_coco_rle(self.size[1], self.size[0], &self.counts).unwrap()
    }
}

#[derive(Deserialize)]
struct Detections {
    boxes: Vec<[f32; 4]>,
    scores: Vec<f32>,
    masks: Vec<Rle>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum PromptRef {
    Everything {},
    Points {
        points: Vec<[f64; 2]>,
        labels: Vec<i32>,
        official: Rle,
    },
    Boxes {
        boxes: Vec<[f64; 4]>,
        official: Vec<usize>,
    },
}

#[derive(Deserialize)]
struct Case {
    official: Detections,
    prompts: Vec<PromptRef>,
}

/// The fixture image as RGBA bytes (the layout of a canvas `ImageData`).
fn rgba_image() -> (Vec<u8>, u32, u32) {
    let decoder = png::Decoder::new(std::io::Cursor::new(IMAGE_PNG));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.buffer_size() / (info.width * info.height) as usize;
    let rgba = buf[..info.buffer_size()]
        .chunks_exact(channels)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    (rgba, info.width, info.height)
}

fn image_object(data: &JsValue, width: u32, height: u32) -> JsValue {
    let o = Object::new();
    Reflect::set(&o, &"data".into(), data).unwrap();
    Reflect::set(&o, &"width".into(), &width.into()).unwrap();
    Reflect::set(&o, &"height".into(), &height.into()).unwrap();
    o.into()
}

fn fixture_image() -> JsValue {
    let (rgba, w, h) = rgba_image();
    let data = Uint8ClampedArray::from(rgba.as_slice());
    image_object(&data.into(), w, h)
}

/// Loads on the CPU (tract); `gpu.rs` covers WebGPU and the automatic choice.
async fn load(bytes: &[u8]) -> Result<FastSamJs, JsValue> {
    load_on(bytes, "cpu").await
}

async fn load_on(bytes: &[u8], backend: &str) -> Result<FastSamJs, JsValue> {
    let options = object(&format!(r#"{{"backend": "{backend}"}}"#));
    FastSamJs::load(Uint8Array::from(bytes).into(), Some(options)).await
}

/// Segments with the reference cases' settings (they keep the 32 best detections).
async fn segment(model: &FastSamJs, image: JsValue) -> Result<SegmentationJs, JsValue> {
    let value = JsFuture::from(model.segment(image, Some(object(r#"{"maxDet": 32}"#)))).await?;
    Ok(SegmentationJs::try_from_js_value(value).expect("a Segmentation"))
}

/// Asserts `error` is a JS `Error` named `FastSamError` with `code`, whose message contains `needle`.
fn assert_error(error: JsValue, code: &str, needle: &str) {
    let e: js_sys::Error = error.dyn_into().expect("a JS Error object");
    assert_eq!(String::from(e.name()), "FastSamError");
    let got = Reflect::get(&e, &"code".into())
        .unwrap()
        .as_string()
        .unwrap();
    let message = String::from(e.message());
    assert_eq!(got, code, "{message}");
    assert!(message.contains(needle), "'{message}' lacks '{needle}'");
}

/// A plain JS object from JSON text (what callers pass as options).
fn object(json: &str) -> Object {
    js_sys::JSON::parse(json).unwrap().unchecked_into()
}

fn to_js<T: serde::Serialize>(v: &T) -> JsValue {
    serde_wasm_bindgen::to_value(v).unwrap()
}

fn mask_of(m: &MaskJs) -> Mask {
    Mask::from_bitmap(m.width(), m.height(), &m.data())
}

#[wasm_bindgen_test]
async fn segments_and_prompts_like_the_reference() {
    let case: Case = serde_json::from_str(CASE_JSON).unwrap();
    let model = load(MODEL).await.unwrap();
    assert_eq!(model.input_size(), 640);
    assert_eq!(model.backend(), "cpu");
    let seg = segment(&model, fixture_image()).await.unwrap();
    let reference = &case.official;
    assert_eq!(seg.length(), reference.boxes.len());
    assert!(seg.inference_ms() > 0.0);

    // Every instance: score, box and mask as in the reference (detection order is score order).
    for j in 0..seg.length() {
        let m = seg.mask(j).unwrap();
        let k = (0..reference.scores.len())
            .min_by(|&a, &b| {
                (reference.scores[a] - m.score())
                    .abs()
                    .total_cmp(&(reference.scores[b] - m.score()).abs())
            })
            .unwrap();
        assert!((reference.scores[k] - m.score()).abs() <= 1e-4);
        let iou = mask_of(&m).iou(&reference.masks[k].to_mask());
        assert!(iou >= 0.99, "mask {j}: IoU {iou}");
        assert_eq!(m.bbox().len(), 4);
        assert_eq!(m.area() as u64, mask_of(&m).area());
    }

    let everything = seg.everything();
    assert_eq!(everything.len(), seg.length());
    assert!(everything.windows(2).all(|w| w[0].area() >= w[1].area()));

    let mut checked = 0;
    for prompt in &case.prompts {
        match prompt {
            PromptRef::Points {
                points,
                labels,
                official,
            } => {
                let labels = Array::from(&to_js(labels));
                let masks = seg.points(to_js(points), Some(labels), None).unwrap();
                assert_eq!(masks.len(), 1);
                let iou = mask_of(&masks[0]).iou(&official.to_mask());
                assert!(iou >= 0.99, "points {points:?}: IoU {iou}");
                checked += 1;
            }
            PromptRef::Boxes { boxes, official } => {
                let masks = seg.boxes(to_js(boxes), None).unwrap();
                let mut want: Vec<f32> = official.iter().map(|&i| reference.scores[i]).collect();
                let mut got: Vec<f32> = masks.iter().map(|m| m.score()).collect();
                want.sort_by(f32::total_cmp);
                got.sort_by(f32::total_cmp);
                assert_eq!(want.len(), got.len(), "boxes {boxes:?}");
                for (a, b) in want.iter().zip(&got) {
                    assert!(
                        (a - b).abs() <= 1e-4,
                        "boxes {boxes:?}: {want:?} vs {got:?}"
                    );
                }
                checked += 1;
            }
            PromptRef::Everything {} => {}
        }
    }
    assert!(checked >= 4);
}

#[wasm_bindgen_test]
async fn both_gemm_tiles_give_identical_masks() {
    let mut runs = Vec::new();
    for tile in ["8x8", "4x8"] {
        let options = object(&format!(r#"{{"backend": "cpu", "gemmTile": "{tile}"}}"#));
        let model = FastSamJs::load(Uint8Array::from(MODEL).into(), Some(options))
            .await
            .unwrap();
        assert_eq!(model.gemm_tile(), tile);
        let seg = segment(&model, fixture_image()).await.unwrap();
        assert!(seg.length() > 0);
        let masks: Vec<(f32, Mask)> = (0..seg.length())
            .map(|j| seg.mask(j).unwrap())
            .map(|m| (m.score(), mask_of(&m)))
            .collect();
        runs.push(masks);
    }
    // Same k order and no FMA in either kernel: bit-identical scores, pixel-identical masks.
    assert_eq!(runs[0].len(), runs[1].len());
    for (j, (a, b)) in runs[0].iter().zip(&runs[1]).enumerate() {
        assert_eq!(a.0.to_bits(), b.0.to_bits(), "mask {j}: score");
        assert!(a.1 == b.1, "mask {j}: pixels differ");
    }
    let bad = object(r#"{"backend": "cpu", "gemmTile": "2x2"}"#);
    let error = FastSamJs::load(Uint8Array::from(MODEL).into(), Some(bad))
        .await
        .err()
        .unwrap();
    assert_error(error, "INVALID_OPTION", "gemmTile \"2x2\" is unknown");
}

#[wasm_bindgen_test]
async fn masks_convert_to_bitmaps_rle_and_image_data() {
    let model = load(MODEL).await.unwrap();
    let seg = segment(&model, fixture_image()).await.unwrap();
    let m = seg.everything().into_iter().next().unwrap();
    let (w, h) = (m.width(), m.height());
    assert_eq!((w, h), (seg.width(), seg.height()));
    let data = m.data();
    assert_eq!(data.len(), (w * h) as usize);
    assert!(data.iter().all(|&v| v <= 1));
    assert_eq!(data.iter().map(|&v| v as f64).sum::<f64>(), m.area());

    let rle = m.to_rle().unwrap();
    let size: Vec<u32> =
        serde_wasm_bindgen::from_value(Reflect::get(&rle, &"size".into()).unwrap()).unwrap();
    let counts: Vec<u32> =
        serde_wasm_bindgen::from_value(Reflect::get(&rle, &"counts".into()).unwrap()).unwrap();
    assert_eq!(size, vec![h, w]);
    assert_eq!(Mask::from_coco_rle(w, h, &counts).unwrap(), mask_of(&m));

    // Polygons: flat rings, the same as the Rust API's; option errors name the option.
    #[derive(Deserialize, PartialEq, Debug)]
    struct Flat {
        exterior: Vec<f64>,
        holes: Vec<Vec<f64>>,
    }
    let flat = |ring: &Vec<[f64; 2]>| ring.iter().flatten().copied().collect::<Vec<f64>>();
    for (js, options) in [
        (
            r#"{"tolerance": 0}"#,
            PolygonOptions {
                tolerance: 0.0,
                ..Default::default()
            },
        ),
        (
            r#"{"maxPoints": 6, "normalized": true}"#,
            PolygonOptions {
                max_points: Some(6),
                normalized: true,
                ..Default::default()
            },
        ),
    ] {
        let ours: Vec<Flat> =
            serde_wasm_bindgen::from_value(m.to_polygons(Some(object(js))).unwrap()).unwrap();
        let native: Vec<Flat> = mask_of(&m)
            .polygons(&options)
            .unwrap()
            .iter()
            .map(|p| Flat {
                exterior: flat(&p.exterior),
                holes: p.holes.iter().map(flat).collect(),
            })
            .collect();
        assert!(!ours.is_empty());
        assert_eq!(ours, native, "{js}");
        // Another `Mask` of the same instance outlines from the boundaries traced above.
        let again = seg.mask(m.index().unwrap() as usize).unwrap();
        let again: Vec<Flat> =
            serde_wasm_bindgen::from_value(again.to_polygons(Some(object(js))).unwrap()).unwrap();
        assert_eq!(again, native, "{js}, a second Mask");
    }
    // Every mask's polygons in one call: each mask's own `toPolygons`, described like the worker's.
    #[derive(Deserialize)]
    struct Traced {
        index: usize,
        score: f32,
        area: f64,
        bbox: Vec<f32>,
        width: u32,
        height: u32,
        polygons: Vec<Flat>,
    }
    let js = r#"{"tolerance": 1.5, "minArea": 4}"#;
    let every: Vec<Traced> = seg
        .polygons(None, Some(object(js)))
        .unwrap()
        .into_iter()
        .map(|v| serde_wasm_bindgen::from_value(v).unwrap())
        .collect();
    let masks = seg.everything();
    assert_eq!(every.len(), masks.len());
    for (traced, mask) in every.iter().zip(&masks) {
        assert_eq!(Some(traced.index as u32), mask.index());
        assert_eq!(
            (traced.score, traced.area, &traced.bbox),
            (mask.score(), mask.area(), &mask.bbox())
        );
        assert_eq!((traced.width, traced.height), (mask.width(), mask.height()));
        let own: Vec<Flat> =
            serde_wasm_bindgen::from_value(mask.to_polygons(Some(object(js))).unwrap()).unwrap();
        assert_eq!(traced.polygons, own, "mask {}", traced.index);
    }
    let picked = vec![masks[2].index().unwrap(), masks[0].index().unwrap()];
    let two = seg.polygons(Some(picked), None).unwrap();
    assert_eq!(two.len(), 2);
    assert_error(
        seg.polygons(Some(vec![seg.length() as u32]), None)
            .err()
            .unwrap(),
        "INVALID_PROMPT",
        "out of range",
    );
    assert_error(
        seg.polygons(None, Some(object(r#"{"maxPoints": 2}"#)))
            .err()
            .unwrap(),
        "INVALID_OPTION",
        "maxPoints",
    );

    for (js, named) in [
        (r#"{"tolerence": 1}"#, "tolerence"),
        (r#"{"maxPoints": 2}"#, "maxPoints"),
        (r#"{"tolerance": -1}"#, "tolerance"),
    ] {
        assert_error(
            m.to_polygons(Some(object(js))).err().unwrap(),
            "INVALID_OPTION",
            named,
        );
    }

    // SVG path data of one mask, and the whole-segmentation exports: what the Rust API writes.
    let native_polygons = mask_of(&m).polygons(&PolygonOptions::default()).unwrap();
    assert_eq!(
        m.to_svg_path(None).unwrap(),
        formats::svg_path(&native_polygons)
    );
    let order: Vec<usize> = seg
        .everything()
        .iter()
        .map(|m| m.index().unwrap() as usize)
        .collect();
    let native_masks: Vec<Mask> = order
        .iter()
        .map(|&i| mask_of(&seg.mask(i).unwrap()))
        .collect();
    let scores: Vec<f32> = order
        .iter()
        .map(|&i| seg.mask(i).unwrap().score())
        .collect();
    let shapes: Vec<formats::Shape> = native_masks
        .iter()
        .zip(&scores)
        .zip(&order)
        .map(|((mask, &score), &i)| formats::Shape {
            mask,
            score,
            index: Some(i),
        })
        .collect();
    let json = |v: JsValue| -> serde_json::Value {
        serde_json::from_str(&js_sys::JSON::stringify(&v).unwrap().as_string().unwrap()).unwrap()
    };
    let text = |s: String| -> serde_json::Value { serde_json::from_str(&s).unwrap() };
    let polygon = PolygonOptions::default();
    assert_eq!(
        json(
            seg.to_coco(
                None,
                Some(object(r#"{"fileName": "a.png", "maxPoints": 12}"#))
            )
            .unwrap()
        ),
        text(
            formats::coco(
                &shapes,
                w,
                h,
                &formats::CocoOptions {
                    file_name: "a.png".into(),
                    polygon: PolygonOptions {
                        max_points: Some(12),
                        ..Default::default()
                    },
                    ..Default::default()
                }
            )
            .unwrap()
        )
    );
    assert_eq!(
        seg.to_yolo(None, Some(object(r#"{"classId": 2}"#)))
            .unwrap(),
        formats::yolo(&shapes, w, h, 2, &polygon).unwrap()
    );
    assert_eq!(
        json(seg.to_geojson(None, None).unwrap()),
        text(formats::geojson(&shapes, w, h, &polygon).unwrap())
    );
    assert_eq!(
        json(
            seg.to_label_studio(None, Some(object(r#"{"label": "thing"}"#)))
                .unwrap()
        ),
        text(
            formats::label_studio(
                &shapes,
                w,
                h,
                &formats::LabelStudioOptions {
                    label: "thing".into(),
                    ..Default::default()
                }
            )
            .unwrap()
        )
    );
    assert_eq!(
        json(
            seg.to_label_studio(None, Some(object(r#"{"brush": true}"#)))
                .unwrap()
        ),
        text(
            formats::label_studio(
                &shapes,
                w,
                h,
                &formats::LabelStudioOptions {
                    brush: true,
                    ..Default::default()
                }
            )
            .unwrap()
        )
    );
    let svg = seg.to_svg(Some(vec![order[0] as u32]), None).unwrap();
    assert!(svg.starts_with("<svg") && svg.matches("<path").count() == 1);
    assert_error(
        seg.to_yolo(None, Some(object(r#"{"class": 1}"#)))
            .err()
            .unwrap(),
        "INVALID_OPTION",
        "classId",
    );
    assert_error(
        seg.to_geojson(None, Some(object(r#"{"normalized": true}"#)))
            .err()
            .unwrap(),
        "INVALID_OPTION",
        "normalized",
    );
    assert_error(
        seg.to_coco(Some(vec![10_000]), None).err().unwrap(),
        "INVALID_PROMPT",
        "10000",
    );

    let image = m.to_image_data(Some(vec![1, 2, 3, 4]), None).unwrap();
    assert_eq!((image.width(), image.height()), (w, h));
    let px = image.data();
    let inside = data.iter().position(|&v| v == 1).unwrap();
    assert_eq!(&px[inside * 4..inside * 4 + 4], &[1, 2, 3, 4]);
    let outside = data.iter().position(|&v| v == 0).unwrap();
    assert_eq!(&px[outside * 4..outside * 4 + 4], &[0, 0, 0, 0]);

    // Overlay of every mask: same frame, something drawn; the mask under a pixel is found.
    let overlay = seg
        .overlay(None, Some(object(r#"{"alpha": 200, "outline": null}"#)))
        .unwrap();
    assert_eq!((overlay.width(), overlay.height()), (w, h));
    let drawn = overlay
        .data()
        .chunks_exact(4)
        .filter(|p| p[3] == 200)
        .count();
    assert!(drawn > 0);
    let (x, y) = (inside as u32 % w, inside as u32 / w);
    let under = seg
        .mask_at(x as f64 + 0.5, y as f64 + 0.5)
        .expect("a mask under a mask pixel");
    assert!(mask_of(&seg.mask(under as usize).unwrap()).contains(x, y));
    assert!(seg.mask_at(-1.0, 0.0).is_none());
    assert!(seg.overlay(Some(vec![10_000]), None).is_err());
    let bad_style = seg.overlay(None, Some(object(r#"{"colour": [1, 2, 3]}"#)));
    assert_error(bad_style.err().unwrap(), "INVALID_OPTION", "colour");

    let edges = seg.edges();
    assert!(edges.area() > 0.0 && edges.index().is_none());
    let proposals: Vec<serde_json::Value> =
        serde_wasm_bindgen::from_value(seg.proposals(3).unwrap()).unwrap();
    assert_eq!(proposals.len(), 3.min(seg.length()));

    // At `maskResolution: "low"` the exports are in the image's pixels, as the Rust API maps them.
    let options = object(r#"{"maxDet": 4, "maskResolution": "low"}"#);
    let low = JsFuture::from(model.segment(fixture_image(), Some(options)))
        .await
        .unwrap();
    let low = SegmentationJs::try_from_js_value(low).unwrap();
    let (iw, ih) = (low.width(), low.height());
    let masks: Vec<Mask> = (0..low.length())
        .map(|i| mask_of(&low.mask(i).unwrap()))
        .collect();
    assert!(masks[0].width() != iw, "a low-resolution frame");
    let coco = json(low.to_coco(None, None).unwrap());
    assert_eq!(
        (&coco["images"][0]["width"], &coco["images"][0]["height"]),
        (&serde_json::json!(iw), &serde_json::json!(ih))
    );
    let shapes: Vec<formats::Shape> = masks
        .iter()
        .enumerate()
        .map(|(i, mask)| formats::Shape {
            mask,
            score: low.mask(i).unwrap().score(),
            index: Some(i),
        })
        .collect();
    let order: Vec<u32> = low
        .everything()
        .iter()
        .map(|m| m.index().unwrap())
        .collect();
    let ordered: Vec<formats::Shape> = order.iter().map(|&i| shapes[i as usize]).collect();
    assert_eq!(
        low.to_yolo(None, None).unwrap(),
        formats::yolo(&ordered, iw, ih, 0, &polygon).unwrap()
    );
}

#[wasm_bindgen_test]
async fn bad_models_reject_with_clear_errors() {
    assert_error(load(&[]).await.err().unwrap(), "INVALID_MODEL", "empty");
    assert_error(
        load(&MODEL[..MODEL.len() / 2]).await.err().unwrap(),
        "INVALID_MODEL",
        "ONNX",
    );
    assert_error(
        load(CLASSIFIER).await.err().unwrap(),
        "INVALID_MODEL",
        "classifier",
    );
    let not_bytes = FastSamJs::load(JsValue::from_str("model.onnx"), None).await;
    assert_error(not_bytes.err().unwrap(), "INVALID_MODEL", "Uint8Array");
}

#[wasm_bindgen_test]
async fn bad_inputs_reject_and_the_model_keeps_working() {
    let model = load(MODEL).await.unwrap();
    let first = segment(&model, fixture_image()).await.unwrap().length();

    let empty = image_object(&Uint8Array::new_with_length(0).into(), 0, 0);
    assert_error(
        segment(&model, empty).await.err().unwrap(),
        "INVALID_IMAGE",
        "0x0",
    );
    let short = image_object(&Uint8Array::new_with_length(10).into(), 4, 4);
    assert_error(
        segment(&model, short).await.err().unwrap(),
        "INVALID_IMAGE",
        "64 (RGBA) or 48 (RGB)",
    );
    // The size alone refuses a 16000x16000 image: its 1 GB buffer is never needed.
    let huge = image_object(&Uint8Array::new_with_length(4).into(), 16000, 16000);
    assert_error(
        segment(&model, huge).await.err().unwrap(),
        "INVALID_IMAGE",
        "megapixels",
    );
    assert_error(
        segment(&model, JsValue::from(3)).await.err().unwrap(),
        "INVALID_IMAGE",
        "ImageData",
    );
    let bad_option =
        JsFuture::from(model.segment(fixture_image(), Some(object(r#"{"confidence": 0.5}"#))))
            .await;
    assert_error(bad_option.err().unwrap(), "INVALID_OPTION", "confidence");

    let seg = segment(&model, fixture_image()).await.unwrap();
    assert_eq!(seg.length(), first);
    let (w, h) = (seg.width() as f64, seg.height() as f64);
    let err = |r: Result<Vec<MaskJs>, JsValue>| r.err().expect("an error");
    assert_error(
        err(seg.points(to_js(&[[w + 1.0, 1.0]]), None, None)),
        "INVALID_PROMPT",
        "outside",
    );
    let nan = Array::of1(&Array::of2(&JsValue::from(f64::NAN), &JsValue::from(1.0)));
    assert_error(
        err(seg.points(nan.into(), None, None)),
        "INVALID_PROMPT",
        "finite",
    );
    let two_labels = Array::from(&to_js(&[1, 0]));
    assert_error(
        err(seg.points(to_js(&[[1.0, 1.0]]), Some(two_labels), None)),
        "INVALID_PROMPT",
        "1 points but 2 labels",
    );
    assert_error(
        err(seg.points(JsValue::from_str("middle"), None, None)),
        "INVALID_PROMPT",
        "points must be",
    );
    assert_error(
        err(seg.boxes(to_js(&[[w + 5.0, 0.0, w + 9.0, 4.0]]), None)),
        "INVALID_PROMPT",
        "outside",
    );
    assert_error(
        seg.mask(10_000).err().unwrap(),
        "INVALID_PROMPT",
        "out of range",
    );

    // Nothing above disturbed the model or the segmentation.
    assert_eq!(
        segment(&model, fixture_image()).await.unwrap().length(),
        first
    );
    assert_eq!(
        seg.points(to_js(&[[w / 2.0, h / 2.0]]), None, None)
            .unwrap()
            .len(),
        1
    );
}
