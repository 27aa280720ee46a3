//! Consumer behaviour against the in-process fake broker.

use super::*;
use crate::producer::{Producer, ProducerConfig, ProducerRecord};
use crate::test_broker::{FakeBroker, FakeBrokerOptions};

async fn broker_with(records: usize) -> FakeBroker {
    broker_with_options(records, FakeBrokerOptions::default()).await
}

async fn broker_with_options(records: usize, options: FakeBrokerOptions) -> FakeBroker {
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: vec![("t".to_string(), 1)],
        ..options
    })
    .await;
    let producer = Producer::new(ProducerConfig {
        bootstrap_servers: broker.addr(),
        enable_idempotence: false,
        linger_ms: 10_000,
        ..Default::default()
    })
    .await
    .expect("producer");
    for i in 0..records {
        let record = ProducerRecord::new("t", format!("v{i}")).with_key(format!("k{i}"));
        producer.send(record).await.expect("send");
    }
    producer.close().await.expect("close");
    broker
}

fn consumer_config(broker: &FakeBroker) -> ConsumerConfig {
    ConsumerConfig {
        bootstrap_servers: broker.addr(),
        fetch_max_wait_ms: 50,
        retry_backoff_ms: 10,
        ..Default::default()
    }
}

async fn poll_until(consumer: &mut Consumer, n: usize) -> Vec<ConsumerRecord> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut out = Vec::new();
    while out.len() < n && Instant::now() < deadline {
        out.extend(
            consumer
                .poll(Duration::from_millis(200))
                .await
                .expect("poll"),
        );
    }
    out
}

#[tokio::test]
async fn reads_from_earliest_in_order() {
    let broker = broker_with(5).await;
    let mut consumer = Consumer::new(consumer_config(&broker))
        .await
        .expect("consumer");
    consumer
        .assign(vec![("t".to_string(), 0, StartOffset::Earliest)])
        .await
        .expect("assign");
    let records = poll_until(&mut consumer, 5).await;
    let values: Vec<&[u8]> = records.iter().filter_map(|r| r.value.as_deref()).collect();
    assert_eq!(values, vec![&b"v0"[..], b"v1", b"v2", b"v3", b"v4"]);
    assert_eq!(records[2].key.as_deref(), Some(&b"k2"[..]));
    assert_eq!(records[4].offset, 4);
    assert_eq!(consumer.position("t", 0), Some(5));
}

#[tokio::test]
async fn starting_inside_a_batch_skips_its_head() {
    let broker = broker_with(5).await;
    let mut consumer = Consumer::new(consumer_config(&broker))
        .await
        .expect("consumer");
    consumer
        .assign(vec![("t".to_string(), 0, StartOffset::Offset(3))])
        .await
        .expect("assign");
    let offsets: Vec<i64> = poll_until(&mut consumer, 2)
        .await
        .iter()
        .map(|r| r.offset)
        .collect();
    assert_eq!(offsets, vec![3, 4]);
}

#[tokio::test]
async fn latest_start_sees_nothing_old() {
    let broker = broker_with(3).await;
    let mut consumer = Consumer::new(consumer_config(&broker))
        .await
        .expect("consumer");
    consumer
        .assign(vec![("t".to_string(), 0, StartOffset::Latest)])
        .await
        .expect("assign");
    let records = consumer
        .poll(Duration::from_millis(200))
        .await
        .expect("poll");
    assert!(records.is_empty());
    assert_eq!(consumer.position("t", 0), Some(3));
}

#[tokio::test]
async fn out_of_range_offset_resets_per_auto_offset_reset() {
    let broker = broker_with(2).await;
    let mut consumer = Consumer::new(ConsumerConfig {
        auto_offset_reset: OffsetReset::Earliest,
        ..consumer_config(&broker)
    })
    .await
    .expect("consumer");
    consumer
        .assign(vec![("t".to_string(), 0, StartOffset::Offset(100))])
        .await
        .expect("assign");
    let offsets: Vec<i64> = poll_until(&mut consumer, 2)
        .await
        .iter()
        .map(|r| r.offset)
        .collect();
    assert_eq!(offsets, vec![0, 1]);
}

#[tokio::test]
async fn partitions_for_missing_topic_is_unknown_topic() {
    let broker = broker_with(0).await;
    let consumer = Consumer::new(consumer_config(&broker))
        .await
        .expect("consumer");
    assert_eq!(consumer.partitions_for("t").await.ok(), Some(vec![0]));
    let err = consumer.partitions_for("nope").await.err();
    assert_eq!(err.and_then(|e| e.code()), Some(3));
}

#[tokio::test]
async fn batch_larger_than_partition_max_bytes_is_still_read() {
    let broker = broker_with_options(
        20,
        FakeBrokerOptions {
            truncate_fetches: true,
            ..Default::default()
        },
    )
    .await;
    let mut consumer = Consumer::new(ConsumerConfig {
        max_partition_fetch_bytes: 64,
        ..consumer_config(&broker)
    })
    .await
    .expect("consumer");
    consumer
        .assign(vec![("t".to_string(), 0, StartOffset::Earliest)])
        .await
        .expect("assign");
    assert_eq!(poll_until(&mut consumer, 20).await.len(), 20);
}
