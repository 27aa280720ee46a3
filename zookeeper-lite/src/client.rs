//! `ZkClient`, the brokers' handle on zookeeper-lite: one connection, one request at a time,
//! each call bounded by the timeout. After an I/O error, a timeout or a garbled answer the
//! connection is dropped (its framing can no longer be trusted) and the next call reconnects.
//! A kept connection that the server closed meanwhile (it restarted) is noticed before a request
//! is sent on it and replaced, so a restart of zookeeper-lite costs callers no failed change.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

pub use crate::protocol::CommittedOffset;
use crate::protocol::{
    decode_body, encode_frame, frame_body_len, BrokerId, BrokerInfo, ClusterMetadata,
    ElectionResult, ElectionType, LeaderEpoch, NewTopic, OngoingReassignment, PartitionInfo,
    PartitionResult, ReassignmentTarget, Request, Response, ServerError, SessionId, TopicInfo,
    TopicPartition, FRAME_HEADER_BYTES,
};

#[derive(Debug, Error)]
pub enum ZkError {
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("protocol error: {0}")]
    Protocol(String),
    #[error("request timed out")]
    Timeout,
    #[error("{0}")]
    Server(ServerError),
}

#[derive(Clone)]
pub struct ZkClient {
    inner: Arc<Inner>,
}

struct Inner {
    addrs: Vec<String>,
    timeout: Duration,
    conn: Mutex<Option<TcpStream>>,
}

