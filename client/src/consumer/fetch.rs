//! Turning one partition's fetched bytes into records at and after the fetch position. Pure.
//!
//! The broker answers a fetch at an offset inside a batch with that whole batch, so records
//! below the position are skipped; the position advances past every complete batch (control
//! batches included), and a partial batch at the end is left for the next fetch.
//!
//! Control batches (transaction markers) are never handed out, whatever the isolation level.
//! With read_committed the broker returns data only up to the last stable offset together with
//! the aborted transactions that overlap it; batches of those transactions are dropped as
//! Kafka's `CompletedFetch` does: an aborted transaction (producer id, first offset) becomes
//! active once a batch of that producer reaches its first offset, the producer's transactional
//! batches are skipped while it is active, and its ABORT marker ends it.

use std::collections::HashSet;

use bytes::Bytes;

use crate::error::ClientError;
use crate::records::{batches, DecodedRecord, CONTROL_TYPE_ABORT};

/// One entry of a Fetch response's `aborted_transactions` (v4+): a transaction of
/// `producer_id` that starts at `first_offset` and ended with an ABORT marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbortedTransaction {
    pub producer_id: i64,
    pub first_offset: i64,
}

/// Records at or after `position`, and the position after them (read_uncommitted).
#[cfg(test)]
pub(crate) fn records_after(
    data: Option<Bytes>,
    position: i64,
) -> Result<(Vec<DecodedRecord>, i64), ClientError> {
    records_after_filtered(data, position, None)
}

/// Records at or after `position`, and the position after them. `aborted` is `Some` for a
/// read_committed fetch (the response's aborted transactions, possibly empty); `None` reads
/// uncommitted.
#[cfg(test)]
pub(crate) fn records_after_filtered(
    data: Option<Bytes>,
    position: i64,
    aborted: Option<&[AbortedTransaction]>,
) -> Result<(Vec<DecodedRecord>, i64), ClientError> {
    let mut out = Vec::new();
    let next = for_each_record_after(data, position, aborted, |r| out.push(r))?;
    Ok((out, next))
}

