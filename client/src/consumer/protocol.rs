//! Kafka's ConsumerProtocol: the bytes a consumer puts in JoinGroup's protocol metadata
//! (Subscription) and the leader puts in SyncGroup's assignments (Assignment). Pure.
//!
//! Our own codec rather than the protocol crate's: these bytes come from other group members
//! (any client), and every length is checked against the bytes present before anything is
//! allocated. Newer versions only append fields, so a higher version is read as far as we know
//! it and the rest is ignored, as the Java client does.

use crate::error::ClientError;

/// What a member subscribes to (ConsumerProtocolSubscription, versions 0 and 1 written).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Subscription {
    pub topics: Vec<String>,
    pub user_data: Option<Vec<u8>>,
    /// v1+: the partitions the member owned before this rebalance.
    pub owned_partitions: Vec<(String, Vec<i32>)>,
}

/// What the leader gave a member (ConsumerProtocolAssignment).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Assignment {
    pub partitions: Vec<(String, Vec<i32>)>,
    pub user_data: Option<Vec<u8>>,
}

/// The Subscription version we write: v1 carries owned partitions and every client in use
/// (Java, librdkafka, kafka-python) reads it.
pub const SUBSCRIPTION_VERSION: i16 = 1;
/// The Assignment version we write (v0 and v1 have the same fields).
pub const ASSIGNMENT_VERSION: i16 = 0;

impl Subscription {
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
        out
    }

    pub fn decode(data: &[u8]) -> Result<Subscription, ClientError> {
        let mut r = Reader { data, pos: 0 };
        let version = r.i16()?;
        if version < 0 {
            return Err(bad(format!("subscription version {version}")));
        }
        let n = r.count(2)?;
        let mut topics = Vec::with_capacity(n);
        for _ in 0..n {
            topics.push(r.string()?);
        }
        let user_data = r.bytes()?;
        let owned_partitions = if version >= 1 {
            r.topic_partitions()?
        } else {
            Vec::new()
        };
        Ok(Subscription {
            topics,
            user_data,
            owned_partitions,
        })
    }
}

impl Assignment {
    pub fn encode(&self, version: i16) -> Vec<u8> {
        let mut out = Vec::new();
        put_i16(&mut out, version);
        put_topic_partitions(&mut out, &self.partitions);
        put_bytes(&mut out, self.user_data.as_deref());
        out
    }

    /// An empty byte string is an empty assignment (the coordinator sends that to members the
    /// leader left out, and on some errors).
    pub fn decode(data: &[u8]) -> Result<Assignment, ClientError> {
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

fn bad(what: String) -> ClientError {
    ClientError::Protocol(format!("malformed consumer protocol bytes: {what}"))
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
    fn take(&mut self, n: usize) -> Result<&[u8], ClientError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.data.len())
            .ok_or_else(|| bad(format!("{n} bytes wanted at {}", self.pos)))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn i16(&mut self) -> Result<i16, ClientError> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    fn i32(&mut self) -> Result<i32, ClientError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// An array count, refused if the remaining bytes cannot hold that many elements of at
    /// least `min_size` bytes each (so a forged count never drives an allocation). -1 (null)
    /// reads as empty.
    fn count(&mut self, min_size: usize) -> Result<usize, ClientError> {
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

    fn string(&mut self) -> Result<String, ClientError> {
        let n = self.i16()?;
        if n < 0 {
            return Err(bad("null string".to_string()));
        }
        let b = self.take(n as usize)?;
        String::from_utf8(b.to_vec()).map_err(|_| bad("string is not UTF-8".to_string()))
    }

    fn bytes(&mut self) -> Result<Option<Vec<u8>>, ClientError> {
        // v0 writers may end the struct before user_data; treat a missing field as null.
        if self.pos == self.data.len() {
            return Ok(None);
        }
        let n = self.i32()?;
        if n < 0 {
            return Ok(None);
        }
        Ok(Some(self.take(n as usize)?.to_vec()))
    }

    fn topic_partitions(&mut self) -> Result<Vec<(String, Vec<i32>)>, ClientError> {
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
        };
        assert_eq!(Subscription::decode(&s.encode(1)).ok(), Some(s));
    }

    #[test]
    fn newer_subscription_versions_are_read_as_far_as_known() {
        let s = Subscription {
            topics: vec!["t".to_string()],
            ..Default::default()
        };
        let mut bytes = s.encode(1);
        bytes[1] = 3;
        // v2 generation id and v3 rack id follow; ignored.
        bytes.extend_from_slice(&[0, 0, 0, 5, 0xff, 0xff]);
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
}
