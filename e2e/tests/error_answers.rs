//! Error answers carry Kafka 3.9's field values, seen on the wire from the real broker: raw
//! Fetch and ListOffsets requests, encoded and decoded with the kafka-protocol codec.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use e2e::{run_tool, Cluster, TOOL_TIMEOUT};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{
    ApiKey, BrokerId, FetchRequest, FetchResponse, ListOffsetsRequest, ListOffsetsResponse,
    RequestHeader, ResponseHeader, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};

/// Sends one request and returns the decoded response body.
fn round_trip<Req, Resp>(stream: &mut TcpStream, key: ApiKey, version: i16, request: &Req) -> Resp
where
    Req: Encodable + HeaderVersion,
    Resp: Decodable + HeaderVersion,
{
    let header = RequestHeader::default()
        .with_request_api_key(key as i16)
        .with_request_api_version(version)
        .with_correlation_id(7)
        .with_client_id(Some(StrBytes::from_static_str("e2e-raw")));
    let mut body = BytesMut::new();
    header
        .encode(&mut body, Req::header_version(version))
        .expect("header encodes");
    request.encode(&mut body, version).expect("request encodes");
    let mut frame = (body.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    stream.write_all(&frame).expect("request sent");
    let mut size = [0u8; 4];
    stream.read_exact(&mut size).expect("response size");
    let mut buf = vec![0u8; i32::from_be_bytes(size) as usize];
    stream.read_exact(&mut buf).expect("response body");
    let mut bytes = Bytes::from(buf);
    let header = ResponseHeader::decode(&mut bytes, Resp::header_version(version))
        .expect("response header decodes");
    assert_eq!(header.correlation_id, 7);
    Resp::decode(&mut bytes, version).expect("response decodes")
}

fn connect(cluster: &Cluster) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", cluster.broker.port())).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    stream
}

fn topic(name: &str) -> TopicName {
    TopicName(StrBytes::from_string(name.to_string()))
}

#[test]
fn fetch_out_of_range_answers_high_watermark_minus_one_on_the_wire() {
    let cluster = Cluster::start();
    cluster.create_topic("raw", 1);
    let bs = cluster.bootstrap();
    run_tool(
        "kafka-console-producer",
        &["--bootstrap-server", &bs, "--topic", "raw"],
        b"a\nb\nc\n",
        TOOL_TIMEOUT,
    )
    .assert_success("kafka-console-producer");
    let mut stream = connect(&cluster);
    let fetch = |offset: i64, partition: i32| {
        FetchRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_max_wait_ms(0)
            .with_max_bytes(1 << 20)
            .with_topics(vec![FetchTopic::default()
                .with_topic(topic("raw"))
                .with_partitions(vec![FetchPartition::default()
                    .with_partition(partition)
                    .with_fetch_offset(offset)
                    .with_partition_max_bytes(1 << 20)])])
    };
    for version in [11, 12] {
        let response: FetchResponse =
            round_trip(&mut stream, ApiKey::Fetch, version, &fetch(100, 0));
        let p = &response.responses[0].partitions[0];
        assert_eq!(p.error_code, 1, "OFFSET_OUT_OF_RANGE, v{version}");
        assert_eq!(
            (p.high_watermark, p.last_stable_offset, p.log_start_offset),
            (-1, -1, -1),
            "v{version}: {p:?}"
        );
        assert_eq!(p.records.as_ref().map(Bytes::len), Some(0));

        let response: FetchResponse = round_trip(&mut stream, ApiKey::Fetch, version, &fetch(0, 0));
        let p = &response.responses[0].partitions[0];
        assert_eq!(p.error_code, 0);
        assert_eq!((p.high_watermark, p.log_start_offset), (3, 0), "{p:?}");
    }
}

#[test]
fn list_offsets_after_the_last_timestamp_answers_minus_one_on_the_wire() {
    let cluster = Cluster::start();
    cluster.create_topic("raw-lo", 1);
    let bs = cluster.bootstrap();
    run_tool(
        "kafka-console-producer",
        &["--bootstrap-server", &bs, "--topic", "raw-lo"],
        b"x\n",
        TOOL_TIMEOUT,
    )
    .assert_success("kafka-console-producer");
    let mut stream = connect(&cluster);
    let request = ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(topic("raw-lo"))
            .with_partitions(vec![
                // Far in the future: nothing at or after it.
                ListOffsetsPartition::default()
                    .with_partition_index(0)
                    .with_timestamp(i64::MAX / 2),
                ListOffsetsPartition::default()
                    .with_partition_index(9)
                    .with_timestamp(-1),
            ])]);
    let response: ListOffsetsResponse = round_trip(&mut stream, ApiKey::ListOffsets, 7, &request);
    let ps = &response.topics[0].partitions;
    assert_eq!(ps[0].error_code, 0);
    assert_eq!(
        (ps[0].offset, ps[0].timestamp, ps[0].leader_epoch),
        (-1, -1, -1)
    );
    assert_eq!(ps[1].error_code, 3, "UNKNOWN_TOPIC_OR_PARTITION");
    assert_eq!(
        (ps[1].offset, ps[1].timestamp, ps[1].leader_epoch),
        (-1, -1, -1)
    );
}
