//! The broker's group coordinator spoken to with raw Kafka requests (the wire codec of the
//! `kafka-protocol` crate, no client library in between), so that each error code is the broker's
//! own: bad input gets Kafka's errors while the group goes on, DescribeGroups/ListGroups/
//! DeleteGroups/OffsetFetch answer as Kafka does, and committed offsets survive `kill -9` of the
//! broker and of zookeeper-lite.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use e2e::{wait_until, Broker, Cluster, STARTUP_TIMEOUT};
use kafka_protocol::messages::describe_groups_response::DescribedGroup;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_delete_request::{
    OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestGroup;
use kafka_protocol::messages::offset_fetch_response::OffsetFetchResponseGroup;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    ApiKey, DeleteGroupsRequest, DescribeGroupsRequest, FindCoordinatorRequest, GroupId,
    HeartbeatRequest, JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest, ListGroupsRequest,
    OffsetCommitRequest, OffsetCommitResponse, OffsetDeleteRequest, OffsetFetchRequest,
    RequestHeader, ResponseHeader, SyncGroupRequest, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, Request, StrBytes};
use kafka_protocol::ResponseError as E;

const IO_TIMEOUT: Duration = Duration::from_secs(30);

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

/// One connection speaking raw requests, one at a time.
struct Conn {
    stream: TcpStream,
    correlation: i32,
}

impl Conn {
    fn open(bootstrap: &str) -> Conn {
        let stream = TcpStream::connect(bootstrap).expect("connect to the broker");
        stream.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        Conn {
            stream,
            correlation: 0,
        }
    }

    fn call<R: Request>(&mut self, version: i16, request: &R) -> R::Response {
        self.try_call(version, request)
            .unwrap_or_else(|e| panic!("API {} v{version}: {e}", R::KEY))
    }

    fn try_call<R: Request>(&mut self, version: i16, request: &R) -> Result<R::Response, String> {
        let key = ApiKey::try_from(R::KEY).map_err(|_| "unknown key".to_string())?;
        self.correlation += 1;
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation)
            .with_client_id(Some(s("e2e-groups")));
        let mut buf = BytesMut::new();
        header
            .encode(&mut buf, key.request_header_version(version))
            .map_err(|e| e.to_string())?;
        request
            .encode(&mut buf, version)
            .map_err(|e| e.to_string())?;
        let mut frame = (buf.len() as i32).to_be_bytes().to_vec();
        frame.extend_from_slice(&buf);
        self.stream
            .write_all(&frame)
            .map_err(|e| format!("write: {e}"))?;
        let mut size = [0u8; 4];
        self.stream
            .read_exact(&mut size)
            .map_err(|e| format!("read: {e}"))?;
        let mut body = vec![0u8; i32::from_be_bytes(size).clamp(0, 64 << 20) as usize];
        self.stream
            .read_exact(&mut body)
            .map_err(|e| format!("read: {e}"))?;
        let mut body = Bytes::from(body);
        let rh = ResponseHeader::decode(&mut body, key.response_header_version(version))
            .map_err(|e| e.to_string())?;
        assert_eq!(rh.correlation_id, self.correlation);
        R::Response::decode(&mut body, version).map_err(|e| e.to_string())
    }
}

fn code(e: E) -> i16 {
    e.code()
}

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

fn join_request(group: &str, member_id: &str, protocol_type: &str) -> JoinGroupRequest {
    JoinGroupRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_session_timeout_ms(10_000)
        .with_rebalance_timeout_ms(10_000)
        .with_member_id(s(member_id))
        .with_protocol_type(s(protocol_type))
        .with_protocols(vec![JoinGroupRequestProtocol::default()
            .with_name(s("range"))
            .with_metadata(subscription(&["t"]))])
}

