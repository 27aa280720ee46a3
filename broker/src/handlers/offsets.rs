//! Committed offsets: OffsetCommit (fenced by the group's member id and generation, written to
//! the group's `__consumer_offsets` partition), TxnOffsetCommit (a transactional producer's
//! offsets, pending until its transaction's marker), OffsetFetch (single group, and batched
//! groups from v8; `require_stable` from v7) and OffsetDelete. Version 0 of OffsetCommit and OffsetFetch keep Kafka 3.9's
//! ZooKeeper path: their offsets live in zookeeper-lite.

use std::collections::BTreeMap;
use std::sync::Arc;

use common::time::now_ms;

use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::txn_offset_commit_response::{
    TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
};
use kafka_protocol::messages::{
    OffsetCommitRequest, OffsetCommitResponse, OffsetDeleteRequest, OffsetDeleteResponse,
    OffsetFetchRequest, OffsetFetchResponse, TopicName, TxnOffsetCommitRequest,
    TxnOffsetCommitResponse,
};
use kafka_protocol::protocol::StrBytes;
use zookeeper_lite::protocol::CommittedOffset;

use crate::group::records::OffsetValue;

use super::groups::{check_coordinator, check_member_group};
use crate::broker::Broker;

use common::errors::ErrorCode;
use common::ids::LeaderEpoch;

/// Kafka's `offset.metadata.max.bytes` default.
const MAX_METADATA_BYTES: usize = 4096;

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

fn partition_exists(broker: &Broker, topic: &str, partition: i32) -> bool {
    broker
        .cluster
        .metadata()
        .topics
        .get(topic)
        .is_some_and(|t| t.partitions.iter().any(|p| p.partition == partition))
}

pub async fn commit(
    broker: &Arc<Broker>,
    request: OffsetCommitRequest,
    version: i16,
) -> OffsetCommitResponse {
    commit_stamped(broker, request, version, &[]).await
}

/// OffsetCommit v1: `commit_timestamps[t][p]` is the `commit_timestamp` of
/// `request.topics[t].partitions[p]`, stored as the commit's timestamp (which offset retention
/// counts from) unless it is -1, as Kafka's `GroupCoordinatorAdapter.commitOffsets` does.
pub async fn commit_v1(
    broker: &Arc<Broker>,
    request: OffsetCommitRequest,
    commit_timestamps: &[Vec<i64>],
) -> OffsetCommitResponse {
    commit_stamped(broker, request, 1, commit_timestamps).await
}

