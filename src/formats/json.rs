//! The two JSON pieces the formats need: numbers and strings (the documents themselves are fixed
//! shapes written with `format!`).

/// A finite number as JSON: integers without a fraction, others in Rust's shortest round-trip form
/// (never an exponent). Non-finite values, which the formats never produce, become 0.
pub fn number(v: f64) -> String {
    let mut out = String::new();
    push_number(&mut out, v);
    out
}

/// Appends [`number`]`(v)` to `out`. Integers (pixel coordinates, the bulk of a polygon export)
/// are written digit by digit: the formatting machinery cost more than the rest of an SVG path.
pub fn push_number(out: &mut String, v: f64) {
    if !v.is_finite() {
        out.push('0');
        return;
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let mut n = v.abs() as u64;
        if v < 0.0 && n != 0 {
            out.push('-');
        }
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        out.extend(digits[at..].iter().map(|&d| d as char));
        return;
    }
    use std::fmt::Write;
    let _ = write!(out, "{v}");
}

/// A JSON string literal.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_as_before_digit_by_digit() {
        for (v, text) in [
            (0.0, "0"),
            (-0.0, "0"),
            (7.0, "7"),
            (-1999.0, "-1999"),
            (1234567890123.0, "1234567890123"),
            (0.25, "0.25"),
            (-12.5, "-12.5"),
            (1e15, "1000000000000000"),
            (f64::NAN, "0"),
            (f64::INFINITY, "0"),
        ] {
            assert_eq!(number(v), text, "{v}");
        }
        let mut out = String::from("x");
        push_number(&mut out, 42.0);
        push_number(&mut out, 0.5);
        assert_eq!(out, "x420.5");
    }
}
