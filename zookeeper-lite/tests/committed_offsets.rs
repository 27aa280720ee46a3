//! Committed offsets against the real binary: they survive kill -9 and a restart on the same
//! dataDir, stale generations are refused, topic deletion drops them.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::ZkProcess;
use zookeeper_lite::client::{CommittedOffset, ZkClient, ZkError};
use zookeeper_lite::protocol::{BrokerId, BrokerInfo, LeaderEpoch, NewTopic, ZkErrorCode};

const TIMEOUT: Duration = Duration::from_secs(10);

async fn cluster_with_topics(zk: &ZkProcess, topics: &[(&str, i32)]) -> ZkClient {
    let client = ZkClient::connect(&zk.addr(), TIMEOUT).await.unwrap();
    let broker = BrokerInfo {
        id: BrokerId(0),
        host: "localhost".into(),
        port: 9092,
        rack: None,
    };
    client.register_broker(broker, 60_000).await.unwrap();
    for &(name, partitions) in topics {
        client
            .create_topic(NewTopic {
                name: name.into(),
                num_partitions: partitions,
                replication_factor: 1,
                replica_assignment: None,
                configs: BTreeMap::new(),
                validate_only: false,
            })
            .await
            .unwrap();
    }
    client
}

fn offset(topic: &str, partition: i32, offset: i64, metadata: Option<&str>) -> CommittedOffset {
    CommittedOffset {
        topic: topic.into(),
        partition,
        offset,
        leader_epoch: LeaderEpoch(if partition == 0 { -1 } else { 2 }),
        metadata: metadata.map(String::from),
        commit_timestamp_ms: 1_700_000_000_000 + offset,
    }
}

fn server_code<T: std::fmt::Debug>(r: Result<T, ZkError>) -> ZkErrorCode {
    match r {
        Err(ZkError::Server(e)) => e.code,
        other => panic!("expected a server error, got {other:?}"),
    }
}

#[tokio::test]
async fn committed_offsets_survive_kill_9_and_stale_generations_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let zk = ZkProcess::start(dir.path());
    let client = cluster_with_topics(&zk, &[("orders", 3), ("audit", 1)]).await;

    let committed = vec![
        offset("orders", 0, 4, None),
        offset("orders", 1, 17, Some("")),
        offset("orders", 2, 9, Some("consumer-1 {\"k\":\"v\"} é")),
        offset("audit", 0, 3, Some("x")),
    ];
    let results = client
        .commit_offsets("readers", 2, committed.clone())
        .await
        .unwrap();
    assert!(results.iter().all(|(_, _, e)| e.is_none()), "{results:?}");
    // A partition of a missing topic fails alone; the rest of that commit is stored.
    let results = client
        .commit_offsets(
            "admin-set",
            -1,
            vec![offset("nope", 0, 1, None), offset("audit", 0, 8, None)],
        )
        .await
        .unwrap();
    let codes: Vec<_> = results
        .iter()
        .map(|(t, p, e)| (t.as_str(), *p, e.as_ref().map(|e| e.code)))
        .collect();
    assert_eq!(
        codes,
        [
            ("nope", 0, Some(ZkErrorCode::UnknownTopic)),
            ("audit", 0, None)
        ]
    );
    client
        .commit_offsets("short-lived", 0, vec![offset("audit", 0, 1, None)])
        .await
        .unwrap();
    client.delete_group_offsets("short-lived").await.unwrap();
    let port = zk.port;
    zk.kill9();

    let _zk = ZkProcess::start_on(dir.path(), port);
    let fresh = ZkClient::connect(&format!("127.0.0.1:{port}"), TIMEOUT)
        .await
        .unwrap();
    let mut expect = committed.clone();
    expect.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
    assert_eq!(fresh.fetch_offsets("readers", None).await.unwrap(), expect);
    assert_eq!(
        fresh.list_offset_groups().await.unwrap(),
        ["admin-set", "readers"]
    );
    assert_eq!(
        fresh.fetch_offsets("admin-set", None).await.unwrap(),
        [offset("audit", 0, 8, None)]
    );
    assert_eq!(fresh.group_generation("readers").await.unwrap(), 2);
    assert_eq!(fresh.group_generation("short-lived").await.unwrap(), -1);

    // A member of an older generation cannot overwrite, even partly, and even after a restart.
    let stale = vec![offset("orders", 0, 1, None), offset("audit", 0, 1, None)];
    assert_eq!(
        server_code(fresh.commit_offsets("readers", 1, stale.clone()).await),
        ZkErrorCode::IllegalGeneration
    );
    assert_eq!(fresh.fetch_offsets("readers", None).await.unwrap(), expect);
    // The current and newer generations, and admin commits, go through.
    fresh
        .commit_offsets("readers", 3, vec![offset("orders", 0, 5, None)])
        .await
        .unwrap();
    assert_eq!(
        server_code(fresh.commit_offsets("readers", 2, stale).await),
        ZkErrorCode::IllegalGeneration
    );
    // The old client's connection died with the first process; it reconnects by itself.
    client
        .commit_offsets("readers", -1, vec![offset("orders", 1, 0, None)])
        .await
        .unwrap();
    let got = fresh
        .fetch_offsets(
            "readers",
            Some(vec![
                ("orders".into(), 1),
                ("gone".into(), 0),
                ("orders".into(), 0),
            ]),
        )
        .await
        .unwrap();
    assert_eq!(
        got,
        [offset("orders", 1, 0, None), offset("orders", 0, 5, None)]
    );
    assert_eq!(fresh.group_generation("readers").await.unwrap(), 3);
}

#[tokio::test]
async fn deleting_a_topic_or_offsets_drops_them_durably() {
    let dir = tempfile::tempdir().unwrap();
    let zk = ZkProcess::start(dir.path());
    let client = cluster_with_topics(&zk, &[("t", 2), ("u", 1)]).await;
    client
        .commit_offsets(
            "g",
            0,
            vec![
                offset("t", 0, 1, None),
                offset("t", 1, 2, None),
                offset("u", 0, 3, None),
            ],
        )
        .await
        .unwrap();
    client
        .commit_offsets("only-t", 0, vec![offset("t", 1, 2, None)])
        .await
        .unwrap();
    client.delete_topic("t").await.unwrap();
    client
        .commit_offsets("h", 0, vec![offset("u", 0, 1, None)])
        .await
        .unwrap();
    client
        .delete_offsets("h", vec![("u".into(), 0), ("t".into(), 0)])
        .await
        .unwrap();
    assert_eq!(
        server_code(client.delete_group_offsets("never").await),
        ZkErrorCode::UnknownGroup
    );
    assert_eq!(
        server_code(client.delete_offsets("never", vec![("u".into(), 0)]).await),
        ZkErrorCode::UnknownGroup
    );
    let port = zk.port;
    zk.kill9();

    let _zk = ZkProcess::start_on(dir.path(), port);
    assert_eq!(
        client.fetch_offsets("g", None).await.unwrap(),
        [offset("u", 0, 3, None)]
    );
    assert_eq!(client.list_offset_groups().await.unwrap(), ["g"]);
    assert!(client.fetch_offsets("h", None).await.unwrap().is_empty());
}
