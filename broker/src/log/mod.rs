//! Partition log storage, laid out on disk as Kafka lays it out.
//!
//! A partition is a directory `<topic>-<partition>/` of segments named by their 20-digit base
//! offset (`00000000000000000000.log`), each with a sparse offset index (`.index`) and time index
//! (`.timeindex`). Produced record batches (v2) are validated (header sanity, CRC-32C), get their
//! `baseOffset` and `partitionLeaderEpoch` patched in place (both outside the CRC) and are appended
//! byte for byte: nothing is decoded per record or re-encoded on the hot path. Only a batch whose
//! codec differs from the topic's `compression.type` is rebuilt with that codec (`recompress`),
//! as Kafka does.
//!
//! On disk, beside the segments, `recovery-point-offset-checkpoint` (JSON, replaced atomically)
//! records the offset below which everything was fsynced with its indexes, where that offset
//! sits in its segment, and the idempotent-producer state at that point. Opening a directory
//! trusts the segments below it and re-validates everything after it (CRC-32C, offsets in
//! sequence), cutting a torn or corrupt tail and rebuilding the indexes of what it scanned.
//!
//! `PartitionLog` is the synchronous owner of one directory (append, read, truncate, roll,
//! retention, recovery). `DurableLog` wraps it for async callers: appends checked before its
//! lock and written outside it, every file operation on a blocking thread, group commit when
//! every append must be fsynced, background flushing otherwise, and a high-watermark watch for
//! long-polls.

pub mod batch;
mod checkpoint;
pub mod cleaner;
pub mod durable;
pub mod epoch_cache;
pub mod index;
pub mod legacy_message_set;
#[cfg(test)]
mod log_start_tests;
pub mod partition_log;
pub mod producer_state;
#[cfg(test)]
mod proptests;
pub mod read;
pub mod recompress;
mod record_walk;
mod recovery;
pub mod segment;
#[cfg(test)]
pub(crate) mod testutil;
pub mod txn;
pub mod txn_index;
pub mod validator;

use common::errors::ErrorCode;

pub use batch::{validate_produce_payload, validate_produce_records, BatchHeader, BatchInfo};
pub use durable::DurableLog;
pub use partition_log::{AppendInfo, PartitionLog};
pub use read::{ReadPlan, ReadSlice};
pub use recompress::{BrokerCompressionType, TopicCompression};
pub use validator::{AppendOrigin, RecordError, TimestampRules, TimestampType};

/// Kafka's default `log.segment.bytes` (1 GiB).
pub const DEFAULT_SEGMENT_BYTES: u64 = 1 << 30;
/// Kafka's default `log.roll.hours` (168) in milliseconds.
pub const DEFAULT_SEGMENT_MS: i64 = 168 * 3_600_000;
/// Kafka's default `log.index.size.max.bytes` / `segment.index.bytes` (10 MiB).
pub const DEFAULT_SEGMENT_INDEX_BYTES: u64 = 10 * 1024 * 1024;
/// Kafka's default `log.index.interval.bytes`.
pub const DEFAULT_INDEX_INTERVAL_BYTES: u32 = 4096;
/// Kafka's default `log.retention.hours` (168) in milliseconds.
pub const DEFAULT_RETENTION_MS: i64 = 168 * 3_600_000;
/// Kafka's default `message.max.bytes` / `max.message.bytes`.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1_048_588;

/// Kafka's default `delete.retention.ms` / `log.cleaner.delete.retention.ms` (one day).
pub const DEFAULT_DELETE_RETENTION_MS: i64 = 86_400_000;
/// Kafka's default `min.cleanable.dirty.ratio` / `log.cleaner.min.cleanable.ratio`.
pub const DEFAULT_MIN_CLEANABLE_DIRTY_RATIO: f64 = 0.5;

