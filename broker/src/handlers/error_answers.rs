//! Error answers carry Kafka 3.9's field values (`KafkaApis`, `ReplicaManager`,
//! `GroupCoordinator`): requests go through the wire codec and the handler against a broker
//! registered with an in-process zookeeper-lite, and the response through the codec back.

use bytes::{Bytes, BytesMut};
use common::errors::ErrorCode;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

use crate::broker::start_for_test;
use crate::log::testutil;

/// Encodes `message` at `version` and decodes it back: what the other side of the wire sees.
pub(super) fn wire<T: Encodable + Decodable>(message: &T, version: i16) -> T {
    let mut buf = BytesMut::new();
    message.encode(&mut buf, version).expect("encodes");
    let mut bytes = buf.freeze();
    T::decode(&mut bytes, version).expect("decodes")
}

pub(super) fn topic_name(name: &str) -> TopicName {
    TopicName(StrBytes::from_string(name.to_string()))
}

pub(super) async fn create_topic(broker: &std::sync::Arc<crate::broker::Broker>, name: &str) {
    let request = CreateTopicsRequest::default().with_topics(vec![CreatableTopic::default()
        .with_name(topic_name(name))
        .with_num_partitions(1)
        .with_replication_factor(1)]);
    let response = super::topics::create(broker, request).await;
    assert_eq!(response.topics[0].error_code, 0, "{response:?}");
}

pub(super) fn produce_request(topic: &str, partition: i32, records: Vec<u8>) -> ProduceRequest {
    ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(5000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(topic_name(topic))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(partition)
                .with_records(Some(Bytes::from(records)))])])
}

pub(super) fn fetch_request(topic: &str, partition: i32, offset: i64) -> FetchRequest {
    FetchRequest::default()
        .with_max_wait_ms(0)
        .with_max_bytes(1 << 20)
        .with_topics(vec![FetchTopic::default()
            .with_topic(topic_name(topic))
            .with_partitions(vec![FetchPartition::default()
                .with_partition(partition)
                .with_fetch_offset(offset)
                .with_partition_max_bytes(1 << 20)])])
}

#[tokio::test]
async fn fetch_out_of_range_and_unknown_partitions_answer_unknown_offsets() {
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "t").await;
    let produced =
        super::produce::handle(&broker, produce_request("t", 0, testutil::batch(3, 5)), 9).await;
    assert_eq!(produced.responses[0].partition_responses[0].error_code, 0);

    for version in [4, 11, 12] {
        let request = wire(&fetch_request("t", 0, 100), version);
        let response = wire(
            &super::fetch::handle(&broker, request, version).await,
            version,
        );
        let p = &response.responses[0].partitions[0];
        assert_eq!(p.error_code, ErrorCode::OffsetOutOfRange.code());
        // Kafka's createLogReadResult(e): the partition's real offsets (3, 3, 0) are not sent.
        assert_eq!(p.high_watermark, -1, "v{version}");
        assert_eq!(p.last_stable_offset, -1, "v{version}");
        if version >= 5 {
            assert_eq!(p.log_start_offset, -1, "v{version}");
        }
        assert_eq!(p.aborted_transactions, None, "v{version}");
        assert_eq!(p.records.as_ref().map(Bytes::len), Some(0), "v{version}");
        if version >= 11 {
            assert_eq!(p.preferred_read_replica.0, -1);
        }
    }

    let request = wire(&fetch_request("t", 7, 0), 12);
    let response = wire(&super::fetch::handle(&broker, request, 12).await, 12);
    let p = &response.responses[0].partitions[0];
    assert_eq!(p.error_code, ErrorCode::UnknownTopicOrPartition.code());
    assert_eq!(
        (p.high_watermark, p.last_stable_offset, p.log_start_offset),
        (-1, -1, -1)
    );

    // The good answer still carries the real offsets.
    let request = wire(&fetch_request("t", 0, 0), 12);
    let response = wire(&super::fetch::handle(&broker, request, 12).await, 12);
    let p = &response.responses[0].partitions[0];
    assert_eq!(p.error_code, 0);
    assert_eq!((p.high_watermark, p.log_start_offset), (3, 0));
}

