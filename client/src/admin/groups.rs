//! The consumer-group admin calls `kafka-consumer-groups` makes, as Kafka's `KafkaAdminClient`
//! makes them: ListGroups to every broker; FindCoordinator then DescribeGroups / OffsetFetch /
//! OffsetCommit / DeleteGroups / OffsetDelete to the group's coordinator; ListOffsets to partition
//! leaders. Calls to a coordinator look it up again and retry while it moves or loads
//! (COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS), until the API
//! timeout.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Instant;

use kafka_protocol::messages::{
    list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic},
    offset_commit_request::{OffsetCommitRequestPartition, OffsetCommitRequestTopic},
    offset_delete_request::{OffsetDeleteRequestPartition, OffsetDeleteRequestTopic},
    BrokerId, DeleteGroupsRequest, DescribeGroupsRequest, FindCoordinatorRequest, GroupId,
    ListGroupsRequest, ListOffsetsRequest, OffsetCommitRequest, OffsetDeleteRequest,
    OffsetFetchRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use super::assignment::decode_assignment_partitions;
use super::{Admin, RETRY_BACKOFF};
use common::errors::codes::{
    BROKER_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE,
    GROUP_ID_NOT_FOUND, INVALID_TOPIC_EXCEPTION, KAFKA_STORAGE_ERROR, LEADER_NOT_AVAILABLE,
    NOT_COORDINATOR, NOT_LEADER_OR_FOLLOWER, REPLICA_NOT_AVAILABLE, TOPIC_AUTHORIZATION_FAILED,
    UNKNOWN_TOPIC_OR_PARTITION,
};

use crate::connection::Connection;
use crate::error::{is_retriable, ClientError};
use crate::metadata::{BrokerNode, ClusterSnapshot};

/// FindCoordinator key type of a consumer group.
const KEY_TYPE_GROUP: i8 = 0;

/// ListOffsets timestamps with a special meaning.
const LATEST_TIMESTAMP: i64 = -1;
const EARLIEST_TIMESTAMP: i64 = -2;

/// One group as ListGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupListing {
    pub group_id: String,
    pub protocol_type: String,
    /// ListGroups v4+ only.
    pub state: Option<String>,
    /// ListGroups v5+ only ("classic" / "consumer").
    pub group_type: Option<String>,
}

/// One member as DescribeGroups reports it, its assignment decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDescription {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    /// The broker's view of the member's address, e.g. `/127.0.0.1`.
    pub host: String,
    /// (topic, partition) in the order the leader wrote them.
    pub assignment: Vec<(String, i32)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    pub group_id: String,
    /// `Dead` for a group the coordinator does not know.
    pub state: String,
    pub protocol_type: String,
    /// The chosen assignor (`range`), empty when none.
    pub assignment_strategy: String,
    pub members: Vec<MemberDescription>,
    pub coordinator: BrokerNode,
}

/// A committed offset of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupOffset {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub leader_epoch: Option<i32>,
    pub metadata: Option<String>,
}

/// Which offset of a partition to look up (Kafka's `OffsetSpec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetSpec {
    Earliest,
    Latest,
    /// The first offset whose record timestamp is at or after this time (ms since epoch).
    Timestamp(i64),
}

impl OffsetSpec {
    fn timestamp(self) -> i64 {
        match self {
            OffsetSpec::Earliest => EARLIEST_TIMESTAMP,
            OffsetSpec::Latest => LATEST_TIMESTAMP,
            OffsetSpec::Timestamp(t) => t,
        }
    }
}

/// A partition's offset for an [`OffsetSpec`]: `None` when a timestamp lookup found no record at
/// or after the time (Kafka answers offset -1).
pub type ListedOffset = Option<i64>;

/// Per-partition results of a call: (topic, partition, error if that partition failed).
pub type PartitionResults = Vec<(String, i32, Option<ClientError>)>;

