//! The keys and values of `__consumer_offsets` records, in Kafka's schemas
//! (`group-coordinator/src/main/resources/common/message/{OffsetCommitKey,OffsetCommitValue,
//! GroupMetadataKey,GroupMetadataValue}.json`), so that any reader of the topic (Burrow,
//! kafka-python's or Kafka's own `GroupMetadataMessageFormatter`) decodes what we write.
//!
//! Every key and value starts with its schema version as an int16. Key versions 0 and 1 are an
//! offset commit (group, topic, partition); key version 2 is a group's metadata (group). A
//! record with a null value is a tombstone for its key. We write what Kafka 3.9 writes (IBP
//! 3.9): offset commit values v3 (v1 when an expire timestamp was given, OffsetCommit v1) and
//! group metadata values v3. Versions 0-3 of both values are read; the flexible v4 is refused
//! with an error (Kafka 3.9 never writes it).

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// A record's key could not be read, or a value is of an unknown version or truncated.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RecordError {
    #[error("record truncated while reading {0}")]
    Truncated(&'static str),
    #[error("unknown {what} version {version}")]
    UnknownVersion { what: &'static str, version: i16 },
    #[error("invalid UTF-8 in {0}")]
    Utf8(&'static str),
    #[error("{0} is null where the schema forbids it")]
    Null(&'static str),
}

/// The key of a `__consumer_offsets` record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RecordKey {
    /// `OffsetCommitKey` (key version 1 as written; 0 is read the same).
    Offset {
        group: String,
        topic: String,
        partition: i32,
    },
    /// `GroupMetadataKey` (key version 2).
    Group { group: String },
    /// Key versions Kafka 3.9 writes for the new consumer protocol (KIP-848, 3+): skipped.
    Other(i16),
}

impl RecordKey {
    /// The group the key belongs to (`None` for keys of other record types).
    pub fn group(&self) -> Option<&str> {
        match self {
            RecordKey::Offset { group, .. } | RecordKey::Group { group } => Some(group),
            RecordKey::Other(_) => None,
        }
    }
}

/// `OffsetCommitValue`: one committed offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetValue {
    pub offset: i64,
    /// -1 when unknown (and in versions below 3).
    pub leader_epoch: i32,
    pub metadata: String,
    /// Wall-clock ms of the commit.
    pub commit_timestamp: i64,
    /// Wall-clock ms at which it expires, given by OffsetCommit v1's retention time (value v1);
    /// `None` otherwise.
    pub expire_timestamp: Option<i64>,
}

/// `GroupMetadataValue.MemberMetadata`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberValue {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub rebalance_timeout_ms: i32,
    pub session_timeout_ms: i32,
    /// The member's metadata for the group's protocol.
    pub subscription: Bytes,
    pub assignment: Bytes,
}

/// `GroupMetadataValue`: a group as of its last rebalance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupValue {
    /// "" for a group that only stores offsets.
    pub protocol_type: String,
    pub generation: i32,
    pub protocol: Option<String>,
    pub leader: Option<String>,
    /// Wall-clock ms of the group's last state change (-1 when unknown, versions below 2).
    pub current_state_timestamp: i64,
    pub members: Vec<MemberValue>,
}

fn put_string(out: &mut BytesMut, s: &str) {
    let len = i16::try_from(s.len()).unwrap_or(i16::MAX);
    out.put_i16(len);
    out.put_slice(&s.as_bytes()[..len as usize]);
}

fn put_nullable_string(out: &mut BytesMut, s: Option<&str>) {
    match s {
        Some(s) => put_string(out, s),
        None => out.put_i16(-1),
    }
}

fn put_bytes(out: &mut BytesMut, b: &[u8]) {
    out.put_i32(i32::try_from(b.len()).unwrap_or(i32::MAX));
    out.put_slice(b);
}

fn get_i16(buf: &mut &[u8], what: &'static str) -> Result<i16, RecordError> {
    if buf.remaining() < 2 {
        return Err(RecordError::Truncated(what));
    }
    Ok(buf.get_i16())
}

