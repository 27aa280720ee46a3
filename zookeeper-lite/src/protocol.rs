//! The controller protocol: the shared types, one request/response pair per operation, and the
//! frame codec as pure functions over bytes (the socket code in `server` and `client` calls them).
//!
//! A frame is a u32 big-endian length followed by that many bytes of JSON. See PROTOCOL.md.

use std::collections::BTreeMap;
use std::fmt;

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use thiserror::Error;

pub use common::ids::{BrokerId, LeaderEpoch};
pub type SessionId = u64;

/// Largest frame body either side accepts; checked before anything is allocated.
pub const MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;
/// Size of the length prefix.
pub const FRAME_HEADER_BYTES: usize = 4;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct BrokerInfo {
    pub id: BrokerId,
    pub host: String,
    pub port: u16,
    #[serde(default)]
    pub rack: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PartitionInfo {
    pub partition: i32,
    pub replicas: Vec<BrokerId>,
    /// -1 when the partition has no leader.
    pub leader: BrokerId,
    pub leader_epoch: LeaderEpoch,
    /// In-sync replicas, in replica order. Never empty once the partition had a leader: when
    /// the last in-sync replica dies it stays listed (with no leader), as Kafka keeps it, so
    /// that only it can lead again.
    pub isr: Vec<BrokerId>,
    /// Bumped on every change of `leader` or `isr` (Kafka's partition epoch, the znode version
    /// of `/brokers/topics/<t>/partitions/<p>/state`): an AlterPartition must name the current
    /// one, so a leader never overwrites a change it has not seen.
    #[serde(default)]
    pub partition_epoch: i32,
    /// Replicas a reassignment in progress is adding (KIP-455, Kafka's `addingReplicas`):
    /// listed in `replicas` too, they join the ISR by catching up. Sorted; empty when no
    /// reassignment is in progress (and in journals written before reassignments existed).
    #[serde(default)]
    pub adding_replicas: Vec<BrokerId>,
    /// Replicas a reassignment in progress is removing (Kafka's `removingReplicas`): still
    /// listed in `replicas` (after the target ones) until the reassignment completes. Sorted.
    #[serde(default)]
    pub removing_replicas: Vec<BrokerId>,
}

impl PartitionInfo {
    /// Whether a partition reassignment is in progress (Kafka's
    /// `PartitionReassignmentReplicas.isReassignmentInProgress`).
    pub fn is_reassigning(&self) -> bool {
        !self.adding_replicas.is_empty() || !self.removing_replicas.is_empty()
    }

    /// The replicas a reassignment in progress moves to (`replicas` without the removing
    /// ones, Kafka's `ReplicaAssignment.targetReplicas`), or the replicas when none is in
    /// progress.
    pub fn target_replicas(&self) -> Vec<BrokerId> {
        self.replicas
            .iter()
            .copied()
            .filter(|b| !self.removing_replicas.contains(b))
            .collect()
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TopicInfo {
    pub name: String,
    pub id: uuid::Uuid,
    /// Overrides only; defaults are the broker's business.
    #[serde(default)]
    pub configs: BTreeMap<String, String>,
    /// Sorted by partition, index == partition.
    pub partitions: Vec<PartitionInfo>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ClusterMetadata {
    /// Increases on every change (brokers and topics), also across restarts.
    pub version: u64,
    /// The cluster id, made once by zookeeper-lite and kept across restarts (Kafka's
    /// `/cluster/id`): 22 characters of URL-safe base64. Empty only from a controller that
    /// predates cluster ids.
    #[serde(default)]
    pub cluster_id: String,
    /// Live brokers, sorted by id.
    pub brokers: Vec<BrokerInfo>,
    pub topics: BTreeMap<String, TopicInfo>,
    /// Dynamic broker configs (Kafka's `/config/brokers/<entity>` znodes): entity
    /// [`BROKER_DEFAULT_ENTITY`] (`""`) holds the cluster-wide defaults, `"0"`, `"1"` ... a single
    /// broker's overrides. Entities without configs are absent.
    #[serde(default)]
    pub broker_configs: BTreeMap<String, BTreeMap<String, String>>,
}

/// The entity name of the cluster-wide dynamic broker defaults (`--entity-default`).
pub const BROKER_DEFAULT_ENTITY: &str = "";

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct NewTopic {
    pub name: String,
    pub num_partitions: i32,
    pub replication_factor: i16,
    /// Index = partition. When set, `num_partitions` and `replication_factor` are ignored.
    #[serde(default)]
    pub replica_assignment: Option<Vec<Vec<BrokerId>>>,
    #[serde(default)]
    pub configs: BTreeMap<String, String>,
    #[serde(default)]
    pub validate_only: bool,
}

/// One committed offset of a consumer group, as the broker's OffsetCommit/OffsetFetch carry it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CommittedOffset {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// -1 when unknown.
    pub leader_epoch: LeaderEpoch,
    /// `None` and `Some("")` are different answers in Kafka's OffsetFetch; both are kept.
    #[serde(default)]
    pub metadata: Option<String>,
    pub commit_timestamp_ms: i64,
}

/// One partition of one topic (`common::topic_partition`), serialised `{"topic", "partition"}`.
pub use common::topic_partition::TopicPartition;

/// The outcome of one partition of an offset commit; `error` is `None` when it was stored.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PartitionResult {
    pub topic: String,
    pub partition: i32,
    #[serde(default)]
    pub error: Option<ServerError>,
}

/// Errors the controller answers with; each maps to a Kafka error code in the broker.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ZkErrorCode {
    BrokerIdInUse,
    SessionExpired,
    TopicAlreadyExists,
    UnknownTopic,
    InvalidReplicationFactor,
    InvalidPartitions,
    InvalidReplicaAssignment,
    InvalidTopic,
    InvalidConfig,
    InvalidRequest,
    Internal,
    /// An offset commit from a generation older than the group's latest one.
    IllegalGeneration,
    /// A group with no committed offsets (nothing recorded for it).
    UnknownGroup,
    /// AlterPartition from a leader epoch older than the partition's (FENCED_LEADER_EPOCH).
    FencedLeaderEpoch,
    /// AlterPartition naming a partition epoch that is not the current one
    /// (INVALID_UPDATE_VERSION).
    InvalidUpdateVersion,
    /// AlterPartition from a broker that does not lead the partition (NOT_LEADER_OR_FOLLOWER).
    NotLeader,
    /// AlterPartition adding a replica that is not live or is shutting down (INELIGIBLE_REPLICA).
    IneligibleReplica,
    /// ElectLeaders: the partition already has the leader asked for (ELECTION_NOT_NEEDED).
    ElectionNotNeeded,
    /// ElectLeaders (preferred): the preferred replica is not live or not in the ISR
    /// (PREFERRED_LEADER_NOT_AVAILABLE).
    PreferredLeaderNotAvailable,
    /// ElectLeaders (unclean): no live replica to elect (ELIGIBLE_LEADERS_NOT_AVAILABLE).
    EligibleLeadersNotAvailable,
    /// AlterPartitionReassignments cancelling a partition that is not being reassigned
    /// (NO_REASSIGNMENT_IN_PROGRESS).
    NoReassignmentInProgress,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct ServerError {
    pub code: ZkErrorCode,
    pub message: String,
}

impl ServerError {
    pub fn new(code: ZkErrorCode, message: impl Into<String>) -> Self {
        ServerError {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for ZkErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Kafka's `ElectionType`: the preferred replica (0), or any live replica when the ISR has none
/// (1, "unclean").
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ElectionType {
    Preferred,
    Unclean,
}

/// The outcome of one partition of an election; `error` is `None` when a leader was elected.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ElectionResult {
    pub topic: String,
    pub partition: i32,
    #[serde(default)]
    pub error: Option<ServerError>,
}

/// One partition of an AlterPartitionReassignments: its new replicas, or `None` to cancel the
/// reassignment in progress (Kafka's `ReassignablePartition`, whose replicas are null to
/// cancel).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ReassignmentTarget {
    pub topic: String,
    pub partition: i32,
    #[serde(default)]
    pub replicas: Option<Vec<BrokerId>>,
}

/// A reassignment in progress, as ListPartitionReassignments reports it (Kafka's
/// `OngoingPartitionReassignment`): every replica (target and removing), and the adding and
/// removing ones.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct OngoingReassignment {
    pub topic: String,
    pub partition: i32,
    pub replicas: Vec<BrokerId>,
    pub adding_replicas: Vec<BrokerId>,
    pub removing_replicas: Vec<BrokerId>,
}

/// One request per frame; `op` names the operation.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    RegisterBroker {
        broker: BrokerInfo,
        session_timeout_ms: u64,
    },
    Heartbeat {
        broker_id: BrokerId,
        session: SessionId,
    },
    UnregisterBroker {
        broker_id: BrokerId,
        session: SessionId,
    },
    Metadata,
    CreateTopic {
        topic: NewTopic,
    },
    DeleteTopic {
        name: String,
    },
    CreatePartitions {
        name: String,
        total: i32,
        #[serde(default)]
        assignment: Option<Vec<Vec<BrokerId>>>,
    },
    /// `generation` -1 (or any negative) is an admin commit, which is not fenced.
    CommitOffsets {
        group: String,
        generation: i32,
        offsets: Vec<CommittedOffset>,
    },
    /// All of the group's offsets when `partitions` is absent or null.
    FetchOffsets {
        group: String,
        #[serde(default)]
        partitions: Option<Vec<TopicPartition>>,
    },
    ListOffsetGroups,
    GroupGeneration {
        group: String,
    },
    DeleteGroupOffsets {
        group: String,
    },
    DeleteOffsets {
        group: String,
        partitions: Vec<TopicPartition>,
    },
    /// Replaces a topic's config overrides with `configs` (the whole set, not a delta).
    AlterTopicConfigs {
        name: String,
        configs: BTreeMap<String, String>,
        #[serde(default)]
        validate_only: bool,
    },
    /// Replaces the dynamic configs of a broker entity (`""` = cluster default, else a broker
    /// id) with `configs` (the whole set; empty removes the entity).
    AlterBrokerConfigs {
        entity: String,
        configs: BTreeMap<String, String>,
        #[serde(default)]
        validate_only: bool,
    },
    /// Kafka's AlterPartition (KIP-497): the leader of a partition asks to change its ISR. It
    /// lands only if `broker_id` holds `session`, leads the partition, and names the current
    /// `leader_epoch` and `partition_epoch`; replicas added must be live.
    AlterPartition {
        broker_id: BrokerId,
        session: SessionId,
        topic: String,
        partition: i32,
        leader_epoch: LeaderEpoch,
        partition_epoch: i32,
        new_isr: Vec<BrokerId>,
    },
    /// Answers `metadata` once its version is above `after_version`, or after `max_wait_ms`
    /// with the current one: how brokers hear of leader and ISR changes at once.
    WatchMetadata {
        after_version: u64,
        max_wait_ms: u64,
    },
    /// Kafka's ElectLeaders: every partition when `partitions` is absent or null.
    ElectLeaders {
        election: ElectionType,
        #[serde(default)]
        partitions: Option<Vec<TopicPartition>>,
    },
    /// Kafka's ControlledShutdown: moves the leadership of the broker's partitions to other
    /// in-sync replicas and takes it out of every ISR; it is not elected again until it
    /// registers anew.
    ControlledShutdown {
        broker_id: BrokerId,
        session: SessionId,
    },
    /// Kafka's AlterPartitionReassignments (KIP-455): starts, replaces or (with `replicas`
    /// null) cancels the reassignment of each listed partition. Each partition succeeds or
    /// fails on its own; the answer has one result per target, in request order.
    AlterPartitionReassignments {
        targets: Vec<ReassignmentTarget>,
    },
    /// Kafka's ListPartitionReassignments: the reassignments in progress among `partitions`
    /// (every partition when absent or null). Unknown partitions are left out.
    ListPartitionReassignments {
        #[serde(default)]
        partitions: Option<Vec<TopicPartition>>,
    },
    /// Kafka's AllocateProducerIds (KIP-730; with ZooKeeper, the `/latest_producer_id_block`
    /// znode): a block of [`PRODUCER_ID_BLOCK_SIZE`] producer ids no broker has had, for the
    /// broker holding `session`. Blocks are journaled before the answer, so they never repeat,
    /// across restarts of zookeeper-lite and of brokers.
    AllocateProducerIds {
        broker_id: BrokerId,
        session: SessionId,
    },
}

