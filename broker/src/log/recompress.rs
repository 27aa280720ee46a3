//! A topic's `compression.type` acted on as Kafka 3.9 acts on it (`LogValidator`
//! `validateMessagesAndAssignOffsetsCompressed` and `buildRecordsAndAssignOffsets`).
//!
//! The target codec of a produced batch is the topic's `compression.type` (broker default
//! `compression.type`): `producer` keeps the codec the producer chose, `uncompressed` means none,
//! `gzip`, `snappy`, `lz4` and `zstd` name a codec. When the batch's codec is the target codec the
//! batch is appended as it came (the zero-copy path: nothing is decompressed for this rule). When
//! they differ, the broker decompresses the records and writes a new v2 batch with the target
//! codec, as Kafka's `MemoryRecordsBuilder` writes it: the same producer id, epoch and base
//! sequence, the transactional flag and the timestamp type kept, the same records (timestamps,
//! keys, values and headers as sent) with offset deltas 0, 1, ... and timestamp deltas from the
//! first record's timestamp (the new `baseTimestamp`), `maxTimestamp` the largest record
//! timestamp (or the append time already stamped on a LogAppendTime topic), and a new CRC-32C.
//!
//! The levels of KIP-390 (`compression.gzip.level` 1-9 or -1, `compression.lz4.level` 1-17,
//! `compression.zstd.level` -131072-22) reach the compressor; snappy has none.

use std::io::Write;

use bytes::BytesMut;
use kafka_protocol::compression::{Compressor, Snappy};

use super::batch::{
    batch_crc, BatchHeader, BATCH_HEADER_LEN, LOG_OVERHEAD, MAGIC_V2, TIMESTAMP_TYPE_FLAG,
    TRANSACTIONAL_FLAG,
};
use super::validator::{decompress, walk_records};
use super::LogError;

/// Kafka's `BrokerCompressionType`: the values of `compression.type`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BrokerCompressionType {
    /// Keep the producer's codec.
    #[default]
    Producer,
    Uncompressed,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

impl BrokerCompressionType {
    /// Kafka's config values (`BrokerCompressionType.names()`), in Kafka's order.
    pub const NAMES: [&'static str; 6] =
        ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"];

    /// Parses a config value (Kafka's names, exactly as Kafka's `ValidString` accepts them).
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value.trim() {
            "producer" => BrokerCompressionType::Producer,
            "uncompressed" => BrokerCompressionType::Uncompressed,
            "gzip" => BrokerCompressionType::Gzip,
            "snappy" => BrokerCompressionType::Snappy,
            "lz4" => BrokerCompressionType::Lz4,
            "zstd" => BrokerCompressionType::Zstd,
            _ => return None,
        })
    }

    /// The codec id (batch attribute bits 0-2) this type stores; `None` for `producer`.
    pub fn codec(self) -> Option<u8> {
        match self {
            BrokerCompressionType::Producer => None,
            BrokerCompressionType::Uncompressed => Some(0),
            BrokerCompressionType::Gzip => Some(1),
            BrokerCompressionType::Snappy => Some(2),
            BrokerCompressionType::Lz4 => Some(3),
            BrokerCompressionType::Zstd => Some(4),
        }
    }
}

/// Kafka's `compression.gzip.level` default (`Deflater.DEFAULT_COMPRESSION`, zlib's 6).
pub const DEFAULT_GZIP_LEVEL: i32 = -1;
/// Kafka's `compression.lz4.level` default.
pub const DEFAULT_LZ4_LEVEL: i32 = 9;
/// Kafka's `compression.zstd.level` default.
pub const DEFAULT_ZSTD_LEVEL: i32 = 3;

/// The level ranges and their check live in the config catalogue (`common::config`).
pub use common::config::{level_error, LZ4_LEVELS, ZSTD_LEVELS};

/// A topic's `compression.type` and the levels of KIP-390 (topic overrides over the broker's
/// keys of the same names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TopicCompression {
    pub compression_type: BrokerCompressionType,
    /// `compression.gzip.level`: 1-9, or -1 for zlib's default.
    pub gzip_level: i32,
    /// `compression.lz4.level`: 1-17.
    pub lz4_level: i32,
    /// `compression.zstd.level`: -131072-22.
    pub zstd_level: i32,
}

