//! kafka-topics beyond the quickstart, against a real broker: configs shown by describe
//! (DescribeConfigs), alter (CreatePartitions), delete (DeleteTopics), regex filters, and topics
//! auto-created on first use (Metadata with auto-create, as the issue asks of the broker).

use e2e::{run_tool, Cluster, TOOL_TIMEOUT};

#[test]
fn describe_alter_and_delete_a_topic() {
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    cluster.topics(&[
        "--create",
        "--topic",
        "orders",
        "--partitions",
        "3",
        "--config",
        "retention.ms=1000",
    ]);
    cluster.create_topic("payments", 1);

    let describe = cluster.topics(&["--describe", "--topic", "orders"]);
    let summary = describe.stdout.lines().next().unwrap_or_default();
    assert!(
        summary.starts_with("Topic: orders\tTopicId: ")
            && summary
                .ends_with("\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: flush.messages=1,retention.ms=1000"),
        // flush.messages: server.properties sets log.flush.interval.messages, which Kafka
        // reports as a STATIC_BROKER_CONFIG value of the topic (not a default).
        "only the override and the static broker setting are listed: {describe}"
    );

    // Alter adds partitions; the new ones get a leader too.
    let alter = cluster.topics(&["--alter", "--topic", "orders", "--partitions", "5"]);
    assert_eq!(alter.stdout, "", "alter prints nothing: {alter}");
    let describe = cluster.topics(&["--describe", "--topic", "orders"]);
    assert!(
        describe.stdout.contains("\tPartitionCount: 5\t"),
        "{describe}"
    );
    assert!(
        describe.stdout.contains(
            "\tTopic: orders\tPartition: 4\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: N/A\tLastKnownElr: N/A"
        ),
        "{describe}"
    );
    let shrink = run_tool(
        "kafka-topics",
        &[
            "--bootstrap-server",
            &bs,
            "--alter",
            "--topic",
            "orders",
            "--partitions",
            "2",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    shrink.assert_code(1, "alter to fewer partitions");
    assert!(
        shrink.stdout.contains(
            "Error while executing topic command : Topic currently has 5 partitions, which is higher than the requested 2."
        ),
        "{shrink}"
    );

    // --topic is a regex matched against the whole name.
    let list = cluster.topics(&["--list", "--topic", "ord.*"]);
    assert_eq!(list.stdout, "orders\n", "{list}");
    let list = cluster.topics(&["--list", "--topic", "ord"]);
    // Kafka prints the joined names and a newline: an empty line when nothing matches.
    assert_eq!(list.stdout, "\n", "a full match, not a substring: {list}");

    let delete = cluster.topics(&["--delete", "--topic", "orders"]);
    assert_eq!(delete.stdout, "", "delete prints nothing: {delete}");
    assert_topic_list(&cluster, "payments\n");
    let gone = cluster.topics(&["--describe", "--topic", "orders", "--if-exists"]);
    assert_eq!(
        gone.stdout, "",
        "--if-exists: no error, nothing printed: {gone}"
    );

    // The name can be used again, as a new topic with a new id.
    cluster.create_topic("orders", 1);
    let describe = cluster.topics(&["--describe", "--topic", "orders"]);
    assert!(
        describe.stdout.contains("\tPartitionCount: 1\t"),
        "{describe}"
    );
}

fn assert_topic_list(cluster: &Cluster, expected: &str) {
    let list = cluster.topics(&["--list"]);
    assert_eq!(list.stdout, expected, "{list}");
}

#[test]
fn producing_to_a_new_topic_creates_it_with_the_broker_defaults() {
    // num.partitions=2 so that the default visibly comes from the broker's config.
    let cluster = Cluster::start_with(&[("num.partitions", "2")]);
    let bs = cluster.bootstrap();
    run_tool(
        "kafka-console-producer",
        &["--bootstrap-server", &bs, "--topic", "auto-created"],
        b"first\nsecond\n",
        TOOL_TIMEOUT,
    )
    .assert_success("produce to a topic that does not exist yet");
    let describe = cluster.topics(&["--describe", "--topic", "auto-created"]);
    assert!(
        describe
            .stdout
            .contains("\tPartitionCount: 2\tReplicationFactor: 1\t"),
        "{describe}"
    );
    let out = run_tool(
        "kafka-console-consumer",
        &[
            "--bootstrap-server",
            &bs,
            "--topic",
            "auto-created",
            "--from-beginning",
            "--max-messages",
            "2",
            "--timeout-ms",
            "30000",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    out.assert_success("consume");
    let mut got: Vec<&str> = out.stdout.lines().collect();
    got.sort_unstable();
    assert_eq!(got, ["first", "second"], "{out}");
}
