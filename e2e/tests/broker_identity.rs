//! Broker identity: a broker id is held by one live broker at a time, a restarted broker gets its
//! id back within one session timeout, each log dir's `meta.properties` binds the data to one
//! cluster and one broker id, and the cluster id (made once by zookeeper-lite) is what real
//! clients see in Metadata and DescribeCluster.
//!
//! The Python clients come from `$KAFKA_E2E_PYTHON`, else `.venv/bin/python` (made by
//! `scripts/install-test-deps.sh`); without them the client checks fail (they are not skipped).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use e2e::{
    binary, repo_root, run_command, wait_until, Broker, Process, ZooKeeper, STARTUP_TIMEOUT,
    TEST_SESSION_TIMEOUT_MS,
};

const FATAL: &str = "Fatal error during KafkaServer startup. Prepare to shutdown";

/// A broker process started directly (not through `Broker::start`, which insists on it coming
/// up), for the starts that must fail.
fn spawn_broker(zk: &ZooKeeper, id: i32, log_dirs: &str, extra: &[(&str, &str)]) -> Process {
    let mut args = vec![repo_root()
        .join("config/server.properties")
        .display()
        .to_string()];
    let id_s = id.to_string();
    let zk_connect = zk.connect_string();
    let session = TEST_SESSION_TIMEOUT_MS.to_string();
    let mut overrides: Vec<(&str, &str)> = vec![
        ("broker.id", &id_s),
        ("listeners", "PLAINTEXT://127.0.0.1:0"),
        ("log.dirs", log_dirs),
        ("zookeeper.connect", &zk_connect),
        ("zookeeper.session.timeout.ms", &session),
        (e2e::METRICS_LISTENER_KEY, e2e::EPHEMERAL_METRICS_LISTENER),
    ];
    overrides.extend_from_slice(extra);
    for (k, v) in overrides {
        args.push("--override".into());
        args.push(format!("{k}={v}"));
    }
    Process::spawn(
        &format!("broker {id} (2nd)"),
        binary("broker"),
        args,
        vec![],
    )
}

fn python() -> PathBuf {
    let path = std::env::var_os("KAFKA_E2E_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/python"));
    assert!(
        path.exists(),
        "no Python interpreter at {}: run scripts/install-test-deps.sh (./test.sh does) or set \
         KAFKA_E2E_PYTHON",
        path.display()
    );
    path
}

fn meta_properties(dir: &Path) -> String {
    let path = dir.join("meta.properties");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn cluster_id_of(meta: &str) -> String {
    meta.lines()
        .find_map(|l| l.strip_prefix("cluster.id="))
        .unwrap_or_else(|| panic!("no cluster.id in {meta}"))
        .to_string()
}

#[test]
fn a_second_broker_with_a_live_id_exits_1_after_one_session_timeout_naming_the_holder() {
    let zk = ZooKeeper::start();
    let mut first = Broker::start(&zk, 0, &[]);
    let other = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let logs = other.path().join("logs").display().to_string();
    let started = Instant::now();
    let mut second = spawn_broker(&zk, 0, &logs, &[]);
    let status = second.wait_exit(Duration::from_millis(TEST_SESSION_TIMEOUT_MS) + STARTUP_TIMEOUT);
    let took = started.elapsed();
    let log = second.log();
    assert_eq!(status.code(), Some(1), "exit status {status}; log:\n{log}");
    // It waited for an earlier session to expire (one session timeout), and no longer.
    assert!(
        took >= Duration::from_millis(TEST_SESSION_TIMEOUT_MS - 500),
        "gave up after {took:?}, before one session timeout: {log}"
    );
    assert!(
        took <= Duration::from_millis(TEST_SESSION_TIMEOUT_MS) + Duration::from_secs(20),
        "took {took:?}: {log}"
    );
    assert!(
        log.contains(&format!("ERROR [KafkaServer id=0] {FATAL}")),
        "{log}"
    );
    assert!(
        log.contains("Broker id 0 is already registered by a live session "),
        "{log}"
    );
    assert!(
        log.contains(&format!("of 127.0.0.1:{}.", first.port())),
        "the holder's endpoint is named: {log}"
    );
    assert!(log.contains("NodeExists"), "{log}");
    assert!(log.contains("broker.id=0"), "{log}");
    // The live broker was not disturbed: still running, still registered, still serving.
    assert!(first.process.is_running());
    let out = run_command(
        {
            let mut c = Command::new("kcat");
            c.args(["-b", &first.bootstrap(), "-L", "-m", "10"]);
            c
        },
        b"",
        Duration::from_secs(30),
    );
    out.assert_success("kcat -L");
    assert!(
        out.stdout
            .contains(&format!("broker 0 at 127.0.0.1:{}", first.port())),
        "{out}"
    );
    // The first broker keeps its id: it never saw its session end.
    assert!(
        !first.process.log().contains("session expired"),
        "{}",
        first.process.log()
    );
    first.stop();
}

#[test]
fn a_shorter_session_timeout_gives_up_sooner() {
    // Another input of the same kind: the wait is the second broker's own session timeout.
    let zk = ZooKeeper::start();
    let _first = Broker::start(&zk, 3, &[]);
    let other = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let logs = other.path().join("logs").display().to_string();
    let mut second = spawn_broker(&zk, 3, &logs, &[("zookeeper.session.timeout.ms", "1500")]);
    // Timed from its first refusal, so that a slow start-up does not count.
    second.wait_for_line("the wait for the id", STARTUP_TIMEOUT, |l| {
        l.contains("Waiting up to zookeeper.session.timeout.ms=1500 ms")
    });
    let started = Instant::now();
    let status = second.wait_exit(STARTUP_TIMEOUT);
    let took = started.elapsed();
    let log = second.log();
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(
        took < Duration::from_millis(TEST_SESSION_TIMEOUT_MS),
        "took {took:?}: {log}"
    );
    assert!(
        log.contains(&format!("ERROR [KafkaServer id=3] {FATAL}")),
        "{log}"
    );
    assert!(
        log.contains("zookeeper.session.timeout.ms=1500 ms"),
        "{log}"
    );
}

#[test]
fn a_broker_advertising_a_live_brokers_endpoint_is_refused() {
    // The same kind from the other side: another id, but the endpoint of a live broker.
    let zk = ZooKeeper::start();
    let first = Broker::start(&zk, 0, &[]);
    let other = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let logs = other.path().join("logs").display().to_string();
    let advertised = format!("PLAINTEXT://127.0.0.1:{}", first.port());
    let mut second = spawn_broker(&zk, 1, &logs, &[("advertised.listeners", &advertised)]);
    let status = second.wait_exit(STARTUP_TIMEOUT);
    let log = second.log();
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(
        log.contains(&format!("ERROR [KafkaServer id=1] {FATAL}")),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "requirement failed: Configured end points 127.0.0.1:{} in advertised listeners are \
             already registered by broker 0",
            first.port()
        )),
        "{log}"
    );
}

