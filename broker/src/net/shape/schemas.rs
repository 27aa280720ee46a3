//! Request schemas: the fields the protocol crate's decoder reads, per request type and version.
//!
//! Transcribed (by a one-off script) from Kafka's message JSON, the source kafka-protocol
//! generates its decoders from, restricted to the versions each `Message` lists. The tests in
//! `shape/tests.rs` check every schema against the crate for every listed version: requests
//! generated from the schema must decode with the crate, leave no byte over and re-encode to the
//! same bytes. Versions the crate dropped (KIP-896) are checked against `net::legacy` instead,
//! which must decode every generated request. Field versions are message versions (nested structs are decoded with the
//! request's version); fields outside a message's listed versions are left out.
//!
//! To add an API: copy the fields of `<Name>Request.json` (cross-check the `version >=`
//! conditions in the crate's `src/messages/<name>_request.rs`), list the versions the broker
//! accepts, add the message to `ALL_REQUESTS` and its default request to `default_request` in the
//! tests.

use super::{from, upto, v, Field, Message, Ty, ALL, NONE};
use kafka_protocol::messages::ApiKey;

/// Produce request, versions 0-11 (0-2 carry v0/v1 message sets and no transactional id).
pub mod produce {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::Produce,
        versions: v(0, 11),
        flexible: from(9),
        fields: &[
            Field::new("transactional_id", from(3), Ty::String).nullable(from(3)),
            Field::new("acks", ALL, Ty::Int16),
            Field::new("timeout_ms", ALL, Ty::Int32),
            Field::new(
                "topic_data",
                ALL,
                Ty::Array(&Ty::Struct(TOPIC_PRODUCE_DATA)),
            ),
        ],
    };

    const TOPIC_PRODUCE_DATA: &[Field] = &[
        Field::new("name", ALL, Ty::String),
        Field::new(
            "partition_data",
            ALL,
            Ty::Array(&Ty::Struct(PARTITION_PRODUCE_DATA)),
        ),
    ];

    const PARTITION_PRODUCE_DATA: &[Field] = &[
        Field::new("index", ALL, Ty::Int32),
        Field::new("records", ALL, Ty::Records).nullable(ALL),
    ];
}

/// Fetch request, versions 0-12 (max_bytes from v3, isolation_level from v4).
pub mod fetch {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::Fetch,
        versions: v(0, 12),
        flexible: from(12),
        fields: &[
            Field::new("cluster_id", from(12), Ty::String)
                .nullable(from(12))
                .tagged(0, from(12)),
            Field::new("replica_id", ALL, Ty::Int32),
            Field::new("max_wait_ms", ALL, Ty::Int32),
            Field::new("min_bytes", ALL, Ty::Int32),
            Field::new("max_bytes", from(3), Ty::Int32),
            Field::new("isolation_level", from(4), Ty::Int8),
            Field::new("session_id", from(7), Ty::Int32),
            Field::new("session_epoch", from(7), Ty::Int32),
            Field::new("topics", ALL, Ty::Array(&Ty::Struct(FETCH_TOPIC))),
            Field::new(
                "forgotten_topics_data",
                from(7),
                Ty::Array(&Ty::Struct(FORGOTTEN_TOPIC)),
            ),
            Field::new("rack_id", from(11), Ty::String),
        ],
    };

    const FETCH_TOPIC: &[Field] = &[
        Field::new("topic", ALL, Ty::String),
        Field::new("partitions", ALL, Ty::Array(&Ty::Struct(FETCH_PARTITION))),
    ];

    const FETCH_PARTITION: &[Field] = &[
        Field::new("partition", ALL, Ty::Int32),
        Field::new("current_leader_epoch", from(9), Ty::Int32),
        Field::new("fetch_offset", ALL, Ty::Int64),
        Field::new("last_fetched_epoch", from(12), Ty::Int32),
        Field::new("log_start_offset", from(5), Ty::Int64),
        Field::new("partition_max_bytes", ALL, Ty::Int32),
    ];

    const FORGOTTEN_TOPIC: &[Field] = &[
        Field::new("topic", from(7), Ty::String),
        Field::new("partitions", from(7), Ty::Array(&Ty::Int32)),
    ];
}

