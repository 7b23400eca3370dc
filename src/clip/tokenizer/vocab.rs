//! CLIP's vocabulary, built from its merges list the way open_clip's `SimpleTokenizer.__init__` does.
//!
//! Ids: 0..256 are the byte symbols in `bytes_to_unicode` order (the printable bytes `!`..`~`,
//! `¡`..`¬`, `®`..`ÿ` first, then the others), 256..512 the same symbols with `</w>`, then one token
//! per merge (merge `r` makes token `512 + r`, and `r` is also its rank), then `<start_of_text>`
//! and `<end_of_text>`. Merges are kept as a map from a pair of token ids to the rank.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::error::{Error, Result};

/// Merges open_clip reads: `merges[1:49152-256-2+1]`, i.e. lines 1..=48894 after the header.
pub(super) const MAX_MERGES: usize = 49152 - 256 - 2;

/// The id of a merge result: `512 + rank`.
pub(super) const FIRST_MERGE_ID: u32 = 512;

/// Token ids and merge ranks of a CLIP BPE vocabulary.
pub(super) struct Vocab {
    /// Id of each byte's symbol (without `</w>`; add 256 for the end-of-word symbol).
    byte_ids: [u32; 256],
    /// `(left id, right id)` packed in a `u64` -> merge rank.
    ranks: HashMap<u64, u32, BuildHasherDefault<MixHasher>>,
    merges: usize,
}

impl Vocab {
    /// Parses the merges text: a header line, then one `left right` pair per line.
    pub(super) fn parse(text: &str) -> Result<Self> {
        let order = byte_order();
        let mut byte_ids = [0u32; 256];
        let mut tokens: HashMap<String, u32, BuildHasherDefault<MixHasher>> = HashMap::default();
        tokens.reserve(FIRST_MERGE_ID as usize + MAX_MERGES);
        for (id, &byte) in order.iter().enumerate() {
            let symbol = byte_symbol(byte).to_string();
            byte_ids[usize::from(byte)] = id as u32;
            tokens.insert(format!("{symbol}</w>"), id as u32 + 256);
            tokens.insert(symbol, id as u32);
        }

        let mut ranks = HashMap::default();
        ranks.reserve(MAX_MERGES);
        let mut lines = text
            .split('\n')
            .enumerate()
            .skip(1)
            .take(MAX_MERGES)
            .peekable();
        let mut rank = 0u32;
        while let Some((index, line)) = lines.next() {
            let line_no = index + 1;
            let mut parts = line.split(is_python_space).filter(|p| !p.is_empty());
            let (left, right) = match (parts.next(), parts.next(), parts.next()) {
                (Some(left), Some(right), None) => (left, right),
                (None, _, _) if lines.peek().is_none() => break, // the file's final newline
                _ => {
                    return Err(bad_line(
                        line_no,
                        &format!(
                            "expected two symbols separated by a space, found {:?}",
                            shorten(line)
                        ),
                    ));
                }
            };
            let id_of = |symbol: &str| {
                tokens.get(symbol).copied().ok_or_else(|| {
                    bad_line(
                        line_no,
                        &format!(
                            "symbol {:?} is neither a byte symbol nor made by an earlier merge",
                            shorten(symbol)
                        ),
                    )
                })
            };
            let key = pair_key(id_of(left)?, id_of(right)?);
            let mut merged = String::with_capacity(left.len() + right.len());
            merged.push_str(left);
            merged.push_str(right);
            if tokens.contains_key(&merged) {
                return Err(bad_line(
                    line_no,
                    &format!("merge result {:?} is already a token", shorten(&merged)),
                ));
            }
            tokens.insert(merged, FIRST_MERGE_ID + rank);
            ranks.insert(key, rank);
            rank += 1;
        }
        if rank == 0 {
            return Err(Error::InvalidModel(
                "the CLIP vocabulary has no merges (it needs a header line, then one \"left right\" \
                 pair per line); expected CLIP's bpe_simple_vocab_16e6.txt.gz or a merges.txt"
                    .to_string(),
            ));
        }
        Ok(Self {
            byte_ids,
            ranks,
            merges: rank as usize,
        })
    }