/// [`records_after_filtered`] handing each record to `emit` as its batch is decoded (no list of
/// every record of the response is built). Returns the position after them. On an error some
/// records may have been emitted already; the caller drops them with the error.
pub(crate) fn for_each_record_after(
    data: Option<Bytes>,
    position: i64,
    aborted: Option<&[AbortedTransaction]>,
    mut emit: impl FnMut(DecodedRecord),
) -> Result<i64, ClientError> {
    let Some(data) = data else {
        return Ok(position);
    };
    let read_committed = aborted.is_some();
    // Kafka keeps them in a priority queue by first offset.
    let mut pending: Vec<AbortedTransaction> = aborted.map(<[_]>::to_vec).unwrap_or_default();
    pending.sort_by_key(|a| std::cmp::Reverse(a.first_offset));
    let mut aborted_producers: HashSet<i64> = HashSet::new();
    let mut next = position;
    for batch in batches(data) {
        let batch = batch?;
        if read_committed && batch.producer_id >= 0 {
            // consumeAbortedTransactionsUpTo(batch.lastOffset)
            while pending
                .last()
                .is_some_and(|a| a.first_offset <= batch.last_offset)
            {
                if let Some(a) = pending.pop() {
                    aborted_producers.insert(a.producer_id);
                }
            }
            if batch.control && batch.control_type == Some(CONTROL_TYPE_ABORT) {
                aborted_producers.remove(&batch.producer_id);
            } else if batch.transactional && aborted_producers.contains(&batch.producer_id) {
                next = next.max(batch.last_offset.saturating_add(1));
                continue;
            }
        }
        if batch.last_offset < next || batch.control {
            next = next.max(batch.last_offset.saturating_add(1));
            continue;
        }
        for record in batch.records {
            if record.offset >= next {
                next = record.offset.saturating_add(1);
                emit(record);
            }
        }
        next = next.max(batch.last_offset.saturating_add(1));
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{encode_batch, encode_batch_with, OutgoingRecord, ProducerIdentity};
    use bytes::BytesMut;
    use kafka_protocol::records::Compression;

    /// A batch of `n` records whose base offset is rewritten to `base`, as a broker stores it.
    fn batch_at(base: i64, n: usize) -> Vec<u8> {
        let records: Vec<OutgoingRecord> = (0..n)
            .map(|i| OutgoingRecord {
                key: None,
                value: Some(Bytes::from(format!("v{}", base + i as i64))),
                headers: vec![],
                timestamp: 5,
            })
            .collect();
        let mut v = encode_batch(&records, Compression::None, ProducerIdentity::NONE)
            .expect("encode")
            .to_vec();
        v[0..8].copy_from_slice(&base.to_be_bytes());
        v
    }

    #[test]
    fn records_below_position_in_first_batch_are_skipped() {
        let mut data = BytesMut::new();
        data.extend_from_slice(&batch_at(10, 5));
        data.extend_from_slice(&batch_at(15, 2));
        let (records, next) = records_after(Some(data.freeze()), 12).expect("decode");
        let offsets: Vec<i64> = records.iter().map(|r| r.offset).collect();
        assert_eq!(offsets, vec![12, 13, 14, 15, 16]);
        assert_eq!(next, 17);
        assert_eq!(records[0].value.as_deref(), Some(&b"v12"[..]));
    }

    #[test]
    fn partial_trailing_batch_leaves_position_at_its_start() {
        let mut data = BytesMut::new();
        data.extend_from_slice(&batch_at(0, 3));
        let second = batch_at(3, 3);
        data.extend_from_slice(&second[..second.len() / 2]);
        let (records, next) = records_after(Some(data.freeze()), 0).expect("decode");
        assert_eq!(records.len(), 3);
        assert_eq!(next, 3);
    }

    /// A transactional batch of `n` records of producer `pid` at `base`.
    fn txn_batch_at(base: i64, n: usize, pid: i64) -> Vec<u8> {
        let records: Vec<OutgoingRecord> = (0..n)
            .map(|i| OutgoingRecord {
                key: None,
                value: Some(Bytes::from(format!("t{}", base + i as i64))),
                headers: vec![],
                timestamp: 5,
            })
            .collect();
        let identity = ProducerIdentity {
            producer_id: pid,
            producer_epoch: 0,
            base_sequence: 0,
        };
        let mut v = encode_batch_with(&records, Compression::None, identity, true)
            .expect("encode")
            .to_vec();
        v[0..8].copy_from_slice(&base.to_be_bytes());
        v
    }

    /// An end transaction marker of producer `pid` at `offset` (0 abort, 1 commit), laid out as
    /// the broker writes it: attributes 0x30, base sequence -1, one record.
    fn marker_at(offset: i64, pid: i64, control_type: i16) -> Vec<u8> {
        let mut key = Vec::new();
        key.extend_from_slice(&0i16.to_be_bytes());
        key.extend_from_slice(&control_type.to_be_bytes());
        let mut value = Vec::new();
        value.extend_from_slice(&0i16.to_be_bytes());
        value.extend_from_slice(&7i32.to_be_bytes());
        let record = OutgoingRecord {
            key: Some(Bytes::from(key)),
            value: Some(Bytes::from(value)),
            headers: vec![],
            timestamp: 5,
        };
        let identity = ProducerIdentity {
            producer_id: pid,
            producer_epoch: 0,
            base_sequence: -1,
        };
        let mut v = encode_batch_with(&[record], Compression::None, identity, true)
            .expect("encode")
            .to_vec();
        v[0..8].copy_from_slice(&offset.to_be_bytes());
        // Set the control bit and recompute the CRC.
        let attributes = i16::from_be_bytes([v[21], v[22]]) | 0x20;
        v[21..23].copy_from_slice(&attributes.to_be_bytes());
        let crc = crc32c::crc32c(&v[21..]);
        v[17..21].copy_from_slice(&crc.to_be_bytes());
        v
    }

    fn values(records: &[DecodedRecord]) -> Vec<String> {
        records
            .iter()
            .map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).to_string())
            .collect()
    }

    /// Offsets 0-1 producer 7 (aborted at 4), 2-3 producer 8 (committed at 5), 4 abort marker,
    /// 5 commit marker, 6 a plain record.
    fn interleaved() -> Bytes {
        let mut data = BytesMut::new();
        data.extend_from_slice(&txn_batch_at(0, 2, 7));
        data.extend_from_slice(&txn_batch_at(2, 2, 8));
        data.extend_from_slice(&marker_at(4, 7, 0));
        data.extend_from_slice(&marker_at(5, 8, 1));
        data.extend_from_slice(&batch_at(6, 1));
        data.freeze()
    }

    #[test]
    fn read_committed_drops_aborted_transactions_and_markers() {
        let aborted = [AbortedTransaction {
            producer_id: 7,
            first_offset: 0,
        }];
        let (records, next) =
            records_after_filtered(Some(interleaved()), 0, Some(&aborted)).expect("decode");
        assert_eq!(values(&records), vec!["t2", "t3", "v6"]);
        assert_eq!(next, 7);
    }

    #[test]
    fn read_uncommitted_returns_everything_but_control_records() {
        let (records, next) = records_after_filtered(Some(interleaved()), 0, None).expect("decode");
        assert_eq!(values(&records), vec!["t0", "t1", "t2", "t3", "v6"]);
        assert_eq!(next, 7);
        let (records, next) = records_after_filtered(Some(interleaved()), 4, None).expect("decode");
        assert_eq!(values(&records), vec!["v6"]);
        assert_eq!(next, 7);
    }

    #[test]
    fn a_later_transaction_of_the_same_producer_is_kept_after_its_abort_marker() {
        // Producer 7 aborts 0-1 (marker 2), then commits 3-4 (marker 5).
        let mut data = BytesMut::new();
        data.extend_from_slice(&txn_batch_at(0, 2, 7));
        data.extend_from_slice(&marker_at(2, 7, 0));
        data.extend_from_slice(&txn_batch_at(3, 2, 7));
        data.extend_from_slice(&marker_at(5, 7, 1));
        let aborted = [AbortedTransaction {
            producer_id: 7,
            first_offset: 0,
        }];
        let (records, next) =
            records_after_filtered(Some(data.freeze()), 0, Some(&aborted)).expect("decode");
        assert_eq!(values(&records), vec!["t3", "t4"]);
        assert_eq!(next, 6);
    }

    #[test]
    fn an_aborted_transaction_starting_later_does_not_drop_earlier_batches() {
        // Producer 7 commits 0-1 (marker 2) and then aborts 3-4 (marker 5).
        let mut data = BytesMut::new();
        data.extend_from_slice(&txn_batch_at(0, 2, 7));
        data.extend_from_slice(&marker_at(2, 7, 1));
        data.extend_from_slice(&txn_batch_at(3, 2, 7));
        data.extend_from_slice(&marker_at(5, 7, 0));
        let aborted = [AbortedTransaction {
            producer_id: 7,
            first_offset: 3,
        }];
        let (records, next) =
            records_after_filtered(Some(data.freeze()), 0, Some(&aborted)).expect("decode");
        assert_eq!(values(&records), vec!["t0", "t1"]);
        assert_eq!(next, 6);
    }

    #[test]
    fn marker_type_is_decoded() {
        let batches =
            crate::records::decode_batches(Bytes::from(marker_at(9, 3, 1))).expect("decode");
        assert_eq!(batches.len(), 1);
        assert!(batches[0].control);
        assert!(batches[0].transactional);
        assert_eq!(batches[0].producer_id, 3);
        assert_eq!(batches[0].control_type, Some(1));
        assert!(batches[0].records.is_empty());
    }

    #[test]
    fn empty_fetch_keeps_position() {
        assert_eq!(records_after(None, 7).expect("none").1, 7);
        assert_eq!(records_after(Some(Bytes::new()), 7).expect("empty").1, 7);
    }
}
