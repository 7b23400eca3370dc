//! NFC (Unicode normalization form C, UAX #15) as Python's `unicodedata.normalize("NFC", ..)`
//! computes it, with that module's data (generated tables): full canonical decomposition, canonical
//! ordering of combining marks, then canonical composition; Hangul syllables algorithmically.

use super::tables::{COMBINING_CLASS, COMPOSITION, DECOMPOSITION};

const S_BASE: u32 = 0xac00;
const L_BASE: u32 = 0x1100;
const V_BASE: u32 = 0x1161;
const T_BASE: u32 = 0x11a7;
const L_COUNT: u32 = 19;
const V_COUNT: u32 = 21;
const T_COUNT: u32 = 28;
const N_COUNT: u32 = V_COUNT * T_COUNT;
const S_COUNT: u32 = L_COUNT * N_COUNT;

/// Bit 31 of a [`DECOMPOSITION`] code point: the pair composes back into it.
const COMPOSES: u32 = 1 << 31;

/// `text` in NFC.
pub(super) fn nfc(text: &str) -> String {
    let mut chars = Vec::with_capacity(text.len());
    for c in text.chars() {
        decompose(c, &mut chars);
    }
    for run in chars.split_mut(|&c| combining_class(c) == 0) {
        run.sort_by_key(|&c| combining_class(c)); // stable: equal classes keep their order
    }
    compose(&chars)
}

/// Appends the full canonical decomposition of `c`.
fn decompose(c: char, out: &mut Vec<char>) {
    let cp = u32::from(c);
    if (S_BASE..S_BASE + S_COUNT).contains(&cp) {
        let s = cp - S_BASE;
        out.extend(char::from_u32(L_BASE + s / N_COUNT));
        out.extend(char::from_u32(V_BASE + (s % N_COUNT) / T_COUNT));
        if !s.is_multiple_of(T_COUNT) {
            out.extend(char::from_u32(T_BASE + s % T_COUNT));
        }
        return;
    }
    if cp < 0xc0 {
        out.push(c);
        return;
    }
    match DECOMPOSITION.binary_search_by_key(&cp, |&(code, _, _)| code & !COMPOSES) {
        Ok(i) => {
            let (_, first, second) = DECOMPOSITION[i];
            for part in [first, second]
                .into_iter()
                .filter(|&p| p != 0)
                .filter_map(char::from_u32)
            {
                decompose(part, out);
            }
        }
        Err(_) => out.push(c),
    }
}

/// Canonical combining class (0 for starters).
fn combining_class(c: char) -> u8 {
    let cp = u32::from(c);
    if cp < 0x300 {
        return 0;
    }
    let i = COMBINING_CLASS.partition_point(|&(_, last, _)| last < cp);
    match COMBINING_CLASS.get(i) {
        Some(&(first, _, class)) if first <= cp => class,
        _ => 0,
    }
}

/// The primary composite of `first` + `second`, if any.
fn compose_pair(first: char, second: char) -> Option<char> {
    let (a, b) = (u32::from(first), u32::from(second));
    if (L_BASE..L_BASE + L_COUNT).contains(&a) && (V_BASE..V_BASE + V_COUNT).contains(&b) {
        return char::from_u32(S_BASE + ((a - L_BASE) * V_COUNT + (b - V_BASE)) * T_COUNT);
    }
    if (S_BASE..S_BASE + S_COUNT).contains(&a)
        && (a - S_BASE).is_multiple_of(T_COUNT)
        && (T_BASE + 1..T_BASE + T_COUNT).contains(&b)
    {
        return char::from_u32(a + (b - T_BASE));
    }
    let i = COMPOSITION
        .binary_search_by_key(&(a, b), |&i| {
            let (_, x, y) = DECOMPOSITION[usize::from(i)];
            (x, y)
        })
        .ok()?;
    char::from_u32(DECOMPOSITION[usize::from(COMPOSITION[i])].0 & !COMPOSES)
}

/// Canonical composition of a decomposed, canonically ordered sequence.
fn compose(chars: &[char]) -> String {
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    let mut starter: Option<usize> = None;
    // Class of the last character kept after the starter (0 when none is).
    let mut last_class = 0u8;
    for &c in chars {
        let class = combining_class(c);
        if let Some(s) = starter {
            let adjacent = out.len() == s + 1;
            let unblocked = adjacent || (last_class != 0 && last_class < class);
            if unblocked && let Some(composed) = compose_pair(out[s], c) {
                out[s] = composed;
                continue;
            }
        }
        if class == 0 {
            starter = Some(out.len());
            last_class = 0;
        } else {
            last_class = class;
        }
        out.push(c);
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composes_like_python() {
        // Expected values from Python 3.11's unicodedata.normalize("NFC", ..).
        let cases = [
            ("cafe\u{301}", "caf\u{e9}"),
            ("A\u{30a}", "\u{c5}"),
            ("\u{212b}", "\u{c5}"),                             // singleton
            ("a\u{323}\u{307}", "\u{1ea1}\u{307}"),             // dot below first
            ("a\u{307}\u{323}", "\u{1ea1}\u{307}"),             // reordered, same result
            ("e\u{302}\u{301}", "\u{1ebf}"),                    // two steps
            ("\u{1100}\u{1161}\u{11a8}", "\u{ac01}"),           // Hangul L V T
            ("\u{ac00}\u{11a8}", "\u{ac01}"),                   // Hangul LV + T
            ("\u{915}\u{93c}", "\u{915}\u{93c}"),               // composition exclusion
            ("\u{958}", "\u{915}\u{93c}"),                      // excluded composite
            ("\u{344}", "\u{308}\u{301}"),                      // non-starter decomposition
            ("\u{301}a", "\u{301}a"),                           // no starter before the mark
            ("a\u{5b0}\u{301}\u{316}", "\u{e1}\u{5b0}\u{316}"), // compose past lower classes
            ("\u{b47}\u{b3e}", "\u{b4b}"),                      // second character a starter
            ("\u{b47}\u{301}\u{b3e}", "\u{b47}\u{301}\u{b3e}"), // ... and blocked
        ];
        for (input, expected) in cases {
            assert_eq!(nfc(input), expected, "{input:?}");
        }
    }
}
