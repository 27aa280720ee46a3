//! Message sets v0 and v1 (magic 0 and 1, the formats before record batch v2), converted the way
//! Kafka 3.9 converts them: up to one v2 batch on Produce v0-2 (the log stores only v2, as Kafka
//! does with the default `log.message.format.version` 3.0), and down from stored v2 batches on
//! Fetch v0-3.
//!
//! A message set is a sequence of entries `offset int64, message_size int32, message`, where a
//! message is `crc uint32` (CRC-32 IEEE over the rest of the message), `magic int8`,
//! `attributes int8` (bits 0-2 the codec, bit 3 LogAppendTime in v1), `timestamp int64` (v1
//! only), `key bytes` and `value bytes` (int32 lengths, -1 for null). A compressed message (a
//! "wrapper") holds a whole inner message set, compressed, as its value. In v1, inner offsets are
//! relative (0, 1, ...) and the wrapper carries the absolute offset of the last inner message; in
//! v0 inner offsets are absolute.
//!
//! Sources: Kafka 3.9 `LegacyRecord`, `AbstractLegacyRecordBatch` (reading, and the LogAppendTime
//! override of inner timestamps), `LogValidator.convertAndAssignOffsetsNonCompressed` and
//! `validateMessagesAndAssignOffsetsCompressed` (up-conversion: every message of the request
//! becomes one v2 batch, compressed with the producer's codec, without producer id, epoch or
//! sequence), and `RecordsUtil.downConvert` / `convertRecordBatch` (down-conversion: control
//! batches dropped, headers dropped, one wrapper per compressed batch, records before the fetch
//! offset dropped from uncompressed batches).

use bytes::{Buf, BufMut, Bytes, BytesMut};
use indexmap::IndexMap;
use kafka_protocol::compression::{self as cmpr, Compressor, Decompressor};
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions,
    TimestampType, IEEE, NO_PARTITION_LEADER_EPOCH, NO_PRODUCER_EPOCH, NO_PRODUCER_ID,
};
use thiserror::Error;

use super::batch::BATCH_HEADER_LEN;
use common::errors::ErrorCode;

/// Offset of the magic byte in every entry format (v0, v1 and v2 alike).
pub const MAGIC_AT: usize = 16;
/// `offset` + `message_size`.
const LOG_OVERHEAD: usize = 12;
/// crc, magic, attributes, key length, value length (`LegacyRecord.RECORD_OVERHEAD_V0`).
const RECORD_OVERHEAD_V0: usize = 14;
/// v0 plus the timestamp (`LegacyRecord.RECORD_OVERHEAD_V1`).
const RECORD_OVERHEAD_V1: usize = 22;
const CODEC_MASK: i8 = 0x07;
const LOG_APPEND_TIME_FLAG: i8 = 0x08;

/// Why a message set could not be converted; each maps to the error code Kafka answers with.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum LegacyError {
    /// A CRC mismatch or a message too short to be one (`CorruptRecordException`).
    #[error("{0}")]
    Corrupt(String),
    /// A well-formed message Kafka's LogValidator refuses (`InvalidRecordException`).
    #[error("{0}")]
    Invalid(String),
    /// A codec the version cannot carry (`UnsupportedCompressionTypeException`).
    #[error("{0}")]
    UnsupportedCompression(String),
}

impl LegacyError {
    /// The Kafka error code for the partition response.
    pub fn kafka_error_code(&self) -> i16 {
        match self {
            LegacyError::Corrupt(_) => ErrorCode::CorruptMessage,
            LegacyError::Invalid(_) => ErrorCode::InvalidRecord,
            LegacyError::UnsupportedCompression(_) => ErrorCode::UnsupportedCompressionType,
        }
        .code()
    }
}

/// One message of a v0/v1 message set, after unwrapping compression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyMessage {
    /// The absolute offset as sent (producers send 0, 1, ... or all zeros).
    pub offset: i64,
    pub magic: i8,
    /// Milliseconds; -1 (no timestamp) in v0.
    pub timestamp: i64,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
}

