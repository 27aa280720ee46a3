//! Rebalance events against the in-process fake broker: what a `ConsumerRebalanceListener`
//! would hear as members join, split the partitions, and leave.

use super::*;
use common::topic_partition::TopicPartition;
use test_broker::{FakeBroker, FakeBrokerOptions};

async fn two_partition_broker() -> FakeBroker {
    FakeBroker::start(FakeBrokerOptions {
        topics: vec![("t".to_string(), 2)],
        ..Default::default()
    })
    .await
}

async fn member(broker: &FakeBroker, events: bool) -> Consumer {
    let mut c = Consumer::new(ConsumerConfig {
        bootstrap_servers: broker.addr(),
        fetch_max_wait_ms: 50,
        retry_backoff_ms: 10,
        group_id: Some("g".to_string()),
        auto_offset_reset: OffsetReset::Earliest,
        heartbeat_interval_ms: 50,
        ..Default::default()
    })
    .await
    .expect("consumer");
    if events {
        c.enable_rebalance_events();
    }
    c.subscribe(vec!["t".to_string()]).await.expect("subscribe");
    c
}

fn tps(partitions: &[i32]) -> Vec<TopicPartition> {
    partitions
        .iter()
        .map(|p| TopicPartition::new("t", *p))
        .collect()
}

#[tokio::test]
async fn first_join_assigns_without_revoking_and_close_revokes() {
    let broker = two_partition_broker().await;
    let mut a = member(&broker, true).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while a.assignment().len() != 2 {
        a.poll(Duration::from_millis(100)).await.expect("poll");
        assert!(Instant::now() < deadline, "never assigned");
    }
    assert_eq!(
        a.take_rebalance_events(),
        vec![RebalanceEvent::Assigned(tps(&[0, 1]))]
    );
    // Taken events are gone.
    assert!(a.take_rebalance_events().is_empty());
    a.close().await;
    assert_eq!(
        a.take_rebalance_events(),
        vec![RebalanceEvent::Revoked(tps(&[0, 1]))]
    );
}

#[tokio::test]
async fn a_second_member_makes_the_first_revoke_all_and_take_half() {
    let broker = two_partition_broker().await;
    let mut a = member(&broker, true).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while a.assignment().len() != 2 {
        a.poll(Duration::from_millis(100)).await.expect("poll");
        assert!(Instant::now() < deadline, "never assigned");
    }
    let mut b = member(&broker, true).await;
    loop {
        let (ra, rb) = tokio::join!(
            a.poll(Duration::from_millis(100)),
            b.poll(Duration::from_millis(100))
        );
        ra.expect("poll a");
        rb.expect("poll b");
        if a.assignment().len() == 1
            && b.assignment().len() == 1
            && a.generation() == b.generation()
        {
            break;
        }
        assert!(Instant::now() < deadline, "no split");
    }
    let a_events = a.take_rebalance_events();
    // Eager protocol: everything a held is revoked before it rejoins, then it gets one back.
    assert_eq!(
        a_events.first(),
        Some(&RebalanceEvent::Assigned(tps(&[0, 1])))
    );
    assert_eq!(
        a_events.get(1),
        Some(&RebalanceEvent::Revoked(tps(&[0, 1])))
    );
    assert!(matches!(a_events.last(), Some(RebalanceEvent::Assigned(p)) if p.len() == 1));
    // b only ever saw assignments (its first join owned nothing), the last one of one partition.
    let b_events = b.take_rebalance_events();
    assert!(
        b_events
            .iter()
            .all(|e| matches!(e, RebalanceEvent::Assigned(_))),
        "{b_events:?}"
    );
    assert!(matches!(b_events.last(), Some(RebalanceEvent::Assigned(p)) if p.len() == 1));
}

#[tokio::test]
async fn events_are_not_kept_unless_enabled() {
    let broker = two_partition_broker().await;
    let mut a = member(&broker, false).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while a.assignment().len() != 2 {
        a.poll(Duration::from_millis(100)).await.expect("poll");
        assert!(Instant::now() < deadline, "never assigned");
    }
    a.close().await;
    assert!(a.take_rebalance_events().is_empty());
}
