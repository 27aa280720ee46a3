//! The transactional producer (and read_committed consumer) against the fake broker's
//! transaction coordinator.

use super::*;
use crate::consumer::{Consumer, ConsumerConfig, StartOffset};
use test_broker::{FakeBroker, FakeBrokerOptions};

async fn broker(options: FakeBrokerOptions) -> FakeBroker {
    FakeBroker::start(FakeBrokerOptions {
        topics: vec![("t".to_string(), 2)],
        init_producer_id: true,
        ..options
    })
    .await
}

fn txn_config(broker: &FakeBroker, id: &str) -> ProducerConfig {
    ProducerConfig {
        bootstrap_servers: broker.addr(),
        transactional_id: Some(id.to_string()),
        retry_backoff_ms: 10,
        max_block_ms: 3000,
        ..Default::default()
    }
}

async fn send_values(producer: &Producer, values: &[(&str, i32)]) -> Vec<DeliveryFuture> {
    let mut out = Vec::new();
    for (v, p) in values {
        out.push(
            producer
                .send(ProducerRecord::new("t", v.to_string()).with_partition(*p))
                .await
                .expect("send"),
        );
    }
    out
}

/// The values a consumer with `isolation_level` reads from partition `p` from the start.
async fn read_all(broker: &FakeBroker, isolation_level: i8, p: i32) -> Vec<String> {
    read_to_end(broker, isolation_level, p).await.0
}

/// [`read_all`], with the consumer's position afterwards.
async fn read_to_end(
    broker: &FakeBroker,
    isolation_level: i8,
    p: i32,
) -> (Vec<String>, Option<i64>) {
    let mut consumer = Consumer::new(ConsumerConfig {
        bootstrap_servers: broker.addr(),
        fetch_max_wait_ms: 50,
        retry_backoff_ms: 10,
        isolation_level,
        ..Default::default()
    })
    .await
    .expect("consumer");
    consumer
        .assign(vec![("t".to_string(), p, StartOffset::Earliest)])
        .await
        .expect("assign");
    let mut out = Vec::new();
    // A few polls: the fake answers at once, so an empty one means the end was reached.
    for _ in 0..3 {
        for r in consumer
            .poll(Duration::from_millis(100))
            .await
            .expect("poll")
        {
            out.push(String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).to_string());
        }
    }
    let position = consumer.position("t", p);
    (out, position)
}

#[tokio::test]
async fn committed_transaction_writes_markers_and_is_read_committed() {
    let broker = broker(FakeBrokerOptions::default()).await;
    let producer = Producer::new(txn_config(&broker, "tx-a"))
        .await
        .expect("producer");
    assert_eq!(
        producer.transaction_state(),
        Some(TransactionState::Uninitialized)
    );
    producer.init_transactions().await.expect("init");
    assert_eq!(producer.transaction_state(), Some(TransactionState::Ready));
    producer.begin_transaction().expect("begin");
    let futures = send_values(&producer, &[("a", 0), ("b", 1), ("c", 0)]).await;
    producer.commit_transaction().await.expect("commit");
    for f in futures {
        f.await.expect("acked");
    }
    assert_eq!(producer.transaction_state(), Some(TransactionState::Ready));
    assert_eq!(
        broker.txn_calls(),
        vec![
            "InitProducerId",
            "AddPartitionsToTxn",
            "AddPartitionsToTxn",
            "EndTxn(true)"
        ]
    );
    let (state, pid, epoch) = broker.txn_state("tx-a").expect("txn");
    assert_eq!(state, "CompleteCommit");
    assert_eq!(producer.producer_id_and_epoch(), Some((pid, epoch)));
    // Two records and a marker in partition 0, one and a marker in partition 1.
    assert_eq!(broker.log_end_offset("t", 0), 3);
    assert_eq!(broker.log_end_offset("t", 1), 2);
    assert_eq!(broker.last_stable_offset("t", 0), 3);
    assert_eq!(read_all(&broker, 1, 0).await, vec!["a", "c"]);
    assert_eq!(read_all(&broker, 0, 0).await, vec!["a", "c"]);
    producer.close().await.expect("close");
}