fn list_offsets_request(partitions: &[(i32, i64)]) -> ListOffsetsRequest {
    ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(topic_name("lo"))
            .with_partitions(
                partitions
                    .iter()
                    .map(|(p, ts)| {
                        ListOffsetsPartition::default()
                            .with_partition_index(*p)
                            .with_timestamp(*ts)
                    })
                    .collect(),
            )])
}

#[tokio::test]
async fn list_offsets_errors_and_missing_offsets_answer_minus_one_everywhere() {
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "lo").await;
    let batch = testutil::timed_batch(2, 1_000);
    let produced = super::produce::handle(&broker, produce_request("lo", 0, batch), 9).await;
    assert_eq!(produced.responses[0].partition_responses[0].error_code, 0);
    let minus_ones = |p: &list_offsets_response::ListOffsetsPartitionResponse| {
        (p.offset, p.timestamp, p.leader_epoch)
    };

    // Unknown partition, and a time after every record (found nothing: error NONE).
    let request = wire(&list_offsets_request(&[(5, -1), (0, 10_000)]), 7);
    let response = wire(&super::list_offsets::handle(&broker, request, 7).await, 7);
    let ps = &response.topics[0].partitions;
    assert_eq!(ps[0].error_code, ErrorCode::UnknownTopicOrPartition.code());
    assert_eq!(minus_ones(&ps[0]), (-1, -1, -1));
    assert_eq!(ps[1].error_code, 0);
    assert_eq!(minus_ones(&ps[1]), (-1, -1, -1), "no leader epoch either");

    // A partition named twice: INVALID_REQUEST for both.
    let request = wire(&list_offsets_request(&[(0, -1), (0, -2)]), 7);
    let response = wire(&super::list_offsets::handle(&broker, request, 7).await, 7);
    for p in &response.topics[0].partitions {
        assert_eq!(p.error_code, ErrorCode::InvalidRequest.code());
        assert_eq!(minus_ones(p), (-1, -1, -1));
    }

    // Max timestamp (-3) needs v7; other negative timestamps are not served.
    for (version, timestamp) in [(6, -3), (7, -9)] {
        let request = wire(&list_offsets_request(&[(0, timestamp)]), version);
        let response = wire(
            &super::list_offsets::handle(&broker, request, version).await,
            version,
        );
        let p = &response.topics[0].partitions[0];
        assert_eq!(p.error_code, ErrorCode::UnsupportedVersion.code());
        assert_eq!(minus_ones(p), (-1, -1, -1));
    }
    let request = wire(&list_offsets_request(&[(0, -3)]), 7);
    let response = wire(&super::list_offsets::handle(&broker, request, 7).await, 7);
    assert_eq!(response.topics[0].partitions[0].error_code, 0);
    assert_eq!(response.topics[0].partitions[0].offset, 1);
}

#[tokio::test]
async fn produce_errors_carry_kafkas_log_start_offset_and_message() {
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "pr").await;
    let answer = |response: ProduceResponse| response.responses[0].partition_responses[0].clone();

    let r = answer(wire(
        &super::produce::handle(
            &broker,
            wire(&produce_request("nope", 0, testutil::batch(1, 1)), 9),
            9,
        )
        .await,
        9,
    ));
    assert_eq!(r.error_code, ErrorCode::UnknownTopicOrPartition.code());
    assert_eq!(
        (r.base_offset, r.log_append_time_ms, r.log_start_offset),
        (-1, -1, -1)
    );
    assert_eq!(r.error_message, None);

    // A CRC failure is one of Kafka's "known" append errors: log start -1, no message.
    let mut corrupt = testutil::batch(1, 8);
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff;
    let r = answer(wire(
        &super::produce::handle(&broker, wire(&produce_request("pr", 0, corrupt), 9), 9).await,
        9,
    ));
    assert_eq!(r.error_code, ErrorCode::CorruptMessage.code());
    assert_eq!(
        (r.base_offset, r.log_append_time_ms, r.log_start_offset),
        (-1, -1, -1)
    );
    assert_eq!(r.error_message, None);

    // Record validation (INVALID_RECORD) carries the partition's log start offset and its text.
    let control = testutil::batch_with(&testutil::BatchSpec {
        control: true,
        ..testutil::BatchSpec::default()
    });
    let r = answer(wire(
        &super::produce::handle(&broker, wire(&produce_request("pr", 0, control), 9), 9).await,
        9,
    ));
    assert_eq!(r.error_code, ErrorCode::InvalidRecord.code());
    assert_eq!(
        (r.base_offset, r.log_append_time_ms, r.log_start_offset),
        (-1, -1, 0)
    );
    assert!(r.error_message.is_some());
}

