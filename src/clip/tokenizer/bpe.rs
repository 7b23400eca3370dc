//! BPE of one pre-tokenised piece, with the result of open_clip's `SimpleTokenizer.bpe`.
//!
//! open_clip repeats: take the adjacent pair of lowest merge rank, merge every occurrence of it left
//! to right, until no adjacent pair has a rank. Here the symbols are a linked list and the candidate
//! pairs sit in a min-heap by (rank, position); all entries of the lowest rank are taken together and
//! merged in position order, skipping stale ones, which is the same pass in O(n log n) instead of
//! O(n^2) for long pieces (a sentence of CJK text is one piece).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::vocab::{FIRST_MERGE_ID, Vocab};

const NONE: u32 = u32::MAX;
const DEAD: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Symbol {
    id: u32,
    prev: u32,
    next: u32,
}

/// Buffers reused across the pieces of one text.
#[derive(Default)]
pub(super) struct Scratch {
    symbols: Vec<Symbol>,
    heap: BinaryHeap<Reverse<(u32, u32)>>,
    batch: Vec<u32>,
}

/// Appends the token ids of `word` (the UTF-8 bytes of one piece) to `out`.
pub(super) fn encode_word(vocab: &Vocab, word: &[u8], scratch: &mut Scratch, out: &mut Vec<u32>) {
    let n = word.len();
    if n == 0 {
        return;
    }
    let Scratch {
        symbols,
        heap,
        batch,
    } = scratch;
    symbols.clear();
    heap.clear();
    symbols.extend(word.iter().enumerate().map(|(i, &b)| Symbol {
        id: vocab.byte_id(b),
        prev: if i == 0 { NONE } else { i as u32 - 1 },
        next: if i + 1 < n { i as u32 + 1 } else { NONE },
    }));
    symbols[n - 1].id += 256; // the last byte carries `</w>`
    for i in 0..n - 1 {
        if let Some(rank) = vocab.rank(symbols[i].id, symbols[i + 1].id) {
            heap.push(Reverse((rank, i as u32)));
        }
    }

    while let Some(Reverse((rank, first))) = heap.pop() {
        batch.clear();
        batch.push(first);
        while let Some(&Reverse((r, pos))) = heap.peek() {
            if r != rank {
                break;
            }
            heap.pop();
            batch.push(pos);
        }
        batch.sort_unstable();
        batch.dedup();
        let merged = FIRST_MERGE_ID + rank;
        for &pos in batch.iter() {
            let p = pos as usize;
            let Symbol { id, next, .. } = symbols[p];
            if id == DEAD || next == NONE || vocab.rank(id, symbols[next as usize].id) != Some(rank)
            {
                continue; // consumed by an earlier merge of this pass, or stale
            }
            let after = symbols[next as usize].next;
            symbols[next as usize].id = DEAD;
            symbols[p].id = merged;
            symbols[p].next = after;
            if after != NONE {
                symbols[after as usize].prev = pos;
                if let Some(r) = vocab.rank(merged, symbols[after as usize].id) {
                    heap.push(Reverse((r, pos)));
                }
            }
            let before = symbols[p].prev;
            if before != NONE
                && let Some(r) = vocab.rank(symbols[before as usize].id, merged)
            {
                heap.push(Reverse((r, before)));
            }
        }
    }

    // The first symbol is never merged away (it is never the right half of a pair).
    let mut i = 0u32;
    while i != NONE {
        out.push(symbols[i as usize].id);
        i = symbols[i as usize].next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clip::tokenizer::vocab::byte_symbol;

    /// open_clip's `bpe` transcribed literally, on strings.
    fn reference_bpe(merges: &[(String, String)], word: &[u8]) -> Vec<String> {
        let mut symbols: Vec<String> = word.iter().map(|&b| byte_symbol(b).to_string()).collect();
        if let Some(last) = symbols.last_mut() {
            last.push_str("</w>");
        }
        let rank = |a: &str, b: &str| merges.iter().position(|(x, y)| x == a && y == b);
        loop {
            let best = symbols
                .windows(2)
                .filter_map(|w| rank(&w[0], &w[1]).map(|r| (r, w[0].clone(), w[1].clone())))
                .min();
            let Some((_, first, second)) = best else {
                break;
            };
            let mut merged = Vec::new();
            let mut i = 0;
            while i < symbols.len() {
                if i + 1 < symbols.len() && symbols[i] == first && symbols[i + 1] == second {
                    merged.push(format!("{first}{second}"));
                    i += 2;
                } else {
                    merged.push(symbols[i].clone());
                    i += 1;
                }
            }
            symbols = merged;
        }
        symbols
    }

    /// Deterministic pseudo-random numbers (64-bit LCG), for a seeded test.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) as usize) % n
        }
    }

    #[test]
    fn heap_bpe_matches_the_literal_algorithm() {
        // A vocabulary over "abc" with merges in awkward orders (overlaps, runs, end-of-word forms).
        let merge_lines = [
            "a a",
            "b c",
            "aa a",
            "c a",
            "b</w> a",
            "a b",
            "aa aa",
            "ca b",
            "c c</w>",
            "bc a",
            "a a</w>",
            "ab c</w>",
            "c c",
            "cc c",
            "b b",
            "aaa a</w>",
            "bb b",
            "ab ab",
            "bc bc",
            "c a</w>",
        ];
        let text = format!("#version: 0.2\n{}\n", merge_lines.join("\n"));
        let vocab = Vocab::parse(&text).expect("test vocabulary");
        let merges: Vec<(String, String)> = merge_lines
            .iter()
            .map(|l| {
                let (a, b) = l.split_once(' ').expect("pair");
                (a.to_string(), b.to_string())
            })
            .collect();
        // id -> string, to compare with the reference.
        let mut all = vec![String::new(); 512 + merges.len()];
        for b in 0..=255u8 {
            let id = vocab.byte_id(b) as usize;
            all[id] = byte_symbol(b).to_string();
            all[id + 256] = format!("{}</w>", byte_symbol(b));
        }
        for (rank, (a, b)) in merges.iter().enumerate() {
            all[512 + rank] = format!("{a}{b}");
        }

        let mut rng = Lcg(7);
        let mut scratch = Scratch::default();
        for case in 0..3000 {
            let len = 1 + rng.next(if case % 10 == 0 { 200 } else { 12 });
            let word: Vec<u8> = (0..len).map(|_| b"abc"[rng.next(3)]).collect();
            let mut ids = Vec::new();
            encode_word(&vocab, &word, &mut scratch, &mut ids);
            let got: Vec<String> = ids.iter().map(|&id| all[id as usize].clone()).collect();
            assert_eq!(
                got,
                reference_bpe(&merges, &word),
                "word {:?}",
                String::from_utf8_lossy(&word)
            );
        }
    }
}
