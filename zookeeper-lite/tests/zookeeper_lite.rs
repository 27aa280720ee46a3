//! End-to-end tests against the real binary: durability across kill -9, bad input, sessions.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use common::ZkProcess;
use zookeeper_lite::client::{ZkClient, ZkError};
use zookeeper_lite::protocol::{
    decode_frame, BrokerId, BrokerInfo, LeaderEpoch, NewTopic, Response, ZkErrorCode,
};

const TIMEOUT: Duration = Duration::from_secs(10);

fn broker(id: i32) -> BrokerInfo {
    BrokerInfo {
        id: BrokerId(id),
        host: "localhost".into(),
        port: 9092 + id as u16,
        rack: None,
    }
}

fn new_topic(name: &str, partitions: i32) -> NewTopic {
    NewTopic {
        name: name.into(),
        num_partitions: partitions,
        replication_factor: 1,
        replica_assignment: None,
        configs: BTreeMap::new(),
        validate_only: false,
    }
}

#[tokio::test]
async fn topics_survive_kill_9_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let zk = ZkProcess::start(dir.path());
    let client = ZkClient::connect(&zk.addr(), TIMEOUT).await.unwrap();
    let session = client.register_broker(broker(0), 60_000).await.unwrap();
    let mut a = new_topic("alpha", 3);
    a.configs.insert("retention.ms".into(), "60000".into());
    client.create_topic(a).await.unwrap();
    client.create_topic(new_topic("beta", 1)).await.unwrap();
    client.create_topic(new_topic("gone", 1)).await.unwrap();
    client.delete_topic("gone").await.unwrap();
    client.create_partitions("beta", 2, None).await.unwrap();
    let before = client.metadata().await.unwrap();
    assert_eq!(before.topics.keys().collect::<Vec<_>>(), ["alpha", "beta"]);
    let port = zk.port;
    zk.kill9();

    // Back on the same port. The old client's connection died with the process; it is replaced
    // before the next request is sent, so even a change goes through on the first try.
    let _zk = ZkProcess::start_on(dir.path(), port);
    let fresh = ZkClient::connect(&format!("127.0.0.1:{port}"), TIMEOUT)
        .await
        .unwrap();
    let after = fresh.metadata().await.unwrap();
    assert_eq!(
        after.topics, before.topics,
        "ids, partitions, leaders and configs kept"
    );
    assert!(after.version > before.version, "version keeps increasing");
    // The broker's session is kept, as ZooKeeper keeps sessions across a restart of the
    // ensemble: it carries on heartbeating with it, without registering again.
    assert_eq!(after.brokers, before.brokers);
    client.heartbeat(BrokerId(0), session).await.unwrap();
    client.create_topic(new_topic("after", 1)).await.unwrap();
    let now = client.metadata().await.unwrap();
    assert_eq!(now.topics["alpha"], before.topics["alpha"]);
    assert_eq!(now.topics.len(), 3);
}

/// Sends `bytes` on a fresh connection and reads until the server closes it. Returns what the
/// server sent before closing, and our local address (which the server's log names).
fn send_and_expect_close(zk: &ZkProcess, bytes: &[u8], half_close: bool) -> (Vec<u8>, String) {
    let mut s = TcpStream::connect(zk.addr()).unwrap();
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    let local = s.local_addr().unwrap().to_string();
    // The server may close before taking everything: a failed write is fine.
    let _ = s.write_all(bytes);
    if half_close {
        let _ = s.shutdown(Shutdown::Write);
    }
    let mut got = Vec::new();
    match s.read_to_end(&mut got) {
        Ok(_) => {}
        // Closing with unread input makes the kernel send a reset: still a close.
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!("connection {local} not closed by the server: {e}"),
    }
    (got, local)
}

