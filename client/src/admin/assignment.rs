//! Decoding of the ConsumerProtocol Assignment bytes a group leader hands each member in
//! SyncGroup, as DescribeGroups returns them in `member_assignment`: the admin side needs only the
//! partitions. Our own bounds-checked reader because the bytes were written by some other client
//! (any client) and the protocol crate's decoder allocates from forged counts before checking.

use crate::consumer::protocol::Assignment;
use crate::error::ClientError;

/// The (topic, partition) pairs of a ConsumerProtocol Assignment, in the order written. Empty
/// bytes (a member that has not been given an assignment yet) give no partitions. The consumer's
/// bounds-checked decoder does the reading; the admin side only flattens the partitions.
pub fn decode_assignment_partitions(data: &[u8]) -> Result<Vec<(String, i32)>, ClientError> {
    Ok(Assignment::decode(data)?
        .partitions
        .into_iter()
        .flat_map(|(topic, partitions)| partitions.into_iter().map(move |p| (topic.clone(), p)))
        .collect())
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