fn signal(p: &Process, sig: &str) {
    let pid = p
        .pid()
        .unwrap_or_else(|| panic!("{} is not running", p.name()));
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -{sig} {pid}");
}

#[test]
fn a_stale_broker_that_lost_its_id_cannot_unregister_the_live_holder() {
    let zk = ZooKeeper::start();
    let mut stale = Broker::start(&zk, 0, &[]);
    // Frozen past its session timeout, the first broker loses its id to a second one.
    signal(&stale.process, "STOP");
    let holder = Broker::start(&zk, 0, &[]);
    // Thawed and stopped at once: whatever it still believes, it must not take the id away.
    signal(&stale.process, "CONT");
    let status = stale.stop();
    assert!(status.success(), "{status}: {}", stale.process.log());
    let listed = || {
        let mut c = Command::new("kcat");
        c.args(["-b", &holder.bootstrap(), "-L", "-m", "10"]);
        let out = run_command(c, b"", Duration::from_secs(30));
        out.assert_success("kcat -L");
        out.stdout
    };
    let md = listed();
    assert!(
        md.contains(&format!("broker 0 at 127.0.0.1:{}", holder.port())),
        "the live holder is still registered: {md}"
    );
    // And it stays so: its session was never ended, so it never had to register again.
    std::thread::sleep(Duration::from_millis(TEST_SESSION_TIMEOUT_MS / 2));
    let md = listed();
    assert!(
        md.contains(&format!("broker 0 at 127.0.0.1:{}", holder.port())),
        "{md}"
    );
    let log = holder.process.log();
    assert!(!log.contains("registering again"), "{log}");
}

#[test]
fn a_broker_restarted_after_kill_9_gets_its_id_back_within_one_session_timeout() {
    let zk = ZooKeeper::start();
    let mut broker = Broker::start(&zk, 0, &[]);
    broker.kill9();
    let started = Instant::now();
    broker.restart();
    let took = started.elapsed();
    assert!(
        took <= Duration::from_millis(TEST_SESSION_TIMEOUT_MS) + Duration::from_secs(15),
        "restart took {took:?}"
    );
    let log = broker.process.log();
    assert!(!log.contains(FATAL), "{log}");
    broker.stop();
}