/// `commit` with the per-partition commit timestamps of v1 (empty for other versions: every
/// commit is stamped with the broker's time).
async fn commit_stamped(
    broker: &Arc<Broker>,
    request: OffsetCommitRequest,
    version: i16,
    commit_timestamps: &[Vec<i64>],
) -> OffsetCommitResponse {
    let group = request.group_id.0.as_str().to_string();
    // (topic, partition) -> error, in request order per topic.
    let mut errors: Vec<(String, Vec<(i32, i16)>)> = Vec::new();
    let mut to_store: Vec<((String, i32), OffsetValue)> = Vec::new();
    // v0 commits go to ZooKeeper in Kafka 3.9 (`commitOffsetsToZookeeper`): any broker takes
    // them and neither the coordinator nor the group's members are consulted. zookeeper-lite
    // holds every group's offsets, so they are stored there without those checks.
    let mut verdict = if version == 0 {
        ErrorCode::None.code()
    } else {
        check_coordinator(broker, &group)
    };
    if verdict == ErrorCode::None.code() && version > 0 {
        let member = request.member_id.as_str().to_string();
        let instance = request
            .group_instance_id
            .as_ref()
            .map(|i| i.as_str().to_string());
        match broker.groups.with(|c, now| {
            c.check_commit(
                &group,
                request.generation_id_or_member_epoch,
                &member,
                instance.as_deref(),
                now,
            )
        }) {
            Ok(_) => {}
            Err(code) => verdict = code,
        }
    }
    let timestamp = now_ms();
    // v2-4 carry a retention time: the offsets expire that long after the commit
    // (`OffsetAndMetadata.expireTimestamp`); -1 is the broker's retention.
    let expire_timestamp = (matches!(version, 2..=4) && request.retention_time_ms != -1)
        .then(|| timestamp.saturating_add(request.retention_time_ms));
    for (t, topic) in request.topics.iter().enumerate() {
        let name = topic.name.0.as_str().to_string();
        let mut partitions = Vec::new();
        for (i, p) in topic.partitions.iter().enumerate() {
            // Kafka's `createOffsetAndMetadata`: DEFAULT_TIMESTAMP (-1) is the broker's time.
            let commit_timestamp = match commit_timestamps.get(t).and_then(|ts| ts.get(i)) {
                Some(&sent) if sent != -1 => sent,
                _ => timestamp,
            };
            let code = if verdict != ErrorCode::None.code() {
                verdict
            } else if !partition_exists(broker, &name, p.partition_index) {
                ErrorCode::UnknownTopicOrPartition.code()
            } else if p
                .committed_metadata
                .as_ref()
                .is_some_and(|m| m.len() > MAX_METADATA_BYTES)
            {
                ErrorCode::OffsetMetadataTooLarge.code()
            } else {
                to_store.push((
                    (name.clone(), p.partition_index),
                    OffsetValue {
                        offset: p.committed_offset,
                        leader_epoch: if version >= 6 {
                            p.committed_leader_epoch
                        } else {
                            -1
                        },
                        // Kafka stores a null metadata as "".
                        metadata: p
                            .committed_metadata
                            .as_ref()
                            .map(|m| m.as_str().to_string())
                            .unwrap_or_default(),
                        commit_timestamp,
                        expire_timestamp,
                    },
                ));
                ErrorCode::None.code()
            };
            partitions.push((p.partition_index, code));
        }
        errors.push((name, partitions));
    }
    if !to_store.is_empty() {
        let stored: Result<BTreeMap<(String, i32), i16>, i16> = if version == 0 {
            commit_to_zookeeper_lite(broker, &group, to_store).await
        } else {
            broker
                .groups
                .commit_offsets(&group, to_store)
                .await
                .map(|()| BTreeMap::new())
        };
        if let Err(code) = &stored {
            tracing::debug!("committing offsets of group {group} failed with error {code}");
        }
        for (topic, partitions) in &mut errors {
            for (p, code) in partitions.iter_mut() {
                if *code != ErrorCode::None.code() {
                    continue;
                }
                *code = match &stored {
                    Ok(map) => map
                        .get(&(topic.clone(), *p))
                        .copied()
                        .unwrap_or(ErrorCode::None.code()),
                    Err(e) => *e,
                };
            }
        }
    }
    let topics = errors
        .into_iter()
        .map(|(name, partitions)| {
            OffsetCommitResponseTopic::default()
                .with_name(TopicName(s(&name)))
                .with_partitions(
                    partitions
                        .into_iter()
                        .map(|(p, code)| {
                            OffsetCommitResponsePartition::default()
                                .with_partition_index(p)
                                .with_error_code(code)
                        })
                        .collect(),
                )
        })
        .collect();
    OffsetCommitResponse::default().with_topics(topics)
}