/// JoinGroup v5 with the MEMBER_ID_REQUIRED round trip; returns the (single-member) answer.
fn join_alone(conn: &mut Conn, group: &str) -> JoinGroupResponse {
    let first = conn.call(5, &join_request(group, "", "consumer"));
    assert_eq!(first.error_code, code(E::MemberIdRequired));
    assert!(first.member_id.starts_with("e2e-groups-"), "{first:?}");
    let second = conn.call(
        5,
        &join_request(group, first.member_id.as_str(), "consumer"),
    );
    assert_eq!(second.error_code, 0, "{second:?}");
    assert_eq!(second.member_id, first.member_id);
    assert_eq!(second.leader, second.member_id);
    assert_eq!(second.protocol_name.as_deref(), Some("range"));
    second
}

fn sync(conn: &mut Conn, group: &str, member: &str, generation: i32) -> i16 {
    let req = SyncGroupRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_generation_id(generation)
        .with_member_id(s(member))
        .with_assignments(vec![SyncGroupRequestAssignment::default()
            .with_member_id(s(member))
            .with_assignment(Bytes::from_static(b"assignment"))]);
    conn.call(3, &req).error_code
}

fn heartbeat(conn: &mut Conn, group: &str, member: &str, generation: i32) -> i16 {
    let req = HeartbeatRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_generation_id(generation)
        .with_member_id(s(member));
    conn.call(3, &req).error_code
}

fn commit(
    conn: &mut Conn,
    group: &str,
    member: &str,
    generation: i32,
    offsets: &[(&str, i64, &str)],
) -> OffsetCommitResponse {
    let topics = offsets
        .iter()
        .map(|(topic, offset, metadata)| {
            OffsetCommitRequestTopic::default()
                .with_name(TopicName(s(topic)))
                .with_partitions(vec![OffsetCommitRequestPartition::default()
                    .with_partition_index(0)
                    .with_committed_offset(*offset)
                    .with_committed_metadata(Some(s(metadata)))])
        })
        .collect();
    let req = OffsetCommitRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_generation_id_or_member_epoch(generation)
        .with_member_id(s(member))
        .with_topics(topics);
    conn.call(8, &req)
}

fn commit_error(resp: &OffsetCommitResponse, topic: &str) -> i16 {
    resp.topics
        .iter()
        .find(|t| t.name.as_str() == topic)
        .and_then(|t| t.partitions.first())
        .map(|p| p.error_code)
        .unwrap_or_else(|| panic!("no answer for {topic}: {resp:?}"))
}

/// One committed offset as OffsetFetch answers it: (topic, partition, offset, metadata).
type Committed = (String, i32, i64, Option<String>);

/// OffsetFetch v8 of all the group's offsets.
fn try_fetch_offsets(conn: &mut Conn, group: &str) -> Result<Vec<Committed>, String> {
    let req = OffsetFetchRequest::default().with_groups(vec![OffsetFetchRequestGroup::default()
        .with_group_id(GroupId(s(group)))
        .with_topics(None)]);
    let resp = conn.try_call(8, &req)?;
    let g: &OffsetFetchResponseGroup = resp.groups.first().ok_or("no group in the answer")?;
    if g.error_code != 0 {
        return Err(format!("error {}", g.error_code));
    }
    Ok(g.topics
        .iter()
        .flat_map(|t| {
            t.partitions.iter().map(|p| {
                (
                    t.name.as_str().to_string(),
                    p.partition_index,
                    p.committed_offset,
                    p.metadata.as_ref().map(|m| m.as_str().to_string()),
                )
            })
        })
        .collect())
}

/// OffsetDelete of partition 0 of `topic`: (top-level error, partition error).
fn delete_offset(conn: &mut Conn, group: &str, topic: &str) -> (i16, Option<i16>) {
    let req = OffsetDeleteRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_topics(vec![OffsetDeleteRequestTopic::default()
            .with_name(TopicName(s(topic)))
            .with_partitions(vec![
                OffsetDeleteRequestPartition::default().with_partition_index(0)
            ])]);
    let resp = conn.call(0, &req);
    let partition = resp
        .topics
        .first()
        .and_then(|t| t.partitions.first())
        .map(|p| p.error_code);
    (resp.error_code, partition)
}