fn get_i32(buf: &mut &[u8], what: &'static str) -> Result<i32, RecordError> {
    if buf.remaining() < 4 {
        return Err(RecordError::Truncated(what));
    }
    Ok(buf.get_i32())
}

fn get_i64(buf: &mut &[u8], what: &'static str) -> Result<i64, RecordError> {
    if buf.remaining() < 8 {
        return Err(RecordError::Truncated(what));
    }
    Ok(buf.get_i64())
}

fn get_nullable_string(buf: &mut &[u8], what: &'static str) -> Result<Option<String>, RecordError> {
    let len = get_i16(buf, what)?;
    if len < 0 {
        return Ok(None);
    }
    let len = len as usize;
    if buf.remaining() < len {
        return Err(RecordError::Truncated(what));
    }
    let s = std::str::from_utf8(&buf[..len])
        .map_err(|_| RecordError::Utf8(what))?
        .to_string();
    buf.advance(len);
    Ok(Some(s))
}

fn get_string(buf: &mut &[u8], what: &'static str) -> Result<String, RecordError> {
    get_nullable_string(buf, what)?.ok_or(RecordError::Null(what))
}

fn get_bytes(buf: &mut &[u8], what: &'static str) -> Result<Bytes, RecordError> {
    let len = get_i32(buf, what)?;
    if len < 0 {
        return Ok(Bytes::new());
    }
    let len = len as usize;
    if buf.remaining() < len {
        return Err(RecordError::Truncated(what));
    }
    let b = Bytes::copy_from_slice(&buf[..len]);
    buf.advance(len);
    Ok(b)
}

/// The key of an offset commit record (`OffsetCommitKey`, key version 1).
pub fn offset_key(group: &str, topic: &str, partition: i32) -> Bytes {
    let mut out = BytesMut::with_capacity(8 + group.len() + topic.len());
    out.put_i16(1);
    put_string(&mut out, group);
    put_string(&mut out, topic);
    out.put_i32(partition);
    out.freeze()
}

/// The key of a group metadata record (`GroupMetadataKey`, key version 2).
pub fn group_key(group: &str) -> Bytes {
    let mut out = BytesMut::with_capacity(4 + group.len());
    out.put_i16(2);
    put_string(&mut out, group);
    out.freeze()
}

/// Reads a record key.
pub fn decode_key(mut buf: &[u8]) -> Result<RecordKey, RecordError> {
    let version = get_i16(&mut buf, "key version")?;
    match version {
        0 | 1 => Ok(RecordKey::Offset {
            group: get_string(&mut buf, "group")?,
            topic: get_string(&mut buf, "topic")?,
            partition: get_i32(&mut buf, "partition")?,
        }),
        2 => Ok(RecordKey::Group {
            group: get_string(&mut buf, "group")?,
        }),
        v if v >= 3 => Ok(RecordKey::Other(v)),
        v => Err(RecordError::UnknownVersion {
            what: "key",
            version: v,
        }),
    }
}

/// An offset commit value as Kafka 3.9 writes it: v1 when it carries an expire timestamp,
/// else v3.
pub fn encode_offset_value(v: &OffsetValue) -> Bytes {
    let mut out = BytesMut::with_capacity(32 + v.metadata.len());
    match v.expire_timestamp {
        Some(expire) => {
            out.put_i16(1);
            out.put_i64(v.offset);
            put_string(&mut out, &v.metadata);
            out.put_i64(v.commit_timestamp);
            out.put_i64(expire);
        }
        None => {
            out.put_i16(3);
            out.put_i64(v.offset);
            out.put_i32(v.leader_epoch);
            put_string(&mut out, &v.metadata);
            out.put_i64(v.commit_timestamp);
        }
    }
    out.freeze()
}

