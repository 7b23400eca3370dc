//! Export formats against what the tools that read them expect: `tests/fixtures/polygons/formats.json`
//! (`tools/make_polygon_fixtures.py`) holds COCO polygon segmentations that pycocotools decodes and
//! YOLO label lines that ultralytics' label loader reads, built from OpenCV's rings of the reference
//! masks, and the Label Studio brush RLE that Label Studio's converter writes for them.

mod common;

use fastsam_web::formats::{self, CocoOptions, LabelStudioOptions, Shape};
use fastsam_web::{Error, Mask, PolygonOptions};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Fixture {
    reference: String,
    #[serde(rename = "tolerance 0")]
    exact: Expected,
    #[serde(rename = "tolerance 1")]
    simplified: Expected,
    label_studio_brush: Vec<Vec<u8>>,
}

#[derive(Deserialize)]
struct Expected {
    coco_segmentations: Vec<Option<Vec<Vec<f64>>>>,
    yolo: String,
}

#[derive(Deserialize)]
struct ReferenceMasks {
    official: OfficialMasks,
}

#[derive(Deserialize)]
struct OfficialMasks {
    masks: Vec<common::Rle>,
    scores: Vec<f32>,
    lowres: LowResolution,
}

/// The same detections' masks at `maskResolution: "low"` (the letterbox content frame).
#[derive(Deserialize)]
struct LowResolution {
    width: u32,
    height: u32,
    masks: Vec<common::Rle>,
}

fn fixture() -> (Fixture, Vec<Mask>, Vec<f32>) {
    let (fixture, reference) = fixture_and_reference();
    let masks = reference
        .official
        .masks
        .iter()
        .map(|r| r.to_mask())
        .collect();
    (fixture, masks, reference.official.scores)
}

fn fixture_and_reference() -> (Fixture, ReferenceMasks) {
    let dir = common::fixtures();
    let fixture: Fixture =
        serde_json::from_slice(&std::fs::read(dir.join("polygons/formats.json")).unwrap()).unwrap();
    let reference: ReferenceMasks = serde_json::from_slice(
        &std::fs::read(dir.join("reference").join(&fixture.reference)).unwrap(),
    )
    .unwrap();
    (fixture, reference)
}

fn shapes<'a>(masks: &'a [Mask], scores: &[f32]) -> Vec<Shape<'a>> {
    masks
        .iter()
        .zip(scores)
        .enumerate()
        .map(|(i, (mask, &score))| Shape {
            mask,
            score,
            index: Some(i),
        })
        .collect()
}

/// An export's JSON text, parsed.
fn parsed(text: fastsam_web::Result<String>) -> Value {
    serde_json::from_str(&text.unwrap()).unwrap()
}

fn at_tolerance(tolerance: f64) -> PolygonOptions {
    PolygonOptions {
        tolerance,
        ..Default::default()
    }
}

#[test]
fn coco_polygons_are_the_ones_pycocotools_decodes() {
    let (fixture, masks, scores) = fixture();
    let shapes = shapes(&masks, &scores);
    let (w, h) = (masks[0].width(), masks[0].height());
    for (tolerance, expected) in [(0.0, &fixture.exact), (1.0, &fixture.simplified)] {
        let options = CocoOptions {
            polygon: at_tolerance(tolerance),
            file_name: "shapes \"wide\".png".into(),
            ..Default::default()
        };
        let doc: Value =
            serde_json::from_str(&formats::coco(&shapes, w, h, &options).unwrap()).unwrap();
        assert_eq!(doc["images"][0]["file_name"], "shapes \"wide\".png");
        assert_eq!(doc["images"][0]["width"], w);
        assert_eq!(
            doc["categories"][0],
            serde_json::json!({"id": 1, "name": "object"})
        );
        let annotations = doc["annotations"].as_array().unwrap();
        assert_eq!(annotations.len(), masks.len());
        for (i, (a, mask)) in annotations.iter().zip(&masks).enumerate() {
            assert_eq!(a["id"], i + 1);
            assert_eq!(a["image_id"], 1);
            assert_eq!(a["iscrowd"], 0);
            assert_eq!(a["area"], mask.area());
            let [x1, y1, x2, y2] = mask.bounds().unwrap_or([0; 4]);
            assert_eq!(a["bbox"], serde_json::json!([x1, y1, x2 - x1, y2 - y1]));
            assert!((a["score"].as_f64().unwrap() - scores[i] as f64).abs() < 1e-6);
            match &expected.coco_segmentations[i] {
                Some(rings) => {
                    let ours: Vec<Vec<f64>> =
                        serde_json::from_value(a["segmentation"].clone()).unwrap();
                    assert_eq!(&ours, rings, "mask {i} at tolerance {tolerance}");
                }
                // No ring of three points: the mask is written as RLE instead.
                None => {
                    let rle: common::Rle =
                        serde_json::from_value(a["segmentation"].clone()).unwrap();
                    assert_eq!(&rle.to_mask(), mask);
                }
            }
        }
    }
    // RLE on request: exact, holes included.
    let options = CocoOptions {
        polygons: false,
        ..Default::default()
    };
    let doc: Value =
        serde_json::from_str(&formats::coco(&shapes, w, h, &options).unwrap()).unwrap();
    for (a, mask) in doc["annotations"].as_array().unwrap().iter().zip(&masks) {
        let rle: common::Rle = serde_json::from_value(a["segmentation"].clone()).unwrap();
        assert_eq!(&rle.to_mask(), mask);
    }
}

