//! The log directory admin call `kafka-log-dirs` and the web console make, as Kafka's
//! `KafkaAdminClient.describeLogDirs` makes it: one DescribeLogDirs request (topics null: every
//! partition) to each broker asked about, each broker's answer or failure kept apart
//! (`DescribeLogDirsResult.descriptions()`).

use std::collections::BTreeMap;

use kafka_protocol::messages::{DescribeLogDirsRequest, DescribeLogDirsResponse};

use common::errors::codes::CLUSTER_AUTHORIZATION_FAILED;

use super::{Admin, Target};
use crate::error::ClientError;

/// One partition replica in a log directory (Kafka's `ReplicaInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaInfo {
    pub topic: String,
    pub partition: i32,
    /// Bytes on disk of the replica's segments (and their indexes, as the broker counts them).
    pub size: i64,
    /// How far (in offsets) a future replica is behind the current one; 0 when not moving.
    pub offset_lag: i64,
    /// Whether this is a future replica (being moved to this directory, KIP-113).
    pub is_future: bool,
}

/// One log directory of a broker (Kafka's `LogDirDescription`).
#[derive(Debug, Clone)]
pub struct LogDirDescription {
    /// The directory's absolute path on the broker.
    pub path: String,
    /// The directory's error (KAFKA_STORAGE_ERROR for an offline directory), `None` when healthy.
    pub error: Option<ClientError>,
    /// The replicas in the directory, in the order the broker answered.
    pub replicas: Vec<ReplicaInfo>,
    /// Size of the directory's volume in bytes (DescribeLogDirs v4+); `None` if unknown.
    pub total_bytes: Option<i64>,
    /// Bytes usable on the directory's volume (DescribeLogDirs v4+); `None` if unknown.
    pub usable_bytes: Option<i64>,
}

/// A broker's log directories, or the error its request failed with.
pub type BrokerLogDirs = Result<Vec<LogDirDescription>, ClientError>;

/// Kafka's `logDirDescriptions` plus the empty-answer rule of `describeLogDirs`: no directory at
/// all means the request was refused, with the top-level error (v3+) or, before v3,
/// CLUSTER_AUTHORIZATION_FAILED.
fn descriptions(response: DescribeLogDirsResponse) -> BrokerLogDirs {
    if response.results.is_empty() {
        let code = if response.error_code == 0 {
            CLUSTER_AUTHORIZATION_FAILED
        } else {
            response.error_code
        };
        return Err(ClientError::kafka(code, None));
    }
    Ok(response
        .results
        .into_iter()
        .map(|dir| LogDirDescription {
            path: dir.log_dir.to_string(),
            error: ClientError::check(dir.error_code, None).err(),
            replicas: dir
                .topics
                .iter()
                .flat_map(|t| {
                    t.partitions.iter().map(|p| ReplicaInfo {
                        topic: t.name.0.to_string(),
                        partition: p.partition_index,
                        size: p.partition_size,
                        offset_lag: p.offset_lag,
                        is_future: p.is_future_key,
                    })
                })
                .collect(),
            total_bytes: (dir.total_bytes >= 0).then_some(dir.total_bytes),
            usable_bytes: (dir.usable_bytes >= 0).then_some(dir.usable_bytes),
        })
        .collect())
}

impl Admin {
    /// Kafka's `Admin.describeLogDirs`: every log directory of each of `brokers` with the
    /// replicas in it. Each broker is asked on its own; one broker's failure (unknown id, lost
    /// connection, refusal) is that broker's entry and does not fail the others.
    pub async fn describe_log_dirs(&self, brokers: &[i32]) -> BTreeMap<i32, BrokerLogDirs> {
        let mut out = BTreeMap::new();
        for &broker in brokers {
            let request = DescribeLogDirsRequest::default().with_topics(None);
            let answer = self
                .call("describeLogDirs", Target::Broker(broker), |conn| {
                    let request = request.clone();
                    async move { conn.send(request).await }
                })
                .await;
            out.insert(broker, answer.and_then(descriptions));
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use kafka_protocol::messages::describe_log_dirs_response::{
        DescribeLogDirsPartition, DescribeLogDirsResult, DescribeLogDirsTopic,
    };
    use kafka_protocol::messages::TopicName;
    use kafka_protocol::protocol::StrBytes;

    #[test]
    fn replicas_are_flattened_and_unknown_volume_sizes_are_none() {
        let response =
            DescribeLogDirsResponse::default().with_results(vec![DescribeLogDirsResult::default()
                .with_log_dir(StrBytes::from_static_str("/data"))
                .with_total_bytes(-1)
                .with_usable_bytes(100)
                .with_topics(vec![DescribeLogDirsTopic::default()
                    .with_name(TopicName(StrBytes::from_static_str("t")))
                    .with_partitions(vec![
                        DescribeLogDirsPartition::default()
                            .with_partition_index(1)
                            .with_partition_size(42),
                        DescribeLogDirsPartition::default().with_partition_index(0),
                    ])])]);
        let dirs = descriptions(response).unwrap();
        assert_eq!(dirs.len(), 1);
        assert_eq!(dirs[0].path, "/data");
        assert!(dirs[0].error.is_none());
        assert_eq!(dirs[0].total_bytes, None);
        assert_eq!(dirs[0].usable_bytes, Some(100));
        assert_eq!(dirs[0].replicas[0].partition, 1);
        assert_eq!(dirs[0].replicas[0].size, 42);
        assert_eq!(dirs[0].replicas[1].partition, 0);
    }

    #[test]
    fn an_empty_answer_is_a_refusal() {
        let err = descriptions(DescribeLogDirsResponse::default()).unwrap_err();
        assert_eq!(err.code(), Some(CLUSTER_AUTHORIZATION_FAILED));
        let err = descriptions(DescribeLogDirsResponse::default().with_error_code(56)).unwrap_err();
        assert_eq!(err.code(), Some(56));
    }
}