#[tokio::test]
async fn offset_fetch_of_uncommitted_partitions_answers_minus_one_and_empty_metadata() {
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "of").await;
    let request = OffsetFetchRequest::default()
        .with_group_id(GroupId(StrBytes::from_static_str("g")))
        .with_topics(Some(vec![OffsetFetchRequestTopic::default()
            .with_name(topic_name("of"))
            .with_partition_indexes(vec![0, 3])]));
    for version in [1, 5, 7] {
        let response = wire(
            &super::offsets::fetch(&broker, wire(&request, version), version).await,
            version,
        );
        for p in &response.topics[0].partitions {
            assert_eq!(p.committed_offset, -1, "v{version}");
            assert_eq!(p.committed_leader_epoch, -1, "v{version}");
            assert_eq!(p.metadata.as_deref(), Some(""), "v{version}");
            assert_eq!(p.error_code, 0, "v{version}");
        }
    }
}

#[tokio::test]
async fn create_topics_error_answers_minus_one_partitions_and_replication_factor() {
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "dup").await;
    let request = CreateTopicsRequest::default().with_topics(vec![
        CreatableTopic::default()
            .with_name(topic_name("dup"))
            .with_num_partitions(3)
            .with_replication_factor(1),
        CreatableTopic::default()
            .with_name(topic_name("bad name"))
            .with_num_partitions(3)
            .with_replication_factor(1),
    ]);
    let response = wire(&super::topics::create(&broker, wire(&request, 7)).await, 7);
    for t in &response.topics {
        assert_ne!(t.error_code, 0);
        assert_eq!((t.num_partitions, t.replication_factor), (-1, -1));
        assert_eq!(t.configs.as_ref().map(Vec::len), Some(0));
        assert!(t.topic_id.is_nil());
    }
}

#[tokio::test]
async fn find_coordinator_v1_to_v3_carries_kafkas_error_message() {
    let (broker, _guard) = start_for_test().await;
    let request = FindCoordinatorRequest::default().with_key(StrBytes::from_static_str("g"));
    let response = wire(
        &super::groups::find_coordinator(&broker, wire(&request, 3), 3).await,
        3,
    );
    assert_eq!(response.error_code, 0);
    assert_eq!(response.error_message.as_deref(), Some("NONE"));
    // A transactional id: its coordinator, once `__transaction_state` exists (created here).
    let request = request.with_key_type(1);
    let response = wire(
        &super::groups::find_coordinator(&broker, wire(&request, 3), 3).await,
        3,
    );
    assert_eq!(response.error_code, 0);
    assert_eq!(response.node_id.0, broker.config.broker_id.get());
    // An empty transactional id: partition 0's leader, as Kafka's `getCoordinator` answers (the
    // coordinator then refuses the id).
    let empty = request.clone().with_key(StrBytes::from_static_str(""));
    let response = wire(
        &super::groups::find_coordinator(&broker, wire(&empty, 3), 3).await,
        3,
    );
    assert_eq!(response.error_code, 0);
    // An unknown key type: INVALID_REQUEST with Kafka's text.
    for request in [request.with_key_type(2)] {
        let response = wire(
            &super::groups::find_coordinator(&broker, wire(&request, 3), 3).await,
            3,
        );
        assert_eq!(response.error_code, ErrorCode::InvalidRequest.code());
        assert_eq!(
            response.error_message.as_deref(),
            Some(ErrorCode::InvalidRequest.message())
        );
        assert_eq!(
            (response.node_id.0, response.host.as_str(), response.port),
            (-1, "", -1)
        );
    }
}

