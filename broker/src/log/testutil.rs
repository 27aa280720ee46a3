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
            compression: Compression::None,
        }
    }
}

/// Encodes one batch as a producer would send it (baseOffset 0).
pub fn batch_with(spec: &BatchSpec) -> Vec<u8> {
    let records: Vec<Record> = (0..spec.records)
        .map(|i| Record {
            transactional: false,
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
