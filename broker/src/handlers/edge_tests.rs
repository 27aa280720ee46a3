//! The broker edge under load, at the handler level: long-polls are woken only by their own
//! partitions, a slow fsync of one partition does not hold up others, and `fetch.max.bytes` caps
//! a response (KIP-74: the first batch always comes back).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::messages::*;

use super::error_answers::{create_topic, produce_request};
use crate::broker::{start_for_test, start_for_test_with, Broker};
use crate::log::partition_log::fsync_fault;
use crate::log::testutil;

/// A deadline for conditions that must come true: reaching it is a failure, not a measurement.
const DEADLINE: Duration = Duration::from_secs(60);

fn fetch_one(topic: &str, max_wait_ms: i32) -> FetchRequest {
    super::error_answers::fetch_request(topic, 0, 0)
        .with_min_bytes(1)
        .with_max_wait_ms(max_wait_ms)
}

async fn produce(broker: &Arc<Broker>, topic: &str, records: Vec<u8>) -> i16 {
    let response = super::produce::handle(broker, produce_request(topic, 0, records), 9).await;
    response.responses[0].partition_responses[0].error_code
}

/// Waits (with a deadline) until `cond` holds, yielding to the runtime in between.
async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_long_poll_is_not_woken_by_appends_to_another_partition() {
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "polled").await;
    create_topic(&broker, "busy").await;
    let polled = broker.partitions.get("polled", 0).expect("hosted");
    let watchers_before = polled.log.high_watermark_watchers();

    let wakeups = Arc::new(AtomicU64::new(0));
    let fetch = tokio::spawn({
        let (broker, wakeups) = (broker.clone(), wakeups.clone());
        async move {
            super::fetch::handle_counting(&broker, fetch_one("polled", 600_000), 12, &wakeups).await
        }
    });
    wait_until("the fetch parks on its partition", || {
        polled.log.high_watermark_watchers() > watchers_before
    })
    .await;

    for _ in 0..5 {
        assert_eq!(produce(&broker, "busy", testutil::batch(1, 10)).await, 0);
    }
    // On this single-threaded runtime a woken task runs before a yielding one resumes: had the
    // appends to "busy" woken the fetch, it would have counted the wake-up by now.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        wakeups.load(Ordering::Relaxed),
        0,
        "woken by another partition"
    );
    assert!(!fetch.is_finished());

    assert_eq!(produce(&broker, "polled", testutil::batch(1, 10)).await, 0);
    let response = tokio::time::timeout(DEADLINE, fetch)
        .await
        .expect("an append to the polled partition answers the fetch")
        .expect("fetch task");
    let data = &response.responses[0].partitions[0];
    assert_eq!(data.error_code, 0);
    assert_eq!(data.high_watermark, 1);
    assert!(!data.records.as_ref().expect("records").is_empty());
    assert_eq!(wakeups.load(Ordering::Relaxed), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_fsync_of_one_partition_does_not_stall_another() {
    // Every acknowledged append is fsynced, so a produce waits for its partition's fsync.
    let (broker, _guard) = start_for_test_with(|c| c.log_flush_interval_messages = 1).await;
    create_topic(&broker, "slow").await;
    create_topic(&broker, "fast").await;
    let gate = fsync_fault::slow_down(&broker.config.log_dirs[0].join("slow-0"));

    let slow = tokio::spawn({
        let broker = broker.clone();
        async move { produce(&broker, "slow", testutil::batch(1, 10)).await }
    });
    let mut entered = gate.entered.subscribe();
    tokio::time::timeout(DEADLINE, entered.wait_for(|e| *e))
        .await
        .expect("the slow partition's fsync starts")
        .expect("gate");

    // While that fsync is held, the other partition is served (and fsynced) normally.
    let fast = tokio::time::timeout(DEADLINE, produce(&broker, "fast", testutil::batch(1, 10)))
        .await
        .expect("the fast partition answers while the slow one syncs");
    assert_eq!(fast, 0);
    let fetched = super::fetch::handle(&broker, fetch_one("fast", 0), 12).await;
    assert_eq!(fetched.responses[0].partitions[0].high_watermark, 1);
    assert!(!slow.is_finished(), "the slow produce waits for its fsync");

    gate.release();
    let slow = tokio::time::timeout(DEADLINE, slow)
        .await
        .expect("released")
        .expect("task");
    assert_eq!(slow, 0);
}

#[tokio::test]
async fn fetch_max_bytes_caps_the_response_but_returns_the_first_batch_whole() {
    let (broker, _guard) = start_for_test_with(|c| c.fetch_max_bytes = 1024).await;
    create_topic(&broker, "capped").await;
    let big = testutil::batch(1, 3000);
    let small = testutil::batch(1, 10);
    assert_eq!(produce(&broker, "capped", big.clone()).await, 0);
    assert_eq!(produce(&broker, "capped", small.clone()).await, 0);

    // The request allows 1 MiB; the broker's fetch.max.bytes (1 KiB) wins, but the first batch
    // is returned although larger (KIP-74), and nothing after it.
    let response = super::fetch::handle(&broker, fetch_one("capped", 0), 12).await;
    let records = response.responses[0].partitions[0]
        .records
        .clone()
        .expect("records");
    assert_eq!(records.len(), big.len());

    // From the second batch on, the small one fits.
    let request = fetch_one("capped", 0);
    let mut request = request;
    request.topics[0].partitions[0].fetch_offset = 1;
    let response = super::fetch::handle(&broker, request, 12).await;
    let records = response.responses[0].partitions[0]
        .records
        .clone()
        .expect("records");
    assert_eq!(records.len(), small.len());
}

/// KIP-74 across partitions (librdkafka's 0082_fetch_max_bytes): only the first batch of the
/// first partition with data may exceed the request's `max_bytes`; a later partition whose first
/// batch does not fit in what is left is answered empty, to be fetched next time.
#[tokio::test]
async fn only_the_first_partition_with_data_may_exceed_max_bytes() {
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "first").await;
    create_topic(&broker, "second").await;
    let big = testutil::batch(1, 3000);
    assert_eq!(produce(&broker, "first", big.clone()).await, 0);
    assert_eq!(produce(&broker, "second", big.clone()).await, 0);
    let mut request = super::error_answers::fetch_request("first", 0, 0).with_max_bytes(4000);
    let second = super::error_answers::fetch_request("second", 0, 0);
    request.topics.extend(second.topics);
    let response = super::fetch::handle(&broker, request, 12).await;
    let sizes: Vec<(i16, usize)> = response
        .responses
        .iter()
        .map(|t| {
            let p = &t.partitions[0];
            (p.error_code, p.records.as_ref().map_or(0, |r| r.len()))
        })
        .collect();
    assert_eq!(sizes, vec![(0, big.len()), (0, 0)]);
    // The second partition alone comes whole on the next fetch.
    let request = super::error_answers::fetch_request("second", 0, 0).with_max_bytes(4000);
    let response = super::fetch::handle(&broker, request, 12).await;
    let p = &response.responses[0].partitions[0];
    assert_eq!(p.records.as_ref().map_or(0, |r| r.len()), big.len());
}