#[tokio::test]
async fn aborted_transaction_is_hidden_from_read_committed_only() {
    let broker = broker(FakeBrokerOptions::default()).await;
    let producer = Producer::new(txn_config(&broker, "tx-b"))
        .await
        .expect("producer");
    producer.init_transactions().await.expect("init");
    producer.begin_transaction().expect("begin");
    let futures = send_values(&producer, &[("x1", 0), ("x2", 0)]).await;
    producer.flush().await.expect("flush");
    producer.abort_transaction().await.expect("abort");
    for f in futures {
        f.await.expect("acked before the abort");
    }
    producer.begin_transaction().expect("begin again");
    send_values(&producer, &[("y1", 0)]).await;
    producer.commit_transaction().await.expect("commit");
    assert_eq!(broker.aborted_transactions("t", 0).len(), 1);
    assert_eq!(read_all(&broker, 1, 0).await, vec!["y1"]);
    assert_eq!(read_all(&broker, 0, 0).await, vec!["x1", "x2", "y1"]);
    producer.close().await.expect("close");
}

#[tokio::test]
async fn an_open_transaction_holds_back_read_committed_at_the_lso() {
    let broker = broker(FakeBrokerOptions::default()).await;
    let producer = Producer::new(txn_config(&broker, "tx-c"))
        .await
        .expect("producer");
    producer.init_transactions().await.expect("init");
    producer.begin_transaction().expect("begin");
    let futures = send_values(&producer, &[("open", 1)]).await;
    producer.flush().await.expect("flush");
    for f in futures {
        f.await.expect("acked");
    }
    assert_eq!(broker.last_stable_offset("t", 1), 0);
    assert!(read_all(&broker, 1, 1).await.is_empty());
    assert_eq!(read_all(&broker, 0, 1).await, vec!["open"]);
    producer.commit_transaction().await.expect("commit");
    assert_eq!(read_all(&broker, 1, 1).await, vec!["open"]);
}

#[tokio::test]
async fn coordinator_errors_are_retried() {
    let broker = broker(FakeBrokerOptions {
        txn_load_in_progress: 2,
        txn_concurrent: 2,
        txn_not_coordinator: 1,
        ..Default::default()
    })
    .await;
    let producer = Producer::new(txn_config(&broker, "tx-d"))
        .await
        .expect("producer");
    producer.init_transactions().await.expect("init");
    producer.begin_transaction().expect("begin");
    send_values(&producer, &[("r", 0)]).await;
    producer.commit_transaction().await.expect("commit");
    let calls = broker.txn_calls();
    assert_eq!(calls.iter().filter(|c| *c == "InitProducerId").count(), 3);
    assert_eq!(
        calls.iter().filter(|c| *c == "AddPartitionsToTxn").count(),
        3
    );
    assert_eq!(calls.iter().filter(|c| *c == "EndTxn(true)").count(), 2);
    assert_eq!(
        broker.txn_state("tx-d").map(|s| s.0),
        Some("CompleteCommit".to_string())
    );
}

#[tokio::test]
async fn a_newer_producer_fences_the_older_one() {
    let broker = broker(FakeBrokerOptions::default()).await;
    let old = Producer::new(txn_config(&broker, "tx-e"))
        .await
        .expect("old");
    old.init_transactions().await.expect("init old");
    old.begin_transaction().expect("begin old");
    send_values(&old, &[("from-old", 0)]).await;
    old.flush().await.expect("flush");
    let new = Producer::new(txn_config(&broker, "tx-e"))
        .await
        .expect("new");
    new.init_transactions().await.expect("init new");
    // The old producer's open transaction was aborted by the new InitProducerId.
    assert_eq!(broker.aborted_transactions("t", 0).len(), 1);
    let e = old.commit_transaction().await.expect_err("fenced");
    assert_eq!(e.code(), Some(90));
    assert_eq!(old.transaction_state(), Some(TransactionState::FatalError));
    let e = old.begin_transaction().expect_err("still fenced");
    assert_eq!(e.code(), Some(90));
    assert!(
        e.to_string()
            .starts_with("Producer with transactionalId 'tx-e' and (producerId="),
        "{e}"
    );
    assert!(e
        .to_string()
        .ends_with("has been fenced by another producer with the same transactionalId"));
    new.begin_transaction().expect("begin new");
    send_values(&new, &[("from-new", 0)]).await;
    new.commit_transaction().await.expect("commit new");
    assert_eq!(read_all(&broker, 1, 0).await, vec!["from-new"]);
}

