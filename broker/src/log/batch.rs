//! The record batch v2 header as stored (kafka-facts.md §8) and the validation of produced bytes.
//!
//! Only the 61 header bytes are ever interpreted: the records themselves stay opaque, which keeps
//! the produce path free of per-record work and makes a forged `recordsCount` harmless (nothing
//! is allocated from it).

use super::LogError;

pub use common::record::batch::{
    increment_sequence, BatchHeader, HeaderError, BATCH_HEADER_LEN, COMPRESSION_MASK, CONTROL_FLAG,
    CRC_START, LOG_OVERHEAD, MAGIC_V2, TIMESTAMP_TYPE_FLAG, TRANSACTIONAL_FLAG,
};
use common::record::batch::{ATTRIBUTES_AT, BATCH_LENGTH_AT, MAGIC_AT};
use common::record::WalkError;

/// A buffer shorter than a header is a corrupt message.
impl From<HeaderError> for LogError {
    fn from(e: HeaderError) -> Self {
        LogError::CorruptMessage(e.to_string())
    }
}

/// Every failure of the record walk is INVALID_RECORD, with Kafka's text.
impl From<WalkError> for LogError {
    fn from(e: WalkError) -> Self {
        LogError::InvalidRecord(e.to_string())
    }
}

/// What validation learned about one batch; positions are relative to the validated buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchInfo {
    pub position: usize,
    pub size: usize,
    pub base_offset: i64,
    pub last_offset_delta: i32,
    pub records_count: i32,
    pub max_timestamp: i64,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub attributes: i16,
}

impl BatchInfo {
    pub fn from_header<B: AsRef<[u8]>>(
        header: &BatchHeader<B>,
        position: usize,
        size: usize,
    ) -> Self {
        BatchInfo {
            position,
            size,
            base_offset: header.base_offset(),
            last_offset_delta: header.last_offset_delta(),
            records_count: header.records_count(),
            max_timestamp: header.max_timestamp(),
            producer_id: header.producer_id(),
            producer_epoch: header.producer_epoch(),
            base_sequence: header.base_sequence(),
            attributes: header.attributes(),
        }
    }
    pub fn last_offset(&self) -> i64 {
        self.base_offset
            .saturating_add(i64::from(self.last_offset_delta))
    }
    pub fn last_sequence(&self) -> i32 {
        increment_sequence(self.base_sequence, self.last_offset_delta)
    }
    pub fn is_control(&self) -> bool {
        self.attributes & CONTROL_FLAG != 0
    }
    pub fn compression(&self) -> u8 {
        (self.attributes & COMPRESSION_MASK) as u8
    }
}

/// Checks the header fields that make a batch structurally usable, given the bytes available
/// after its start (`available`): length, magic, offset/count consistency, and the size limit.
/// Returns the batch's total size. The CRC is checked separately (it needs the body).
pub fn check_header<B: AsRef<[u8]>>(
    header: &BatchHeader<B>,
    available: usize,
    max_size: usize,
) -> Result<usize, LogError> {
    let size = check_header_in(header, available, max_size, "")?;
    check_records_fit(header, size)?;
    Ok(size)
}

/// `check_header` with Kafka's ` in topic partition <tp>` on the messages of `LogValidator`.
fn check_header_in<B: AsRef<[u8]>>(
    header: &BatchHeader<B>,
    available: usize,
    max_size: usize,
    topic_partition: &str,
) -> Result<usize, LogError> {
    if header.magic() != MAGIC_V2 {
        return Err(LogError::UnsupportedMagic(header.magic()));
    }
    let size = header.total_size().ok_or_else(|| {
        LogError::CorruptMessage(format!(
            "batchLength {} is too small",
            header.batch_length()
        ))
    })?;
    if size > max_size {
        return Err(LogError::MessageTooLarge {
            size,
            max: max_size,
        });
    }
    if size > available {
        return Err(LogError::CorruptMessage(format!(
            "batch of {size} bytes is cut off after {available} bytes"
        )));
    }
    // Kafka's `LogValidator.validateBatch`, with its three messages.
    let in_tp = if topic_partition.is_empty() {
        String::new()
    } else {
        format!(" in topic partition {topic_partition}")
    };
    let count = header.records_count();
    let (base, last) = (header.base_offset(), header.last_offset());
    let count_from_offsets = i64::from(header.last_offset_delta()) + 1;
    if count_from_offsets <= 0 {
        return Err(LogError::InvalidRecord(format!(
            "Batch has an invalid offset range: [{base}, {last}]{in_tp}"
        )));
    }
    if count <= 0 {
        return Err(LogError::InvalidRecord(format!(
            "Invalid reported count for record batch: {count}{in_tp}"
        )));
    }
    if count_from_offsets != i64::from(count) {
        return Err(LogError::InvalidRecord(format!(
            "Inconsistent batch offset range [{base}, {last}] and count of records {count}{in_tp}"
        )));
    }
    Ok(size)
}

