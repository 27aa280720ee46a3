#![allow(clippy::unwrap_used)]
//! Synchronous commits and fatal group errors against the fake broker: `commit_offsets`
//! retries what Kafka's `commitOffsetsSync` retries, and a fenced static member's next `poll`
//! fails as Kafka's does.

use super::*;
use common::errors::codes::{
    COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, FENCED_INSTANCE_ID, NOT_COORDINATOR,
    REBALANCE_IN_PROGRESS, REQUEST_TIMED_OUT, UNKNOWN_MEMBER_ID,
};
use test_broker::{FakeBroker, FakeBrokerOptions};

async fn broker(commit_errors: Vec<i16>) -> FakeBroker {
    FakeBroker::start(FakeBrokerOptions {
        topics: vec![("t".to_string(), 1)],
        commit_errors,
        ..Default::default()
    })
    .await
}

fn config(broker: &FakeBroker) -> ConsumerConfig {
    ConsumerConfig {
        bootstrap_servers: broker.addr(),
        group_id: Some("g".to_string()),
        enable_auto_commit: false,
        auto_offset_reset: OffsetReset::Earliest,
        fetch_max_wait_ms: 50,
        heartbeat_interval_ms: 50,
        retry_backoff_ms: 10,
        retry_backoff_max_ms: 20,
        ..Default::default()
    }
}

/// A consumer of group `g` that has joined (one poll done).
async fn joined(config: ConsumerConfig) -> Consumer {
    let mut consumer = Consumer::new(config).await.unwrap();
    consumer.subscribe(vec!["t".to_string()]).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while consumer.assignment().is_empty() && Instant::now() < deadline {
        consumer.poll(Duration::from_millis(100)).await.unwrap();
    }
    assert_eq!(consumer.assignment(), vec![("t".to_string(), 0)]);
    consumer
}

fn offsets(offset: i64) -> Vec<(String, i32, i64)> {
    vec![("t".to_string(), 0, offset)]
}

/// The coordinator moving, unavailable, loading or timing out is retried (re-finding the
/// coordinator), as Kafka's `commitSync` does until `default.api.timeout.ms`.
#[tokio::test]
async fn commit_sync_retries_while_the_coordinator_moves_or_loads() {
    let broker = broker(vec![
        NOT_COORDINATOR,
        COORDINATOR_NOT_AVAILABLE,
        COORDINATOR_LOAD_IN_PROGRESS,
        REQUEST_TIMED_OUT,
    ])
    .await;
    let mut consumer = joined(config(&broker)).await;
    consumer.commit_offsets(&offsets(3)).await.unwrap();
    assert_eq!(broker.committed("g", "t", 0), Some(3));
    assert_eq!(broker.commit_requests(), 5);
}

/// Member errors are not retried: they come back at once (Kafka's CommitFailedException and
/// RebalanceInProgressException cases).
#[tokio::test]
async fn commit_sync_returns_member_errors_at_once() {
    let broker = broker(vec![UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS]).await;
    let mut consumer = joined(config(&broker)).await;
    let e = consumer.commit_offsets(&offsets(1)).await.unwrap_err();
    assert_eq!(e.code(), Some(UNKNOWN_MEMBER_ID));
    assert_eq!(broker.commit_requests(), 1);
    let e = consumer.commit_offsets(&offsets(1)).await.unwrap_err();
    assert_eq!(e.code(), Some(REBALANCE_IN_PROGRESS));
    assert_eq!(broker.commit_requests(), 2);
    assert_eq!(broker.committed("g", "t", 0), None);
}

/// A coordinator that stays unavailable fails the commit after `default.api.timeout.ms` with
/// Kafka's TimeoutException text.
#[tokio::test]
async fn commit_sync_times_out_with_kafkas_text() {
    let broker = broker(vec![COORDINATOR_LOAD_IN_PROGRESS; 10_000]).await;
    let mut consumer = joined(ConsumerConfig {
        default_api_timeout_ms: 300,
        ..config(&broker)
    })
    .await;
    let started = Instant::now();
    let e = consumer.commit_offsets(&offsets(2)).await.unwrap_err();
    assert!(matches!(e, ClientError::Timeout(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "Timeout of 300ms expired before successfully committing offsets \
         {t-0=OffsetAndMetadata{offset=2, leaderEpoch=null, metadata=''}}"
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(broker.commit_requests() > 2);
}

/// A static member whose `group.instance.id` another consumer took is fenced: the coordinator
/// answers its heartbeat FENCED_INSTANCE_ID, and its next `poll` fails with that error (Kafka's
/// FencedInstanceIdException) and drops (loses) its partitions instead of going on consuming.
#[tokio::test]
async fn fenced_static_member_fails_its_next_poll_and_loses_its_partitions() {
    let broker = broker(Vec::new()).await;
    let static_config = ConsumerConfig {
        group_instance_id: Some("instance-1".to_string()),
        ..config(&broker)
    };
    let mut old = joined(static_config.clone()).await;
    old.enable_rebalance_events();
    let mut new = joined(static_config).await;
    assert_eq!(new.assignment(), vec![("t".to_string(), 0)]);
    let deadline = Instant::now() + Duration::from_secs(5);
    let error = loop {
        match old.poll(Duration::from_millis(50)).await {
            Err(e) => break e,
            Ok(_) => assert!(Instant::now() < deadline, "the old member was never fenced"),
        }
    };
    assert_eq!(error.code(), Some(FENCED_INSTANCE_ID));
    assert_eq!(
        error.to_string(),
        "The broker rejected this static consumer since another consumer with the same \
         group.instance.id has registered with a different member.id."
    );
    assert!(old.assignment().is_empty(), "{:?}", old.assignment());
    assert_eq!(
        old.take_rebalance_events(),
        vec![RebalanceEvent::Lost(vec![
            common::topic_partition::TopicPartition::new("t", 0)
        ])]
    );
    new.close().await;
    old.close().await;
}

/// An auto-commit answered FENCED_INSTANCE_ID makes the next `poll` fail with Kafka's text for
/// a fenced asynchronous commit (`ConsumerCoordinator.asyncCommitFenced`).
#[tokio::test]
async fn fenced_auto_commit_fails_the_next_poll() {
    let broker = broker(vec![FENCED_INSTANCE_ID]).await;
    let mut consumer = Consumer::new(ConsumerConfig {
        group_instance_id: Some("instance-1".to_string()),
        enable_auto_commit: true,
        auto_commit_interval_ms: 20,
        heartbeat_interval_ms: 60_000,
        ..config(&broker)
    })
    .await
    .unwrap();
    consumer.subscribe(vec!["t".to_string()]).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let error = loop {
        match consumer.poll(Duration::from_millis(50)).await {
            Err(e) => break e,
            Ok(_) => assert!(Instant::now() < deadline, "the fenced commit was ignored"),
        }
    };
    assert_eq!(error.code(), Some(FENCED_INSTANCE_ID));
    assert_eq!(
        error.to_string(),
        format!(
            "Get fenced exception for group.instance.id instance-1, current member.id is {}",
            consumer.member_id()
        )
    );
    assert!(consumer.assignment().is_empty());
    assert_eq!(broker.commit_requests(), 1);
}