fn group_name(group: &str) -> GroupId {
    GroupId(StrBytes::from_string(group.to_string()))
}

fn topic_name(topic: &str) -> TopicName {
    TopicName(StrBytes::from_string(topic.to_string()))
}

fn coordinator_moved(e: &ClientError) -> bool {
    match e {
        ClientError::Kafka { code, .. } => matches!(
            *code,
            COORDINATOR_LOAD_IN_PROGRESS | COORDINATOR_NOT_AVAILABLE | NOT_COORDINATOR
        ),
        ClientError::Io { .. } | ClientError::Timeout(_) => true,
        _ => false,
    }
}

/// `(topic, partition)` pairs grouped by topic, topics and partitions in first-seen order.
fn by_topic(partitions: &[(String, i32)]) -> Vec<(String, Vec<i32>)> {
    let mut out: Vec<(String, Vec<i32>)> = Vec::new();
    for (t, p) in partitions {
        match out.iter_mut().find(|(name, _)| name == t) {
            Some((_, ps)) => ps.push(*p),
            None => out.push((t.clone(), vec![*p])),
        }
    }
    out
}

impl Admin {
    /// FindCoordinator for a group: the broker and a connection to it.
    async fn find_coordinator(&self, group: &str) -> Result<(BrokerNode, Connection), ClientError> {
        let conn = self.cluster.any_connection().await?;
        let request = FindCoordinatorRequest::default()
            .with_key(StrBytes::from_string(group.to_string()))
            .with_key_type(KEY_TYPE_GROUP);
        let response = conn.send(request).await?;
        ClientError::check(response.error_code, response.error_message.as_deref())?;
        let node = BrokerNode {
            id: response.node_id.0,
            host: response.host.to_string(),
            port: response.port,
            rack: None,
        };
        let conn = self.broker_connection(node.id).await?;
        Ok((node, conn))
    }

    /// A connection to a broker by id, refreshing metadata first when the id is not known yet
    /// (a coordinator named before any Metadata call).
    async fn broker_connection(&self, id: i32) -> Result<Connection, ClientError> {
        if !self.cluster.snapshot().brokers.contains_key(&id) {
            self.cluster.refresh(Some(&[]), false).await?;
        }
        self.cluster.connection(id).await
    }

