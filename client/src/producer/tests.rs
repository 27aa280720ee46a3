//! Producer behaviour against the in-process fake broker.

use super::*;
use crate::partitioner::partition_for_key;
use test_broker::{FakeBroker, FakeBrokerOptions};

fn topic(name: &str, partitions: i32) -> Vec<(String, i32)> {
    vec![(name.to_string(), partitions)]
}

fn config(broker: &FakeBroker, idempotence: bool) -> ProducerConfig {
    ProducerConfig {
        bootstrap_servers: broker.addr(),
        enable_idempotence: idempotence,
        retry_backoff_ms: 10,
        max_block_ms: 2000,
        ..Default::default()
    }
}

async fn send_all(
    producer: &Producer,
    records: Vec<ProducerRecord>,
) -> Vec<Result<RecordMetadata, ClientError>> {
    let mut futures = Vec::new();
    for r in records {
        futures.push(producer.send(r).await.expect("queued"));
    }
    producer.flush().await.expect("flush");
    let mut out = Vec::new();
    for f in futures {
        out.push(f.await);
    }
    out
}

#[tokio::test]
async fn keyed_records_land_on_murmur2_partitions_with_offsets() {
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: topic("t", 3),
        ..Default::default()
    })
    .await;
    let producer = Producer::new(config(&broker, false))
        .await
        .expect("producer");
    let keys = ["a", "b", "c", "foobar", "a"];
    let records = keys
        .iter()
        .map(|k| ProducerRecord::new("t", format!("v-{k}")).with_key(k.to_string()))
        .collect();
    let results = send_all(&producer, records).await;
    let mut next = [0i64; 3];
    for (k, r) in keys.iter().zip(results) {
        let md = r.expect("acked");
        assert_eq!(md.partition, partition_for_key(k.as_bytes(), 3), "key {k}");
        assert_eq!(md.offset, next[md.partition as usize]);
        next[md.partition as usize] += 1;
    }
    producer.close().await.expect("close");
}

#[tokio::test]
async fn unkeyed_records_go_round_robin() {
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: topic("t", 3),
        ..Default::default()
    })
    .await;
    let producer = Producer::new(config(&broker, false))
        .await
        .expect("producer");
    let records = (0..6)
        .map(|i| ProducerRecord::new("t", format!("{i}")))
        .collect();
    let partitions: Vec<i32> = send_all(&producer, records)
        .await
        .into_iter()
        .map(|r| r.expect("acked").partition)
        .collect();
    assert_eq!(partitions, vec![0, 1, 2, 0, 1, 2]);
}

#[tokio::test]
async fn lingering_records_share_one_request() {
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: topic("t", 1),
        ..Default::default()
    })
    .await;
    let producer = Producer::new(ProducerConfig {
        linger_ms: 10_000,
        ..config(&broker, false)
    })
    .await
    .expect("producer");
    let records = (0..5)
        .map(|i| ProducerRecord::new("t", format!("{i}")))
        .collect();
    let offsets: Vec<i64> = send_all(&producer, records)
        .await
        .into_iter()
        .map(|r| r.expect("acked").offset)
        .collect();
    assert_eq!(offsets, vec![0, 1, 2, 3, 4]);
    assert_eq!(broker.produce_requests(), 1);
}

#[tokio::test]
async fn not_leader_errors_are_retried() {
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: topic("t", 1),
        fail_produces: 2,
        ..Default::default()
    })
    .await;
    let producer = Producer::new(config(&broker, false))
        .await
        .expect("producer");
    let r = send_all(&producer, vec![ProducerRecord::new("t", "x")]).await;
    assert_eq!(r[0].as_ref().map(|m| m.offset).ok(), Some(0));
    assert_eq!(broker.produce_requests(), 3);
}

#[tokio::test]
async fn retries_exhausted_fail_with_the_broker_error() {
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: topic("t", 1),
        fail_produces: 10,
        ..Default::default()
    })
    .await;
    let producer = Producer::new(ProducerConfig {
        retries: 1,
        ..config(&broker, false)
    })
    .await
    .expect("producer");
    let r = send_all(&producer, vec![ProducerRecord::new("t", "x")]).await;
    assert_eq!(r[0].as_ref().err().and_then(|e| e.code()), Some(6));
}

