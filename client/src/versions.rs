//! Which version of each API we speak, and the choice of version per connection: the newest
//! version both we and the broker support, as the Java client picks it (`min(client max, broker
//! max)`).

use std::collections::HashMap;

use kafka_protocol::messages::ApiKey;

use crate::error::ClientError;

/// The ApiVersions version we try first (flexible, KIP-511). A broker that does not know it
/// answers with error 35 and its own range, and we retry with that.
pub const API_VERSIONS_FIRST_TRY: i16 = 3;

/// The versions this client can speak, per API key: (key, min, max). Caps below what the codec
/// allows are deliberate:
/// - Produce from 3 (record batch v2), up to 9: the newest version whose shape we test.
/// - Fetch 4..=12: v13+ identifies topics by id, which we do not track for fetches.
/// - Metadata up to 12: topic ids (v10+) are what `kafka-topics --describe` prints.
/// - DeleteTopics up to 5: v6 moves names into a different array.
/// - CreateTopics from 2 (the codec's floor); -1 "broker default" counts need v4, see admin.
const CLIENT_VERSIONS: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 3, 9),
    (ApiKey::Fetch, 4, 12),
    // ListOffsets up to 9: v8 serves earliest-local (-4), v9 latest-tiered (-5) (kafka-get-offsets);
    // neither changes the message's shape.
    (ApiKey::ListOffsets, 1, 9),
    (ApiKey::Metadata, 1, 12),
    (ApiKey::ApiVersions, 0, 3),
    (ApiKey::CreateTopics, 2, 7),
    (ApiKey::DeleteTopics, 1, 5),
    (ApiKey::InitProducerId, 0, 4),
    (ApiKey::DescribeConfigs, 1, 4),
    (ApiKey::CreatePartitions, 0, 3),
    // Config admin (kafka-configs).
    (ApiKey::AlterConfigs, 0, 2),
    (ApiKey::IncrementalAlterConfigs, 0, 1),
    // Group admin (kafka-consumer-groups).
    (ApiKey::ListGroups, 0, 5),
    (ApiKey::DescribeGroups, 0, 5),
    (ApiKey::DeleteGroups, 0, 2),
    (ApiKey::OffsetDelete, 0, 0),
    // Consumer groups. FindCoordinator up to 3 (v4 batches keys), LeaveGroup up to 4 (v5 only
    // adds a reason), OffsetFetch up to 7 (v8 batches groups): the shapes the consumer builds.
    (ApiKey::FindCoordinator, 0, 3),
    (ApiKey::JoinGroup, 0, 7),
    (ApiKey::SyncGroup, 0, 5),
    (ApiKey::Heartbeat, 0, 4),
    (ApiKey::LeaveGroup, 0, 4),
    (ApiKey::OffsetCommit, 2, 8),
    (ApiKey::OffsetFetch, 1, 7),
    // Replication (the broker's replica fetchers): v2 carries the current leader epoch, v3 the
    // replica id.
    (ApiKey::OffsetForLeaderEpoch, 2, 4),
    // Leader election (kafka-leader-election): v0 knows only preferred elections.
    (ApiKey::ElectLeaders, 0, 2),
    // Partition reassignment (kafka-reassign-partitions, kafka-topics --describe).
    (ApiKey::AlterPartitionReassignments, 0, 0),
    (ApiKey::ListPartitionReassignments, 0, 0),
    // Transactions (the transactional producer; AddPartitionsToTxn up to 3: v4+ is the
    // brokers' batched form) and their admin (kafka-transactions).
    (ApiKey::AddPartitionsToTxn, 0, 3),
    (ApiKey::AddOffsetsToTxn, 0, 3),
    (ApiKey::EndTxn, 0, 3),
    (ApiKey::TxnOffsetCommit, 0, 3),
    (ApiKey::WriteTxnMarkers, 0, 1),
    (ApiKey::DescribeProducers, 0, 0),
    (ApiKey::DescribeTransactions, 0, 0),
    (ApiKey::ListTransactions, 0, 1),
    // Log admin (kafka-delete-records, kafka-log-dirs, the web console).
    (ApiKey::DeleteRecords, 0, 2),
    (ApiKey::DescribeLogDirs, 0, 4),
];

