//! Pipelining on one connection, over a real socket: requests sent without waiting are started
//! in order while earlier answers wait, consecutive produce requests share one fsync round, and
//! the answers come back strictly in request order.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::broker::{start_for_test_with, Broker};
use crate::log::partition_log::fsync_fault;
use crate::log::testutil;

/// A deadline for conditions that must come true: reaching it is a failure, not a measurement.
const DEADLINE: Duration = Duration::from_secs(60);

fn request_frame<T: Encodable>(key: ApiKey, version: i16, correlation_id: i32, body: &T) -> Bytes {
    let mut buf = BytesMut::new();
    buf.put_i32(0);
    RequestHeader::default()
        .with_request_api_key(key as i16)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str("pipelining-test")))
        .encode(&mut buf, key.request_header_version(version))
        .expect("header encodes");
    body.encode(&mut buf, version).expect("body encodes");
    let size = (buf.len() - 4) as i32;
    buf[..4].copy_from_slice(&size.to_be_bytes());
    buf.freeze()
}

/// Reads one response: its correlation id and the body after a header of `header_len` bytes.
async fn read_response(stream: &mut TcpStream, header_len: usize) -> (i32, Bytes) {
    let size = tokio::time::timeout(DEADLINE, stream.read_i32())
        .await
        .expect("a response in time")
        .expect("size");
    let mut body = vec![0u8; usize::try_from(size).expect("size")];
    stream.read_exact(&mut body).await.expect("body");
    let mut body = Bytes::from(body);
    let correlation_id = body.get_i32();
    body.advance(header_len - 4);
    (correlation_id, body)
}

fn produce(topic: &str, records: Vec<u8>) -> ProduceRequest {
    ProduceRequest::default()
        .with_acks(1)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(TopicName(StrBytes::from_string(topic.to_string())))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(0)
                .with_records(Some(Bytes::from(records)))])])
}

/// A broker that fsyncs every append, serving on a loopback port, and a connection to it with
/// topic `topic` created through it.
async fn broker_and_connection(topic: &str) -> (Arc<Broker>, impl Sized, TcpStream) {
    let (broker, guard) = start_for_test_with(|c| c.log_flush_interval_messages = 1).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(super::serve(listener, broker.clone()));
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let create = CreateTopicsRequest::default()
        .with_timeout_ms(30_000)
        .with_topics(vec![CreatableTopic::default()
            .with_name(TopicName(StrBytes::from_string(topic.to_string())))
            .with_num_partitions(1)
            .with_replication_factor(1)]);
    stream
        .write_all(&request_frame(ApiKey::CreateTopics, 7, 0, &create))
        .await
        .expect("send");
    let (id, mut body) = read_response(&mut stream, 5).await;
    assert_eq!(id, 0);
    let created = CreateTopicsResponse::decode(&mut body, 7).expect("decodes");
    assert_eq!(created.topics[0].error_code, 0, "{created:?}");
    wait_until("the partition is hosted", || {
        broker.partitions.get(topic, 0).is_some()
    })
    .await;
    (broker, guard, stream)
}

/// Releases the held fsyncs when the test ends, failed or not (or the runtime would wait for
/// the held thread forever).
struct Released(Arc<fsync_fault::SlowFsync>);

