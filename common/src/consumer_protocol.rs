//! Kafka's `ConsumerProtocol` (`org.apache.kafka.clients.consumer.internals.ConsumerProtocol`):
//! the bytes a consumer puts in JoinGroup's protocol metadata (Subscription) and the leader puts
//! in SyncGroup's assignments (Assignment), versions 0-3.
//!
//! - Subscription: `version: int16`, `topics: [string]`, `userData: nullable bytes`; v1+
//!   `ownedPartitions: [topic: string, partitions: [int32]]`; v2+ `generationId: int32`;
//!   v3+ `rackId: nullable string`.
//! - Assignment: `version: int16`, `assignedPartitions: [topic: string, partitions: [int32]]`,
//!   `userData: nullable bytes` (the same fields in v0-v3).
//!
//! These bytes come from other group members (any client), so every length is checked against
//! the bytes present before anything is allocated. Newer versions only append fields, so a
//! version above 3 is read as far as we know it and the rest is ignored, as the Java client
//! does. A missing trailing field reads as its default (null, -1).

/// Why bytes are not a Subscription or Assignment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed consumer protocol bytes: {0}")]
pub struct ConsumerProtocolError(pub String);

fn bad(what: String) -> ConsumerProtocolError {
    ConsumerProtocolError(what)
}

/// Partitions by topic, in the order written.
pub type TopicPartitions = Vec<(String, Vec<i32>)>;

/// What a member subscribes to (`ConsumerProtocolSubscription`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The subscribed topics.
    pub topics: Vec<String>,
    /// The assignor's user data (null: `None`).
    pub user_data: Option<Vec<u8>>,
    /// v1+: the partitions the member owned before this rebalance.
    pub owned_partitions: TopicPartitions,
    /// v2+: the generation of the owned partitions (-1: unknown).
    pub generation_id: i32,
    /// v3+: the member's rack (`client.rack`), null if unset.
    pub rack_id: Option<String>,
}

impl Default for Subscription {
    fn default() -> Self {
        Subscription {
            topics: Vec::new(),
            user_data: None,
            owned_partitions: Vec::new(),
            generation_id: -1,
            rack_id: None,
        }
    }
}

/// What the leader gave a member (`ConsumerProtocolAssignment`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Assignment {
    /// The assigned partitions.
    pub partitions: TopicPartitions,
    /// The assignor's user data (null: `None`).
    pub user_data: Option<Vec<u8>>,
}

/// The highest Subscription and Assignment version Kafka 3.9 writes.
pub const HIGHEST_VERSION: i16 = 3;

impl Subscription {
    /// The bytes of this subscription at `version` (fields of later versions are left out).
    pub fn encode(&self, version: i16) -> Vec<u8> {
        let mut out = Vec::new();
        put_i16(&mut out, version);
        put_i32(&mut out, self.topics.len() as i32);
        for t in &self.topics {
            put_string(&mut out, t);
        }
        put_bytes(&mut out, self.user_data.as_deref());
        if version >= 1 {
            put_topic_partitions(&mut out, &self.owned_partitions);
        }
        if version >= 2 {
            put_i32(&mut out, self.generation_id);
        }
        if version >= 3 {
            match &self.rack_id {
                None => put_i16(&mut out, -1),
                Some(r) => put_string(&mut out, r),
            }
        }
        out
    }

    /// Reads a subscription of any version (>= 0).
    pub fn decode(data: &[u8]) -> Result<Subscription, ConsumerProtocolError> {
        let mut r = Reader { data, pos: 0 };
        let (version, topics) = r.version_and_topics()?;
        let user_data = r.bytes()?;
        let owned_partitions = if version >= 1 {
            r.topic_partitions()?
        } else {
            Vec::new()
        };
        let generation_id = if version >= 2 && !r.at_end() {
            r.i32()?
        } else {
            -1
        };
        let rack_id = if version >= 3 && !r.at_end() {
            r.nullable_string()?
        } else {
            None
        };
        Ok(Subscription {
            topics,
            user_data,
            owned_partitions,
            generation_id,
            rack_id,
        })
    }

    /// Only the version and topics of a subscription (every version starts with them), not
    /// looking further: what the coordinator needs to know which topics a group consumes.
    pub fn decode_topics(data: &[u8]) -> Result<Vec<String>, ConsumerProtocolError> {
        Reader { data, pos: 0 }
            .version_and_topics()
            .map(|(_, topics)| topics)
    }
}

impl Assignment {
    /// The bytes of this assignment at `version`.
    pub fn encode(&self, version: i16) -> Vec<u8> {
        let mut out = Vec::new();
        put_i16(&mut out, version);
        put_topic_partitions(&mut out, &self.partitions);
        put_bytes(&mut out, self.user_data.as_deref());
        out
    }

