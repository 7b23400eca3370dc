//! Label Studio's brush RLE: the bit-packed run-length code (thi.ng's `rle-pack`) that Label Studio
//! stores `brushlabels` results in, of the mask as an RGBA image (every channel 255 inside, 0
//! outside, rows top to bottom). Byte for byte what `label_studio_converter.brush.mask2rle` writes
//! for the mask times 255, which Label Studio's editor and converter decode.

use crate::error::{Error, Result};
use crate::mask::Mask;

/// Bytes per pixel: Label Studio's brush layers are RGBA.
const CHANNELS: u64 = 4;
/// Bits of each run length class (the header's four `rle_sizes`), shortest first.
const LENGTH_BITS: [u32; 4] = [3, 4, 8, 16];

/// The mask's brush RLE bytes (the `rle` array of a `brushlabels` result's `value`).
pub fn label_studio_rle(mask: &Mask) -> Result<Vec<u8>> {
    let values = mask.width() as u64 * mask.height() as u64 * CHANNELS;
    let values = u32::try_from(values).map_err(|_| {
        Error::InvalidOption(format!(
            "a {}x{} mask is too large for Label Studio's brush format (at most 2^30 pixels); \
             export polygons instead",
            mask.width(),
            mask.height()
        ))
    })?;
    let mut out = BitWriter::default();
    out.write(values as u64, 32);
    out.write(8 - 1, 5); // word size: one byte per value
    for bits in LENGTH_BITS {
        out.write(bits as u64 - 1, 4);
    }
    let mut run = Run::default();
    let width = mask.width() as u64;
    for (y, runs) in mask.rows() {
        let row = y as u64 * width;
        for &(start, end) in runs {
            run.extend_to(&mut out, row + start as u64, false);
            run.extend_to(&mut out, row + end as u64, true);
        }
    }
    run.extend_to(&mut out, width * mask.height() as u64, false);
    run.flush(&mut out);
    Ok(out.finish())
}

/// The run being collected, in pixels of the flattened image.
#[derive(Default)]
struct Run {
    /// Where the run ends (exclusive): every pixel before it is written or in the run.
    end: u64,
    length: u64,
    inside: bool,
}

impl Run {
    /// Pixels up to `to` have the value `inside`.
    fn extend_to(&mut self, out: &mut BitWriter, to: u64, inside: bool) {
        if to == self.end {
            return;
        }
        if inside != self.inside && self.length > 0 {
            self.flush(out);
        }
        self.inside = inside;
        self.length += to - self.end;
        self.end = to;
    }

    /// Writes the run as repeats of one value (a run of pixels is at least 4 values, never a
    /// literal), split into pieces of at most 2^16 values as the encoder does.
    fn flush(&mut self, out: &mut BitWriter) {
        let value = if self.inside { 255 } else { 0 };
        let mut left = self.length * CHANNELS;
        while left > 1 << 16 {
            write_repeat(out, 3, (1 << 16) - 1, value);
            left -= 1 << 16;
        }
        if left > 0 {
            let class = LENGTH_BITS
                .iter()
                .position(|&bits| left <= 1 << bits)
                .unwrap_or(3);
            write_repeat(out, class, left - 1, value);
        }
        self.length = 0;
    }
}

fn write_repeat(out: &mut BitWriter, class: usize, length_minus_one: u64, value: u64) {
    out.write(1, 1);
    out.write(class as u64, 2);
    out.write(length_minus_one, LENGTH_BITS[class]);
    out.write(value, 8);
}

/// Most significant bit first, as `rle-pack` reads.
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    /// Bits held but not yet a whole byte (the low `pending_bits` bits of `pending`).
    pending: u64,
    pending_bits: u32,
}

impl BitWriter {
    fn write(&mut self, value: u64, bits: u32) {
        self.pending = (self.pending << bits) | (value & ((1 << bits) - 1));
        self.pending_bits += bits;
        while self.pending_bits >= 8 {
            self.pending_bits -= 8;
            self.bytes.push((self.pending >> self.pending_bits) as u8);
        }
        self.pending &= (1 << self.pending_bits) - 1;
    }

    /// Pads with zeros to a whole byte; like Label Studio's encoder, a whole zero byte when the
    /// bits already end on one.
    fn finish(mut self) -> Vec<u8> {
        let pad = 8 - self.pending_bits;
        self.write(0, pad);
        self.bytes
    }
}