/// ListOffsets request, versions 0-9 (v0 adds max_num_offsets per partition).
pub mod list_offsets {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::ListOffsets,
        versions: v(0, 9),
        flexible: from(6),
        fields: &[
            Field::new("replica_id", ALL, Ty::Int32),
            Field::new("isolation_level", from(2), Ty::Int8),
            Field::new("topics", ALL, Ty::Array(&Ty::Struct(LIST_OFFSETS_TOPIC))),
        ],
    };

    const LIST_OFFSETS_TOPIC: &[Field] = &[
        Field::new("name", ALL, Ty::String),
        Field::new(
            "partitions",
            ALL,
            Ty::Array(&Ty::Struct(LIST_OFFSETS_PARTITION)),
        ),
    ];

    const LIST_OFFSETS_PARTITION: &[Field] = &[
        Field::new("partition_index", ALL, Ty::Int32),
        Field::new("current_leader_epoch", from(4), Ty::Int32),
        Field::new("timestamp", ALL, Ty::Int64),
        Field::new("max_num_offsets", v(0, 0), Ty::Int32),
    ];
}

/// Metadata request, versions 0-12.
pub mod metadata {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::Metadata,
        versions: v(0, 12),
        flexible: from(9),
        fields: &[
            Field::new(
                "topics",
                ALL,
                Ty::Array(&Ty::Struct(METADATA_REQUEST_TOPIC)),
            )
            .nullable(from(1)),
            Field::new("allow_auto_topic_creation", from(4), Ty::Bool),
            Field::new("include_cluster_authorized_operations", v(8, 10), Ty::Bool),
            Field::new("include_topic_authorized_operations", from(8), Ty::Bool),
        ],
    };

    const METADATA_REQUEST_TOPIC: &[Field] = &[
        Field::new("topic_id", from(10), Ty::Uuid),
        Field::new("name", ALL, Ty::String).nullable(from(10)),
    ];
}

/// ApiVersions request, versions 0-4.
pub mod api_versions {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::ApiVersions,
        versions: v(0, 4),
        flexible: from(3),
        fields: &[
            Field::new("client_software_name", from(3), Ty::String),
            Field::new("client_software_version", from(3), Ty::String),
        ],
    };
}

/// CreateTopics request, versions 0-7 (validate_only from v1).
pub mod create_topics {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::CreateTopics,
        versions: v(0, 7),
        flexible: from(5),
        fields: &[
            Field::new("topics", ALL, Ty::Array(&Ty::Struct(CREATABLE_TOPIC))),
            Field::new("timeout_ms", ALL, Ty::Int32),
            Field::new("validate_only", from(1), Ty::Bool),
        ],
    };

    const CREATABLE_TOPIC: &[Field] = &[
        Field::new("name", ALL, Ty::String),
        Field::new("num_partitions", ALL, Ty::Int32),
        Field::new("replication_factor", ALL, Ty::Int16),
        Field::new(
            "assignments",
            ALL,
            Ty::Array(&Ty::Struct(CREATABLE_REPLICA_ASSIGNMENT)),
        ),
        Field::new(
            "configs",
            ALL,
            Ty::Array(&Ty::Struct(CREATABLE_TOPIC_CONFIG)),
        ),
    ];

    const CREATABLE_REPLICA_ASSIGNMENT: &[Field] = &[
        Field::new("partition_index", ALL, Ty::Int32),
        Field::new("broker_ids", ALL, Ty::Array(&Ty::Int32)),
    ];

    const CREATABLE_TOPIC_CONFIG: &[Field] = &[
        Field::new("name", ALL, Ty::String),
        Field::new("value", ALL, Ty::String).nullable(ALL),
    ];
}

/// DeleteTopics request, versions 0-6.
pub mod delete_topics {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::DeleteTopics,
        versions: v(0, 6),
        flexible: from(4),
        fields: &[
            Field::new(
                "topics",
                from(6),
                Ty::Array(&Ty::Struct(DELETE_TOPIC_STATE)),
            ),
            Field::new("topic_names", upto(5), Ty::Array(&Ty::String)),
            Field::new("timeout_ms", ALL, Ty::Int32),
        ],
    };

    const DELETE_TOPIC_STATE: &[Field] = &[
        Field::new("name", from(6), Ty::String).nullable(from(6)),
        Field::new("topic_id", from(6), Ty::Uuid),
    ];
}