/// Storage settings of one partition (a topic's overrides over the broker's `log.*` keys).
#[derive(Clone, Debug, PartialEq)]
pub struct LogConfig {
    /// `segment.bytes`: a segment is rolled before it would grow past this.
    pub segment_bytes: u64,
    /// `segment.ms`: a non-empty segment is rolled on the next append once the incoming batches'
    /// max timestamp is more than this past its first batch's timestamp (Kafka's
    /// `LogSegment.shouldRoll`). `None` never rolls by time.
    pub segment_ms: Option<i64>,
    /// `segment.jitter.ms`: each new segment rolls up to this much (a random amount, below
    /// `segment.ms`) earlier. 0 disables the jitter.
    pub segment_jitter_ms: i64,
    /// `segment.index.bytes`: the most bytes each index of a segment may hold (8 per offset
    /// index entry, 12 per time index entry); a segment whose index is full is rolled.
    pub segment_index_bytes: u64,
    /// `index.interval.bytes`: bytes of log between two index entries.
    pub index_interval_bytes: u32,
    /// `retention.ms`; `None` keeps data forever (Kafka's -1).
    pub retention_ms: Option<i64>,
    /// `retention.bytes`; `None` means no size limit (Kafka's -1).
    pub retention_bytes: Option<i64>,
    /// `cleanup.policy` contains `delete`: only then do `retention.ms` and `retention.bytes`
    /// delete segments (a `compact`-only topic keeps them, as Kafka's `LogConfig.delete`).
    pub cleanup_policy_delete: bool,
    /// `cleanup.policy` contains `compact`: the log cleaner (`cleaner`) keeps only the latest
    /// record of each key in the segments before the active one (Kafka's `LogConfig.compact`).
    pub compact: bool,
    /// `delete.retention.ms`: how long a tombstone (a record with a null value) outlives its
    /// first cleaning before a later cleaning removes it (KIP-534's delete horizon).
    pub delete_retention_ms: i64,
    /// `min.cleanable.dirty.ratio` (0.0-1.0): the share of the log's cleanable bytes that must be
    /// dirty (not cleaned yet) before the cleaner takes it up.
    pub min_cleanable_dirty_ratio: f64,
    /// `min.compaction.lag.ms`: a segment whose largest timestamp is younger than this is not
    /// cleaned yet.
    pub min_compaction_lag_ms: i64,
    /// `max.compaction.lag.ms`: dirty data older than this is cleaned whatever the dirty ratio,
    /// and the active segment of a compacted log rolls after at most this long.
    pub max_compaction_lag_ms: i64,
    /// `flush.messages`: fsync after this many appended records (1 = every acknowledged append is
    /// fsynced, with group commit). Kafka's default is effectively never (`i64::MAX`).
    pub flush_interval_messages: u64,
    /// `flush.ms`: fsync at least this often while there is unflushed data.
    pub flush_interval_ms: Option<u64>,
    /// `max.message.bytes`: the largest record batch accepted.
    pub max_message_bytes: usize,
    /// `message.timestamp.type` and `message.timestamp.before.max.ms` / `after.max.ms`: what
    /// `validator` does with the timestamps of produced batches.
    pub timestamps: TimestampRules,
    /// `compression.type` and `compression.{gzip,lz4,zstd}.level`: the codec batches are stored
    /// with (`recompress`).
    pub compression: TopicCompression,
    /// `min.insync.replicas`: the ISR size an acks=all produce needs (else NOT_ENOUGH_REPLICAS).
    pub min_insync_replicas: usize,
    /// `message.downconversion.enable`: whether Fetch v0-3 may down-convert stored batches.
    pub message_downconversion_enable: bool,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            segment_ms: Some(DEFAULT_SEGMENT_MS),
            segment_jitter_ms: 0,
            segment_index_bytes: DEFAULT_SEGMENT_INDEX_BYTES,
            index_interval_bytes: DEFAULT_INDEX_INTERVAL_BYTES,
            retention_ms: Some(DEFAULT_RETENTION_MS),
            retention_bytes: None,
            cleanup_policy_delete: true,
            compact: false,
            delete_retention_ms: DEFAULT_DELETE_RETENTION_MS,
            min_cleanable_dirty_ratio: DEFAULT_MIN_CLEANABLE_DIRTY_RATIO,
            min_compaction_lag_ms: 0,
            max_compaction_lag_ms: i64::MAX,
            flush_interval_messages: i64::MAX as u64,
            flush_interval_ms: None,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            timestamps: TimestampRules::default(),
            compression: TopicCompression::default(),
            min_insync_replicas: 1,
            message_downconversion_enable: true,
        }
    }
}