#[test]
fn meta_properties_is_written_in_every_log_dir_and_a_mismatch_is_refused() {
    let zk = ZooKeeper::start();
    let data = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (a, b) = (data.path().join("a"), data.path().join("b"));
    let dirs = format!("{},{}", a.display(), b.display());
    let mut broker = Broker::start(&zk, 0, &[("log.dirs", &dirs)]);
    let meta_a = meta_properties(&a);
    let meta_b = meta_properties(&b);
    let id = cluster_id_of(&meta_a);
    for meta in [&meta_a, &meta_b] {
        let lines: Vec<&str> = meta.lines().collect();
        assert_eq!(lines.len(), 5, "{meta}");
        assert_eq!(lines[0], "#");
        assert!(
            lines[1].starts_with('#') && lines[1].contains(" UTC "),
            "{meta}"
        );
        assert_eq!(
            &lines[2..],
            ["version=0", "broker.id=0", &format!("cluster.id={id}")]
        );
    }
    assert_eq!(id.len(), 22, "{id}");
    broker.stop();

    // Another broker id on the same data: refused with Kafka's text, exit 1, files unchanged.
    let mut wrong_id = spawn_broker(&zk, 1, &dirs, &[]);
    let status = wrong_id.wait_exit(STARTUP_TIMEOUT);
    let log = wrong_id.log();
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(
        log.contains(&format!("ERROR [KafkaServer id=1] {FATAL}")),
        "{log}"
    );
    assert!(
        log.contains("Stored node id 0 doesn't match previous node id 1 in ")
            && log.contains(
                "meta.properties. If you moved your data, make sure your configured node id \
                 matches. If you intend to create a new node, you should remove all data in your \
                 data directories."
            ),
        "{log}"
    );
    assert_eq!(meta_properties(&a), meta_a);

    // The same data against another cluster (a fresh zookeeper-lite has another id): refused.
    let other_zk = ZooKeeper::start();
    let mut wrong_cluster = spawn_broker(&other_zk, 0, &dirs, &[]);
    let status = wrong_cluster.wait_exit(STARTUP_TIMEOUT);
    let log = wrong_cluster.log();
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(
        log.contains(&format!("ERROR [KafkaServer id=0] {FATAL}")),
        "{log}"
    );
    let expected = "Invalid cluster.id in: ";
    assert!(log.contains(expected), "{log}");
    assert!(log.contains(&format!(", but read {id}")), "{log}");
    assert!(!log.contains("[KafkaServer id=0] started"), "{log}");
    assert_eq!(meta_properties(&b), meta_b);

    // The right broker on the right cluster starts again on the same data.
    broker.restart();
    broker.stop();
}

/// Prints `cluster_id` as kafka-python's admin (DescribeCluster) and confluent-kafka's
/// `list_topics()` (Metadata) see it, one line each.
const CLIENT_CLUSTER_ID: &str = r#"
import sys
from kafka.admin import KafkaAdminClient
from confluent_kafka.admin import AdminClient
bs = sys.argv[1]
admin = KafkaAdminClient(bootstrap_servers=bs, request_timeout_ms=20000)
d = admin.describe_cluster()
print("KAFKA_PYTHON", d["cluster_id"], d["controller_id"], ",".join(str(b["broker_id"]) for b in d["brokers"]))
admin.close()
md = AdminClient({"bootstrap.servers": bs}).list_topics(timeout=20)
print("CONFLUENT", md.cluster_id, md.controller_id)
"#;

fn client_cluster_ids(bootstrap: &str) -> (String, String) {
    let mut cmd = Command::new(python());
    cmd.args(["-c", CLIENT_CLUSTER_ID, bootstrap])
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let out = run_command(cmd, b"", Duration::from_secs(120));
    out.assert_success("python cluster id clients");
    let field = |prefix: &str| {
        out.stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix} line: {out}"))
            .trim()
            .to_string()
    };
    (field("KAFKA_PYTHON "), field("CONFLUENT "))
}

#[test]
fn real_clients_see_the_cluster_id_and_a_zookeeper_restart_keeps_it() {
    let mut zk = ZooKeeper::start();
    let mut broker = Broker::start(&zk, 0, &[]);
    let id = cluster_id_of(&meta_properties(&broker.log_dir()));
    let (kp, ck) = client_cluster_ids(&broker.bootstrap());
    assert_eq!(kp, format!("{id} 0 0"), "kafka-python describe_cluster");
    assert_eq!(ck, format!("{id} 0"), "confluent-kafka list_topics");

    // zookeeper-lite restarts (kill -9): the id is the same, and the broker comes back to it.
    zk.kill9();
    zk.restart();
    broker.stop();
    broker.restart();
    wait_until("the broker to register again", STARTUP_TIMEOUT, || {
        let (kp, _) = client_cluster_ids(&broker.bootstrap());
        (kp == format!("{id} 0 0")).then_some(())
    });
    let (_, ck) = client_cluster_ids(&broker.bootstrap());
    assert_eq!(ck, format!("{id} 0"));
    assert_eq!(cluster_id_of(&meta_properties(&broker.log_dir())), id);
    broker.stop();
}

