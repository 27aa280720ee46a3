//! The log side of transactions (KIP-98): the types the transaction coordinator, the
//! WriteTxnMarkers handler and Fetch share with the partition log.
//!
//! A transaction ends in each of its partitions with a *control batch* (attributes
//! transactional | control, one record) whose key is Kafka's `EndTransactionMarker` key
//! (version int16 = 0, type int16: 0 ABORT, 1 COMMIT) and whose value is version int16 = 0 and
//! coordinatorEpoch int32 (Kafka's `EndTransactionMarker` / `ControlRecordType`).

/// Kafka's `ControlRecordType` for transaction markers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlRecordType {
    Abort = 0,
    Commit = 1,
}

impl ControlRecordType {
    /// The type as it is written in a control record's key.
    pub fn id(self) -> i16 {
        self as i16
    }

    /// From WriteTxnMarkers' `transaction_result` (true = commit).
    pub fn from_result(commit: bool) -> Self {
        if commit {
            ControlRecordType::Commit
        } else {
            ControlRecordType::Abort
        }
    }
}

/// One transaction marker to append to a partition (WriteTxnMarkers' marker, Kafka's
/// `EndTransactionMarker` plus the producer it closes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnMarker {
    pub producer_id: i64,
    pub producer_epoch: i16,
    /// The epoch of the `__transaction_state` partition's leader that wrote the marker.
    pub coordinator_epoch: i32,
    pub control: ControlRecordType,
}

/// An aborted transaction as FetchResponse's `aborted_transactions` carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbortedTxn {
    pub producer_id: i64,
    /// The first offset the transaction wrote in this partition.
    pub first_offset: i64,
}

/// A transaction still open in a partition (for DescribeProducers and `find-hanging`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OngoingTxn {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub first_offset: i64,
    /// When its first batch was written (ms since the epoch, the batch's max timestamp).
    pub start_timestamp_ms: i64,
}

/// Bytes of one `.txnindex` entry (Kafka's `AbortedTxn.TOTAL_SIZE`): version int16, producerId
/// int64, firstOffset int64, lastOffset int64, lastStableOffset int64.
pub const TXN_INDEX_ENTRY_SIZE: usize = 34;

/// One entry of the aborted transaction index (Kafka's `AbortedTxn` in `TransactionIndex`):
/// an aborted transaction of `producer_id` from `first_offset` to its marker at `last_offset`,
/// and the last stable offset once it was completed (fetches use it to stop searching).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnIndexEntry {
    pub producer_id: i64,
    pub first_offset: i64,
    pub last_offset: i64,
    pub last_stable_offset: i64,
}

impl TxnIndexEntry {
    /// The entry as `.txnindex` stores it (version 0, big endian).
    pub fn to_bytes(&self) -> [u8; TXN_INDEX_ENTRY_SIZE] {
        let mut out = [0u8; TXN_INDEX_ENTRY_SIZE];
        out[0..2].copy_from_slice(&0i16.to_be_bytes());
        out[2..10].copy_from_slice(&self.producer_id.to_be_bytes());
        out[10..18].copy_from_slice(&self.first_offset.to_be_bytes());
        out[18..26].copy_from_slice(&self.last_offset.to_be_bytes());
        out[26..34].copy_from_slice(&self.last_stable_offset.to_be_bytes());
        out
    }

    /// Reads an entry; `None` for an unknown version or a short buffer.
    pub fn from_bytes(buf: &[u8]) -> Option<Self> {
        let field = |at: usize| -> Option<i64> {
            let raw: [u8; 8] = buf.get(at..at + 8)?.try_into().ok()?;
            Some(i64::from_be_bytes(raw))
        };
        let version: [u8; 2] = buf.get(0..2)?.try_into().ok()?;
        if i16::from_be_bytes(version) != 0 {
            return None;
        }
        Some(TxnIndexEntry {
            producer_id: field(2)?,
            first_offset: field(10)?,
            last_offset: field(18)?,
            last_stable_offset: field(26)?,
        })
    }

    /// What a fetch reports of it.
    pub fn aborted(&self) -> AbortedTxn {
        AbortedTxn {
            producer_id: self.producer_id,
            first_offset: self.first_offset,
        }
    }
}

/// A transaction that ended in this partition: from `first_offset` to its marker at
/// `last_offset` (Kafka's `CompletedTxn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompletedTxn {
    pub producer_id: i64,
    pub first_offset: i64,
    pub last_offset: i64,
    pub is_aborted: bool,
}

/// What a control batch says, read from its first record (Kafka's
/// `EndTransactionMarker.deserialize`): the marker type and the coordinator epoch. `None` for a
/// control record of another type (KRaft's leader change and the like) or one that does not
/// parse.
pub fn parse_marker(batch: &[u8]) -> Option<(ControlRecordType, i32)> {
    use common::record::batch::BATCH_HEADER_LEN;
    use common::record::varint::{read_varint, read_varlong};
    let header = common::record::batch::BatchHeader::new(batch).ok()?;
    if !header.is_control() || header.compression() != 0 || header.records_count() < 1 {
        return None;
    }
    let body = batch.get(BATCH_HEADER_LEN..)?;
    let mut at = 0usize;
    let _length = read_varint(body, &mut at).ok()?;
    at += 1; // attributes
    let _timestamp_delta = read_varlong(body, &mut at).ok()?;
    let _offset_delta = read_varint(body, &mut at).ok()?;
    let key_len = usize::try_from(read_varint(body, &mut at).ok()?).ok()?;
    let key = body.get(at..at.checked_add(key_len)?)?;
    at += key_len;
    if key.len() < 4 {
        return None;
    }
    let control = match i16::from_be_bytes([key[2], key[3]]) {
        0 => ControlRecordType::Abort,
        1 => ControlRecordType::Commit,
        _ => return None,
    };
    let value_len = usize::try_from(read_varint(body, &mut at).ok()?).ok()?;
    let value = body.get(at..at.checked_add(value_len)?)?;
    if value.len() < 6 || i16::from_be_bytes([value[0], value[1]]) < 0 {
        return None;
    }
    let coordinator_epoch = i32::from_be_bytes([value[2], value[3], value[4], value[5]]);
    Some((control, coordinator_epoch))
}