#[test]
fn yolo_lines_are_the_ones_ultralytics_reads() {
    let (fixture, masks, scores) = fixture();
    let shapes = shapes(&masks, &scores);
    let (w, h) = (masks[0].width(), masks[0].height());
    for (tolerance, expected) in [(0.0, &fixture.exact), (1.0, &fixture.simplified)] {
        let text = formats::yolo(&shapes, w, h, 0, &at_tolerance(tolerance)).unwrap();
        assert_eq!(text, expected.yolo, "tolerance {tolerance}");
    }
    let classed = formats::yolo(&shapes[..1], w, h, 7, &PolygonOptions::default()).unwrap();
    assert!(classed.starts_with("7 ") && classed.ends_with('\n'));
}

#[test]
fn svg_geojson_and_label_studio_carry_the_polygons() {
    let mask = common::square_with_hole();
    let shape = [Shape {
        mask: &mask,
        score: 0.5,
        index: Some(3),
    }];
    let options = PolygonOptions::default();

    let polygons = mask.polygons(&options).unwrap();
    let d = formats::svg_path(&polygons);
    // The lone pixel, the square, then its hole (OpenCV's order).
    assert!(d.starts_with("M11 3ZM0 0L0 5L9 5L9 0ZM1 2L"), "{d}");
    assert_eq!((d.matches('M').count(), d.matches('Z').count()), (3, 3));
    let svg = formats::svg(&shape, 12, 6, &options, &[[255, 0, 0]]).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"12\" height=\"6\""));
    assert!(svg.contains(&format!(
        "<path data-index=\"3\" data-score=\"0.5\" fill=\"rgb(255,0,0)\" d=\"{d}\"/>"
    )));
    assert!(svg.contains("fill-rule=\"evenodd\""));

    let geo: Value =
        serde_json::from_str(&formats::geojson(&shape, 12, 6, &options).unwrap()).unwrap();
    assert_eq!(geo["type"], "FeatureCollection");
    let feature = &geo["features"][0];
    assert_eq!(
        feature["properties"],
        serde_json::json!({"index": 3, "score": 0.5, "area": mask.area()})
    );
    // The lone pixel has no ring of three points: one region, a Polygon with its hole.
    assert_eq!(feature["geometry"]["type"], "Polygon");
    let rings = feature["geometry"]["coordinates"].as_array().unwrap();
    assert_eq!(rings.len(), 2);
    assert_eq!(
        rings[0],
        serde_json::json!([[0, 0], [0, 5], [9, 5], [9, 0], [0, 0]])
    );
    for ring in rings {
        let ring = ring.as_array().unwrap();
        assert_eq!(ring.first(), ring.last(), "closed");
        assert!(ring.len() >= 4);
    }

    let ls: Value = serde_json::from_str(
        &formats::label_studio(
            &shape,
            12,
            6,
            &LabelStudioOptions {
                label: "cat".into(),
                ..Default::default()
            },
        )
        .unwrap(),
    )
    .unwrap();
    let results = ls.as_array().unwrap();
    assert_eq!(results.len(), 1, "one outer ring of three points or more");
    let r = &results[0];
    assert_eq!(r["type"], "polygonlabels");
    assert_eq!(
        (r["from_name"].as_str(), r["to_name"].as_str()),
        (Some("label"), Some("image"))
    );
    assert_eq!(
        (r["original_width"].as_u64(), r["original_height"].as_u64()),
        (Some(12), Some(6))
    );
    assert_eq!(r["value"]["polygonlabels"], serde_json::json!(["cat"]));
    assert_eq!(r["value"]["closed"], true);
    let points: Vec<[f64; 2]> = serde_json::from_value(r["value"]["points"].clone()).unwrap();
    let expected: Vec<[f64; 2]> = polygons
        .iter()
        .find(|p| p.exterior.len() >= 3)
        .unwrap()
        .exterior
        .iter()
        .map(|[x, y]| [x * 100.0 / 12.0, y * 100.0 / 6.0])
        .collect();
    assert_eq!(points, expected);
}