/// An uncompressed record takes at least one byte (in fact at least 7), so a `recordsCount`
/// above the body size (of a batch of `size` bytes) is forged, refused before anything is
/// allocated for it. Kafka's iterator runs off the end of such a body: INVALID_RECORD with
/// `DefaultRecordBatch`'s "Incorrect declared batch size, premature EOF reached". Compressed
/// bodies can legitimately hold more records than bytes (their walk meets the same end).
fn check_records_fit<B: AsRef<[u8]>>(header: &BatchHeader<B>, size: usize) -> Result<(), LogError> {
    let body = size - BATCH_HEADER_LEN;
    if header.compression() == 0 && header.records_count() as usize > body {
        return Err(LogError::InvalidRecord(
            "Incorrect declared batch size, premature EOF reached".into(),
        ));
    }
    Ok(())
}

/// Checks the header of a batch the log already holds, or that a leader sent to a follower: as
/// `check_header`, except that a cleaned batch may hold fewer records than its offset range
/// (Kafka's cleaner keeps `lastOffsetDelta` while it drops records, and keeps an empty batch
/// for an idempotent producer's last sequence), so `recordsCount` need only lie within
/// `0..=lastOffsetDelta + 1`. Returns the batch's total size.
pub fn check_stored_header<B: AsRef<[u8]>>(
    header: &BatchHeader<B>,
    available: usize,
    max_size: usize,
) -> Result<usize, LogError> {
    if header.magic() != MAGIC_V2 {
        return Err(LogError::UnsupportedMagic(header.magic()));
    }
    let size = header.total_size().ok_or_else(|| {
        LogError::CorruptMessage(format!(
            "batchLength {} is too small",
            header.batch_length()
        ))
    })?;
    if size > max_size {
        return Err(LogError::MessageTooLarge {
            size,
            max: max_size,
        });
    }
    if size > available {
        return Err(LogError::CorruptMessage(format!(
            "batch of {size} bytes is cut off after {available} bytes"
        )));
    }
    let span = i64::from(header.last_offset_delta()) + 1;
    let count = i64::from(header.records_count());
    if span <= 0 || count < 0 || count > span {
        return Err(LogError::CorruptMessage(format!(
            "stored batch at offset {} holds {count} records in an offset range of {span}",
            header.base_offset()
        )));
    }
    check_records_fit(header, size)?;
    Ok(size)
}

/// `check_batch` for stored or replicated batches (`check_stored_header`, then the CRC).
pub fn check_stored_batch(
    buf: &[u8],
    position: usize,
    max_size: usize,
) -> Result<BatchInfo, LogError> {
    if buf.len() > MAGIC_AT && buf[MAGIC_AT] as i8 != MAGIC_V2 {
        return Err(LogError::UnsupportedMagic(buf[MAGIC_AT] as i8));
    }
    let header = BatchHeader::new(buf)?;
    let size = check_stored_header(&header, buf.len(), max_size)?;
    let computed = batch_crc(&buf[..size]);
    if computed != header.crc() {
        return Err(LogError::CorruptMessage(format!(
            "CRC-32C mismatch: stored {:#010x}, computed {computed:#010x}",
            header.crc()
        )));
    }
    Ok(BatchInfo::from_header(&header, position, size))
}

/// CRC-32C of a whole batch's covered range (attributes to end).
pub fn batch_crc(batch: &[u8]) -> u32 {
    crc32c::crc32c(batch.get(CRC_START..).unwrap_or(&[]))
}