#[tokio::test]
async fn bad_input_closes_that_connection_and_others_keep_working() {
    let dir = tempfile::tempdir().unwrap();
    let zk = ZkProcess::start(dir.path());
    let bystander = ZkClient::connect(&zk.addr(), TIMEOUT).await.unwrap();
    bystander.metadata().await.unwrap();

    // Deterministic "random" bytes (xorshift), so a failure can be reproduced.
    let mut x: u32 = 0x9e37_79b9;
    let random: Vec<u8> = (0..512)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    let metadata_json = br#"{"op":"metadata"}"#;
    let frame = |len: u32, body: &[u8]| [&len.to_be_bytes()[..], body].concat();
    let cases: Vec<(&str, Vec<u8>, bool, &str)> = vec![
        ("random bytes", random, true, "peer"),
        (
            "length shorter than body",
            frame(5, metadata_json),
            false,
            "bad request",
        ),
        (
            "length longer than body",
            frame(100, metadata_json),
            true,
            "17 of 100",
        ),
        (
            "oversize frame",
            frame(0x7fff_ffff, b""),
            false,
            "exceeds the maximum",
        ),
        ("zero-length frame", frame(0, b""), false, "length 0"),
        (
            "unknown op",
            frame(15, br#"{"op":"launch"}"#),
            false,
            "unknown variant",
        ),
    ];
    for (what, bytes, half_close, needle) in cases {
        let (answer, local) = send_and_expect_close(&zk, &bytes, half_close);
        assert!(
            zk.wait_for_log_line(&["ERROR", &format!("peer {local}"), needle], TIMEOUT),
            "{what}: no error logged naming {local} and '{needle}':\n{}",
            zk.log()
        );
        if what == "unknown op" {
            let (body, _) = decode_frame(&answer).unwrap().unwrap();
            let resp: Response = serde_json::from_slice(body).unwrap();
            assert!(
                matches!(&resp, Response::Error { error } if error.code == ZkErrorCode::InvalidRequest),
                "{resp:?}"
            );
        }
        let fresh = ZkClient::connect(&zk.addr(), TIMEOUT).await.unwrap();
        fresh
            .metadata()
            .await
            .unwrap_or_else(|e| panic!("after {what}: {e}"));
    }
    bystander.metadata().await.unwrap();
}

#[tokio::test]
async fn live_broker_id_is_refused_and_silent_broker_expires() {
    let dir = tempfile::tempdir().unwrap();
    let zk = ZkProcess::start(dir.path());
    let client = ZkClient::connect(&zk.addr(), TIMEOUT).await.unwrap();
    client.register_broker(broker(1), 60_000).await.unwrap();
    let mut other = broker(1);
    other.port = 19092;
    match client.register_broker(other, 60_000).await {
        Err(ZkError::Server(e)) => {
            assert_eq!(e.code, ZkErrorCode::BrokerIdInUse);
            assert!(
                e.message.contains("Broker id 1") && e.message.contains("localhost:9093"),
                "{e:?}"
            );
        }
        r => panic!("expected BrokerIdInUse, got {r:?}"),
    }

    // Broker 2 registers with a short session and never heartbeats.
    let session = client.register_broker(broker(2), 500).await.unwrap();
    let mut t = new_topic("led-by-2", 1);
    t.replica_assignment = Some(vec![vec![BrokerId(2)]]);
    t.replication_factor = -1;
    t.num_partitions = -1;
    let created = client.create_topic(t).await.unwrap();
    assert_eq!(created.partitions[0].leader, 2);
    let deadline = Instant::now() + TIMEOUT;
    let md = loop {
        let md = client.metadata().await.unwrap();
        if !md.brokers.iter().any(|b| b.id == 2) {
            break md;
        }
        assert!(Instant::now() < deadline, "broker 2 never expired: {md:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(md.brokers.iter().map(|b| b.id).collect::<Vec<_>>(), [1]);
    let p = &md.topics["led-by-2"].partitions[0];
    assert_eq!(
        (p.leader, p.leader_epoch, p.isr.clone()),
        (BrokerId(-1), LeaderEpoch(1), vec![BrokerId(2)])
    );
    match client.heartbeat(BrokerId(2), session).await {
        Err(ZkError::Server(e)) => assert_eq!(e.code, ZkErrorCode::SessionExpired),
        r => panic!("expected SessionExpired, got {r:?}"),
    }
    // Coming back makes it leader again, one epoch later.
    client.register_broker(broker(2), 60_000).await.unwrap();
    let p = client.metadata().await.unwrap().topics["led-by-2"].partitions[0].clone();
    assert_eq!(
        (p.leader, p.leader_epoch, p.isr),
        (BrokerId(2), LeaderEpoch(2), vec![BrokerId(2)])
    );
}

#[test]
fn usage_bad_config_and_sigterm() {
    let bin = env!("CARGO_BIN_EXE_zookeeper-lite");
    let out = Command::new(bin).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("USAGE: zookeeper-lite zookeeper.properties")
    );

    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(dir.path(), 0, "clientPort=abc\ntickTme=1\n");
    let out = Command::new(bin).arg(&config).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("clientPort") && stderr.contains("'abc'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("WARN") && stderr.contains("tickTme"),
        "{stderr}"
    );

    let mut zk = ZkProcess::start(dir.path());
    let status = Command::new("kill")
        .args(["-TERM", &zk.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = zk.wait_exit(TIMEOUT).expect("no exit after SIGTERM");
    assert_eq!(exit.code(), Some(0), "{}", zk.log());
}