/// Our supported range for an API key, if we speak it at all.
pub fn client_range(key: i16) -> Option<(i16, i16)> {
    CLIENT_VERSIONS
        .iter()
        .find(|(k, _, _)| *k as i16 == key)
        .map(|(_, min, max)| (*min, *max))
}

/// The name Kafka uses for an API in its messages (`PRODUCE`, `CREATE_TOPICS`).
pub fn api_name(key: i16) -> String {
    match ApiKey::try_from(key) {
        Ok(k) => {
            // Debug gives the CamelCase name; Kafka's enum constants are SCREAMING_SNAKE.
            let camel = format!("{k:?}");
            let mut out = String::new();
            for (i, c) in camel.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    out.push('_');
                }
                out.push(c.to_ascii_uppercase());
            }
            out
        }
        Err(()) => format!("API_KEY_{key}"),
    }
}

/// The version ranges one broker advertised in its ApiVersions response.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BrokerVersions {
    ranges: HashMap<i16, (i16, i16)>,
}

impl BrokerVersions {
    pub fn new(ranges: impl IntoIterator<Item = (i16, i16, i16)>) -> Self {
        BrokerVersions {
            ranges: ranges
                .into_iter()
                .map(|(key, min, max)| (key, (min, max)))
                .collect(),
        }
    }

    /// The broker's advertised range for a key.
    pub fn broker_range(&self, key: i16) -> Option<(i16, i16)> {
        self.ranges.get(&key).copied()
    }

    /// The version to use for `key`: the highest both sides support. An API the broker does not
    /// advertise, or whose range does not meet ours, is an `UnsupportedVersion` error.
    pub fn choose(&self, key: i16) -> Result<i16, ClientError> {
        let (our_min, our_max) = client_range(key).ok_or_else(|| {
            ClientError::UnsupportedVersion(format!(
                "The client does not support {}",
                api_name(key)
            ))
        })?;
        let (broker_min, broker_max) = self.broker_range(key).ok_or_else(|| {
            ClientError::UnsupportedVersion(format!("The node does not support {}", api_name(key)))
        })?;
        let version = our_max.min(broker_max);
        if version < our_min.max(broker_min) {
            return Err(ClientError::UnsupportedVersion(format!(
                "The node supports {} versions {broker_min} to {broker_max}, the client {our_min} to {our_max}",
                api_name(key)
            )));
        }
        Ok(version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_min_of_client_and_broker_max() {
        let v = BrokerVersions::new([(0, 0, 11), (3, 0, 8), (1, 0, 17)]);
        assert_eq!(v.choose(0).ok(), Some(9));
        assert_eq!(v.choose(3).ok(), Some(8));
        assert_eq!(v.choose(1).ok(), Some(12));
    }

    #[test]
    fn api_missing_from_broker_is_unsupported_version() {
        let v = BrokerVersions::new([(3, 0, 12)]);
        let err = v.choose(22).err();
        assert!(matches!(err, Some(ClientError::UnsupportedVersion(_))));
        assert_eq!(err.and_then(|e| e.code()), Some(35));
    }

    #[test]
    fn disjoint_ranges_are_unsupported() {
        // A broker that only speaks Produce v0-2 cannot take record batch v2.
        let v = BrokerVersions::new([(0, 0, 2)]);
        assert!(v.choose(0).is_err());
    }

    #[test]
    fn api_names_are_kafkas_constants() {
        assert_eq!(api_name(19), "CREATE_TOPICS");
        assert_eq!(api_name(22), "INIT_PRODUCER_ID");
        assert_eq!(api_name(0), "PRODUCE");
    }
}