/// Reads an offset commit value of version 0 to 3.
pub fn decode_offset_value(mut buf: &[u8]) -> Result<OffsetValue, RecordError> {
    let version = get_i16(&mut buf, "offset value version")?;
    if !(0..=3).contains(&version) {
        return Err(RecordError::UnknownVersion {
            what: "offset commit value",
            version,
        });
    }
    let offset = get_i64(&mut buf, "offset")?;
    let leader_epoch = if version >= 3 {
        get_i32(&mut buf, "leader epoch")?
    } else {
        -1
    };
    let metadata = get_string(&mut buf, "metadata")?;
    let commit_timestamp = get_i64(&mut buf, "commit timestamp")?;
    let expire_timestamp = if version == 1 {
        Some(get_i64(&mut buf, "expire timestamp")?).filter(|t| *t >= 0)
    } else {
        None
    };
    Ok(OffsetValue {
        offset,
        leader_epoch,
        metadata,
        commit_timestamp,
        expire_timestamp,
    })
}

/// A group metadata value, version 3 (what Kafka 3.9 writes).
pub fn encode_group_value(v: &GroupValue) -> Bytes {
    let mut out = BytesMut::with_capacity(64);
    out.put_i16(3);
    put_string(&mut out, &v.protocol_type);
    out.put_i32(v.generation);
    put_nullable_string(&mut out, v.protocol.as_deref());
    put_nullable_string(&mut out, v.leader.as_deref());
    out.put_i64(v.current_state_timestamp);
    out.put_i32(i32::try_from(v.members.len()).unwrap_or(i32::MAX));
    for m in &v.members {
        put_string(&mut out, &m.member_id);
        put_nullable_string(&mut out, m.group_instance_id.as_deref());
        put_string(&mut out, &m.client_id);
        put_string(&mut out, &m.client_host);
        out.put_i32(m.rebalance_timeout_ms);
        out.put_i32(m.session_timeout_ms);
        put_bytes(&mut out, &m.subscription);
        put_bytes(&mut out, &m.assignment);
    }
    out.freeze()
}

