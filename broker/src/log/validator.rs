//! Kafka's `LogValidator` (3.9: `storage/.../internals/log/LogValidator.java`) for the v2 batches a
//! client produces: the header fields the broker must not take on trust are checked or
//! recomputed before the batch is appended, and the batch is rewritten in place (with a new
//! CRC-32C) when a field changes.
//!
//! What is checked, per batch (after `batch::check_batch` has checked length, magic,
//! lastOffsetDelta against recordsCount, the size limit and the CRC):
//! - a control batch from a client: INVALID_RECORD;
//! - a producer id with a negative base sequence: INVALID_RECORD;
//! - a codec id outside 0-4: UNSUPPORTED_COMPRESSION_TYPE;
//! - the records themselves, when they are walked (below): their structure and that there are
//!   exactly `recordsCount` of them (INVALID_RECORD), their timestamps against
//!   `message.timestamp.before.max.ms` / `after.max.ms` on CreateTime topics, and a producer
//!   that set the LogAppendTime flag itself (both INVALID_TIMESTAMP, with one `RecordError` per
//!   record, as Produce v8+ reports them).
//!
//! What is recomputed: `maxTimestamp` and the timestamp-type attribute. On a LogAppendTime topic
//! the batch gets the append time as `maxTimestamp` and attribute bit 3 set (the record
//! timestamps stay as sent, as Kafka leaves them in a v2 batch); on a CreateTime topic
//! `maxTimestamp` becomes the largest record timestamp, so a producer that sent -1 (older
//! clients do) no longer hides its records from ListOffsets by time.
//!
//! The records of every batch are walked, as Kafka's `LogValidator` iterates them: only the
//! record framing is read (varints and lengths; keys, values and headers are skipped, never
//! copied), which for an uncompressed batch costs less than the CRC already computed over the
//! same bytes. A compressed batch is decompressed for the walk, as a stream for gzip, LZ4 and
//! zstd so that keys and values are skipped as they are decoded and memory stays bounded however
//! far a body expands (Kafka's `skipKeyValueIterator` does the same), but appended as sent
//! unless its inner offsets are not 0, 1, ..., n-1 (then the append rebuilds it with the same
//! codec, as Kafka's `inPlaceAssignment = false` does): no header field says how many records the compressed
//! body really holds, and a `recordsCount` that differs from it would give the log overlapping
//! or missing offsets, so it cannot be taken on trust.

use std::io::Read;

use bytes::Bytes;
use kafka_protocol::compression::{Decompressor, Gzip, Lz4, Snappy, Zstd};

use super::batch::{
    batch_crc, BatchHeader, BATCH_HEADER_LEN, COMPRESSION_MASK, CONTROL_FLAG, CRC_START,
    TIMESTAMP_TYPE_FLAG, TRANSACTIONAL_FLAG,
};
use super::LogError;

/// Kafka's `RecordBatch.NO_TIMESTAMP`.
pub const NO_TIMESTAMP: i64 = -1;

/// Attribute bits `setMaxTimestamp` keeps when it rewrites the attributes (Kafka's
/// `computeAttributes`: codec, timestamp type, transactional, control, delete horizon).
const KEPT_ATTRIBUTES: i16 = COMPRESSION_MASK | TRANSACTIONAL_FLAG | CONTROL_FLAG | 0x40;

/// A topic's `message.timestamp.type` (broker default `log.message.timestamp.type`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TimestampType {
    /// Records keep the producer's timestamps.
    #[default]
    CreateTime,
    /// The broker stamps the append time into each batch.
    LogAppendTime,
}

impl TimestampType {
    /// Kafka's config values `CreateTime` / `LogAppendTime`.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "CreateTime" => Some(TimestampType::CreateTime),
            "LogAppendTime" => Some(TimestampType::LogAppendTime),
            _ => None,
        }
    }
}

/// One refused record: Kafka's `ProduceResponse.RecordError` (KIP-467), `batch_index` being the
/// record's position in its batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordError {
    pub batch_index: i32,
    pub message: String,
}

/// The timestamp rules of one topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimestampRules {
    pub timestamp_type: TimestampType,
    /// `message.timestamp.before.max.ms`: how far in the past a CreateTime record may be.
    pub before_max_ms: i64,
    /// `message.timestamp.after.max.ms`: how far in the future a CreateTime record may be.
    pub after_max_ms: i64,
}

impl Default for TimestampRules {
    fn default() -> Self {
        TimestampRules {
            timestamp_type: TimestampType::CreateTime,
            before_max_ms: i64::MAX,
            after_max_ms: i64::MAX,
        }
    }
}