/// A consumer tailing a partition fetches each record as it is produced: each fetch costs one
/// positional read of the segment, not one per batch between the offset index's last entry and
/// the fetch offset.
#[tokio::test]
async fn a_tailing_fetch_reads_the_segment_once() {
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "tailed").await;
    let hosted = broker.partitions.get("tailed", 0).expect("hosted");
    for offset in 0..300i64 {
        assert_eq!(produce(&broker, "tailed", testutil::batch(1, 30)).await, 0);
        let before = hosted.log.file_reads();
        let mut request = fetch_one("tailed", 0);
        request.topics[0].partitions[0].fetch_offset = offset;
        let response = super::fetch::handle(&broker, request, 12).await;
        let data = &response.responses[0].partitions[0];
        assert_eq!(data.error_code, 0);
        assert!(!data.records.as_ref().expect("records").is_empty());
        assert_eq!(hosted.log.file_reads() - before, 1, "fetch at {offset}");
    }
}

/// DeleteRecords cuts a log only where this broker's replica leads it (Kafka's
/// `leaderLogIfLocal`): while metadata already names this broker but its replica has not taken
/// the lead, the partition answers NOT_LEADER_OR_FOLLOWER and keeps its records.
#[tokio::test]
async fn delete_records_deletes_nothing_before_the_replica_leads() {
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "cut").await;
    for _ in 0..3 {
        assert_eq!(produce(&broker, "cut", testutil::batch(1, 10)).await, 0);
    }
    let hosted = broker.partitions.get("cut", 0).expect("hosted");
    let request = |offset: i64| {
        use kafka_protocol::messages::delete_records_request::{
            DeleteRecordsPartition, DeleteRecordsTopic,
        };
        DeleteRecordsRequest::default()
            .with_timeout_ms(1000)
            .with_topics(vec![DeleteRecordsTopic::default()
                .with_name(super::error_answers::topic_name("cut"))
                .with_partitions(vec![DeleteRecordsPartition::default()
                    .with_partition_index(0)
                    .with_offset(offset)])])
    };
    let leading = std::mem::replace(&mut *hosted.replica.lock(), crate::replica::Role::Offline);
    let answer = super::delete_records::handle(&broker, request(2)).await;
    let p = &answer.topics[0].partitions[0];
    assert_eq!(p.error_code, 6, "NOT_LEADER_OR_FOLLOWER");
    assert_eq!(hosted.log.log_start_offset(), 0, "nothing deleted");

    *hosted.replica.lock() = leading;
    let answer = super::delete_records::handle(&broker, request(2)).await;
    let p = &answer.topics[0].partitions[0];
    assert_eq!((p.error_code, p.low_watermark), (0, 2));
    assert_eq!(hosted.log.log_start_offset(), 2);
}