    /// Id of the symbol of `byte` (add 256 for its `</w>` form).
    #[inline]
    pub(super) fn byte_id(&self, byte: u8) -> u32 {
        self.byte_ids[usize::from(byte)]
    }

    /// Rank of the merge of tokens `left` and `right`, if they merge; the result is
    /// `FIRST_MERGE_ID + rank`.
    #[inline]
    pub(super) fn rank(&self, left: u32, right: u32) -> Option<u32> {
        self.ranks.get(&pair_key(left, right)).copied()
    }

    /// Number of merges read.
    pub(super) fn merges(&self) -> usize {
        self.merges
    }

    /// `<start_of_text>`.
    pub(super) fn sot(&self) -> u32 {
        FIRST_MERGE_ID + self.merges as u32
    }

    /// `<end_of_text>`.
    pub(super) fn eot(&self) -> u32 {
        self.sot() + 1
    }

    /// Number of token ids, special tokens included.
    pub(super) fn size(&self) -> usize {
        FIRST_MERGE_ID as usize + self.merges + 2
    }
}

fn bad_line(line_no: usize, what: &str) -> Error {
    Error::InvalidModel(format!(
        "CLIP vocabulary line {line_no}: {what}; expected CLIP's bpe_simple_vocab_16e6.txt.gz or a \
         merges.txt (header line, then one \"left right\" pair per line)"
    ))
}

/// At most 40 characters of `s`, for error messages.
fn shorten(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((end, _)) => format!("{}...", &s[..end]),
        None => s.to_string(),
    }
}

fn pair_key(left: u32, right: u32) -> u64 {
    (u64::from(left) << 32) | u64::from(right)
}

/// Bytes in vocabulary order (`bytes_to_unicode`: printable Latin-1 first, then the rest).
fn byte_order() -> [u8; 256] {
    let mut order = [0u8; 256];
    let mut n = 0;
    for b in 0..=255u8 {
        if is_printable(b) {
            order[n] = b;
            n += 1;
        }
    }
    for b in 0..=255u8 {
        if !is_printable(b) {
            order[n] = b;
            n += 1;
        }
    }
    order
}

/// Bytes that `bytes_to_unicode` maps to the character of the same code point.
fn is_printable(b: u8) -> bool {
    matches!(b, b'!'..=b'~' | 0xa1..=0xac | 0xae..=0xff)
}

/// The character `bytes_to_unicode` gives `byte`: itself when printable, else 256 + its rank
/// among the non-printable bytes.
pub(super) fn byte_symbol(byte: u8) -> char {
    if is_printable(byte) {
        char::from(byte)
    } else {
        let rank = (0..byte).filter(|&b| !is_printable(b)).count() as u32;
        char::from_u32(256 + rank).unwrap_or(char::REPLACEMENT_CHARACTER)
    }
}

/// Python's `str.isspace` (used by `str.split()`): Unicode White_Space plus U+001C..U+001F.
pub(super) fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// A fast hasher for the integer pair keys (and the load-time strings): 8 bytes at a time, then
/// the MurmurHash3 finaliser so that the low bits a hash table uses depend on every input bit.
#[derive(Default, Clone, Copy)]
pub(super) struct MixHasher(u64);

impl Hasher for MixHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.write_u64(u64::from_le_bytes(tail) ^ ((rest.len() as u64) << 56));
    }

    #[inline]
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(23) ^ x).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    #[inline]
    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_symbols_follow_bytes_to_unicode() {
        let order = byte_order();
        assert_eq!(order[0], b'!');
        assert_eq!(order[93], b'~');
        assert_eq!(order[94], 0xa1);
        assert_eq!(order[187], 0xff);
        assert_eq!(order[188], 0);
        assert_eq!(order[255], 0xad);
        assert_eq!(byte_symbol(b' '), 'Ġ'); // U+0120: space is the 33rd non-printable byte
        assert_eq!(byte_symbol(0), 'Ā');
        assert_eq!(byte_symbol(0xad), 'Ń');
        assert_eq!(byte_symbol(b'a'), 'a');
    }
}