use common::record::varint::MAX_VARINT_BYTES;
use common::record::walk_records as walk_body;
pub(super) use common::record::RecordFrame;
use common::record::StreamWalkError;

/// Reads the framing of every record in `body` (the records of a batch, decompressed), checking
/// that there are exactly `count` of them and nothing after; `visit` sees each one
/// (`common::record::walk_records`, its errors as INVALID_RECORD).
pub(super) fn walk_records(
    body: &[u8],
    count: i32,
    visit: impl FnMut(i32, &RecordFrame),
) -> Result<(), LogError> {
    walk_body(body, count, visit).map_err(LogError::from)
}

/// The largest size a snappy stream of `compressed` bytes can honestly claim: snappy expands at
/// most about 21 times (a 3-byte copy emits 64 bytes); a bigger claim is forged and must not be
/// allocated.
fn snappy_claim_is_plausible(body: &[u8]) -> bool {
    const XERIAL_MAGIC: &[u8] = b"\x82SNAPPY\x00";
    let limit = |compressed: usize| compressed.saturating_mul(32).saturating_add(64);
    // Snappy's preamble is the uncompressed length as an unsigned varint of at most 5 bytes.
    let uvarint =
        |buf: &[u8]| common::record::varint::read_unsigned(buf, &mut 0, MAX_VARINT_BYTES).ok();
    if !body.starts_with(XERIAL_MAGIC) {
        return uvarint(body).is_some_and(|n| n <= limit(body.len()) as u64);
    }
    // xerial framing: 16 header bytes, then blocks of (u32 length, raw snappy).
    let mut at = 16;
    while at < body.len() {
        let Some(len) = body.get(at..at + 4) else {
            return false;
        };
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let Some(block) = body.get(at + 4..(at + 4).saturating_add(len)) else {
            return false;
        };
        if uvarint(block).is_none_or(|n| n > limit(block.len()) as u64) {
            return false;
        }
        at += 4 + len;
    }
    true
}

/// `common::record::walk_record_stream` with its errors as the log's: a record error is
/// INVALID_RECORD, a decoder's failure CORRUPT_MESSAGE.
fn walk_record_stream(
    input: impl Read,
    count: i32,
    visit: impl FnMut(i32, &RecordFrame),
) -> Result<(), LogError> {
    common::record::walk_record_stream(input, count, visit).map_err(|e| match e {
        StreamWalkError::Walk(w) => w.into(),
        StreamWalkError::Read(e) => {
            LogError::CorruptMessage(format!("records do not decompress: {e}"))
        }
    })
}

/// Walks the records of a batch with codec `codec` (its `body`: the bytes after the header).
/// Snappy bodies are decompressed whole (their claimed size is bounded by
/// `snappy_claim_is_plausible`); gzip, LZ4 and zstd are read as streams.
fn walk_batch_records(
    codec: u8,
    body: &[u8],
    count: i32,
    visit: impl FnMut(i32, &RecordFrame),
) -> Result<(), LogError> {
    let corrupt =
        |e: std::io::Error| LogError::CorruptMessage(format!("records do not decompress: {e}"));
    match codec {
        0 => walk_records(body, count, visit),
        // Java's GZIPInputStream reads concatenated members too.
        1 => walk_record_stream(flate2::read::MultiGzDecoder::new(body), count, visit),
        3 => {
            if !lz4_frame_is_complete(body) {
                return Err(LogError::CorruptMessage("Stream ended prematurely".into()));
            }
            walk_record_stream(lz4::Decoder::new(body).map_err(corrupt)?, count, visit)
        }
        4 => walk_record_stream(
            zstd::stream::read::Decoder::new(body).map_err(corrupt)?,
            count,
            visit,
        ),
        _ => walk_records(&decompress(codec, body)?, count, visit),
    }
}

/// Whether an LZ4 frame's blocks all lie within `body` and the frame ends with its end mark, as
/// Kafka's `KafkaLZ4BlockInputStream` reads it (a block running past the body is "Stream ended
/// prematurely"). The decoder we use stops quietly at the end of its input, so a frame whose end
/// mark was lost or overwritten would otherwise be stored for stricter clients to fail on.
fn lz4_frame_is_complete(body: &[u8]) -> bool {
    const MAGIC: [u8; 4] = [0x04, 0x22, 0x4d, 0x18];
    const FLG_BLOCK_CHECKSUM: u8 = 0x10;
    const FLG_CONTENT_SIZE: u8 = 0x08;
    const FLG_DICT_ID: u8 = 0x01;
    if body.len() < 7 || body[..4] != MAGIC {
        // Not a frame at all: left to the decoder, which refuses it.
        return true;
    }
    let flg = body[4];
    // magic, FLG, BD, optional content size and dictionary id, header checksum.
    let mut at = 6;
    if flg & FLG_CONTENT_SIZE != 0 {
        at += 8;
    }
    if flg & FLG_DICT_ID != 0 {
        at += 4;
    }
    at += 1;
    loop {
        let Some(word) = body.get(at..at + 4) else {
            return false;
        };
        at += 4;
        let size = u32::from_le_bytes([word[0], word[1], word[2], word[3]]) & 0x7fff_ffff;
        if size == 0 {
            return true;
        }
        let checksum = if flg & FLG_BLOCK_CHECKSUM != 0 { 4 } else { 0 };
        at = at.saturating_add(size as usize).saturating_add(checksum);
        if at > body.len() {
            return false;
        }
    }
}

