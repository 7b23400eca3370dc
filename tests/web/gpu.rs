//! The Burn WebGPU path through the JS API (SwiftShader in headless Chromium: a correctness
//! device): agreement with the CPU path and the reference, the automatic choice, the `GPU_LOST`
//! error after a GPU failure, and wasm memory over repeated runs.

use super::*;

/// Score bound between the two engines (raw outputs agree within 1e-3; see `burn_parity.rs`).
const SCORE_TOL: f32 = 1e-3;

/// For every mask of `a`, the mask of `b` with the nearest score; asserts scores and masks agree.
fn assert_same_masks(what: &str, a: &SegmentationJs, b: &SegmentationJs) {
    assert_eq!(a.length(), b.length(), "{what}: number of masks");
    assert!(a.length() > 0, "{what}: no masks");
    let others: Vec<MaskJs> = (0..b.length()).map(|j| b.mask(j).unwrap()).collect();
    let mut worst = 1f64;
    for i in 0..a.length() {
        let m = a.mask(i).unwrap();
        let mine = mask_of(&m);
        let best = others
            .iter()
            .filter(|o| (o.score() - m.score()).abs() <= SCORE_TOL)
            .map(|o| mine.iou(&mask_of(o)))
            .fold(0f64, f64::max);
        worst = worst.min(best);
        assert!(best >= 0.99, "{what}: mask {i} best IoU {best}");
    }
    web_sys::console::log_1(&format!("{what}: worst mask IoU {worst:.6}").into());
}

fn wasm_memory_bytes() -> f64 {
    let buffer = Reflect::get(&wasm_bindgen::memory(), &"buffer".into()).unwrap();
    Reflect::get(&buffer, &"byteLength".into())
        .unwrap()
        .as_f64()
        .unwrap()
}

#[wasm_bindgen_test]
async fn auto_picks_webgpu_when_an_adapter_exists() {
    let model = FastSamJs::load(Uint8Array::from(MODEL).into(), None)
        .await
        .unwrap();
    assert_eq!(model.backend(), "webgpu");
    assert_eq!(model.engine(), "burn");
    assert_eq!(model.fallback_reason(), None);
}

#[wasm_bindgen_test]
async fn webgpu_agrees_with_the_cpu_path_and_the_reference() {
    let case: Case = serde_json::from_str(CASE_JSON).unwrap();
    let gpu = load_on(MODEL, "webgpu").await.unwrap();
    let cpu = load_on(MODEL, "cpu").await.unwrap();
    assert_eq!(
        (gpu.backend(), gpu.engine()),
        ("webgpu".into(), "burn".into())
    );
    let on_gpu = segment(&gpu, fixture_image()).await.unwrap();
    let on_cpu = segment(&cpu, fixture_image()).await.unwrap();
    assert_same_masks("webgpu vs cpu", &on_gpu, &on_cpu);
    assert_same_masks("cpu vs webgpu", &on_cpu, &on_gpu);

    // Against the PyTorch reference as well.
    let reference = &case.official;
    assert_eq!(on_gpu.length(), reference.boxes.len());
    for j in 0..on_gpu.length() {
        let m = on_gpu.mask(j).unwrap();
        let best = (0..reference.scores.len())
            .filter(|&k| (reference.scores[k] - m.score()).abs() <= SCORE_TOL)
            .map(|k| mask_of(&m).iou(&reference.masks[k].to_mask()))
            .fold(0f64, f64::max);
        assert!(best >= 0.99, "mask {j}: IoU {best} with the reference");
    }

    assert_same_prompts(&case, &on_gpu, &on_cpu);
}

/// Every prompt of `case` (and `everything()`) selects the same masks from `a` and `b`.
fn assert_same_prompts(case: &Case, a: &SegmentationJs, b: &SegmentationJs) {
    let everything = |s: &SegmentationJs| -> Vec<u64> {
        s.everything().iter().map(|m| mask_of(m).area()).collect()
    };
    assert_eq!(everything(a).len(), everything(b).len());
    let mut prompts = 0;
    for prompt in &case.prompts {
        let (x, y) = match prompt {
            PromptRef::Points { points, labels, .. } => {
                let labels = Array::from(&to_js(labels));
                (
                    a.points(to_js(points), Some(labels.clone()), None),
                    b.points(to_js(points), Some(labels), None),
                )
            }
            PromptRef::Boxes { boxes, .. } => {
                (a.boxes(to_js(boxes), None), b.boxes(to_js(boxes), None))
            }
            PromptRef::Everything {} => continue,
        };
        let (x, y) = (x.unwrap(), y.unwrap());
        assert_eq!(x.len(), y.len());
        for (x, y) in x.iter().zip(&y) {
            let iou = mask_of(x).iou(&mask_of(y));
            assert!(iou >= 0.99, "prompt {prompts}: IoU {iou}");
            assert!((x.score() - y.score()).abs() <= SCORE_TOL);
        }
        prompts += 1;
    }
    assert!(prompts >= 4);
}