/// A broker that drops the connection under a Produce request fails the records (once retries
/// are spent) as Kafka's `Sender` does: NETWORK_EXCEPTION "Disconnected from node N"
/// (`NetworkException`), not an I/O error naming the socket.
#[tokio::test]
async fn a_lost_connection_fails_records_with_kafkas_disconnect_error() {
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: topic("t", 1),
        close_on_produce: true,
        ..Default::default()
    })
    .await;
    let producer = Producer::new(ProducerConfig {
        retries: 1,
        retry_backoff_ms: 10,
        ..config(&broker, false)
    })
    .await
    .expect("producer");
    let r = send_all(&producer, vec![ProducerRecord::new("t", "x")]).await;
    let e = r[0].as_ref().expect_err("no broker kept the record");
    assert_eq!(e.code(), Some(common::errors::codes::NETWORK_EXCEPTION));
    assert_eq!(e.to_string(), "Disconnected from node 0");
    assert!(e.is_retriable());
}

#[tokio::test]
async fn idempotent_retry_after_lost_ack_is_not_duplicated() {
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: topic("t", 1),
        init_producer_id: true,
        lose_acks: 1,
        ..Default::default()
    })
    .await;
    let producer = Producer::new(config(&broker, true))
        .await
        .expect("producer");
    let first = send_all(&producer, vec![ProducerRecord::new("t", "a")]).await;
    assert_eq!(first[0].as_ref().map(|m| m.offset).ok(), Some(0));
    let second = send_all(&producer, vec![ProducerRecord::new("t", "b")]).await;
    assert_eq!(second[0].as_ref().map(|m| m.offset).ok(), Some(1));
    assert_eq!(broker.log_end_offset("t", 0), 2);
}

#[tokio::test]
async fn idempotence_without_init_producer_id_fails_records() {
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: topic("t", 1),
        ..Default::default()
    })
    .await;
    let producer = Producer::new(config(&broker, true))
        .await
        .expect("producer");
    let r = send_all(&producer, vec![ProducerRecord::new("t", "x")]).await;
    assert!(
        matches!(r[0], Err(ClientError::UnsupportedVersion(_))),
        "{:?}",
        r[0]
    );
}

#[tokio::test]
async fn metadata_refreshes_for_a_missing_topic_back_off_exponentially() {
    let broker = FakeBroker::start(FakeBrokerOptions::default()).await;
    let producer = Producer::new(ProducerConfig {
        max_block_ms: 1_000,
        retry_backoff_ms: 10,
        retry_backoff_max_ms: 200,
        ..config(&broker, false)
    })
    .await
    .expect("producer");
    let err = producer.send(ProducerRecord::new("nope", "x")).await.err();
    assert!(err.is_some());
    // Waits of 10, 20, 40, 80, 160, 200, 200, ... ms fit about 9 refreshes into the second; a
    // fixed 10 ms would have sent about 90.
    let sent = producer.shared.metadata_requests.load(Ordering::Relaxed);
    assert!((5..=14).contains(&sent), "{sent} metadata refreshes");
}

#[tokio::test]
async fn missing_topic_times_out_with_kafkas_text() {
    let broker = FakeBroker::start(FakeBrokerOptions::default()).await;
    let producer = Producer::new(ProducerConfig {
        max_block_ms: 200,
        ..config(&broker, false)
    })
    .await
    .expect("producer");
    let err = producer
        .send(ProducerRecord::new("nope", "x"))
        .await
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("Topic nope not present in metadata after 200 ms.")
    );
}

#[tokio::test]
async fn auto_created_topic_is_waited_for() {
    let broker = FakeBroker::start(FakeBrokerOptions {
        auto_create: true,
        init_producer_id: true,
        ..Default::default()
    })
    .await;
    let producer = Producer::new(config(&broker, true))
        .await
        .expect("producer");
    let r = send_all(&producer, vec![ProducerRecord::new("fresh", "x")]).await;
    assert_eq!(r[0].as_ref().map(|m| m.offset).ok(), Some(0));
}

#[tokio::test]
async fn acks_zero_resolves_without_offsets() {
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: topic("t", 1),
        ..Default::default()
    })
    .await;
    let producer = Producer::new(ProducerConfig {
        acks: 0,
        ..config(&broker, false)
    })
    .await
    .expect("producer");
    let r = send_all(&producer, vec![ProducerRecord::new("t", "x")]).await;
    assert_eq!(r[0].as_ref().map(|m| m.offset).ok(), Some(-1));
}