/// Validates one batch at the start of `buf` (header sanity and CRC).
pub fn check_batch(buf: &[u8], position: usize, max_size: usize) -> Result<BatchInfo, LogError> {
    check_batch_in(buf, position, max_size, "")
}

/// `check_batch` naming `topic_partition` in Kafka's messages.
fn check_batch_in(
    buf: &[u8],
    position: usize,
    max_size: usize,
    topic_partition: &str,
) -> Result<BatchInfo, LogError> {
    // The magic byte sits at offset 16 in every message format, so an old-format message set is
    // recognised as such even when it is shorter than a v2 header.
    if buf.len() > MAGIC_AT && buf[MAGIC_AT] as i8 != MAGIC_V2 {
        return Err(LogError::UnsupportedMagic(buf[MAGIC_AT] as i8));
    }
    let header = BatchHeader::new(buf)?;
    let size = check_header_in(&header, buf.len(), max_size, topic_partition)?;
    let computed = batch_crc(&buf[..size]);
    if computed != header.crc() {
        return Err(LogError::CorruptMessage(format!(
            "CRC-32C mismatch: stored {:#010x}, computed {computed:#010x}",
            header.crc()
        )));
    }
    // After the CRC, as Kafka checks `isValid` before `LogValidator` iterates the records.
    check_records_fit(&header, size)?;
    Ok(BatchInfo::from_header(&header, position, size))
}

/// Validates the records of a produce request: one or more whole v2 batches, each with a good
/// CRC, consistent counts, no control batches, none above `max_message_bytes`.
pub fn validate_produce_payload(
    payload: &[u8],
    max_message_bytes: usize,
) -> Result<Vec<BatchInfo>, LogError> {
    validate_produce_payload_in(payload, max_message_bytes, "")
}

/// `validate_produce_payload` naming `topic_partition` (`name-N`) in Kafka's messages.
pub fn validate_produce_payload_in(
    payload: &[u8],
    max_message_bytes: usize,
    topic_partition: &str,
) -> Result<Vec<BatchInfo>, LogError> {
    if payload.is_empty() {
        return Err(LogError::InvalidRecord(
            "Record batch has no batches at all".into(),
        ));
    }
    let mut batches = Vec::new();
    let mut position = 0;
    while position < payload.len() {
        let info = check_batch_in(
            &payload[position..],
            position,
            max_message_bytes,
            topic_partition,
        )?;
        if info.is_control() {
            return Err(LogError::InvalidRecord(format!(
                "Clients are not allowed to write control records in topic partition \
                 {topic_partition}"
            )));
        }
        position += info.size;
        batches.push(info);
    }
    Ok(batches)
}