/// Whether `records` starts with a v0/v1 message rather than a v2 batch.
pub fn is_legacy(records: &[u8]) -> bool {
    records.len() > MAGIC_AT && records[MAGIC_AT] < 2
}

/// The magic of the first entry, if the set holds one.
pub fn first_magic(records: &[u8]) -> Option<i8> {
    records.get(MAGIC_AT).map(|m| *m as i8)
}

fn codec(id: i8) -> Result<Compression, LegacyError> {
    match id {
        0 => Ok(Compression::None),
        1 => Ok(Compression::Gzip),
        2 => Ok(Compression::Snappy),
        3 => Ok(Compression::Lz4),
        4 => Ok(Compression::Zstd),
        other => Err(LegacyError::Corrupt(format!(
            "Unknown compression type id: {other}"
        ))),
    }
}

fn bytes_field(buf: &mut Bytes, what: &str) -> Result<Option<Bytes>, LegacyError> {
    if buf.remaining() < 4 {
        return Err(LegacyError::Corrupt(format!("{what} length is truncated")));
    }
    let len = buf.get_i32();
    match len {
        -1 => Ok(None),
        n if n < 0 || n as usize > buf.remaining() => Err(LegacyError::Corrupt(format!(
            "Invalid {what} size {n}, only {} bytes left",
            buf.remaining()
        ))),
        n => Ok(Some(buf.split_to(n as usize))),
    }
}

/// XXH32 (seed 0), the hash of the LZ4 frame format's header checksum.
fn xxh32(input: &[u8]) -> u32 {
    const P1: u32 = 2_654_435_761;
    const P2: u32 = 2_246_822_519;
    const P3: u32 = 3_266_489_917;
    const P4: u32 = 668_265_263;
    const P5: u32 = 374_761_393;
    let word = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let round = |acc: u32, lane: u32| {
        acc.wrapping_add(lane.wrapping_mul(P2))
            .rotate_left(13)
            .wrapping_mul(P1)
    };
    let mut stripes = input.chunks_exact(16);
    let mut h = if input.len() >= 16 {
        let mut v = [P1.wrapping_add(P2), P2, 0, 0u32.wrapping_sub(P1)];
        for stripe in &mut stripes {
            for (i, lane) in v.iter_mut().enumerate() {
                *lane = round(*lane, word(&stripe[i * 4..]));
            }
        }
        v[0].rotate_left(1)
            .wrapping_add(v[1].rotate_left(7))
            .wrapping_add(v[2].rotate_left(12))
            .wrapping_add(v[3].rotate_left(18))
    } else {
        P5
    };
    h = h.wrapping_add(input.len() as u32);
    let rest = if input.len() >= 16 {
        stripes.remainder()
    } else {
        input
    };
    let mut words = rest.chunks_exact(4);
    for w in &mut words {
        h = h
            .wrapping_add(word(w).wrapping_mul(P3))
            .rotate_left(17)
            .wrapping_mul(P4);
    }
    for b in words.remainder() {
        h = h
            .wrapping_add(u32::from(*b).wrapping_mul(P5))
            .rotate_left(11)
            .wrapping_mul(P1);
    }
    h ^= h >> 15;
    h = h.wrapping_mul(P2);
    h ^= h >> 13;
    h = h.wrapping_mul(P3);
    h ^ (h >> 16)
}

/// Kafka writes LZ4 in message format v0 with a wrong frame header checksum (KAFKA-3160: the
/// hash also covers the 4 magic bytes; `KafkaLZ4BlockOutputStream.useBrokenFlagDescriptorChecksum`)
/// and ignores that checksum when reading v0. Sets the header checksum of `frame` to the broken
/// (`broken`) or the standard value; a frame too short to have one is left alone.
pub(crate) fn set_lz4_header_checksum(frame: &mut [u8], broken: bool) {
    let Some(flg) = frame.get(4) else {
        return;
    };
    let descriptor = 2 + if flg & 0x08 != 0 { 8 } else { 0 } + if flg & 0x01 != 0 { 4 } else { 0 };
    let at = 4 + descriptor;
    if frame.len() <= at {
        return;
    }
    let from = if broken { 0 } else { 4 };
    frame[at] = (xxh32(&frame[from..at]) >> 8) as u8;
}

