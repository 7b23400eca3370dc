//! open_clip's pre-tokenisation: the pieces `regex.findall` returns for
//! `<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+` with
//! IGNORECASE, written as a scanner.
//!
//! At each position the alternatives are tried in order; characters no alternative matches (white
//! space, and U+0345, which IGNORECASE keeps out of the negated class because it case-folds to the
//! letter ι) are skipped. IGNORECASE also lets `ſ` (U+017F) match `s` in the literals. Letter and
//! number classes are the `regex` module's own (generated tables).

use super::tables::{LETTER, NUMBER};

/// One piece of the cleaned text.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Piece<'a> {
    /// `<start_of_text>` typed in the text (open_clip maps it to the special token).
    StartOfText,
    /// `<end_of_text>` typed in the text.
    EndOfText,
    /// Anything else, to be BPE-encoded.
    Word(&'a str),
}

/// The pieces of `text`, left to right.
pub(super) fn pieces(text: &str) -> impl Iterator<Item = Piece<'_>> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        loop {
            let rest = &text[pos..];
            let c = rest.chars().next()?;
            let len = match_at(rest, c);
            if len == 0 {
                pos += c.len_utf8();
                continue;
            }
            let piece = &rest[..len];
            pos += len;
            return Some(match piece {
                "<start_of_text>" => Piece::StartOfText,
                "<end_of_text>" => Piece::EndOfText,
                _ => Piece::Word(piece),
            });
        }
    })
}

/// Byte length of the match at the start of `rest` (whose first character is `c`), 0 for none.
fn match_at(rest: &str, c: char) -> usize {
    if c == '<' {
        for special in ["<start_of_text>", "<end_of_text>"] {
            if let Some(len) = literal_prefix(rest, special) {
                return len;
            }
        }
    }
    if c == '\'' {
        for contraction in ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"] {
            if let Some(len) = literal_prefix(rest, contraction) {
                return len;
            }
        }
    }
    if is_letter(c) {
        return run_len(rest, is_letter);
    }
    if is_number(c) {
        return c.len_utf8();
    }
    if is_other(c) {
        return run_len(rest, is_other);
    }
    0
}

/// Length of the prefix of `text` that matches the ASCII `literal` case-insensitively (as the
/// `regex` module folds case: `ſ` matches `s`).
fn literal_prefix(text: &str, literal: &str) -> Option<usize> {
    let mut chars = text.char_indices();
    for want in literal.chars() {
        let (_, got) = chars.next()?;
        let same = got.eq_ignore_ascii_case(&want) || (want == 's' && got == 'ſ');
        if !same {
            return None;
        }
    }
    Some(chars.next().map_or(text.len(), |(i, _)| i))
}

fn run_len(text: &str, class: fn(char) -> bool) -> usize {
    text.char_indices()
        .find(|&(_, c)| !class(c))
        .map_or(text.len(), |(i, _)| i)
}

fn in_table(table: &[(u32, u32)], c: char) -> bool {
    let c = u32::from(c);
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// `[\p{L}]` (IGNORECASE).
fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else {
        in_table(LETTER, c)
    }
}

/// `[\p{N}]`.
fn is_number(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_digit()
    } else {
        in_table(NUMBER, c)
    }
}

/// `[^\s\p{L}\p{N}]` (IGNORECASE, which leaves out U+0345).
fn is_other(c: char) -> bool {
    !c.is_whitespace() && c != '\u{345}' && !is_letter(c) && !is_number(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        pieces(text)
            .map(|p| match p {
                Piece::StartOfText => "<SOT>".to_string(),
                Piece::EndOfText => "<EOT>".to_string(),
                Piece::Word(w) => w.to_string(),
            })
            .collect()
    }

    #[test]
    fn splits_like_the_open_clip_pattern() {
        // Expected pieces from `regex.findall(pattern, text, regex.IGNORECASE)`.
        assert_eq!(
            words("it's a dog's 2nd ball!!"),
            ["it", "'s", "a", "dog", "'s", "2", "nd", "ball", "!!"]
        );
        assert_eq!(words("''s !'s 'ſ"), ["''", "s", "!'", "s", "'ſ"]);
        assert_eq!(words("x\u{345} \u{345}y"), ["x", "y"]);
        assert_eq!(
            words("!<start_of_text><end_of_text>"),
            [
                "!<", "start", "_", "of", "_", "text", "><", "end", "_", "of", "_", "text", ">"
            ]
        );
        assert_eq!(
            words("a <start_of_text> <end_of_text>b"),
            ["a", "<SOT>", "<EOT>", "b"]
        );
        assert_eq!(words("<ſtart_of_text>"), ["<ſtart_of_text>"]);
        assert_eq!(words("one2three"), ["one", "2", "three"]);
        assert_eq!(words(""), Vec::<String>::new());
    }
}