#[tokio::test]
async fn partition_out_of_range_is_rejected() {
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: topic("t", 1),
        ..Default::default()
    })
    .await;
    let producer = Producer::new(ProducerConfig {
        max_block_ms: 100,
        ..config(&broker, false)
    })
    .await
    .expect("producer");
    let err = producer
        .send(ProducerRecord::new("t", "x").with_partition(5))
        .await
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("Partition 5 of topic t with partition count 1 is not present in metadata after 100 ms.")
    );
}

#[tokio::test]
async fn every_codec_is_accepted() {
    for compression in [
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ] {
        let broker = FakeBroker::start(FakeBrokerOptions {
            topics: topic("t", 1),
            init_producer_id: true,
            ..Default::default()
        })
        .await;
        let producer = Producer::new(ProducerConfig {
            compression,
            ..config(&broker, true)
        })
        .await
        .expect("producer");
        let r = send_all(&producer, vec![ProducerRecord::new("t", "x")]).await;
        assert!(r[0].is_ok(), "{compression:?}: {:?}", r[0]);
    }
}

/// The tools run these futures on a multi-threaded runtime (spawned tasks need `Send`).
#[allow(dead_code)]
fn client_futures_are_send(
    producer: &Producer,
    consumer: &mut crate::consumer::Consumer,
    admin: &crate::admin::Admin,
) {
    fn is_send<T: Send>(_: T) {}
    is_send(producer.send(ProducerRecord::new("t", "x")));
    is_send(producer.flush());
    is_send(admin.list_topics());
    is_send(admin.create_topic(crate::admin::NewTopic::default()));
    is_send(admin.describe_topics(&[]));
    is_send(admin.describe_topic_configs("t"));
    is_send(consumer.poll(std::time::Duration::ZERO));
}

#[tokio::test]
async fn fatal_error_fails_every_queued_batch() {
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: topic("t", 1),
        ..Default::default()
    })
    .await;
    // batch.size 1: every record is its own batch, all queued behind each other.
    let producer = Producer::new(ProducerConfig {
        batch_size: 1,
        linger_ms: 10_000,
        ..config(&broker, true)
    })
    .await
    .expect("producer");
    let records = (0..5)
        .map(|i| ProducerRecord::new("t", format!("{i}")))
        .collect();
    let started = Instant::now();
    let results = send_all(&producer, records).await;
    assert!(results.iter().all(|r| r.is_err()), "{results:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    // Later sends fail at once with the same error.
    assert!(producer.send(ProducerRecord::new("t", "x")).await.is_err());
}

#[test]
fn invalid_and_unauthorized_topics_are_named_as_kafkas_metadata_does() {
    assert_eq!(
        topic_metadata_error(17, "a/b").to_string(),
        "Invalid topics: [a/b]"
    );
    assert_eq!(
        topic_metadata_error(29, "t").to_string(),
        "Not authorized to access topics: [t]"
    );
    assert_eq!(topic_metadata_error(3, "t").code(), Some(3));
}

#[tokio::test]
async fn a_record_above_max_request_size_fails_with_kafkas_serialized_size() {
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: topic("big", 1),
        ..Default::default()
    })
    .await;
    let producer = Producer::new(config(&broker, false))
        .await
        .expect("producer");
    let Err(err) = producer
        .send(ProducerRecord::new("big", vec![b'x'; 2_000_000]))
        .await
    else {
        panic!("a record above max.request.size is refused before queueing");
    };
    assert_eq!(err.code(), Some(10));
    assert_eq!(
        err.to_string(),
        "The message is 2000088 bytes when serialized which is larger than 1048576, which is the value of the max.request.size configuration."
    );
}

#[tokio::test]
async fn partitions_added_while_running_are_used_after_metadata_max_age() {
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: topic("t", 1),
        ..Default::default()
    })
    .await;
    let producer = Producer::new(ProducerConfig {
        metadata_max_age_ms: 200,
        ..config(&broker, false)
    })
    .await
    .expect("producer");
    let keys: Vec<String> = (0..20).map(|i| format!("key-{i}")).collect();
    let records = || -> Vec<ProducerRecord> {
        keys.iter()
            .map(|k| ProducerRecord::new("t", "v").with_key(k.clone()))
            .collect()
    };
    for r in send_all(&producer, records()).await {
        assert_eq!(r.expect("acked").partition, 0);
    }
    broker.set_partitions("t", 4);
    // Within max age the cached count (1) is still used.
    for r in send_all(&producer, records()).await {
        assert_eq!(r.expect("acked").partition, 0);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let results = send_all(&producer, records()).await;
    for (k, r) in keys.iter().zip(results) {
        assert_eq!(
            r.expect("acked").partition,
            partition_for_key(k.as_bytes(), 4),
            "key {k}"
        );
    }
    assert!(broker.log_end_offset("t", 1) + broker.log_end_offset("t", 2) > 0);
    producer.close().await.expect("close");
}

