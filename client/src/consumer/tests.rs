//! Consumer behaviour against the in-process fake broker.

use super::*;
use crate::producer::{Producer, ProducerConfig, ProducerRecord};
use test_broker::{FakeBroker, FakeBrokerOptions};

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

fn group_config(broker: &FakeBroker, group: &str) -> ConsumerConfig {
    ConsumerConfig {
        group_id: Some(group.to_string()),
        auto_offset_reset: OffsetReset::Earliest,
        heartbeat_interval_ms: 50,
        ..consumer_config(broker)
    }
}

async fn subscribed(broker: &FakeBroker, config: ConsumerConfig) -> Consumer {
    let mut consumer = Consumer::new(config).await.expect("consumer");
    consumer
        .subscribe(vec!["t".to_string()])
        .await
        .expect("subscribe");
    let _ = broker;
    consumer
}

#[tokio::test]
async fn group_member_resumes_from_the_committed_offset() {
    // The seed's story: read 4 of 7, commit, go; the next member reads the other 3.
    let broker = broker_with(7).await;
    let mut first = subscribed(
        &broker,
        ConsumerConfig {
            max_poll_records: 4,
            enable_auto_commit: false,
            ..group_config(&broker, "g")
        },
    )
    .await;
    let got = poll_until(&mut first, 4).await;
    assert_eq!(got.len(), 4);
    first.commit_sync().await.expect("commit");
    assert_eq!(broker.committed("g", "t", 0), Some(4));
    first.close().await;
    // A member id was required (KIP-394) and then used.
    let ids = broker.join_member_ids();
    assert_eq!(ids.first().map(String::as_str), Some(""));
    assert!(ids.get(1).is_some_and(|id| !id.is_empty()));

    let mut second = subscribed(&broker, group_config(&broker, "g")).await;
    let got = poll_until(&mut second, 3).await;
    let offsets: Vec<i64> = got.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, vec![4, 5, 6]);
    // Auto commit on close stores the position after the last record returned.
    second.close().await;
    assert_eq!(broker.committed("g", "t", 0), Some(7));
}

#[tokio::test]
async fn close_commits_only_what_poll_returned_and_seek_rewinds() {
    let broker = broker_with(6).await;
    let mut consumer = subscribed(
        &broker,
        ConsumerConfig {
            max_poll_records: 2,
            ..group_config(&broker, "g")
        },
    )
    .await;
    let got = poll_until(&mut consumer, 2).await;
    assert_eq!(got.len(), 2);
    // The caller used only the first record: rewind to the second before closing.
    consumer.seek("t", 0, 1).expect("seek");
    consumer.close().await;
    assert_eq!(broker.committed("g", "t", 0), Some(1));
}

#[tokio::test]
async fn without_committed_offsets_reset_none_is_an_error() {
    let broker = broker_with(2).await;
    let mut consumer = subscribed(
        &broker,
        ConsumerConfig {
            auto_offset_reset: OffsetReset::None,
            ..group_config(&broker, "g")
        },
    )
    .await;
    for _ in 0..2 {
        let err = consumer.poll(Duration::from_millis(500)).await.err();
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some("Undefined offset with no reset policy for partitions: [t-0]")
        );
    }
    // A seek gives the partition a position.
    consumer.seek("t", 0, 1).expect("seek");
    let got = poll_until(&mut consumer, 1).await;
    assert_eq!(got.first().map(|r| r.offset), Some(1));
}

#[tokio::test]
async fn latest_reset_skips_existing_records() {
    let broker = broker_with(3).await;
    let mut consumer = subscribed(
        &broker,
        ConsumerConfig {
            auto_offset_reset: OffsetReset::Latest,
            ..group_config(&broker, "g")
        },
    )
    .await;
    assert!(consumer
        .poll(Duration::from_millis(300))
        .await
        .expect("poll")
        .is_empty());
    assert_eq!(consumer.position("t", 0), Some(3));
}

#[tokio::test]
async fn subscribe_without_group_id_is_invalid_group_id() {
    let broker = broker_with(0).await;
    let mut consumer = Consumer::new(consumer_config(&broker))
        .await
        .expect("consumer");
    let err = consumer.subscribe(vec!["t".to_string()]).await.err();
    assert_eq!(err.and_then(|e| e.code()), Some(24));
}