/// The tiled convolution kernel (`gpuConv: "tiled"`) gives the direct kernel's masks, and every
/// prompt selects the same ones; an unknown kernel is an option error.
#[wasm_bindgen_test]
async fn tiled_convolutions_agree_with_the_direct_kernel() {
    let load_with = |conv: &str| {
        let options = object(&format!(r#"{{"backend": "webgpu", "gpuConv": "{conv}"}}"#));
        FastSamJs::load(Uint8Array::from(MODEL).into(), Some(options))
    };
    let tiled = load_with("tiled").await.unwrap();
    let direct = load_with("direct").await.unwrap();
    let on_tiled = segment(&tiled, fixture_image()).await.unwrap();
    let on_direct = segment(&direct, fixture_image()).await.unwrap();
    assert_same_masks("tiled vs direct", &on_tiled, &on_direct);
    assert_same_masks("direct vs tiled", &on_direct, &on_tiled);

    let case: Case = serde_json::from_str(CASE_JSON).unwrap();
    assert_same_prompts(&case, &on_tiled, &on_direct);

    let error = load_with("fast").await.err().unwrap();
    assert_error(error, "INVALID_OPTION", "gpuConv \"fast\" is unknown");
}

/// The same network as users' exporters write it (`tools/make_fixtures.py`, `EXPORTS`).
const EXPORTS: [(&str, &[u8]); 6] = [
    (
        "onnxslim-merged initializers",
        include_bytes!("../fixtures/models/exports/shared-bias.onnx"),
    ),
    (
        "opaque initializer names",
        include_bytes!("../fixtures/models/exports/opaque-names.onnx"),
    ),
    (
        "ultralytics half precision (quantize=16)",
        include_bytes!("../fixtures/models/exports/half.onnx"),
    ),
    (
        "onnxconverter_common float16",
        include_bytes!("../fixtures/models/exports/float16.onnx"),
    ),
    (
        "onnxconverter_common float16, float16 input and outputs",
        include_bytes!("../fixtures/models/exports/float16-io.onnx"),
    ),
    (
        "8-bit weights (q8)",
        include_bytes!("../fixtures/models/exports/q8.onnx"),
    ),
];

/// Every export flavour loads on WebGPU (the Burn port binds weights through the graph) and on the
/// CPU (tract, float16 widened to f32), with the same masks; a foreign file fails alike on both.
#[wasm_bindgen_test]
async fn every_export_flavour_loads_on_both_backends_alike() {
    for (name, bytes) in EXPORTS {
        let gpu = load_on(bytes, "webgpu")
            .await
            .unwrap_or_else(|e| panic!("{name} on webgpu: {e:?}"));
        let cpu = load_on(bytes, "cpu")
            .await
            .unwrap_or_else(|e| panic!("{name} on cpu: {e:?}"));
        assert_eq!(gpu.engine(), "burn", "{name}");
        let dtype = if name.contains("half") || name.contains("float16") {
            "fp16"
        } else if name.contains("q8") {
            "q8"
        } else {
            "fp32"
        };
        assert_eq!(
            (gpu.dtype(), cpu.dtype()),
            (dtype.into(), dtype.into()),
            "{name}"
        );
        let on_gpu = segment(&gpu, fixture_image()).await.unwrap();
        let on_cpu = segment(&cpu, fixture_image()).await.unwrap();
        assert_same_masks(name, &on_gpu, &on_cpu);
    }
    // A foreign model is refused by both, with the same code.
    for backend in ["webgpu", "cpu"] {
        let err = load_on(CLASSIFIER, backend).await.err().unwrap();
        assert_error(err, "INVALID_MODEL", "classifier");
    }
}

/// Masks assembled on the GPU (the default there) against the same model's masks assembled on the
/// CPU from the read-back prototypes, for both semantics and mask resolutions: same detections in
/// the same order, each mask IoU >= 0.99 (only the logits' matrix product sums in another order).
#[wasm_bindgen_test]
async fn gpu_mask_assembly_agrees_with_cpu_assembly() {
    let gpu = load_on(MODEL, "webgpu").await.unwrap();
    for semantics in ["official", "ultralytics"] {
        for resolution in ["full", "low"] {
            let run = |assembly: &str| {
                let options = object(&format!(
                    r#"{{"maxDet": 32, "semantics": "{semantics}", "maskResolution": "{resolution}", "maskAssembly": "{assembly}"}}"#
                ));
                let promise = gpu.segment(fixture_image(), Some(options));
                async move {
                    let value = JsFuture::from(promise).await.unwrap();
                    SegmentationJs::try_from_js_value(value).expect("a Segmentation")
                }
            };
            let (on_gpu, on_cpu) = (run("gpu").await, run("cpu").await);
            let what = format!("{semantics}, {resolution}");
            assert_eq!(on_gpu.length(), on_cpu.length(), "{what}: number of masks");
            assert!(on_gpu.length() > 0, "{what}: no masks");
            let mut differing = 0;
            for i in 0..on_gpu.length() {
                let (g, c) = (on_gpu.mask(i).unwrap(), on_cpu.mask(i).unwrap());
                // Two network runs: equal on SwiftShader, within float noise on any device.
                let (gs, cs) = (g.score(), c.score());
                assert!(
                    (gs - cs).abs() <= SCORE_TOL,
                    "{what}: mask {i} score {gs} vs {cs}"
                );
                assert_eq!((g.width(), g.height()), (c.width(), c.height()), "{what}");
                let (g, c) = (mask_of(&g), mask_of(&c));
                let iou = g.iou(&c);
                assert!(iou >= 0.99, "{what}: mask {i} IoU {iou}");
                differing += g.area() + c.area() - 2 * g.intersection(&c);
            }
            web_sys::console::log_1(
                &format!("gpu vs cpu mask assembly ({what}): {differing} pixels differ").into(),
            );
        }
    }
    let err =
        JsFuture::from(gpu.segment(fixture_image(), Some(object(r#"{"maskAssembly": "wasm"}"#))))
            .await
            .err()
            .unwrap();
    assert_error(err, "INVALID_OPTION", "\"auto\", \"gpu\" or \"cpu\"");
}

#[wasm_bindgen_test]
async fn a_gpu_failure_rejects_every_later_run_with_gpu_lost() {
    // Moving a model to the CPU build is the JavaScript fallback policy's job (js/fallback.js,
    // tested end to end): the module reports the failure by its code and stays on the GPU.
    for backend in ["auto", "webgpu"] {
        let model = load_on(MODEL, backend).await.unwrap();
        assert_eq!(model.backend(), "webgpu");
        segment(&model, fixture_image()).await.unwrap();
        model
            .simulate_gpu_failure("device lost (test)".into())
            .unwrap();
        for run in 0..2 {
            let err = segment(&model, fixture_image()).await.err();
            let err = err.unwrap_or_else(|| panic!("{backend}: run {run} after the failure"));
            // `reason` is what failed without the advice; the message holds both.
            let reason = Reflect::get(&err, &"reason".into()).unwrap();
            assert_eq!(
                reason.as_string().as_deref(),
                Some("WebGPU failed during a run (device lost (test))")
            );
            assert_error(
                err,
                "GPU_LOST",
                "GPU failed: WebGPU failed during a run (device lost (test)); ",
            );
        }
        assert_eq!(model.backend(), "webgpu");
        assert_eq!(model.fallback_reason(), None);
    }
    // A model on the CPU has no GPU to fail.
    let cpu = load_on(MODEL, "cpu").await.unwrap();
    let err = cpu
        .simulate_gpu_failure("device lost (test)".into())
        .err()
        .unwrap();
    let reason = Reflect::get(&err, &"reason".into()).unwrap();
    assert!(reason.is_undefined(), "only GPU failures have a reason");
    assert_error(err, "INVALID_OPTION", "no GPU to fail");
}

#[wasm_bindgen_test]
async fn unknown_backends_reject() {
    let err = load_on(MODEL, "cuda").await.err().unwrap();
    assert_error(err, "INVALID_OPTION", "\"auto\", \"webgpu\" or \"cpu\"");
    // A bad file is a model error on every backend, never a silent fallback.
    let err = load_on(CLASSIFIER, "auto").await.err().unwrap();
    assert_error(err, "INVALID_MODEL", "classifier");
}

#[wasm_bindgen_test]
async fn twenty_segmentations_do_not_grow_wasm_memory() {
    for (backend, assembly) in [("webgpu", "gpu"), ("webgpu", "cpu"), ("cpu", "auto")] {
        let model = load_on(MODEL, backend).await.unwrap();
        let options = format!(r#"{{"maxDet": 32, "maskAssembly": "{assembly}"}}"#);
        let segment = |model: &FastSamJs| {
            let promise = model.segment(fixture_image(), Some(object(&options)));
            async move {
                let value = JsFuture::from(promise).await.unwrap();
                SegmentationJs::try_from_js_value(value).expect("a Segmentation")
            }
        };
        let backend = format!("{backend} (masks: {assembly})");
        let first = segment(&model).await;
        let length = first.length();
        drop(first);
        let after_first = wasm_memory_bytes();
        for run in 0..20 {
            let seg = segment(&model).await;
            assert_eq!(seg.length(), length, "{backend}: run {run}");
        }
        let after_twenty = wasm_memory_bytes();
        web_sys::console::log_1(
            &format!(
                "{backend}: wasm memory {after_first} bytes after one run, {after_twenty} after 21"
            )
            .into(),
        );
        assert_eq!(
            after_twenty, after_first,
            "{backend}: wasm memory grew over 20 segmentations"
        );
    }
}