impl LogConfig {
    /// True when every acknowledged append must be on disk (`flush.messages=1`).
    pub fn fsync_every_append(&self) -> bool {
        self.flush_interval_messages <= 1
    }

    /// The age after which the active segment rolls (Kafka's `LogConfig.maxSegmentMs`):
    /// `segment.ms`, or `max.compaction.lag.ms` when that is sooner on a compacted log, so that
    /// data becomes cleanable within the lag. `None` never rolls by time.
    pub fn max_segment_ms(&self) -> Option<i64> {
        let lag = (self.compact
            && self.max_compaction_lag_ms > 0
            && self.max_compaction_lag_ms < i64::MAX)
            .then_some(self.max_compaction_lag_ms);
        match (self.segment_ms, lag) {
            (Some(ms), Some(lag)) => Some(ms.min(lag)),
            (ms, lag) => ms.or(lag),
        }
    }
}

/// Everything the storage layer can fail with; `kafka_error_code` is the one place that maps a
/// failure to the code a client sees.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("corrupt record batch: {0}")]
    CorruptMessage(String),
    /// Kafka's `InvalidRecordException`; the message is Kafka's text as it is.
    #[error("{0}")]
    InvalidRecord(String),
    /// Records refused by `LogValidator.validateRecord` for another reason than their timestamp
    /// (a keyless record on a compacted topic): INVALID_RECORD with Kafka's
    /// `processRecordErrors` text, one error per record as Produce v8+ carries them.
    #[error(
        "One or more records have been rejected due to {} record errors in total, and only \
         showing the first three errors at most: [{}]",
        errors.len(),
        errors.iter().take(3).map(|e| format!("RecordError(batchIndex={}, message='{}')", e.batch_index, e.message)).collect::<Vec<_>>().join(", ")
    )]
    InvalidRecords { errors: Vec<validator::RecordError> },
    /// Records refused by `LogValidator.validateTimestamp` (INVALID_TIMESTAMP), one error per
    /// record as Produce v8+ carries them.
    #[error("One or more records have been rejected due to invalid timestamp")]
    InvalidTimestamp { errors: Vec<validator::RecordError> },
    /// A codec this batch or this request version may not use.
    #[error("{0}")]
    UnsupportedCompression(String),
    #[error("record batch magic {0} is not supported (only v2)")]
    UnsupportedMagic(i8),
    #[error("record batch of {size} bytes is larger than max.message.bytes {max}")]
    MessageTooLarge { size: usize, max: usize },
    #[error("record batches of {size} bytes do not fit in a segment of {max} bytes")]
    RecordListTooLarge { size: usize, max: u64 },
    #[error("offset {offset} is out of range [{log_start}, {log_end}]")]
    OffsetOutOfRange {
        offset: i64,
        log_start: i64,
        log_end: i64,
    },
    #[error("out of order sequence for producer {producer_id}: expected {expected}, got {got}")]
    OutOfOrderSequence {
        producer_id: i64,
        expected: i32,
        got: i32,
    },
    #[error("producer {producer_id} epoch {got} is older than the current epoch {current}")]
    InvalidProducerEpoch {
        producer_id: i64,
        got: i16,
        current: i16,
    },
    /// Kafka's `InvalidTxnStateException` (INVALID_TXN_STATE): a non-transactional write from a
    /// producer with a transaction open in the partition.
    #[error("{0}")]
    InvalidTxnState(String),
    /// Kafka's `TransactionCoordinatorFencedException`: a marker from a coordinator epoch older
    /// than the one of the producer's last marker.
    #[error("{0}")]
    TransactionCoordinatorFenced(String),
    #[error("storage I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("log storage failed earlier and is offline: {0}")]
    Offline(String),
}