    /// Runs `f` on the group's coordinator, finding it again while it moves, until the timeout.
    async fn coordinator_call<T, F, Fut>(
        &self,
        call: &str,
        group: &str,
        f: F,
    ) -> Result<T, ClientError>
    where
        F: Fn(BrokerNode, Connection) -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let deadline = Instant::now() + self.api_timeout;
        loop {
            let result = match self.find_coordinator(group).await {
                Ok((node, conn)) => f(node, conn).await,
                Err(e) => Err(e),
            };
            match result {
                Err(e) if coordinator_moved(&e) => {
                    if Instant::now() + RETRY_BACKOFF >= deadline {
                        return Err(match e {
                            ClientError::Kafka { .. } => e,
                            _ => ClientError::Timeout(format!(
                                "Timed out waiting for a node assignment. Call: {call}"
                            )),
                        });
                    }
                    tracing::debug!("{call}: retrying after {e}");
                    tokio::time::sleep(RETRY_BACKOFF).await;
                }
                other => return other,
            }
        }
    }

    /// Every group of every broker (ListGroups to each), in broker id order. Like Kafka's
    /// `listConsumerGroups`, only groups of protocol type `consumer` (or none) are kept.
    pub async fn list_groups(&self) -> Result<Vec<GroupListing>, ClientError> {
        let snapshot = self
            .call("listConsumerGroups", super::Target::Any, |_| {
                self.cluster.refresh(Some(&[]), false)
            })
            .await?;
        let mut out: Vec<GroupListing> = Vec::new();
        for node in snapshot.brokers.values() {
            let conn = self.broker_connection(node.id).await?;
            // A broker still loading a group partition answers COORDINATOR_LOAD_IN_PROGRESS
            // (COORDINATOR_NOT_AVAILABLE while starting): retried until the API timeout, as
            // Kafka's `listConsumerGroups` does.
            let deadline = Instant::now() + self.api_timeout;
            let response = loop {
                let response = conn.send(ListGroupsRequest::default()).await?;
                let loading = matches!(
                    response.error_code,
                    COORDINATOR_LOAD_IN_PROGRESS | COORDINATOR_NOT_AVAILABLE
                );
                if !loading || Instant::now() + RETRY_BACKOFF >= deadline {
                    break response;
                }
                tokio::time::sleep(RETRY_BACKOFF).await;
            };
            ClientError::check(response.error_code, None)?;
            let v = conn.version_for::<ListGroupsRequest>()?;
            for g in response.groups {
                let protocol_type = g.protocol_type.to_string();
                if !(protocol_type.is_empty() || protocol_type == "consumer") {
                    continue;
                }
                let group_id = g.group_id.0.to_string();
                if out.iter().any(|l| l.group_id == group_id) {
                    continue;
                }
                out.push(GroupListing {
                    group_id,
                    protocol_type,
                    state: (v >= 4).then(|| g.group_state.to_string()),
                    group_type: (v >= 5).then(|| g.group_type.to_string()),
                });
            }
        }
        Ok(out)
    }

    /// DescribeGroups on the group's coordinator. A group the coordinator does not know comes
    /// back in state `Dead` (as a ZooKeeper-mode Kafka broker answers), not as an error.
    pub async fn describe_group(&self, group: &str) -> Result<GroupDescription, ClientError> {
        self.coordinator_call("describeConsumerGroups", group, |node, conn| async move {
            let response = conn
                .send(DescribeGroupsRequest::default().with_groups(vec![group_name(group)]))
                .await?;
            let Some(described) = response.groups.into_iter().next() else {
                return Err(ClientError::Protocol(format!(
                    "DescribeGroups answered nothing for group {group}"
                )));
            };
            if described.error_code == GROUP_ID_NOT_FOUND {
                return Ok(GroupDescription {
                    group_id: group.to_string(),
                    state: "Dead".to_string(),
                    protocol_type: String::new(),
                    assignment_strategy: String::new(),
                    members: Vec::new(),
                    coordinator: node,
                });
            }
            ClientError::check(described.error_code, described.error_message.as_deref())?;
            let protocol_type = described.protocol_type.to_string();
            if !(protocol_type.is_empty() || protocol_type == "consumer") {
                return Err(ClientError::InvalidArgument(format!(
                    "GroupId {group} is not a consumer group ({protocol_type})."
                )));
            }
            let mut members = Vec::with_capacity(described.members.len());
            for m in described.members {
                members.push(MemberDescription {
                    member_id: m.member_id.to_string(),
                    group_instance_id: m.group_instance_id.map(|s| s.to_string()),
                    client_id: m.client_id.to_string(),
                    host: m.client_host.to_string(),
                    assignment: decode_assignment_partitions(&m.member_assignment)?,
                });
            }
            Ok(GroupDescription {
                group_id: group.to_string(),
                state: described.group_state.to_string(),
                protocol_type,
                assignment_strategy: described.protocol_data.to_string(),
                members,
                coordinator: node,
            })
        })
        .await
    }

    /// Committed offsets of a group (OffsetFetch for all its partitions), sorted by topic and
    /// partition. Partitions without a committed offset are left out, as Kafka's admin does.
    pub async fn list_group_offsets(&self, group: &str) -> Result<Vec<GroupOffset>, ClientError> {
        self.coordinator_call("listConsumerGroupOffsets", group, |_, conn| async move {
            let request = OffsetFetchRequest::default()
                .with_group_id(group_name(group))
                .with_topics(None);
            let response = conn.send(request).await?;
            ClientError::check(response.error_code, None)?;
            let mut out = Vec::new();
            for t in response.topics {
                for p in t.partitions {
                    if p.error_code == UNKNOWN_TOPIC_OR_PARTITION {
                        continue;
                    }
                    ClientError::check(p.error_code, None)?;
                    if p.committed_offset < 0 {
                        continue;
                    }
                    out.push(GroupOffset {
                        topic: t.name.0.to_string(),
                        partition: p.partition_index,
                        offset: p.committed_offset,
                        leader_epoch: (p.committed_leader_epoch >= 0)
                            .then_some(p.committed_leader_epoch),
                        metadata: p.metadata.map(|m| m.to_string()),
                    });
                }
            }
            out.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
            Ok(out)
        })
        .await
    }

    /// Commits offsets for a group as an admin does (OffsetCommit with generation -1 and an
    /// empty member id, which the coordinator accepts only while the group has no members).
    /// A group-level failure is the `Err`; per-partition failures are in the results.
    pub async fn alter_group_offsets(
        &self,
        group: &str,
        offsets: &[(String, i32, i64)],
    ) -> Result<PartitionResults, ClientError> {
        let pairs: Vec<(String, i32)> = offsets.iter().map(|(t, p, _)| (t.clone(), *p)).collect();
        let topics: Vec<OffsetCommitRequestTopic> = by_topic(&pairs)
            .into_iter()
            .map(|(t, ps)| {
                OffsetCommitRequestTopic::default()
                    .with_name(topic_name(&t))
                    .with_partitions(
                        ps.into_iter()
                            .map(|p| {
                                let offset = offsets
                                    .iter()
                                    .find(|(ot, op, _)| *ot == t && *op == p)
                                    .map_or(0, |(_, _, o)| *o);
                                OffsetCommitRequestPartition::default()
                                    .with_partition_index(p)
                                    .with_committed_offset(offset)
                            })
                            .collect(),
                    )
            })
            .collect();
        let request = OffsetCommitRequest::default()
            .with_group_id(group_name(group))
            .with_generation_id_or_member_epoch(-1)
            .with_member_id(StrBytes::default())
            .with_topics(topics);
        self.coordinator_call("commitOffsets", group, |_, conn| {
            let request = request.clone();
            async move {
                let response = conn.send(request).await?;
                let mut out = Vec::new();
                for t in response.topics {
                    for p in t.partitions {
                        // A coordinator change is retried as a whole.
                        if matches!(
                            p.error_code,
                            COORDINATOR_LOAD_IN_PROGRESS
                                | COORDINATOR_NOT_AVAILABLE
                                | NOT_COORDINATOR
                        ) {
                            return Err(ClientError::kafka(p.error_code, None));
                        }
                        let error =
                            (p.error_code != 0).then(|| ClientError::kafka(p.error_code, None));
                        out.push((t.name.0.to_string(), p.partition_index, error));
                    }
                }
                Ok(out)
            }
        })
        .await
    }

    /// Deletes groups (DeleteGroups on each group's coordinator); one result per group, in order.
    pub async fn delete_groups(&self, groups: &[String]) -> Vec<(String, Result<(), ClientError>)> {
        let mut out = Vec::with_capacity(groups.len());
        for group in groups {
            let result = self
                .coordinator_call("deleteConsumerGroups", group, |_, conn| async move {
                    let response = conn
                        .send(
                            DeleteGroupsRequest::default()
                                .with_groups_names(vec![group_name(group)]),
                        )
                        .await?;
                    match response
                        .results
                        .iter()
                        .find(|r| r.group_id.0.as_str() == group.as_str())
                    {
                        Some(r) => ClientError::check(r.error_code, None),
                        None => Err(ClientError::Protocol(format!(
                            "DeleteGroups answered nothing for group {group}"
                        ))),
                    }
                })
                .await;
            out.push((group.clone(), result));
        }
        out
    }

    /// Deletes committed offsets of a group (OffsetDelete). The group-level error (e.g.
    /// GROUP_SUBSCRIBED_TO_TOPIC, GROUP_ID_NOT_FOUND) is the `Err`.
    pub async fn delete_group_offsets(
        &self,
        group: &str,
        partitions: &[(String, i32)],
    ) -> Result<PartitionResults, ClientError> {
        let request = OffsetDeleteRequest::default()
            .with_group_id(group_name(group))
            .with_topics(
                by_topic(partitions)
                    .into_iter()
                    .map(|(t, ps)| {
                        OffsetDeleteRequestTopic::default()
                            .with_name(topic_name(&t))
                            .with_partitions(
                                ps.into_iter()
                                    .map(|p| {
                                        OffsetDeleteRequestPartition::default()
                                            .with_partition_index(p)
                                    })
                                    .collect(),
                            )
                    })
                    .collect(),
            );
        self.coordinator_call("deleteConsumerGroupOffsets", group, |_, conn| {
            let request = request.clone();
            async move {
                let response = conn.send(request).await?;
                ClientError::check(response.error_code, None)?;
                let mut out = Vec::new();
                for t in response.topics {
                    for p in t.partitions {
                        let error =
                            (p.error_code != 0).then(|| ClientError::kafka(p.error_code, None));
                        out.push((t.name.0.to_string(), p.partition_index, error));
                    }
                }
                Ok(out)
            }
        })
        .await
    }

    /// Offsets of partitions for `spec`, found as Kafka's `Admin.listOffsets` finds them (its
    /// `ListOffsetsHandler` over a `PartitionLeaderStrategy`): each partition's leader looked up
    /// in Metadata, then one ListOffsets request per leader.
    ///
    /// A partition is looked up and asked again, after `retry.backoff.ms` (100 ms), until the
    /// API timeout (`default.api.timeout.ms`) while its leader is unknown, while Metadata gives it
    /// a leader-change error (NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE, REPLICA_NOT_AVAILABLE,
    /// BROKER_NOT_AVAILABLE, KAFKA_STORAGE_ERROR, UNKNOWN_TOPIC_OR_PARTITION), while its leader
    /// cannot be reached, or while the leader answers NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE
    /// or any other retriable error. Partitions still failing then get Kafka's TimeoutException
    /// text ("Timed out waiting for a node assignment. Call: listOffsets(api=METADATA)", or
    /// `api=LIST_OFFSETS` when the leader kept answering a retriable error). A topic Metadata
    /// does not know and non-retriable errors fail their partitions at once. The `Err` is for a
    /// failure of the whole call (a Metadata request failing with a non-retriable error).
    pub async fn list_offsets(
        &self,
        partitions: &[(String, i32)],
        spec: OffsetSpec,
    ) -> Result<BTreeMap<(String, i32), Result<ListedOffset, ClientError>>, ClientError> {
        let deadline = Instant::now() + self.api_timeout;
        let mut out = BTreeMap::new();
        let mut pending: Vec<(String, i32)> = partitions.to_vec();
        pending.sort();
        pending.dedup();
        let mut topics: Vec<String> = pending.iter().map(|(t, _)| t.clone()).collect();
        topics.dedup();
        while !pending.is_empty() {
            // Partitions to look up again (leader unknown or moved, unreachable) and partitions
            // whose leader answered a retriable error.
            let mut lookup_again: Vec<(String, i32)> = Vec::new();
            let mut ask_again: Vec<(String, i32)> = Vec::new();
            let snapshot = match self.cluster.refresh(Some(&topics), false).await {
                Ok(s) => Some(s),
                Err(e) if e.is_retriable() => {
                    tracing::debug!("listOffsets: Metadata failed, will retry: {e}");
                    lookup_again.append(&mut pending);
                    None
                }
                Err(e) => return Err(e),
            };
            let mut by_leader: BTreeMap<i32, Vec<(String, i32)>> = BTreeMap::new();
            if let Some(snapshot) = snapshot {
                for (t, p) in pending.drain(..) {
                    match partition_leader(&snapshot, &t, p) {
                        Ok(Some(leader)) => by_leader.entry(leader).or_default().push((t, p)),
                        Ok(None) => lookup_again.push((t, p)),
                        Err(e) => {
                            out.insert((t, p), Err(e));
                        }
                    }
                }
            }
            for (leader, parts) in by_leader {
                let request = list_offsets_request(&parts, spec);
                let answered = async {
                    let conn = self.cluster.connection(leader).await?;
                    conn.send(request).await
                }
                .await;
                let response = match answered {
                    Ok(r) => r,
                    // The leader went away (or is not in the metadata any more): find it again,
                    // as Kafka's admin client does on a disconnect.
                    Err(e) if e.is_retriable() || e.code() == Some(BROKER_NOT_AVAILABLE) => {
                        tracing::debug!("listOffsets: broker {leader} failed, will retry: {e}");
                        lookup_again.extend(parts);
                        continue;
                    }
                    Err(e) => {
                        for key in parts {
                            out.insert(key, Err(e.clone()));
                        }
                        continue;
                    }
                };
                let mut answers = BTreeMap::new();
                for t in response.topics {
                    for p in t.partitions {
                        answers.insert((t.name.0.to_string(), p.partition_index), p);
                    }
                }
                for (t, p) in parts {
                    let Some(a) = answers.get(&(t.clone(), p)) else {
                        let message = format!(
                            "The response from broker {leader} did not contain a result for topic partition {t}-{p}"
                        );
                        out.insert((t, p), Err(ClientError::Protocol(message)));
                        continue;
                    };
                    match a.error_code {
                        0 => {
                            out.insert((t, p), Ok((a.offset >= 0).then_some(a.offset)));
                        }
                        NOT_LEADER_OR_FOLLOWER | LEADER_NOT_AVAILABLE => lookup_again.push((t, p)),
                        code if is_retriable(code) => ask_again.push((t, p)),
                        code => {
                            out.insert((t, p), Err(ClientError::kafka(code, None)));
                        }
                    }
                }
            }
            if lookup_again.is_empty() && ask_again.is_empty() {
                break;
            }
            if Instant::now() + RETRY_BACKOFF >= deadline {
                for (keys, api) in [(lookup_again, "METADATA"), (ask_again, "LIST_OFFSETS")] {
                    let e = ClientError::Timeout(format!(
                        "Timed out waiting for a node assignment. Call: listOffsets(api={api})"
                    ));
                    for key in keys {
                        out.insert(key, Err(e.clone()));
                    }
                }
                break;
            }
            tokio::time::sleep(RETRY_BACKOFF).await;
            pending = lookup_again;
            pending.append(&mut ask_again);
        }
        Ok(out)
    }
}