/// Producer ids per [`Request::AllocateProducerIds`] block (Kafka's
/// `ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE`).
pub const PRODUCER_ID_BLOCK_SIZE: i32 = 1000;

/// One response per request, in request order; `result` names the kind.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Response {
    Registered {
        session: SessionId,
    },
    Heartbeat {
        version: u64,
    },
    Unregistered,
    Metadata {
        metadata: ClusterMetadata,
    },
    TopicCreated {
        topic: TopicInfo,
    },
    TopicDeleted,
    PartitionsCreated {
        topic: TopicInfo,
    },
    OffsetsCommitted {
        results: Vec<PartitionResult>,
    },
    Offsets {
        offsets: Vec<CommittedOffset>,
    },
    OffsetGroups {
        groups: Vec<String>,
    },
    GroupGeneration {
        generation: i32,
    },
    GroupOffsetsDeleted,
    OffsetsDeleted,
    TopicConfigsAltered {
        topic: TopicInfo,
    },
    BrokerConfigsAltered,
    PartitionAltered {
        partition: PartitionInfo,
    },
    LeadersElected {
        results: Vec<ElectionResult>,
    },
    /// The partitions the broker still leads (no other in-sync replica could take them).
    ShutdownPrepared {
        remaining: Vec<TopicPartition>,
    },
    /// One result per reassignment target, in request order (`error` null = accepted).
    ReassignmentsAltered {
        results: Vec<PartitionResult>,
    },
    /// The reassignments in progress, sorted by topic and partition.
    Reassignments {
        reassignments: Vec<OngoingReassignment>,
    },
    /// Producer ids `first` to `first + count - 1` are the asking broker's.
    ProducerIdsAllocated {
        first: i64,
        count: i32,
    },
    Error {
        error: ServerError,
    },
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("frame length 0 is not allowed")]
    Empty,
    #[error("frame length {0} exceeds the maximum of {MAX_FRAME_BYTES} bytes")]
    TooLarge(u64),
    #[error("invalid frame body: {0}")]
    Body(String),
}

