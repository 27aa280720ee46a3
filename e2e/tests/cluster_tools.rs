//! `kafka-broker-api-versions` and `kafka-cluster` against three real brokers: one block per
//! broker in Kafka 3.9's `NodeApiVersions` format, each line checked against the broker's own
//! ApiVersions answer (read here over a raw connection) and the Kafka 3.9 client's ranges; the
//! cluster id `kafka-cluster cluster-id` prints is the one in every broker's meta.properties;
//! `unregister` gets Kafka's answer for a cluster without the UnregisterBroker API; usage
//! errors and unreachable brokers get Kafka's texts and exit codes.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use e2e::raw::Conn;
use e2e::{run_tool, ThreeBrokers, ToolOutput, TOOL_TIMEOUT};
use kafka_protocol::messages::api_versions_request::ApiVersionsRequest;
use kafka_protocol::messages::{RequestKind, ResponseKind};

/// Kafka 3.9's `ApiKeys` (key, name, oldest, latest, in `clientApis()`), from the 3.9.0
/// `clients/src/main/resources/common/message/*Request.json` files.
const KAFKA_3_9: &[(i16, &str, i16, i16, bool)] = &[
    (0, "Produce", 0, 11, true),
    (1, "Fetch", 0, 17, true),
    (2, "ListOffsets", 0, 9, true),
    (3, "Metadata", 0, 12, true),
    (4, "LeaderAndIsr", 0, 7, true),
    (5, "StopReplica", 0, 4, true),
    (6, "UpdateMetadata", 0, 8, true),
    (7, "ControlledShutdown", 0, 3, true),
    (8, "OffsetCommit", 0, 9, true),
    (9, "OffsetFetch", 0, 9, true),
    (10, "FindCoordinator", 0, 6, true),
    (11, "JoinGroup", 0, 9, true),
    (12, "Heartbeat", 0, 4, true),
    (13, "LeaveGroup", 0, 5, true),
    (14, "SyncGroup", 0, 5, true),
    (15, "DescribeGroups", 0, 5, true),
    (16, "ListGroups", 0, 5, true),
    (17, "SaslHandshake", 0, 1, true),
    (18, "ApiVersions", 0, 4, true),
    (19, "CreateTopics", 0, 7, true),
    (20, "DeleteTopics", 0, 6, true),
    (21, "DeleteRecords", 0, 2, true),
    (22, "InitProducerId", 0, 5, true),
    (23, "OffsetForLeaderEpoch", 0, 4, true),
    (24, "AddPartitionsToTxn", 0, 5, true),
    (25, "AddOffsetsToTxn", 0, 4, true),
    (26, "EndTxn", 0, 4, true),
    (27, "WriteTxnMarkers", 0, 1, true),
    (28, "TxnOffsetCommit", 0, 4, true),
    (29, "DescribeAcls", 0, 3, true),
    (30, "CreateAcls", 0, 3, true),
    (31, "DeleteAcls", 0, 3, true),
    (32, "DescribeConfigs", 0, 4, true),
    (33, "AlterConfigs", 0, 2, true),
    (34, "AlterReplicaLogDirs", 0, 2, true),
    (35, "DescribeLogDirs", 0, 4, true),
    (36, "SaslAuthenticate", 0, 2, true),
    (37, "CreatePartitions", 0, 3, true),
    (38, "CreateDelegationToken", 0, 3, true),
    (39, "RenewDelegationToken", 0, 2, true),
    (40, "ExpireDelegationToken", 0, 2, true),
    (41, "DescribeDelegationToken", 0, 3, true),
    (42, "DeleteGroups", 0, 2, true),
    (43, "ElectLeaders", 0, 2, true),
    (44, "IncrementalAlterConfigs", 0, 1, true),
    (45, "AlterPartitionReassignments", 0, 0, true),
    (46, "ListPartitionReassignments", 0, 0, true),
    (47, "OffsetDelete", 0, 0, true),
    (48, "DescribeClientQuotas", 0, 1, true),
    (49, "AlterClientQuotas", 0, 1, true),
    (50, "DescribeUserScramCredentials", 0, 0, true),
    (51, "AlterUserScramCredentials", 0, 0, true),
    (52, "Vote", 0, 1, false),
    (53, "BeginQuorumEpoch", 0, 1, false),
    (54, "EndQuorumEpoch", 0, 1, false),
    (55, "DescribeQuorum", 0, 2, true),
    (56, "AlterPartition", 0, 3, true),
    (57, "UpdateFeatures", 0, 1, true),
    (58, "Envelope", 0, 0, true),
    (59, "FetchSnapshot", 0, 1, false),
    (60, "DescribeCluster", 0, 1, true),
    (61, "DescribeProducers", 0, 0, true),
    (62, "BrokerRegistration", 0, 4, false),
    (63, "BrokerHeartbeat", 0, 1, false),
    (64, "UnregisterBroker", 0, 0, true),
    (65, "DescribeTransactions", 0, 0, true),
    (66, "ListTransactions", 0, 1, true),
    (67, "AllocateProducerIds", 0, 0, true),
    (68, "ConsumerGroupHeartbeat", 0, 0, true),
    (69, "ConsumerGroupDescribe", 0, 0, true),
    (70, "ControllerRegistration", 0, 0, false),
    (71, "GetTelemetrySubscriptions", 0, 0, true),
    (72, "PushTelemetry", 0, 0, true),
    (73, "AssignReplicasToDirs", 0, 0, false),
    (74, "ListClientMetricsResources", 0, 0, true),
    (75, "DescribeTopicPartitions", 0, 0, true),
    (76, "ShareGroupHeartbeat", 0, 0, true),
    (77, "ShareGroupDescribe", 0, 0, true),
    (78, "ShareFetch", 0, 0, true),
    (79, "ShareAcknowledge", 0, 0, true),
    (80, "AddRaftVoter", 0, 0, true),
    (81, "RemoveRaftVoter", 0, 0, true),
    (82, "UpdateRaftVoter", 0, 0, false),
    (83, "InitializeShareGroupState", 0, 0, true),
    (84, "ReadShareGroupState", 0, 0, true),
    (85, "WriteShareGroupState", 0, 0, true),
    (86, "DeleteShareGroupState", 0, 0, true),
    (87, "ReadShareGroupStateSummary", 0, 0, true),
];