/// The leader of a partition by `snapshot`, as Kafka's `PartitionLeaderStrategy` (not tolerating
/// unknown topics, as for ListOffsets) reads a Metadata response: `Ok(None)` when the lookup is
/// to be retried (no leader yet, a leader-change error), `Err` when the partition fails.
fn partition_leader(
    snapshot: &ClusterSnapshot,
    topic: &str,
    partition: i32,
) -> Result<Option<i32>, ClientError> {
    let Some(t) = snapshot.topics.get(topic) else {
        return Ok(None);
    };
    let tp = format!("{topic}-{partition}");
    match t.error_code {
        0 => {}
        UNKNOWN_TOPIC_OR_PARTITION => {
            return Err(ClientError::kafka(
                UNKNOWN_TOPIC_OR_PARTITION,
                Some(&format!(
                    "Failed to fetch metadata for partition {tp} because metadata for topic `{topic}` could not be found"
                )),
            ))
        }
        LEADER_NOT_AVAILABLE | BROKER_NOT_AVAILABLE => return Ok(None),
        TOPIC_AUTHORIZATION_FAILED => {
            return Err(ClientError::kafka(
                TOPIC_AUTHORIZATION_FAILED,
                Some(&format!(
                    "Failed to fetch metadata for partition {tp} due to topic authorization failure"
                )),
            ))
        }
        INVALID_TOPIC_EXCEPTION => {
            return Err(ClientError::kafka(
                INVALID_TOPIC_EXCEPTION,
                Some(&format!(
                    "Failed to fetch metadata for partition {tp} due to invalid topic `{topic}`"
                )),
            ))
        }
        code => {
            return Err(ClientError::kafka(
                code,
                Some(&format!(
                    "Failed to fetch metadata for partition {tp} due to unexpected error for topic `{topic}`"
                )),
            ))
        }
    }
    let Some(p) = t.partition(partition) else {
        return Ok(None);
    };
    match p.error_code {
        0 => Ok((p.leader >= 0).then_some(p.leader)),
        NOT_LEADER_OR_FOLLOWER
        | REPLICA_NOT_AVAILABLE
        | LEADER_NOT_AVAILABLE
        | BROKER_NOT_AVAILABLE
        | KAFKA_STORAGE_ERROR
        | UNKNOWN_TOPIC_OR_PARTITION => Ok(None),
        code => Err(ClientError::kafka(
            code,
            Some(&format!("Unexpected error during metadata lookup for {tp}")),
        )),
    }
}