/// InitProducerId request, versions 0-5.
pub mod init_producer_id {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::InitProducerId,
        versions: v(0, 5),
        flexible: from(2),
        fields: &[
            Field::new("transactional_id", ALL, Ty::String).nullable(ALL),
            Field::new("transaction_timeout_ms", ALL, Ty::Int32),
            Field::new("producer_id", from(3), Ty::Int64),
            Field::new("producer_epoch", from(3), Ty::Int16),
        ],
    };
}

/// DescribeConfigs request, versions 0-4 (include_synonyms from v1).
pub mod describe_configs {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::DescribeConfigs,
        versions: v(0, 4),
        flexible: from(4),
        fields: &[
            Field::new(
                "resources",
                ALL,
                Ty::Array(&Ty::Struct(DESCRIBE_CONFIGS_RESOURCE)),
            ),
            Field::new("include_synonyms", from(1), Ty::Bool),
            Field::new("include_documentation", from(3), Ty::Bool),
        ],
    };

    const DESCRIBE_CONFIGS_RESOURCE: &[Field] = &[
        Field::new("resource_type", ALL, Ty::Int8),
        Field::new("resource_name", ALL, Ty::String),
        Field::new("configuration_keys", ALL, Ty::Array(&Ty::String)).nullable(ALL),
    ];
}

/// CreatePartitions request, versions 0-3.
pub mod create_partitions {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::CreatePartitions,
        versions: v(0, 3),
        flexible: from(2),
        fields: &[
            Field::new(
                "topics",
                ALL,
                Ty::Array(&Ty::Struct(CREATE_PARTITIONS_TOPIC)),
            ),
            Field::new("timeout_ms", ALL, Ty::Int32),
            Field::new("validate_only", ALL, Ty::Bool),
        ],
    };

    const CREATE_PARTITIONS_TOPIC: &[Field] = &[
        Field::new("name", ALL, Ty::String),
        Field::new("count", ALL, Ty::Int32),
        Field::new(
            "assignments",
            ALL,
            Ty::Array(&Ty::Struct(CREATE_PARTITIONS_ASSIGNMENT)),
        )
        .nullable(ALL),
    ];

    const CREATE_PARTITIONS_ASSIGNMENT: &[Field] =
        &[Field::new("broker_ids", ALL, Ty::Array(&Ty::Int32))];
}

/// FindCoordinator request, versions 0-6.
pub mod find_coordinator {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::FindCoordinator,
        versions: v(0, 6),
        flexible: from(3),
        fields: &[
            Field::new("key", upto(3), Ty::String),
            Field::new("key_type", from(1), Ty::Int8),
            Field::new("coordinator_keys", from(4), Ty::Array(&Ty::String)),
        ],
    };
}

/// JoinGroup request, versions 0-9 (reason from v8).
pub mod join_group {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::JoinGroup,
        versions: v(0, 9),
        flexible: from(6),
        fields: &[
            Field::new("group_id", ALL, Ty::String),
            Field::new("session_timeout_ms", ALL, Ty::Int32),
            Field::new("rebalance_timeout_ms", from(1), Ty::Int32),
            Field::new("member_id", ALL, Ty::String),
            Field::new("group_instance_id", from(5), Ty::String).nullable(from(5)),
            Field::new("protocol_type", ALL, Ty::String),
            Field::new(
                "protocols",
                ALL,
                Ty::Array(&Ty::Struct(JOIN_GROUP_REQUEST_PROTOCOL)),
            ),
            Field::new("reason", from(8), Ty::String).nullable(from(8)),
        ],
    };

    const JOIN_GROUP_REQUEST_PROTOCOL: &[Field] = &[
        Field::new("name", ALL, Ty::String),
        Field::new("metadata", ALL, Ty::Bytes),
    ];
}

/// SyncGroup request, versions 0-5.
pub mod sync_group {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::SyncGroup,
        versions: v(0, 5),
        flexible: from(4),
        fields: &[
            Field::new("group_id", ALL, Ty::String),
            Field::new("generation_id", ALL, Ty::Int32),
            Field::new("member_id", ALL, Ty::String),
            Field::new("group_instance_id", from(3), Ty::String).nullable(from(3)),
            Field::new("protocol_type", from(5), Ty::String).nullable(from(5)),
            Field::new("protocol_name", from(5), Ty::String).nullable(from(5)),
            Field::new(
                "assignments",
                ALL,
                Ty::Array(&Ty::Struct(SYNC_GROUP_REQUEST_ASSIGNMENT)),
            ),
        ],
    };

    const SYNC_GROUP_REQUEST_ASSIGNMENT: &[Field] = &[
        Field::new("member_id", ALL, Ty::String),
        Field::new("assignment", ALL, Ty::Bytes),
    ];
}

