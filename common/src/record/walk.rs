//! The walk over the records of an uncompressed v2 batch body (Kafka's `DefaultRecord.readFrom`
//! as `LogValidator` iterates them): only the framing is read (varints and lengths; keys, values
//! and headers are skipped, never copied), every length is checked against the bytes present,
//! and the errors carry Kafka's `InvalidRecordException` texts.
//!
//! A record: `length: varint`, then `attributes: int8`, `timestampDelta: varlong`,
//! `offsetDelta: varint`, `keyLength: varint` + key, `valueLength: varint` + value,
//! `headerCount: varint`, and per header `keyLength: varint` + key, `valueLength: varint` + value
//! (-1 lengths are null, except for header keys).
//!
//! [`walk_records`] walks a body held in memory; [`walk_record_stream`] the same layout read from
//! a stream (a decompressor), for bodies that must not be expanded whole.

use std::io::Read;

use super::varint::{read_zigzag, zigzag_decode, MAX_VARINT_BYTES, MAX_VARLONG_BYTES};

/// Why a body is not `count` well-formed records; `Display` is Kafka's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalkError {
    /// A varint or length that does not fit (Kafka's `InvalidRecordException`).
    #[error("Found invalid record structure")]
    InvalidStructure,
    /// The body ended before the declared records did.
    #[error("Incorrect declared batch size, premature EOF reached")]
    PrematureEof,
    /// A record's length runs past the body.
    #[error(
        "Invalid record size: expected {expected} bytes in record payload, but instead the \
         buffer has only {remaining} remaining bytes."
    )]
    RecordPastBody {
        /// The record's declared length.
        expected: i32,
        /// Bytes left in the body after the length.
        remaining: usize,
    },
    /// A negative header count.
    #[error("Found invalid number of record headers {0}")]
    HeaderCount(i32),
    /// A negative header key length.
    #[error("Invalid negative header key size {0}")]
    HeaderKeySize(i32),
    /// The fields of a record do not add up to its declared length.
    #[error(
        "Invalid record size: expected to read {expected} bytes in record payload, but \
         instead read {read}"
    )]
    RecordSizeMismatch {
        /// The record's declared length.
        expected: u64,
        /// The bytes its fields took.
        read: u64,
    },
    /// Bytes remain after the declared records.
    #[error("Incorrect declared batch size, records still remaining in file")]
    RecordsRemaining,
}

/// The framing of one record, as `DefaultRecord.readFrom` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFrame {
    /// `timestampDelta` (ms from the batch's base timestamp).
    pub timestamp_delta: i64,
    /// `offsetDelta` (from the batch's base offset).
    pub offset_delta: i32,
    /// Key length (-1: null).
    pub key_len: i32,
    /// Value length (-1: null).
    pub value_len: i32,
    /// Where the key length starts and the record ends in the walked body: the key, value and
    /// headers as sent. `None` for records whose bytes are not kept (read from a stream).
    pub tail: Option<std::ops::Range<usize>>,
}

fn read_int(buf: &[u8], at: &mut usize) -> Result<i32, WalkError> {
    let v = read_zigzag(buf, at, MAX_VARINT_BYTES).map_err(|_| WalkError::InvalidStructure)?;
    i32::try_from(v).map_err(|_| WalkError::InvalidStructure)
}

/// Skips `len` bytes (a length of -1 being null when `nullable`).
fn skip(buf: &[u8], at: &mut usize, len: i32, nullable: bool) -> Result<(), WalkError> {
    if len == -1 && nullable {
        return Ok(());
    }
    let len = usize::try_from(len).map_err(|_| WalkError::InvalidStructure)?;
    let end = at
        .checked_add(len)
        .filter(|e| *e <= buf.len())
        .ok_or(WalkError::InvalidStructure)?;
    *at = end;
    Ok(())
}