impl LogError {
    /// The per-record errors of a refusal (Produce v8+ `record_errors`); empty for most.
    pub fn record_errors(&self) -> &[validator::RecordError] {
        match self {
            LogError::InvalidTimestamp { errors } | LogError::InvalidRecords { errors } => errors,
            _ => &[],
        }
    }

    /// The `error_message` of the Produce answer. Kafka's `ReplicaManager.appendToLocalLog` sends
    /// one only for record validation failures (`RecordValidationException`:
    /// `hasCustomErrorMessage`, INVALID_RECORD and INVALID_TIMESTAMP); for a too-large batch, a
    /// corrupt one, a storage failure and the like it sends null, so clients print the error
    /// code's default text ("The request included a message larger than the max message size the
    /// server will accept.").
    pub fn client_message(&self) -> Option<String> {
        match self {
            LogError::InvalidRecord(_)
            | LogError::InvalidTimestamp { .. }
            | LogError::InvalidRecords { .. } => Some(self.to_string()),
            _ => None,
        }
    }

    /// The Kafka error code a client sees for this failure.
    pub fn kafka_error_code(&self) -> i16 {
        self.error().code()
    }

    /// The Kafka error for this failure.
    pub fn error(&self) -> ErrorCode {
        use ErrorCode::*;
        match self {
            LogError::CorruptMessage(_) => CorruptMessage,
            LogError::InvalidRecord(_) | LogError::InvalidRecords { .. } => InvalidRecord,
            LogError::InvalidTimestamp { .. } => InvalidTimestamp,
            LogError::UnsupportedCompression(_) => UnsupportedCompressionType,
            // v0/v1 message sets are well-formed but unsupported; other magic values are garbage.
            LogError::UnsupportedMagic(0 | 1) => UnsupportedForMessageFormat,
            LogError::UnsupportedMagic(_) => CorruptMessage,
            LogError::MessageTooLarge { .. } => MessageTooLarge,
            LogError::RecordListTooLarge { .. } => RecordListTooLarge,
            LogError::OffsetOutOfRange { .. } => OffsetOutOfRange,
            LogError::OutOfOrderSequence { .. } => OutOfOrderSequenceNumber,
            LogError::InvalidProducerEpoch { .. } => InvalidProducerEpoch,
            LogError::InvalidTxnState(_) => InvalidTxnState,
            LogError::TransactionCoordinatorFenced(_) => TransactionCoordinatorFenced,
            LogError::Io(_) | LogError::Offline(_) => KafkaStorageError,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_record_validation_failures_carry_a_message_to_the_client() {
        assert_eq!(
            LogError::MessageTooLarge { size: 2, max: 1 }.client_message(),
            None
        );
        assert_eq!(
            LogError::CorruptMessage("crc".into()).client_message(),
            None
        );
        assert_eq!(
            LogError::InvalidRecord("bad timestamp".into()).client_message(),
            Some("bad timestamp".to_string())
        );
    }

    #[test]
    fn every_error_maps_to_its_kafka_code() {
        assert_eq!(
            LogError::CorruptMessage(String::new()).kafka_error_code(),
            2
        );
        assert_eq!(LogError::UnsupportedMagic(1).kafka_error_code(), 43);
        assert_eq!(LogError::UnsupportedMagic(7).kafka_error_code(), 2);
        assert_eq!(
            LogError::MessageTooLarge { size: 2, max: 1 }.kafka_error_code(),
            10
        );
        assert_eq!(
            LogError::InvalidRecord(String::new()).kafka_error_code(),
            87
        );
        let range = LogError::OffsetOutOfRange {
            offset: 9,
            log_start: 0,
            log_end: 1,
        };
        assert_eq!(range.kafka_error_code(), 1);
        let seq = LogError::OutOfOrderSequence {
            producer_id: 1,
            expected: 1,
            got: 5,
        };
        assert_eq!(seq.kafka_error_code(), 45);
        let epoch = LogError::InvalidProducerEpoch {
            producer_id: 1,
            got: 0,
            current: 1,
        };
        assert_eq!(epoch.kafka_error_code(), 47);
        assert_eq!(
            LogError::Io(std::io::Error::other("x")).kafka_error_code(),
            56
        );
    }
}