fn tool(name: &str, args: &[&str]) -> ToolOutput {
    run_tool(name, args, b"", TOOL_TIMEOUT)
}

/// The broker's advertised ranges, asked over a raw connection.
fn advertised(bootstrap: &str) -> BTreeMap<i16, (i16, i16)> {
    let mut conn = Conn::open(bootstrap);
    let ResponseKind::ApiVersions(r) =
        conn.call(0, RequestKind::ApiVersions(ApiVersionsRequest::default()))
    else {
        panic!("not an ApiVersions response");
    };
    assert_eq!(r.error_code, 0);
    r.api_keys
        .iter()
        .map(|k| (k.api_key, (k.min_version, k.max_version)))
        .collect()
}

/// What `NodeApiVersions.toString(true)` prints for these ranges, by Kafka's rules.
fn expected_block(ranges: &BTreeMap<i16, (i16, i16)>) -> String {
    let mut lines = Vec::new();
    for &(key, name, oldest, latest, client_api) in KAFKA_3_9 {
        match ranges.get(&key) {
            Some(&(min, max)) => {
                let versions = if min == max {
                    min.to_string()
                } else {
                    format!("{min} to {max}")
                };
                let verdict = if latest < min {
                    "[unusable: node too new]".to_string()
                } else if max < oldest {
                    "[unusable: node too old]".to_string()
                } else {
                    format!("[usable: {}]", latest.min(max))
                };
                lines.push(format!("{name}({key}): {versions} {verdict}"));
            }
            None if client_api => lines.push(format!("{name}({key}): UNSUPPORTED")),
            None => {}
        }
    }
    assert!(
        ranges.keys().all(|k| KAFKA_3_9.iter().any(|e| e.0 == *k)),
        "the broker advertises a key Kafka 3.9 does not know: {ranges:?}"
    );
    format!("(\n\t{}\n)", lines.join(",\n\t"))
}