fn decompress(codec: Compression, magic: i8, data: Bytes) -> Result<Bytes, LegacyError> {
    let mut data = data;
    if codec == Compression::Lz4 && magic == 0 {
        let mut fixed = data.to_vec();
        set_lz4_header_checksum(&mut fixed, false);
        data = Bytes::from(fixed);
    }
    let copy = |b: &mut Bytes| Ok(b.copy_to_bytes(b.remaining()));
    let result = match codec {
        Compression::None => Ok(data),
        Compression::Gzip => cmpr::Gzip::decompress(&mut data, copy),
        Compression::Snappy => cmpr::Snappy::decompress(&mut data, copy),
        Compression::Lz4 => cmpr::Lz4::decompress(&mut data, copy),
        Compression::Zstd => cmpr::Zstd::decompress(&mut data, copy),
    };
    result.map_err(|e| LegacyError::Corrupt(format!("decompressing a {codec:?} wrapper: {e}")))
}

/// Parses a message set: wrappers are decompressed and their inner messages given absolute
/// offsets (for v1, from the wrapper's offset). A trailing partial entry is dropped, as Kafka
/// trims it before appending. Returns the messages and the codec of the last compressed wrapper
/// (`Compression::None` if there was none).
pub fn parse(records: &[u8]) -> Result<(Vec<LegacyMessage>, Compression), LegacyError> {
    let mut out = Vec::new();
    let mut source = Compression::None;
    parse_into(
        Bytes::copy_from_slice(records),
        false,
        &mut out,
        &mut source,
    )?;
    Ok((out, source))
}

fn parse_into(
    mut buf: Bytes,
    inner: bool,
    out: &mut Vec<LegacyMessage>,
    source: &mut Compression,
) -> Result<(), LegacyError> {
    while buf.remaining() >= LOG_OVERHEAD {
        let offset = i64::from_be_bytes(buf[..8].try_into().unwrap_or_default());
        let size = i32::from_be_bytes(buf[8..12].try_into().unwrap_or_default());
        if size < RECORD_OVERHEAD_V0 as i32 {
            return Err(LegacyError::Corrupt(format!(
                "Record size {size} is less than the minimum record overhead ({RECORD_OVERHEAD_V0})"
            )));
        }
        if LOG_OVERHEAD + size as usize > buf.remaining() {
            if inner {
                return Err(LegacyError::Corrupt(
                    "the inner message set of a compressed message is truncated".into(),
                ));
            }
            break; // a partial trailing message: trimmed
        }
        buf.advance(LOG_OVERHEAD);
        let mut message = buf.split_to(size as usize);
        let stored_crc = message.get_u32();
        let computed = IEEE.checksum(&message);
        if stored_crc != computed {
            return Err(LegacyError::Corrupt(format!(
                "Record is corrupt (stored crc = {stored_crc}, computed crc = {computed})"
            )));
        }
        let magic = message.get_i8();
        let attributes = message.get_i8();
        let timestamp = match magic {
            0 => -1,
            1 if size as usize >= RECORD_OVERHEAD_V1 => message.get_i64(),
            1 => {
                return Err(LegacyError::Corrupt(format!(
                    "Record size {size} is less than the minimum record overhead ({RECORD_OVERHEAD_V1})"
                )))
            }
            other => {
                return Err(LegacyError::Corrupt(format!(
                    "Invalid magic {other} in a v0/v1 message set"
                )))
            }
        };
        let key = bytes_field(&mut message, "key")?;
        let value = bytes_field(&mut message, "value")?;
        let codec = codec(attributes & CODEC_MASK)?;
        if codec == Compression::None {
            out.push(LegacyMessage {
                offset,
                magic,
                timestamp,
                key,
                value,
            });
            continue;
        }
        if inner {
            return Err(LegacyError::Invalid(
                "Compressed outer record should not have an inner record with a compression attribute set"
                    .into(),
            ));
        }
        let Some(value) = value else {
            return Err(LegacyError::Corrupt(
                "a compressed message has a null value".into(),
            ));
        };
        *source = codec;
        let first = out.len();
        parse_into(decompress(codec, magic, value)?, true, out, source)?;
        let wrapped = &mut out[first..];
        let log_append_time = magic == 1 && attributes & LOG_APPEND_TIME_FLAG != 0;
        if magic == 1 {
            // Inner offsets are relative; the wrapper carries the last one's absolute offset.
            let last_relative = wrapped.last().map_or(0, |m| m.offset);
            for m in wrapped.iter_mut() {
                m.offset += offset - last_relative;
            }
        }
        if log_append_time {
            for m in wrapped.iter_mut() {
                m.timestamp = timestamp;
            }
        }
    }
    Ok(())
}

