//! open_clip's text clean-up (`clean="lower"`): `whitespace_clean(basic_clean(text)).lower()`, where
//! `basic_clean` is `ftfy.fix_text` then `html.unescape` twice.
//!
//! Of `ftfy.fix_text` (6.3, default configuration) this reproduces, per line as ftfy does, until
//! the line stops changing: `unescape_html` (off from the first line that contains `<` onwards),
//! `fix_c1_controls`, `fix_latin_ligatures`, `fix_character_width`, `uncurl_quotes`,
//! `fix_line_breaks`, `remove_terminal_escapes`, `remove_control_chars` and NFC.
//! Not reproduced: `fix_encoding` (mojibake repair, with `restore_byte_a0`,
//! `replace_lossy_sequences` and `decode_inconsistent_utf8`) and `fix_surrogates` (lone surrogates
//! cannot occur in a `&str`).

use super::html::{self, WINDOWS_1252_C1};
use super::nfc::nfc;
use super::tables::{DECIMAL, WIDTH};
use super::vocab::is_python_space;

/// open_clip's clean-up of `text` before BPE (`clean="lower"`): the deterministic fixes of
/// `ftfy.fix_text` (HTML entities, C1 controls, Latin ligatures, full-width forms, curly quotes,
/// line breaks, terminal escapes, control characters, NFC; not its mojibake repair), then
/// `html.unescape` twice, white space collapsed to single spaces and trimmed, then lower-case.
pub fn clean(text: &str) -> String {
    let fixed = fix_text(text);
    let once = html::unescape(&fixed);
    let twice = html::unescape(&once);
    let mut joined = String::with_capacity(twice.len());
    for word in twice.split(is_python_space).filter(|w| !w.is_empty()) {
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(word);
    }
    joined.to_lowercase()
}

/// `ftfy.fix_text` without mojibake repair: each line (with its `\n`) fixed on its own.
fn fix_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut unescape = true;
    for line in text.split_inclusive('\n') {
        // ftfy's "auto" HTML unescaping: a `<` means real HTML, from this line on.
        unescape &= !line.contains('<');
        out.push_str(&fix_line(line, unescape));
    }
    out
}

/// ftfy's `fix_and_explain` loop on one line: apply every fixer until nothing changes. Passes after
/// the first only change the text by unescaping, which shortens it, so the bound is never reached.
fn fix_line(line: &str, unescape: bool) -> String {
    let mut text = line.to_string();
    for _ in 0..=line.len() + 1 {
        let unescaped = if unescape {
            html::ftfy_unescape(&text)
        } else {
            text.as_str().into()
        };
        let mut next = fix_chars(&unescaped);
        next = fix_line_breaks(&next);
        next = remove_terminal_escapes(&next);
        next.retain(|c| !is_removed_control(c));
        if !next.is_ascii() {
            next = nfc(&next);
        }
        if next == text {
            break;
        }
        text = next;
    }
    text
}

/// The per-character fixers over `text`.
fn fix_chars(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        fix_char(c, &mut out);
    }
    out
}

/// The per-character fixers, in ftfy's order: C1 controls, Latin ligatures, character width, curly
/// quotes. Pushes what `c` becomes.
fn fix_char(c: char, out: &mut String) {
    // fix_c1_controls: C1 controls read as Windows-1252 (undefined bytes stay).
    let c = match c {
        '\u{80}'..='\u{9f}' => WINDOWS_1252_C1[c as usize - 0x80],
        _ => c,
    };
    // fix_latin_ligatures.
    let ligature = match c {
        'Ĳ' => "IJ",
        'ĳ' => "ij",
        'ŉ' => "\u{2bc}n",
        'Ǳ' => "DZ",
        'ǲ' => "Dz",
        'ǳ' => "dz",
        'Ǆ' => "DŽ",
        'ǅ' => "Dž",
        'ǆ' => "dž",
        'Ǉ' => "LJ",
        'ǈ' => "Lj",
        'ǉ' => "lj",
        'Ǌ' => "NJ",
        'ǋ' => "Nj",
        'ǌ' => "nj",
        'ﬀ' => "ff",
        'ﬁ' => "fi",
        'ﬂ' => "fl",
        'ﬃ' => "ffi",
        'ﬄ' => "ffl",
        'ﬅ' => "ſt",
        'ﬆ' => "st",
        _ => "",
    };
    if !ligature.is_empty() {
        // Ligature parts are plain letters except U+02BC, which uncurl_quotes then straightens.
        out.extend(ligature.chars().map(uncurl));
        return;
    }
    // fix_character_width.
    if let Some(wide) = width(c) {
        out.extend(wide.chars().map(uncurl));
        return;
    }
    out.push(uncurl(c));
}