#[test]
fn label_studio_brush_rle_is_the_converters_byte_for_byte() {
    let (fixture, masks, scores) = fixture();
    assert_eq!(masks.len(), fixture.label_studio_brush.len());
    for (i, (mask, expected)) in masks.iter().zip(&fixture.label_studio_brush).enumerate() {
        assert_eq!(
            &formats::label_studio_rle(mask).unwrap(),
            expected,
            "mask {i}"
        );
    }

    let options = LabelStudioOptions {
        brush: true,
        from_name: "tag".into(),
        label: "cat".into(),
        ..Default::default()
    };
    let (w, h) = (masks[0].width(), masks[0].height());
    let results: Value = serde_json::from_str(
        &formats::label_studio(&shapes(&masks, &scores), w, h, &options).unwrap(),
    )
    .unwrap();
    let results = results.as_array().unwrap();
    let non_empty: Vec<usize> = (0..masks.len()).filter(|&i| !masks[i].is_empty()).collect();
    assert!(
        non_empty.len() < masks.len(),
        "the fixture has an empty mask"
    );
    assert_eq!(
        results.len(),
        non_empty.len(),
        "one result per non-empty mask"
    );
    for (&i, r) in non_empty.iter().zip(results) {
        assert_eq!(r["type"], "brushlabels");
        assert_eq!(r["id"], i.to_string());
        assert_eq!(
            (r["from_name"].as_str(), r["to_name"].as_str()),
            (Some("tag"), Some("image"))
        );
        assert_eq!(
            (r["original_width"].as_u64(), r["original_height"].as_u64()),
            (Some(w as u64), Some(h as u64))
        );
        assert_eq!(r["value"]["format"], "rle");
        assert_eq!(r["value"]["brushlabels"], serde_json::json!(["cat"]));
        let rle: Vec<u8> = serde_json::from_value(r["value"]["rle"].clone()).unwrap();
        assert_eq!(rle, fixture.label_studio_brush[i]);
        assert_eq!(r["score"].as_f64().unwrap() as f32, scores[i]);
    }
}

#[test]
fn label_studio_brush_rle_splits_long_runs_and_pads_like_the_converter() {
    // Decodes rle-pack as Label Studio does, to check runs longer than 2^16 values and masks on
    // the frame's edges.
    fn decode(rle: &[u8]) -> Vec<u8> {
        let bit = |i: usize| (rle[i / 8] >> (7 - i % 8)) & 1;
        let mut at = 0;
        let mut read = |n: usize| {
            let v = (0..n).fold(0usize, |v, k| (v << 1) | bit(at + k) as usize);
            at += n;
            v
        };
        let count = read(32);
        let word = read(5) + 1;
        let sizes: Vec<usize> = (0..4).map(|_| read(4) + 1).collect();
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            let repeat = read(1) == 1;
            let size = sizes[read(2)];
            let n = 1 + read(size);
            if repeat {
                let v = read(word) as u8;
                out.extend(std::iter::repeat_n(v, n));
            } else {
                for _ in 0..n {
                    out.push(read(word) as u8);
                }
            }
        }
        out
    }
    let full = Mask::from_bitmap(200, 150, &vec![1; 200 * 150]);
    let corner = common::square_with_hole();
    for mask in [full, corner, Mask::empty(300, 300), Mask::empty(1, 1)] {
        let rle = formats::label_studio_rle(&mask).unwrap();
        let pixels: Vec<u8> = mask
            .to_bitmap()
            .iter()
            .flat_map(|&v| [v * 255; 4])
            .collect();
        assert_eq!(decode(&rle), pixels, "{}x{}", mask.width(), mask.height());
    }
}