#[tokio::test]
async fn two_members_split_the_partitions_and_a_leaver_hands_them_over() {
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: vec![("t".to_string(), 2)],
        ..Default::default()
    })
    .await;
    let mut a = subscribed(&broker, group_config(&broker, "g")).await;
    let mut b = subscribed(&broker, group_config(&broker, "g")).await;
    // Poll both until each holds one partition.
    let deadline = Instant::now() + Duration::from_secs(10);
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
        assert!(
            Instant::now() < deadline,
            "no split: {:?} {:?}",
            a.assignment(),
            b.assignment()
        );
    }
    let mut all = a.assignment();
    all.extend(b.assignment());
    all.sort();
    assert_eq!(all, vec![("t".to_string(), 0), ("t".to_string(), 1)]);
    // a leaves cleanly: b takes both partitions.
    a.close().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while b.assignment().len() != 2 {
        b.poll(Duration::from_millis(100)).await.expect("poll b");
        assert!(
            Instant::now() < deadline,
            "b never got both: {:?}",
            b.assignment()
        );
    }
}

#[tokio::test]
async fn static_member_sends_its_instance_id_and_does_not_leave_on_close() {
    let broker = broker_with(1).await;
    let mut consumer = subscribed(
        &broker,
        ConsumerConfig {
            group_instance_id: Some("instance-1".to_string()),
            ..group_config(&broker, "g")
        },
    )
    .await;
    assert_eq!(poll_until(&mut consumer, 1).await.len(), 1);
    consumer.close().await;
    let ids = broker.join_instance_ids();
    assert!(!ids.is_empty());
    assert!(
        ids.iter().all(|i| i.as_deref() == Some("instance-1")),
        "{ids:?}"
    );
    // Kafka keeps a static member's place until its session times out.
    assert_eq!(broker.leaves(), 0);
}

#[tokio::test]
async fn dynamic_member_leaves_on_close() {
    let broker = broker_with(1).await;
    let mut consumer = subscribed(&broker, group_config(&broker, "g")).await;
    assert_eq!(poll_until(&mut consumer, 1).await.len(), 1);
    consumer.close().await;
    assert_eq!(broker.leaves(), 1);
    assert_eq!(broker.join_instance_ids().first(), Some(&None));
}

/// Writes `values` to one partition of `topic` on the fake broker.
async fn produce_to(broker: &FakeBroker, topic: &str, partition: i32, values: &[&str]) {
    let producer = Producer::new(ProducerConfig {
        bootstrap_servers: broker.addr(),
        enable_idempotence: false,
        ..Default::default()
    })
    .await
    .expect("producer");
    for v in values {
        let record = ProducerRecord::new(topic, v.to_string()).with_partition(partition);
        producer.send(record).await.expect("send");
    }
    producer.close().await.expect("close");
}

/// Polls until the assignment equals `want` (panics after five seconds).
async fn poll_until_assigned(consumer: &mut Consumer, want: &[(&str, i32)]) {
    let want: Vec<(String, i32)> = want.iter().map(|(t, p)| (t.to_string(), *p)).collect();
    let deadline = Instant::now() + Duration::from_secs(5);
    while consumer.assignment() != want {
        assert!(
            Instant::now() < deadline,
            "assignment is {:?}, waited for {want:?}",
            consumer.assignment()
        );
        consumer
            .poll(Duration::from_millis(100))
            .await
            .expect("poll");
    }
}

