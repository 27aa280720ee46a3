//! The placement `--generate` proposes: partition `p`'s replicas are brokers `(p + j) mod n`
//! of the brokers given (in id order), for `j` in `0..replication factor`, so leaders and
//! replicas spread evenly and the first replica is the preferred leader.
//!
//! Kafka proposes with `AdminUtils.assignReplicasToBrokers`, which is rack-aware and starts at a
//! random broker with a random shift between replicas; the rack-aware placement is being written
//! for zookeeper-lite's topic creation (`zookeeper-lite/src/state/topics.rs`), and `--generate`
//! should share it once it lands.

/// Kafka's `InvalidPartitionsException` / `InvalidReplicationFactorException` texts of
/// `assignReplicasToBrokers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlacementError {
    Partitions(String),
    ReplicationFactor(String),
}

/// The replicas of `partitions` partitions with `replication_factor` replicas each, over
/// `brokers` (sorted ids), by partition index.
pub fn round_robin(
    brokers: &[i32],
    partitions: usize,
    replication_factor: usize,
) -> Result<Vec<Vec<i32>>, PlacementError> {
    if partitions == 0 {
        return Err(PlacementError::Partitions(
            "Number of partitions must be larger than 0.".into(),
        ));
    }
    if replication_factor == 0 {
        return Err(PlacementError::ReplicationFactor(
            "Replication factor must be larger than 0.".into(),
        ));
    }
    if replication_factor > brokers.len() {
        return Err(PlacementError::ReplicationFactor(format!(
            "Replication factor: {replication_factor} larger than available brokers: {}.",
            brokers.len()
        )));
    }
    Ok((0..partitions)
        .map(|p| {
            (0..replication_factor)
                .map(|j| brokers[(p + j) % brokers.len()])
                .collect()
        })
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn replicas_go_round_the_brokers_starting_one_further_each_partition() {
        assert_eq!(
            round_robin(&[0, 1, 3], 4, 2).unwrap(),
            vec![vec![0, 1], vec![1, 3], vec![3, 0], vec![0, 1]]
        );
    }

    #[test]
    fn too_few_brokers_is_kafkas_replication_factor_error() {
        assert_eq!(
            round_robin(&[0, 1], 1, 3),
            Err(PlacementError::ReplicationFactor(
                "Replication factor: 3 larger than available brokers: 2.".into()
            ))
        );
        assert!(matches!(
            round_robin(&[], 1, 1),
            Err(PlacementError::ReplicationFactor(_))
        ));
    }
}