#[test]
fn metadata_partition_whose_leader_is_gone_has_leader_minus_one() {
    use zookeeper_lite::protocol::{BrokerInfo, ClusterMetadata, PartitionInfo, TopicInfo};
    let info = TopicInfo {
        name: "m".to_string(),
        id: uuid::Uuid::new_v4(),
        configs: Default::default(),
        partitions: vec![
            PartitionInfo {
                partition: 0,
                replicas: vec![common::ids::BrokerId(1), common::ids::BrokerId(0)],
                leader: common::ids::BrokerId(1),
                leader_epoch: common::ids::LeaderEpoch(4),
                isr: vec![common::ids::BrokerId(1), common::ids::BrokerId(0)],
                partition_epoch: 0,
                adding_replicas: Vec::new(),
                removing_replicas: Vec::new(),
            },
            PartitionInfo {
                partition: 1,
                replicas: vec![common::ids::BrokerId(0), common::ids::BrokerId(1)],
                leader: common::ids::BrokerId(0),
                leader_epoch: common::ids::LeaderEpoch(2),
                isr: vec![common::ids::BrokerId(0), common::ids::BrokerId(1)],
                partition_epoch: 0,
                adding_replicas: Vec::new(),
                removing_replicas: Vec::new(),
            },
        ],
    };
    let md = ClusterMetadata {
        version: 1,
        cluster_id: String::new(),
        broker_configs: Default::default(),
        brokers: vec![BrokerInfo {
            id: common::ids::BrokerId(0),
            host: "127.0.0.1".to_string(),
            port: 9092,
            rack: None,
        }],
        topics: [("m".to_string(), info.clone())].into_iter().collect(),
    };
    let ids = |v: &[BrokerId]| v.iter().map(|b| b.0).collect::<Vec<_>>();
    for version in [1, 12] {
        let t = wire(
            &MetadataResponse::default()
                .with_topics(vec![super::metadata::topic_entry(&md, &info, version)]),
            version,
        );
        let (p0, p1) = (&t.topics[0].partitions[0], &t.topics[0].partitions[1]);
        assert_eq!(p0.error_code, ErrorCode::LeaderNotAvailable.code());
        assert_eq!(p0.leader_id.0, -1, "never the dead leader's id");
        assert_eq!(p0.leader_epoch, if version >= 7 { 4 } else { -1 });
        assert_eq!(ids(&p0.replica_nodes), [1, 0], "v1+ lists every replica");
        assert_eq!(p1.error_code, 0);
        assert_eq!(p1.leader_id.0, 0);
    }
    // v0 (Kafka's errorUnavailableEndpoints): only live replicas, REPLICA_NOT_AVAILABLE.
    let t = wire(
        &MetadataResponse::default().with_topics(vec![super::metadata::topic_entry(&md, &info, 0)]),
        0,
    );
    let (p0, p1) = (&t.topics[0].partitions[0], &t.topics[0].partitions[1]);
    assert_eq!(p0.error_code, ErrorCode::LeaderNotAvailable.code());
    assert_eq!(ids(&p0.replica_nodes), [0]);
    assert_eq!(p1.error_code, ErrorCode::ReplicaNotAvailable.code());
    assert_eq!(
        (ids(&p1.replica_nodes), ids(&p1.isr_nodes)),
        (vec![0], vec![0])
    );
}

#[test]
fn describe_groups_error_has_empty_state_not_dead() {
    use kafka_protocol::messages::describe_groups_response::DescribedGroup;
    let base = DescribedGroup::default().with_group_id(GroupId(StrBytes::from_static_str("g")));
    let response = wire(
        &DescribeGroupsResponse::default().with_groups(vec![super::groups::describe_error(
            base,
            ErrorCode::NotCoordinator.code(),
        )]),
        5,
    );
    let g = &response.groups[0];
    assert_eq!(g.error_code, ErrorCode::NotCoordinator.code());
    assert_eq!(
        (
            g.group_state.as_str(),
            g.protocol_type.as_str(),
            g.protocol_data.as_str()
        ),
        ("", "", "")
    );
    assert!(g.members.is_empty());
    assert_eq!(g.authorized_operations, i32::MIN);
}