/// Heartbeat request, versions 0-4.
pub mod heartbeat {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::Heartbeat,
        versions: v(0, 4),
        flexible: from(4),
        fields: &[
            Field::new("group_id", ALL, Ty::String),
            Field::new("generation_id", ALL, Ty::Int32),
            Field::new("member_id", ALL, Ty::String),
            Field::new("group_instance_id", from(3), Ty::String).nullable(from(3)),
        ],
    };
}

/// LeaveGroup request, versions 0-5.
pub mod leave_group {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::LeaveGroup,
        versions: v(0, 5),
        flexible: from(4),
        fields: &[
            Field::new("group_id", ALL, Ty::String),
            Field::new("member_id", upto(2), Ty::String),
            Field::new("members", from(3), Ty::Array(&Ty::Struct(MEMBER_IDENTITY))),
        ],
    };

    const MEMBER_IDENTITY: &[Field] = &[
        Field::new("member_id", from(3), Ty::String),
        Field::new("group_instance_id", from(3), Ty::String).nullable(from(3)),
        Field::new("reason", from(5), Ty::String).nullable(from(5)),
    ];
}

/// OffsetCommit request, versions 0-9 (generation and member from v1, commit_timestamp in v1
/// only).
pub mod offset_commit {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::OffsetCommit,
        versions: v(0, 9),
        flexible: from(8),
        fields: &[
            Field::new("group_id", ALL, Ty::String),
            Field::new("generation_id_or_member_epoch", from(1), Ty::Int32),
            Field::new("member_id", from(1), Ty::String),
            Field::new("group_instance_id", from(7), Ty::String).nullable(from(7)),
            Field::new("retention_time_ms", v(2, 4), Ty::Int64),
            Field::new(
                "topics",
                ALL,
                Ty::Array(&Ty::Struct(OFFSET_COMMIT_REQUEST_TOPIC)),
            ),
        ],
    };

    const OFFSET_COMMIT_REQUEST_TOPIC: &[Field] = &[
        Field::new("name", ALL, Ty::String),
        Field::new(
            "partitions",
            ALL,
            Ty::Array(&Ty::Struct(OFFSET_COMMIT_REQUEST_PARTITION)),
        ),
    ];

    const OFFSET_COMMIT_REQUEST_PARTITION: &[Field] = &[
        Field::new("partition_index", ALL, Ty::Int32),
        Field::new("committed_offset", ALL, Ty::Int64),
        Field::new("committed_leader_epoch", from(6), Ty::Int32),
        Field::new("commit_timestamp", v(1, 1), Ty::Int64),
        Field::new("committed_metadata", ALL, Ty::String).nullable(ALL),
    ];
}

/// OffsetFetch request, versions 0-9 (member id and epoch per group from v9).
pub mod offset_fetch {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::OffsetFetch,
        versions: v(0, 9),
        flexible: from(6),
        fields: &[
            Field::new("group_id", upto(7), Ty::String),
            Field::new(
                "topics",
                upto(7),
                Ty::Array(&Ty::Struct(OFFSET_FETCH_REQUEST_TOPIC)),
            )
            .nullable(v(2, 7)),
            Field::new(
                "groups",
                from(8),
                Ty::Array(&Ty::Struct(OFFSET_FETCH_REQUEST_GROUP)),
            ),
            Field::new("require_stable", from(7), Ty::Bool),
        ],
    };

    const OFFSET_FETCH_REQUEST_TOPIC: &[Field] = &[
        Field::new("name", upto(7), Ty::String),
        Field::new("partition_indexes", upto(7), Ty::Array(&Ty::Int32)),
    ];

    const OFFSET_FETCH_REQUEST_GROUP: &[Field] = &[
        Field::new("group_id", from(8), Ty::String),
        Field::new("member_id", from(9), Ty::String).nullable(from(9)),
        Field::new("member_epoch", from(9), Ty::Int32),
        Field::new(
            "topics",
            from(8),
            Ty::Array(&Ty::Struct(OFFSET_FETCH_REQUEST_TOPICS)),
        )
        .nullable(from(8)),
    ];

    const OFFSET_FETCH_REQUEST_TOPICS: &[Field] = &[
        Field::new("name", from(8), Ty::String),
        Field::new("partition_indexes", from(8), Ty::Array(&Ty::Int32)),
    ];
}

