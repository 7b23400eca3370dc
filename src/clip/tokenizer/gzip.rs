//! The gzip container (RFC 1952) around CLIP's `bpe_simple_vocab_16e6.txt.gz`: header, raw DEFLATE
//! body (inflated by `miniz_oxide`'s streaming inflater), CRC-32 and length trailer. One member only,
//! as gzip writes it.

use crate::error::{Error, Result};

/// Largest inflated vocabulary accepted (CLIP's is 3.2 MB): a bound against gzip bombs.
const MAX_INFLATED: usize = 64 << 20;

/// Whether `bytes` start with the gzip magic number.
pub(super) fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

fn invalid(what: &str) -> Error {
    Error::InvalidModel(format!(
        "the CLIP vocabulary is not a valid gzip file ({what}); expected CLIP's \
         bpe_simple_vocab_16e6.txt.gz, unmodified, or its uncompressed text"
    ))
}

/// The uncompressed contents of a single-member gzip file, up to and including its `lines`-th
/// `\n`: inflation stops there, since open_clip reads only the first 48 895 lines of CLIP's
/// 262 146 (a sixth of the data). When the stream ends first, its CRC-32 and length are checked.
pub(super) fn decompress_lines(bytes: &[u8], lines: usize) -> Result<Vec<u8>> {
    use miniz_oxide::inflate::stream::{InflateState, inflate};
    use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

    let mut input = &bytes[header_len(bytes)?..];
    let mut state = InflateState::new_boxed(DataFormat::Raw);
    let mut chunk = vec![0u8; 64 << 10];
    let mut out = Vec::new();
    let mut newlines = 0;
    loop {
        let step = inflate(&mut state, input, &mut chunk, MZFlush::None);
        input = &input[step.bytes_consumed..];
        let written = &chunk[..step.bytes_written];
        for (i, _) in written.iter().enumerate().filter(|&(_, &b)| b == b'\n') {
            newlines += 1;
            if newlines == lines {
                out.extend_from_slice(&written[..=i]);
                return Ok(out);
            }
        }
        out.extend_from_slice(written);
        if out.len() > MAX_INFLATED {
            return Err(invalid("inflates to more than 64 MiB"));
        }
        match step.status {
            Ok(MZStatus::StreamEnd) => return check_trailer(input, out),
            Ok(_) if step.bytes_consumed > 0 || step.bytes_written > 0 => {}
            Ok(_) | Err(MZError::Buf) => return Err(invalid("truncated DEFLATE data")),
            Err(_) => return Err(invalid("corrupt DEFLATE data")),
        }
    }
}

/// Checks the CRC-32 and length trailer that follows the DEFLATE data.
fn check_trailer(trailer: &[u8], data: Vec<u8>) -> Result<Vec<u8>> {
    let Some(&[c0, c1, c2, c3, s0, s1, s2, s3]) = trailer.get(..8) else {
        return Err(invalid("truncated before the trailer"));
    };
    if trailer.len() > 8 {
        return Err(invalid("several gzip members, or data after the member"));
    }
    if data.len() as u32 != u32::from_le_bytes([s0, s1, s2, s3]) {
        return Err(invalid("the length in the trailer does not match the data"));
    }
    if crc32(&data) != u32::from_le_bytes([c0, c1, c2, c3]) {
        return Err(invalid("CRC-32 mismatch: the file is corrupted"));
    }
    Ok(data)
}

/// Length of the member header, with its optional fields.
fn header_len(bytes: &[u8]) -> Result<usize> {
    const FHCRC: u8 = 0x02;
    const FEXTRA: u8 = 0x04;
    const FNAME: u8 = 0x08;
    const FCOMMENT: u8 = 0x10;
    if bytes.len() < 10 {
        return Err(invalid("shorter than a gzip header"));
    }
    if bytes[2] != 8 {
        return Err(invalid("compression method is not DEFLATE"));
    }
    let flags = bytes[3];
    if flags & 0xe0 != 0 {
        return Err(invalid("reserved header flags are set"));
    }
    let mut pos = 10;
    if flags & FEXTRA != 0 {
        let len = bytes
            .get(pos..pos + 2)
            .ok_or_else(|| invalid("truncated extra field"))?;
        pos += 2 + usize::from(u16::from_le_bytes([len[0], len[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let rest = bytes.get(pos..).unwrap_or_default();
            let end = rest
                .iter()
                .position(|&b| b == 0)
                .ok_or_else(|| invalid("unterminated file name or comment"))?;
            pos += end + 1;
        }
    }
    if flags & FHCRC != 0 {
        pos += 2;
    }
    if pos > bytes.len() {
        return Err(invalid("truncated header"));
    }
    Ok(pos)
}

/// CRC-32 (IEEE 802.3, reflected, as gzip uses), table-driven.
fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    let mut c = !0u32;
    for &b in data {
        c = TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A gzip file holding `data` in one stored (uncompressed) DEFLATE block.
    pub(crate) fn gzip_stored(data: &[u8]) -> Vec<u8> {
        let len = u16::try_from(data.len()).expect("stored block fits 64 KiB");
        let mut out = vec![0x1f, 0x8b, 8, FNAME_FLAG, 0, 0, 0, 0, 0, 3];
        out.extend_from_slice(b"merges.txt\0");
        out.push(1); // final block, stored
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(data);
        out.extend_from_slice(&crc32(data).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out
    }
    const FNAME_FLAG: u8 = 0x08;

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn stored_member_round_trips() {
        let gz = gzip_stored(b"one\ntwo\nthree");
        assert!(is_gzip(&gz));
        assert_eq!(
            decompress_lines(&gz, 9).expect("valid gzip"),
            b"one\ntwo\nthree"
        );
        assert_eq!(decompress_lines(&gz, 2).expect("valid gzip"), b"one\ntwo\n");
    }

    #[test]
    fn damaged_members_are_errors() {
        let gz = gzip_stored(b"hello gzip");
        let mut bad_method = gz.clone();
        bad_method[2] = 7;
        let mut bad_size = gz.clone();
        let n = bad_size.len();
        bad_size[n - 1] ^= 1;
        let mut bad_crc = gz.clone();
        bad_crc[n - 8] ^= 1;
        let mut extra = gz.clone();
        extra.push(0);
        for bad in [
            &bad_method[..],
            &bad_size[..],
            &bad_crc[..],
            &extra[..],
            &gz[..n - 9],
            &gz[..n - 4],
            &gz[..12],
            &gz[..5],
        ] {
            let result = decompress_lines(bad, usize::MAX);
            assert!(
                matches!(&result, Err(Error::InvalidModel(m)) if m.contains("gzip")),
                "{result:?}"
            );
        }
    }
}