/// Reads the framing of every record in `body` (the records of a batch, uncompressed), checking
/// that there are exactly `count` of them and nothing after; `visit` sees each one with its
/// index in the batch. Never panics and allocates nothing, whatever the bytes.
pub fn walk_records(
    body: &[u8],
    count: i32,
    mut visit: impl FnMut(i32, &RecordFrame),
) -> Result<(), WalkError> {
    let mut at = 0;
    for index in 0..count {
        // The length varint is read from the whole body (Kafka's `readFrom(ByteBuffer)`), so a
        // body that ends before the declared records do is a premature EOF.
        if at >= body.len() {
            return Err(WalkError::PrematureEof);
        }
        let size = read_int(body, &mut at)?;
        let remaining = body.len() - at;
        let size_usize = usize::try_from(size).map_err(|_| WalkError::InvalidStructure)?;
        if size_usize > remaining {
            return Err(WalkError::RecordPastBody {
                expected: size,
                remaining,
            });
        }
        let start = at;
        let record = &body[..start + size_usize];
        at += 1; // attributes: unused in v2
        let timestamp_delta = read_zigzag(record, &mut at, MAX_VARLONG_BYTES)
            .map_err(|_| WalkError::InvalidStructure)?;
        let offset_delta = read_int(record, &mut at)?;
        let tail_start = at;
        let key_len = read_int(record, &mut at)?;
        skip(record, &mut at, key_len, true)?;
        let value_len = read_int(record, &mut at)?;
        skip(record, &mut at, value_len, true)?;
        let headers = read_int(record, &mut at)?;
        if headers < 0 {
            return Err(WalkError::HeaderCount(headers));
        }
        for _ in 0..headers {
            let header_key_len = read_int(record, &mut at)?;
            if header_key_len < 0 {
                return Err(WalkError::HeaderKeySize(header_key_len));
            }
            skip(record, &mut at, header_key_len, false)?;
            let header_value_len = read_int(record, &mut at)?;
            skip(record, &mut at, header_value_len, true)?;
        }
        if at - start != size_usize {
            return Err(WalkError::RecordSizeMismatch {
                expected: size_usize as u64,
                read: (at - start) as u64,
            });
        }
        visit(
            index,
            &RecordFrame {
                timestamp_delta,
                offset_delta,
                key_len,
                value_len,
                tail: Some(tail_start..at),
            },
        );
    }
    if at != body.len() {
        return Err(WalkError::RecordsRemaining);
    }
    Ok(())
}

/// Why a streamed body is not `count` well-formed records.
#[derive(Debug, thiserror::Error)]
pub enum StreamWalkError {
    /// The records are malformed, or the stream ends before they do (Kafka's
    /// `StreamRecordIterator` turns an `EOFException` into the premature-EOF text).
    #[error(transparent)]
    Walk(#[from] WalkError),
    /// The stream itself failed (a body that does not decompress).
    #[error("{0}")]
    Read(std::io::Error),
}

fn stream_failure(e: std::io::Error) -> StreamWalkError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        WalkError::PrematureEof.into()
    } else {
        StreamWalkError::Read(e)
    }
}

/// Reads one zigzag varint of at most `max_bytes` bytes from a stream.
fn stream_zigzag(input: &mut impl Read, max_bytes: usize) -> Result<i64, StreamWalkError> {
    let mut raw = 0u64;
    for i in 0..max_bytes {
        let mut byte = [0u8; 1];
        input.read_exact(&mut byte).map_err(stream_failure)?;
        raw |= u64::from(byte[0] & 0x7f) << (7 * i);
        if byte[0] & 0x80 == 0 {
            return Ok(zigzag_decode(raw));
        }
    }
    Err(WalkError::InvalidStructure.into())
}

fn stream_int(input: &mut impl Read) -> Result<i32, StreamWalkError> {
    i32::try_from(stream_zigzag(input, MAX_VARINT_BYTES)?)
        .map_err(|_| WalkError::InvalidStructure.into())
}

