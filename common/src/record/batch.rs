//! The v2 record-batch header (Kafka's `DefaultRecordBatch`), 61 bytes:
//!
//! | offset | field | type |
//! |---|---|---|
//! | 0 | baseOffset | int64 |
//! | 8 | batchLength (bytes after this field) | int32 |
//! | 12 | partitionLeaderEpoch | int32 |
//! | 16 | magic (2) | int8 |
//! | 17 | crc (CRC-32C of bytes 21..end) | uint32 |
//! | 21 | attributes | int16 |
//! | 23 | lastOffsetDelta | int32 |
//! | 27 | baseTimestamp (ms) | int64 |
//! | 35 | maxTimestamp (ms) | int64 |
//! | 43 | producerId | int64 |
//! | 51 | producerEpoch | int16 |
//! | 53 | baseSequence | int32 |
//! | 57 | recordsCount | int32 |
//!
//! All fields big-endian. The records follow the header.

/// Size of the v2 batch header (`RECORD_BATCH_OVERHEAD`).
pub const BATCH_HEADER_LEN: usize = 61;
/// baseOffset + batchLength: the bytes not counted by `batchLength` (`LOG_OVERHEAD`).
pub const LOG_OVERHEAD: usize = 12;
/// The batch format of Kafka 0.11 and later.
pub const MAGIC_V2: i8 = 2;

/// Byte offset of `baseOffset`.
pub const BASE_OFFSET_AT: usize = 0;
/// Byte offset of `batchLength`.
pub const BATCH_LENGTH_AT: usize = 8;
/// Byte offset of `partitionLeaderEpoch`.
pub const LEADER_EPOCH_AT: usize = 12;
/// Byte offset of `magic` (the same in every message format).
pub const MAGIC_AT: usize = 16;
/// Byte offset of `crc`.
pub const CRC_AT: usize = 17;
/// The CRC covers everything from the attributes to the end of the batch.
pub const CRC_START: usize = 21;
/// Byte offset of `attributes`.
pub const ATTRIBUTES_AT: usize = 21;
/// Byte offset of `lastOffsetDelta`.
pub const LAST_OFFSET_DELTA_AT: usize = 23;
/// Byte offset of `baseTimestamp`.
pub const BASE_TIMESTAMP_AT: usize = 27;
/// Byte offset of `maxTimestamp`.
pub const MAX_TIMESTAMP_AT: usize = 35;
/// Byte offset of `producerId`.
pub const PRODUCER_ID_AT: usize = 43;
/// Byte offset of `producerEpoch`.
pub const PRODUCER_EPOCH_AT: usize = 51;
/// Byte offset of `baseSequence`.
pub const BASE_SEQUENCE_AT: usize = 53;
/// Byte offset of `recordsCount`.
pub const RECORDS_COUNT_AT: usize = 57;

/// Attribute bits 0-2: the codec id (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd).
pub const COMPRESSION_MASK: i16 = 0x07;
/// Attribute bit 3: LogAppendTime.
pub const TIMESTAMP_TYPE_FLAG: i16 = 0x08;
/// Attribute bit 4: transactional.
pub const TRANSACTIONAL_FLAG: i16 = 0x10;
/// Attribute bit 5: control batch.
pub const CONTROL_FLAG: i16 = 0x20;

/// A buffer too short to hold a batch header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// Fewer than [`BATCH_HEADER_LEN`] bytes.
    #[error("{0} bytes is shorter than a batch header ({BATCH_HEADER_LEN})")]
    TooShort(usize),
}

/// A view over the 61 header bytes of a v2 batch: `BatchHeader<&[u8]>` over a buffer,
/// `BatchHeader<[u8; 61]>` as an owned copy, `BatchHeader<&mut [u8]>` to patch. Reading a field
/// never fails once the view exists.
#[derive(Clone, Copy, Debug)]
pub struct BatchHeader<B> {
    buf: B,
}

fn be<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    // `new` checked the length; a shorter slice would only give zeros, never a panic.
    if let Some(src) = bytes.get(at..at + N) {
        out.copy_from_slice(src);
    }
    out
}

impl<B: AsRef<[u8]>> BatchHeader<B> {
    /// Wraps `buf`, which must hold at least the 61 header bytes.
    pub fn new(buf: B) -> Result<Self, HeaderError> {
        let len = buf.as_ref().len();
        if len < BATCH_HEADER_LEN {
            return Err(HeaderError::TooShort(len));
        }
        Ok(BatchHeader { buf })
    }

    fn bytes(&self) -> &[u8] {
        self.buf.as_ref()
    }