/// TxnOffsetCommit (Kafka's `KafkaApis.handleTxnOffsetCommitRequest` and
/// `GroupCoordinator.handleTxnCommitOffsets`): a transactional producer commits offsets for a
/// group inside its transaction. Unknown topics and partitions are UNKNOWN_TOPIC_OR_PARTITION;
/// the others are checked against the group (v3+ carry the member and generation, checked as
/// OffsetCommit checks them; v0-2 carry none) and written to the group's `__consumer_offsets`
/// partition as a transactional batch of the producer. They stay pending, invisible to
/// OffsetFetch, until the transaction's marker is written there (WriteTxnMarkers). Versions
/// 0-1 answer COORDINATOR_NOT_AVAILABLE for COORDINATOR_LOAD_IN_PROGRESS, which 0.11-2.0
/// producers do not handle (KAFKA-7296).
pub async fn txn_commit(
    broker: &Arc<Broker>,
    request: TxnOffsetCommitRequest,
    version: i16,
) -> TxnOffsetCommitResponse {
    let group = request.group_id.0.as_str().to_string();
    let md = broker.cluster.metadata();
    // (topic, [(partition, error)]) in request order; NONE = to be stored.
    let mut errors: Vec<(String, Vec<(i32, i16)>)> = Vec::new();
    let mut to_store: Vec<((String, i32), OffsetValue)> = Vec::new();
    let timestamp = now_ms();
    let mut verdict = check_member_group(broker, &group);
    if verdict == ErrorCode::None.code() {
        let member = request.member_id.as_str().to_string();
        let instance = request
            .group_instance_id
            .as_ref()
            .map(|i| i.as_str().to_string());
        let (generation, member, instance) = if version >= 3 {
            (request.generation_id, member, instance)
        } else {
            (-1, String::new(), None)
        };
        if let Err(code) = broker
            .groups
            .with(|c, _| c.check_txn_commit(&group, generation, &member, instance.as_deref()))
        {
            verdict = code;
        }
    }
    // KIP-890: the group's `__consumer_offsets` partition must be in the producer's
    // transaction (AddOffsetsToTxn), or nothing would ever commit or abort these offsets.
    if verdict == ErrorCode::None.code() && broker.config.txn.partition_verification_enable {
        let count =
            crate::group::offsets_partition_count(&md, broker.config.offsets_topic_num_partitions);
        if let Err(code) = broker
            .txn
            .verify_in_transaction(
                request.transactional_id.0.as_str(),
                request.producer_id.0,
                request.producer_epoch,
                common::topic::GROUP_METADATA_TOPIC_NAME,
                crate::group::partition_for(&group, count),
            )
            .await
        {
            verdict = if code == ErrorCode::ProducerFenced.code() && version < 3 {
                ErrorCode::InvalidProducerEpoch.code()
            } else {
                code
            };
        }
    }
    for topic in &request.topics {
        let name = topic.name.0.as_str().to_string();
        let known = md.topics.get(&name);
        let mut partitions = Vec::new();
        for p in &topic.partitions {
            let exists = known.is_some_and(|t| {
                t.partitions
                    .iter()
                    .any(|i| i.partition == p.partition_index)
            });
            let code = if !exists {
                ErrorCode::UnknownTopicOrPartition.code()
            } else if verdict != ErrorCode::None.code() {
                verdict
            } else if p
                .committed_metadata
                .as_ref()
                .is_some_and(|m| m.len() > MAX_METADATA_BYTES)
            {
                ErrorCode::OffsetMetadataTooLarge.code()
            } else {
                to_store.push((
                    (name.clone(), p.partition_index),
                    OffsetValue {
                        offset: p.committed_offset,
                        leader_epoch: if version >= 2 {
                            p.committed_leader_epoch
                        } else {
                            -1
                        },
                        metadata: p
                            .committed_metadata
                            .as_ref()
                            .map(|m| m.as_str().to_string())
                            .unwrap_or_default(),
                        commit_timestamp: timestamp,
                        expire_timestamp: None,
                    },
                ));
                ErrorCode::None.code()
            };
            partitions.push((p.partition_index, code));
        }
        errors.push((name, partitions));
    }
    if !to_store.is_empty() {
        let stored = broker
            .groups
            .commit_txn_offsets(
                &group,
                request.producer_id.0,
                request.producer_epoch,
                to_store,
            )
            .await;
        if let Err(code) = stored {
            tracing::debug!(
                "transactional offset commit of group {group} by producer {} failed with error \
                 {code}",
                request.producer_id.0
            );
            for (_, partitions) in &mut errors {
                for (_, c) in partitions.iter_mut() {
                    if *c == ErrorCode::None.code() {
                        *c = code;
                    }
                }
            }
        }
    }
    let topics = errors
        .into_iter()
        .map(|(name, partitions)| {
            TxnOffsetCommitResponseTopic::default()
                .with_name(TopicName(s(&name)))
                .with_partitions(
                    partitions
                        .into_iter()
                        .map(|(p, code)| {
                            let code = if version < 2
                                && code == ErrorCode::CoordinatorLoadInProgress.code()
                            {
                                ErrorCode::CoordinatorNotAvailable.code()
                            } else {
                                code
                            };
                            TxnOffsetCommitResponsePartition::default()
                                .with_partition_index(p)
                                .with_error_code(code)
                        })
                        .collect(),
                )
        })
        .collect();
    TxnOffsetCommitResponse::default().with_topics(topics)
}