fn describe(conn: &mut Conn, group: &str) -> DescribedGroup {
    let req = DescribeGroupsRequest::default().with_groups(vec![GroupId(s(group))]);
    conn.call(5, &req).groups.remove(0)
}

fn list(conn: &mut Conn) -> Vec<(String, String)> {
    conn.call(4, &ListGroupsRequest::default())
        .groups
        .iter()
        .map(|g| {
            (
                g.group_id.as_str().to_string(),
                g.group_state.as_str().to_string(),
            )
        })
        .collect()
}

#[test]
fn bad_input_gets_kafkas_errors_and_the_group_goes_on() {
    let cluster = Cluster::start_with(&[("group.initial.rebalance.delay.ms", "0")]);
    cluster.create_topic("t", 1);
    e2e::raw::wait_for_groups(&cluster.bootstrap(), &["g", "admin", "nobody", "nope"]);
    let mut conn = Conn::open(&cluster.bootstrap());

    let found = conn.call(3, &FindCoordinatorRequest::default().with_key(s("g")));
    assert_eq!(found.error_code, 0);
    assert_eq!(found.node_id.0, 0);
    assert_eq!(i64::from(found.port), i64::from(cluster.broker.port()));

    let joined = join_alone(&mut conn, "g");
    let (member, generation) = (joined.member_id.as_str().to_string(), joined.generation_id);
    assert_eq!(sync(&mut conn, "g", &member, generation), 0);

    // Another protocol type into a group of "consumer" members.
    let mut other = Conn::open(&cluster.bootstrap());
    let odd = other.call(5, &join_request("g", "", "connect"));
    assert_eq!(odd.error_code, code(E::InconsistentGroupProtocol));

    // A SyncGroup from a stale generation.
    assert_eq!(
        sync(&mut conn, "g", &member, generation - 1),
        code(E::IllegalGeneration)
    );

    // An OffsetCommit for a missing topic; the existing topic's partition is stored.
    let resp = commit(
        &mut conn,
        "g",
        &member,
        generation,
        &[("missing", 1, ""), ("t", 5, "meta")],
    );
    assert_eq!(
        commit_error(&resp, "missing"),
        code(E::UnknownTopicOrPartition)
    );
    assert_eq!(commit_error(&resp, "t"), 0);

    // A heartbeat from an unknown member.
    assert_eq!(
        heartbeat(&mut other, "g", "nobody", generation),
        code(E::UnknownMemberId)
    );

    assert_eq!(
        heartbeat(&mut other, "", "nobody", generation),
        code(E::InvalidGroupId)
    );

    // The group goes on.
    assert_eq!(heartbeat(&mut conn, "g", &member, generation), 0);
    let d = describe(&mut conn, "g");
    assert_eq!(d.error_code, 0);
    assert_eq!(d.group_state.as_str(), "Stable");
    assert_eq!(d.protocol_type.as_str(), "consumer");
    assert_eq!(d.protocol_data.as_str(), "range");
    assert_eq!(d.members.len(), 1);
    let m = &d.members[0];
    assert_eq!(m.member_id.as_str(), member);
    assert_eq!(m.client_id.as_str(), "e2e-groups");
    assert_eq!(m.client_host.as_str(), "/127.0.0.1");
    assert_eq!(m.member_assignment.as_ref(), b"assignment");
    assert_eq!(m.member_metadata, subscription(&["t"]));

    assert_eq!(
        try_fetch_offsets(&mut conn, "g").unwrap(),
        vec![("t".to_string(), 0, 5, Some("meta".to_string()))]
    );
    assert!(list(&mut conn).contains(&("g".to_string(), "Stable".to_string())));

    let deleted = conn.call(
        2,
        &DeleteGroupsRequest::default().with_groups_names(vec![GroupId(s("g"))]),
    );
    assert_eq!(deleted.results[0].error_code, code(E::NonEmptyGroup));
    assert_eq!(
        delete_offset(&mut conn, "g", "t"),
        (0, Some(code(E::GroupSubscribedToTopic)))
    );

    // An unknown group is Dead with no error.
    let unknown = describe(&mut conn, "no-such-group");
    assert_eq!(unknown.error_code, 0);
    assert_eq!(unknown.group_state.as_str(), "Dead");

    // The member leaves: the group is Empty with its offsets, then deletable.
    let left = conn.call(
        3,
        &LeaveGroupRequest::default()
            .with_group_id(GroupId(s("g")))
            .with_members(vec![MemberIdentity::default().with_member_id(s(&member))]),
    );
    assert_eq!(left.error_code, 0);
    assert_eq!(left.members[0].error_code, 0);
    wait_until("the group to become Empty", STARTUP_TIMEOUT, || {
        (describe(&mut conn, "g").group_state.as_str() == "Empty").then_some(())
    });
    assert!(list(&mut conn).contains(&("g".to_string(), "Empty".to_string())));
    let resp = commit(&mut conn, "g", "", -1, &[("t", 6, "admin")]);
    assert_eq!(
        commit_error(&resp, "t"),
        0,
        "an admin commit to an Empty group"
    );
    assert_eq!(delete_offset(&mut conn, "g", "t"), (0, Some(0)));
    assert!(try_fetch_offsets(&mut conn, "g").unwrap().is_empty());
    let resp = commit(&mut conn, "g", "", -1, &[("t", 6, "admin")]);
    assert_eq!(commit_error(&resp, "t"), 0);
    let deleted = conn.call(
        2,
        &DeleteGroupsRequest::default().with_groups_names(vec![GroupId(s("g"))]),
    );
    assert_eq!(deleted.results[0].error_code, 0);
    assert_eq!(describe(&mut conn, "g").group_state.as_str(), "Dead");
    assert!(try_fetch_offsets(&mut conn, "g").unwrap().is_empty());
}