/// ftfy's width map: full-width ASCII, half-width katakana and Hangul, U+3000.
fn width(c: char) -> Option<&'static str> {
    const ASCII: &str = "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";
    match c {
        '\u{3000}' => Some(" "),
        '\u{ff01}'..='\u{ff5e}' => {
            let i = c as usize - 0xff01;
            Some(&ASCII[i..i + 1])
        }
        '\u{ff5f}'..='\u{ffef}' => {
            let i = WIDTH
                .binary_search_by_key(&u32::from(c), |&(cp, _)| cp)
                .ok()?;
            Some(WIDTH[i].1)
        }
        _ => None,
    }
}

/// uncurl_quotes: `ʼ` and `‘’‚‛` become `'`, `“”„‟` become `"`.
fn uncurl(c: char) -> char {
    match c {
        '\u{2bc}' | '\u{2018}'..='\u{201b}' => '\'',
        '\u{201c}'..='\u{201f}' => '"',
        _ => c,
    }
}

/// fix_line_breaks: CRLF, CR, U+2028, U+2029 and U+0085 become `\n`.
fn fix_line_breaks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' | '\u{2028}' | '\u{2029}' | '\u{85}' => out.push('\n'),
            _ => out.push(c),
        }
    }
    out
}

/// remove_terminal_escapes: deletes `ESC [ (\d|;)* [a-zA-Z]` (`\d` as Python's `re` reads it).
fn remove_terminal_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(esc) = rest.find("\u{1b}[") {
        out.push_str(&rest[..esc]);
        let params = &rest[esc + 2..];
        let len = params
            .char_indices()
            .find(|&(_, c)| !(c == ';' || is_decimal(c)))
            .map_or(params.len(), |(i, _)| i);
        match params[len..].chars().next() {
            Some(c) if c.is_ascii_alphabetic() => rest = &params[len + 1..],
            _ => {
                out.push('\u{1b}');
                rest = &rest[esc + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_decimal(c: char) -> bool {
    let c = u32::from(c);
    DECIMAL.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// remove_control_chars: ASCII controls other than `\t \n \x0c \r`, U+206A..U+206F, U+FEFF,
/// U+FFF9..U+FFFC.
fn is_removed_control(c: char) -> bool {
    matches!(c, '\0'..='\u{8}' | '\u{b}' | '\u{e}'..='\u{1f}' | '\u{7f}' | '\u{206a}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffc}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ftfy_docstring_examples() {
        // Expected values from ftfy 6.3.1 (fix_text with fix_encoding=False, then lower-cased).
        let cases = [
            (
                "Broken text&hellip; it&#x2019;s ﬂubberiﬁc!",
                "broken text… it's flubberific!",
            ),
            ("ＬＯＵＤ　ＮＯＩＳＥＳ", "loud noises"),
            ("Ｕﾀｰﾝ", "uターン"),
            ("\u{201c}here\u{2019}s a test\u{201d}", "\"here's a test\""),
            ("ﬂuﬃeﬆ", "fluffiest"),
            ("\u{1b}[36;44mI'm blue\u{1b}[0m", "i'm blue"),
            ("line\r\nbreak\rand\u{2028}more", "line break and more"),
            ("cafe\u{301}", "caf\u{e9}"),
            ("  a \t b\n\n", "a b"),
            ("x < y\n&rsquo;s", "x < y ’s"),
            ("&rsquo;s\nx < y", "'s x < y"),
        ];
        for (input, expected) in cases {
            assert_eq!(clean(input), expected, "{input:?}");
        }
    }
}