/// `zookeeper.connect` syntax: `host:port[,host:port...][/chroot]`; the chroot is ignored.
fn parse_connect(addr: &str) -> Vec<String> {
    let hosts = addr.split('/').next().unwrap_or_default();
    hosts
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

async fn open(addrs: &[String]) -> Result<TcpStream, ZkError> {
    let mut last = None;
    for a in addrs {
        match TcpStream::connect(a.as_str()).await {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => ZkError::Io(e),
        None => ZkError::Protocol("no zookeeper-lite address given".into()),
    })
}

async fn exchange(stream: &mut TcpStream, req: &Request) -> Result<Response, ZkError> {
    let frame = encode_frame(req).map_err(|e| ZkError::Protocol(e.to_string()))?;
    stream.write_all(&frame).await?;
    let mut header = [0u8; FRAME_HEADER_BYTES];
    stream.read_exact(&mut header).await?;
    let len = frame_body_len(header).map_err(|e| ZkError::Protocol(e.to_string()))?;
    let mut body = Vec::new();
    let n = (&mut *stream)
        .take(len as u64)
        .read_to_end(&mut body)
        .await?;
    if n < len {
        return Err(ZkError::Protocol(format!(
            "connection closed after {n} of {len} bytes of a response"
        )));
    }
    decode_body(&body).map_err(|e| ZkError::Protocol(e.to_string()))
}

/// Whether a kept connection is still usable: between exchanges nothing may be readable, so
/// end-of-stream (the server closed or died) or stray bytes both mean "open a new one". Peeking
/// needs the std socket; the round trip through it is cheap next to a controller request.
fn still_open(stream: TcpStream) -> Option<TcpStream> {
    let std = stream.into_std().ok()?;
    let mut byte = [0u8; 1];
    match std.peek(&mut byte) {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => TcpStream::from_std(std).ok(),
        _ => None,
    }
}

fn unexpected(r: Response) -> ZkError {
    ZkError::Protocol(format!("unexpected response: {r:?}"))
}

impl ZkClient {
    /// Connects to the first reachable address of `addr` within `timeout`, which also bounds
    /// every later call.
    pub async fn connect(addr: &str, timeout: Duration) -> Result<Self, ZkError> {
        let addrs = parse_connect(addr);
        let stream = tokio::time::timeout(timeout, open(&addrs))
            .await
            .map_err(|_| ZkError::Timeout)??;
        Ok(ZkClient {
            inner: Arc::new(Inner {
                addrs,
                timeout,
                conn: Mutex::new(Some(stream)),
            }),
        })
    }

    async fn call(&self, req: Request) -> Result<Response, ZkError> {
        let mut conn = self.inner.conn.lock().await;
        let result = tokio::time::timeout(self.inner.timeout, async {
            // A kept connection may have died while idle (zookeeper-lite restarted). Reads are
            // safe to send again on a fresh one; changes are not (the first may have landed),
            // so those report the error and only the next call reconnects.
            let may_retry = conn.is_some()
                && matches!(
                    req,
                    Request::Metadata
                        | Request::WatchMetadata { .. }
                        | Request::FetchOffsets { .. }
                        | Request::ListOffsetGroups
                        | Request::GroupGeneration { .. }
                        // Both state whole config sets, so landing twice is landing once.
                        | Request::AlterTopicConfigs { .. }
                        | Request::AlterBrokerConfigs { .. }
                );
            let first = Self::exchange_on(&mut conn, &self.inner.addrs, &req).await;
            match first {
                Err(ZkError::Io(_) | ZkError::Protocol(_)) if may_retry => {
                    *conn = None;
                    Self::exchange_on(&mut conn, &self.inner.addrs, &req).await
                }
                other => other,
            }
        })
        .await
        .unwrap_or(Err(ZkError::Timeout));
        match result {
            Ok(Response::Error { error }) => Err(ZkError::Server(error)),
            Ok(r) => Ok(r),
            Err(e) => {
                // Mid-exchange failure: a late answer would be read as the next one's.
                *conn = None;
                Err(e)
            }
        }
    }

    async fn exchange_on(
        conn: &mut Option<TcpStream>,
        addrs: &[String],
        req: &Request,
    ) -> Result<Response, ZkError> {
        // Sending a change on a connection whose server is gone would fail after the fact and
        // leave us unsure whether it landed; a connection the peer already closed is replaced
        // before anything is sent.
        let kept = conn.take().and_then(still_open);
        let stream = match kept {
            Some(s) => conn.insert(s),
            None => conn.insert(open(addrs).await?),
        };
        exchange(stream, req).await
    }

    pub async fn register_broker(
        &self,
        broker: BrokerInfo,
        session_timeout_ms: u64,
    ) -> Result<SessionId, ZkError> {
        match self
            .call(Request::RegisterBroker {
                broker,
                session_timeout_ms,
            })
            .await?
        {
            Response::Registered { session } => Ok(session),
            r => Err(unexpected(r)),
        }
    }

    pub async fn heartbeat(&self, broker_id: BrokerId, session: SessionId) -> Result<u64, ZkError> {
        match self.call(Request::Heartbeat { broker_id, session }).await? {
            Response::Heartbeat { version } => Ok(version),
            r => Err(unexpected(r)),
        }
    }

    pub async fn unregister_broker(
        &self,
        broker_id: BrokerId,
        session: SessionId,
    ) -> Result<(), ZkError> {
        match self
            .call(Request::UnregisterBroker { broker_id, session })
            .await?
        {
            Response::Unregistered => Ok(()),
            r => Err(unexpected(r)),
        }
    }

    pub async fn metadata(&self) -> Result<ClusterMetadata, ZkError> {
        match self.call(Request::Metadata).await? {
            Response::Metadata { metadata } => Ok(metadata),
            r => Err(unexpected(r)),
        }
    }

    /// The metadata once its version is above `after_version`, or the current one after
    /// `max_wait` (this client's timeout must be longer).
    pub async fn watch_metadata(
        &self,
        after_version: u64,
        max_wait: Duration,
    ) -> Result<ClusterMetadata, ZkError> {
        let max_wait_ms = u64::try_from(max_wait.as_millis()).unwrap_or(u64::MAX);
        match self
            .call(Request::WatchMetadata {
                after_version,
                max_wait_ms,
            })
            .await?
        {
            Response::Metadata { metadata } => Ok(metadata),
            r => Err(unexpected(r)),
        }
    }

    /// AlterPartition: the leader `broker_id` sets the ISR of `topic`-`partition` to `new_isr`;
    /// answers the partition as it now is.
    #[allow(clippy::too_many_arguments)]
    pub async fn alter_partition(
        &self,
        broker_id: BrokerId,
        session: SessionId,
        topic: &str,
        partition: i32,
        leader_epoch: LeaderEpoch,
        partition_epoch: i32,
        new_isr: Vec<BrokerId>,
    ) -> Result<PartitionInfo, ZkError> {
        match self
            .call(Request::AlterPartition {
                broker_id,
                session,
                topic: topic.to_string(),
                partition,
                leader_epoch,
                partition_epoch,
                new_isr,
            })
            .await?
        {
            Response::PartitionAltered { partition } => Ok(partition),
            r => Err(unexpected(r)),
        }
    }

    /// ElectLeaders over `partitions` (all when `None`).
    /// AlterPartitionReassignments: one result per target, in order (`None` = accepted).
    pub async fn alter_partition_reassignments(
        &self,
        targets: Vec<ReassignmentTarget>,
    ) -> Result<Vec<PartitionResult>, ZkError> {
        match self
            .call(Request::AlterPartitionReassignments { targets })
            .await?
        {
            Response::ReassignmentsAltered { results } => Ok(results),
            r => Err(unexpected(r)),
        }
    }

    /// ListPartitionReassignments among `partitions` (all when `None`).
    pub async fn list_partition_reassignments(
        &self,
        partitions: Option<Vec<TopicPartition>>,
    ) -> Result<Vec<OngoingReassignment>, ZkError> {
        match self
            .call(Request::ListPartitionReassignments { partitions })
            .await?
        {
            Response::Reassignments { reassignments } => Ok(reassignments),
            r => Err(unexpected(r)),
        }
    }

    /// AllocateProducerIds: a block of producer ids for broker `broker_id` holding `session`,
    /// as `(first, count)`.
    pub async fn allocate_producer_ids(
        &self,
        broker_id: BrokerId,
        session: SessionId,
    ) -> Result<(i64, i32), ZkError> {
        match self
            .call(Request::AllocateProducerIds { broker_id, session })
            .await?
        {
            Response::ProducerIdsAllocated { first, count } => Ok((first, count)),
            r => Err(unexpected(r)),
        }
    }

    pub async fn elect_leaders(
        &self,
        election: ElectionType,
        partitions: Option<Vec<TopicPartition>>,
    ) -> Result<Vec<ElectionResult>, ZkError> {
        match self
            .call(Request::ElectLeaders {
                election,
                partitions,
            })
            .await?
        {
            Response::LeadersElected { results } => Ok(results),
            r => Err(unexpected(r)),
        }
    }

    /// ControlledShutdown: answers the partitions the broker still leads.
    pub async fn controlled_shutdown(
        &self,
        broker_id: BrokerId,
        session: SessionId,
    ) -> Result<Vec<TopicPartition>, ZkError> {
        match self
            .call(Request::ControlledShutdown { broker_id, session })
            .await?
        {
            Response::ShutdownPrepared { remaining } => Ok(remaining),
            r => Err(unexpected(r)),
        }
    }

    pub async fn create_topic(&self, t: NewTopic) -> Result<TopicInfo, ZkError> {
        match self.call(Request::CreateTopic { topic: t }).await? {
            Response::TopicCreated { topic } => Ok(topic),
            r => Err(unexpected(r)),
        }
    }

    pub async fn delete_topic(&self, name: &str) -> Result<(), ZkError> {
        match self
            .call(Request::DeleteTopic {
                name: name.to_string(),
            })
            .await?
        {
            Response::TopicDeleted => Ok(()),
            r => Err(unexpected(r)),
        }
    }

    pub async fn create_partitions(
        &self,
        name: &str,
        total: i32,
        assignment: Option<Vec<Vec<BrokerId>>>,
    ) -> Result<TopicInfo, ZkError> {
        match self
            .call(Request::CreatePartitions {
                name: name.to_string(),
                total,
                assignment,
            })
            .await?
        {
            Response::PartitionsCreated { topic } => Ok(topic),
            r => Err(unexpected(r)),
        }
    }
}

fn topic_partitions(partitions: Vec<(String, i32)>) -> Vec<TopicPartition> {
    partitions
        .into_iter()
        .map(|(topic, partition)| TopicPartition { topic, partition })
        .collect()
}

/// Committed offsets of consumer groups (what Kafka keeps in `__consumer_offsets`).
impl ZkClient {
    /// Stores offsets for a group. `generation` is the group generation of the committing member
    /// (-1 for an admin/simple commit that is not fenced). A commit whose generation is >= 0 and
    /// lower than the highest generation already recorded for the group is refused with
    /// `ZkErrorCode::IllegalGeneration` and stores nothing (a stale member cannot overwrite a
    /// newer commit). Returns per-partition success (partitions of topics that do not exist ->
    /// `ZkErrorCode::UnknownTopic` for that entry; the others are stored), in request order.
    pub async fn commit_offsets(
        &self,
        group: &str,
        generation: i32,
        offsets: Vec<CommittedOffset>,
    ) -> Result<Vec<(String, i32, Option<ServerError>)>, ZkError> {
        match self
            .call(Request::CommitOffsets {
                group: group.to_string(),
                generation,
                offsets,
            })
            .await?
        {
            Response::OffsetsCommitted { results } => Ok(results
                .into_iter()
                .map(|r| (r.topic, r.partition, r.error))
                .collect()),
            r => Err(unexpected(r)),
        }
    }

    /// Committed offsets of a group: all of them (`None`, sorted by topic and partition) or the
    /// listed partitions (in the order asked; missing ones omitted). An unknown group has none.
    pub async fn fetch_offsets(
        &self,
        group: &str,
        partitions: Option<Vec<(String, i32)>>,
    ) -> Result<Vec<CommittedOffset>, ZkError> {
        match self
            .call(Request::FetchOffsets {
                group: group.to_string(),
                partitions: partitions.map(topic_partitions),
            })
            .await?
        {
            Response::Offsets { offsets } => Ok(offsets),
            r => Err(unexpected(r)),
        }
    }

    /// Groups that have committed offsets (for ListGroups of empty groups), sorted.
    pub async fn list_offset_groups(&self) -> Result<Vec<String>, ZkError> {
        match self.call(Request::ListOffsetGroups).await? {
            Response::OffsetGroups { groups } => Ok(groups),
            r => Err(unexpected(r)),
        }
    }

    /// The highest generation recorded for a group by its fenced commits, -1 if none. A
    /// coordinator that lost its in-memory groups (a broker restart) starts the group's next
    /// generation above this one, or its members' commits would be refused as stale.
    pub async fn group_generation(&self, group: &str) -> Result<i32, ZkError> {
        match self
            .call(Request::GroupGeneration {
                group: group.to_string(),
            })
            .await?
        {
            Response::GroupGeneration { generation } => Ok(generation),
            r => Err(unexpected(r)),
        }
    }

    /// Forgets a group: its offsets and its recorded generation. `ZkErrorCode::UnknownGroup` if
    /// nothing is recorded for it.
    pub async fn delete_group_offsets(&self, group: &str) -> Result<(), ZkError> {
        match self
            .call(Request::DeleteGroupOffsets {
                group: group.to_string(),
            })
            .await?
        {
            Response::GroupOffsetsDeleted => Ok(()),
            r => Err(unexpected(r)),
        }
    }

    /// Deletes the listed partitions' offsets of a group (those it does not have are ignored).
    /// `ZkErrorCode::UnknownGroup` if nothing is recorded for the group.
    pub async fn delete_offsets(
        &self,
        group: &str,
        partitions: Vec<(String, i32)>,
    ) -> Result<(), ZkError> {
        match self
            .call(Request::DeleteOffsets {
                group: group.to_string(),
                partitions: topic_partitions(partitions),
            })
            .await?
        {
            Response::OffsetsDeleted => Ok(()),
            r => Err(unexpected(r)),
        }
    }

    /// Replaces topic `name`'s config overrides with `configs` (the whole set) and returns the
    /// topic as it now is (or, with `validate_only`, would be). `UnknownTopic` if it does not
    /// exist, `InvalidConfig` (`Unknown topic config name: x`) for a name Kafka's topics lack.
    pub async fn alter_topic_configs(
        &self,
        name: &str,
        configs: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<TopicInfo, ZkError> {
        match self
            .call(Request::AlterTopicConfigs {
                name: name.to_string(),
                configs,
                validate_only,
            })
            .await?
        {
            Response::TopicConfigsAltered { topic } => Ok(topic),
            r => Err(unexpected(r)),
        }
    }

    /// Replaces the dynamic configs of broker entity `entity` (`""` for the cluster default,
    /// else a broker id) with `configs`; an empty set removes them all.
    pub async fn alter_broker_configs(
        &self,
        entity: &str,
        configs: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<(), ZkError> {
        match self
            .call(Request::AlterBrokerConfigs {
                entity: entity.to_string(),
                configs,
                validate_only,
            })
            .await?
        {
            Response::BrokerConfigsAltered => Ok(()),
            r => Err(unexpected(r)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_string_drops_chroot_and_splits_hosts() {
        assert_eq!(parse_connect("localhost:2181"), ["localhost:2181"]);
        assert_eq!(
            parse_connect("a:1, b:2/kafka"),
            ["a:1".to_string(), "b:2".to_string()]
        );
    }
}
