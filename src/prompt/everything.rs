//! The "everything" prompt.

use crate::segmentation::Segmentation;

/// Instance indices by mask area, largest first; a stable sort keeps detection order for ties.
pub fn by_area(seg: &Segmentation) -> Vec<usize> {
    let mut order: Vec<usize> = (0..seg.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(seg.instances()[i].mask.area()));
    order
}
