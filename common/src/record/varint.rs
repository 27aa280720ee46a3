//! Zig-zag varints and varlongs as Kafka's `ByteUtils` reads and writes them (the protobuf
//! encoding: 7 bits a byte, least significant group first, high bit set on every byte but the
//! last). A varint takes at most 5 bytes, a varlong at most 10.

/// Why a varint could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VarintError {
    /// The bytes ended before the varint's last byte.
    #[error("truncated varint")]
    Truncated,
    /// More than the allowed number of bytes had their continuation bit set.
    #[error("varint too long")]
    TooLong,
}

/// Most bytes of a zig-zag varint (an `int`).
pub const MAX_VARINT_BYTES: usize = 5;
/// Most bytes of a zig-zag varlong (a `long`).
pub const MAX_VARLONG_BYTES: usize = 10;

/// The unsigned value of the varint at `buf[*at..]`, at most `max_bytes` (<= 10) long; `*at`
/// moves past the bytes read (also on error, past those consumed).
pub fn read_unsigned(buf: &[u8], at: &mut usize, max_bytes: usize) -> Result<u64, VarintError> {
    let mut value: u64 = 0;
    for i in 0..max_bytes.min(MAX_VARLONG_BYTES) {
        let byte = *buf.get(*at).ok_or(VarintError::Truncated)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(VarintError::TooLong)
}

/// Zig-zag decoding of a 64-bit value.
pub fn zigzag_decode(raw: u64) -> i64 {
    ((raw >> 1) as i64) ^ -((raw & 1) as i64)
}

/// Zig-zag encoding of a 64-bit value.
pub fn zigzag_encode(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

/// A zig-zag varint of at most `max_bytes` bytes, decoded as 64 bits (no truncation): the
/// broker's reading, which refuses a 5-byte "int" whose value does not fit 32 bits by checking
/// the result's range itself.
pub fn read_zigzag(buf: &[u8], at: &mut usize, max_bytes: usize) -> Result<i64, VarintError> {
    read_unsigned(buf, at, max_bytes).map(zigzag_decode)
}

/// Kafka's `ByteUtils.readVarint`: at most 5 bytes; the bits of the fifth byte above 32 are
/// dropped, as Java's `int` shift drops them.
pub fn read_varint(buf: &[u8], at: &mut usize) -> Result<i32, VarintError> {
    let raw = read_unsigned(buf, at, MAX_VARINT_BYTES)? as u32;
    Ok(((raw >> 1) as i32) ^ -((raw & 1) as i32))
}

/// Kafka's `ByteUtils.readVarlong`: at most 10 bytes.
pub fn read_varlong(buf: &[u8], at: &mut usize) -> Result<i64, VarintError> {
    read_zigzag(buf, at, MAX_VARLONG_BYTES)
}

fn write_unsigned(out: &mut impl Extend<u8>, mut v: u64) {
    while v >= 0x80 {
        out.extend([(v as u8 & 0x7f) | 0x80]);
        v >>= 7;
    }
    out.extend([v as u8]);
}

/// Kafka's `ByteUtils.writeVarint`: appends `value` zig-zag encoded (to a `Vec<u8>`, a
/// `BytesMut`, ...).
pub fn write_varint(out: &mut impl Extend<u8>, value: i32) {
    write_unsigned(out, u64::from(((value << 1) ^ (value >> 31)) as u32));
}

/// Kafka's `ByteUtils.writeVarlong`: appends `value` zig-zag encoded.
pub fn write_varlong(out: &mut impl Extend<u8>, value: i64) {
    write_unsigned(out, zigzag_encode(value));
}

/// Kafka's `ByteUtils.sizeOfVarint`: bytes `write_varint` takes for `value` (1-5).
pub fn size_of_varint(value: i32) -> usize {
    size_of_unsigned(u64::from(((value << 1) ^ (value >> 31)) as u32))
}

/// Kafka's `ByteUtils.sizeOfVarlong`: bytes `write_varlong` takes for `value` (1-10).
pub fn size_of_varlong(value: i64) -> usize {
    size_of_unsigned(zigzag_encode(value))
}

fn size_of_unsigned(mut v: u64) -> usize {
    let mut bytes = 1;
    while v >= 0x80 {
        v >>= 7;
        bytes += 1;
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn varints_encode_like_kafka() {
        let mut b = Vec::new();
        write_varint(&mut b, -1);
        assert_eq!(b, [0x01]);
        let b = [0x01, 0x02, 0xac, 0x02];
        let mut at = 0;
        assert_eq!(read_varint(&b, &mut at), Ok(-1));
        assert_eq!(read_varint(&b, &mut at), Ok(1));
        assert_eq!(read_varint(&b, &mut at), Ok(150));
        assert_eq!(at, 4);
        assert_eq!(read_varint(&[0xff; 6], &mut 0), Err(VarintError::TooLong));
        assert_eq!(read_varint(&[0x80], &mut 0), Err(VarintError::Truncated));
    }

    proptest! {
        #[test]
        fn varint_round_trips(v in any::<i32>()) {
            let mut b = Vec::new();
            write_varint(&mut b, v);
            prop_assert_eq!(b.len(), size_of_varint(v));
            let mut at = 0;
            prop_assert_eq!(read_varint(&b, &mut at), Ok(v));
            prop_assert_eq!(at, b.len());
            let mut at = 0;
            prop_assert_eq!(read_zigzag(&b, &mut at, MAX_VARINT_BYTES), Ok(i64::from(v)));
        }

        #[test]
        fn varlong_round_trips(v in any::<i64>()) {
            let mut b = Vec::new();
            write_varlong(&mut b, v);
            prop_assert_eq!(b.len(), size_of_varlong(v));
            let mut at = 0;
            prop_assert_eq!(read_varlong(&b, &mut at), Ok(v));
            prop_assert_eq!(at, b.len());
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..16), start in 0usize..20) {
            let mut at = start;
            let _ = read_varint(&bytes, &mut at);
            prop_assert!(at <= bytes.len().max(start));
            let mut at = start;
            let _ = read_varlong(&bytes, &mut at);
            let mut at = start;
            let _ = read_zigzag(&bytes, &mut at, 5);
        }
    }
}