impl Default for TopicCompression {
    fn default() -> Self {
        TopicCompression {
            compression_type: BrokerCompressionType::Producer,
            gzip_level: DEFAULT_GZIP_LEVEL,
            lz4_level: DEFAULT_LZ4_LEVEL,
            zstd_level: DEFAULT_ZSTD_LEVEL,
        }
    }
}

impl TopicCompression {
    /// The codec a batch sent with codec `source` is stored with (Kafka's
    /// `BrokerCompressionType.targetCompression`).
    pub fn target_codec(&self, source: u8) -> u8 {
        self.compression_type.codec().unwrap_or(source)
    }

    /// Compresses `records` (the concatenated records of a batch) with `codec`.
    pub(super) fn compress(&self, codec: u8, records: &[u8]) -> Result<Vec<u8>, LogError> {
        let failed = |e: &dyn std::fmt::Display| {
            LogError::Io(std::io::Error::other(format!(
                "compressing a record batch failed: {e}"
            )))
        };
        match codec {
            0 => Ok(records.to_vec()),
            1 => {
                let level = match u32::try_from(self.gzip_level) {
                    Ok(l) if (1..=9).contains(&l) => flate2::Compression::new(l),
                    _ => flate2::Compression::default(),
                };
                let mut e = flate2::write::GzEncoder::new(Vec::new(), level);
                e.write_all(records).map_err(|e| failed(&e))?;
                e.finish().map_err(|e| failed(&e))
            }
            2 => {
                // Kafka's xerial framing (`SnappyOutputStream`), as kafka-protocol writes it.
                let mut out = BytesMut::new();
                Snappy::compress(&mut out, |buf: &mut BytesMut| {
                    buf.extend_from_slice(records);
                    Ok(())
                })
                .map_err(|e| failed(&e))?;
                Ok(out.to_vec())
            }
            3 => {
                // Kafka's `KafkaLZ4BlockOutputStream`: the LZ4 frame format with independent
                // 64 KiB blocks and no content checksum.
                let level = u32::try_from(self.lz4_level.clamp(1, 17)).unwrap_or(9);
                let mut e = lz4::EncoderBuilder::new()
                    .level(level)
                    .block_size(lz4::BlockSize::Max64KB)
                    .block_mode(lz4::BlockMode::Independent)
                    .checksum(lz4::ContentChecksum::NoChecksum)
                    .build(Vec::new())
                    .map_err(|e| failed(&e))?;
                e.write_all(records).map_err(|e| failed(&e))?;
                let (out, result) = e.finish();
                result.map_err(|e| failed(&e))?;
                Ok(out)
            }
            4 => zstd::stream::encode_all(records, self.zstd_level).map_err(|e| failed(&e)),
            other => Err(LogError::UnsupportedCompression(format!(
                "Unknown compression type id: {other}"
            ))),
        }
    }
}

/// A zig-zag varint of `value` (`ByteUtils.writeVarlong`; the same bytes as `writeVarint` for
/// values in `i32` range).
fn put_varint(out: &mut Vec<u8>, value: i64) {
    common::record::varint::write_varlong(out, value);
}