/// The control batch carrying `marker` (Kafka's `MemoryRecords.withEndTransactionMarker`):
/// attributes transactional | control, base sequence -1, one record at offset delta 0 stamped
/// `timestamp`, base offset 0 and partition leader epoch -1 (set when it is appended).
pub fn encode_marker_batch(marker: &TxnMarker, timestamp: i64) -> Vec<u8> {
    use common::record::batch::{CONTROL_FLAG, TRANSACTIONAL_FLAG};
    use common::record::varint::{write_varint, write_varlong};
    let mut key = Vec::with_capacity(4);
    key.extend_from_slice(&0i16.to_be_bytes());
    key.extend_from_slice(&marker.control.id().to_be_bytes());
    let mut value = Vec::with_capacity(6);
    value.extend_from_slice(&0i16.to_be_bytes());
    value.extend_from_slice(&marker.coordinator_epoch.to_be_bytes());
    let mut record = vec![0u8]; // attributes
    write_varlong(&mut record, 0); // timestamp delta
    write_varint(&mut record, 0); // offset delta
    write_varint(&mut record, key.len() as i32);
    record.extend_from_slice(&key);
    write_varint(&mut record, value.len() as i32);
    record.extend_from_slice(&value);
    write_varint(&mut record, 0); // headers
    let mut body = Vec::with_capacity(record.len() + 1);
    write_varint(&mut body, record.len() as i32);
    body.extend_from_slice(&record);

    let mut out = Vec::with_capacity(61 + body.len());
    out.extend_from_slice(&0i64.to_be_bytes()); // baseOffset
    out.extend_from_slice(&((49 + body.len()) as i32).to_be_bytes()); // batchLength
    out.extend_from_slice(&(-1i32).to_be_bytes()); // partitionLeaderEpoch
    out.push(2); // magic
    out.extend_from_slice(&0u32.to_be_bytes()); // crc, below
    out.extend_from_slice(&(TRANSACTIONAL_FLAG | CONTROL_FLAG).to_be_bytes());
    out.extend_from_slice(&0i32.to_be_bytes()); // lastOffsetDelta
    out.extend_from_slice(&timestamp.to_be_bytes()); // baseTimestamp
    out.extend_from_slice(&timestamp.to_be_bytes()); // maxTimestamp
    out.extend_from_slice(&marker.producer_id.to_be_bytes());
    out.extend_from_slice(&marker.producer_epoch.to_be_bytes());
    out.extend_from_slice(&(-1i32).to_be_bytes()); // baseSequence
    out.extend_from_slice(&1i32.to_be_bytes()); // recordsCount
    out.extend_from_slice(&body);
    let crc = crc32c::crc32c(&out[common::record::batch::CRC_START..]);
    out[17..21].copy_from_slice(&crc.to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_batch_is_a_valid_control_batch_that_parses_back() {
        let marker = TxnMarker {
            producer_id: 42,
            producer_epoch: 3,
            coordinator_epoch: 7,
            control: ControlRecordType::Abort,
        };
        let bytes = encode_marker_batch(&marker, 1_234);
        let info = crate::log::batch::check_batch(&bytes, 0, usize::MAX).expect("valid batch");
        assert!(info.is_control());
        assert_eq!(info.attributes, 0x30);
        assert_eq!((info.producer_id, info.producer_epoch), (42, 3));
        assert_eq!((info.base_sequence, info.records_count), (-1, 1));
        assert_eq!(parse_marker(&bytes), Some((ControlRecordType::Abort, 7)));
        // The kafka-protocol decoder (as clients decode) agrees.
        let mut buf = bytes::Bytes::from(bytes);
        let set = kafka_protocol::records::RecordBatchDecoder::decode(&mut buf).expect("decode");
        let record = &set.records[0];
        assert!(record.control && record.transactional);
        assert_eq!(record.key.as_deref(), Some(&[0u8, 0, 0, 0][..]));
        assert_eq!(record.value.as_deref(), Some(&[0u8, 0, 0, 0, 0, 7][..]));
    }

    #[test]
    fn txn_index_entries_are_34_bytes_in_kafkas_layout() {
        let e = TxnIndexEntry {
            producer_id: 1,
            first_offset: 2,
            last_offset: 3,
            last_stable_offset: 4,
        };
        let bytes = e.to_bytes();
        assert_eq!(&bytes[0..2], &[0, 0]);
        assert_eq!(&bytes[2..10], &1i64.to_be_bytes());
        assert_eq!(&bytes[26..34], &4i64.to_be_bytes());
        assert_eq!(TxnIndexEntry::from_bytes(&bytes), Some(e));
        let mut v1 = bytes;
        v1[1] = 1;
        assert_eq!(TxnIndexEntry::from_bytes(&v1), None);
    }
}
