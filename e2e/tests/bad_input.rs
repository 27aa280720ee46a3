//! Bad input never takes a server down: random bytes, a frame of a wrong length, an oversize frame
//! and an unknown API key each get an error in the server's log and a closed connection, and the
//! server goes on serving the clients it already had and new ones. Misspelled config keys are
//! warned about by name; bad values stop the server with a message naming key and value.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use e2e::{binary, Broker, Cluster, Process, ZooKeeper, STARTUP_TIMEOUT};

const CLOSE_DEADLINE: Duration = Duration::from_secs(10);

/// Deterministic bytes (xorshift64*), so a failure can be replayed.
fn random_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed.max(1);
    (0..n)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("connecting to 127.0.0.1:{port}: {e}"));
    s.set_read_timeout(Some(CLOSE_DEADLINE))
        .unwrap_or_else(|e| panic!("set_read_timeout: {e}"));
    s
}

/// Sends `bytes` (then half-closes when `finish`), and asserts that the server closes the
/// connection (EOF or reset) before the deadline. Whatever the server answers first is ignored.
fn assert_closed_after(port: u16, what: &str, bytes: &[u8], finish: bool) {
    let mut s = connect(port);
    // The server may close while we are still writing: that is the expected outcome, not an error.
    let _ = s.write_all(bytes);
    if finish {
        let _ = s.shutdown(Shutdown::Write);
    }
    let deadline = Instant::now() + CLOSE_DEADLINE;
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => {
                return
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("{what}: the server left the connection open for {CLOSE_DEADLINE:?}")
            }
            Err(e) => panic!("{what}: unexpected read error {e}"),
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the server kept talking instead of closing"
        );
    }
}

/// Asserts that the server logged a warning or an error after `mark`.
fn assert_logged_error(process: &mut Process, mark: usize, what: &str) {
    process.wait_for_line_since(
        mark,
        &format!("an ERROR/WARN log line about {what}"),
        CLOSE_DEADLINE,
        |l| l.contains("ERROR") || l.contains("WARN"),
    );
}

// ---------------------------------------------------------------------------------------------
// Broker: the Kafka protocol

fn kafka_frame(body: &[u8]) -> Vec<u8> {
    let mut f = (body.len() as u32).to_be_bytes().to_vec();
    f.extend_from_slice(body);
    f
}

/// Request header v1: api key, version, correlation id, client id (int16-length string).
fn kafka_header(api_key: i16, version: i16, correlation: i32) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&api_key.to_be_bytes());
    h.extend_from_slice(&version.to_be_bytes());
    h.extend_from_slice(&correlation.to_be_bytes());
    h.extend_from_slice(&3i16.to_be_bytes());
    h.extend_from_slice(b"e2e");
    h
}

/// Sends ApiVersions v0 on `s` and checks the answer: the server is serving.
fn api_versions_round_trip(s: &mut TcpStream, correlation: i32) {
    let req = kafka_frame(&kafka_header(18, 0, correlation));
    s.write_all(&req)
        .unwrap_or_else(|e| panic!("sending ApiVersions: {e}"));
    let mut size = [0u8; 4];
    s.read_exact(&mut size)
        .unwrap_or_else(|e| panic!("reading the ApiVersions response size: {e}"));
    let size = u32::from_be_bytes(size) as usize;
    assert!(
        (6..1_000_000).contains(&size),
        "ApiVersions response size {size}"
    );
    let mut body = vec![0u8; size];
    s.read_exact(&mut body)
        .unwrap_or_else(|e| panic!("reading the ApiVersions response: {e}"));
    assert_eq!(
        i32::from_be_bytes([body[0], body[1], body[2], body[3]]),
        correlation,
        "correlation id"
    );
    assert_eq!(i16::from_be_bytes([body[4], body[5]]), 0, "error_code");
}

fn broker_still_serves(broker: &mut Broker, healthy: &mut TcpStream, correlation: i32) {
    assert!(broker.process.is_running(), "the broker is still up");
    api_versions_round_trip(healthy, correlation);
    let mut fresh = connect(broker.port());
    api_versions_round_trip(&mut fresh, 1);
}

#[test]
fn broker_survives_bad_frames() {
    let mut cluster = Cluster::start();
    let port = cluster.broker.port();
    // A client that was connected before the bad input must keep being served.
    let mut healthy = connect(port);
    api_versions_round_trip(&mut healthy, 100);

    let mut random_frame = random_bytes(0x5eed_0001, 200);
    random_frame.splice(0..4, (196u32).to_be_bytes());

    // Metadata v1 announcing 5 topics, the first one with a 100-byte name, but the frame ends
    // after 3 bytes of it: the declared lengths inside the frame do not match the frame.
    let mut truncated = kafka_header(3, 1, 9);
    truncated.extend_from_slice(&5i32.to_be_bytes());
    truncated.extend_from_slice(&100i16.to_be_bytes());
    truncated.extend_from_slice(b"abc");

    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        ("random bytes", random_bytes(0x5eed_0002, 4096), true),
        ("a frame of random bytes", random_frame, false),
        (
            "a frame too short for a request header",
            kafka_frame(&[0, 18]),
            false,
        ),
        (
            "a frame shorter than its contents say",
            kafka_frame(&truncated),
            false,
        ),
        (
            "an oversize frame (2 GiB announced)",
            0x7fff_ffffu32.to_be_bytes().to_vec(),
            false,
        ),
        (
            "a negative frame size",
            0xffff_ffffu32.to_be_bytes().to_vec(),
            false,
        ),
        (
            "an unknown API key",
            kafka_frame(&kafka_header(9999, 0, 7)),
            false,
        ),
    ];
    for (i, (what, bytes, finish)) in cases.into_iter().enumerate() {
        let mark = cluster.broker.process.log_mark();
        assert_closed_after(port, what, &bytes, finish);
        assert_logged_error(&mut cluster.broker.process, mark, what);
        broker_still_serves(&mut cluster.broker, &mut healthy, 200 + i as i32);
    }

    // And the broker still does real work.
    cluster.create_topic("after-bad-input", 1);
}

