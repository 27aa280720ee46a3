//! Request shapes Kafka 3.9 answers in its own way, sent raw to the real broker.
//!
//! OffsetCommit v1 carries a per-partition `commit_timestamp`; Kafka 3.9's coordinator
//! (`GroupCoordinatorAdapter.commitOffsets`) stores it as the commit time unless it is -1, and
//! offsets retention counts from it, so an old one expires at the next cleanup.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Buf, BufMut, BytesMut};
use e2e::raw::Conn;
use e2e::{wait_until, Cluster};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::{
    ApiKey, GroupId, OffsetFetchRequest, OffsetFetchResponse, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

fn put_string(out: &mut BytesMut, v: &str) {
    out.put_i16(v.len() as i16);
    out.put_slice(v.as_bytes());
}

/// OffsetCommit v1 of offset 42 for partition 0 of each `(topic, commit_timestamp)`, as a
/// standalone consumer (generation -1, no member) such as Sarama or Burrow sends it. Returns
/// the error codes.
fn commit_v1(conn: &mut Conn, group: &str, topics: &[(&str, i64)]) -> Vec<i16> {
    let mut body = BytesMut::new();
    put_string(&mut body, group);
    body.put_i32(-1);
    put_string(&mut body, "");
    body.put_i32(topics.len() as i32);
    for (topic, timestamp) in topics {
        put_string(&mut body, topic);
        body.put_i32(1);
        body.put_i32(0);
        body.put_i64(42);
        body.put_i64(*timestamp);
        put_string(&mut body, "");
    }
    let mut r = conn.exchange(ApiKey::OffsetCommit, 1, &body);
    let mut codes = Vec::new();
    for _ in 0..r.get_i32() {
        let n = r.get_i16();
        r.advance(n as usize);
        for _ in 0..r.get_i32() {
            r.get_i32();
            codes.push(r.get_i16());
        }
    }
    codes
}

fn committed(conn: &mut Conn, group: &str, topic: &str) -> i64 {
    let request = OffsetFetchRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group.to_string())))
        .with_topics(Some(vec![OffsetFetchRequestTopic::default()
            .with_name(TopicName(StrBytes::from_string(topic.to_string())))
            .with_partition_indexes(vec![0])]));
    let mut body = BytesMut::new();
    request.encode(&mut body, 1).expect("encodes");
    let mut r = conn.exchange(ApiKey::OffsetFetch, 1, &body);
    let response = OffsetFetchResponse::decode(&mut r, 1).expect("decodes");
    response.topics[0].partitions[0].committed_offset
}

#[test]
fn offset_commit_v1_with_an_old_commit_timestamp_expires_at_the_next_cleanup() {
    let cluster = Cluster::start_with(&[("offsets.retention.check.interval.ms", "300")]);
    cluster.create_topic("stamped-old", 1);
    cluster.create_topic("stamped-now", 1);
    e2e::raw::wait_for_group_coordinator(&cluster.bootstrap(), "v1-stamped");
    let mut conn = Conn::open(&cluster.bootstrap());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    // offsets.retention.minutes is 7 days by default: 8 days ago is past it.
    let eight_days_ago = now - 8 * 24 * 3_600_000;
    let codes = commit_v1(
        &mut conn,
        "v1-stamped",
        &[("stamped-old", eight_days_ago), ("stamped-now", -1)],
    );
    assert_eq!(codes, [0, 0]);
    wait_until(
        "the offset committed 8 days ago expires",
        Duration::from_secs(30),
        || (committed(&mut conn, "v1-stamped", "stamped-old") == -1).then_some(()),
    );
    assert_eq!(
        committed(&mut conn, "v1-stamped", "stamped-now"),
        42,
        "a commit stamped by the broker (-1) stays"
    );
}
