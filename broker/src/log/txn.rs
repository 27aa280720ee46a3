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