#[test]
fn every_format_refuses_bad_options_and_handles_empty_input() {
    let mask = common::square_with_hole();
    let shape = [Shape {
        mask: &mask,
        score: 1.0,
        index: None,
    }];
    let bad = PolygonOptions {
        tolerance: f64::NAN,
        ..Default::default()
    };
    let errors = [
        formats::coco(
            &shape,
            12,
            6,
            &CocoOptions {
                polygon: bad.clone(),
                ..Default::default()
            },
        )
        .unwrap_err(),
        formats::yolo(&shape, 12, 6, 0, &bad).unwrap_err(),
        formats::svg(&shape, 12, 6, &bad, &[]).unwrap_err(),
        formats::geojson(&shape, 12, 6, &bad).unwrap_err(),
        formats::label_studio(
            &shape,
            12,
            6,
            &LabelStudioOptions {
                polygon: bad.clone(),
                ..Default::default()
            },
        )
        .unwrap_err(),
    ];
    for e in errors {
        assert!(matches!(e, Error::InvalidOption(_)), "{e}");
    }
    let empty = Mask::empty(12, 6);
    let none = [Shape {
        mask: &empty,
        score: 0.0,
        index: None,
    }];
    assert_eq!(
        formats::yolo(&none, 12, 6, 0, &PolygonOptions::default()).unwrap(),
        ""
    );
    let geo: Value =
        serde_json::from_str(&formats::geojson(&none, 12, 6, &PolygonOptions::default()).unwrap())
            .unwrap();
    assert_eq!(geo["features"][0]["geometry"], Value::Null);
    let coco: Value =
        serde_json::from_str(&formats::coco(&none, 12, 6, &CocoOptions::default()).unwrap())
            .unwrap();
    assert_eq!(
        coco["annotations"][0]["bbox"],
        serde_json::json!([0, 0, 0, 0])
    );
    assert_eq!(
        formats::label_studio(&[], 12, 6, &LabelStudioOptions::default()).unwrap(),
        "[]"
    );
}

/// A mask made at a lower resolution than the image (`maskResolution: "low"`) exports in the
/// image's pixels: points mapped centre to centre, areas, boxes and run-length codes of the mask
/// resampled to the image.
#[test]
fn low_resolution_masks_export_in_image_pixels() {
    let mask = common::square_with_hole();
    let (w, h) = (24, 12);
    let shape = [Shape {
        mask: &mask,
        score: 0.5,
        index: Some(0),
    }];
    let exact = at_tolerance(0.0);
    let map = |ring: &[[f64; 2]]| -> Vec<[f64; 2]> {
        ring.iter()
            .map(|&[x, y]| [2.0 * x + 0.5, 2.0 * y + 0.5])
            .collect()
    };
    let own = mask.polygons(&exact).unwrap();
    let mapped = fastsam_web::polygon::polygons_in_frame(&mask, [w, h], &exact).unwrap();
    assert_eq!(mapped.len(), own.len());
    for (m, o) in mapped.iter().zip(&own) {
        assert_eq!(m.exterior, map(&o.exterior));
        assert_eq!(m.holes.len(), o.holes.len());
    }
    // Tolerance and minimum area are in image pixels: halved and quartered in the mask's frame.
    let coarse = PolygonOptions {
        tolerance: 3.0,
        min_area: 8.0,
        ..Default::default()
    };
    let at_mask_size = PolygonOptions {
        tolerance: 1.5,
        min_area: 2.0,
        ..Default::default()
    };
    let expected: Vec<Vec<[f64; 2]>> = mask
        .polygons(&at_mask_size)
        .unwrap()
        .iter()
        .map(|p| map(&p.exterior))
        .collect();
    let got: Vec<Vec<[f64; 2]>> = fastsam_web::polygon::polygons_in_frame(&mask, [w, h], &coarse)
        .unwrap()
        .into_iter()
        .map(|p| p.exterior)
        .collect();
    assert_eq!(got, expected);

    let big = mask.resampled(w, h);
    assert_eq!(big.area(), 4 * mask.area());
    let coco = parsed(formats::coco(
        &shape,
        w,
        h,
        &CocoOptions {
            polygons: false,
            ..Default::default()
        },
    ));
    assert_eq!(coco["images"][0]["width"], 24);
    let annotation = &coco["annotations"][0];
    assert_eq!(annotation["area"], big.area());
    assert_eq!(annotation["bbox"], serde_json::json!([0, 0, 24, 12]));
    assert_eq!(
        annotation["segmentation"]["size"],
        serde_json::json!([12, 24])
    );
    assert_eq!(
        annotation["segmentation"]["counts"],
        serde_json::json!(big.coco_rle())
    );
    let coco = parsed(formats::coco(&shape, w, h, &CocoOptions::default()));
    let ring = &coco["annotations"][0]["segmentation"][0];
    assert_eq!(&ring.as_array().unwrap()[..4], &[0.5, 0.5, 0.5, 10.5]);

    let yolo = formats::yolo(&shape, w, h, 0, &exact).unwrap();
    assert!(
        yolo.starts_with("0 0.020833 0.041667 0.020833 0.875 "),
        "{yolo}"
    );
    let svg = formats::svg(&shape, w, h, &exact, &[[255, 0, 0]]).unwrap();
    assert!(
        svg.contains("d=\"M22.5 6.5ZM0.5 0.5L0.5 10.5L18.5 10.5L18.5 0.5Z"),
        "{svg}"
    );
    let geo = parsed(formats::geojson(&shape, w, h, &exact));
    assert_eq!(geo["features"][0]["properties"]["area"], big.area());
    assert_eq!(
        geo["features"][0]["geometry"]["coordinates"][0][1],
        serde_json::json!([0.5, 10.5])
    );
    let brush = parsed(formats::label_studio(
        &shape,
        w,
        h,
        &LabelStudioOptions {
            brush: true,
            ..Default::default()
        },
    ));
    assert_eq!(brush[0]["original_width"], 24);
    assert_eq!(
        brush[0]["value"]["rle"],
        serde_json::json!(formats::label_studio_rle(&big).unwrap())
    );
}