#[test]
fn committed_offsets_survive_kill_9_of_broker_and_zookeeper() {
    let mut cluster = Cluster::start_with(&[("group.initial.rebalance.delay.ms", "0")]);
    cluster.create_topic("t", 1);
    e2e::raw::wait_for_group_coordinator(&cluster.bootstrap(), "durable");
    let mut conn = Conn::open(&cluster.bootstrap());
    let joined = join_alone(&mut conn, "durable");
    let (member, generation) = (joined.member_id.as_str().to_string(), joined.generation_id);
    assert_eq!(sync(&mut conn, "durable", &member, generation), 0);
    let resp = commit(
        &mut conn,
        "durable",
        &member,
        generation,
        &[("t", 7, "seven")],
    );
    assert_eq!(commit_error(&resp, "t"), 0);
    let expected = vec![("t".to_string(), 0, 7, Some("seven".to_string()))];
    drop(conn);

    cluster.broker.kill9();
    cluster.broker.restart();
    let bootstrap = cluster.bootstrap();
    let read_back = |what: &str| {
        wait_until(what, STARTUP_TIMEOUT, || {
            let mut c = Conn::open(&bootstrap);
            try_fetch_offsets(&mut c, "durable")
                .ok()
                .filter(|o| *o == expected)
        })
    };
    read_back("the offsets after the broker's kill -9");

    cluster.zk.kill9();
    cluster.zk.restart();
    read_back("the offsets after zookeeper-lite's kill -9");

    // The group's new life continues above the recorded generation: its commits are not fenced.
    e2e::raw::wait_for_group_coordinator(&bootstrap, "durable");
    let mut conn = Conn::open(&bootstrap);
    let joined = join_alone(&mut conn, "durable");
    assert!(
        joined.generation_id > generation,
        "generation {} after {generation}",
        joined.generation_id
    );
    let member = joined.member_id.as_str().to_string();
    assert_eq!(sync(&mut conn, "durable", &member, joined.generation_id), 0);
    let resp = commit(
        &mut conn,
        "durable",
        &member,
        joined.generation_id,
        &[("t", 9, "nine")],
    );
    assert_eq!(commit_error(&resp, "t"), 0);
    assert_eq!(
        try_fetch_offsets(&mut conn, "durable").unwrap(),
        vec![("t".to_string(), 0, 9, Some("nine".to_string()))]
    );
}