/// The records of a compressed batch, decompressed (Kafka answers a body that does not
/// decompress with CORRUPT_MESSAGE).
pub(super) fn decompress(codec: u8, body: &[u8]) -> Result<Bytes, LogError> {
    let mut input = body;
    let take = |b: &mut Bytes| Ok(b.clone());
    let result = match codec {
        1 => Gzip::decompress(&mut input, take),
        2 => {
            if !snappy_claim_is_plausible(body) {
                return Err(LogError::CorruptMessage(
                    "snappy stream claims more bytes than it can hold".into(),
                ));
            }
            Snappy::decompress(&mut input, take)
        }
        3 => {
            if !lz4_frame_is_complete(body) {
                return Err(LogError::CorruptMessage("Stream ended prematurely".into()));
            }
            Lz4::decompress(&mut input, take)
        }
        4 => Zstd::decompress(&mut input, take),
        other => {
            return Err(LogError::UnsupportedCompression(format!(
                "Unknown compression type id: {other}"
            )))
        }
    };
    result.map_err(|e| LogError::CorruptMessage(format!("records do not decompress: {e:#}")))
}

/// What `validate_client_batch` did to one batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validated {
    /// `maxTimestamp` as stored now (the append time on a LogAppendTime topic).
    pub max_timestamp: i64,
    /// The header was rewritten (and its CRC recomputed).
    pub rewritten: bool,
    /// Every walked record's offset (baseOffset as sent plus its offset delta) is its position
    /// in the batch: 0, 1, ..., n-1, as Kafka's `validateMessagesAndAssignOffsetsCompressed`
    /// expects of the inner offsets of a compressed batch (when they are not, Kafka rebuilds
    /// the batch rather than refusing it: `inPlaceAssignment = false`).
    pub inner_offsets_in_order: bool,
}

/// Checks one client batch (`batch`: exactly one whole batch that passed `check_batch`) against
/// Kafka's `LogValidator` rules and rewrites `maxTimestamp` and the timestamp type in place where
/// they must change, recomputing the CRC. `topic_partition` (`name-N`) goes into the messages as
/// Kafka puts it there; `now_ms` is the append time.
pub fn validate_client_batch(
    batch: &mut [u8],
    topic_partition: &str,
    rules: &TimestampRules,
    now_ms: i64,
) -> Result<Validated, LogError> {
    validate_client_batch_in(
        batch,
        topic_partition,
        rules,
        now_ms,
        false,
        AppendOrigin::Client,
    )
}

/// Who is appending (Kafka's `AppendOrigin`): a client's produce request, or a coordinator of
/// this broker (the group coordinator's transactional offset commits carry a producer id with
/// no sequence, which only a client may not send).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendOrigin {
    Client,
    Coordinator,
}

/// `validate_client_batch` for a topic that may be compacted: on a compacted topic
/// (`compacted`) every record must have a key, as Kafka's `LogValidator.validateKey` demands;
/// a keyless record is refused with INVALID_RECORD and the per-record message
/// `Compacted topic cannot accept message without key in topic partition <tp>` (Kafka 3.9's
/// text, without a final period), checked before the record's timestamp. Errors of both kinds
/// are gathered as Kafka's `processRecordErrors` gathers them: INVALID_TIMESTAMP when any is a
/// timestamp error, else INVALID_RECORD.
pub fn validate_client_batch_in(
    batch: &mut [u8],
    topic_partition: &str,
    rules: &TimestampRules,
    now_ms: i64,
    compacted: bool,
    origin: AppendOrigin,
) -> Result<Validated, LogError> {
    let checked = check_client_batch(&*batch, topic_partition, rules, now_ms, compacted, origin)?;
    Ok(Validated {
        max_timestamp: checked.max_timestamp,
        rewritten: set_max_timestamp(batch, checked.timestamp_type_flag, checked.max_timestamp),
        inner_offsets_in_order: checked.inner_offsets_in_order,
    })
}