#[tokio::test]
async fn offsets_sent_to_a_transaction_commit_with_it() {
    let broker = broker(FakeBrokerOptions::default()).await;
    let producer = Producer::new(txn_config(&broker, "tx-f"))
        .await
        .expect("producer");
    producer.init_transactions().await.expect("init");
    let group = ConsumerGroupMetadata::new("g");
    let offsets = vec![TxnOffset {
        topic: "t".to_string(),
        partition: 1,
        offset: 42,
        metadata: None,
    }];
    producer.begin_transaction().expect("begin");
    producer
        .send_offsets_to_transaction(&offsets, &group)
        .await
        .expect("offsets");
    producer.abort_transaction().await.expect("abort");
    assert_eq!(broker.committed("g", "t", 1), None);
    producer.begin_transaction().expect("begin");
    producer
        .send_offsets_to_transaction(&offsets, &group)
        .await
        .expect("offsets");
    assert_eq!(broker.committed("g", "t", 1), None);
    producer.commit_transaction().await.expect("commit");
    assert_eq!(broker.committed("g", "t", 1), Some(42));
    assert_eq!(
        broker.txn_calls()[1..],
        [
            "AddOffsetsToTxn",
            "TxnOffsetCommit",
            "EndTxn(false)",
            "AddOffsetsToTxn",
            "TxnOffsetCommit",
            "EndTxn(true)"
        ]
    );
}

#[tokio::test]
async fn an_empty_transaction_ends_without_end_txn() {
    let broker = broker(FakeBrokerOptions::default()).await;
    let producer = Producer::new(txn_config(&broker, "tx-g"))
        .await
        .expect("producer");
    producer.init_transactions().await.expect("init");
    producer.begin_transaction().expect("begin");
    producer.commit_transaction().await.expect("commit");
    producer.begin_transaction().expect("begin");
    producer.abort_transaction().await.expect("abort");
    assert_eq!(broker.txn_calls(), vec!["InitProducerId"]);
}

#[tokio::test]
async fn calls_out_of_order_fail_with_kafkas_texts() {
    let broker = broker(FakeBrokerOptions::default()).await;
    let producer = Producer::new(txn_config(&broker, "tx-h"))
        .await
        .expect("producer");
    let e = producer
        .send(ProducerRecord::new("t", "v").with_partition(0))
        .await
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        e.as_deref(),
        Some(
            "Cannot add partition t-0 to transaction before completing a call to initTransactions"
        )
    );
    producer.init_transactions().await.expect("init");
    let e = producer
        .send(ProducerRecord::new("t", "v").with_partition(0))
        .await
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        e.as_deref(),
        Some("Cannot add partition t-0 to transaction while in state  READY")
    );
    let e = producer
        .commit_transaction()
        .await
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        e.as_deref(),
        Some("TransactionalId tx-h: Invalid transition attempted from state READY to state COMMITTING_TRANSACTION")
    );
    let plain = Producer::new(ProducerConfig {
        bootstrap_servers: broker.addr(),
        ..Default::default()
    })
    .await
    .expect("plain");
    let e = plain.begin_transaction().err().map(|e| e.to_string());
    assert_eq!(
        e.as_deref(),
        Some("Transactional method invoked on a non-transactional producer.")
    );
}

/// Kafka's `KafkaConsumer.position()` moves past control batches: after reading a committed
/// transaction to its end, the position (what a commit stores) is the log end offset, past the
/// marker, whether the marker came in the same fetch as the records or in a later one.
#[tokio::test]
async fn the_position_moves_past_a_transaction_marker() {
    let broker = broker(FakeBrokerOptions::default()).await;
    let producer = Producer::new(txn_config(&broker, "tx-pos"))
        .await
        .expect("producer");
    producer.init_transactions().await.expect("init");
    producer.begin_transaction().expect("begin");
    let _acks = send_values(&producer, &[("a", 0), ("b", 0)]).await;
    producer.commit_transaction().await.expect("commit");
    assert_eq!(broker.log_end_offset("t", 0), 3);
    for isolation_level in [0, 1] {
        let (read, position) = read_to_end(&broker, isolation_level, 0).await;
        assert_eq!(read, ["a", "b"]);
        assert_eq!(position, Some(3), "isolation {isolation_level}");
    }
    producer.close().await.expect("close");
}