/// Reads a group metadata value of version 0 to 3.
pub fn decode_group_value(mut buf: &[u8]) -> Result<GroupValue, RecordError> {
    let version = get_i16(&mut buf, "group value version")?;
    if !(0..=3).contains(&version) {
        return Err(RecordError::UnknownVersion {
            what: "group metadata value",
            version,
        });
    }
    let protocol_type = get_string(&mut buf, "protocol type")?;
    let generation = get_i32(&mut buf, "generation")?;
    let protocol = get_nullable_string(&mut buf, "protocol")?;
    let leader = get_nullable_string(&mut buf, "leader")?;
    let current_state_timestamp = if version >= 2 {
        get_i64(&mut buf, "current state timestamp")?
    } else {
        -1
    };
    let count = get_i32(&mut buf, "member count")?;
    let mut members = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(1024));
    for _ in 0..count.max(0) {
        let member_id = get_string(&mut buf, "member id")?;
        let group_instance_id = if version >= 3 {
            get_nullable_string(&mut buf, "group instance id")?
        } else {
            None
        };
        let client_id = get_string(&mut buf, "client id")?;
        let client_host = get_string(&mut buf, "client host")?;
        let rebalance_timeout_ms = if version >= 1 {
            get_i32(&mut buf, "rebalance timeout")?
        } else {
            -1
        };
        let session_timeout_ms = get_i32(&mut buf, "session timeout")?;
        let rebalance_timeout_ms = if rebalance_timeout_ms < 0 {
            session_timeout_ms
        } else {
            rebalance_timeout_ms
        };
        members.push(MemberValue {
            member_id,
            group_instance_id,
            client_id,
            client_host,
            rebalance_timeout_ms,
            session_timeout_ms,
            subscription: get_bytes(&mut buf, "subscription")?,
            assignment: get_bytes(&mut buf, "assignment")?,
        });
    }
    Ok(GroupValue {
        protocol_type,
        generation,
        protocol,
        leader,
        current_state_timestamp,
        members,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn offset_key_is_kafkas_v1_layout() {
        let k = offset_key("g", "t", 7);
        assert_eq!(
            &k[..],
            &[0, 1, 0, 1, b'g', 0, 1, b't', 0, 0, 0, 7],
            "version 1, group, topic, partition"
        );
        assert_eq!(
            decode_key(&k).unwrap(),
            RecordKey::Offset {
                group: "g".into(),
                topic: "t".into(),
                partition: 7
            }
        );
        assert_eq!(&group_key("g")[..], &[0, 2, 0, 1, b'g']);
        assert_eq!(
            decode_key(&group_key("g")).unwrap(),
            RecordKey::Group { group: "g".into() }
        );
        assert_eq!(decode_key(&[0, 3, 0, 0]).unwrap(), RecordKey::Other(3));
        assert!(decode_key(&[0, 1, 0, 5, b'g']).is_err());
    }

    #[test]
    fn offset_values_round_trip_in_v3_and_v1() {
        let v = OffsetValue {
            offset: 42,
            leader_epoch: 5,
            metadata: "m".into(),
            commit_timestamp: 1_700_000_000_000,
            expire_timestamp: None,
        };
        let bytes = encode_offset_value(&v);
        assert_eq!(&bytes[..2], &[0, 3]);
        assert_eq!(bytes.len(), 2 + 8 + 4 + 3 + 8);
        assert_eq!(decode_offset_value(&bytes).unwrap(), v);
        let v1 = OffsetValue {
            leader_epoch: -1,
            expire_timestamp: Some(1_800_000_000_000),
            ..v
        };
        let bytes = encode_offset_value(&v1);
        assert_eq!(&bytes[..2], &[0, 1]);
        assert_eq!(decode_offset_value(&bytes).unwrap(), v1);
        assert!(matches!(
            decode_offset_value(&[0, 4]),
            Err(RecordError::UnknownVersion { version: 4, .. })
        ));
    }

    #[test]
    fn group_values_round_trip_in_v3() {
        let v = GroupValue {
            protocol_type: "consumer".into(),
            generation: 3,
            protocol: Some("range".into()),
            leader: Some("m-1".into()),
            current_state_timestamp: 1_700_000_000_000,
            members: vec![MemberValue {
                member_id: "m-1".into(),
                group_instance_id: Some("i".into()),
                client_id: "c".into(),
                client_host: "/127.0.0.1".into(),
                rebalance_timeout_ms: 300_000,
                session_timeout_ms: 45_000,
                subscription: Bytes::from_static(b"sub"),
                assignment: Bytes::from_static(b"asg"),
            }],
        };
        let bytes = encode_group_value(&v);
        assert_eq!(&bytes[..2], &[0, 3]);
        assert_eq!(decode_group_value(&bytes).unwrap(), v);
        let empty = GroupValue {
            protocol: None,
            leader: None,
            members: Vec::new(),
            ..v
        };
        assert_eq!(
            decode_group_value(&encode_group_value(&empty)).unwrap(),
            empty
        );
        assert!(decode_group_value(&bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn group_value_v0_has_no_rebalance_timeout_timestamp_or_instance_id() {
        let mut out = BytesMut::new();
        out.put_i16(0);
        put_string(&mut out, "consumer");
        out.put_i32(1);
        put_nullable_string(&mut out, Some("range"));
        put_nullable_string(&mut out, Some("m"));
        out.put_i32(1);
        put_string(&mut out, "m");
        put_string(&mut out, "c");
        put_string(&mut out, "/h");
        out.put_i32(10_000);
        put_bytes(&mut out, b"s");
        put_bytes(&mut out, b"a");
        let v = decode_group_value(&out).unwrap();
        assert_eq!(v.current_state_timestamp, -1);
        assert_eq!(v.members[0].session_timeout_ms, 10_000);
        assert_eq!(v.members[0].rebalance_timeout_ms, 10_000);
        assert_eq!(v.members[0].group_instance_id, None);
    }
}