/// What [`check_client_batch`] found: what the stored header must say, and whether the inner
/// offsets are in order (see [`Validated`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checked {
    /// The `maxTimestamp` to store (the append time on a LogAppendTime topic).
    pub max_timestamp: i64,
    /// The timestamp type bit to store: 0 or `TIMESTAMP_TYPE_FLAG`.
    pub timestamp_type_flag: i16,
    pub inner_offsets_in_order: bool,
}

/// The checks of [`validate_client_batch_in`] without touching the batch, which may be shared
/// with the request it came in: [`stamp_header`] then applies the result to a copy of the
/// header.
pub fn check_client_batch(
    batch: &[u8],
    topic_partition: &str,
    rules: &TimestampRules,
    now_ms: i64,
    compacted: bool,
    origin: AppendOrigin,
) -> Result<Checked, LogError> {
    let header = BatchHeader::new(batch)?;
    if header.is_control() {
        return Err(LogError::InvalidRecord(format!(
            "Clients are not allowed to write control records in topic partition {topic_partition}"
        )));
    }
    if origin == AppendOrigin::Client && header.producer_id() >= 0 && header.base_sequence() < 0 {
        return Err(LogError::InvalidRecord(format!(
            "Invalid sequence number {} in record batch with producerId {} in topic partition \
             {topic_partition}",
            header.base_sequence(),
            header.producer_id()
        )));
    }
    let codec = header.compression();
    if codec > 4 {
        return Err(LogError::UnsupportedCompression(format!(
            "Unknown compression type id: {codec}"
        )));
    }
    let sent_log_append_time = header.is_log_append_time();
    let base_timestamp = header.base_timestamp();
    let base_offset = header.base_offset();
    let count = header.records_count();
    let create_time = rules.timestamp_type == TimestampType::CreateTime;

    let mut computed_max = NO_TIMESTAMP;
    let mut inner_offsets_in_order = true;
    {
        let mut errors = Vec::new();
        let mut timestamp_errors = false;
        walk_batch_records(codec, &batch[BATCH_HEADER_LEN..], count, |index, r| {
            let timestamp = base_timestamp.saturating_add(r.timestamp_delta);
            let offset = base_offset.saturating_add(i64::from(r.offset_delta));
            if offset != i64::from(index) {
                inner_offsets_in_order = false;
            }
            if timestamp > computed_max {
                computed_max = timestamp;
            }
            // Kafka's `validateRecord`: the key first, then the timestamp.
            if compacted && r.key_len < 0 {
                errors.push(RecordError {
                    batch_index: index,
                    message: format!(
                        "Compacted topic cannot accept message without key in topic partition \
                         {topic_partition}"
                    ),
                });
                return;
            }
            let before = errors.len();
            // Kafka's `validateTimestamp`, record by record.
            if create_time && timestamp != NO_TIMESTAMP {
                let diff = now_ms.saturating_sub(timestamp);
                if diff > rules.before_max_ms || diff.saturating_neg() > rules.after_max_ms {
                    errors.push(RecordError {
                        batch_index: index,
                        message: format!(
                            "Timestamp {timestamp} of message with offset {offset} is out of \
                             range. The timestamp should be within [{}, {}]",
                            now_ms.saturating_sub(rules.before_max_ms),
                            now_ms.saturating_add(rules.after_max_ms)
                        ),
                    });
                }
            } else if sent_log_append_time {
                errors.push(RecordError {
                    batch_index: index,
                    message: format!(
                        "Invalid timestamp type in message DefaultRecord(offset={offset}, \
                         timestamp={timestamp}, key={} bytes, value={} bytes). Producer should \
                         not set timestamp type to LogAppendTime.",
                        r.key_len.max(0),
                        r.value_len.max(0)
                    ),
                });
            }
            timestamp_errors |= errors.len() > before;
        })?;
        if timestamp_errors {
            return Err(LogError::InvalidTimestamp { errors });
        }
        if !errors.is_empty() {
            return Err(LogError::InvalidRecords { errors });
        }
    }

    let (stamp_type, stamp) = match rules.timestamp_type {
        TimestampType::LogAppendTime => (TIMESTAMP_TYPE_FLAG, now_ms),
        TimestampType::CreateTime => (0, computed_max),
    };
    Ok(Checked {
        max_timestamp: stamp,
        timestamp_type_flag: stamp_type,
        inner_offsets_in_order,
    })
}