    /// `baseOffset`.
    pub fn base_offset(&self) -> i64 {
        i64::from_be_bytes(be(self.bytes(), BASE_OFFSET_AT))
    }
    /// `batchLength`: bytes after this field.
    pub fn batch_length(&self) -> i32 {
        i32::from_be_bytes(be(self.bytes(), BATCH_LENGTH_AT))
    }
    /// `partitionLeaderEpoch`.
    pub fn partition_leader_epoch(&self) -> i32 {
        i32::from_be_bytes(be(self.bytes(), LEADER_EPOCH_AT))
    }
    /// `magic`.
    pub fn magic(&self) -> i8 {
        be::<1>(self.bytes(), MAGIC_AT)[0] as i8
    }
    /// The stored CRC-32C.
    pub fn crc(&self) -> u32 {
        u32::from_be_bytes(be(self.bytes(), CRC_AT))
    }
    /// `attributes`.
    pub fn attributes(&self) -> i16 {
        i16::from_be_bytes(be(self.bytes(), ATTRIBUTES_AT))
    }
    /// `lastOffsetDelta`.
    pub fn last_offset_delta(&self) -> i32 {
        i32::from_be_bytes(be(self.bytes(), LAST_OFFSET_DELTA_AT))
    }
    /// `baseTimestamp` (ms).
    pub fn base_timestamp(&self) -> i64 {
        i64::from_be_bytes(be(self.bytes(), BASE_TIMESTAMP_AT))
    }
    /// `maxTimestamp` (ms).
    pub fn max_timestamp(&self) -> i64 {
        i64::from_be_bytes(be(self.bytes(), MAX_TIMESTAMP_AT))
    }
    /// `producerId` (-1: none).
    pub fn producer_id(&self) -> i64 {
        i64::from_be_bytes(be(self.bytes(), PRODUCER_ID_AT))
    }
    /// `producerEpoch` (-1: none).
    pub fn producer_epoch(&self) -> i16 {
        i16::from_be_bytes(be(self.bytes(), PRODUCER_EPOCH_AT))
    }
    /// `baseSequence` (-1: none).
    pub fn base_sequence(&self) -> i32 {
        i32::from_be_bytes(be(self.bytes(), BASE_SEQUENCE_AT))
    }
    /// `recordsCount`, as claimed (not checked against the body).
    pub fn records_count(&self) -> i32 {
        i32::from_be_bytes(be(self.bytes(), RECORDS_COUNT_AT))
    }