#[test]
fn misspelled_broker_config_key_is_warned_about_by_name() {
    let cluster = Cluster::start_with(&[("log.retension.hours", "1")]);
    let log = cluster.broker.process.log();
    assert!(
        log.lines()
            .any(|l| l.contains("WARN") && l.contains("log.retension.hours")),
        "a WARN naming the misspelled key; the log:\n{log}"
    );
}

#[test]
fn bad_broker_config_value_names_key_and_value() {
    let zk = ZooKeeper::start();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let mut broker = Process::spawn(
        "broker with a bad value",
        binary("broker"),
        vec![
            e2e::repo_root()
                .join("config/server.properties")
                .display()
                .to_string(),
            "--override".into(),
            format!("log.dirs={}", dir.path().display()),
            "--override".into(),
            format!("zookeeper.connect={}", zk.connect_string()),
            "--override".into(),
            "listeners=PLAINTEXT://127.0.0.1:0".into(),
            "--override".into(),
            "num.partitions=three".into(),
        ],
        vec![],
    );
    let status = broker.wait_exit(STARTUP_TIMEOUT);
    assert_eq!(status.code(), Some(1), "{}", broker.log());
    let log = broker.log();
    assert!(
        log.contains("num.partitions") && log.contains("three"),
        "the error names the key and the value:\n{log}"
    );
}

// ---------------------------------------------------------------------------------------------
// zookeeper-lite: u32 length + JSON frames

fn zk_frame(body: &[u8]) -> Vec<u8> {
    kafka_frame(body)
}

/// A metadata request on `s`, answered with a `metadata` response: the server is serving.
fn zk_metadata_round_trip(s: &mut TcpStream) {
    s.write_all(&zk_frame(br#"{"op":"metadata"}"#))
        .unwrap_or_else(|e| panic!("sending a metadata request: {e}"));
    let mut size = [0u8; 4];
    s.read_exact(&mut size)
        .unwrap_or_else(|e| panic!("reading the response size: {e}"));
    let size = u32::from_be_bytes(size) as usize;
    assert!((1..16 << 20).contains(&size), "response size {size}");
    let mut body = vec![0u8; size];
    s.read_exact(&mut body)
        .unwrap_or_else(|e| panic!("reading the response: {e}"));
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.contains(r#""result":"metadata""#),
        "a metadata response: {text}"
    );
}

fn zk_still_serves(zk: &mut ZooKeeper, healthy: &mut TcpStream) {
    assert!(zk.process.is_running(), "zookeeper-lite is still up");
    zk_metadata_round_trip(healthy);
    // A new client, through the client library the broker uses.
    let addr = zk.connect_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    rt.block_on(async {
        let client = zookeeper_lite::client::ZkClient::connect(&addr, Duration::from_secs(10))
            .await
            .unwrap_or_else(|e| panic!("connecting to zookeeper-lite at {addr}: {e}"));
        client
            .metadata()
            .await
            .unwrap_or_else(|e| panic!("metadata from zookeeper-lite: {e}"))
    });
}

#[test]
fn zookeeper_lite_survives_bad_frames() {
    let mut zk = ZooKeeper::start();
    let port = zk.port();
    // A client connected before the bad input keeps being served.
    let mut healthy = connect(port);
    zk_metadata_round_trip(&mut healthy);

    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        ("random bytes", random_bytes(0x5eed_0003, 4096), true),
        (
            "a frame of random bytes",
            zk_frame(&random_bytes(0x5eed_0004, 100)),
            false,
        ),
        (
            "a frame shorter than its JSON",
            {
                let mut f = 5u32.to_be_bytes().to_vec();
                f.extend_from_slice(br#"{"op":"metadata"}"#);
                f
            },
            false,
        ),
        (
            "a frame longer than what is sent",
            {
                let mut f = 500u32.to_be_bytes().to_vec();
                f.extend_from_slice(br#"{"op":"metadata"}"#);
                f
            },
            true,
        ),
        (
            "an oversize frame (2 GiB announced)",
            0x7fff_ffffu32.to_be_bytes().to_vec(),
            false,
        ),
        (
            "an unknown operation",
            zk_frame(br#"{"op":"no_such_operation"}"#),
            false,
        ),
    ];
    for (what, bytes, finish) in cases {
        let mark = zk.process.log_mark();
        assert_closed_after(port, what, &bytes, finish);
        assert_logged_error(&mut zk.process, mark, what);
        zk_still_serves(&mut zk, &mut healthy);
    }
}
