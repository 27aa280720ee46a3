//! Builds real v2 record batches for the storage tests with the kafka-protocol encoder.

use bytes::{Bytes, BytesMut};
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

/// The shape of a test batch; `Default` is one uncompressed record without a producer id.
#[derive(Clone, Debug)]
pub struct BatchSpec {
    pub records: usize,
    pub value_len: usize,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    /// Timestamp of the first record; record i gets `timestamp + i`.
    pub timestamp: i64,
    pub control: bool,
    /// The batch carries the transactional attribute.
    pub transactional: bool,
    pub compression: Compression,
}

impl Default for BatchSpec {
    fn default() -> Self {
        BatchSpec {
            records: 1,
            value_len: 10,
            producer_id: -1,
            producer_epoch: -1,
            base_sequence: -1,
            timestamp: 1_000,
            control: false,
            transactional: false,
            compression: Compression::None,
        }
    }
}

/// Encodes one batch as a producer would send it (baseOffset 0).
pub fn batch_with(spec: &BatchSpec) -> Vec<u8> {
    let records: Vec<Record> = (0..spec.records)
        .map(|i| Record {
            transactional: spec.transactional,
            control: spec.control,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: spec.producer_id,
            producer_epoch: spec.producer_epoch,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            // offset - sequence must stay constant for the encoder to keep one batch.
            sequence: spec.base_sequence.wrapping_add(i as i32),
            timestamp: spec.timestamp + i as i64,
            key: Some(Bytes::from(format!("key-{i}"))),
            value: Some(Bytes::from(vec![b'v'; spec.value_len])),
            headers: Default::default(),
        })
        .collect();
    let mut buf = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression: spec.compression,
    };
    if let Err(e) = RecordBatchEncoder::encode(&mut buf, &records, &options) {
        panic!("test batch encoding failed: {e}");
    }
    buf.to_vec()
}

/// An uncompressed batch of `records` records with `value_len`-byte values.
pub fn batch(records: usize, value_len: usize) -> Vec<u8> {
    batch_with(&BatchSpec {
        records,
        value_len,
        ..BatchSpec::default()
    })
}

/// An idempotent producer's batch.
pub fn idempotent_batch(
    producer_id: i64,
    epoch: i16,
    base_sequence: i32,
    records: usize,
) -> Vec<u8> {
    batch_with(&BatchSpec {
        records,
        producer_id,
        producer_epoch: epoch,
        base_sequence,
        ..BatchSpec::default()
    })
}

/// A batch whose records carry `timestamp`, `timestamp + 1`, ...
pub fn timed_batch(records: usize, timestamp: i64) -> Vec<u8> {
    batch_with(&BatchSpec {
        records,
        timestamp,
        ..BatchSpec::default()
    })
}

/// A zig-zag varint of `value` (`ByteUtils.writeVarlong`; the same bytes as `writeVarint` for
/// values in `i32` range).
fn put_varint(out: &mut Vec<u8>, value: i64) {
    common::record::varint::write_varlong(out, value);
}

/// One batch (baseOffset 0, no producer id) of `offsets.len()` records whose offset deltas are
/// `offsets` as given (an old client's misnumbered batch when they are not 0, 1, ...), with
/// codec `compression`; record i has timestamp `1_000 + i` and value `value-i`. The header's
/// lastOffsetDelta is `offsets.len() - 1`, consistent with its record count.
pub fn batch_with_offsets(offsets: &[i64], compression: Compression) -> Vec<u8> {
    use kafka_protocol::compression::{Compressor, Gzip, Lz4, Snappy, Zstd};
    let mut raw = Vec::new();
    for (i, &delta) in offsets.iter().enumerate() {
        let value = format!("value-{i}");
        let mut record = vec![0u8]; // attributes
        put_varint(&mut record, i as i64); // timestamp delta
        put_varint(&mut record, delta);
        put_varint(&mut record, -1); // null key
        put_varint(&mut record, value.len() as i64);
        record.extend_from_slice(value.as_bytes());
        put_varint(&mut record, 0); // no headers
        put_varint(&mut raw, record.len() as i64);
        raw.extend_from_slice(&record);
    }
    let mut body = BytesMut::new();
    let fill = |buf: &mut BytesMut| {
        buf.extend_from_slice(&raw);
        Ok(())
    };
    let compressed = match compression {
        Compression::None => fill(&mut body),
        Compression::Gzip => Gzip::compress(&mut body, fill),
        Compression::Snappy => Snappy::compress(&mut body, fill),
        Compression::Lz4 => Lz4::compress(&mut body, fill),
        Compression::Zstd => Zstd::compress(&mut body, fill),
    };
    if let Err(e) = compressed {
        panic!("test batch compression failed: {e}");
    }
    let count = offsets.len() as i32;
    let mut out = Vec::new();
    out.extend_from_slice(&0i64.to_be_bytes()); // baseOffset
    out.extend_from_slice(&((49 + body.len()) as i32).to_be_bytes()); // batchLength
    out.extend_from_slice(&(-1i32).to_be_bytes()); // partitionLeaderEpoch
    out.push(2); // magic
    out.extend_from_slice(&0u32.to_be_bytes()); // crc, below
    out.extend_from_slice(&(compression as i16).to_be_bytes());
    out.extend_from_slice(&(count - 1).to_be_bytes());
    out.extend_from_slice(&1_000i64.to_be_bytes());
    out.extend_from_slice(&(1_000 + i64::from(count) - 1).to_be_bytes());
    out.extend_from_slice(&(-1i64).to_be_bytes());
    out.extend_from_slice(&(-1i16).to_be_bytes());
    out.extend_from_slice(&(-1i32).to_be_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    out.extend_from_slice(&body);
    let crc = crate::log::batch::batch_crc(&out);
    out[17..21].copy_from_slice(&crc.to_be_bytes());
    out
}

/// A transactional producer's batch (`base_sequence` -1: as the group coordinator writes
/// transactional offset commits).
pub fn txn_batch(producer_id: i64, epoch: i16, base_sequence: i32, records: usize) -> Vec<u8> {
    batch_with(&BatchSpec {
        records,
        producer_id,
        producer_epoch: epoch,
        base_sequence,
        transactional: true,
        ..BatchSpec::default()
    })
}