/// Kafka's `ProduceRequest.validateRecords`, the checks a Produce v3+ request's records pass
/// before any partition is touched: at least one whole batch, magic 2, no zstd before v7, and
/// exactly one batch per partition. Errors are INVALID_RECORD, or UNSUPPORTED_COMPRESSION_TYPE
/// for zstd, with Kafka's texts.
pub fn validate_produce_records(version: i16, payload: &[u8]) -> Result<(), LogError> {
    // Java's batch iterator sees a batch only when its whole length is present.
    let whole_batch_at = |buf: &[u8]| -> Option<usize> {
        let len = i32::from_be_bytes(
            buf.get(BATCH_LENGTH_AT..BATCH_LENGTH_AT + 4)?
                .try_into()
                .ok()?,
        );
        let size = usize::try_from(len).ok()?.checked_add(LOG_OVERHEAD)?;
        (buf.len() > MAGIC_AT && size <= buf.len()).then_some(size)
    };
    let Some(first_size) = whole_batch_at(payload) else {
        return Err(LogError::InvalidRecord(format!(
            "Produce requests with version {version} must have at least one record batch per \
             partition"
        )));
    };
    if payload[MAGIC_AT] as i8 != MAGIC_V2 {
        return Err(LogError::InvalidRecord(format!(
            "Produce requests with version {version} are only allowed to contain record batches \
             with magic version 2"
        )));
    }
    let codec = payload
        .get(ATTRIBUTES_AT..ATTRIBUTES_AT + 2)
        .map_or(0, |a| i16::from_be_bytes([a[0], a[1]]) & COMPRESSION_MASK);
    if version < 7 && codec == 4 {
        return Err(LogError::UnsupportedCompression(format!(
            "Produce requests with version {version} are not allowed to use ZStandard compression"
        )));
    }
    if whole_batch_at(&payload[first_size..]).is_some() {
        return Err(LogError::InvalidRecord(format!(
            "Produce requests with version {version} are only allowed to contain exactly one \
             record batch per partition"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::testutil::{batch, batch_with, BatchSpec};

    #[test]
    fn header_getters_read_every_field() {
        let bytes = batch_with(&BatchSpec {
            records: 3,
            producer_id: 42,
            producer_epoch: 7,
            base_sequence: 10,
            timestamp: 1_000,
            ..BatchSpec::default()
        });
        let h = BatchHeader::new(&bytes[..]).expect("header");
        assert_eq!(h.base_offset(), 0);
        assert_eq!(h.magic(), 2);
        assert_eq!(h.total_size(), Some(bytes.len()));
        assert_eq!(h.last_offset_delta(), 2);
        assert_eq!(h.records_count(), 3);
        assert_eq!(h.producer_id(), 42);
        assert_eq!(h.producer_epoch(), 7);
        assert_eq!(h.base_sequence(), 10);
        assert_eq!(h.last_sequence(), 12);
        assert_eq!(h.base_timestamp(), 1_000);
        assert_eq!(h.max_timestamp(), 1_002);
        assert_eq!(h.compression(), 0);
        assert!(!h.is_control());
        assert_eq!(h.crc(), batch_crc(&bytes));
    }

    #[test]
    fn patching_offset_and_epoch_keeps_crc_valid() {
        let mut bytes = batch(2, 100);
        let mut h = BatchHeader::new(&mut bytes[..]).expect("header");
        h.set_base_offset(1234);
        h.set_partition_leader_epoch(9);
        assert_eq!(h.base_offset(), 1234);
        assert_eq!(h.partition_leader_epoch(), 9);
        let info = check_batch(&bytes, 0, usize::MAX).expect("still valid");
        assert_eq!(info.base_offset, 1234);
        assert_eq!(info.last_offset(), 1235);
    }

    #[test]
    fn produce_request_records_follow_kafkas_request_rules() {
        let one = batch(2, 10);
        validate_produce_records(9, &one).expect("one v2 batch");

        let mut two = one.clone();
        two.extend_from_slice(&batch(1, 10));
        let err = validate_produce_records(9, &two).expect_err("two batches");
        assert_eq!(err.kafka_error_code(), 87);
        assert_eq!(
            err.to_string(),
            "Produce requests with version 9 are only allowed to contain exactly one record \
             batch per partition"
        );

        let err = validate_produce_records(3, &[]).expect_err("empty");
        assert_eq!(err.kafka_error_code(), 87);
        let err = validate_produce_records(3, &one[..30]).expect_err("cut");
        assert_eq!(err.kafka_error_code(), 87);

        let mut v1 = one.clone();
        v1[MAGIC_AT] = 1;
        let err = validate_produce_records(5, &v1).expect_err("magic 1");
        assert_eq!(err.kafka_error_code(), 87);
        assert_eq!(
            err.to_string(),
            "Produce requests with version 5 are only allowed to contain record batches with \
             magic version 2"
        );

        let zstd = batch_with(&BatchSpec {
            compression: kafka_protocol::records::Compression::Zstd,
            ..BatchSpec::default()
        });
        let err = validate_produce_records(6, &zstd).expect_err("zstd before v7");
        assert_eq!(err.kafka_error_code(), 76);
        validate_produce_records(7, &zstd).expect("zstd from v7");
    }

    #[test]
    fn several_batches_validate() {
        let mut payload = batch(2, 10);
        payload.extend_from_slice(&batch(3, 10));
        let infos = validate_produce_payload(&payload, 1 << 20).expect("valid");
        assert_eq!(infos.len(), 2);
        assert_eq!(infos[1].position, infos[0].size);
        assert_eq!(infos[1].records_count, 3);
    }

    #[test]
    fn bad_crc_is_rejected() {
        let mut bytes = batch(1, 10);
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        let err = validate_produce_payload(&bytes, 1 << 20).expect_err("crc");
        assert_eq!(err.kafka_error_code(), 2);
    }

    #[test]
    fn forged_records_count_is_rejected_without_allocation() {
        let mut bytes = batch(1, 10);
        // Claim two billion records while keeping lastOffsetDelta consistent and the CRC right:
        // only the length check can catch it.
        bytes[23..27].copy_from_slice(&(i32::MAX - 1).to_be_bytes());
        bytes[57..61].copy_from_slice(&i32::MAX.to_be_bytes());
        let crc = batch_crc(&bytes);
        bytes[17..21].copy_from_slice(&crc.to_be_bytes());
        let err = validate_produce_payload(&bytes, 1 << 20).expect_err("forged");
        // Kafka's uncompressed iterator runs off the body: INVALID_RECORD, not CORRUPT_MESSAGE.
        assert!(
            matches!(&err, LogError::InvalidRecord(m)
                if m == "Incorrect declared batch size, premature EOF reached"),
            "{err}"
        );
    }

    #[test]
    fn count_inconsistent_with_delta_is_invalid_record() {
        let mut bytes = batch(2, 10);
        bytes[57..61].copy_from_slice(&5i32.to_be_bytes());
        let crc = batch_crc(&bytes);
        bytes[17..21].copy_from_slice(&crc.to_be_bytes());
        let err = validate_produce_payload(&bytes, 1 << 20).expect_err("count");
        assert_eq!(err.kafka_error_code(), 87);
    }

    #[test]
    fn old_magic_and_short_and_oversize_batches_are_rejected() {
        let mut bytes = batch(1, 10);
        bytes[16] = 1;
        let err = validate_produce_payload(&bytes, 1 << 20).expect_err("magic");
        assert_eq!(err.kafka_error_code(), 43);

        let bytes = batch(1, 10);
        let err = validate_produce_payload(&bytes[..40], 1 << 20).expect_err("short");
        assert_eq!(err.kafka_error_code(), 2);
        let err = validate_produce_payload(&bytes[..bytes.len() - 1], 1 << 20).expect_err("cut");
        assert_eq!(err.kafka_error_code(), 2);

        let err = validate_produce_payload(&bytes, 20).expect_err("too large");
        assert_eq!(err.kafka_error_code(), 10);

        let mut bytes = batch(1, 10);
        bytes[8..12].copy_from_slice(&3i32.to_be_bytes());
        let err = validate_produce_payload(&bytes, 1 << 20).expect_err("length");
        assert_eq!(err.kafka_error_code(), 2);
    }

    #[test]
    fn control_batches_from_clients_are_rejected() {
        let bytes = batch_with(&BatchSpec {
            control: true,
            ..BatchSpec::default()
        });
        let err = validate_produce_payload(&bytes, 1 << 20).expect_err("control");
        assert_eq!(err.kafka_error_code(), 87);
    }

    /// xorshift64: deterministic noise without a dev-dependency.
    fn noise(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn mutated_and_random_payloads_never_panic() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut valid = batch(3, 20);
        valid.extend_from_slice(&batch(2, 5));
        for _ in 0..5_000 {
            let mut bytes = valid.clone();
            for _ in 0..(noise(&mut state) % 4 + 1) {
                let at = (noise(&mut state) as usize) % bytes.len();
                bytes[at] = noise(&mut state) as u8;
            }
            let cut = (noise(&mut state) as usize) % (bytes.len() + 1);
            let _ = validate_produce_payload(&bytes[..cut], 1 << 20);
            let _ = validate_produce_payload(&bytes, 1 << 20);
            let random: Vec<u8> = (0..noise(&mut state) % 200)
                .map(|_| noise(&mut state) as u8)
                .collect();
            assert!(validate_produce_payload(&random, 1 << 20).is_err() || random.len() >= 61);
        }
    }

    #[test]
    fn sequence_wraps_at_i32_max() {
        assert_eq!(increment_sequence(i32::MAX, 1), 0);
        assert_eq!(increment_sequence(i32::MAX - 1, 3), 1);
        assert_eq!(increment_sequence(5, 0), 5);
        assert_eq!(increment_sequence(i32::MAX, -5), i32::MAX - 5);
    }
}