#[test]
fn api_versions_and_cluster_id_of_three_brokers() {
    let mut cluster = ThreeBrokers::start(&[]);
    let bootstrap = cluster.bootstrap();

    // One block per broker, in id order, each exactly as Kafka prints it.
    let out = tool(
        "kafka-broker-api-versions",
        &["--bootstrap-server", &bootstrap],
    );
    out.assert_success("kafka-broker-api-versions");
    assert_eq!(out.stderr, "", "{out}");
    let mut expected = String::new();
    for id in 0..3 {
        let b = cluster.broker(id);
        let addr = b.bootstrap();
        let block = expected_block(&advertised(&addr));
        expected.push_str(&format!("{addr} (id: {id} rack: null) -> {block}\n"));
    }
    assert_eq!(out.stdout, expected);
    // Spot checks of the table itself.
    for line in [
        "127.0.0.1:",
        "\tProduce(0): 0 to 11 [usable: 11],\n",
        "\tFetch(1): 0 to 12 [usable: 12],\n",
        "\tApiVersions(18): 0 to 4 [usable: 4],\n",
        "\tConsumerGroupHeartbeat(68): UNSUPPORTED,\n",
        "\tReadShareGroupStateSummary(87): UNSUPPORTED\n)\n",
    ] {
        assert!(
            out.stdout.contains(line),
            "missing {line:?} in\n{}",
            out.stdout
        );
    }
    assert_eq!(out.stdout.matches(" -> (\n").count(), 3);

    // The cluster id is the one every broker stored in meta.properties.
    let stored: Vec<String> = (0..3)
        .map(|id| {
            let text =
                std::fs::read_to_string(cluster.broker(id).log_dir().join("meta.properties"))
                    .unwrap();
            text.lines()
                .find_map(|l| l.strip_prefix("cluster.id="))
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(stored.iter().all(|s| *s == stored[0]), "{stored:?}");
    for args in [
        vec!["cluster-id", "--bootstrap-server", bootstrap.as_str()],
        vec!["cluster-id", "-b", bootstrap.as_str()],
    ] {
        let out = tool("kafka-cluster", &args);
        out.assert_success("kafka-cluster cluster-id");
        assert_eq!(out.stdout, format!("Cluster ID: {}\n", stored[0]));
        assert_eq!(out.stderr, "");
    }

    // A ZooKeeper-mode cluster has no UnregisterBroker API: Kafka's text, exit 0.
    let out = tool(
        "kafka-cluster",
        &["unregister", "-b", &bootstrap, "--id", "2"],
    );
    out.assert_success("kafka-cluster unregister");
    assert_eq!(
        out.stdout,
        "The target cluster does not support the broker unregistration API.\n"
    );

    errors();
}

/// Usage errors and unreachable brokers, with Kafka's texts and exit codes.
fn errors() {
    let out = tool("kafka-broker-api-versions", &[]);
    out.assert_code(1, "no arguments");
    assert!(
        out.stderr
            .starts_with("This tool helps to retrieve broker version information.\nOption "),
        "{out}"
    );
    let out = tool(
        "kafka-broker-api-versions",
        &["--command-config", "/nonexistent"],
    );
    out.assert_code(1, "no bootstrap server");
    assert!(
        out.stderr
            .starts_with("Missing required argument \"[bootstrap-server]\"\n"),
        "{out}"
    );
    let out = tool("kafka-broker-api-versions", &["--version"]);
    out.assert_success("--version");
    assert_eq!(out.stdout, format!("{}\n", cli_version()));
    // Nothing listens on port 1: the legacy client's exception escapes main.
    let out = tool(
        "kafka-broker-api-versions",
        &["--bootstrap-server", "127.0.0.1:1"],
    );
    out.assert_code(1, "unreachable broker");
    assert_eq!(
        out.stderr,
        "Exception in thread \"main\" java.lang.RuntimeException: Request METADATA failed on brokers List(127.0.0.1:1 (id: -1 rack: null))\n"
    );
    let out = tool(
        "kafka-broker-api-versions",
        &["--bootstrap-server", "localhost"],
    );
    out.assert_code(1, "bad url");
    assert_eq!(
        out.stderr,
        "Exception in thread \"main\" org.apache.kafka.common.config.ConfigException: Invalid url in bootstrap.servers: localhost\n"
    );

    let out = tool("kafka-cluster", &["cluster-id"]);
    out.assert_code(1, "cluster-id without bootstrap");
    let words = out.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.starts_with("usage: kafka-cluster cluster-id [-h]"),
        "{out}"
    );
    assert!(
        words.ends_with("kafka-cluster: error: one of the arguments --bootstrap-server/-b -- bootstrap-controller/-C is required"),
        "{out}"
    );
    let out = tool("kafka-cluster", &["unregister", "-b", "127.0.0.1:1"]);
    out.assert_code(1, "unregister without id");
    assert!(out.stderr.contains("argument --id/-i is required"), "{out}");
    let out = tool("kafka-cluster", &[]);
    out.assert_code(1, "no command");
    assert_eq!(
        out.stderr,
        "usage: kafka-cluster [-h] {cluster-id,unregister} ...\nkafka-cluster: error: too few arguments\n"
    );

    // Unreachable: retried until default.api.timeout.ms, then Kafka's timeout.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("admin.properties");
    std::fs::write(&config, "default.api.timeout.ms=1500\n").unwrap();
    let started = std::time::Instant::now();
    let out = tool(
        "kafka-cluster",
        &[
            "cluster-id",
            "-b",
            "127.0.0.1:1",
            "-c",
            &config.display().to_string(),
        ],
    );
    out.assert_code(1, "cluster-id against nothing");
    assert!(started.elapsed() < Duration::from_secs(20), "{out}");
    assert_eq!(
        out.stderr,
        "org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. Call: listNodes\n\
         java.util.concurrent.ExecutionException: org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. Call: listNodes\n"
    );
    let out = tool(
        "kafka-cluster",
        &[
            "cluster-id",
            "-b",
            "127.0.0.1:1",
            "-c",
            "/nonexistent/admin.properties",
        ],
    );
    out.assert_code(1, "missing config");
    assert_eq!(
        out.stderr,
        "/nonexistent/admin.properties\njava.nio.file.NoSuchFileException: /nonexistent/admin.properties\n"
    );
}

/// The version the tools print (`cli::KAFKA_VERSION`).
fn cli_version() -> &'static str {
    "3.9.1"
}
