//! How far a model file stored at lower precision moves the results of its fp32 source, on one
//! image: raw outputs, detections, masks, and the masks point and box prompts select. Shared by
//! `tests/dtypes.rs` and `examples/precision.rs` (the table in docs/precision.md).

use fastsam_web::engine::RawOutputs;
use fastsam_web::pipeline::postprocess;
use fastsam_web::{
    BoxMode, FastSam, ImageView, Mask, PointMode, SegmentOptions, Segmentation, Selection,
};

use super::max_abs_diff;

/// Prompts per image: a point at the centre of each of the first detections, and their boxes.
pub const PROMPTS: usize = 8;

/// Agreement of one image (or, summed with [`Agreement::add`], of several).
#[derive(Debug, Clone, Copy, Default)]
pub struct Agreement {
    /// Largest differences of `output0`'s box rows, relative to the input size.
    pub boxes: f32,
    /// Largest differences of the scores.
    pub scores: f32,
    /// Largest differences of the mask coefficients.
    pub coefficients: f32,
    /// Largest differences of the prototypes.
    pub prototypes: f32,
    /// Detections of the fp32 file.
    pub detections: usize,
    /// Of those, how many the other file has too (the same anchor kept).
    pub matched: usize,
    /// Smallest and summed IoU of the matched masks.
    pub mask_iou_min: f64,
    pub mask_iou_sum: f64,
    /// Prompts compared, and how many select masks with IoU >= 0.9 on both files.
    pub prompts: usize,
    pub prompts_agreeing: usize,
    /// Smallest IoU between the masks a prompt selects on the two files.
    pub prompt_iou_min: f64,
}

impl Agreement {
    /// Mean IoU of the matched masks.
    pub fn mask_iou_mean(&self) -> f64 {
        self.mask_iou_sum / self.matched.max(1) as f64
    }

    /// Both images' figures together.
    pub fn add(self, o: Agreement) -> Agreement {
        Agreement {
            boxes: self.boxes.max(o.boxes),
            scores: self.scores.max(o.scores),
            coefficients: self.coefficients.max(o.coefficients),
            prototypes: self.prototypes.max(o.prototypes),
            detections: self.detections + o.detections,
            matched: self.matched + o.matched,
            mask_iou_min: self.mask_iou_min.min(o.mask_iou_min),
            mask_iou_sum: self.mask_iou_sum + o.mask_iou_sum,
            prompts: self.prompts + o.prompts,
            prompts_agreeing: self.prompts_agreeing + o.prompts_agreeing,
            prompt_iou_min: self.prompt_iou_min.min(o.prompt_iou_min),
        }
    }

    /// An empty sum.
    pub fn none() -> Agreement {
        Agreement {
            mask_iou_min: 1.0,
            prompt_iou_min: 1.0,
            ..Agreement::default()
        }
    }
}

fn raw_differences(a: &RawOutputs, b: &RawOutputs, size: f32, out: &mut Agreement) {
    for (i, (x, y)) in a.predictions.iter().zip(&b.predictions).enumerate() {
        let d = (x - y).abs();
        match i / a.anchors {
            0..=3 => out.boxes = out.boxes.max(d / size),
            4 => out.scores = out.scores.max(d),
            _ => out.coefficients = out.coefficients.max(d),
        }
    }
    out.prototypes = max_abs_diff(&a.prototypes, &b.prototypes);
}

fn selected(s: &Segmentation, selection: &Selection) -> Mask {
    match selection {
        Selection::Instance(i) => s.instances()[*i].mask.clone(),
        Selection::Merged { mask, .. } => mask.clone(),
    }
}

/// Runs both files on `image` and compares what they give.
pub fn compare(
    reference: &FastSam,
    other: &FastSam,
    image: &ImageView,
    options: &SegmentOptions,
) -> Agreement {
    let (letterbox, input) = reference.preprocess(image);
    let (a, b) = (
        reference.infer(&input).unwrap(),
        other.infer(&input).unwrap(),
    );
    let mut out = Agreement::none();
    raw_differences(&a, &b, reference.input_size() as f32, &mut out);
    let (full, low) = (
        postprocess(&a, &letterbox, options),
        postprocess(&b, &letterbox, options),
    );
    // The same anchor is the same detection: both files run the same anchors.
    out.detections = full.instances().len();
    for f in full.instances() {
        if let Some(l) = low.instances().iter().find(|l| l.anchor == f.anchor) {
            let iou = l.mask.iou(&f.mask);
            out.mask_iou_min = out.mask_iou_min.min(iou);
            out.mask_iou_sum += iou;
            out.matched += 1;
        }
    }
    // Prompts from the fp32 file's first detections: a click at the centre of each, and its box.
    for instance in full.instances().iter().take(PROMPTS / 2) {
        let [x1, y1, x2, y2] = instance.bbox.map(f64::from);
        let point = [[(x1 + x2) / 2.0, (y1 + y2) / 2.0]];
        let masks = |s: &Segmentation| -> Vec<Mask> {
            let mut v: Vec<Mask> = s
                .points(&point, &[1], PointMode::Merged)
                .unwrap()
                .iter()
                .map(|sel| selected(s, sel))
                .collect();
            v.extend(
                s.boxes(&[[x1, y1, x2, y2]], BoxMode::Official)
                    .unwrap()
                    .iter()
                    .map(|&i| s.instances()[i].mask.clone()),
            );
            v
        };
        for (x, y) in masks(&full).iter().zip(masks(&low).iter()) {
            let iou = x.iou(y);
            out.prompt_iou_min = out.prompt_iou_min.min(iou);
            out.prompts += 1;
            out.prompts_agreeing += usize::from(iou >= 0.9);
        }
    }
    out
}