/// Encodes `msg` as one frame (length prefix + JSON).
pub fn encode_frame<T: Serialize>(msg: &T) -> Result<Vec<u8>, FrameError> {
    let body = serde_json::to_vec(msg).map_err(|e| FrameError::Body(e.to_string()))?;
    if body.len() > MAX_FRAME_BYTES {
        return Err(FrameError::TooLarge(body.len() as u64));
    }
    let mut out = Vec::with_capacity(FRAME_HEADER_BYTES + body.len());
    // Cannot truncate: checked against MAX_FRAME_BYTES (< u32::MAX) above.
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Validates a length prefix; callers allocate the body only after this says yes.
pub fn frame_body_len(header: [u8; FRAME_HEADER_BYTES]) -> Result<usize, FrameError> {
    let len = u32::from_be_bytes(header) as u64;
    if len == 0 {
        return Err(FrameError::Empty);
    }
    if len > MAX_FRAME_BYTES as u64 {
        return Err(FrameError::TooLarge(len));
    }
    Ok(len as usize)
}

/// Incremental decoder over a receive buffer: `Ok(None)` means more bytes are needed,
/// `Ok(Some((body, consumed)))` is one complete frame body and the bytes it used.
pub fn decode_frame(buf: &[u8]) -> Result<Option<(&[u8], usize)>, FrameError> {
    let Some(header) = buf.get(..FRAME_HEADER_BYTES) else {
        return Ok(None);
    };
    let mut h = [0u8; FRAME_HEADER_BYTES];
    h.copy_from_slice(header);
    let len = frame_body_len(h)?;
    let end = FRAME_HEADER_BYTES + len;
    match buf.get(FRAME_HEADER_BYTES..end) {
        Some(body) => Ok(Some((body, end))),
        None => Ok(None),
    }
}

/// Parses a frame body; unknown ops and malformed JSON are both `FrameError::Body`.
pub fn decode_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, FrameError> {
    serde_json::from_slice(body).map_err(|e| FrameError::Body(e.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trips_through_a_frame() {
        let req = Request::CreatePartitions {
            name: "t".into(),
            total: 3,
            assignment: Some(vec![vec![BrokerId(1)], vec![BrokerId(2)]]),
        };
        let frame = encode_frame(&req).unwrap();
        let (body, used) = decode_frame(&frame).unwrap().unwrap();
        assert_eq!(used, frame.len());
        assert_eq!(decode_body::<Request>(body).unwrap(), req);
    }

    #[test]
    fn partial_frame_asks_for_more() {
        let frame = encode_frame(&Request::Metadata).unwrap();
        for cut in 0..frame.len() {
            assert_eq!(decode_frame(&frame[..cut]).unwrap(), None);
        }
    }

    #[test]
    fn zero_and_oversize_lengths_are_rejected_before_allocating() {
        assert_eq!(frame_body_len([0, 0, 0, 0]), Err(FrameError::Empty));
        assert_eq!(
            frame_body_len([0x7f, 0xff, 0xff, 0xff]),
            Err(FrameError::TooLarge(0x7fff_ffff))
        );
        assert_eq!(
            decode_frame(&[0xff, 0xff, 0xff, 0xff, 1]),
            Err(FrameError::TooLarge(0xffff_ffff))
        );
        assert!(frame_body_len(16u32.pow(6).to_be_bytes()).is_ok());
        assert!(frame_body_len((16u32.pow(6) + 1).to_be_bytes()).is_err());
    }

    #[test]
    fn unknown_op_and_bad_json_are_body_errors() {
        assert!(matches!(
            decode_body::<Request>(br#"{"op":"launch_missiles"}"#),
            Err(FrameError::Body(m)) if m.contains("unknown variant")
        ));
        assert!(decode_body::<Request>(b"\xff\x00garbage").is_err());
        assert_eq!(
            decode_body::<Request>(br#"{"op":"metadata"}"#).unwrap(),
            Request::Metadata
        );
    }

    /// Deterministic pseudo-random bytes (xorshift), so a failure can be replayed.
    fn noise(seed: u32, n: usize) -> Vec<u8> {
        let mut x = seed.max(1);
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoder() {
        for seed in 1..2000 {
            let mut bytes = noise(seed, (seed % 64) as usize);
            if seed % 3 == 0 && bytes.len() >= 4 {
                // Plausible lengths too, so bodies reach the JSON decoder.
                let n = (bytes.len() - 4) as u32;
                bytes[..4].copy_from_slice(&n.to_be_bytes());
            }
            if let Ok(Some((body, used))) = decode_frame(&bytes) {
                assert!(used <= bytes.len());
                let _ = decode_body::<Request>(body);
                let _ = decode_body::<Response>(body);
            }
        }
    }

    #[test]
    fn optional_fields_may_be_omitted() {
        let req: Request = decode_body(
            br#"{"op":"create_topic","topic":{"name":"a","num_partitions":1,"replication_factor":1}}"#,
        )
        .unwrap();
        let Request::CreateTopic { topic } = req else {
            panic!("wrong op")
        };
        assert!(topic.configs.is_empty() && topic.replica_assignment.is_none());
        assert!(!topic.validate_only);
    }

    #[test]
    fn commit_metadata_null_and_empty_stay_apart_on_the_wire() {
        let o = |metadata: Option<&str>| CommittedOffset {
            topic: "t".into(),
            partition: 0,
            offset: 4,
            leader_epoch: common::ids::LeaderEpoch::UNKNOWN,
            metadata: metadata.map(String::from),
            commit_timestamp_ms: 0,
        };
        let req = Request::CommitOffsets {
            group: "g".into(),
            generation: -1,
            offsets: vec![o(None), o(Some("")), o(Some("m"))],
        };
        let frame = encode_frame(&req).unwrap();
        let (body, _) = decode_frame(&frame).unwrap().unwrap();
        assert_eq!(decode_body::<Request>(body).unwrap(), req);
        // An omitted `metadata` reads as null; an omitted `partitions` as "all".
        let req: Request = decode_body(br#"{"op":"fetch_offsets","group":"g"}"#).unwrap();
        assert_eq!(
            req,
            Request::FetchOffsets {
                group: "g".into(),
                partitions: None
            }
        );
        let o2: CommittedOffset = decode_body(
            br#"{"topic":"t","partition":0,"offset":4,"leader_epoch":-1,"commit_timestamp_ms":0}"#,
        )
        .unwrap();
        assert_eq!(o2, o(None));
    }
}