/// TxnOffsetCommit request, versions 0-4 (committed leader epoch from v2; generation, member
/// and group instance from v3, KIP-447).
pub mod txn_offset_commit {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::TxnOffsetCommit,
        versions: v(0, 4),
        flexible: from(3),
        fields: &[
            Field::new("transactional_id", ALL, Ty::String),
            Field::new("group_id", ALL, Ty::String),
            Field::new("producer_id", ALL, Ty::Int64),
            Field::new("producer_epoch", ALL, Ty::Int16),
            Field::new("generation_id", from(3), Ty::Int32),
            Field::new("member_id", from(3), Ty::String),
            Field::new("group_instance_id", from(3), Ty::String).nullable(from(3)),
            Field::new(
                "topics",
                ALL,
                Ty::Array(&Ty::Struct(TXN_OFFSET_COMMIT_REQUEST_TOPIC)),
            ),
        ],
    };

    const TXN_OFFSET_COMMIT_REQUEST_TOPIC: &[Field] = &[
        Field::new("name", ALL, Ty::String),
        Field::new(
            "partitions",
            ALL,
            Ty::Array(&Ty::Struct(TXN_OFFSET_COMMIT_REQUEST_PARTITION)),
        ),
    ];

    const TXN_OFFSET_COMMIT_REQUEST_PARTITION: &[Field] = &[
        Field::new("partition_index", ALL, Ty::Int32),
        Field::new("committed_offset", ALL, Ty::Int64),
        Field::new("committed_leader_epoch", from(2), Ty::Int32),
        Field::new("committed_metadata", ALL, Ty::String).nullable(ALL),
    ];
}

/// WriteTxnMarkers request, versions 0-1 (v1 flexible; the broker-to-broker request of the
/// transaction coordinator's marker sender, v0 from coordinators before Kafka 2.8).
pub mod write_txn_markers {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::WriteTxnMarkers,
        versions: v(0, 1),
        flexible: from(1),
        fields: &[Field::new(
            "markers",
            ALL,
            Ty::Array(&Ty::Struct(WRITABLE_TXN_MARKER)),
        )],
    };

    const WRITABLE_TXN_MARKER: &[Field] = &[
        Field::new("producer_id", ALL, Ty::Int64),
        Field::new("producer_epoch", ALL, Ty::Int16),
        Field::new("transaction_result", ALL, Ty::Bool),
        Field::new(
            "topics",
            ALL,
            Ty::Array(&Ty::Struct(WRITABLE_TXN_MARKER_TOPIC)),
        ),
        Field::new("coordinator_epoch", ALL, Ty::Int32),
    ];

    const WRITABLE_TXN_MARKER_TOPIC: &[Field] = &[
        Field::new("name", ALL, Ty::String),
        Field::new("partition_indexes", ALL, Ty::Array(&Ty::Int32)),
    ];
}

/// ListGroups request, versions 0-5.
pub mod list_groups {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::ListGroups,
        versions: v(0, 5),
        flexible: from(3),
        fields: &[
            Field::new("states_filter", from(4), Ty::Array(&Ty::String)),
            Field::new("types_filter", from(5), Ty::Array(&Ty::String)),
        ],
    };
}

/// DescribeGroups request, versions 0-5.
pub mod describe_groups {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::DescribeGroups,
        versions: v(0, 5),
        flexible: from(5),
        fields: &[
            Field::new("groups", ALL, Ty::Array(&Ty::String)),
            Field::new("include_authorized_operations", from(3), Ty::Bool),
        ],
    };
}

/// DeleteGroups request, versions 0-2.
pub mod delete_groups {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::DeleteGroups,
        versions: v(0, 2),
        flexible: from(2),
        fields: &[Field::new("groups_names", ALL, Ty::Array(&Ty::String))],
    };
}

