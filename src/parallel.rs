//! Independent pieces of work (one per mask) spread over the build's thread pool: with the
//! `threads` feature, rayon's global pool natively and the pool of Web Workers in the threaded
//! wasm build (once JavaScript has started it); in order on the calling thread otherwise.

/// `f(index, item)` of every item, in the items' order, the calls spread over the thread pool
/// where there is one.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(usize, &T) -> R + Sync + Send) -> Vec<R> {
    #[cfg(feature = "threads")]
    if items.len() > 1 && pool_started() {
        use rayon::prelude::*;
        return items
            .par_iter()
            .enumerate()
            .map(|(i, item)| f(i, item))
            .collect();
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| f(i, item))
        .collect()
}

/// [`map`] of a fallible `f`: every result, or the first error in the items' order.
pub fn try_map<T: Sync, R: Send, E: Send>(
    items: &[T],
    f: impl Fn(usize, &T) -> Result<R, E> + Sync + Send,
) -> Result<Vec<R>, E> {
    map(items, f).into_iter().collect()
}

/// Natively rayon starts its global pool on first use.
#[cfg(all(feature = "threads", not(target_arch = "wasm32")))]
fn pool_started() -> bool {
    true
}

/// In wasm the pool's threads are Web Workers that JavaScript starts; before that (or with one
/// thread) the work stays on the calling thread. Asking rayon would build a one-thread pool in
/// place of the real one.
#[cfg(all(feature = "threads", target_arch = "wasm32"))]
fn pool_started() -> bool {
    crate::web::threads::thread_pool_size() > 1
}

#[cfg(test)]
mod tests {
    use super::{map, try_map};

    #[test]
    fn keeps_the_items_order() {
        let items: Vec<u32> = (0..1000).collect();
        let doubled: Vec<u32> = items.iter().map(|i| i * 2).collect();
        assert_eq!(map(&items, |_, i| i * 2), doubled);
        assert_eq!(map(&items, |k, _| k as u32), items);
        assert_eq!(
            try_map(&items, |_, &i| if i % 7 == 3 { Err(i) } else { Ok(i) }),
            Err(3)
        );
    }
}