impl Drop for Released {
    fn drop(&mut self) {
        self.0.release();
    }
}

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Three produce requests sent back to back on one connection: while the first one's fsync is
/// held, the other two are read and appended (the connection does not wait for the first
/// answer), so one more fsync round covers both; an ApiVersions request sent behind them, though
/// answered at once, comes back last: answers keep the request order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_produce_requests_share_an_fsync_and_answers_keep_their_order() {
    let (broker, _guard, mut stream) = broker_and_connection("piped").await;
    let hosted = broker.partitions.get("piped", 0).expect("hosted");
    let gate = Released(fsync_fault::slow_down(&hosted.log.dir()));
    let flushes_before = hosted.log.flush_count();

    stream
        .write_all(&request_frame(
            ApiKey::Produce,
            9,
            1,
            &produce("piped", testutil::batch(1, 10)),
        ))
        .await
        .expect("send");
    let mut entered = gate.0.entered.subscribe();
    tokio::time::timeout(DEADLINE, entered.wait_for(|e| *e))
        .await
        .expect("the first produce's fsync starts")
        .expect("gate");

    let mut rest = BytesMut::new();
    for id in 2..=3 {
        rest.put_slice(&request_frame(
            ApiKey::Produce,
            9,
            id,
            &produce("piped", testutil::batch(1, 10)),
        ));
    }
    rest.put_slice(&request_frame(
        ApiKey::ApiVersions,
        3,
        4,
        &ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("test"))
            .with_client_software_version(StrBytes::from_static_str("1")),
    ));
    stream.write_all(&rest).await.expect("send");
    // Both later produces are appended while the first fsync is still held.
    wait_until("the pipelined produces are appended", || {
        hosted.log.log_end_offset() == 3
    })
    .await;
    gate.0.release();

    let mut order = Vec::new();
    for _ in 0..3 {
        let (id, mut body) = read_response(&mut stream, 5).await;
        let response = ProduceResponse::decode(&mut body, 9).expect("decodes");
        let p = &response.responses[0].partition_responses[0];
        assert_eq!(p.error_code, 0, "{response:?}");
        assert_eq!(p.base_offset, i64::from(id - 1));
        order.push(id);
    }
    let (id, mut body) = read_response(&mut stream, 4).await;
    let versions = ApiVersionsResponse::decode(&mut body, 3).expect("decodes");
    assert_eq!(versions.error_code, 0);
    order.push(id);
    assert_eq!(order, vec![1, 2, 3, 4]);
    assert_eq!(
        hosted.log.flush_count() - flushes_before,
        2,
        "three appends, two fsync rounds"
    );
}

/// A request the broker closes the connection on (here an unknown API key) comes after
/// pipelined requests: their answers are written first, then the connection closes.
#[tokio::test]
async fn answers_before_a_closing_request_are_still_written() {
    let (_broker, _guard, mut stream) = broker_and_connection("closing").await;
    let mut frames = BytesMut::new();
    frames.put_slice(&request_frame(
        ApiKey::Produce,
        9,
        1,
        &produce("closing", testutil::batch(2, 10)),
    ));
    // api key 999: not a Kafka API.
    frames.put_i32(8);
    frames.put_i16(999);
    frames.put_i16(0);
    frames.put_i32(2);
    stream.write_all(&frames).await.expect("send");
    let (id, mut body) = read_response(&mut stream, 5).await;
    assert_eq!(id, 1);
    let response = ProduceResponse::decode(&mut body, 9).expect("decodes");
    assert_eq!(response.responses[0].partition_responses[0].error_code, 0);
    let mut rest = Vec::new();
    let read = tokio::time::timeout(DEADLINE, stream.read_to_end(&mut rest))
        .await
        .expect("closed in time");
    assert!(read.is_err() || rest.is_empty(), "nothing after the close");
}

/// A connection ends when its peer closes it, and when it idles past `connections.max.idle.ms`
/// (the reader stopping closes the answer queue, so the writer ends too).
#[tokio::test]
async fn a_connection_ends_on_close_and_on_idle() {
    let (broker, _guard) = start_for_test_with(|c| {
        c.connections_max_idle = Duration::from_millis(300);
    })
    .await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let budget = Arc::new(super::limits::RequestBudget::new(None));
    for close in [true, false] {
        let mut client = TcpStream::connect(addr).await.expect("connect");
        let (server, peer) = listener.accept().await.expect("accept");
        let serving = tokio::spawn({
            let (broker, budget) = (broker.clone(), budget.clone());
            async move { super::connection::serve(server, peer, broker, &budget).await }
        });
        client
            .write_all(&request_frame(
                ApiKey::ApiVersions,
                3,
                9,
                &ApiVersionsRequest::default()
                    .with_client_software_name(StrBytes::from_static_str("test"))
                    .with_client_software_version(StrBytes::from_static_str("1")),
            ))
            .await
            .expect("send");
        let (id, _) = read_response(&mut client, 4).await;
        assert_eq!(id, 9);
        if close {
            drop(client);
            let ended = tokio::time::timeout(DEADLINE, serving)
                .await
                .expect("the connection ends when the peer closes it")
                .expect("task");
            assert!(ended.is_ok(), "{ended:?}");
        } else {
            let ended = tokio::time::timeout(DEADLINE, serving)
                .await
                .expect("an idle connection is closed")
                .expect("task");
            assert!(matches!(ended, Err(super::ConnError::Idle(_))), "{ended:?}");
            let mut rest = Vec::new();
            let read = client.read_to_end(&mut rest).await;
            assert!(read.is_err() || rest.is_empty());
        }
    }
}
