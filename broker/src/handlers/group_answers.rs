//! ListGroups and DescribeGroups of groups loaded back from `__consumer_offsets` (after a
//! restart) answer as Kafka answers them.

use bytes::Bytes;
use common::errors::ErrorCode;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;

use super::error_answers::{create_topic, topic_name, wire};
use crate::broker::start_for_test;
use crate::group::{JoinRequest, Reply, SyncRequest};

fn group_id(id: &str) -> GroupId {
    GroupId(StrBytes::from_string(id.to_string()))
}

fn commit(group: &str, generation: i32, member: &str) -> OffsetCommitRequest {
    OffsetCommitRequest::default()
        .with_group_id(group_id(group))
        .with_generation_id_or_member_epoch(generation)
        .with_member_id(StrBytes::from_string(member.to_string()))
        .with_topics(vec![OffsetCommitRequestTopic::default()
            .with_name(topic_name("ga"))
            .with_partitions(vec![OffsetCommitRequestPartition::default()
                .with_partition_index(0)
                .with_committed_offset(0)])])
}

#[tokio::test]
async fn former_consumer_group_known_only_by_its_offsets_keeps_protocol_type_consumer() {
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "ga").await;

    // A consumer joins, syncs, commits as a member of its generation, and leaves.
    let (member, generation) = broker.groups.with(|c, now| {
        let req = JoinRequest {
            client_id: "c".to_string(),
            session_timeout_ms: 10_000,
            rebalance_timeout_ms: 10_000,
            protocol_type: "consumer".to_string(),
            protocols: vec![("range".to_string(), Bytes::new())],
            ..Default::default()
        };
        c.join("managed", req, 1, 0, now);
        let (member, generation) = match c.tick(now + 3_000).first() {
            Some(Reply::Join(_, j)) => (j.member_id.clone(), j.generation),
            other => panic!("join answered: {other:?}"),
        };
        let sync = SyncRequest {
            generation,
            member_id: member.clone(),
            ..Default::default()
        };
        c.sync("managed", sync, 2);
        (member, generation)
    });
    let committed =
        super::offsets::commit(&broker, commit("managed", generation, &member), 8).await;
    assert_eq!(committed.topics[0].partitions[0].error_code, 0);
    broker.groups.leave("managed", vec![(member, None)]);
    // Only offsets are stored for this one (an admin commit, no generation).
    let committed = super::offsets::commit(&broker, commit("simple", -1, ""), 8).await;
    assert_eq!(committed.topics[0].partitions[0].error_code, 0);

    // The broker restarts: its groups are forgotten and loaded back from __consumer_offsets.
    crate::broker::reload_groups_for_test(&broker).await;

    let listed = wire(
        &super::groups::list(&broker, ListGroupsRequest::default()).await,
        4,
    );
    let find = |id: &str| {
        listed
            .groups
            .iter()
            .find(|g| g.group_id.0.as_str() == id)
            .map(|g| (g.protocol_type.to_string(), g.group_state.to_string()))
    };
    assert_eq!(find("managed"), Some(("consumer".into(), "Empty".into())));
    assert_eq!(find("simple"), Some((String::new(), "Empty".into())));

    let request = DescribeGroupsRequest::default().with_groups(vec![
        group_id("managed"),
        group_id("simple"),
        group_id("none"),
    ]);
    let described = wire(&super::groups::describe(&broker, request, 5).await, 5);
    let states: Vec<(String, String, String)> = described
        .groups
        .iter()
        .map(|g| {
            (
                g.group_state.to_string(),
                g.protocol_type.to_string(),
                g.protocol_data.to_string(),
            )
        })
        .collect();
    assert_eq!(
        states,
        vec![
            ("Empty".into(), "consumer".into(), String::new()),
            ("Empty".into(), String::new(), String::new()),
            ("Dead".into(), String::new(), String::new()),
        ]
    );
}

