//! Sarama (Go) against our broker with the versions its default config speaks: Sarama 1.22 (the
//! Debian package) defaults to Kafka 0.8.2, so it produces with Produce v0 and magic 0 messages
//! (plain and gzip), reads with Fetch v0 and ListOffsets v0 (as Burrow reads topic offsets),
//! commits and fetches group offsets with OffsetCommit v1 / OffsetFetch v1, and, as an admin at
//! 0.11, describes configs and lists topics with DescribeConfigs v0. Magic 1 messages (Produce
//! v2, snappy) and Fetch v2/v4 are checked too. The program is `e2e/go/sarama_roundtrip`, built
//! here offline in GOPATH mode from `/usr/share/gocode` (scripts/install-test-deps.sh installs
//! `golang-go` and `golang-github-shopify-sarama-dev`). Without them the test is skipped loudly,
//! except under `CI=true`, where that is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use e2e::{repo_root, run_command, run_tool, Cluster, TOOL_TIMEOUT};

const GOPATH: &str = "/usr/share/gocode";
const BUILD_TIMEOUT: Duration = Duration::from_secs(300);
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// Builds the Sarama program into `dir`, or explains why it cannot.
fn build(dir: &Path) -> Option<PathBuf> {
    let have_go = Command::new("go").arg("version").output().is_ok();
    let have_sarama = Path::new(GOPATH)
        .join("src/github.com/Shopify/sarama")
        .is_dir();
    if !have_go || !have_sarama {
        let under_ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !under_ci,
            "CI=true but Go or Sarama is missing (scripts/install-test-deps.sh installs them)"
        );
        eprintln!(
            "\n!!!!!!!! SKIPPED: Go or Sarama missing — run scripts/install-test-deps.sh \
             (golang-go, golang-github-shopify-sarama-dev) !!!!!!!!\n"
        );
        return None;
    }
    let binary = dir.join("sarama_roundtrip");
    let mut cmd = Command::new("go");
    cmd.arg("build")
        .arg("-o")
        .arg(&binary)
        .arg(repo_root().join("e2e/go/sarama_roundtrip/main.go"))
        .env("GO111MODULE", "off")
        .env("GOPATH", GOPATH)
        .env("GOFLAGS", "")
        // A cache beside the Rust build keeps later runs from recompiling Sarama (and its cgo
        // zstd binding) every time.
        .env("GOCACHE", repo_root().join("target/go-build-cache"));
    let out = run_command(cmd, b"", BUILD_TIMEOUT);
    out.assert_success("go build sarama_roundtrip");
    Some(binary)
}

#[test]
fn sarama_with_its_default_versions_produces_consumes_commits_and_describes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(program) = build(dir.path()) else {
        return;
    };
    let cluster = Cluster::start();
    cluster.create_topic("sarama", 1);
    let mut cmd = Command::new(program);
    cmd.arg(cluster.bootstrap()).arg("sarama");
    let out = run_command(cmd, b"", RUN_TIMEOUT);
    out.assert_success("sarama_roundtrip");
    assert!(out.stdout.contains("RECORDS 10"), "{out}");

    // Our own console consumer reads back, as v2 batches, what Sarama's old formats stored.
    let bs = cluster.bootstrap();
    let out = run_tool(
        "kafka-console-consumer",
        &[
            "--bootstrap-server",
            &bs,
            "--topic",
            "sarama",
            "--from-beginning",
            "--max-messages",
            "10",
            "--timeout-ms",
            "30000",
            "--property",
            "print.key=true",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    out.assert_success("kafka-console-consumer");
    for expected in [
        "default-key-0\tdefault-value-0",
        "default-gzip-key-2\tdefault-gzip-value-2",
        "v0100-snappy-key-1\tv0100-snappy-value-1",
        "v0100-key-1\tv0100-value-1",
    ] {
        assert!(out.stdout.contains(expected), "missing {expected:?}: {out}");
    }
}
