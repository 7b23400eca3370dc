//! Box geometry after NMS: FastSAM's full-image fix-up and the mapping from the model input frame
//! back to original-image pixels.

use super::letterbox::Letterbox;

/// FastSAM's fix-up: snap box edges within `threshold` px of the frame border onto the border, then
/// turn every box whose IoU with the whole `width` x `height` frame is above `iou` into exactly the
/// frame. Returns the indices of the boxes that became the frame.
///
/// `eps` is added to the IoU denominator (0 in the official code, 1e-7 in ultralytics' `box_iou`).
pub fn full_frame_fixup(
    boxes: &mut [[f32; 4]],
    width: f32,
    height: f32,
    threshold: f32,
    iou: f32,
    eps: f32,
) -> Vec<usize> {
    for b in boxes.iter_mut() {
        if b[0] < threshold {
            b[0] = 0.0;
        }
        if b[1] < threshold {
            b[1] = 0.0;
        }
        if b[2] > width - threshold {
            b[2] = width;
        }
        if b[3] > height - threshold {
            b[3] = height;
        }
    }
    let frame_area = width * height;
    let mut replaced = Vec::new();
    for (i, b) in boxes.iter_mut().enumerate() {
        let inter_w = (b[2].min(width) - b[0].max(0.0)).max(0.0);
        let inter_h = (b[3].min(height) - b[1].max(0.0)).max(0.0);
        let inter = inter_w * inter_h;
        let area = (b[2] - b[0]) * (b[3] - b[1]);
        let box_iou = inter / (frame_area + area - inter + eps);
        if box_iou > iou {
            *b = [0.0, 0.0, width, height];
            replaced.push(i);
        }
    }
    replaced
}

/// Model-input box to original-image pixels, the official way (ultralytics 8.0.x `scale_boxes`):
/// one gain for both axes, padding rounded, clipped to the image.
pub fn to_image_official(b: &[f32; 4], lb: &Letterbox) -> [f32; 4] {
    let (w, h, s) = (
        lb.image_width as f64,
        lb.image_height as f64,
        lb.size as f64,
    );
    let gain = f64::min(s / h, s / w);
    let pad_x = ((s - w * gain) / 2.0 - 0.1).round_ties_even() as f32;
    let pad_y = ((s - h * gain) / 2.0 - 0.1).round_ties_even() as f32;
    let g = gain as f32;
    clip(
        [
            (b[0] - pad_x) / g,
            (b[1] - pad_y) / g,
            (b[2] - pad_x) / g,
            (b[3] - pad_y) / g,
        ],
        lb,
    )
}

/// Model-input box to original-image pixels, ultralytics 8.4's way: a gain per axis from the
/// rounded letterbox content size.
pub fn to_image_ultralytics(b: &[f32; 4], lb: &Letterbox) -> [f32; 4] {
    let gain_x = (lb.new_width as f64 / lb.image_width as f64) as f32;
    let gain_y = (lb.new_height as f64 / lb.image_height as f64) as f32;
    let (pad_x, pad_y) = (lb.left as f32, lb.top as f32);
    clip(
        [
            (b[0] - pad_x) / gain_x,
            (b[1] - pad_y) / gain_y,
            (b[2] - pad_x) / gain_x,
            (b[3] - pad_y) / gain_y,
        ],
        lb,
    )
}

/// Model-input box to the letterbox content frame (`new_width` x `new_height`), for low-resolution
/// masks.
pub fn to_content(b: &[f32; 4], lb: &Letterbox) -> [f32; 4] {
    let (l, t) = (lb.left as f32, lb.top as f32);
    [b[0] - l, b[1] - t, b[2] - l, b[3] - t]
}

fn clip(b: [f32; 4], lb: &Letterbox) -> [f32; 4] {
    let (w, h) = (lb.image_width as f32, lb.image_height as f32);
    [
        b[0].clamp(0.0, w),
        b[1].clamp(0.0, h),
        b[2].clamp(0.0, w),
        b[3].clamp(0.0, h),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixup_snaps_every_box_and_replaces_near_full_ones() {
        let mut boxes = [
            [5.0, 15.0, 630.0, 625.0],   // snaps to the full frame, IoU 1
            [100.0, 10.0, 200.0, 300.0], // only y1 snaps
            [30.0, 30.0, 600.0, 600.0],  // IoU 0.79: stays
        ];
        let replaced = full_frame_fixup(&mut boxes, 640.0, 640.0, 20.0, 0.9, 0.0);
        assert_eq!(replaced, vec![0]);
        assert_eq!(boxes[0], [0.0, 0.0, 640.0, 640.0]);
        assert_eq!(boxes[1], [100.0, 0.0, 200.0, 300.0]);
        assert_eq!(boxes[2], [30.0, 30.0, 600.0, 600.0]);
    }

    #[test]
    fn boxes_map_back_through_the_letterbox() {
        let lb = Letterbox::new(1072, 603, 640); // 640x360 at top 140
        let b = to_image_official(&[0.0, 140.0, 640.0, 500.0], &lb);
        assert!(
            (b[2] - 1072.0).abs() < 1e-3 && (b[3] - 603.0).abs() < 1e-3,
            "{b:?}"
        );
        assert_eq!(b[0], 0.0);
        let u = to_image_ultralytics(&[320.0, 320.0, 700.0, 700.0], &lb);
        assert_eq!(u[2], 1072.0); // clipped
        assert!((u[0] - 536.0).abs() < 1e-3);
    }
}
