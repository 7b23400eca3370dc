//! Mask boundaries and polygons against OpenCV: `tests/fixtures/polygons/cases.json`
//! (`tools/make_polygon_fixtures.py`) holds `cv2.findContours(RETR_CCOMP, CHAIN_APPROX_SIMPLE)`,
//! `cv2.contourArea` and `cv2.approxPolyDP` of edge cases, random masks and the reference masks.

mod common;

use std::collections::HashMap;

use fastsam_web::polygon::{self, Polygon, PolygonOptions, ring_area, simplify};
use fastsam_web::{Error, Mask};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    tolerances: Vec<f64>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    mask: Option<common::Rle>,
    source: Option<Source>,
    contours: Vec<ContourRef>,
}

#[derive(Deserialize)]
struct Source {
    reference: String,
    index: usize,
}

#[derive(Deserialize)]
struct ContourRef {
    points: Vec<[u32; 2]>,
    parent: i64,
    hole: bool,
    area: f64,
    approx: HashMap<String, Vec<[u32; 2]>>,
}

#[derive(Deserialize)]
struct ReferenceMasks {
    official: OfficialMasks,
}

#[derive(Deserialize)]
struct OfficialMasks {
    masks: Vec<common::Rle>,
}

fn fixture() -> Fixture {
    let path = common::fixtures().join("polygons/cases.json");
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn masks(fixture: &Fixture) -> Vec<(&Case, Mask)> {
    let mut references: HashMap<String, ReferenceMasks> = HashMap::new();
    fixture
        .cases
        .iter()
        .map(|case| {
            let mask = match (&case.mask, &case.source) {
                (Some(rle), _) => rle.to_mask(),
                (None, Some(source)) => {
                    let reference =
                        references
                            .entry(source.reference.clone())
                            .or_insert_with(|| {
                                let path =
                                    common::fixtures().join("reference").join(&source.reference);
                                serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
                            });
                    reference.official.masks[source.index].to_mask()
                }
                (None, None) => panic!("case {} has no mask", case.name),
            };
            (case, mask)
        })
        .collect()
}

/// Every ring, hole flag, parent and ring order is OpenCV's, point for point.
#[test]
fn contours_are_opencvs() {
    let fixture = fixture();
    let cases = masks(&fixture);
    assert!(cases.len() > 100);
    for (case, mask) in &cases {
        let ours = mask.contours();
        assert_eq!(
            ours.len(),
            case.contours.len(),
            "{}: number of contours",
            case.name
        );
        for (i, (c, r)) in ours.iter().zip(&case.contours).enumerate() {
            assert_eq!(c.points, r.points, "{} contour {i}: points", case.name);
            assert_eq!(c.is_hole, r.hole, "{} contour {i}: hole", case.name);
            let parent = c.parent.map_or(-1, |p| p as i64);
            assert_eq!(parent, r.parent, "{} contour {i}: parent", case.name);
            assert_eq!(
                ring_area(&c.points),
                r.area,
                "{} contour {i}: area",
                case.name
            );
        }
    }
}

/// Douglas-Peucker at each tolerance keeps OpenCV's points of every ring.
#[test]
fn simplified_rings_are_opencvs() {
    let fixture = fixture();
    for case in &fixture.cases {
        for (i, r) in case.contours.iter().enumerate() {
            for &tolerance in &fixture.tolerances {
                let key = format!("{tolerance:?}");
                let expected = &r.approx[&key];
                let ours = simplify::approx_closed(&r.points, tolerance);
                assert_eq!(
                    &ours, expected,
                    "{} contour {i} at tolerance {tolerance}",
                    case.name
                );
            }
        }
    }
}

/// Filling each polygon even-odd at tolerance 0 gives back the mask, less what the pixel-centre
/// convention leaves out: every filled pixel is in the mask, and every mask pixel off the
/// boundary is filled.
#[test]
fn polygons_fill_back_to_the_mask() {
    let fixture = fixture();
    let exact = PolygonOptions {
        tolerance: 0.0,
        ..Default::default()
    };
    for (case, mask) in masks(&fixture) {
        let polygons = mask.polygons(&exact).unwrap();
        let filled = fill_even_odd(&polygons, mask.width(), mask.height());
        let bitmap = mask.to_bitmap();
        let (w, h) = (mask.width() as i64, mask.height() as i64);
        let inside = |x: i64, y: i64| {
            x >= 0 && y >= 0 && x < w && y < h && bitmap[(y * w + x) as usize] != 0
        };
        for y in 0..h {
            for x in 0..w {
                let i = (y * w + x) as usize;
                if filled[i] {
                    assert!(
                        inside(x, y),
                        "{}: ({x}, {y}) filled outside the mask",
                        case.name
                    );
                }
                let interior = [
                    (0, 0),
                    (1, 0),
                    (-1, 0),
                    (0, 1),
                    (0, -1),
                    (1, 1),
                    (-1, -1),
                    (1, -1),
                    (-1, 1),
                ]
                .iter()
                .all(|&(dx, dy)| inside(x + dx, y + dy));
                if interior {
                    assert!(
                        filled[i],
                        "{}: interior pixel ({x}, {y}) not filled",
                        case.name
                    );
                }
            }
        }
    }
}

/// Pixel centres strictly inside the rings (even-odd); points on an edge count as inside.
fn fill_even_odd(polygons: &[Polygon], width: u32, height: u32) -> Vec<bool> {
    let mut filled = vec![false; (width * height) as usize];
    let rings: Vec<&Vec<[f64; 2]>> = polygons
        .iter()
        .flat_map(|p| std::iter::once(&p.exterior).chain(&p.holes))
        .collect();
    for y in 0..height {
        for x in 0..width {
            let (px, py) = (x as f64, y as f64);
            let mut odd = false;
            let mut on_edge = false;
            for ring in &rings {
                let n = ring.len();
                for k in 0..n {
                    let [ax, ay] = ring[k];
                    let [bx, by] = ring[(k + 1) % n];
                    let cross = (bx - ax) * (py - ay) - (by - ay) * (px - ax);
                    let within = px >= ax.min(bx)
                        && px <= ax.max(bx)
                        && py >= ay.min(by)
                        && py <= ay.max(by);
                    if cross == 0.0 && within {
                        on_edge = true;
                    }
                    if (ay > py) != (by > py) && px < ax + (py - ay) * (bx - ax) / (by - ay) {
                        odd = !odd;
                    }
                }
            }
            filled[(y * width + x) as usize] = odd || on_edge;
        }
    }
    filled
}

#[test]
fn polygon_options_shape_the_output() {
    let mask = common::square_with_hole();

    let all = mask.polygons(&PolygonOptions::default()).unwrap();
    assert_eq!(all.len(), 2);
    let square = all.iter().find(|p| p.exterior.len() > 1).unwrap();
    assert_eq!(
        square.exterior,
        vec![[0.0, 0.0], [0.0, 5.0], [9.0, 5.0], [9.0, 0.0]]
    );
    assert_eq!(square.holes.len(), 1);

    let no_holes = PolygonOptions {
        holes: false,
        ..Default::default()
    };
    assert!(
        mask.polygons(&no_holes)
            .unwrap()
            .iter()
            .all(|p| p.holes.is_empty())
    );

    let big_only = PolygonOptions {
        min_area: 1.0,
        ..Default::default()
    };
    assert_eq!(mask.polygons(&big_only).unwrap().len(), 1);

    let largest = PolygonOptions {
        largest_only: true,
        ..Default::default()
    };
    assert_eq!(mask.polygons(&largest).unwrap(), vec![square.clone()]);

    let normalized = PolygonOptions {
        normalized: true,
        largest_only: true,
        ..Default::default()
    };
    let n = &mask.polygons(&normalized).unwrap()[0];
    assert_eq!(n.exterior[2], [9.0 / 12.0, 5.0 / 6.0]);
}

#[test]
fn max_points_limits_every_ring() {
    let fixture = fixture();
    for (case, mask) in masks(&fixture)
        .iter()
        .filter(|(c, _)| c.name.starts_with("blobs"))
    {
        for limit in [3, 4, 8, 20] {
            let options = PolygonOptions {
                max_points: Some(limit),
                ..Default::default()
            };
            let polygons = mask.polygons(&options).unwrap();
            assert!(!polygons.is_empty());
            for p in &polygons {
                for ring in std::iter::once(&p.exterior).chain(&p.holes) {
                    assert!(
                        ring.len() <= limit,
                        "{}: {} points > {limit}",
                        case.name,
                        ring.len()
                    );
                }
            }
        }
        // Without a limit the same rings have more points than the smallest limit.
        let free = mask.polygons(&PolygonOptions::default()).unwrap();
        assert!(free.iter().any(|p| p.exterior.len() > 3), "{}", case.name);
    }
}

#[test]
fn bad_options_are_errors_and_odd_masks_are_fine() {
    let mask = Mask::from_bitmap(3, 3, &[0, 0, 0, 0, 1, 0, 0, 0, 0]);
    for options in [
        PolygonOptions {
            tolerance: -1.0,
            ..Default::default()
        },
        PolygonOptions {
            tolerance: f64::NAN,
            ..Default::default()
        },
        PolygonOptions {
            tolerance: f64::INFINITY,
            ..Default::default()
        },
        PolygonOptions {
            min_area: f64::NAN,
            ..Default::default()
        },
        PolygonOptions {
            max_points: Some(2),
            ..Default::default()
        },
    ] {
        let error = mask.polygons(&options).unwrap_err();
        assert!(matches!(error, Error::InvalidOption(_)), "{error}");
    }
    assert!(
        Mask::empty(0, 0)
            .polygons(&PolygonOptions::default())
            .unwrap()
            .is_empty()
    );
    assert!(
        Mask::empty(16000, 2)
            .polygons(&PolygonOptions::default())
            .unwrap()
            .is_empty()
    );

    // A 16000-pixel-wide mask: one line and one block, traced without a frame-sized buffer.
    let (w, h) = (16000u32, 4u32);
    let mut bitmap = vec![0u8; (w * h) as usize];
    bitmap[w as usize..2 * w as usize].fill(1);
    bitmap[3 * w as usize + 100..3 * w as usize + 15000].fill(1);
    let wide = Mask::from_bitmap(w, h, &bitmap);
    let polygons = wide.polygons(&PolygonOptions::default()).unwrap();
    assert_eq!(polygons.len(), 2);
    let line = polygon::find_contours(&wide);
    assert!(line.iter().any(|c| c.points == vec![[0, 1], [15999, 1]]));
}
