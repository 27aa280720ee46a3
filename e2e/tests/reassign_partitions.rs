//! `kafka-reassign-partitions` against a real cluster (KIP-455): draining a broker moves a
//! partition's data to another broker, which then serves it alone; a move that cannot finish is
//! shown as in progress (by `--verify`, `--list` and `kafka-topics --describe`) until it is
//! cancelled.

use std::path::Path;
use std::time::Duration;

use e2e::{run_script, run_tool, wait_until, Broker, ToolOutput, ZooKeeper, TOOL_TIMEOUT};

/// How long a move of a few records may take to finish, and a removed replica to go.
const MOVE_TIMEOUT: Duration = Duration::from_secs(60);

fn reassign(bootstrap: &str, args: &[&str]) -> ToolOutput {
    let mut full = vec!["--bootstrap-server", bootstrap];
    full.extend_from_slice(args);
    run_tool("kafka-reassign-partitions", &full, b"", TOOL_TIMEOUT)
}

fn topics(bootstrap: &str, args: &[&str]) -> ToolOutput {
    let mut full = vec!["--bootstrap-server", bootstrap];
    full.extend_from_slice(args);
    let out = run_tool("kafka-topics", &full, b"", TOOL_TIMEOUT);
    out.assert_success(&format!("kafka-topics {}", full.join(" ")));
    out
}

/// The describe line of partition 0 of `topic`.
fn partition_line(bootstrap: &str, topic: &str) -> String {
    let out = topics(bootstrap, &["--describe", "--topic", topic]);
    out.stdout
        .lines()
        .find(|l| l.starts_with(&format!("\tTopic: {topic}\tPartition: 0\t")))
        .unwrap_or_else(|| panic!("no partition line: {out}"))
        .to_string()
}

fn write(path: &Path, text: &str) -> String {
    if let Err(e) = std::fs::write(path, text) {
        panic!("writing {}: {e}", path.display());
    }
    path.display().to_string()
}

fn plan(topic: &str, replicas: &str) -> String {
    format!(
        r#"{{"version":1,"partitions":[{{"topic":"{topic}","partition":0,"replicas":[{replicas}]}}]}}"#
    )
}