/// Every advertised version of every group API is answered with a response the codec decodes
/// (the encoder refuses fields a version lacks, which would close the connection instead).
#[test]
fn every_advertised_group_api_version_answers() {
    let cluster = Cluster::start_with(&[("group.initial.rebalance.delay.ms", "0")]);
    cluster.create_topic("t", 1);
    let versions: Vec<String> = (0..=9).map(|v| format!("versions-{v}")).collect();
    let mut groups: Vec<&str> = versions.iter().map(String::as_str).collect();
    groups.extend(["g", "admin", "nobody", "nope"]);
    e2e::raw::wait_for_groups(&cluster.bootstrap(), &groups);
    let mut conn = Conn::open(&cluster.bootstrap());
    let ok = |r: Result<(), String>, what: String| {
        if let Err(e) = r {
            panic!("{what}: {e}");
        }
    };
    for v in 0..=4 {
        let req = if v >= 4 {
            FindCoordinatorRequest::default().with_coordinator_keys(vec![s("g")])
        } else {
            FindCoordinatorRequest::default().with_key(s("g"))
        };
        ok(
            conn.try_call(v, &req).map(|_| ()),
            format!("FindCoordinator v{v}"),
        );
    }
    for v in 0..=7 {
        let group = format!("versions-{v}");
        let resp = conn
            .try_call(v, &join_request(&group, "", "consumer"))
            .unwrap_or_else(|e| panic!("JoinGroup v{v}: {e}"));
        let expected = if v >= 4 { code(E::MemberIdRequired) } else { 0 };
        assert_eq!(resp.error_code, expected, "JoinGroup v{v}: {resp:?}");
        let member = resp.member_id.as_str().to_string();
        let sync_version = v.min(5);
        let req = SyncGroupRequest::default()
            .with_group_id(GroupId(s(&group)))
            .with_generation_id(resp.generation_id)
            .with_member_id(s(&member));
        ok(
            conn.try_call(sync_version, &req).map(|_| ()),
            format!("SyncGroup v{sync_version}"),
        );
    }
    for v in 0..=4 {
        let req = HeartbeatRequest::default()
            .with_group_id(GroupId(s("versions-0")))
            .with_member_id(s("nobody"));
        let resp = conn
            .try_call(v, &req)
            .unwrap_or_else(|e| panic!("Heartbeat v{v}: {e}"));
        assert_eq!(resp.error_code, code(E::UnknownMemberId));
    }
    for v in 0..=5 {
        let req = if v >= 3 {
            LeaveGroupRequest::default()
                .with_group_id(GroupId(s("versions-0")))
                .with_members(vec![MemberIdentity::default().with_member_id(s("nobody"))])
        } else {
            LeaveGroupRequest::default()
                .with_group_id(GroupId(s("versions-0")))
                .with_member_id(s("nobody"))
        };
        ok(
            conn.try_call(v, &req).map(|_| ()),
            format!("LeaveGroup v{v}"),
        );
    }
    for v in 2..=8 {
        let req = OffsetCommitRequest::default()
            .with_group_id(GroupId(s("admin")))
            .with_generation_id_or_member_epoch(-1)
            .with_topics(vec![OffsetCommitRequestTopic::default()
                .with_name(TopicName(s("t")))
                .with_partitions(vec![OffsetCommitRequestPartition::default()
                    .with_committed_offset(i64::from(v))
                    .with_committed_metadata(Some(s("m")))])]);
        let resp = conn
            .try_call(v, &req)
            .unwrap_or_else(|e| panic!("OffsetCommit v{v}: {e}"));
        assert_eq!(commit_error(&resp, "t"), 0, "OffsetCommit v{v}");
    }
    for v in 1..=8 {
        let req = if v >= 8 {
            OffsetFetchRequest::default().with_groups(vec![OffsetFetchRequestGroup::default()
                .with_group_id(GroupId(s("admin")))
                .with_topics(None)])
        } else {
            OffsetFetchRequest::default()
                .with_group_id(GroupId(s("admin")))
                .with_topics(Some(vec![
                    kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic::default()
                        .with_name(TopicName(s("t")))
                        .with_partition_indexes(vec![0]),
                ]))
        };
        let resp = conn
            .try_call(v, &req)
            .unwrap_or_else(|e| panic!("OffsetFetch v{v}: {e}"));
        let offset = if v >= 8 {
            resp.groups[0].topics[0].partitions[0].committed_offset
        } else {
            resp.topics[0].partitions[0].committed_offset
        };
        assert_eq!(offset, 8, "OffsetFetch v{v}: {resp:?}");
    }
    for v in 0..=5 {
        let resp = conn
            .try_call(v, &ListGroupsRequest::default())
            .unwrap_or_else(|e| panic!("ListGroups v{v}: {e}"));
        assert!(
            resp.groups.iter().any(|g| g.group_id.as_str() == "admin"),
            "ListGroups v{v}: {resp:?}"
        );
    }
    for v in 0..=5 {
        let req = DescribeGroupsRequest::default().with_groups(vec![GroupId(s("versions-0"))]);
        ok(
            conn.try_call(v, &req).map(|_| ()),
            format!("DescribeGroups v{v}"),
        );
    }
    for v in 0..=2 {
        let req = DeleteGroupsRequest::default().with_groups_names(vec![GroupId(s("nope"))]);
        let resp = conn
            .try_call(v, &req)
            .unwrap_or_else(|e| panic!("DeleteGroups v{v}: {e}"));
        assert_eq!(resp.results[0].error_code, code(E::GroupIdNotFound));
    }
}