    /// Codec id (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd).
    pub fn compression(&self) -> u8 {
        (self.attributes() & COMPRESSION_MASK) as u8
    }
    /// Attribute bit 3.
    pub fn is_log_append_time(&self) -> bool {
        self.attributes() & TIMESTAMP_TYPE_FLAG != 0
    }
    /// Attribute bit 4.
    pub fn is_transactional(&self) -> bool {
        self.attributes() & TRANSACTIONAL_FLAG != 0
    }
    /// Attribute bit 5.
    pub fn is_control(&self) -> bool {
        self.attributes() & CONTROL_FLAG != 0
    }
    /// Size of the whole batch, if `batchLength` is at least a header's worth.
    pub fn total_size(&self) -> Option<usize> {
        let len = usize::try_from(self.batch_length()).ok()?;
        (len >= BATCH_HEADER_LEN - LOG_OVERHEAD).then_some(len + LOG_OVERHEAD)
    }
    /// baseOffset + lastOffsetDelta (saturating).
    pub fn last_offset(&self) -> i64 {
        self.base_offset()
            .saturating_add(i64::from(self.last_offset_delta()))
    }
    /// Sequence of the last record, wrapping at `i32::MAX` as Kafka's `incrementSequence` does.
    pub fn last_sequence(&self) -> i32 {
        increment_sequence(self.base_sequence(), self.last_offset_delta())
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> BatchHeader<B> {
    /// Overwrites baseOffset; it lies outside the CRC, so the batch stays valid.
    pub fn set_base_offset(&mut self, offset: i64) {
        if let Some(dst) = self
            .buf
            .as_mut()
            .get_mut(BASE_OFFSET_AT..BASE_OFFSET_AT + 8)
        {
            dst.copy_from_slice(&offset.to_be_bytes());
        }
    }
    /// Overwrites partitionLeaderEpoch; it lies outside the CRC, so the batch stays valid.
    pub fn set_partition_leader_epoch(&mut self, epoch: i32) {
        if let Some(dst) = self
            .buf
            .as_mut()
            .get_mut(LEADER_EPOCH_AT..LEADER_EPOCH_AT + 4)
        {
            dst.copy_from_slice(&epoch.to_be_bytes());
        }
    }
}

/// Kafka's `DefaultRecordBatch.incrementSequence`: sequences wrap from `i32::MAX` to 0.
pub fn increment_sequence(sequence: i32, increment: i32) -> i32 {
    // Computed in i64 so that header values that were never validated cannot overflow.
    let next = i64::from(sequence) + i64::from(increment);
    let wrapped = if next > i64::from(i32::MAX) {
        next - i64::from(i32::MAX) - 1
    } else {
        next
    };
    wrapped as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    struct Fields {
        base_offset: i64,
        batch_length: i32,
        leader_epoch: i32,
        magic: i8,
        crc: u32,
        attributes: i16,
        last_offset_delta: i32,
        base_timestamp: i64,
        max_timestamp: i64,
        producer_id: i64,
        producer_epoch: i16,
        base_sequence: i32,
        records_count: i32,
    }

    fn build(f: &Fields) -> Vec<u8> {
        let mut b = Vec::with_capacity(BATCH_HEADER_LEN);
        b.extend_from_slice(&f.base_offset.to_be_bytes());
        b.extend_from_slice(&f.batch_length.to_be_bytes());
        b.extend_from_slice(&f.leader_epoch.to_be_bytes());
        b.push(f.magic as u8);
        b.extend_from_slice(&f.crc.to_be_bytes());
        b.extend_from_slice(&f.attributes.to_be_bytes());
        b.extend_from_slice(&f.last_offset_delta.to_be_bytes());
        b.extend_from_slice(&f.base_timestamp.to_be_bytes());
        b.extend_from_slice(&f.max_timestamp.to_be_bytes());
        b.extend_from_slice(&f.producer_id.to_be_bytes());
        b.extend_from_slice(&f.producer_epoch.to_be_bytes());
        b.extend_from_slice(&f.base_sequence.to_be_bytes());
        b.extend_from_slice(&f.records_count.to_be_bytes());
        b
    }

    fn fields() -> impl Strategy<Value = Fields> {
        (
            (
                any::<i64>(),
                any::<i32>(),
                any::<i32>(),
                any::<i8>(),
                any::<u32>(),
            ),
            (any::<i16>(), any::<i32>(), any::<i64>(), any::<i64>()),
            (any::<i64>(), any::<i16>(), any::<i32>(), any::<i32>()),
        )
            .prop_map(|((a, b, c, d, e), (f, g, h, i), (j, k, l, m))| Fields {
                base_offset: a,
                batch_length: b,
                leader_epoch: c,
                magic: d,
                crc: e,
                attributes: f,
                last_offset_delta: g,
                base_timestamp: h,
                max_timestamp: i,
                producer_id: j,
                producer_epoch: k,
                base_sequence: l,
                records_count: m,
            })
    }

    #[test]
    fn short_buffers_are_refused_with_their_length() {
        let err = BatchHeader::new(&[0u8; 60][..]).expect_err("short");
        assert_eq!(err, HeaderError::TooShort(60));
        assert_eq!(
            err.to_string(),
            "60 bytes is shorter than a batch header (61)"
        );
    }

    #[test]
    fn sequence_wraps_at_i32_max() {
        assert_eq!(increment_sequence(i32::MAX, 1), 0);
        assert_eq!(increment_sequence(i32::MAX - 1, 3), 1);
        assert_eq!(increment_sequence(5, 0), 5);
    }

    proptest! {
        #[test]
        fn built_header_reads_back_every_field(f in fields(), offset in any::<i64>(), epoch in any::<i32>()) {
            let mut bytes = build(&f);
            prop_assert_eq!(bytes.len(), BATCH_HEADER_LEN);
            let h = BatchHeader::new(&bytes[..]).expect("61 bytes");
            prop_assert_eq!(h.base_offset(), f.base_offset);
            prop_assert_eq!(h.batch_length(), f.batch_length);
            prop_assert_eq!(h.partition_leader_epoch(), f.leader_epoch);
            prop_assert_eq!(h.magic(), f.magic);
            prop_assert_eq!(h.crc(), f.crc);
            prop_assert_eq!(h.attributes(), f.attributes);
            prop_assert_eq!(h.last_offset_delta(), f.last_offset_delta);
            prop_assert_eq!(h.base_timestamp(), f.base_timestamp);
            prop_assert_eq!(h.max_timestamp(), f.max_timestamp);
            prop_assert_eq!(h.producer_id(), f.producer_id);
            prop_assert_eq!(h.producer_epoch(), f.producer_epoch);
            prop_assert_eq!(h.base_sequence(), f.base_sequence);
            prop_assert_eq!(h.records_count(), f.records_count);
            prop_assert_eq!(h.compression(), (f.attributes & 7) as u8);
            let mut h = BatchHeader::new(&mut bytes[..]).expect("61 bytes");
            h.set_base_offset(offset);
            h.set_partition_leader_epoch(epoch);
            prop_assert_eq!(h.base_offset(), offset);
            prop_assert_eq!(h.partition_leader_epoch(), epoch);
            prop_assert_eq!(&bytes[CRC_START..], &build(&f)[CRC_START..]);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            match BatchHeader::new(&bytes[..]) {
                Err(e) => prop_assert_eq!(e, HeaderError::TooShort(bytes.len())),
                Ok(h) => {
                    let _ = (h.total_size(), h.last_offset(), h.last_sequence(), h.is_control());
                    let _ = (h.magic(), h.crc(), h.is_transactional(), h.is_log_append_time());
                }
            }
        }
    }
}