/// The fixture's low-resolution masks (640x480 for a 512x384 image), resampled to the image,
/// cover its full-resolution masks; exported, they give the COCO dataset of the resampled masks.
#[test]
fn low_resolution_exports_match_the_image() {
    let (_, reference) = fixture_and_reference();
    let full: Vec<Mask> = reference
        .official
        .masks
        .iter()
        .map(|r| r.to_mask())
        .collect();
    let low = &reference.official.lowres;
    let (w, h) = (full[0].width(), full[0].height());
    let lows: Vec<Mask> = low.masks.iter().map(|r| r.to_mask()).collect();
    let resampled: Vec<Mask> = lows.iter().map(|m| m.resampled(w, h)).collect();
    for mask in &lows {
        assert_eq!((mask.width(), mask.height()), (low.width, low.height));
    }
    let ious: Vec<f64> = resampled.iter().zip(&full).map(|(r, f)| r.iou(f)).collect();
    let mean = ious.iter().sum::<f64>() / ious.len() as f64;
    let min = ious.iter().copied().fold(f64::INFINITY, f64::min);
    // Measured: mean 0.978, min 0.904 (a resampled mask against a mask made at full resolution).
    assert!(mean >= 0.97 && min >= 0.88, "mean {mean}, min {min}");

    let scores = &reference.official.scores;
    let rle = CocoOptions {
        polygons: false,
        ..Default::default()
    };
    let from_low = formats::coco(&shapes(&lows, scores), w, h, &rle).unwrap();
    let from_resampled = formats::coco(&shapes(&resampled, scores), w, h, &rle).unwrap();
    assert_eq!(from_low, from_resampled);
    // Polygon points stay inside the image.
    let dataset = parsed(formats::coco(
        &shapes(&lows, scores),
        w,
        h,
        &CocoOptions::default(),
    ));
    for annotation in dataset["annotations"].as_array().unwrap() {
        if let Some(rings) = annotation["segmentation"].as_array() {
            for ring in rings {
                for (k, v) in ring.as_array().unwrap().iter().enumerate() {
                    let limit = if k % 2 == 0 { w } else { h } as f64;
                    let v = v.as_f64().unwrap();
                    assert!((-0.5..limit - 0.5).contains(&v), "{v}");
                }
            }
        }
    }
}