#[tokio::test]
async fn sync_group_v5_without_protocol_type_or_name_is_inconsistent() {
    let (broker, _guard) = start_for_test().await;
    let request = SyncGroupRequest::default()
        .with_group_id(group_id("g"))
        .with_generation_id(1)
        .with_member_id(StrBytes::from_static_str("m"));
    let response = wire(&super::groups::sync(&broker, wire(&request, 5), 5).await, 5);
    assert_eq!(
        response.error_code,
        ErrorCode::InconsistentGroupProtocol.code()
    );
    assert_eq!(response.protocol_type, None);
    assert_eq!(response.protocol_name, None);
    assert!(response.assignment.is_empty());
    // Before v5 the fields do not exist: the member is checked as usual.
    let response = wire(&super::groups::sync(&broker, wire(&request, 4), 4).await, 4);
    assert_eq!(response.error_code, ErrorCode::UnknownMemberId.code());
}

/// A ConsumerProtocol Subscription (v0) of `topics`.
fn subscription(topics: &[&str]) -> Bytes {
    let mut b = vec![0u8, 0];
    b.extend_from_slice(&(topics.len() as i32).to_be_bytes());
    for t in topics {
        b.extend_from_slice(&(t.len() as i16).to_be_bytes());
        b.extend_from_slice(t.as_bytes());
    }
    b.extend_from_slice(&(-1i32).to_be_bytes());
    Bytes::from(b)
}

/// One consumer joins `group` subscribed to `topics` and syncs: (member id, generation).
fn stable_member(broker: &crate::broker::Broker, group: &str, topics: &[&str]) -> (String, i32) {
    broker.groups.with(|c, now| {
        let req = JoinRequest {
            client_id: "c".to_string(),
            session_timeout_ms: 30_000,
            rebalance_timeout_ms: 30_000,
            protocol_type: "consumer".to_string(),
            protocols: vec![("range".to_string(), subscription(topics))],
            ..Default::default()
        };
        c.join(group, req, 1, 0, now);
        let (member, generation) = match c.tick(now + 3_000).first() {
            Some(Reply::Join(_, j)) => (j.member_id.clone(), j.generation),
            other => panic!("join answered: {other:?}"),
        };
        let sync = SyncRequest {
            generation,
            member_id: member.clone(),
            ..Default::default()
        };
        c.sync(group, sync, 2);
        (member, generation)
    })
}

fn commit_to(group: &str, generation: i32, member: &str, topics: &[&str]) -> OffsetCommitRequest {
    OffsetCommitRequest::default()
        .with_group_id(group_id(group))
        .with_generation_id_or_member_epoch(generation)
        .with_member_id(StrBytes::from_string(member.to_string()))
        .with_topics(
            topics
                .iter()
                .map(|t| {
                    OffsetCommitRequestTopic::default()
                        .with_name(topic_name(t))
                        .with_partitions(vec![OffsetCommitRequestPartition::default()
                            .with_partition_index(0)
                            .with_committed_offset(0)])
                })
                .collect(),
        )
}

async fn stored(broker: &crate::broker::Broker, group: &str) -> Vec<String> {
    broker
        .groups
        .with(|c, _| c.committed(group, None))
        .into_iter()
        .map(|((topic, _), _)| topic)
        .collect()
}