/// OffsetCommit v0: stored in zookeeper-lite, unfenced, as Kafka 3.9 stores v0 commits in
/// ZooKeeper. Returns each partition's error (absent = stored).
async fn commit_to_zookeeper_lite(
    broker: &Broker,
    group: &str,
    offsets: Vec<((String, i32), OffsetValue)>,
) -> Result<BTreeMap<(String, i32), i16>, i16> {
    let offsets = offsets
        .into_iter()
        .map(|((topic, partition), v)| CommittedOffset {
            topic,
            partition,
            offset: v.offset,
            leader_epoch: LeaderEpoch::UNKNOWN,
            metadata: Some(v.metadata),
            commit_timestamp_ms: v.commit_timestamp,
        })
        .collect();
    match broker.cluster.commit_offsets(group, -1, offsets).await {
        Ok(results) => Ok(results
            .into_iter()
            .filter_map(|(t, p, e)| e.map(|code| ((t, p), code.code())))
            .collect()),
        Err(e) => {
            tracing::warn!("committing offsets of group {group} failed: {e}");
            Err(e.code.code())
        }
    }
}

/// One fetched partition: (partition, offset, leader epoch, metadata, error).
type Fetched = (i32, i64, i32, Option<String>, i16);

/// The committed offsets of one group, by topic, for the requested partitions (all if `None`).
/// With `require_stable` (v7+), a partition with transactional offsets waiting for their
/// marker is answered UNSTABLE_OFFSET_COMMIT and offset -1 (Kafka's `getOffsets`), so that a
/// consumer does not start from an offset a transaction may still change.
async fn fetch_group(
    broker: &Broker,
    group: &str,
    requested: Option<Vec<(String, Vec<i32>)>>,
    version: i16,
    require_stable: bool,
) -> Result<BTreeMap<String, Vec<Fetched>>, i16> {
    let wanted = requested.as_ref().map(|topics| {
        topics
            .iter()
            .flat_map(|(t, ps)| ps.iter().map(move |p| (t.clone(), *p)))
            .collect::<Vec<_>>()
    });
    let stored: Vec<CommittedOffset> = if version == 0 {
        // Kafka 3.9 reads v0 offsets from ZooKeeper, on any broker.
        broker
            .cluster
            .fetch_offsets(group, wanted)
            .await
            .map_err(|e| {
                tracing::warn!("reading the offsets of group {group} failed: {e}");
                e.code.code()
            })?
    } else {
        let code = check_coordinator(broker, group);
        if code != ErrorCode::None.code() {
            return Err(code);
        }
        broker
            .groups
            .with(|c, _| c.committed(group, wanted.as_deref()))
            .into_iter()
            .map(|((topic, partition), v)| CommittedOffset {
                topic,
                partition,
                offset: v.offset,
                leader_epoch: LeaderEpoch(v.leader_epoch),
                metadata: Some(v.metadata),
                commit_timestamp_ms: v.commit_timestamp,
            })
            .collect()
    };
    let mut by_topic: BTreeMap<String, Vec<Fetched>> = BTreeMap::new();
    match requested {
        None => {
            for o in stored {
                by_topic.entry(o.topic).or_default().push((
                    o.partition,
                    o.offset,
                    o.leader_epoch.get(),
                    o.metadata,
                    ErrorCode::None.code(),
                ));
            }
        }
        Some(topics) => {
            // Every requested partition is answered, with -1 when nothing was committed.
            for (topic, partitions) in topics {
                let entry = by_topic.entry(topic.clone()).or_default();
                for p in partitions {
                    let found = stored.iter().find(|o| o.topic == topic && o.partition == p);
                    entry.push(match found {
                        Some(o) => (
                            p,
                            o.offset,
                            o.leader_epoch.get(),
                            o.metadata.clone(),
                            ErrorCode::None.code(),
                        ),
                        None => (p, -1, -1, Some(String::new()), ErrorCode::None.code()),
                    });
                }
            }
        }
    }
    if require_stable && version > 0 {
        broker.groups.with(|c, _| {
            for (topic, partitions) in by_topic.iter_mut() {
                for entry in partitions.iter_mut() {
                    if c.has_pending_txn_offset(group, &(topic.clone(), entry.0)) {
                        *entry = (
                            entry.0,
                            -1,
                            -1,
                            Some(String::new()),
                            ErrorCode::UnstableOffsetCommit.code(),
                        );
                    }
                }
            }
        });
    }
    Ok(by_topic)
}