/// Skips a length-prefixed field of `len` bytes (-1: null, when `nullable`) without keeping it.
fn stream_skip(input: &mut impl Read, len: i32, nullable: bool) -> Result<(), StreamWalkError> {
    if len < 0 {
        return if nullable && len == -1 {
            Ok(())
        } else {
            Err(WalkError::InvalidStructure.into())
        };
    }
    let wanted = u64::from(len.unsigned_abs());
    let copied = std::io::copy(&mut input.by_ref().take(wanted), &mut std::io::sink())
        .map_err(stream_failure)?;
    if copied != wanted {
        return Err(WalkError::PrematureEof.into());
    }
    Ok(())
}

/// [`walk_records`] over a body read from `input` (Kafka's `skipKeyValueIterator` over a
/// compressed batch): keys, values and header values are skipped as they are read, so memory
/// stays bounded (one 64 KiB buffer) however far the body expands. Frames have `tail: None`.
pub fn walk_record_stream(
    input: impl Read,
    count: i32,
    mut visit: impl FnMut(i32, &RecordFrame),
) -> Result<(), StreamWalkError> {
    let mut input = std::io::BufReader::with_capacity(64 * 1024, input);
    for index in 0..count {
        let size = stream_int(&mut input)?;
        let size = u64::try_from(size).map_err(|_| WalkError::InvalidStructure)?;
        let mut record = input.by_ref().take(size);
        let mut attributes = [0u8; 1];
        record.read_exact(&mut attributes).map_err(stream_failure)?;
        let timestamp_delta = stream_zigzag(&mut record, MAX_VARLONG_BYTES)?;
        let offset_delta = stream_int(&mut record)?;
        let key_len = stream_int(&mut record)?;
        stream_skip(&mut record, key_len, true)?;
        let value_len = stream_int(&mut record)?;
        stream_skip(&mut record, value_len, true)?;
        let headers = stream_int(&mut record)?;
        if headers < 0 {
            return Err(WalkError::HeaderCount(headers).into());
        }
        for _ in 0..headers {
            let header_key_len = stream_int(&mut record)?;
            if header_key_len < 0 {
                return Err(WalkError::HeaderKeySize(header_key_len).into());
            }
            stream_skip(&mut record, header_key_len, false)?;
            let header_value_len = stream_int(&mut record)?;
            stream_skip(&mut record, header_value_len, true)?;
        }
        if record.limit() != 0 {
            return Err(WalkError::RecordSizeMismatch {
                expected: size,
                read: size - record.limit(),
            }
            .into());
        }
        visit(
            index,
            &RecordFrame {
                timestamp_delta,
                offset_delta,
                key_len,
                value_len,
                tail: None,
            },
        );
    }
    let mut more = [0u8; 1];
    match input.read(&mut more) {
        Ok(0) => Ok(()),
        Ok(_) => Err(WalkError::RecordsRemaining.into()),
        Err(e) => Err(stream_failure(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::varint::{write_varint, write_varlong};
    use proptest::prelude::*;

    /// One record as a test builds it.
    #[derive(Debug, Clone)]
    struct Rec {
        timestamp_delta: i64,
        key: Option<Vec<u8>>,
        value: Option<Vec<u8>>,
        headers: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    }

    fn put_field(out: &mut Vec<u8>, f: Option<&[u8]>) {
        match f {
            None => write_varint(out, -1),
            Some(b) => {
                write_varint(out, b.len() as i32);
                out.extend_from_slice(b);
            }
        }
    }

    fn encode(records: &[Rec]) -> Vec<u8> {
        let mut body = Vec::new();
        for (i, r) in records.iter().enumerate() {
            let mut rec = vec![0u8];
            write_varlong(&mut rec, r.timestamp_delta);
            write_varint(&mut rec, i as i32);
            put_field(&mut rec, r.key.as_deref());
            put_field(&mut rec, r.value.as_deref());
            write_varint(&mut rec, r.headers.len() as i32);
            for (k, v) in &r.headers {
                put_field(&mut rec, Some(k));
                put_field(&mut rec, v.as_deref());
            }
            write_varint(&mut body, rec.len() as i32);
            body.extend_from_slice(&rec);
        }
        body
    }

    fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..max)
    }

    fn rec() -> impl Strategy<Value = Rec> {
        (
            any::<i64>(),
            proptest::option::of(bytes(20)),
            proptest::option::of(bytes(40)),
            proptest::collection::vec((bytes(8), proptest::option::of(bytes(8))), 0..3),
        )
            .prop_map(|(timestamp_delta, key, value, headers)| Rec {
                timestamp_delta,
                key,
                value,
                headers,
            })
    }

    #[test]
    fn kafkas_texts() {
        let body = encode(&[Rec {
            timestamp_delta: 0,
            key: None,
            value: Some(b"v".to_vec()),
            headers: vec![],
        }]);
        assert_eq!(
            walk_records(&body, 2, |_, _| {}),
            Err(WalkError::PrematureEof)
        );
        assert_eq!(
            walk_records(&body, 0, |_, _| {})
                .expect_err("left over")
                .to_string(),
            "Incorrect declared batch size, records still remaining in file"
        );
        assert_eq!(
            walk_records(&body[..body.len() - 1], 1, |_, _| {})
                .expect_err("cut")
                .to_string(),
            "Invalid record size: expected 7 bytes in record payload, but instead the buffer \
             has only 6 remaining bytes."
        );
    }

    proptest! {
        #[test]
        fn built_bodies_walk_to_what_was_built(records in proptest::collection::vec(rec(), 0..6)) {
            let body = encode(&records);
            let mut seen = Vec::new();
            walk_records(&body, records.len() as i32, |i, f| seen.push((i, f.clone())))
                .expect("well-formed body");
            prop_assert_eq!(seen.len(), records.len());
            for ((i, f), r) in seen.iter().zip(&records) {
                prop_assert_eq!(f.offset_delta, *i);
                prop_assert_eq!(f.timestamp_delta, r.timestamp_delta);
                prop_assert_eq!(f.key_len, r.key.as_ref().map_or(-1, |k| k.len() as i32));
                prop_assert_eq!(f.value_len, r.value.as_ref().map_or(-1, |v| v.len() as i32));
                let tail = f.tail.clone().expect("slice walk keeps the tail");
                prop_assert!(tail.end <= body.len());
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(body in bytes(200), count in -2i32..50) {
            let mut n = 0;
            let _ = walk_records(&body, count, |_, _| n += 1);
            prop_assert!(n <= body.len());
        }

        #[test]
        fn the_stream_walk_sees_what_the_slice_walk_sees(records in proptest::collection::vec(rec(), 0..6)) {
            let body = encode(&records);
            let count = records.len() as i32;
            let mut from_slice = Vec::new();
            walk_records(&body, count, |i, f| from_slice.push((i, RecordFrame { tail: None, ..f.clone() })))
                .expect("well-formed body");
            let mut from_stream = Vec::new();
            walk_record_stream(&body[..], count, |i, f| from_stream.push((i, f.clone())))
                .expect("well-formed stream");
            prop_assert_eq!(from_slice, from_stream);
        }

        #[test]
        fn the_stream_walk_accepts_exactly_what_the_slice_walk_accepts(records in proptest::collection::vec(rec(), 1..4), at in any::<usize>(), byte in any::<u8>(), cut in any::<usize>(), count_shift in -1i32..2) {
            let mut body = encode(&records);
            let i = at % body.len();
            body[i] = byte;
            body.truncate(body.len() - cut % 3);
            let count = records.len() as i32 + count_shift;
            let slice = walk_records(&body, count, |_, _| {});
            let stream = walk_record_stream(&body[..], count, |_, _| {});
            prop_assert_eq!(slice.is_ok(), stream.is_ok(), "{:?} vs {:?}", slice, stream);
        }

        #[test]
        fn mutated_bodies_never_panic(records in proptest::collection::vec(rec(), 1..4), at in any::<usize>(), byte in any::<u8>()) {
            let mut body = encode(&records);
            let i = at % body.len();
            body[i] = byte;
            let _ = walk_records(&body, records.len() as i32, |_, _| {});
        }
    }
}