#[tokio::test]
async fn cleanup_expires_offsets_by_kafkas_rules_and_removes_empty_groups_without_offsets() {
    let (broker, _guard) =
        crate::broker::start_for_test_with(|c| c.offsets_retention_ms = 3_000).await;
    for t in ["cl", "old"] {
        create_topic(&broker, t).await;
    }
    // Empty former consumer group with offsets; a simple (offsets-only) group; a Stable consumer
    // group subscribed to "cl" with offsets of "cl" and "old"; an Empty group without offsets.
    let (m, g) = stable_member(&broker, "was-managed", &["cl"]);
    let c = super::offsets::commit(&broker, commit_to("was-managed", g, &m, &["cl"]), 8).await;
    assert_eq!(c.topics[0].partitions[0].error_code, 0);
    broker.groups.leave("was-managed", vec![(m, None)]);
    let c = super::offsets::commit(&broker, commit_to("simple", -1, "", &["cl"]), 8).await;
    assert_eq!(c.topics[0].partitions[0].error_code, 0);
    let (m, g) = stable_member(&broker, "stable", &["cl"]);
    let c = super::offsets::commit(&broker, commit_to("stable", g, &m, &["cl", "old"]), 8).await;
    assert!(c.topics.iter().all(|t| t.partitions[0].error_code == 0));
    let (m, _) = stable_member(&broker, "no-offsets", &["cl"]);
    broker.groups.leave("no-offsets", vec![(m, None)]);

    broker.cleanup_group_metadata().await;
    assert!(
        !broker.groups.with(|c, _| c.contains("no-offsets")),
        "Empty, no offsets: Dead"
    );
    assert!(
        broker.groups.with(|c, _| c.contains("was-managed")),
        "retention not passed"
    );
    assert_eq!(stored(&broker, "was-managed").await, ["cl"]);
    assert_eq!(stored(&broker, "simple").await, ["cl"]);
    assert_eq!(stored(&broker, "stable").await, ["cl", "old"]);

    tokio::time::sleep(std::time::Duration::from_millis(3_100)).await;
    broker.cleanup_group_metadata().await;
    assert!(stored(&broker, "was-managed").await.is_empty());
    assert!(
        !broker.groups.with(|c, _| c.contains("was-managed")),
        "Dead and removed"
    );
    assert!(stored(&broker, "simple").await.is_empty());
    assert_eq!(
        stored(&broker, "stable").await,
        ["cl"],
        "subscribed topics are kept"
    );
    let listed = super::groups::list(&broker, ListGroupsRequest::default()).await;
    let ids: Vec<&str> = listed
        .groups
        .iter()
        .map(|g| g.group_id.0.as_str())
        .collect();
    assert_eq!(ids, ["stable"]);

    // The tombstones are in the log: what a restart loads back is the same.
    crate::broker::reload_groups_for_test(&broker).await;
    assert!(stored(&broker, "was-managed").await.is_empty());
    assert!(stored(&broker, "simple").await.is_empty());
    assert_eq!(stored(&broker, "stable").await, ["cl"]);
    let listed = super::groups::list(&broker, ListGroupsRequest::default()).await;
    let ids: Vec<&str> = listed
        .groups
        .iter()
        .map(|g| g.group_id.0.as_str())
        .collect();
    assert_eq!(ids, ["stable"]);
}

#[tokio::test]
async fn describe_groups_reports_authorized_operations_only_when_asked() {
    let (broker, _guard) = start_for_test().await;
    let request = DescribeGroupsRequest::default().with_groups(vec![group_id("g")]);
    let plain = wire(
        &super::groups::describe(&broker, wire(&request, 5), 5).await,
        5,
    );
    assert_eq!(plain.groups[0].authorized_operations, i32::MIN, "omitted");
    let asked = request.with_include_authorized_operations(true);
    let answer = wire(
        &super::groups::describe(&broker, wire(&asked, 5), 5).await,
        5,
    );
    // READ, DELETE and DESCRIBE: no authorizer allows every operation a group supports.
    assert_eq!(answer.groups[0].authorized_operations, 328);
    assert_eq!(answer.groups[0].group_state.as_str(), "Dead");
}

/// Deleting a topic drops every group's offsets of it, in memory and by tombstones (Kafka's
/// `handleDeletedPartitions`).
#[tokio::test]
async fn offsets_of_a_deleted_topic_are_dropped_and_stay_dropped_after_a_reload() {
    let (broker, _guard) = start_for_test().await;
    for t in ["kept", "gone"] {
        create_topic(&broker, t).await;
    }
    let c = super::offsets::commit(&broker, commit_to("dt", -1, "", &["kept", "gone"]), 8).await;
    assert!(c.topics.iter().all(|t| t.partitions[0].error_code == 0));
    broker.cluster.delete_topic("gone").await.expect("deleted");
    broker.refresh_metadata().await.expect("metadata");
    let md = broker.cluster.metadata();
    broker
        .groups
        .drop_offsets_of_deleted_topics(|t| md.topics.contains_key(t))
        .await;
    assert_eq!(stored(&broker, "dt").await, ["kept"]);
    crate::broker::reload_groups_for_test(&broker).await;
    assert_eq!(stored(&broker, "dt").await, ["kept"]);
}