#[tokio::test]
async fn offset_delete_on_an_empty_group_without_offsets_succeeds_per_partition() {
    use kafka_protocol::messages::offset_delete_request::{
        OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
    };
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "od").await;
    // A member joins and leaves without committing: the group is Empty, in memory, no offsets.
    let member = broker.groups.with(|c, now| {
        let req = crate::group::JoinRequest {
            client_id: "c".to_string(),
            session_timeout_ms: 10_000,
            rebalance_timeout_ms: 10_000,
            protocol_type: "consumer".to_string(),
            protocols: vec![("range".to_string(), Bytes::new())],
            ..Default::default()
        };
        c.join("od-group", req, 1, 0, now);
        let replies = c.tick(now + 3_000);
        match replies.first() {
            Some(crate::group::Reply::Join(_, j)) => j.member_id.clone(),
            other => panic!("join answered: {other:?}"),
        }
    });
    broker.groups.leave("od-group", vec![(member, None)]);
    let request = OffsetDeleteRequest::default()
        .with_group_id(GroupId(StrBytes::from_static_str("od-group")))
        .with_topics(vec![OffsetDeleteRequestTopic::default()
            .with_name(topic_name("od"))
            .with_partitions(vec![
                OffsetDeleteRequestPartition::default().with_partition_index(0)
            ])]);
    let response = wire(&super::offsets::delete(&broker, wire(&request, 0)).await, 0);
    assert_eq!(response.error_code, 0, "{response:?}");
    assert_eq!(response.topics[0].partitions[0].error_code, 0);
}

#[tokio::test]
async fn produce_v10_not_leader_names_the_current_leader_and_its_endpoint() {
    use zookeeper_lite::protocol::{BrokerInfo, NewTopic};
    let (broker, _guard) = start_for_test().await;
    // A second live broker leads the partition.
    let other = BrokerInfo {
        id: common::ids::BrokerId(1),
        host: "127.0.0.1".to_string(),
        port: 9093,
        rack: Some("r1".to_string()),
    };
    let peer = crate::cluster::Cluster::connect(&broker.config.zookeeper_connect, other, 60_000)
        .await
        .expect("second broker connects");
    peer.register().await.expect("second broker registers");
    broker
        .cluster
        .create_topic(NewTopic {
            name: "elsewhere".to_string(),
            num_partitions: 1,
            replication_factor: 1,
            replica_assignment: Some(vec![vec![common::ids::BrokerId(1)]]),
            configs: Default::default(),
            validate_only: false,
        })
        .await
        .expect("topic created");
    broker.refresh_metadata().await.expect("metadata");

    let request = produce_request("elsewhere", 0, testutil::batch(1, 1));
    let response = wire(
        &super::produce::handle(&broker, wire(&request, 10), 10).await,
        10,
    );
    let r = &response.responses[0].partition_responses[0];
    assert_eq!(r.error_code, ErrorCode::NotLeaderOrFollower.code());
    assert_eq!((r.base_offset, r.log_start_offset), (-1, -1));
    assert_eq!(r.current_leader.leader_id.0, 1);
    assert!(r.current_leader.leader_epoch >= 0);
    assert_eq!(response.node_endpoints.len(), 1);
    let e = &response.node_endpoints[0];
    assert_eq!(
        (e.node_id.0, e.host.as_str(), e.port, e.rack.as_deref()),
        (1, "127.0.0.1", 9093, Some("r1"))
    );

    // Below v10 the fields do not exist: the answer still encodes.
    let response = wire(
        &super::produce::handle(&broker, wire(&request, 9), 9).await,
        9,
    );
    assert_eq!(
        response.responses[0].partition_responses[0].error_code,
        ErrorCode::NotLeaderOrFollower.code()
    );
}