fn values(records: &[ConsumerRecord]) -> Vec<String> {
    records
        .iter()
        .filter_map(|r| r.value.as_deref())
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

#[tokio::test]
async fn subscribed_topic_created_after_the_consumer_started_is_read() {
    // No auto-create on the broker: the topic appears later, as kafka-topics --create makes it.
    // metadata.max.age.ms stays at its 5 minutes: an unknown subscribed topic is looked up
    // again after a short backoff, not after max age.
    let broker = broker_with(0).await;
    let mut consumer = Consumer::new(group_config(&broker, "g"))
        .await
        .expect("consumer");
    consumer
        .subscribe(vec!["late".to_string()])
        .await
        .expect("subscribe");
    for _ in 0..3 {
        let got = consumer
            .poll(Duration::from_millis(100))
            .await
            .expect("poll");
        assert!(got.is_empty());
    }
    assert!(consumer.assignment().is_empty());
    broker.set_partitions("late", 1);
    produce_to(&broker, "late", 0, &["a", "b"]).await;
    let got = poll_until(&mut consumer, 2).await;
    assert_eq!(values(&got), vec!["a", "b"]);
    assert_eq!(consumer.assignment(), vec![("late".to_string(), 0)]);
}

#[tokio::test]
async fn partitions_added_later_are_assigned_after_metadata_max_age() {
    let broker = broker_with(0).await;
    let mut consumer = Consumer::new(ConsumerConfig {
        metadata_max_age_ms: 200,
        ..group_config(&broker, "g")
    })
    .await
    .expect("consumer");
    consumer
        .subscribe(vec!["t".to_string()])
        .await
        .expect("subscribe");
    poll_until_assigned(&mut consumer, &[("t", 0)]).await;
    broker.set_partitions("t", 3);
    poll_until_assigned(&mut consumer, &[("t", 0), ("t", 1), ("t", 2)]).await;
    produce_to(&broker, "t", 2, &["on-new-partition"]).await;
    let got = poll_until(&mut consumer, 1).await;
    assert_eq!(values(&got), vec!["on-new-partition"]);
    assert_eq!(got[0].partition, 2);
}

#[tokio::test]
async fn metadata_max_age_paces_the_refresh_of_known_topics() {
    // With Kafka's default of five minutes, partitions added a moment ago are not seen yet:
    // the consumer does not ask for metadata on every poll.
    let broker = broker_with(0).await;
    let mut consumer = Consumer::new(group_config(&broker, "g"))
        .await
        .expect("consumer");
    consumer
        .subscribe(vec!["t".to_string()])
        .await
        .expect("subscribe");
    poll_until_assigned(&mut consumer, &[("t", 0)]).await;
    broker.set_partitions("t", 2);
    let until = Instant::now() + Duration::from_millis(800);
    while Instant::now() < until {
        consumer
            .poll(Duration::from_millis(100))
            .await
            .expect("poll");
    }
    assert_eq!(consumer.assignment(), vec![("t".to_string(), 0)]);
}

#[tokio::test]
async fn consumer_metadata_auto_creates_a_subscribed_topic_when_allowed() {
    let broker = broker_with_options(
        0,
        FakeBrokerOptions {
            auto_create: true,
            ..Default::default()
        },
    )
    .await;
    let mut consumer = Consumer::new(group_config(&broker, "g"))
        .await
        .expect("consumer");
    consumer
        .subscribe(vec!["auto".to_string()])
        .await
        .expect("subscribe");
    poll_until_assigned(&mut consumer, &[("auto", 0)]).await;
    assert!(broker.has_topic("auto"));
}

#[tokio::test]
async fn allow_auto_create_topics_false_never_creates_the_topic() {
    let broker = broker_with_options(
        0,
        FakeBrokerOptions {
            auto_create: true,
            ..Default::default()
        },
    )
    .await;
    let mut consumer = Consumer::new(ConsumerConfig {
        allow_auto_create_topics: false,
        ..group_config(&broker, "g")
    })
    .await
    .expect("consumer");
    consumer
        .subscribe(vec!["auto".to_string()])
        .await
        .expect("subscribe");
    let mut assigned = Consumer::new(ConsumerConfig {
        allow_auto_create_topics: false,
        ..consumer_config(&broker)
    })
    .await
    .expect("consumer");
    assigned
        .assign(vec![("auto2".to_string(), 0, StartOffset::Earliest)])
        .await
        .expect("assign");
    let until = Instant::now() + Duration::from_millis(600);
    while Instant::now() < until {
        consumer
            .poll(Duration::from_millis(100))
            .await
            .expect("poll");
        assigned
            .poll(Duration::from_millis(100))
            .await
            .expect("poll");
    }
    assert!(!broker.has_topic("auto"));
    assert!(!broker.has_topic("auto2"));
    assert!(consumer.assignment().is_empty());
}

#[tokio::test]
async fn pattern_subscription_takes_in_matching_topics_created_later() {
    let broker = broker_with(0).await;
    let mut consumer = Consumer::new(ConsumerConfig {
        metadata_max_age_ms: 200,
        ..group_config(&broker, "g")
    })
    .await
    .expect("consumer");
    let pattern = regex::Regex::new("^(?:late-.*)$").expect("regex");
    consumer
        .subscribe_pattern(pattern)
        .await
        .expect("subscribe");
    for _ in 0..3 {
        consumer
            .poll(Duration::from_millis(100))
            .await
            .expect("poll");
    }
    // "t" exists but does not match.
    assert!(consumer.assignment().is_empty());
    broker.set_partitions("late-1", 1);
    poll_until_assigned(&mut consumer, &[("late-1", 0)]).await;
    broker.set_partitions("late-2", 2);
    poll_until_assigned(
        &mut consumer,
        &[("late-1", 0), ("late-2", 0), ("late-2", 1)],
    )
    .await;
    produce_to(&broker, "late-2", 1, &["x"]).await;
    let got = poll_until(&mut consumer, 1).await;
    assert_eq!(values(&got), vec!["x"]);
}

#[tokio::test]
async fn assigned_partition_that_does_not_exist_yet_is_read_once_it_appears() {
    let broker = broker_with(0).await;
    let mut consumer = Consumer::new(consumer_config(&broker))
        .await
        .expect("consumer");
    consumer
        .assign(vec![("late".to_string(), 1, StartOffset::Earliest)])
        .await
        .expect("assign");
    let got = consumer
        .poll(Duration::from_millis(300))
        .await
        .expect("a missing partition is waited for, not an error");
    assert!(got.is_empty());
    broker.set_partitions("late", 1);
    let got = consumer
        .poll(Duration::from_millis(300))
        .await
        .expect("partition 1 is still missing");
    assert!(got.is_empty());
    broker.set_partitions("late", 2);
    produce_to(&broker, "late", 1, &["p1"]).await;
    let got = poll_until(&mut consumer, 1).await;
    assert_eq!(values(&got), vec!["p1"]);
}

#[tokio::test]
async fn assigned_missing_topic_is_auto_created_when_allowed() {
    let broker = broker_with_options(
        0,
        FakeBrokerOptions {
            auto_create: true,
            ..Default::default()
        },
    )
    .await;
    let mut consumer = Consumer::new(consumer_config(&broker))
        .await
        .expect("consumer");
    consumer
        .assign(vec![("made".to_string(), 0, StartOffset::Earliest)])
        .await
        .expect("assign");
    assert!(broker.has_topic("made"));
    produce_to(&broker, "made", 0, &["m"]).await;
    let got = poll_until(&mut consumer, 1).await;
    assert_eq!(values(&got), vec!["m"]);
}

#[tokio::test]
async fn leader_notices_a_late_topic_only_another_member_subscribed_to() {
    // The leader assigns for the whole group: it watches every member's topics, not only its
    // own, and rebalances when a follower's topic appears.
    let broker = broker_with(0).await;
    let mut leader = Consumer::new(ConsumerConfig {
        metadata_max_age_ms: 200,
        ..group_config(&broker, "g")
    })
    .await
    .expect("consumer");
    leader
        .subscribe(vec!["t".to_string()])
        .await
        .expect("subscribe");
    poll_until_assigned(&mut leader, &[("t", 0)]).await;
    let mut follower = Consumer::new(group_config(&broker, "g"))
        .await
        .expect("consumer");
    follower
        .subscribe(vec!["late".to_string()])
        .await
        .expect("subscribe");
    // Both poll until the rebalance for the new member is done; the follower gets nothing.
    let deadline = Instant::now() + Duration::from_secs(10);
    while follower.generation() < 0 || leader.generation() != follower.generation() {
        assert!(Instant::now() < deadline, "the follower did not join");
        let (a, b) = tokio::join!(
            leader.poll(Duration::from_millis(50)),
            follower.poll(Duration::from_millis(50))
        );
        a.expect("leader poll");
        b.expect("follower poll");
    }
    assert!(follower.assignment().is_empty());
    broker.set_partitions("late", 1);
    produce_to(&broker, "late", 0, &["for the follower"]).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    while got.is_empty() {
        assert!(
            Instant::now() < deadline,
            "the follower never got late-0: {:?}",
            follower.assignment()
        );
        let (a, b) = tokio::join!(
            leader.poll(Duration::from_millis(50)),
            follower.poll(Duration::from_millis(50))
        );
        a.expect("leader poll");
        got.extend(b.expect("follower poll"));
    }
    assert_eq!(values(&got), vec!["for the follower"]);
    assert_eq!(follower.assignment(), vec![("late".to_string(), 0)]);
    assert_eq!(leader.assignment(), vec![("t".to_string(), 0)]);
}

/// Waits (up to a generous deadline, so a slow machine does not fail it) until `done` holds.
async fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting until {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn assigned_from_earliest(config: ConsumerConfig) -> Consumer {
    let mut consumer = Consumer::new(config).await.expect("consumer");
    consumer
        .assign(vec![("t".to_string(), 0, StartOffset::Earliest)])
        .await
        .expect("assign");
    consumer
}

#[tokio::test]
async fn the_next_fetch_is_in_flight_while_records_are_handed_out() {
    let broker = broker_with(10).await;
    let mut consumer = assigned_from_earliest(consumer_config(&broker)).await;
    let records = poll_until(&mut consumer, 10).await;
    assert_eq!(records.len(), 10);
    // One fetch brought the ten. While the application works on them (no poll), the next
    // fetch, sent before poll returned, reaches the broker.
    wait_until("the prefetch reaches the broker", || {
        broker.fetch_requests() >= 2
    })
    .await;
    // It asked for what comes after the records handed out.
    produce_to(&broker, "t", 0, &["v10"]).await;
    let more = poll_until(&mut consumer, 1).await;
    assert_eq!(values(&more), vec!["v10"]);
    assert_eq!(more[0].offset, 10);
}

#[tokio::test]
async fn a_partition_with_records_left_is_not_fetched_again_until_they_are_handed_out() {
    let broker = broker_with(10).await;
    let mut consumer = assigned_from_earliest(ConsumerConfig {
        max_poll_records: 4,
        ..consumer_config(&broker)
    })
    .await;
    let mut offsets = Vec::new();
    for want in [4, 4, 2] {
        let got = consumer.poll(Duration::from_secs(5)).await.expect("poll");
        assert_eq!(got.len(), want);
        offsets.extend(got.iter().map(|r| r.offset));
        // The fetch that brought the ten is the only one until they are all out.
        if want == 4 {
            assert_eq!(broker.fetch_requests(), 1);
        }
    }
    assert_eq!(offsets, (0..10).collect::<Vec<i64>>());
    assert_eq!(consumer.position("t", 0), Some(10));
}

#[tokio::test]
async fn a_fetch_answer_for_a_position_moved_by_seek_is_dropped() {
    let broker = broker_with(10).await;
    let mut consumer = assigned_from_earliest(consumer_config(&broker)).await;
    assert_eq!(poll_until(&mut consumer, 10).await.len(), 10);
    // A fetch at offset 10 may be in flight; its answer must not move the position back on.
    consumer.seek("t", 0, 3).expect("seek");
    let again = poll_until(&mut consumer, 7).await;
    assert_eq!(
        again.iter().map(|r| r.offset).collect::<Vec<_>>(),
        (3..10).collect::<Vec<i64>>()
    );
}

#[tokio::test]
async fn fetch_sizes_and_wait_are_sent_as_configured() {
    let broker = broker_with(3).await;
    let mut consumer = assigned_from_earliest(ConsumerConfig {
        fetch_min_bytes: 100,
        fetch_max_wait_ms: 250,
        fetch_max_bytes: 5000,
        max_partition_fetch_bytes: 700,
        ..consumer_config(&broker)
    })
    .await;
    // A poll shorter than fetch.max.wait.ms still asks the broker to wait the full time: the
    // fetch outlives the poll.
    let mut records = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while records.len() < 3 && Instant::now() < deadline {
        records.extend(
            consumer
                .poll(Duration::from_millis(20))
                .await
                .expect("poll"),
        );
    }
    assert_eq!(records.len(), 3);
    assert_eq!(broker.last_fetch(), Some((250, 100, 5000, vec![700])));
}

#[tokio::test]
async fn records_of_every_codec_are_read_back() {
    for compression in [
        kafka_protocol::records::Compression::Gzip,
        kafka_protocol::records::Compression::Snappy,
        kafka_protocol::records::Compression::Lz4,
        kafka_protocol::records::Compression::Zstd,
    ] {
        let broker = FakeBroker::start(FakeBrokerOptions {
            topics: vec![("t".to_string(), 1)],
            ..Default::default()
        })
        .await;
        let producer = Producer::new(ProducerConfig {
            bootstrap_servers: broker.addr(),
            enable_idempotence: false,
            linger_ms: 10_000,
            compression,
            ..Default::default()
        })
        .await
        .expect("producer");
        for i in 0..50 {
            producer
                .send(ProducerRecord::new("t", format!("v{i}")).with_key(format!("k{i}")))
                .await
                .expect("send");
        }
        producer.close().await.expect("close");
        let mut consumer = assigned_from_earliest(consumer_config(&broker)).await;
        let records = poll_until(&mut consumer, 50).await;
        let want: Vec<String> = (0..50).map(|i| format!("v{i}")).collect();
        assert_eq!(values(&records), want, "{compression:?}");
        assert_eq!(records[7].key.as_deref(), Some(&b"k7"[..]));
    }
}

#[tokio::test]
async fn small_partition_fetch_size_reads_batch_by_batch() {
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: vec![("t".to_string(), 1)],
        ..Default::default()
    })
    .await;
    for i in 0..5 {
        produce_to(&broker, "t", 0, &[&format!("v{i}")]).await;
    }
    let mut consumer = assigned_from_earliest(ConsumerConfig {
        max_partition_fetch_bytes: 1,
        ..consumer_config(&broker)
    })
    .await;
    let records = poll_until(&mut consumer, 5).await;
    assert_eq!(values(&records), vec!["v0", "v1", "v2", "v3", "v4"]);
    // At least one whole batch per fetch (KIP-74), never more than that here.
    assert!(broker.fetch_requests() >= 5, "{}", broker.fetch_requests());
}