/// Up-converts a v0/v1 message set to one v2 batch with base offset 0 (the log assigns the real
/// one), CreateTime, no producer id/epoch/sequence, compressed with the codec the producer used.
/// Zstd needs Produce v7+, so it is refused here as Kafka refuses it for Produce v0-6.
pub fn up_convert(records: &[u8]) -> Result<BytesMut, LegacyError> {
    let (messages, source) = parse(records)?;
    if source == Compression::Zstd {
        return Err(LegacyError::UnsupportedCompression(
            "Produce requests with version below 7 are not allowed to use ZStandard compression"
                .into(),
        ));
    }
    if messages.is_empty() {
        return Err(LegacyError::Corrupt(
            "the message set holds no message".into(),
        ));
    }
    let converted: Vec<Record> = messages
        .into_iter()
        .enumerate()
        .map(|(i, m)| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: NO_PARTITION_LEADER_EPOCH,
            producer_id: NO_PRODUCER_ID,
            producer_epoch: NO_PRODUCER_EPOCH,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            // The encoder keeps records in one batch while offset - sequence is constant; the
            // batch's base sequence comes out as -1 (no sequence), as Kafka writes it.
            sequence: (i as i32).wrapping_sub(1),
            timestamp: m.timestamp,
            key: m.key,
            value: m.value,
            headers: IndexMap::new(),
        })
        .collect();
    let mut out = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut out,
        converted.iter(),
        &RecordEncodeOptions {
            version: 2,
            compression: source,
        },
    )
    .map_err(|e| LegacyError::Corrupt(format!("re-encoding as a v2 batch: {e}")))?;
    Ok(out)
}

/// Writes one v0/v1 message (entry header included) to `out`.
fn write_message(
    out: &mut BytesMut,
    magic: i8,
    offset: i64,
    attributes: i8,
    timestamp: i64,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
) {
    let mut body = BytesMut::new();
    body.put_i8(magic);
    body.put_i8(attributes);
    if magic >= 1 {
        body.put_i64(timestamp);
    }
    for field in [key, value] {
        match field {
            None => body.put_i32(-1),
            Some(b) => {
                body.put_i32(b.len() as i32);
                body.put_slice(b);
            }
        }
    }
    out.put_i64(offset);
    out.put_i32(body.len() as i32 + 4);
    out.put_u32(IEEE.checksum(&body));
    out.put_slice(&body);
}

fn compress(codec: Compression, magic: i8, data: &[u8]) -> Result<BytesMut, LegacyError> {
    let mut out = BytesMut::new();
    let fill = |b: &mut BytesMut| {
        b.put_slice(data);
        Ok(())
    };
    let result = match codec {
        Compression::None => {
            out.put_slice(data);
            Ok(())
        }
        Compression::Gzip => cmpr::Gzip::compress(&mut out, fill),
        Compression::Snappy => cmpr::Snappy::compress(&mut out, fill),
        Compression::Lz4 => cmpr::Lz4::compress(&mut out, fill),
        Compression::Zstd => cmpr::Zstd::compress(&mut out, fill),
    };
    result.map_err(|e| LegacyError::Corrupt(format!("compressing a {codec:?} wrapper: {e}")))?;
    if codec == Compression::Lz4 && magic == 0 {
        set_lz4_header_checksum(&mut out, true);
    }
    Ok(out)
}