/// One raw request on a fresh connection, answered at `version`.
fn call<R: kafka_protocol::protocol::Request>(
    bootstrap: &str,
    version: i16,
    request: &R,
) -> R::Response {
    use bytes::{Bytes, BytesMut};
    use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
    use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
    use std::io::{Read, Write};
    let key = ApiKey::try_from(R::KEY).unwrap_or_else(|_| panic!("key {}", R::KEY));
    let mut stream = std::net::TcpStream::connect(bootstrap).unwrap_or_else(|e| panic!("{e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap_or_else(|e| panic!("{e}"));
    let header = RequestHeader::default()
        .with_request_api_key(R::KEY)
        .with_request_api_version(version)
        .with_correlation_id(1)
        .with_client_id(Some(StrBytes::from_static_str("e2e-identity")));
    let mut buf = BytesMut::new();
    header
        .encode(&mut buf, key.request_header_version(version))
        .unwrap_or_else(|e| panic!("{e}"));
    request
        .encode(&mut buf, version)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut frame = (buf.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&buf);
    stream.write_all(&frame).unwrap_or_else(|e| panic!("{e}"));
    let mut size = [0u8; 4];
    stream
        .read_exact(&mut size)
        .unwrap_or_else(|e| panic!("{key:?} v{version}: no answer: {e}"));
    let mut body = vec![0u8; i32::from_be_bytes(size).clamp(0, 1 << 20) as usize];
    stream
        .read_exact(&mut body)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut body = Bytes::from(body);
    let rh = ResponseHeader::decode(&mut body, key.response_header_version(version))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rh.correlation_id, 1);
    R::Response::decode(&mut body, version).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn describe_cluster_v0_and_v1_answer_the_brokers_the_controller_and_the_cluster_id() {
    use kafka_protocol::messages::{ApiVersionsRequest, DescribeClusterRequest};
    use kafka_protocol::ResponseError;
    let zk = ZooKeeper::start();
    let b0 = Broker::start(&zk, 0, &[]);
    let b1 = Broker::start(&zk, 1, &[]);
    let id = cluster_id_of(&meta_properties(&b0.log_dir()));
    assert_eq!(cluster_id_of(&meta_properties(&b1.log_dir())), id);

    let versions = call(&b1.bootstrap(), 3, &ApiVersionsRequest::default());
    let dc = versions
        .api_keys
        .iter()
        .find(|k| k.api_key == 60)
        .unwrap_or_else(|| panic!("DescribeCluster is not advertised: {versions:?}"));
    assert_eq!((dc.min_version, dc.max_version), (0, 1));

    for version in [0, 1] {
        let r = call(&b1.bootstrap(), version, &DescribeClusterRequest::default());
        assert_eq!(r.error_code, 0, "v{version}: {r:?}");
        assert_eq!(r.cluster_id.as_str(), id, "v{version}");
        assert_eq!(r.controller_id.0, 0, "v{version}");
        let brokers: Vec<(i32, String, i32)> = r
            .brokers
            .iter()
            .map(|b| (b.broker_id.0, b.host.to_string(), b.port))
            .collect();
        assert_eq!(
            brokers,
            vec![
                (0, "127.0.0.1".to_string(), i32::from(b0.port())),
                (1, "127.0.0.1".to_string(), i32::from(b1.port())),
            ],
            "v{version}"
        );
        // Not asked for: the schema's default, Integer.MIN_VALUE.
        assert_eq!(r.cluster_authorized_operations, i32::MIN, "v{version}");
        let asked =
            DescribeClusterRequest::default().with_include_cluster_authorized_operations(true);
        let r = call(&b0.bootstrap(), version, &asked);
        // No authorizer: every operation Kafka supports on CLUSTER.
        assert_eq!(r.cluster_authorized_operations, 8096, "v{version}");
    }
    // v1 names the endpoint type; a broker is not a controller endpoint.
    let r = call(
        &b0.bootstrap(),
        1,
        &DescribeClusterRequest::default().with_endpoint_type(2),
    );
    assert_eq!(r.error_code, ResponseError::MismatchedEndpointType.code());
    assert_eq!(
        r.error_message.as_deref(),
        Some("The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER")
    );
    let r = call(
        &b0.bootstrap(),
        1,
        &DescribeClusterRequest::default().with_endpoint_type(7),
    );
    assert_eq!(r.error_code, ResponseError::UnsupportedEndpointType.code());
    assert_eq!(
        r.error_message.as_deref(),
        Some("Unsupported endpoint type 7")
    );
}