#[test]
fn draining_a_broker_moves_the_partition_and_its_records() {
    let zk = ZooKeeper::start();
    let mut b0 = Broker::start(&zk, 0, &[]);
    let b1 = Broker::start(&zk, 1, &[]);
    let b2 = Broker::start(&zk, 2, &[]);
    let bs = b0.bootstrap();
    let files = tempfile::tempdir().expect("temp dir");

    topics(
        &bs,
        &[
            "--create",
            "--topic",
            "drain",
            "--replica-assignment",
            "0:2",
        ],
    );
    let produce = run_tool(
        "kafka-console-producer",
        &["--bootstrap-server", &bs, "--topic", "drain"],
        b"m1\nm2\nm3\nm4\nm5\n",
        TOOL_TIMEOUT,
    );
    produce.assert_success("produce to drain");
    assert!(b2.partition_dir("drain", 0).exists());
    assert!(!b1.partition_dir("drain", 0).exists());

    // --generate proposes brokers 0 and 1 for it.
    let topics_file = write(
        &files.path().join("topics.json"),
        r#"{"topics": [{"topic": "drain"}], "version": 1}"#,
    );
    let generate = reassign(
        &bs,
        &[
            "--generate",
            "--topics-to-move-json-file",
            &topics_file,
            "--broker-list",
            "0,1",
        ],
    );
    generate.assert_success("--generate");
    assert_eq!(
        generate.stdout,
        "Current partition replica assignment\n\
         {\"version\":1,\"partitions\":[{\"topic\":\"drain\",\"partition\":0,\"replicas\":[0,2],\"log_dirs\":[\"any\",\"any\"]}]}\n\
         \n\
         Proposed partition reassignment configuration\n\
         {\"version\":1,\"partitions\":[{\"topic\":\"drain\",\"partition\":0,\"replicas\":[0,1],\"log_dirs\":[\"any\",\"any\"]}]}\n",
        "{generate}"
    );

    // --execute prints the assignment to roll back to, and starts the move.
    let plan_file = write(&files.path().join("plan.json"), &plan("drain", "0,1"));
    let execute = reassign(&bs, &["--execute", "--reassignment-json-file", &plan_file]);
    execute.assert_success("--execute");
    assert_eq!(
        execute.stdout,
        "Current partition replica assignment\n\
         \n\
         {\"version\":1,\"partitions\":[{\"topic\":\"drain\",\"partition\":0,\"replicas\":[0,2],\"log_dirs\":[\"any\",\"any\"]}]}\n\
         \n\
         Save this to use as the --reassignment-json-file option during rollback\n\
         Successfully started partition reassignment for drain-0\n",
        "{execute}"
    );

    // Broker 1 copies the log and joins the ISR, which completes the move; --verify says so
    // and clears the throttles, as Kafka's does once nothing is moving.
    let verify = wait_until("the move to complete", MOVE_TIMEOUT, || {
        let out = reassign(&bs, &["--verify", "--reassignment-json-file", &plan_file]);
        out.assert_success("--verify");
        out.stdout
            .contains("Reassignment of partition drain-0 is completed.")
            .then_some(out)
    });
    assert_eq!(
        verify.stdout,
        "Status of partition reassignment:\n\
         Reassignment of partition drain-0 is completed.\n\
         \n\
         Clearing broker-level throttles on brokers 0,1,2\n\
         Clearing topic-level throttles on topic drain\n",
        "{verify}"
    );
    assert_eq!(
        partition_line(&bs, "drain"),
        "\tTopic: drain\tPartition: 0\tLeader: 0\tReplicas: 0,1\tIsr: 0,1\tElr: N/A\tLastKnownElr: N/A"
    );
    let list = reassign(&bs, &["--list"]);
    list.assert_success("--list");
    assert_eq!(list.stdout, "No partition reassignments found.\n", "{list}");

    // Broker 2 no longer hosts it and deletes its copy; broker 1 has one.
    wait_until(
        "broker 2 to delete its copy of drain-0",
        MOVE_TIMEOUT,
        || (!b2.partition_dir("drain", 0).exists()).then_some(()),
    );
    assert!(b1.partition_dir("drain", 0).exists());

    // The records produced before the move are all on broker 1: with broker 0 gone it leads,
    // and serves every one of them.
    b0.stop();
    let consume = run_tool(
        "kafka-console-consumer",
        &[
            "--bootstrap-server",
            &b1.bootstrap(),
            "--topic",
            "drain",
            "--from-beginning",
            "--max-messages",
            "5",
            "--timeout-ms",
            "30000",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    consume.assert_success("consume from broker 1");
    assert_eq!(consume.stdout, "m1\nm2\nm3\nm4\nm5\n", "{consume}");
}

#[test]
fn a_move_that_cannot_finish_is_in_progress_until_cancelled() {
    let zk = ZooKeeper::start();
    let b0 = Broker::start(&zk, 0, &[]);
    // Broker 1's session outlives its process for long enough to reassign to it: it counts as
    // registered, but it never fetches, so the move cannot finish.
    let mut b1 = Broker::start(&zk, 1, &[("zookeeper.session.timeout.ms", "60000")]);
    let bs = b0.bootstrap();
    let files = tempfile::tempdir().expect("temp dir");
    topics(
        &bs,
        &["--create", "--topic", "stall", "--replica-assignment", "0"],
    );
    b1.kill9();

    let plan_file = write(&files.path().join("plan.json"), &plan("stall", "1"));
    let execute = run_script(
        "kafka-reassign-partitions.sh",
        &[
            "--bootstrap-server",
            &bs,
            "--execute",
            "--reassignment-json-file",
            &plan_file,
        ],
        b"",
        TOOL_TIMEOUT,
    );
    execute.assert_success("--execute through the script");
    assert!(
        execute
            .stdout
            .ends_with("Successfully started partition reassignment for stall-0\n"),
        "{execute}"
    );

    let verify = reassign(&bs, &["--verify", "--reassignment-json-file", &plan_file]);
    verify.assert_success("--verify");
    assert_eq!(
        verify.stdout,
        "Status of partition reassignment:\n\
         Reassignment of partition stall-0 is still in progress.\n\n",
        "a move in progress leaves the throttles alone: {verify}"
    );
    let list = reassign(&bs, &["--list"]);
    assert_eq!(
        list.stdout,
        "Current partition reassignments:\nstall-0: replicas: 1,0. adding: 1. removing: 0.\n",
        "{list}"
    );
    assert_eq!(
        partition_line(&bs, "stall"),
        "\tTopic: stall\tPartition: 0\tLeader: 0\tReplicas: 1,0\tIsr: 0\tAdding Replicas: 1\tRemoving Replicas: 0\tElr: N/A\tLastKnownElr: N/A"
    );
    let again = reassign(&bs, &["--execute", "--reassignment-json-file", &plan_file]);
    again.assert_code(1, "--execute while a move runs");
    assert_eq!(
        again.stdout,
        "Cannot execute because there is an existing partition assignment.  Use --additional to \
         override this and create a new partition assignment in addition to the existing one. \
         The --additional flag can also be used to change the throttle by resubmitting the \
         current reassignment.\n",
        "{again}"
    );

    let cancel = reassign(
        &bs,
        &[
            "--cancel",
            "--reassignment-json-file",
            &plan_file,
            "--preserve-throttles",
        ],
    );
    cancel.assert_success("--cancel");
    assert_eq!(
        cancel.stdout,
        "Successfully cancelled partition reassignment for: stall-0\n\
         None of the specified partition moves are active.",
        "{cancel}"
    );
    assert_eq!(
        partition_line(&bs, "stall"),
        "\tTopic: stall\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: N/A\tLastKnownElr: N/A"
    );
    let verify = reassign(
        &bs,
        &[
            "--verify",
            "--reassignment-json-file",
            &plan_file,
            "--preserve-throttles",
        ],
    );
    assert_eq!(
        verify.stdout,
        "Status of partition reassignment:\n\
         There is no active reassignment of partition stall-0, but replica set is 0 rather than 1.\n\n",
        "{verify}"
    );
}

#[test]
fn bad_plans_fail_with_kafkas_messages_and_change_nothing() {
    let zk = ZooKeeper::start();
    let b0 = Broker::start(&zk, 0, &[]);
    let bs = b0.bootstrap();
    let files = tempfile::tempdir().expect("temp dir");
    topics(&bs, &["--create", "--topic", "t", "--partitions", "1"]);

    let unknown_broker = write(&files.path().join("b.json"), &plan("t", "0,7"));
    let out = reassign(
        &bs,
        &["--execute", "--reassignment-json-file", &unknown_broker],
    );
    out.assert_code(1, "unknown broker");
    assert_eq!(
        out.stdout,
        "Error: Unknown broker id 7\n\
         org.apache.kafka.server.common.AdminCommandFailedException: Unknown broker id 7\n",
        "{out}"
    );
    let unknown_topic = write(&files.path().join("t.json"), &plan("nope", "0"));
    let out = reassign(
        &bs,
        &["--execute", "--reassignment-json-file", &unknown_topic],
    );
    out.assert_code(1, "unknown topic");
    assert!(
        out.stdout.starts_with(
            "Error: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: Topic nope \
             not found.\n"
        ),
        "{out}"
    );
    let out = reassign(&bs, &["--execute"]);
    out.assert_code(1, "no file");
    assert!(
        out.stderr
            .starts_with("Missing required argument \"[reassignment-json-file]\"\n"),
        "{out}"
    );
    assert_eq!(
        partition_line(&bs, "t"),
        "\tTopic: t\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: N/A\tLastKnownElr: N/A"
    );
}
