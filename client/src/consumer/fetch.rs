//! Turning one partition's fetched bytes into records at and after the fetch position. Pure.
//!
//! The broker answers a fetch at an offset inside a batch with that whole batch, so records
//! below the position are skipped; the position advances past every complete batch (control
//! batches included), and a partial batch at the end is left for the next fetch.

use bytes::Bytes;

use crate::error::ClientError;
use crate::records::{decode_batches, DecodedRecord};

/// Records at or after `position`, and the position after them.
pub(crate) fn records_after(
    data: Option<Bytes>,
    position: i64,
) -> Result<(Vec<DecodedRecord>, i64), ClientError> {
    let Some(data) = data else {
        return Ok((Vec::new(), position));
    };
    let mut next = position;
    let mut out = Vec::new();
    for batch in decode_batches(data)? {
        if batch.last_offset < next {
            continue;
        }
        for record in batch.records {
            if record.offset >= next {
                next = record.offset.saturating_add(1);
                out.push(record);
            }
        }
        next = next.max(batch.last_offset.saturating_add(1));
    }
    Ok((out, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{encode_batch, OutgoingRecord, ProducerIdentity};
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

    #[test]
    fn empty_fetch_keeps_position() {
        assert_eq!(records_after(None, 7).expect("none").1, 7);
        assert_eq!(records_after(Some(Bytes::new()), 7).expect("empty").1, 7);
    }
}