/// `__consumer_offsets` as Kafka creates it: `offsets.topic.num.partitions` partitions,
/// compacted, `segment.bytes` from `offsets.topic.segment.bytes`, `compression.type=producer`,
/// and `offsets.topic.replication.factor` (3) lowered to the one live broker.
#[tokio::test]
async fn consumer_offsets_is_created_compacted_with_the_configured_partitions() {
    let (broker, _guard) = start_for_test().await;
    let md = broker.cluster.metadata();
    let t = md
        .topics
        .get(common::topic::GROUP_METADATA_TOPIC_NAME)
        .expect("created");
    assert_eq!(t.partitions.len(), 3);
    let config = |k: &str| t.configs.get(k).map(String::as_str);
    assert_eq!(config("cleanup.policy"), Some("compact"));
    assert_eq!(config("compression.type"), Some("producer"));
    assert_eq!(config("segment.bytes"), Some("104857600"));
    assert!(t.partitions.iter().all(|p| p.replicas.len() == 1));
    assert_eq!(broker.groups.loaded_partitions(), [0, 1, 2]);
}

/// librdkafka's 0081_admin closes static members and deletes their group one session timeout
/// later: the expiry must have happened by then, not at the coordinator's next tick. No ticker
/// runs in this test, so only the requests themselves can fire the due timers.
#[tokio::test]
async fn a_member_whose_session_ended_is_gone_for_the_next_admin_request() {
    let (broker, _guard) = crate::broker::start_for_test_with(|c| {
        c.group_min_session_timeout_ms = 100;
        c.group_initial_rebalance_delay_ms = 0;
    })
    .await;
    let session_ms = 300;
    let joined_at = broker.groups.with(|c, now| {
        let req = JoinRequest {
            client_id: "c".to_string(),
            group_instance_id: Some("static-0".to_string()),
            session_timeout_ms: session_ms,
            rebalance_timeout_ms: 10_000,
            protocol_type: "consumer".to_string(),
            protocols: vec![("range".to_string(), Bytes::new())],
            ..Default::default()
        };
        c.join("closing", req, 1, 0, now);
        let (member, generation) = match c.tick(now).first() {
            Some(Reply::Join(_, j)) => (j.member_id.clone(), j.generation),
            other => panic!("join answered: {other:?}"),
        };
        let sync = SyncRequest {
            generation,
            member_id: member.clone(),
            group_instance_id: Some("static-0".to_string()),
            assignments: vec![(member, Bytes::new())],
            ..Default::default()
        };
        c.sync("closing", sync, 2);
        now
    });
    let describe = || DescribeGroupsRequest::default().with_groups(vec![group_id("closing")]);
    let state = wire(&super::groups::describe(&broker, describe(), 5).await, 5).groups[0]
        .group_state
        .to_string();
    assert_eq!(state, "Stable");

    // The member neither heartbeats nor leaves (a closed static member): its session ends.
    let ends = joined_at + u64::try_from(session_ms).unwrap_or(0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while broker.groups.now() < ends {
        assert!(
            std::time::Instant::now() < deadline,
            "the clock did not advance"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let described = wire(&super::groups::describe(&broker, describe(), 5).await, 5);
    assert_eq!(described.groups[0].group_state.to_string(), "Empty");
    assert!(described.groups[0].members.is_empty());
    let deleted = super::groups::delete(
        &broker,
        DeleteGroupsRequest::default().with_groups_names(vec![group_id("closing")]),
    )
    .await;
    assert_eq!(deleted.results[0].error_code, 0, "{deleted:?}");
}