#[tokio::test]
async fn create_topics_with_a_name_given_twice_creates_neither() {
    let (broker, _guard) = start_for_test().await;
    let twice = CreatableTopic::default()
        .with_name(topic_name("twice"))
        .with_num_partitions(1)
        .with_replication_factor(1);
    let request = CreateTopicsRequest::default().with_topics(vec![twice.clone(), twice]);
    let response = wire(&super::topics::create(&broker, wire(&request, 7)).await, 7);
    assert_eq!(response.topics.len(), 2);
    for t in &response.topics {
        assert_eq!(t.error_code, ErrorCode::InvalidRequest.code());
        assert_eq!(
            t.error_message.as_deref(),
            Some("Found multiple entries for this topic.")
        );
        assert_eq!((t.num_partitions, t.replication_factor), (-1, -1));
    }
    broker.refresh_metadata().await.expect("metadata");
    assert!(!broker.cluster.metadata().topics.contains_key("twice"));
}

#[tokio::test]
async fn delete_topics_errors_carry_no_message_and_no_name_for_an_unknown_id() {
    use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
    let (broker, _guard) = start_for_test().await;
    let request = DeleteTopicsRequest::default().with_topics(vec![
        DeleteTopicState::default().with_name(Some(topic_name("ghost"))),
        DeleteTopicState::default().with_topic_id(uuid::Uuid::new_v4()),
    ]);
    let response = wire(
        &super::topics::delete(&broker, wire(&request, 6), 6).await,
        6,
    );
    let (by_name, by_id) = (&response.responses[0], &response.responses[1]);
    assert_eq!(
        by_name.error_code,
        ErrorCode::UnknownTopicOrPartition.code()
    );
    assert_eq!(by_name.error_message, None);
    assert_eq!(by_name.name.as_ref().map(|n| n.0.as_str()), Some("ghost"));
    assert!(by_name.topic_id.is_nil());
    assert_eq!(by_id.error_code, ErrorCode::UnknownTopicId.code());
    assert_eq!(by_id.error_message, None);
    assert_eq!(by_id.name, None);
}

#[tokio::test]
async fn describe_configs_errors_follow_kafkas_config_helper() {
    use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
    let (broker, _guard) = start_for_test().await;
    let resource = |kind: i8, name: &str| {
        DescribeConfigsResource::default()
            .with_resource_type(kind)
            .with_resource_name(StrBytes::from_string(name.to_string()))
    };
    let request = DescribeConfigsRequest::default().with_resources(vec![
        resource(2, "missing"),
        resource(2, "bad name"),
        resource(4, "7"),
        resource(4, "x"),
    ]);
    let response = wire(&super::configs::describe(&broker, wire(&request, 4)), 4);
    let answers: Vec<(i16, Option<String>, usize)> = response
        .results
        .iter()
        .map(|r| {
            (
                r.error_code,
                r.error_message.as_ref().map(|m| m.to_string()),
                r.configs.len(),
            )
        })
        .collect();
    // No message set: the schema's default, "" (not null).
    assert_eq!(
        answers[0],
        (
            ErrorCode::UnknownTopicOrPartition.code(),
            Some(String::new()),
            0
        )
    );
    assert_eq!(answers[1].0, ErrorCode::InvalidTopicException.code());
    assert!(answers[1]
        .1
        .as_deref()
        .is_some_and(|m| m.contains("bad name")));
    assert_eq!(
        answers[2],
        (
            ErrorCode::InvalidRequest.code(),
            Some("Unexpected broker id, expected 0 or empty string, but received 7".to_string()),
            0
        )
    );
    assert_eq!(
        answers[3].1.as_deref(),
        Some("Broker id must be an integer, but it is: x")
    );
}

#[tokio::test]
async fn produce_without_a_batch_is_invalid_record_with_offsets_minus_one() {
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "nb").await;
    let request = produce_request("nb", 0, Vec::new());
    let response = wire(
        &super::produce::handle(&broker, wire(&request, 9), 9).await,
        9,
    );
    let r = &response.responses[0].partition_responses[0];
    assert_eq!(r.error_code, ErrorCode::InvalidRecord.code());
    assert_eq!(
        (r.base_offset, r.log_append_time_ms, r.log_start_offset),
        (-1, -1, -1)
    );
    assert_eq!(r.error_message, None);
}
