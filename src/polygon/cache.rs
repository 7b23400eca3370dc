//! The traced boundaries of the masks outlined last, so that outlining one mask again at other
//! options (a polygon-detail slider moving) only simplifies: tracing is most of the work.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use super::contours::{Contour, find_contours};
use crate::mask::Mask;

/// The contours of the last few masks traced, by a caller's key (an instance index).
#[derive(Debug, Default)]
pub struct ContourCache {
    recent: RefCell<VecDeque<(usize, Rc<[Contour]>)>>,
}

impl ContourCache {
    /// How many masks are kept: a selection outlined together (a box or text prompt's masks).
    pub const CAPACITY: usize = 16;

    /// The contours of `mask`, stored under `key`: traced now, or kept from an earlier call with
    /// the same key (which must name the same mask).
    pub fn contours(&self, key: usize, mask: &Mask) -> Rc<[Contour]> {
        let mut recent = self.recent.borrow_mut();
        if let Some(at) = recent.iter().position(|(k, _)| *k == key) {
            let entry = recent.remove(at).expect("the position is in range");
            let contours = entry.1.clone();
            recent.push_front(entry);
            return contours;
        }
        let contours: Rc<[Contour]> = find_contours(mask).into();
        recent.push_front((key, contours.clone()));
        recent.truncate(Self::CAPACITY);
        contours
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(size: u32, side: u32) -> Mask {
        let mut bitmap = vec![0u8; (size * size) as usize];
        for y in 1..=side {
            for x in 1..=side {
                bitmap[(y * size + x) as usize] = 1;
            }
        }
        Mask::from_bitmap(size, size, &bitmap)
    }

    #[test]
    fn traces_once_per_key_and_keeps_the_most_recent() {
        let cache = ContourCache::default();
        let a = square(8, 3);
        let first = cache.contours(0, &a);
        assert_eq!(&*first, &find_contours(&a)[..]);
        assert!(
            Rc::ptr_eq(&first, &cache.contours(0, &a)),
            "the second call reuses the trace"
        );
        for key in 1..=ContourCache::CAPACITY {
            cache.contours(key, &square(8, 2));
        }
        assert!(
            !Rc::ptr_eq(&first, &cache.contours(0, &a)),
            "the oldest entry was dropped"
        );
    }
}