pub async fn fetch(
    broker: &Arc<Broker>,
    request: OffsetFetchRequest,
    version: i16,
) -> OffsetFetchResponse {
    if version >= 8 {
        let mut groups = Vec::new();
        for g in request.groups {
            let requested = g.topics.as_ref().map(|ts| {
                ts.iter()
                    .map(|t| (t.name.0.as_str().to_string(), t.partition_indexes.clone()))
                    .collect()
            });
            let base = OffsetFetchResponseGroup::default().with_group_id(g.group_id.clone());
            groups.push(
                match fetch_group(
                    broker,
                    g.group_id.0.as_str(),
                    requested,
                    version,
                    request.require_stable,
                )
                .await
                {
                    Err(code) => base.with_error_code(code),
                    Ok(by_topic) => base.with_topics(
                        by_topic
                            .into_iter()
                            .map(|(name, ps)| {
                                OffsetFetchResponseTopics::default()
                                    .with_name(TopicName(s(&name)))
                                    .with_partitions(
                                        ps.into_iter()
                                            .map(|(p, offset, epoch, metadata, code)| {
                                                OffsetFetchResponsePartitions::default()
                                                    .with_partition_index(p)
                                                    .with_committed_offset(offset)
                                                    .with_committed_leader_epoch(epoch)
                                                    .with_metadata(metadata.as_deref().map(s))
                                                    .with_error_code(code)
                                            })
                                            .collect(),
                                    )
                            })
                            .collect(),
                    ),
                },
            );
        }
        return OffsetFetchResponse::default().with_groups(groups);
    }
    let requested: Option<Vec<(String, Vec<i32>)>> = request.topics.as_ref().map(|ts| {
        ts.iter()
            .map(|t| (t.name.0.as_str().to_string(), t.partition_indexes.clone()))
            .collect()
    });
    let partition = |p: i32, offset: i64, epoch: i32, metadata: Option<String>, code: i16| {
        // v0 reads ZooKeeper in Kafka 3.9, where a partition without a committed offset is
        // ErrorCode::UnknownTopicOrPartition.code() (`OffsetFetchResponse.UNKNOWN_PARTITION`), not offset -1.
        let (metadata, code) = if version == 0 && offset < 0 && code == ErrorCode::None.code() {
            (
                Some(String::new()),
                ErrorCode::UnknownTopicOrPartition.code(),
            )
        } else {
            (metadata, code)
        };
        OffsetFetchResponsePartition::default()
            .with_partition_index(p)
            .with_committed_offset(offset)
            .with_committed_leader_epoch(if version >= 5 { epoch } else { -1 })
            .with_metadata(metadata.as_deref().map(s))
            .with_error_code(code)
    };
    match fetch_group(
        broker,
        request.group_id.0.as_str(),
        requested.clone(),
        version,
        request.require_stable,
    )
    .await
    {
        Ok(by_topic) => OffsetFetchResponse::default().with_topics(
            by_topic
                .into_iter()
                .map(|(name, ps)| {
                    OffsetFetchResponseTopic::default()
                        .with_name(TopicName(s(&name)))
                        .with_partitions(
                            ps.into_iter()
                                .map(|(p, o, e, m, c)| partition(p, o, e, m, c))
                                .collect(),
                        )
                })
                .collect(),
        ),
        // v1 has no top-level error: each requested partition carries it.
        Err(code) if version < 2 => OffsetFetchResponse::default().with_topics(
            requested
                .unwrap_or_default()
                .into_iter()
                .map(|(name, ps)| {
                    OffsetFetchResponseTopic::default()
                        .with_name(TopicName(s(&name)))
                        .with_partitions(
                            ps.into_iter()
                                .map(|p| partition(p, -1, -1, Some(String::new()), code))
                                .collect(),
                        )
                })
                .collect(),
        ),
        Err(code) => OffsetFetchResponse::default().with_error_code(code),
    }
}

