//! The traced boundaries of the masks outlined last, so that outlining one mask again at other
//! options (a polygon-detail slider moving) only simplifies: tracing is most of the work.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use super::contours::{Contour, find_contours};
use crate::mask::Mask;
use crate::parallel;

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
        self.kept(key)
            .unwrap_or_else(|| self.keep(key, find_contours(mask)))
    }

    /// [`Self::contours`] of every `(key, mask)`, in order; the masks not kept are traced at once on
    /// the build's threads ([`crate::parallel`]). The last [`Self::CAPACITY`] are kept.
    pub fn contours_of(&self, masks: &[(usize, &Mask)]) -> Vec<Rc<[Contour]>> {
        let kept: Vec<Option<Rc<[Contour]>>> =
            masks.iter().map(|&(key, _)| self.kept(key)).collect();
        let missing: Vec<&Mask> = masks
            .iter()
            .zip(&kept)
            .filter(|(_, kept)| kept.is_none())
            .map(|(&(_, mask), _)| mask)
            .collect();
        let mut traced = parallel::map(&missing, |_, mask| find_contours(mask)).into_iter();
        masks
            .iter()
            .zip(kept)
            .map(|(&(key, _), kept)| {
                kept.unwrap_or_else(|| {
                    self.keep(key, traced.next().expect("one trace per missing mask"))
                })
            })
            .collect()
    }

    /// The contours kept under `key`, now the most recently used.
    fn kept(&self, key: usize) -> Option<Rc<[Contour]>> {
        let mut recent = self.recent.borrow_mut();
        let at = recent.iter().position(|(k, _)| *k == key)?;
        let entry = recent.remove(at).expect("the position is in range");
        let contours = entry.1.clone();
        recent.push_front(entry);
        Some(contours)
    }

    /// Keeps `contours` under `key` as the most recently used, dropping the oldest beyond
    /// [`Self::CAPACITY`].
    fn keep(&self, key: usize, contours: Vec<Contour>) -> Rc<[Contour]> {
        let contours: Rc<[Contour]> = contours.into();
        let mut recent = self.recent.borrow_mut();
        recent.retain(|(k, _)| *k != key);
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

    #[test]
    fn traces_many_masks_in_order_reusing_the_kept_ones() {
        let cache = ContourCache::default();
        let masks: Vec<Mask> = (1..=20).map(|side| square(24, side)).collect();
        let first = cache.contours(3, &masks[3]);
        let keyed: Vec<(usize, &Mask)> = masks.iter().enumerate().collect();
        let all = cache.contours_of(&keyed);
        for (i, contours) in all.iter().enumerate() {
            assert_eq!(&**contours, &find_contours(&masks[i])[..], "mask {i}");
        }
        assert!(Rc::ptr_eq(&first, &all[3]), "the kept trace is reused");
        assert!(
            Rc::ptr_eq(&all[19], &cache.contours(19, &masks[19])),
            "the last masks are kept"
        );
        assert!(
            !Rc::ptr_eq(&all[0], &cache.contours(0, &masks[0])),
            "only the last {} are kept",
            ContourCache::CAPACITY
        );
    }
}
