//! Kafka's record-batch vocabulary (`org.apache.kafka.common.record` and `common.utils.ByteUtils`):
//! the zig-zag varints records are framed with ([`varint`]), a view over the 61-byte header of a
//! v2 batch (`DefaultRecordBatch`, [`batch`]) and a bounds-checked walk over the records of an
//! uncompressed batch body (`DefaultRecord.readFrom`, [`walk`]). Pure: callers bring the bytes,
//! nothing here allocates from a length or count read off the wire.

pub mod batch;
pub mod varint;
pub mod walk;

pub use batch::{BatchHeader, HeaderError};
pub use varint::VarintError;
pub use walk::{walk_record_stream, walk_records, RecordFrame, StreamWalkError, WalkError};
