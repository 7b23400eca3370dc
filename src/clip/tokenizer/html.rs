//! HTML character references, decoded exactly as open_clip's clean-up does: Python's
//! `html.unescape` (HTML5 rules: numeric references with the HTML5 replacements, named references
//! with or without `;` for the legacy names, longest legacy prefix) and ftfy's `unescape_html`
//! (only `&name;` / `&#..;` forms, plus upper-cased names such as `&EACUTE;` -> `É`).

use std::borrow::Cow;

use super::tables::{ENTITY_INDEX, ENTITY_NAMES, ENTITY_VALUES};

/// The value of the HTML5 named reference `name` (without `;`), and whether the name is also
/// valid without the `;` (the legacy names such as `amp`).
fn entity(name: &str) -> Option<(&'static str, bool)> {
    let bounds = |i: usize| {
        let entry = ENTITY_INDEX[i];
        let name_start = if i == 0 {
            0
        } else {
            (ENTITY_INDEX[i - 1] & 0x7fff) as usize
        };
        let value_start = if i == 0 {
            0
        } else {
            ((ENTITY_INDEX[i - 1] >> 15) & 0x7fff) as usize
        };
        let name_end = (entry & 0x7fff) as usize;
        let value_end = ((entry >> 15) & 0x7fff) as usize;
        (
            name_start..name_end,
            value_start..value_end,
            entry & (1 << 30) != 0,
        )
    };
    let (mut lo, mut hi) = (0, ENTITY_INDEX.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        let (names, values, legacy) = bounds(mid);
        match ENTITY_NAMES[names].cmp(name) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return Some((&ENTITY_VALUES[values], legacy)),
        }
    }
    None
}

/// HTML5's replacement of numeric references 0x80..=0x9F (Windows-1252; the five undefined bytes
/// stay as C1 controls). ftfy's C1 fixer uses the same table.
pub(super) const WINDOWS_1252_C1: [char; 32] = [
    '\u{20ac}', '\u{81}', '\u{201a}', '\u{192}', '\u{201e}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{2c6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8d}', '\u{17d}', '\u{8f}',
    '\u{90}', '\u{2018}', '\u{2019}', '\u{201c}', '\u{201d}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{2dc}', '\u{2122}', '\u{161}', '\u{203a}', '\u{153}', '\u{9d}', '\u{17e}', '\u{178}',
];

/// `html.unescape`'s result for the numeric reference `num` (saturated at `u32::MAX`).
fn numeric(num: u32, out: &mut String) {
    match num {
        0 => out.push('\u{fffd}'),
        0x0d => out.push('\r'),
        0x80..=0x9f => out.push(WINDOWS_1252_C1[(num - 0x80) as usize]),
        0xd800..=0xdfff | 0x11_0000.. => out.push('\u{fffd}'),
        0x01..=0x08 | 0x0b | 0x0e..=0x1f | 0x7f | 0xfdd0..=0xfdef => {}
        n if n & 0xfffe == 0xfffe => {} // U+FFFE, U+FFFF and their copies in every plane
        n => out.extend(char::from_u32(n)),
    }
}

/// Length and value of the numeric reference at the start of `rest` (the text after `&#`), if any:
/// `[0-9]+;?` or `[xX][0-9a-fA-F]+;?`.
fn numeric_ref(rest: &str) -> Option<(usize, u32)> {
    let bytes = rest.as_bytes();
    let (radix, start) = match bytes.first()? {
        b'0'..=b'9' => (10, 0),
        b'x' | b'X' if bytes.get(1).is_some_and(u8::is_ascii_hexdigit) => (16, 1),
        _ => return None,
    };
    let digits = bytes[start..]
        .iter()
        .take_while(|&&b| char::from(b).is_digit(radix))
        .count();
    let mut num = 0u32;
    for &b in &bytes[start..start + digits] {
        let d = char::from(b).to_digit(radix).unwrap_or(0);
        num = num.saturating_mul(radix).saturating_add(d);
    }
    let mut len = start + digits;
    if bytes.get(len) == Some(&b';') {
        len += 1;
    }
    Some((len, num))
}

