//! The records of `__transaction_state`, in Kafka 3.9's schemas (`TransactionLogKey.json`,
//! `TransactionLogValue.json`) so that tools reading the topic decode them:
//!
//! - key v0: `version: int16 = 0`, `transactional_id: string`;
//! - value v0: `version: int16 = 0`, `producer_id: int64`, `producer_epoch: int16`,
//!   `transaction_timeout_ms: int32`, `transaction_status: int8`, `transaction_partitions:
//!   nullable [topic: string, partition_ids: [int32]]`, `transaction_last_update_timestamp_ms:
//!   int64`, `transaction_start_timestamp_ms: int64`.
//!
//! A null value is a tombstone (an expired transactional id). Kafka 3.9 writes value v0 (v1 is
//! KIP-890's second transaction version); v1 values are refused on read, so a load skips them.

use std::collections::BTreeSet;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::TxnState;

/// What one value holds: a transactional id's producer, its state and partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnLogValue {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub timeout_ms: i32,
    pub state: TxnState,
    pub partitions: BTreeSet<(String, i32)>,
    /// When the state last changed, ms since the epoch.
    pub last_update_ms: i64,
    /// When the transaction began (-1: none open), ms since the epoch.
    pub start_ms: i64,
}

/// The key of `transactional_id`'s records.
pub fn encode_key(transactional_id: &str) -> Bytes {
    let mut out = BytesMut::with_capacity(4 + transactional_id.len());
    out.put_i16(0);
    put_string(&mut out, transactional_id);
    out.freeze()
}

/// The transactional id of a key; an error names what did not decode.
pub fn decode_key(mut key: &[u8]) -> Result<String, String> {
    let version = get_i16(&mut key, "key version")?;
    if version != 0 {
        return Err(format!("unknown key version {version}"));
    }
    get_string(&mut key, "transactional_id")
}

/// A value in v0, the version Kafka 3.9 writes. The partitions are null in the Empty state, as
/// Kafka's `TransactionLog.valueToBytes` writes them.
pub fn encode_value(v: &TxnLogValue) -> Bytes {
    let mut out = BytesMut::with_capacity(64);
    out.put_i16(0);
    out.put_i64(v.producer_id);
    out.put_i16(v.producer_epoch);
    out.put_i32(v.timeout_ms);
    out.put_i8(v.state.id());
    if v.state == TxnState::Empty {
        out.put_i32(-1);
    } else {
        let mut topics: Vec<(&str, Vec<i32>)> = Vec::new();
        for (topic, partition) in &v.partitions {
            match topics.last_mut() {
                Some((t, ps)) if *t == topic.as_str() => ps.push(*partition),
                _ => topics.push((topic.as_str(), vec![*partition])),
            }
        }
        out.put_i32(i32::try_from(topics.len()).unwrap_or(i32::MAX));
        for (topic, partitions) in topics {
            put_string(&mut out, topic);
            out.put_i32(i32::try_from(partitions.len()).unwrap_or(i32::MAX));
            for p in partitions {
                out.put_i32(p);
            }
        }
    }
    out.put_i64(v.last_update_ms);
    out.put_i64(v.start_ms);
    out.freeze()
}

/// A v0 value; an error names what did not decode.
pub fn decode_value(mut value: &[u8]) -> Result<TxnLogValue, String> {
    let buf = &mut value;
    let version = get_i16(buf, "value version")?;
    if version != 0 {
        return Err(format!("unsupported value version {version}"));
    }
    let producer_id = get_i64(buf, "producer_id")?;
    let producer_epoch = get_i16(buf, "producer_epoch")?;
    let timeout_ms = get_i32(buf, "transaction_timeout_ms")?;
    need(buf, 1, "transaction_status")?;
    let status = buf.get_i8();
    let state = TxnState::from_id(status).ok_or_else(|| format!("unknown status {status}"))?;
    let mut partitions = BTreeSet::new();
    let topics = get_i32(buf, "transaction_partitions")?;
    for _ in 0..topics.max(0) {
        let topic = get_string(buf, "topic")?;
        let n = get_i32(buf, "partition_ids")?;
        if n < 0 || n as usize > buf.remaining() / 4 {
            return Err(format!("partition_ids: invalid count {n}"));
        }
        for _ in 0..n {
            partitions.insert((topic.clone(), get_i32(buf, "partition id")?));
        }
    }
    let last_update_ms = get_i64(buf, "transaction_last_update_timestamp_ms")?;
    let start_ms = get_i64(buf, "transaction_start_timestamp_ms")?;
    Ok(TxnLogValue {
        producer_id,
        producer_epoch,
        timeout_ms,
        state,
        partitions,
        last_update_ms,
        start_ms,
    })
}

fn put_string(out: &mut BytesMut, s: &str) {
    out.put_i16(i16::try_from(s.len()).unwrap_or(i16::MAX));
    out.put_slice(s.as_bytes());
}

fn need(buf: &[u8], n: usize, what: &str) -> Result<(), String> {
    if buf.len() < n {
        return Err(format!("{what}: truncated"));
    }
    Ok(())
}

fn get_i16(buf: &mut &[u8], what: &str) -> Result<i16, String> {
    need(buf, 2, what)?;
    Ok(buf.get_i16())
}

fn get_i32(buf: &mut &[u8], what: &str) -> Result<i32, String> {
    need(buf, 4, what)?;
    Ok(buf.get_i32())
}

fn get_i64(buf: &mut &[u8], what: &str) -> Result<i64, String> {
    need(buf, 8, what)?;
    Ok(buf.get_i64())
}

fn get_string(buf: &mut &[u8], what: &str) -> Result<String, String> {
    let n = get_i16(buf, what)?;
    let n = usize::try_from(n).map_err(|_| format!("{what}: null"))?;
    need(buf, n, what)?;
    let s = String::from_utf8(buf[..n].to_vec()).map_err(|_| format!("{what}: not UTF-8"))?;
    buf.advance(n);
    Ok(s)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn key_and_value_round_trip_in_kafkas_v0_layout() {
        let key = encode_key("tx");
        assert_eq!(&key[..], &[0, 0, 0, 2, b't', b'x']);
        assert_eq!(decode_key(&key).unwrap(), "tx");
        let v = TxnLogValue {
            producer_id: 7,
            producer_epoch: 2,
            timeout_ms: 60_000,
            state: TxnState::Ongoing,
            partitions: [
                ("a".to_string(), 1),
                ("a".to_string(), 0),
                ("b".to_string(), 3),
            ]
            .into_iter()
            .collect(),
            last_update_ms: 10,
            start_ms: 9,
        };
        let bytes = encode_value(&v);
        // version, pid, epoch, timeout, status, then 2 topics.
        assert_eq!(
            &bytes[..17],
            &[0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 2, 0, 0, 0xea, 0x60, 1]
        );
        assert_eq!(&bytes[17..21], &[0, 0, 0, 2]);
        assert_eq!(decode_value(&bytes).unwrap(), v);
    }

    #[test]
    fn empty_state_writes_null_partitions_and_bad_bytes_are_errors() {
        let v = TxnLogValue {
            producer_id: 1,
            producer_epoch: 0,
            timeout_ms: 1,
            state: TxnState::Empty,
            partitions: BTreeSet::new(),
            last_update_ms: 1,
            start_ms: -1,
        };
        let bytes = encode_value(&v);
        assert_eq!(&bytes[17..21], &[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(decode_value(&bytes).unwrap(), v);
        assert!(decode_value(&bytes[..20]).is_err());
        assert!(decode_value(&[0, 1]).is_err());
        assert!(decode_key(&[0, 0, 0, 9, b'x']).is_err());
    }
}