/// One ListOffsets request for `partitions` (all led by one broker).
fn list_offsets_request(partitions: &[(String, i32)], spec: OffsetSpec) -> ListOffsetsRequest {
    ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(
            by_topic(partitions)
                .into_iter()
                .map(|(t, ps)| {
                    ListOffsetsTopic::default()
                        .with_name(topic_name(&t))
                        .with_partitions(
                            ps.into_iter()
                                .map(|p| {
                                    ListOffsetsPartition::default()
                                        .with_partition_index(p)
                                        .with_timestamp(spec.timestamp())
                                })
                                .collect(),
                        )
                })
                .collect(),
        )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use common::errors::codes::NON_EMPTY_GROUP;

    #[test]
    fn partitions_group_by_topic_in_first_seen_order() {
        let grouped = by_topic(&[("b".into(), 1), ("a".into(), 0), ("b".into(), 0)]);
        assert_eq!(
            grouped,
            vec![("b".to_string(), vec![1, 0]), ("a".to_string(), vec![0])]
        );
    }

    #[test]
    fn coordinator_errors_are_retried_others_are_not() {
        assert!(coordinator_moved(&ClientError::kafka(
            NOT_COORDINATOR,
            None
        )));
        assert!(coordinator_moved(&ClientError::kafka(
            COORDINATOR_NOT_AVAILABLE,
            None
        )));
        assert!(!coordinator_moved(&ClientError::kafka(
            NON_EMPTY_GROUP,
            None
        )));
    }

    async fn admin(broker: &test_broker::FakeBroker, timeout_ms: u64) -> Admin {
        Admin::connect_with_timeout(
            &broker.addr(),
            "test",
            std::time::Duration::from_millis(timeout_ms),
        )
        .await
        .unwrap()
    }

    fn two_partitions() -> Vec<(String, i32)> {
        vec![("t".to_string(), 0), ("t".to_string(), 1)]
    }

    /// A leader election (no leader in Metadata, then NOT_LEADER_OR_FOLLOWER,
    /// LEADER_NOT_AVAILABLE and other retriable answers from the leader) is waited out, as
    /// Kafka's `ListOffsetsHandler` retries it, instead of failing the partitions at once.
    #[tokio::test]
    async fn list_offsets_retries_partitions_while_their_leader_moves() {
        let broker = test_broker::FakeBroker::start(test_broker::FakeBrokerOptions {
            topics: vec![("t".to_string(), 2)],
            leaderless_metadata: 2,
            list_offsets_errors: vec![
                NOT_LEADER_OR_FOLLOWER,
                LEADER_NOT_AVAILABLE,
                KAFKA_STORAGE_ERROR,
                common::errors::codes::REQUEST_TIMED_OUT,
            ],
            ..Default::default()
        })
        .await;
        let admin = admin(&broker, 10_000).await;
        let listed = admin
            .list_offsets(&two_partitions(), OffsetSpec::Latest)
            .await
            .unwrap();
        assert_eq!(listed.len(), 2);
        for (key, value) in &listed {
            assert_eq!(value.as_ref().ok(), Some(&Some(0)), "{key:?}: {value:?}");
        }
        assert_eq!(broker.list_offsets_requests(), 5);
    }

    /// Non-retriable errors and unknown topics fail their partitions at once, with Kafka's
    /// texts.
    #[tokio::test]
    async fn list_offsets_fails_non_retriable_errors_at_once() {
        let broker = test_broker::FakeBroker::start(test_broker::FakeBrokerOptions {
            topics: vec![("t".to_string(), 1)],
            list_offsets_errors: vec![TOPIC_AUTHORIZATION_FAILED],
            ..Default::default()
        })
        .await;
        let admin = admin(&broker, 10_000).await;
        let started = Instant::now();
        let listed = admin
            .list_offsets(
                &[("t".to_string(), 0), ("gone".to_string(), 0)],
                OffsetSpec::Earliest,
            )
            .await
            .unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let t0 = listed[&("t".to_string(), 0)].as_ref().unwrap_err();
        assert_eq!(t0.code(), Some(TOPIC_AUTHORIZATION_FAILED));
        let gone = listed[&("gone".to_string(), 0)].as_ref().unwrap_err();
        assert_eq!(gone.code(), Some(UNKNOWN_TOPIC_OR_PARTITION));
        assert_eq!(
            gone.to_string(),
            "Failed to fetch metadata for partition gone-0 because metadata for topic `gone` could not be found"
        );
        assert_eq!(broker.list_offsets_requests(), 1);
    }

    /// Past the API timeout, partitions still without a leader (or whose leader keeps
    /// answering a retriable error) fail with Kafka's TimeoutException text.
    #[tokio::test]
    async fn list_offsets_times_out_partitions_that_keep_failing() {
        let leaderless = test_broker::FakeBroker::start(test_broker::FakeBrokerOptions {
            topics: vec![("t".to_string(), 2)],
            leaderless_metadata: usize::MAX,
            ..Default::default()
        })
        .await;
        let listed = admin(&leaderless, 400)
            .await
            .list_offsets(&two_partitions(), OffsetSpec::Latest)
            .await
            .unwrap();
        for value in listed.values() {
            let e = value.as_ref().unwrap_err();
            assert!(matches!(e, ClientError::Timeout(_)), "{e:?}");
            assert_eq!(
                e.to_string(),
                "Timed out waiting for a node assignment. Call: listOffsets(api=METADATA)"
            );
        }
        let busy = test_broker::FakeBroker::start(test_broker::FakeBrokerOptions {
            topics: vec![("t".to_string(), 1)],
            list_offsets_errors: vec![common::errors::codes::REQUEST_TIMED_OUT; 1000],
            ..Default::default()
        })
        .await;
        let listed = admin(&busy, 400)
            .await
            .list_offsets(&[("t".to_string(), 0)], OffsetSpec::Latest)
            .await
            .unwrap();
        let e = listed[&("t".to_string(), 0)].as_ref().unwrap_err();
        assert_eq!(
            e.to_string(),
            "Timed out waiting for a node assignment. Call: listOffsets(api=LIST_OFFSETS)"
        );
    }

    #[test]
    fn offset_specs_use_kafkas_special_timestamps() {
        assert_eq!(OffsetSpec::Earliest.timestamp(), -2);
        assert_eq!(OffsetSpec::Latest.timestamp(), -1);
        assert_eq!(OffsetSpec::Timestamp(1234).timestamp(), 1234);
    }
}