/// OffsetDelete request, versions 0-0.
pub mod offset_delete {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::OffsetDelete,
        versions: v(0, 0),
        flexible: NONE,
        fields: &[
            Field::new("group_id", ALL, Ty::String),
            Field::new(
                "topics",
                ALL,
                Ty::Array(&Ty::Struct(OFFSET_DELETE_REQUEST_TOPIC)),
            ),
        ],
    };

    const OFFSET_DELETE_REQUEST_TOPIC: &[Field] = &[
        Field::new("name", ALL, Ty::String),
        Field::new(
            "partitions",
            ALL,
            Ty::Array(&Ty::Struct(OFFSET_DELETE_REQUEST_PARTITION)),
        ),
    ];

    const OFFSET_DELETE_REQUEST_PARTITION: &[Field] =
        &[Field::new("partition_index", ALL, Ty::Int32)];
}

/// DescribeCluster request, versions 0-1 (Kafka 3.9 serves these; v2 is Kafka 4.0's).
pub mod describe_cluster {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::DescribeCluster,
        versions: v(0, 1),
        flexible: ALL,
        fields: &[
            Field::new("include_cluster_authorized_operations", ALL, Ty::Bool),
            Field::new("endpoint_type", from(1), Ty::Int8),
        ],
    };
}

/// OffsetForLeaderEpoch request, versions 0-4 (v2 adds the current leader epoch, v3 the
/// replica id).
pub mod offset_for_leader_epoch {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::OffsetForLeaderEpoch,
        versions: v(0, 4),
        flexible: from(4),
        fields: &[
            Field::new("replica_id", from(3), Ty::Int32),
            Field::new("topics", ALL, Ty::Array(&Ty::Struct(TOPIC))),
        ],
    };

    const TOPIC: &[Field] = &[
        Field::new("topic", ALL, Ty::String),
        Field::new("partitions", ALL, Ty::Array(&Ty::Struct(PARTITION))),
    ];

    const PARTITION: &[Field] = &[
        Field::new("partition", ALL, Ty::Int32),
        Field::new("current_leader_epoch", from(2), Ty::Int32),
        Field::new("leader_epoch", ALL, Ty::Int32),
    ];
}

/// ElectLeaders request, versions 0-2 (v1 adds the election type; a null topic list means
/// every partition).
pub mod elect_leaders {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::ElectLeaders,
        versions: v(0, 2),
        flexible: from(2),
        fields: &[
            Field::new("election_type", from(1), Ty::Int8),
            Field::new("topic_partitions", ALL, Ty::Array(&Ty::Struct(TOPIC))).nullable(ALL),
            Field::new("timeout_ms", ALL, Ty::Int32),
        ],
    };

    const TOPIC: &[Field] = &[
        Field::new("topic", ALL, Ty::String),
        Field::new("partitions", ALL, Ty::Array(&Ty::Int32)),
    ];
}

/// AlterPartitionReassignments request, version 0 (Kafka 3.9's only one; v1's
/// `allow_replication_factor_change` came with Kafka 4.0).
pub mod alter_partition_reassignments {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::AlterPartitionReassignments,
        versions: v(0, 0),
        flexible: ALL,
        fields: &[
            Field::new("timeout_ms", ALL, Ty::Int32),
            Field::new("topics", ALL, Ty::Array(&Ty::Struct(TOPIC))),
        ],
    };

    const TOPIC: &[Field] = &[
        Field::new("name", ALL, Ty::String),
        Field::new("partitions", ALL, Ty::Array(&Ty::Struct(PARTITION))),
    ];

    const PARTITION: &[Field] = &[
        Field::new("partition_index", ALL, Ty::Int32),
        Field::new("replicas", ALL, Ty::Array(&Ty::Int32)).nullable(ALL),
    ];
}

/// ListPartitionReassignments request, version 0.
pub mod list_partition_reassignments {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::ListPartitionReassignments,
        versions: v(0, 0),
        flexible: ALL,
        fields: &[
            Field::new("timeout_ms", ALL, Ty::Int32),
            Field::new("topics", ALL, Ty::Array(&Ty::Struct(TOPIC))).nullable(ALL),
        ],
    };

    const TOPIC: &[Field] = &[
        Field::new("name", ALL, Ty::String),
        Field::new("partition_indexes", ALL, Ty::Array(&Ty::Int32)),
    ];
}