/// Rebuilds one validated client batch (`batch`: exactly one whole v2 batch that passed
/// `check_batch` and `validate_client_batch`) with codec `target`, as Kafka's
/// `buildRecordsAndAssignOffsets` does; the producer fields, the transactional flag, the
/// timestamp type and (on a LogAppendTime topic) `maxTimestamp` come from `batch`'s header.
/// baseOffset is 0 and partitionLeaderEpoch -1, for the append to patch. Errors: a body that does
/// not decompress (CORRUPT_MESSAGE) or records that do not parse (INVALID_RECORD).
pub fn rebuild_batch(
    batch: &[u8],
    target: u8,
    compression: &TopicCompression,
) -> Result<Vec<u8>, LogError> {
    let header = BatchHeader::new(batch)?;
    let source = header.compression();
    let decompressed;
    let body: &[u8] = if source == 0 {
        &batch[BATCH_HEADER_LEN..]
    } else {
        decompressed = decompress(source, &batch[BATCH_HEADER_LEN..])?;
        &decompressed
    };
    let base_timestamp = header.base_timestamp();
    let mut records = Vec::with_capacity(usize::try_from(header.records_count()).unwrap_or(0));
    walk_records(body, header.records_count(), |_, r| {
        records.push((
            base_timestamp.saturating_add(r.timestamp_delta),
            r.tail.clone(),
        ));
    })?;
    let new_base_timestamp = records.first().map_or(base_timestamp, |(t, _)| *t);
    let max_timestamp = if header.is_log_append_time() {
        header.max_timestamp()
    } else {
        records.iter().map(|(t, _)| *t).max().unwrap_or(-1)
    };

    let mut raw = Vec::with_capacity(body.len() + records.len());
    let mut record = Vec::new();
    for (index, (timestamp, tail)) in records.iter().enumerate() {
        // `walk_records` walks bytes in memory, so every record has its range.
        let Some(tail) = tail else {
            return Err(LogError::CorruptMessage(
                "record bytes missing from an in-memory walk".into(),
            ));
        };
        record.clear();
        record.push(0); // attributes: unused in v2
        put_varint(&mut record, timestamp.wrapping_sub(new_base_timestamp));
        put_varint(&mut record, index as i64);
        record.extend_from_slice(&body[tail.clone()]);
        put_varint(&mut raw, record.len() as i64);
        raw.extend_from_slice(&record);
    }
    let compressed = compression.compress(target, &raw)?;

    let size = BATCH_HEADER_LEN + compressed.len();
    let batch_length =
        i32::try_from(size - LOG_OVERHEAD).map_err(|_| LogError::MessageTooLarge {
            size,
            max: i32::MAX as usize,
        })?;
    let attributes =
        i16::from(target) | (header.attributes() & (TIMESTAMP_TYPE_FLAG | TRANSACTIONAL_FLAG));
    let count = i32::try_from(records.len()).unwrap_or(i32::MAX);
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&0i64.to_be_bytes()); // baseOffset
    out.extend_from_slice(&batch_length.to_be_bytes());
    out.extend_from_slice(&(-1i32).to_be_bytes()); // partitionLeaderEpoch
    out.push(MAGIC_V2 as u8);
    out.extend_from_slice(&0u32.to_be_bytes()); // crc, below
    out.extend_from_slice(&attributes.to_be_bytes());
    out.extend_from_slice(&(count - 1).to_be_bytes()); // lastOffsetDelta
    out.extend_from_slice(&new_base_timestamp.to_be_bytes());
    out.extend_from_slice(&max_timestamp.to_be_bytes());
    out.extend_from_slice(&header.producer_id().to_be_bytes());
    out.extend_from_slice(&header.producer_epoch().to_be_bytes());
    out.extend_from_slice(&header.base_sequence().to_be_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    out.extend_from_slice(&compressed);
    let crc = batch_crc(&out);
    out[17..21].copy_from_slice(&crc.to_be_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch::check_batch;
    use crate::log::testutil::{batch_with, BatchSpec};
    use bytes::Bytes;
    use kafka_protocol::records::{Compression, Record, RecordBatchDecoder};

    fn decode(bytes: &[u8]) -> Vec<Record> {
        let mut buf = Bytes::copy_from_slice(bytes);
        RecordBatchDecoder::decode(&mut buf)
            .expect("decodes")
            .records
    }

    fn codec_of(bytes: &[u8]) -> u8 {
        BatchHeader::new(bytes).expect("header").compression()
    }

    const CODECS: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    #[test]
    fn every_codec_rebuilds_into_every_other_with_the_same_records() {
        for from in CODECS {
            let sent = batch_with(&BatchSpec {
                records: 7,
                value_len: 300,
                producer_id: 5,
                producer_epoch: 2,
                base_sequence: 40,
                timestamp: 9_000,
                compression: from,
                ..BatchSpec::default()
            });
            let expected = decode(&sent);
            for target in 0..=4u8 {
                let rebuilt =
                    rebuild_batch(&sent, target, &TopicCompression::default()).expect("rebuilt");
                check_batch(&rebuilt, 0, usize::MAX).expect("valid batch with its CRC");
                assert_eq!(codec_of(&rebuilt), target, "{from:?} -> {target}");
                let h = BatchHeader::new(&rebuilt[..]).expect("header");
                assert_eq!(
                    (h.producer_id(), h.producer_epoch(), h.base_sequence()),
                    (5, 2, 40)
                );
                assert_eq!(h.records_count(), 7);
                assert_eq!(h.base_timestamp(), 9_000);
                assert_eq!(h.max_timestamp(), 9_006);
                assert_eq!(decode(&rebuilt), expected, "{from:?} -> {target}");
            }
        }
    }

    #[test]
    fn transactional_flag_and_log_append_time_are_kept() {
        let mut sent = batch_with(&BatchSpec {
            records: 2,
            producer_id: 1,
            producer_epoch: 0,
            base_sequence: 0,
            ..BatchSpec::default()
        });
        // As `validate_client_batch` leaves a batch on a LogAppendTime topic.
        let attributes = TRANSACTIONAL_FLAG | TIMESTAMP_TYPE_FLAG;
        sent[21..23].copy_from_slice(&attributes.to_be_bytes());
        sent[35..43].copy_from_slice(&77_777i64.to_be_bytes());
        let rebuilt = rebuild_batch(&sent, 4, &TopicCompression::default()).expect("rebuilt");
        let h = BatchHeader::new(&rebuilt[..]).expect("header");
        assert!(h.is_transactional());
        assert!(h.is_log_append_time());
        assert_eq!(h.max_timestamp(), 77_777);
        assert_eq!(h.compression(), 4);
    }

    #[test]
    fn levels_reach_the_compressor() {
        let records = vec![b'a'; 50_000]
            .into_iter()
            .chain((0..50_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8))
            .collect::<Vec<u8>>();
        let with = |gzip_level, zstd_level| TopicCompression {
            gzip_level,
            zstd_level,
            ..TopicCompression::default()
        };
        let fast = with(1, 1).compress(1, &records).expect("gzip 1");
        let best = with(9, 1).compress(1, &records).expect("gzip 9");
        assert_ne!(fast, best, "gzip level changes the output");
        let z1 = with(-1, 1).compress(4, &records).expect("zstd 1");
        let z19 = with(-1, 19).compress(4, &records).expect("zstd 19");
        assert_ne!(z1, z19, "zstd level changes the output");
        for (codec, out) in [(1, &fast), (1, &best), (4, &z1), (4, &z19)] {
            assert_eq!(
                &decompress(codec, out).expect("round trip")[..],
                &records[..]
            );
        }
    }

    #[test]
    fn level_ranges_are_kafkas() {
        let gzip = "compression.gzip.level";
        assert_eq!(level_error(gzip, -1), None);
        assert_eq!(level_error(gzip, 9), None);
        assert_eq!(
            level_error(gzip, 0).as_deref(),
            Some("Value must be between 1 and 9 or equal to -1")
        );
        assert_eq!(
            level_error("compression.lz4.level", 18).as_deref(),
            Some("Value must be no more than 17")
        );
        assert_eq!(
            level_error("compression.lz4.level", 0).as_deref(),
            Some("Value must be at least 1")
        );
        assert_eq!(level_error("compression.zstd.level", -5), None);
        assert_eq!(
            level_error("compression.zstd.level", 23).as_deref(),
            Some("Value must be no more than 22")
        );
    }

    #[test]
    fn target_codec_follows_compression_type() {
        let of = |t| TopicCompression {
            compression_type: t,
            ..TopicCompression::default()
        };
        assert_eq!(of(BrokerCompressionType::Producer).target_codec(3), 3);
        assert_eq!(of(BrokerCompressionType::Uncompressed).target_codec(1), 0);
        assert_eq!(of(BrokerCompressionType::Zstd).target_codec(0), 4);
        for name in BrokerCompressionType::NAMES {
            assert!(BrokerCompressionType::parse(name).is_some(), "{name}");
        }
        assert_eq!(BrokerCompressionType::parse("none"), None);
        assert_eq!(BrokerCompressionType::parse("GZIP"), None);
    }
}