pub async fn delete(broker: &Arc<Broker>, request: OffsetDeleteRequest) -> OffsetDeleteResponse {
    let group = request.group_id.0.as_str().to_string();
    let code = check_member_group(broker, &group);
    if code != ErrorCode::None.code() {
        return OffsetDeleteResponse::default().with_error_code(code);
    }
    let (known, subscribed) = broker
        .groups
        .with(|c, _| (c.contains(&group), c.subscribed_topics(&group)));
    if !known {
        return OffsetDeleteResponse::default().with_error_code(ErrorCode::GroupIdNotFound.code());
    }
    let mut results: Vec<(String, Vec<(i32, i16)>)> = Vec::new();
    let mut to_delete = Vec::new();
    for topic in &request.topics {
        let name = topic.name.0.as_str().to_string();
        let partitions = topic
            .partitions
            .iter()
            .map(|p| {
                let code = if !partition_exists(broker, &name, p.partition_index) {
                    ErrorCode::UnknownTopicOrPartition.code()
                } else if subscribed.contains(&name) {
                    ErrorCode::GroupSubscribedToTopic.code()
                } else {
                    to_delete.push((name.clone(), p.partition_index));
                    ErrorCode::None.code()
                };
                (p.partition_index, code)
            })
            .collect();
        results.push((name, partitions));
    }
    if !to_delete.is_empty() {
        let deleted = broker
            .groups
            .with(|c, _| c.delete_offsets(&group, &to_delete));
        if let Err(code) = broker
            .groups
            .write_tombstones(&group, &deleted, false)
            .await
        {
            tracing::warn!("writing the tombstones of deleted offsets of group {group} failed with error {code}");
        }
    }
    OffsetDeleteResponse::default().with_topics(
        results
            .into_iter()
            .map(|(name, ps)| {
                OffsetDeleteResponseTopic::default()
                    .with_name(TopicName(s(&name)))
                    .with_partitions(
                        ps.into_iter()
                            .map(|(p, code)| {
                                OffsetDeleteResponsePartition::default()
                                    .with_partition_index(p)
                                    .with_error_code(code)
                            })
                            .collect(),
                    )
            })
            .collect(),
    )
}