#[tokio::test]
async fn batch_size_above_buffer_memory_cannot_allocate_a_batch() {
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: topic("t", 1),
        ..Default::default()
    })
    .await;
    let producer = Producer::new(ProducerConfig {
        buffer_memory: 1000,
        ..config(&broker, false)
    })
    .await
    .expect("producer");
    let Err(err) = producer.send(ProducerRecord::new("t", "v")).await else {
        panic!("no batch of batch.size fits in buffer.memory");
    };
    assert_eq!(
        err.to_string(),
        "Attempt to allocate 16384 bytes, but there is a hard limit of 1000 on memory allocations."
    );
}

/// Waits (up to a generous deadline, so a slow machine does not fail it) until `done` holds.
async fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting until {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Values "0", "1", ... as the fake broker stored them, in offset order.
fn stored_values(broker: &FakeBroker, topic: &str) -> Vec<String> {
    broker
        .values(topic, 0)
        .into_iter()
        .map(|v| String::from_utf8_lossy(&v.unwrap_or_default()).to_string())
        .collect()
}

fn numbered(n: usize) -> Vec<ProducerRecord> {
    (0..n)
        .map(|i| ProducerRecord::new("t", format!("{i}")))
        .collect()
}

/// batch.size so small that every record is a batch of its own.
fn one_record_batches(broker: &FakeBroker, max_in_flight: u32) -> ProducerConfig {
    ProducerConfig {
        batch_size: 1,
        max_in_flight_requests_per_connection: max_in_flight,
        ..config(broker, true)
    }
}

// On several threads, so answers may be handled in another order than they came.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_requests_pipeline_on_one_connection_up_to_max_in_flight() {
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: topic("t", 1),
        init_producer_id: true,
        hold_produce_responses: true,
        ..Default::default()
    })
    .await;
    let producer = Producer::new(one_record_batches(&broker, 5))
        .await
        .expect("producer");
    let mut futures = Vec::new();
    for r in numbered(20) {
        futures.push(producer.send(r).await.expect("queued"));
    }
    // No answer comes back yet, and still five requests for the one partition went out.
    wait_until("five Produce requests are outstanding", || {
        broker.max_produce_in_flight() >= 5
    })
    .await;
    assert_eq!(
        broker.produce_requests(),
        5,
        "never more than max.in.flight"
    );
    broker.release_produce_responses();
    for (i, f) in futures.into_iter().enumerate() {
        assert_eq!(f.await.expect("acked").offset, i as i64);
    }
    let want: Vec<String> = (0..20).map(|i| i.to_string()).collect();
    assert_eq!(stored_values(&broker, "t"), want);
    assert_eq!(broker.max_produce_in_flight(), 5);
    producer.close().await.expect("close");
}

#[tokio::test]
async fn max_in_flight_one_keeps_one_request_outstanding() {
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: topic("t", 1),
        init_producer_id: true,
        ..Default::default()
    })
    .await;
    let producer = Producer::new(one_record_batches(&broker, 1))
        .await
        .expect("producer");
    let results = send_all(&producer, numbered(10)).await;
    for (i, r) in results.into_iter().enumerate() {
        assert_eq!(r.expect("acked").offset, i as i64);
    }
    assert_eq!(broker.max_produce_in_flight(), 1);
    assert_eq!(broker.produce_requests(), 10);
}

// On several threads, so answers may be handled in another order than they came.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_order_is_kept_when_an_early_pipelined_batch_fails() {
    // The first batch is refused (NOT_LEADER_OR_FOLLOWER, nothing written); the four sent
    // behind it on the same connection are refused as out of order. All five are retried in
    // their order, under the same producer id, and land once each.
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: topic("t", 1),
        init_producer_id: true,
        hold_produce_responses: true,
        fail_produces: 1,
        ..Default::default()
    })
    .await;
    let producer = Producer::new(one_record_batches(&broker, 5))
        .await
        .expect("producer");
    let mut futures = Vec::new();
    for r in numbered(12) {
        futures.push(producer.send(r).await.expect("queued"));
    }
    wait_until("five Produce requests are outstanding", || {
        broker.max_produce_in_flight() >= 5
    })
    .await;
    broker.release_produce_responses();
    for (i, f) in futures.into_iter().enumerate() {
        assert_eq!(f.await.expect("acked").offset, i as i64, "record {i}");
    }
    let want: Vec<String> = (0..12).map(|i| i.to_string()).collect();
    assert_eq!(stored_values(&broker, "t"), want);
    // One producer id throughout: the out-of-order answers were not taken for lost state.
    assert_eq!(broker.producer_ids_issued(), 1);
    producer.close().await.expect("close");
}