    /// An empty byte string is an empty assignment (the coordinator sends that to members the
    /// leader left out, and on some errors).
    pub fn decode(data: &[u8]) -> Result<Assignment, ConsumerProtocolError> {
        if data.is_empty() {
            return Ok(Assignment::default());
        }
        let mut r = Reader { data, pos: 0 };
        let version = r.i16()?;
        if version < 0 {
            return Err(bad(format!("assignment version {version}")));
        }
        let partitions = r.topic_partitions()?;
        let user_data = r.bytes()?;
        Ok(Assignment {
            partitions,
            user_data,
        })
    }
}

fn put_i16(out: &mut Vec<u8>, v: i16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put_i32(out: &mut Vec<u8>, v: i32) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put_string(out: &mut Vec<u8>, s: &str) {
    // Topic names are at most 249 bytes; anything longer is cut rather than mis-framed.
    let b = &s.as_bytes()[..s.len().min(i16::MAX as usize)];
    put_i16(out, b.len() as i16);
    out.extend_from_slice(b);
}

fn put_bytes(out: &mut Vec<u8>, b: Option<&[u8]>) {
    match b {
        None => put_i32(out, -1),
        Some(b) => {
            put_i32(out, b.len() as i32);
            out.extend_from_slice(b);
        }
    }
}

fn put_topic_partitions(out: &mut Vec<u8>, tps: &[(String, Vec<i32>)]) {
    put_i32(out, tps.len() as i32);
    for (topic, partitions) in tps {
        put_string(out, topic);
        put_i32(out, partitions.len() as i32);
        for p in partitions {
            put_i32(out, *p);
        }
    }
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn take(&mut self, n: usize) -> Result<&[u8], ConsumerProtocolError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.data.len())
            .ok_or_else(|| bad(format!("{n} bytes wanted at {}", self.pos)))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn i16(&mut self) -> Result<i16, ConsumerProtocolError> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    fn i32(&mut self) -> Result<i32, ConsumerProtocolError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// An array count, refused if the remaining bytes cannot hold that many elements of at
    /// least `min_size` bytes each (so a forged count never drives an allocation). -1 (null)
    /// reads as empty.
    fn count(&mut self, min_size: usize) -> Result<usize, ConsumerProtocolError> {
        let n = self.i32()?;
        if n < 0 {
            return Ok(0);
        }
        let n = n as usize;
        let remaining = self.data.len() - self.pos;
        if n.saturating_mul(min_size.max(1)) > remaining {
            return Err(bad(format!("array of {n} in {remaining} bytes")));
        }
        Ok(n)
    }

    fn string(&mut self) -> Result<String, ConsumerProtocolError> {
        self.nullable_string()?
            .ok_or_else(|| bad("null string".to_string()))
    }

    fn nullable_string(&mut self) -> Result<Option<String>, ConsumerProtocolError> {
        let n = self.i16()?;
        if n < 0 {
            return Ok(None);
        }
        let b = self.take(n as usize)?;
        String::from_utf8(b.to_vec())
            .map(Some)
            .map_err(|_| bad("string is not UTF-8".to_string()))
    }

    fn bytes(&mut self) -> Result<Option<Vec<u8>>, ConsumerProtocolError> {
        // v0 writers may end the struct before user_data; treat a missing field as null.
        if self.at_end() {
            return Ok(None);
        }
        let n = self.i32()?;
        if n < 0 {
            return Ok(None);
        }
        Ok(Some(self.take(n as usize)?.to_vec()))
    }

    fn version_and_topics(&mut self) -> Result<(i16, Vec<String>), ConsumerProtocolError> {
        let version = self.i16()?;
        if version < 0 {
            return Err(bad(format!("subscription version {version}")));
        }
        let n = self.count(2)?;
        let mut topics = Vec::with_capacity(n);
        for _ in 0..n {
            topics.push(self.string()?);
        }
        Ok((version, topics))
    }

    fn topic_partitions(&mut self) -> Result<TopicPartitions, ConsumerProtocolError> {
        let n = self.count(6)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let topic = self.string()?;
            let m = self.count(4)?;
            let mut partitions = Vec::with_capacity(m);
            for _ in 0..m {
                partitions.push(self.i32()?);
            }
            out.push((topic, partitions));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn subscription_v0_matches_kafkas_bytes() {
        let s = Subscription {
            topics: vec!["t".to_string()],
            ..Default::default()
        };
        // version 0, one topic "t", null user data
        assert_eq!(
            s.encode(0),
            vec![0, 0, 0, 0, 0, 1, 0, 1, b't', 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(Subscription::decode(&s.encode(0)).ok(), Some(s));
    }

    #[test]
    fn subscription_v1_round_trips_owned_partitions() {
        let s = Subscription {
            topics: vec!["a".to_string(), "b".to_string()],
            user_data: Some(vec![1, 2]),
            owned_partitions: vec![("a".to_string(), vec![0, 2])],
            ..Default::default()
        };
        assert_eq!(Subscription::decode(&s.encode(1)).ok(), Some(s));
    }

    #[test]
    fn v2_and_v3_carry_generation_and_rack() {
        let s = Subscription {
            topics: vec!["t".to_string()],
            generation_id: 5,
            rack_id: Some("r1".to_string()),
            ..Default::default()
        };
        assert_eq!(Subscription::decode(&s.encode(3)).ok(), Some(s.clone()));
        let v2 = Subscription::decode(&s.encode(2)).expect("v2");
        assert_eq!((v2.generation_id, v2.rack_id), (5, None));
    }

    #[test]
    fn newer_subscription_versions_are_read_as_far_as_known() {
        let s = Subscription {
            topics: vec!["t".to_string()],
            generation_id: 5,
            ..Default::default()
        };
        let mut bytes = s.encode(3);
        bytes[1] = 4;
        // A field of a version we do not know follows; ignored.
        bytes.extend_from_slice(&[0, 0, 0, 9]);
        assert_eq!(Subscription::decode(&bytes).ok(), Some(s));
    }

    #[test]
    fn assignment_round_trips_and_empty_bytes_mean_nothing_assigned() {
        let a = Assignment {
            partitions: vec![("t".to_string(), vec![1]), ("u".to_string(), vec![0, 3])],
            user_data: None,
        };
        assert_eq!(Assignment::decode(&a.encode(0)).ok(), Some(a));
        assert_eq!(Assignment::decode(&[]).ok(), Some(Assignment::default()));
    }

    #[test]
    fn forged_counts_and_truncation_are_errors_not_allocations() {
        // version 0, topic count 2^31-1, nothing after
        assert!(Subscription::decode(&[0, 0, 0x7f, 0xff, 0xff, 0xff]).is_err());
        assert!(Subscription::decode_topics(&[0, 0, 0x7f, 0xff, 0xff, 0xff]).is_err());
        assert!(Assignment::decode(&[0, 0, 0x7f, 0xff, 0xff, 0xff]).is_err());
        let a = Assignment {
            partitions: vec![("t".to_string(), vec![1, 2, 3])],
            user_data: None,
        }
        .encode(0);
        for cut in 1..a.len() - 4 {
            assert!(Assignment::decode(&a[..cut]).is_err(), "cut at {cut}");
        }
        assert!(Subscription::decode(&[0xff, 0xff]).is_err());
    }

    fn name() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9._-]{0,20}"
    }

    fn tps() -> impl Strategy<Value = TopicPartitions> {
        proptest::collection::vec(
            (name(), proptest::collection::vec(any::<i32>(), 0..5)),
            0..4,
        )
    }

    fn user_data() -> impl Strategy<Value = Option<Vec<u8>>> {
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..30))
    }

    proptest! {
        #[test]
        fn subscription_round_trips_at_every_version(
            topics in proptest::collection::vec(name(), 0..5),
            user_data in user_data(),
            owned in tps(),
            generation_id in any::<i32>(),
            rack_id in proptest::option::of(name()),
            version in 0i16..=HIGHEST_VERSION,
        ) {
            let full = Subscription { topics, user_data, owned_partitions: owned, generation_id, rack_id };
            // What each version carries; the rest reads back as defaults.
            let expected = Subscription {
                owned_partitions: if version >= 1 { full.owned_partitions.clone() } else { Vec::new() },
                generation_id: if version >= 2 { full.generation_id } else { -1 },
                rack_id: if version >= 3 { full.rack_id.clone() } else { None },
                ..full.clone()
            };
            let bytes = full.encode(version);
            prop_assert_eq!(Subscription::decode(&bytes), Ok(expected));
            prop_assert_eq!(Subscription::decode_topics(&bytes), Ok(full.topics.clone()));
        }

        #[test]
        fn assignment_round_trips_at_every_version(
            partitions in tps(),
            user_data in user_data(),
            version in 0i16..=HIGHEST_VERSION,
        ) {
            let a = Assignment { partitions, user_data };
            prop_assert_eq!(Assignment::decode(&a.encode(version)), Ok(a));
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            let _ = Subscription::decode(&bytes);
            let _ = Subscription::decode_topics(&bytes);
            let _ = Assignment::decode(&bytes);
        }
    }
}