/// Every request schema, looked up by API key.
/// AlterConfigs request, versions 0-2.
pub mod alter_configs {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::AlterConfigs,
        versions: v(0, 2),
        flexible: from(2),
        fields: &[
            Field::new(
                "resources",
                ALL,
                Ty::Array(&Ty::Struct(ALTER_CONFIGS_RESOURCE)),
            ),
            Field::new("validate_only", ALL, Ty::Bool),
        ],
    };

    const ALTER_CONFIGS_RESOURCE: &[Field] = &[
        Field::new("resource_type", ALL, Ty::Int8),
        Field::new("resource_name", ALL, Ty::String),
        Field::new("configs", ALL, Ty::Array(&Ty::Struct(ALTERABLE_CONFIG))),
    ];

    const ALTERABLE_CONFIG: &[Field] = &[
        Field::new("name", ALL, Ty::String),
        Field::new("value", ALL, Ty::String).nullable(ALL),
    ];
}

/// IncrementalAlterConfigs request, versions 0-1.
pub mod incremental_alter_configs {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::IncrementalAlterConfigs,
        versions: v(0, 1),
        flexible: from(1),
        fields: &[
            Field::new(
                "resources",
                ALL,
                Ty::Array(&Ty::Struct(ALTER_CONFIGS_RESOURCE)),
            ),
            Field::new("validate_only", ALL, Ty::Bool),
        ],
    };

    const ALTER_CONFIGS_RESOURCE: &[Field] = &[
        Field::new("resource_type", ALL, Ty::Int8),
        Field::new("resource_name", ALL, Ty::String),
        Field::new("configs", ALL, Ty::Array(&Ty::Struct(ALTERABLE_CONFIG))),
    ];

    const ALTERABLE_CONFIG: &[Field] = &[
        Field::new("name", ALL, Ty::String),
        Field::new("config_operation", ALL, Ty::Int8),
        Field::new("value", ALL, Ty::String).nullable(ALL),
    ];
}

/// DescribeProducers request (KIP-664), version 0.
pub mod describe_producers {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::DescribeProducers,
        versions: v(0, 0),
        flexible: ALL,
        fields: &[Field::new("topics", ALL, Ty::Array(&Ty::Struct(TOPIC)))],
    };

    const TOPIC: &[Field] = &[
        Field::new("name", ALL, Ty::String),
        Field::new("partition_indexes", ALL, Ty::Array(&Ty::Int32)),
    ];
}

/// AddPartitionsToTxn request, versions 0-5 (v4+ batch transactions, KIP-890's broker form).
pub mod add_partitions_to_txn {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::AddPartitionsToTxn,
        versions: v(0, 5),
        flexible: from(3),
        fields: &[
            Field::new("transactions", from(4), Ty::Array(&Ty::Struct(TRANSACTION))),
            Field::new("v3_and_below_transactional_id", upto(3), Ty::String),
            Field::new("v3_and_below_producer_id", upto(3), Ty::Int64),
            Field::new("v3_and_below_producer_epoch", upto(3), Ty::Int16),
            Field::new(
                "v3_and_below_topics",
                upto(3),
                Ty::Array(&Ty::Struct(TOPIC)),
            ),
        ],
    };

    const TRANSACTION: &[Field] = &[
        Field::new("transactional_id", from(4), Ty::String),
        Field::new("producer_id", from(4), Ty::Int64),
        Field::new("producer_epoch", from(4), Ty::Int16),
        Field::new("verify_only", from(4), Ty::Bool),
        Field::new("topics", from(4), Ty::Array(&Ty::Struct(TOPIC))),
    ];

    const TOPIC: &[Field] = &[
        Field::new("name", ALL, Ty::String),
        Field::new("partitions", ALL, Ty::Array(&Ty::Int32)),
    ];
}

/// AddOffsetsToTxn request, versions 0-4.
pub mod add_offsets_to_txn {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::AddOffsetsToTxn,
        versions: v(0, 4),
        flexible: from(3),
        fields: &[
            Field::new("transactional_id", ALL, Ty::String),
            Field::new("producer_id", ALL, Ty::Int64),
            Field::new("producer_epoch", ALL, Ty::Int16),
            Field::new("group_id", ALL, Ty::String),
        ],
    };
}