// On several threads, so answers may be handled in another order than they came.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_ack_of_an_early_pipelined_batch_is_deduplicated() {
    // The first batch is written but its answer lost; the batches behind it are written after
    // it. Its retry is recognised by the broker as one of the producer's last five batches.
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: topic("t", 1),
        init_producer_id: true,
        hold_produce_responses: true,
        lose_acks: 1,
        ..Default::default()
    })
    .await;
    let producer = Producer::new(one_record_batches(&broker, 5))
        .await
        .expect("producer");
    let mut futures = Vec::new();
    for r in numbered(12) {
        futures.push(producer.send(r).await.expect("queued"));
    }
    wait_until("five Produce requests are outstanding", || {
        broker.max_produce_in_flight() >= 5
    })
    .await;
    broker.release_produce_responses();
    for (i, f) in futures.into_iter().enumerate() {
        assert_eq!(f.await.expect("acked").offset, i as i64, "record {i}");
    }
    let want: Vec<String> = (0..12).map(|i| i.to_string()).collect();
    assert_eq!(stored_values(&broker, "t"), want);
    producer.close().await.expect("close");
}

#[tokio::test]
async fn the_compression_level_reaches_the_compressor() {
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: vec![("fast".to_string(), 1), ("best".to_string(), 1)],
        init_producer_id: true,
        ..Default::default()
    })
    .await;
    // Compressible but not trivially so: zlib's level 1 and 9 differ on it.
    let records = |topic: &str| -> Vec<ProducerRecord> {
        (0..400)
            .map(|i| {
                ProducerRecord::new(
                    topic,
                    format!("value {i} of {} {}", i * 7919 % 1000, "abc".repeat(i % 13)),
                )
            })
            .collect()
    };
    for (topic, level) in [("fast", 1), ("best", 9)] {
        let producer = Producer::new(ProducerConfig {
            compression: Compression::Gzip,
            compression_gzip_level: level,
            linger_ms: 60_000,
            batch_size: 1 << 20,
            ..config(&broker, true)
        })
        .await
        .expect("producer");
        for r in send_all(&producer, records(topic)).await {
            r.expect("acked");
        }
        producer.close().await.expect("close");
    }
    assert_eq!(broker.stored_codecs("fast", 0), vec![1]);
    assert_eq!(broker.stored_codecs("best", 0), vec![1]);
    let (fast, best) = (
        broker.stored_bytes("fast", 0),
        broker.stored_bytes("best", 0),
    );
    assert!(
        best < fast,
        "gzip level 9 ({best} bytes) vs level 1 ({fast} bytes)"
    );
}

#[tokio::test]
async fn an_invalid_compression_level_is_refused_with_kafkas_text() {
    let err = Producer::new(ProducerConfig {
        bootstrap_servers: "127.0.0.1:9".to_string(),
        compression_gzip_level: 10,
        ..Default::default()
    })
    .await
    .err()
    .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("Invalid value 10 for configuration compression.gzip.level: Value must be between 1 and 9 or equal to -1")
    );
}

#[tokio::test]
async fn a_full_buffer_sends_lingering_batches_instead_of_blocking() {
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: topic("t", 1),
        ..Default::default()
    })
    .await;
    // One batch fills buffer.memory; linger alone would hold it past max.block.ms.
    let producer = Producer::new(ProducerConfig {
        buffer_memory: 1000,
        batch_size: 1000,
        linger_ms: 60_000,
        max_block_ms: 5_000,
        ..config(&broker, false)
    })
    .await
    .expect("producer");
    let mut futures = Vec::new();
    for i in 0..100 {
        let value = format!("{i:050}");
        futures.push(
            producer
                .send(ProducerRecord::new("t", value))
                .await
                .expect("room made by sending, not by waiting out linger"),
        );
    }
    producer.flush().await.expect("flush");
    for (i, f) in futures.into_iter().enumerate() {
        assert_eq!(f.await.expect("acked").offset, i as i64);
    }
}
