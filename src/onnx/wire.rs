//! The protobuf wire format, read without copying: a message is a sequence of fields, each a key
//! (field number and wire type) followed by a varint, a fixed 32/64-bit value or a length-delimited
//! slice (<https://protobuf.dev/programming-guides/encoding/>).

/// Why the bytes are not a valid protobuf message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(pub String);

/// The value of one field as stored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// Wire type 0: integers, booleans and enums.
    Varint(u64),
    /// Wire type 1: `fixed64`, `double`.
    Fixed64(u64),
    /// Wire type 2: strings, bytes, sub-messages and packed repeated scalars.
    Bytes(&'a [u8]),
    /// Wire type 5: `fixed32`, `float`.
    Fixed32(u32),
}

/// Iterates over the fields of one message: `(field number, value)`.
pub struct Fields<'a> {
    rest: &'a [u8],
    /// Bytes read so far, for error messages.
    offset: usize,
}

impl<'a> Fields<'a> {
    /// The fields of the message stored in `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            rest: bytes,
            offset: 0,
        }
    }

    fn varint(&mut self) -> Result<u64, WireError> {
        let mut value = 0u64;
        for (i, &byte) in self.rest.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                self.advance(i + 1);
                return Ok(value);
            }
        }
        Err(self.error("a varint is cut short or longer than 10 bytes"))
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], WireError> {
        if len > self.rest.len() {
            return Err(self.error(&format!(
                "a field of {len} bytes runs past the end ({} bytes left)",
                self.rest.len()
            )));
        }
        let (head, _) = self.rest.split_at(len);
        self.advance(len);
        Ok(head)
    }

    fn advance(&mut self, len: usize) {
        self.rest = &self.rest[len..];
        self.offset += len;
    }

    fn error(&self, what: &str) -> WireError {
        WireError(format!("{what} at byte {}", self.offset))
    }

    fn field(&mut self) -> Result<(u32, Value<'a>), WireError> {
        let key = self.varint()?;
        let number = u32::try_from(key >> 3)
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| self.error(&format!("field number {} is invalid", key >> 3)))?;
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => Value::Fixed64(u64::from_le_bytes(self.take(8)?.try_into().unwrap())),
            2 => {
                let len = usize::try_from(self.varint()?).unwrap_or(usize::MAX);
                Value::Bytes(self.take(len)?)
            }
            5 => Value::Fixed32(u32::from_le_bytes(self.take(4)?.try_into().unwrap())),
            other => {
                return Err(self.error(&format!(
                    "wire type {other} (of field {number}) is not one protobuf 3 writes"
                )));
            }
        };
        Ok((number, value))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Value<'a>), WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let field = self.field();
        if field.is_err() {
            // Stop after the first error: what follows cannot be framed.
            self.rest = &[];
        }
        Some(field)
    }
}

impl<'a> Value<'a> {
    /// The bytes of a length-delimited field, or an error naming `what`.
    pub fn bytes(self, what: &str) -> Result<&'a [u8], WireError> {
        match self {
            Value::Bytes(b) => Ok(b),
            _ => Err(WireError(format!("{what} is not length-delimited"))),
        }
    }

    /// A UTF-8 string field.
    pub fn string(self, what: &str) -> Result<String, WireError> {
        std::str::from_utf8(self.bytes(what)?)
            .map(str::to_owned)
            .map_err(|_| WireError(format!("{what} is not UTF-8")))
    }

    /// A varint field.
    pub fn varint(self, what: &str) -> Result<u64, WireError> {
        match self {
            Value::Varint(v) => Ok(v),
            _ => Err(WireError(format!("{what} is not a varint"))),
        }
    }

    /// A signed 32/64-bit integer field (`int32`/`int64`: two's complement in a varint).
    pub fn int(self, what: &str) -> Result<i64, WireError> {
        self.varint(what).map(|v| v as i64)
    }

    /// Appends a repeated integer field, packed (one slice of varints) or not (one varint).
    pub fn ints_into(self, out: &mut Vec<i64>, what: &str) -> Result<(), WireError> {
        match self {
            Value::Varint(v) => out.push(v as i64),
            Value::Bytes(packed) => {
                let mut fields = Fields::new(packed);
                while !fields.rest.is_empty() {
                    out.push(fields.varint()? as i64);
                }
            }
            _ => return Err(WireError(format!("{what} is not a list of integers"))),
        }
        Ok(())
    }

    /// Appends a repeated `float` field, packed or not.
    pub fn floats_into(self, out: &mut Vec<f32>, what: &str) -> Result<(), WireError> {
        match self {
            Value::Fixed32(v) => out.push(f32::from_bits(v)),
            Value::Bytes(packed) if packed.len() % 4 == 0 => out.extend(
                packed
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            ),
            _ => return Err(WireError(format!("{what} is not a list of floats"))),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(bytes: &[u8]) -> Result<Vec<(u32, Value<'_>)>, WireError> {
        Fields::new(bytes).collect()
    }

    #[test]
    fn reads_each_wire_type() {
        // 1: varint 150; 2: "hi"; 3: fixed32 1.0; 4: fixed64 7.
        let bytes = [
            0x08, 0x96, 0x01, 0x12, 2, b'h', b'i', 0x1d, 0, 0, 0x80, 0x3f, 0x21, 7, 0, 0, 0, 0, 0,
            0, 0,
        ];
        assert_eq!(
            fields(&bytes).unwrap(),
            vec![
                (1, Value::Varint(150)),
                (2, Value::Bytes(b"hi")),
                (3, Value::Fixed32(1f32.to_bits())),
                (4, Value::Fixed64(7)),
            ]
        );
    }

    #[test]
    fn negative_ints_and_packed_lists() {
        // -1 as int64 is ten bytes.
        let minus_one = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        let mut bytes = vec![0x08];
        bytes.extend_from_slice(&minus_one);
        let (_, v) = fields(&bytes).unwrap()[0];
        assert_eq!(v.int("x").unwrap(), -1);

        let mut out = Vec::new();
        Value::Bytes(&[1, 0x96, 0x01, 3])
            .ints_into(&mut out, "dims")
            .unwrap();
        assert_eq!(out, [1, 150, 3]);
        let mut floats = Vec::new();
        Value::Bytes(&[0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0])
            .floats_into(&mut floats, "f")
            .unwrap();
        assert_eq!(floats, [1.0, -2.0]);
    }

    #[test]
    fn truncated_or_malformed_input_is_an_error() {
        assert!(
            fields(&[0x12, 5, b'a'])
                .unwrap_err()
                .0
                .contains("runs past the end")
        );
        assert!(fields(&[0x08, 0x80]).unwrap_err().0.contains("varint"));
        assert!(fields(&[0x0b]).unwrap_err().0.contains("wire type 3"));
        assert!(
            fields(&[0x00, 0x01])
                .unwrap_err()
                .0
                .contains("field number 0")
        );
        assert!(
            Value::Bytes(&[1, 2, 3])
                .floats_into(&mut Vec::new(), "f")
                .is_err()
        );
    }
}