/// [`set_max_timestamp`] on a copy of a batch's header (`header`), the rest of the batch
/// (`body`) staying where it is: the CRC is computed over the new header fields and `body`.
pub fn stamp_header(
    header: &mut [u8; BATCH_HEADER_LEN],
    body: &[u8],
    type_flag: i16,
    max_timestamp: i64,
) -> bool {
    let current = BatchHeader::new(&header[..]).map(|h| (h.attributes(), h.max_timestamp()));
    let Ok((attributes, current_max)) = current else {
        return false;
    };
    if attributes & TIMESTAMP_TYPE_FLAG == type_flag && current_max == max_timestamp {
        return false;
    }
    let attributes = (attributes & KEPT_ATTRIBUTES) | type_flag;
    header[21..23].copy_from_slice(&attributes.to_be_bytes());
    header[35..43].copy_from_slice(&max_timestamp.to_be_bytes());
    let crc = crc32c::crc32c_append(crc32c::crc32c(&header[CRC_START..]), body);
    header[17..21].copy_from_slice(&crc.to_be_bytes());
    true
}

/// Kafka's `DefaultRecordBatch.setMaxTimestamp`: writes the timestamp type bit (`type_flag`, 0 or
/// `TIMESTAMP_TYPE_FLAG`) and `maxTimestamp`, and recomputes the CRC, unless both are already
/// what they should be. Returns whether the batch changed.
pub fn set_max_timestamp(batch: &mut [u8], type_flag: i16, max_timestamp: i64) -> bool {
    let Ok(header) = BatchHeader::new(&*batch) else {
        return false;
    };
    let current_flag = header.attributes() & TIMESTAMP_TYPE_FLAG;
    if current_flag == type_flag && header.max_timestamp() == max_timestamp {
        return false;
    }
    let attributes = (header.attributes() & KEPT_ATTRIBUTES) | type_flag;
    batch[21..23].copy_from_slice(&attributes.to_be_bytes());
    batch[35..43].copy_from_slice(&max_timestamp.to_be_bytes());
    let crc = batch_crc(batch);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch::check_batch;
    use crate::log::testutil::{batch_with, timed_batch, BatchSpec};
    use kafka_protocol::records::Compression;

    const NOW: i64 = 1_700_000_000_000;

    fn rules(timestamp_type: TimestampType) -> TimestampRules {
        TimestampRules {
            timestamp_type,
            ..TimestampRules::default()
        }
    }

    /// Overwrites a header field and fixes the CRC, as a client that sent it would have.
    fn forge(bytes: &mut [u8], at: usize, value: &[u8]) {
        bytes[at..at + value.len()].copy_from_slice(value);
        let crc = batch_crc(bytes);
        bytes[17..21].copy_from_slice(&crc.to_be_bytes());
    }

    fn header(bytes: &[u8]) -> BatchHeader<&[u8]> {
        BatchHeader::new(bytes).expect("header")
    }

    #[test]
    fn max_timestamp_minus_one_is_recomputed_from_the_records() {
        let mut bytes = timed_batch(4, 5_000);
        forge(&mut bytes, 35, &(-1i64).to_be_bytes());
        let v = validate_client_batch(&mut bytes, "t-0", &TimestampRules::default(), NOW)
            .expect("valid");
        assert_eq!(v.max_timestamp, 5_003);
        assert!(v.rewritten);
        assert_eq!(header(&bytes).max_timestamp(), 5_003);
        check_batch(&bytes, 0, usize::MAX).expect("CRC recomputed");
    }

    #[test]
    fn a_wrong_max_timestamp_is_corrected_even_when_not_minus_one() {
        let mut bytes = timed_batch(3, 5_000);
        forge(&mut bytes, 35, &9_999_999i64.to_be_bytes());
        let v = validate_client_batch(&mut bytes, "t-0", &TimestampRules::default(), NOW)
            .expect("valid");
        assert_eq!(v.max_timestamp, 5_002);
        check_batch(&bytes, 0, usize::MAX).expect("CRC recomputed");
    }

    #[test]
    fn a_truthful_header_is_left_byte_for_byte() {
        let mut bytes = timed_batch(3, 5_000);
        let before = bytes.clone();
        let v = validate_client_batch(&mut bytes, "t-0", &TimestampRules::default(), NOW)
            .expect("valid");
        assert!(!v.rewritten);
        assert_eq!(bytes, before);
    }

    #[test]
    fn compressed_max_timestamp_minus_one_is_recomputed() {
        for compression in [
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let mut bytes = batch_with(&BatchSpec {
                records: 5,
                timestamp: 7_000,
                compression,
                ..BatchSpec::default()
            });
            forge(&mut bytes, 35, &(-1i64).to_be_bytes());
            let v = validate_client_batch(&mut bytes, "t-0", &TimestampRules::default(), NOW)
                .expect("valid");
            assert_eq!(v.max_timestamp, 7_004, "{compression:?}");
            check_batch(&bytes, 0, usize::MAX).expect("CRC recomputed");
        }
    }

    #[test]
    fn compressed_batch_with_a_truthful_header_is_left_byte_for_byte() {
        for compression in [
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let mut bytes = batch_with(&BatchSpec {
                records: 3,
                timestamp: 7_000,
                compression,
                ..BatchSpec::default()
            });
            let sent = bytes.clone();
            let v = validate_client_batch(&mut bytes, "t-0", &TimestampRules::default(), NOW)
                .expect("valid");
            assert_eq!(
                v.max_timestamp,
                header(&sent).max_timestamp(),
                "{compression:?}"
            );
            assert!(!v.rewritten, "{compression:?}");
            assert_eq!(bytes, sent, "{compression:?}");
        }
    }

    #[test]
    fn compressed_batch_with_garbage_records_is_refused_even_behind_a_sane_header() {
        let mut bytes = batch_with(&BatchSpec {
            records: 2,
            timestamp: 7_000,
            compression: Compression::Gzip,
            ..BatchSpec::default()
        });
        let len = bytes.len();
        bytes[BATCH_HEADER_LEN..len].fill(0xAB);
        forge(&mut bytes, 35, &7_001i64.to_be_bytes());
        let err = validate_client_batch(&mut bytes, "t-0", &TimestampRules::default(), NOW)
            .expect_err("garbage is not appended");
        assert_eq!(err.kafka_error_code(), 2);
    }

    #[test]
    fn compressed_record_count_must_match_the_records_present() {
        for compression in [
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            // Header says 5 (lastOffsetDelta consistent), the body holds 3: offsets 3 and 4
            // would be promised and never exist.
            let mut bytes = batch_with(&BatchSpec {
                records: 3,
                compression,
                ..BatchSpec::default()
            });
            forge(&mut bytes, 23, &4i32.to_be_bytes());
            forge(&mut bytes, 57, &5i32.to_be_bytes());
            let err = validate_client_batch(&mut bytes, "t-0", &TimestampRules::default(), NOW)
                .expect_err("records missing");
            assert_eq!(err.kafka_error_code(), 87, "{compression:?}");
            // Header says 2, the body holds 3: the third record would share its offset with the
            // next batch's first.
            let mut bytes = batch_with(&BatchSpec {
                records: 3,
                compression,
                ..BatchSpec::default()
            });
            forge(&mut bytes, 23, &1i32.to_be_bytes());
            forge(&mut bytes, 57, &2i32.to_be_bytes());
            let err = validate_client_batch(&mut bytes, "t-0", &TimestampRules::default(), NOW)
                .expect_err("records remain");
            assert_eq!(err.kafka_error_code(), 87, "{compression:?}");
            assert_eq!(
                err.to_string(),
                "Incorrect declared batch size, records still remaining in file"
            );
        }
    }

    #[test]
    fn log_append_time_stamps_the_batch_and_keeps_record_timestamps() {
        let mut bytes = timed_batch(3, 5_000);
        let v = validate_client_batch(&mut bytes, "t-0", &rules(TimestampType::LogAppendTime), NOW)
            .expect("valid");
        assert_eq!(v.max_timestamp, NOW);
        let h = header(&bytes);
        assert!(h.is_log_append_time());
        assert_eq!(h.max_timestamp(), NOW);
        assert_eq!(h.base_timestamp(), 5_000);
        check_batch(&bytes, 0, usize::MAX).expect("CRC recomputed");
    }

    #[test]
    fn log_append_time_stamps_compressed_batches() {
        let mut bytes = batch_with(&BatchSpec {
            records: 2,
            compression: Compression::Lz4,
            ..BatchSpec::default()
        });
        forge(&mut bytes, 35, &(-1i64).to_be_bytes());
        let v = validate_client_batch(&mut bytes, "t-0", &rules(TimestampType::LogAppendTime), NOW)
            .expect("valid");
        assert_eq!(v.max_timestamp, NOW);
        assert_eq!(header(&bytes).compression(), 3);
        assert!(header(&bytes).is_log_append_time());
    }

    #[test]
    fn producer_set_log_append_time_is_invalid_timestamp_on_a_log_append_time_topic() {
        let mut bytes = timed_batch(2, 5_000);
        forge(&mut bytes, 21, &TIMESTAMP_TYPE_FLAG.to_be_bytes());
        let err =
            validate_client_batch(&mut bytes, "t-0", &rules(TimestampType::LogAppendTime), NOW)
                .expect_err("producer may not choose LogAppendTime");
        assert_eq!(err.kafka_error_code(), 32);
        assert_eq!(err.record_errors().len(), 2);
        assert!(err.record_errors()[0]
            .message
            .ends_with("Producer should not set timestamp type to LogAppendTime."));
    }

    #[test]
    fn producer_set_log_append_time_on_create_time_topic_is_cleared() {
        let mut bytes = timed_batch(2, 5_000);
        forge(&mut bytes, 21, &TIMESTAMP_TYPE_FLAG.to_be_bytes());
        validate_client_batch(&mut bytes, "t-0", &TimestampRules::default(), NOW)
            .expect("records carry timestamps");
        assert!(!header(&bytes).is_log_append_time());
        check_batch(&bytes, 0, usize::MAX).expect("CRC recomputed");
    }

    #[test]
    fn timestamps_outside_the_configured_window_are_invalid_timestamp() {
        let rules = TimestampRules {
            before_max_ms: 60_000,
            after_max_ms: 1_000,
            ..TimestampRules::default()
        };
        let mut old = timed_batch(2, NOW - 120_000);
        let err = validate_client_batch(&mut old, "t-0", &rules, NOW).expect_err("too old");
        assert_eq!(err.kafka_error_code(), 32);
        assert_eq!(
            err.to_string(),
            "One or more records have been rejected due to invalid timestamp"
        );
        assert_eq!(err.record_errors()[1].batch_index, 1);
        assert_eq!(
            err.record_errors()[0].message,
            format!(
                "Timestamp {} of message with offset 0 is out of range. The timestamp should be \
                 within [{}, {}]",
                NOW - 120_000,
                NOW - 60_000,
                NOW + 1_000
            )
        );
        let mut future = timed_batch(1, NOW + 5_000);
        let err = validate_client_batch(&mut future, "t-0", &rules, NOW).expect_err("future");
        assert_eq!(err.kafka_error_code(), 32);
        let mut fine = timed_batch(2, NOW - 1_000);
        validate_client_batch(&mut fine, "t-0", &rules, NOW).expect("inside the window");
        // Compressed batches are walked too when bounds are set.
        let mut zipped = batch_with(&BatchSpec {
            records: 2,
            timestamp: NOW - 120_000,
            compression: Compression::Snappy,
            ..BatchSpec::default()
        });
        let err = validate_client_batch(&mut zipped, "t-0", &rules, NOW).expect_err("old");
        assert_eq!(err.kafka_error_code(), 32);
    }

    #[test]
    fn control_batch_from_a_client_is_invalid_record_with_kafkas_text() {
        let mut bytes = batch_with(&BatchSpec {
            control: true,
            ..BatchSpec::default()
        });
        let err = validate_client_batch(&mut bytes, "t-0", &TimestampRules::default(), NOW)
            .expect_err("control");
        assert_eq!(err.kafka_error_code(), 87);
        assert_eq!(
            err.to_string(),
            "Clients are not allowed to write control records in topic partition t-0"
        );
    }

    #[test]
    fn producer_id_without_sequence_is_invalid_record() {
        let mut bytes = batch_with(&BatchSpec {
            producer_id: 9,
            producer_epoch: 0,
            base_sequence: 0,
            ..BatchSpec::default()
        });
        forge(&mut bytes, 53, &(-1i32).to_be_bytes());
        let err = validate_client_batch(&mut bytes, "t-0", &TimestampRules::default(), NOW)
            .expect_err("no sequence");
        assert_eq!(err.kafka_error_code(), 87);
        assert_eq!(
            err.to_string(),
            "Invalid sequence number -1 in record batch with producerId 9 in topic partition t-0"
        );
    }

    #[test]
    fn unknown_codec_is_unsupported_compression_type() {
        let mut bytes = timed_batch(1, 5_000);
        forge(&mut bytes, 21, &6i16.to_be_bytes());
        let err = validate_client_batch(&mut bytes, "t-0", &TimestampRules::default(), NOW)
            .expect_err("codec 6");
        assert_eq!(err.kafka_error_code(), 76);
        assert_eq!(err.to_string(), "Unknown compression type id: 6");
    }

    #[test]
    fn record_count_must_match_the_records_present() {
        // Header says 2 (lastOffsetDelta consistent), the body holds 3 records.
        let mut bytes = timed_batch(3, 5_000);
        forge(&mut bytes, 23, &1i32.to_be_bytes());
        forge(&mut bytes, 57, &2i32.to_be_bytes());
        let err = validate_client_batch(&mut bytes, "t-0", &TimestampRules::default(), NOW)
            .expect_err("records remain");
        assert_eq!(err.kafka_error_code(), 87);
        assert_eq!(
            err.to_string(),
            "Incorrect declared batch size, records still remaining in file"
        );
        // Header says 4, the body holds 3.
        let mut bytes = timed_batch(3, 5_000);
        forge(&mut bytes, 23, &3i32.to_be_bytes());
        forge(&mut bytes, 57, &4i32.to_be_bytes());
        let err = validate_client_batch(&mut bytes, "t-0", &TimestampRules::default(), NOW)
            .expect_err("records missing");
        assert_eq!(err.kafka_error_code(), 87);
    }

    #[test]
    fn undecompressable_body_is_corrupt_message_and_forged_snappy_size_is_not_allocated() {
        let mut bytes = batch_with(&BatchSpec {
            compression: Compression::Gzip,
            ..BatchSpec::default()
        });
        let len = bytes.len();
        bytes[BATCH_HEADER_LEN..len].fill(0xAB);
        forge(&mut bytes, 35, &(-1i64).to_be_bytes());
        let err = validate_client_batch(&mut bytes, "t-0", &TimestampRules::default(), NOW)
            .expect_err("garbage");
        assert_eq!(err.kafka_error_code(), 2);

        // Raw snappy claiming 4 GiB from a few bytes.
        let mut bytes = batch_with(&BatchSpec {
            compression: Compression::Snappy,
            ..BatchSpec::default()
        });
        bytes.truncate(BATCH_HEADER_LEN);
        bytes.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0]);
        let total = bytes.len() as i32 - 12;
        bytes[8..12].copy_from_slice(&total.to_be_bytes());
        forge(&mut bytes, 35, &(-1i64).to_be_bytes());
        let err = validate_client_batch(&mut bytes, "t-0", &TimestampRules::default(), NOW)
            .expect_err("forged");
        assert_eq!(err.kafka_error_code(), 2);
    }

    /// Re-frames a batch's LZ4 body without its content checksum (as kafka-python and other
    /// clients write it), fixing the frame's header checksum, the batch length and the CRC.
    fn without_lz4_content_checksum(mut bytes: Vec<u8>) -> Vec<u8> {
        let flg_at = BATCH_HEADER_LEN + 4;
        if bytes[flg_at] & 0x04 != 0 {
            bytes[flg_at] &= !0x04;
            let len = bytes.len();
            bytes.truncate(len - 4);
            crate::log::legacy_message_set::set_lz4_header_checksum(
                &mut bytes[BATCH_HEADER_LEN..],
                false,
            );
        }
        let total = bytes.len() as i32 - 12;
        bytes[8..12].copy_from_slice(&total.to_be_bytes());
        let crc = batch_crc(&bytes);
        bytes[17..21].copy_from_slice(&crc.to_be_bytes());
        bytes
    }

    #[test]
    fn lz4_frame_without_its_end_mark_is_corrupt_message() {
        let sent = without_lz4_content_checksum(batch_with(&BatchSpec {
            records: 3,
            value_len: 200,
            compression: Compression::Lz4,
            ..BatchSpec::default()
        }));
        let mut bytes = sent.clone();
        validate_client_batch(&mut bytes, "t-0", &TimestampRules::default(), NOW)
            .expect("a whole frame is valid");
        // The end mark (the last four bytes) becomes a block size that runs past the body.
        let end_mark = sent.len() - 4;
        assert_eq!(sent[end_mark..], [0, 0, 0, 0]);
        let mut bytes = sent.clone();
        bytes[end_mark..].copy_from_slice(&0xc000u32.to_le_bytes());
        let crc = batch_crc(&bytes);
        bytes[17..21].copy_from_slice(&crc.to_be_bytes());
        let err = validate_client_batch(&mut bytes, "t-0", &TimestampRules::default(), NOW)
            .expect_err("frame cut short");
        assert_eq!(err.kafka_error_code(), 2);
        assert!(
            err.to_string().ends_with("Stream ended prematurely"),
            "{err}"
        );
        // The end mark cut off.
        let mut bytes = sent;
        bytes.truncate(end_mark);
        let mut bytes = without_lz4_content_checksum(bytes);
        let err = validate_client_batch(&mut bytes, "t-0", &TimestampRules::default(), NOW)
            .expect_err("no end mark");
        assert_eq!(err.kafka_error_code(), 2);
    }

    #[test]
    fn mutated_bodies_never_panic() {
        let valid = timed_batch(4, 5_000);
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..3_000 {
            let mut bytes = valid.clone();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = BATCH_HEADER_LEN + (state as usize) % (bytes.len() - BATCH_HEADER_LEN);
            bytes[at] = (state >> 32) as u8;
            let _ = validate_client_batch(&mut bytes, "t-0", &TimestampRules::default(), NOW);
        }
    }
}