/// With two brokers, every group has one coordinator: FindCoordinator names it from either
/// broker, and the other answers the group APIs with NOT_COORDINATOR.
#[test]
fn only_the_coordinator_serves_a_group() {
    let cluster = Cluster::start_with(&[("group.initial.rebalance.delay.ms", "0")]);
    let second = Broker::start(&cluster.zk, 1, &[("group.initial.rebalance.delay.ms", "0")]);
    let brokers = [(0, cluster.bootstrap()), (1, second.bootstrap())];
    // Both brokers must see both before they agree.
    let coordinator = wait_until(
        "both brokers to name one coordinator",
        STARTUP_TIMEOUT,
        || {
            let ids: Vec<(i32, i32)> = brokers
                .iter()
                .map(|(_, b)| {
                    let found = Conn::open(b).call(
                        4,
                        &FindCoordinatorRequest::default().with_coordinator_keys(vec![s("g")]),
                    );
                    let c = &found.coordinators[0];
                    (c.error_code.into(), c.node_id.0)
                })
                .collect();
            let agreed = ids.iter().all(|&(e, id)| e == 0 && id == ids[0].1);
            let other = Conn::open(&brokers[0].1)
                .call(1, &kafka_protocol::messages::MetadataRequest::default())
                .brokers
                .len();
            (agreed && other == 2).then_some(ids[0].1)
        },
    );
    let (_, other_addr) = brokers
        .iter()
        .find(|(id, _)| *id != coordinator)
        .expect("two brokers");
    let mut wrong = Conn::open(other_addr);
    let join = wrong.call(5, &join_request("g", "", "consumer"));
    assert_eq!(join.error_code, code(E::NotCoordinator));
    assert_eq!(heartbeat(&mut wrong, "g", "m", 1), code(E::NotCoordinator));
    let resp = commit(&mut wrong, "g", "", -1, &[("t", 1, "")]);
    assert_eq!(commit_error(&resp, "t"), code(E::NotCoordinator));
    let (_, right_addr) = brokers
        .iter()
        .find(|(id, _)| *id == coordinator)
        .expect("the coordinator");
    e2e::raw::wait_for_group_coordinator(right_addr, "g");
    let mut right = Conn::open(right_addr);
    let first = right.call(5, &join_request("g", "", "consumer"));
    assert_eq!(first.error_code, code(E::MemberIdRequired));
}