/// EndTxn request, versions 0-4 (Kafka 3.9's range; v5 is KIP-890's).
pub mod end_txn {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::EndTxn,
        versions: v(0, 4),
        flexible: from(3),
        fields: &[
            Field::new("transactional_id", ALL, Ty::String),
            Field::new("producer_id", ALL, Ty::Int64),
            Field::new("producer_epoch", ALL, Ty::Int16),
            Field::new("committed", ALL, Ty::Bool),
        ],
    };
}

/// DescribeTransactions request (KIP-664), version 0.
pub mod describe_transactions {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::DescribeTransactions,
        versions: v(0, 0),
        flexible: ALL,
        fields: &[Field::new("transactional_ids", ALL, Ty::Array(&Ty::String))],
    };
}

/// ListTransactions request (KIP-664), versions 0-1 (Kafka 3.9's range; v1 adds the duration
/// filter of KIP-994).
pub mod list_transactions {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::ListTransactions,
        versions: v(0, 1),
        flexible: ALL,
        fields: &[
            Field::new("state_filters", ALL, Ty::Array(&Ty::String)),
            Field::new("producer_id_filters", ALL, Ty::Array(&Ty::Int64)),
            Field::new("duration_filter", from(1), Ty::Int64),
        ],
    };
}

/// DeleteRecords request (KIP-107), versions 0-2.
pub mod delete_records {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::DeleteRecords,
        versions: v(0, 2),
        flexible: from(2),
        fields: &[
            Field::new("topics", ALL, Ty::Array(&Ty::Struct(TOPIC))),
            Field::new("timeout_ms", ALL, Ty::Int32),
        ],
    };

    const TOPIC: &[Field] = &[
        Field::new("name", ALL, Ty::String),
        Field::new("partitions", ALL, Ty::Array(&Ty::Struct(PARTITION))),
    ];

    const PARTITION: &[Field] = &[
        Field::new("partition_index", ALL, Ty::Int32),
        Field::new("offset", ALL, Ty::Int64),
    ];
}

/// DescribeLogDirs request (KIP-113), versions 0-4 (null topics: every partition).
pub mod describe_log_dirs {
    use super::*;

    pub static REQUEST: Message = Message {
        key: ApiKey::DescribeLogDirs,
        versions: v(0, 4),
        flexible: from(2),
        fields: &[Field::new("topics", ALL, Ty::Array(&Ty::Struct(TOPIC))).nullable(ALL)],
    };

    const TOPIC: &[Field] = &[
        Field::new("topic", ALL, Ty::String),
        Field::new("partitions", ALL, Ty::Array(&Ty::Int32)),
    ];
}

pub static ALL_REQUESTS: &[&Message] = &[
    &delete_records::REQUEST,
    &describe_log_dirs::REQUEST,
    &add_partitions_to_txn::REQUEST,
    &add_offsets_to_txn::REQUEST,
    &end_txn::REQUEST,
    &describe_transactions::REQUEST,
    &list_transactions::REQUEST,
    &alter_configs::REQUEST,
    &incremental_alter_configs::REQUEST,
    &produce::REQUEST,
    &fetch::REQUEST,
    &list_offsets::REQUEST,
    &metadata::REQUEST,
    &api_versions::REQUEST,
    &create_topics::REQUEST,
    &delete_topics::REQUEST,
    &init_producer_id::REQUEST,
    &describe_configs::REQUEST,
    &create_partitions::REQUEST,
    &find_coordinator::REQUEST,
    &join_group::REQUEST,
    &sync_group::REQUEST,
    &heartbeat::REQUEST,
    &leave_group::REQUEST,
    &offset_commit::REQUEST,
    &offset_fetch::REQUEST,
    &txn_offset_commit::REQUEST,
    &write_txn_markers::REQUEST,
    &list_groups::REQUEST,
    &describe_groups::REQUEST,
    &delete_groups::REQUEST,
    &offset_delete::REQUEST,
    &describe_cluster::REQUEST,
    &offset_for_leader_epoch::REQUEST,
    &elect_leaders::REQUEST,
    &alter_partition_reassignments::REQUEST,
    &list_partition_reassignments::REQUEST,
    &describe_producers::REQUEST,
];
