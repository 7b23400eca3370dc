//! Object proposals (the paper's zero-shot proposal generation): boxes ranked by score.

use crate::segmentation::Segmentation;

/// The `k` best-scoring instances, best first (stable for equal scores).
pub fn top_k(seg: &Segmentation, k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..seg.len()).collect();
    order.sort_by(|&a, &b| {
        seg.instances()[b]
            .score
            .total_cmp(&seg.instances()[a].score)
    });
    order.truncate(k);
    order
}
