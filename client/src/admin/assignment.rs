//! Decoding of the ConsumerProtocol Assignment bytes a group leader hands each member in
//! SyncGroup, as DescribeGroups returns them in `member_assignment`: the admin side needs only the
//! partitions. Our own bounds-checked reader because the bytes were written by some other client
//! (any client) and the protocol crate's decoder allocates from forged counts before checking.

use crate::error::ClientError;

/// Most topics or partitions one assignment may list; far above any real group.
const MAX_ENTRIES: usize = 1_000_000;

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ClientError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.data.len())
            .ok_or_else(|| truncated(self.pos))?;
        let slice = &self.data[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn i16(&mut self) -> Result<i16, ClientError> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    fn i32(&mut self) -> Result<i32, ClientError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// An array count, checked against the bytes left (each element takes at least `min_size`).
    fn count(&mut self, min_size: usize) -> Result<usize, ClientError> {
        let n = self.i32()?;
        if n < 0 {
            // A null array is read as empty, as the Java client does for assignments.
            return Ok(0);
        }
        let n = n as usize;
        let left = self.data.len() - self.pos;
        if n > MAX_ENTRIES || n.saturating_mul(min_size) > left {
            return Err(ClientError::Protocol(format!(
                "assignment array of {n} entries does not fit in the {left} bytes left"
            )));
        }
        Ok(n)
    }

    fn string(&mut self) -> Result<String, ClientError> {
        let len = self.i16()?;
        if len < 0 {
            return Err(ClientError::Protocol(
                "null topic name in an assignment".to_string(),
            ));
        }
        let bytes = self.take(len as usize)?;
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }
}

fn truncated(at: usize) -> ClientError {
    ClientError::Protocol(format!("assignment bytes end early at byte {at}"))
}

/// The (topic, partition) pairs of a ConsumerProtocol Assignment, in the order written. Empty
/// bytes (a member that has not been given an assignment yet) give no partitions. Every version
/// starts with the same partitions array; later fields are ignored.
pub fn decode_assignment_partitions(data: &[u8]) -> Result<Vec<(String, i32)>, ClientError> {
    if data.is_empty() {
        return Ok(Vec::new());
    }
    let mut r = Reader { data, pos: 0 };
    let version = r.i16()?;
    if version < 0 {
        return Err(ClientError::Protocol(format!(
            "assignment version {version} is not valid"
        )));
    }
    let topics = r.count(6)?;
    let mut out = Vec::new();
    for _ in 0..topics {
        let topic = r.string()?;
        let partitions = r.count(4)?;
        for _ in 0..partitions {
            out.push((topic.clone(), r.i32()?));
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn encode(version: i16, topics: &[(&str, &[i32])], user_data: Option<&[u8]>) -> Vec<u8> {
        let mut v = version.to_be_bytes().to_vec();
        v.extend_from_slice(&(topics.len() as i32).to_be_bytes());
        for (t, ps) in topics {
            v.extend_from_slice(&(t.len() as i16).to_be_bytes());
            v.extend_from_slice(t.as_bytes());
            v.extend_from_slice(&(ps.len() as i32).to_be_bytes());
            for p in *ps {
                v.extend_from_slice(&p.to_be_bytes());
            }
        }
        match user_data {
            Some(d) => {
                v.extend_from_slice(&(d.len() as i32).to_be_bytes());
                v.extend_from_slice(d);
            }
            None => v.extend_from_slice(&(-1i32).to_be_bytes()),
        }
        v
    }

    #[test]
    fn assignment_partitions_of_every_version_decode() {
        for version in 0..=3 {
            let bytes = encode(version, &[("t1", &[0, 1]), ("t2", &[2])], Some(b"ud"));
            assert_eq!(
                decode_assignment_partitions(&bytes).unwrap(),
                vec![("t1".into(), 0), ("t1".into(), 1), ("t2".into(), 2)]
            );
        }
    }

    #[test]
    fn empty_assignment_bytes_mean_no_partitions() {
        assert!(decode_assignment_partitions(&[]).unwrap().is_empty());
        let bytes = encode(0, &[], None);
        assert!(decode_assignment_partitions(&bytes).unwrap().is_empty());
    }

    #[test]
    fn forged_counts_and_truncation_are_errors_not_allocations() {
        let mut forged = 0i16.to_be_bytes().to_vec();
        forged.extend_from_slice(&i32::MAX.to_be_bytes());
        assert!(decode_assignment_partitions(&forged).is_err());
        let bytes = encode(1, &[("topic", &[0, 1, 2])], None);
        for cut in 1..bytes.len() - 4 {
            assert!(
                decode_assignment_partitions(&bytes[..cut]).is_err(),
                "cut {cut}"
            );
        }
    }
}