/// Down-converts stored v2 batches (whole batches, as the log reads them) to a v0 or v1 message
/// set for a Fetch v0-3 starting at `fetch_offset`. Control batches are dropped, headers are
/// dropped, a compressed batch becomes one wrapper with the same codec, and records before
/// `fetch_offset` in an uncompressed batch are left out. Batches the decoder cannot read (a torn
/// tail) end the conversion.
pub fn down_convert(batches: &[u8], magic: i8, fetch_offset: i64) -> Result<Bytes, LegacyError> {
    let mut input = Bytes::copy_from_slice(batches);
    let mut out = BytesMut::new();
    while input.remaining() >= BATCH_HEADER_LEN {
        let batch_len = i32::from_be_bytes(input[8..12].try_into().unwrap_or_default());
        let total = LOG_OVERHEAD + batch_len.max(0) as usize;
        if batch_len < 0 || total > input.remaining() {
            break;
        }
        let mut one = input.split_to(total);
        let attributes = i16::from_be_bytes([one[21], one[22]]);
        let header_max_timestamp = i64::from_be_bytes(one[35..43].try_into().unwrap_or_default());
        if one[MAGIC_AT] != 2 || attributes & 0x20 != 0 {
            continue; // not a v2 batch (never stored), or a control batch
        }
        // The crate's decoder trusts the record count; stored batches were validated on append,
        // but a panic here must still not take the connection task down.
        let decoded = std::panic::catch_unwind(move || RecordBatchDecoder::decode(&mut one));
        let set = match decoded {
            Ok(Ok(set)) => set,
            _ => break,
        };
        let compressed = set.compression != Compression::None;
        let records: Vec<&Record> = set
            .records
            .iter()
            .filter(|r| compressed || r.offset >= fetch_offset)
            .collect();
        let Some(first) = records.first() else {
            continue;
        };
        let log_append = attributes & 0x08 != 0;
        // A LogAppendTime batch's records all carry the append time, its max timestamp.
        let max_timestamp = if log_append {
            header_max_timestamp
        } else {
            records.iter().map(|r| r.timestamp).max().unwrap_or(-1)
        };
        let ts_flag = if log_append && magic >= 1 {
            LOG_APPEND_TIME_FLAG
        } else {
            0
        };
        let timestamp_of = |r: &Record| {
            if log_append {
                max_timestamp
            } else {
                r.timestamp
            }
        };
        if !compressed {
            for r in &records {
                write_message(
                    &mut out,
                    magic,
                    r.offset,
                    ts_flag,
                    timestamp_of(r),
                    r.key.as_deref(),
                    r.value.as_deref(),
                );
            }
            continue;
        }
        let base = first.offset;
        let mut inner = BytesMut::new();
        for r in &records {
            let inner_offset = if magic >= 1 {
                r.offset - base
            } else {
                r.offset
            };
            write_message(
                &mut inner,
                magic,
                inner_offset,
                ts_flag,
                timestamp_of(r),
                r.key.as_deref(),
                r.value.as_deref(),
            );
        }
        let wrapped = compress(set.compression, magic, &inner)?;
        let last_offset = records.last().map_or(base, |r| r.offset);
        write_message(
            &mut out,
            magic,
            last_offset,
            set.compression as i8 | ts_flag,
            max_timestamp,
            None,
            Some(&wrapped),
        );
    }
    Ok(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (offset, timestamp, key, value)
    type Entry<'a> = (i64, i64, Option<&'a [u8]>, Option<&'a [u8]>);

    fn message_set(magic: i8, entries: &[Entry<'_>], attributes: i8) -> BytesMut {
        let mut out = BytesMut::new();
        for (offset, ts, key, value) in entries {
            write_message(&mut out, magic, *offset, attributes, *ts, *key, *value);
        }
        out
    }

    fn wrapper(magic: i8, codec: Compression, offset: i64, inner: &[u8], ts: i64) -> BytesMut {
        let compressed = compress(codec, magic, inner).unwrap();
        let mut out = BytesMut::new();
        write_message(
            &mut out,
            magic,
            offset,
            codec as i8,
            ts,
            None,
            Some(&compressed),
        );
        out
    }

    fn decode_v2(bytes: &[u8]) -> Vec<Record> {
        let mut b = Bytes::copy_from_slice(bytes);
        let sets = RecordBatchDecoder::decode_all(&mut b).unwrap();
        assert_eq!(sets.len(), 1, "exactly one v2 batch");
        sets.into_iter().next().unwrap().records
    }

    #[test]
    fn uncompressed_v1_set_becomes_one_v2_batch_with_keys_timestamps_and_offsets() {
        let set = message_set(
            1,
            &[
                (0, 1_000, Some(b"k1"), Some(b"v1")),
                (1, 2_000, None, Some(b"v2")),
                (2, 1_500, Some(b"k3"), None),
            ],
            0,
        );
        let batch = up_convert(&set).unwrap();
        let header = crate::log::BatchHeader::new(&batch[..]).unwrap();
        assert_eq!(header.magic(), 2);
        assert_eq!(header.producer_id(), -1);
        assert_eq!(header.base_sequence(), -1);
        let records = decode_v2(&batch);
        let got: Vec<_> = records
            .iter()
            .map(|r| (r.offset, r.timestamp, r.key.clone(), r.value.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    0,
                    1_000,
                    Some(Bytes::from_static(b"k1")),
                    Some(Bytes::from_static(b"v1"))
                ),
                (1, 2_000, None, Some(Bytes::from_static(b"v2"))),
                (2, 1_500, Some(Bytes::from_static(b"k3")), None),
            ]
        );
        assert_eq!(header.max_timestamp(), 2_000);
    }

    #[test]
    fn v0_messages_have_no_timestamp_after_conversion() {
        let set = message_set(0, &[(0, 0, None, Some(b"a")), (0, 0, None, Some(b"b"))], 0);
        let records = decode_v2(&up_convert(&set).unwrap());
        assert_eq!(records.len(), 2);
        assert!(records.iter().all(|r| r.timestamp == -1));
        assert_eq!(records[1].offset, 1, "offsets are reassigned in order");
    }

    #[test]
    fn compressed_wrappers_are_unwrapped_and_keep_their_codec() {
        for codec in [Compression::Gzip, Compression::Snappy, Compression::Lz4] {
            // v1: inner offsets are relative, the wrapper holds the last absolute offset.
            let inner = message_set(
                1,
                &[
                    (0, 10, Some(b"a"), Some(b"1")),
                    (1, 20, Some(b"b"), Some(b"2")),
                ],
                0,
            );
            let set = wrapper(1, codec, 1, &inner, 20);
            let (messages, source) = parse(&set).unwrap();
            assert_eq!(source, codec);
            assert_eq!(
                messages.iter().map(|m| m.offset).collect::<Vec<_>>(),
                vec![0, 1]
            );
            let batch = up_convert(&set).unwrap();
            let header = crate::log::BatchHeader::new(&batch[..]).unwrap();
            assert_eq!(header.attributes() & 0x07, codec as i16, "{codec:?}");
            let records = decode_v2(&batch);
            assert_eq!(records.len(), 2);
            assert_eq!(records[0].key.as_deref(), Some(&b"a"[..]));
            assert_eq!(records[1].timestamp, 20);
        }
    }

    #[test]
    fn log_append_time_wrapper_overrides_inner_timestamps() {
        let inner = message_set(
            1,
            &[(0, 10, None, Some(b"x")), (1, 20, None, Some(b"y"))],
            0,
        );
        let compressed = compress(Compression::Gzip, 1, &inner).unwrap();
        let mut set = BytesMut::new();
        write_message(
            &mut set,
            1,
            1,
            Compression::Gzip as i8 | LOG_APPEND_TIME_FLAG,
            999,
            None,
            Some(&compressed),
        );
        let (messages, _) = parse(&set).unwrap();
        assert!(messages.iter().all(|m| m.timestamp == 999));
    }

    #[test]
    fn bad_crc_is_corrupt_and_nested_compression_is_invalid() {
        let mut set = message_set(1, &[(0, 1, None, Some(b"v"))], 0);
        let last = set.len() - 1;
        set[last] ^= 0xff;
        let err = up_convert(&set).unwrap_err();
        assert_eq!(err.kafka_error_code(), ErrorCode::CorruptMessage.code());

        let innermost = message_set(1, &[(0, 1, None, Some(b"v"))], 0);
        let inner = wrapper(1, Compression::Gzip, 0, &innermost, 1);
        let set = wrapper(1, Compression::Gzip, 0, &inner, 1);
        let err = up_convert(&set).unwrap_err();
        assert_eq!(err.kafka_error_code(), ErrorCode::InvalidRecord.code());
    }

    #[test]
    fn zstd_and_short_messages_are_refused() {
        let inner = message_set(1, &[(0, 1, None, Some(b"v"))], 0);
        let set = wrapper(1, Compression::Zstd, 0, &inner, 1);
        assert_eq!(
            up_convert(&set).unwrap_err().kafka_error_code(),
            ErrorCode::UnsupportedCompressionType.code()
        );
        let mut short = BytesMut::new();
        short.put_i64(0);
        short.put_i32(5);
        short.put_slice(&[0; 5]);
        assert_eq!(
            up_convert(&short).unwrap_err().kafka_error_code(),
            ErrorCode::CorruptMessage.code()
        );
    }

    #[test]
    fn partial_trailing_message_is_trimmed() {
        let mut set = message_set(1, &[(0, 1, None, Some(b"a")), (1, 2, None, Some(b"b"))], 0);
        set.truncate(set.len() - 3);
        let (messages, _) = parse(&set).unwrap();
        assert_eq!(messages.len(), 1);
    }

    fn stored_batch(base: i64, n: usize, codec: Compression, log_append: bool) -> BytesMut {
        let records: Vec<Record> = (0..n)
            .map(|i| Record {
                transactional: false,
                control: false,
                delete_horizon: false,
                partition_leader_epoch: 0,
                producer_id: -1,
                producer_epoch: -1,
                timestamp_type: if log_append {
                    TimestampType::LogAppend
                } else {
                    TimestampType::Creation
                },
                offset: base + i as i64,
                sequence: (base + i as i64) as i32 - 1,
                timestamp: 100 + i as i64,
                key: Some(Bytes::from(format!("k{i}"))),
                value: Some(Bytes::from(format!("v{i}"))),
                headers: [(
                    kafka_protocol::protocol::StrBytes::from_static_str("h"),
                    Some(Bytes::from_static(b"x")),
                )]
                .into_iter()
                .collect(),
            })
            .collect();
        let mut out = BytesMut::new();
        RecordBatchEncoder::encode(
            &mut out,
            records.iter(),
            &RecordEncodeOptions {
                version: 2,
                compression: codec,
            },
        )
        .unwrap();
        if log_append {
            out[22] |= 0x08;
            out[35..43].copy_from_slice(&5_000i64.to_be_bytes());
            let crc = crc32c::crc32c(&out[21..]);
            out[17..21].copy_from_slice(&crc.to_be_bytes());
        }
        out
    }

    #[test]
    fn down_conversion_to_v1_keeps_offsets_timestamps_and_drops_records_before_the_fetch_offset() {
        let mut stored = stored_batch(10, 3, Compression::None, false);
        stored.extend_from_slice(&stored_batch(13, 2, Compression::None, false));
        let converted = down_convert(&stored, 1, 11).unwrap();
        let (messages, _) = parse(&converted).unwrap();
        let got: Vec<_> = messages.iter().map(|m| (m.offset, m.timestamp)).collect();
        assert_eq!(got, vec![(11, 101), (12, 102), (13, 100), (14, 101)]);
        assert!(messages.iter().all(|m| m.magic == 1));
        assert_eq!(messages[0].key.as_deref(), Some(&b"k1"[..]));
    }

    #[test]
    fn down_conversion_of_a_compressed_batch_is_one_wrapper_per_batch() {
        for magic in [0, 1] {
            let stored = stored_batch(5, 3, Compression::Gzip, false);
            let converted = down_convert(&stored, magic, 6).unwrap();
            // The wrapper's own offset is the last inner one's.
            assert_eq!(i64::from_be_bytes(converted[..8].try_into().unwrap()), 7);
            assert_eq!(converted[MAGIC_AT] as i8, magic);
            let (messages, source) = parse(&converted).unwrap();
            assert_eq!(source, Compression::Gzip);
            let offsets: Vec<_> = messages.iter().map(|m| m.offset).collect();
            assert_eq!(offsets, vec![5, 6, 7], "magic {magic}");
            let expected_ts = if magic == 0 { -1 } else { 100 };
            assert_eq!(messages[0].timestamp, expected_ts);
        }
    }

    #[test]
    fn down_conversion_stamps_log_append_time_and_skips_control_batches() {
        let stored = stored_batch(0, 2, Compression::None, true);
        let mut control = stored_batch(2, 1, Compression::None, false);
        control[22] |= 0x20; // the control flag: the batch is dropped before being decoded
        let mut all = stored.clone();
        all.extend_from_slice(&control);
        let converted = down_convert(&all, 1, 0).unwrap();
        let (messages, _) = parse(&converted).unwrap();
        assert_eq!(messages.len(), 2);
        assert!(messages.iter().all(|m| m.timestamp == 5_000));
        assert_eq!(
            converted[17] as i8 & LOG_APPEND_TIME_FLAG,
            LOG_APPEND_TIME_FLAG
        );
    }

    #[test]
    fn xxh32_matches_the_reference_vectors() {
        assert_eq!(xxh32(b""), 0x02CC_5D05);
        assert_eq!(xxh32(b"a"), 0x550D_7456);
        assert_eq!(xxh32(b"abc"), 0x32D1_53FF);
        assert_eq!(
            xxh32(b"Nobody inspects the spammish repetition"),
            0xE229_3B2F
        );
    }

    #[test]
    fn lz4_in_magic_0_carries_kafkas_broken_header_checksum_both_ways() {
        let inner = message_set(0, &[(0, 0, Some(b"k"), Some(b"lz4 in v0"))], 0);
        let compressed = compress(Compression::Lz4, 0, &inner).unwrap();
        let mut standard = compressed.to_vec();
        set_lz4_header_checksum(&mut standard, false);
        assert_ne!(
            standard,
            compressed.to_vec(),
            "the v0 checksum is the broken one"
        );
        let mut set = BytesMut::new();
        write_message(
            &mut set,
            0,
            0,
            Compression::Lz4 as i8,
            -1,
            None,
            Some(&compressed),
        );
        let (messages, source) = parse(&set).unwrap();
        assert_eq!(source, Compression::Lz4);
        assert_eq!(messages[0].value.as_deref(), Some(&b"lz4 in v0"[..]));
        // Down-converting an lz4 batch to v0 writes the broken checksum too.
        let stored = stored_batch(0, 2, Compression::Lz4, false);
        let converted = down_convert(&stored, 0, 0).unwrap();
        assert_eq!(parse(&converted).unwrap().0.len(), 2);
    }

    #[test]
    fn round_trip_v0_to_v2_to_v0() {
        let set = message_set(0, &[(0, 0, Some(b"k"), Some(b"v"))], 0);
        let batch = up_convert(&set).unwrap();
        let back = down_convert(&batch, 0, 0).unwrap();
        assert_eq!(&back[..], &set[..]);
    }
}