/// Python's `html.unescape`.
pub(super) fn unescape(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        if let Some(digits) = after.strip_prefix('#') {
            if let Some((len, num)) = numeric_ref(digits) {
                numeric(num, &mut out);
                rest = &digits[len..];
            } else {
                out.push('&');
                rest = after;
            }
            continue;
        }
        // `[^\t\n\f <&#;]{1,32};?`
        let name_len = after
            .char_indices()
            .take(32)
            .find(|&(_, c)| matches!(c, '\t' | '\n' | '\x0c' | ' ' | '<' | '&' | '#' | ';'))
            .map_or_else(
                || after.char_indices().nth(32).map_or(after.len(), |(i, _)| i),
                |(i, _)| i,
            );
        if name_len == 0 {
            out.push('&');
            rest = after;
            continue;
        }
        let name = &after[..name_len];
        let semicolon = after[name_len..].starts_with(';');
        let full_len = name_len + usize::from(semicolon);
        rest = &after[full_len..];
        match entity(name) {
            Some((value, legacy)) if semicolon || legacy => {
                out.push_str(value);
                continue;
            }
            _ => {}
        }
        // The longest legacy name that is a proper prefix (at least two characters) of `name;`.
        let full = &after[..full_len];
        let ends: Vec<usize> = full.char_indices().skip(2).map(|(i, _)| i).collect();
        let prefix = ends.into_iter().rev().find_map(|end| {
            entity(&full[..end])
                .filter(|&(_, legacy)| legacy)
                .map(|(v, _)| (end, v))
        });
        match prefix {
            Some((end, value)) => {
                out.push_str(value);
                out.push_str(&full[end..]);
            }
            None => {
                out.push('&');
                out.push_str(full);
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// ftfy's `unescape_html`: replaces each `&#?[0-9A-Za-z]{1,24};` that is an HTML5 named
/// reference, an upper-cased lower-case one (`&NTILDE;` -> `Ñ`, unless `html.unescape` would read
/// the upper-case spelling itself), or a numeric reference `html.unescape` fully consumes.
pub(super) fn ftfy_unescape(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let hash = after.starts_with('#');
        let body = &after[usize::from(hash)..];
        let run = body.bytes().take_while(u8::is_ascii_alphanumeric).count();
        if run == 0 || run > 24 || body.as_bytes().get(run) != Some(&b';') {
            out.push('&');
            rest = after;
            continue;
        }
        let matched = &rest[amp..amp + 1 + usize::from(hash) + run + 1];
        let name = &body[..run];
        rest = &body[run + 1..];
        if !hash {
            if let Some((value, _)) = entity(name) {
                out.push_str(value);
            } else if let Some(value) = upper_cased_entity(name, matched) {
                out.push_str(&value);
            } else {
                out.push_str(matched);
            }
        } else {
            let decoded = unescape(matched);
            if decoded.contains(';') {
                out.push_str(matched);
            } else {
                out.push_str(&decoded);
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// ftfy's extra entities: for a lower-case HTML5 name whose upper-case spelling `html.unescape`
/// leaves alone, the upper-case spelling decodes to the upper-cased value.
fn upper_cased_entity(name: &str, matched: &str) -> Option<String> {
    if name.bytes().any(|b| b.is_ascii_lowercase()) {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    let (value, _) = entity(&lower)?;
    if unescape(matched) != matched {
        return None;
    }
    Some(value.to_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_html_unescape_examples() {
        // Expected values from Python 3.11's html.unescape.
        let cases = [
            ("&amp; &lt;b&gt;", "& <b>"),
            ("&amp", "&"),
            ("&ampfoo;", "&foo;"),
            ("&notit;", "\u{ac}it;"),
            ("&notin;", "\u{2209}"),
            ("&#65&#x42;&#X43", "ABC"),
            (
                "&#0;&#13;&#128;&#x110000;&#xd800;&#1;&#xFFFF;",
                "\u{fffd}\r\u{20ac}\u{fffd}\u{fffd}",
            ),
            ("&#;&#x;&;& amp;", "&#;&#x;&;& amp;"),
            ("&#99999999999999999999;", "\u{fffd}"),
            ("&NewLine;&Tab;", "\n\t"),
            (
                "&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;",
                "&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;",
            ),
            ("&lt3 &LT", "<3 <"),
        ];
        for (input, expected) in cases {
            assert_eq!(unescape(input), expected, "{input:?}");
        }
    }

    #[test]
    fn ftfy_unescape_examples() {
        // Expected values from ftfy 6.3.1's fixes.unescape_html (its docstring, and more).
        let cases = [
            ("&lt;tag&gt;", "<tag>"),
            (
                "&Jscr;ohn &HilbertSpace;ancock",
                "\u{1d4a5}ohn \u{210b}ancock",
            ),
            ("P&EACUTE;REZ", "P\u{c9}REZ"),
            ("BUNDESSTRA&SZLIG;E", "BUNDESSTRASSE"),
            (
                "&ntilde; &Ntilde; &NTILDE; &nTILDE;",
                "\u{f1} \u{d1} \u{d1} &nTILDE;",
            ),
            (
                "&amp &AMP; &LTIMES; this&not that",
                "&amp & &LTIMES; this&not that",
            ),
            ("&#65; &#65a; &#x41;", "A &#65a; A"),
        ];
        for (input, expected) in cases {
            assert_eq!(ftfy_unescape(input), expected, "{input:?}");
        }
    }
}
