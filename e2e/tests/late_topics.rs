//! Topics and partitions that appear after a client started are seen, as with Kafka: the
//! console consumer (with and without `--group`, with `--partition`, with `--include`) started
//! before its topic exists reads it once it is created (by kafka-topics, or by the consumer's
//! own Metadata request when auto-creation is allowed); a running group member reads partitions
//! added by `kafka-topics --alter` after `metadata.max.age.ms`; a running console producer puts
//! keyed records on the new partitions after `--metadata-expiry-ms`, and one waiting (within
//! `max.block.ms`) for a missing topic sends once it is created; kafka-consumer-groups
//! describes and resets the added partitions; and a real client (kafka-python) subscribed
//! before its topic existed reads it.
//!
//! Consumers run with `RUST_LOG=client::consumer=info`, so their stderr says when they joined
//! and what they were assigned (and warns about unknown topics); the tests wait on those lines.

use e2e::python;
use std::io::Write;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use e2e::{binary, repo_root, run_tool, wait_until, Cluster, Process, TOOL_TIMEOUT};

const DEADLINE: Duration = Duration::from_secs(60);

/// A cluster whose broker does not create topics on Metadata requests.
fn cluster_without_auto_create() -> Cluster {
    Cluster::start_with(&[
        ("auto.create.topics.enable", "false"),
        ("group.initial.rebalance.delay.ms", "0"),
    ])
}

fn console_consumer(name: &str, cluster: &Cluster, args: &[&str]) -> Process {
    let mut full = vec!["--bootstrap-server".to_string(), cluster.bootstrap()];
    full.extend(args.iter().map(|s| s.to_string()));
    Process::spawn(
        name,
        binary("kafka-console-consumer"),
        full,
        vec![("RUST_LOG".to_string(), "client::consumer=info".to_string())],
    )
}

/// Writes `lines` through kafka-console-producer (extra args e.g. for keys).
fn produce(cluster: &Cluster, topic: &str, lines: &[&str], extra: &[&str]) {
    let bs = cluster.bootstrap();
    let mut args = vec!["--bootstrap-server", bs.as_str(), "--topic", topic];
    args.extend_from_slice(extra);
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    run_tool(
        "kafka-console-producer",
        &args,
        input.as_bytes(),
        TOOL_TIMEOUT,
    )
    .assert_success("kafka-console-producer");
}

/// Waits until every line of `want` was printed by `p` (stdout and stderr share the log).
fn wait_printed(p: &mut Process, want: &[&str], what: &str) {
    wait_until(what, DEADLINE, || {
        let lines = p.current_log_lines();
        want.iter()
            .all(|w| lines.iter().any(|l| l == w))
            .then_some(())
    });
}

/// Waits until `p` logs an assignment naming every partition of `partitions`.
fn wait_assigned(p: &mut Process, partitions: &[&str]) {
    p.wait_for_line(&format!("an assignment of {partitions:?}"), DEADLINE, |l| {
        l.contains("Adding newly assigned partitions:")
            && partitions.iter().all(|tp| {
                l.split("partitions:")
                    .nth(1)
                    .is_some_and(|list| list.split(',').any(|x| x.trim() == *tp))
            })
    });
}

fn topic_list(cluster: &Cluster) -> Vec<String> {
    cluster
        .topics(&["--list"])
        .stdout
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn console_consumer_without_group_reads_a_topic_created_after_it_started() {
    // The tutorial's "start the consumer, then the producer", without --from-beginning: the
    // consumer must be reading the topic (assigned, at its end) before the records arrive.
    // Defaults only: an unknown subscribed topic is looked up again within a second.
    let cluster = cluster_without_auto_create();
    let mut consumer = console_consumer("consumer", &cluster, &["--topic", "late"]);
    consumer.wait_for_line("the consumer warning that late is unknown", DEADLINE, |l| {
        l.contains("late=UNKNOWN_TOPIC_OR_PARTITION")
    });
    cluster.create_topic("late", 2);
    wait_assigned(&mut consumer, &["late-0", "late-1"]);
    produce(&cluster, "late", &["first line", "second line"], &[]);
    wait_printed(
        &mut consumer,
        &["first line", "second line"],
        "the lines produced to the late topic",
    );
}

#[test]
fn console_consumer_with_group_reads_a_topic_created_after_it_started() {
    let cluster = cluster_without_auto_create();
    let mut consumer = console_consumer(
        "consumer",
        &cluster,
        &[
            "--topic",
            "late-g",
            "--group",
            "late-group",
            "--from-beginning",
        ],
    );
    consumer.wait_for_line("the first join", DEADLINE, |l| {
        l.contains("Successfully joined group with generation")
    });
    cluster.create_topic("late-g", 1);
    produce(&cluster, "late-g", &["g1", "g2", "g3"], &[]);
    wait_printed(&mut consumer, &["g1", "g2", "g3"], "the lines of late-g");
    // The group's view agrees: the member owns the partition that came later.
    let bs = cluster.bootstrap();
    let describe = wait_until("the group to describe late-g-0", DEADLINE, || {
        let out = run_tool(
            "kafka-consumer-groups",
            &[
                "--bootstrap-server",
                &bs,
                "--describe",
                "--group",
                "late-group",
            ],
            b"",
            TOOL_TIMEOUT,
        );
        out.stdout
            .lines()
            .any(|l| {
                l.split_whitespace()
                    .take(3)
                    .eq(["late-group", "late-g", "0"])
            })
            .then_some(out)
    });
    assert!(describe.stdout.contains("consumer-"), "{describe}");
}

/// As Kafka's tools (log4j root logger at WARN), the console consumer prints NetworkClient's
/// warning about a topic missing from the metadata in Kafka's layout, without any RUST_LOG.
#[test]
fn console_consumer_warns_about_a_missing_topic_as_kafkas_network_client_does() {
    let cluster = cluster_without_auto_create();
    let mut consumer = Process::spawn(
        "console-consumer",
        binary("kafka-console-consumer"),
        [
            "--bootstrap-server",
            cluster.bootstrap().as_str(),
            "--topic",
            "late-warn",
            "--group",
            "warned",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        Vec::new(),
    );
    let line = consumer.wait_for_line("NetworkClient's warning", DEADLINE, |l| {
        l.contains(
            " WARN [Consumer clientId=console-consumer, groupId=warned] The metadata response \
             from the cluster reported a recoverable issue with correlation id ",
        )
    });
    assert!(line.starts_with('['), "{line}");
    assert!(
        line.ends_with(
            " : {late-warn=UNKNOWN_TOPIC_OR_PARTITION} (org.apache.kafka.clients.NetworkClient)"
        ),
        "{line}"
    );
}

#[test]
fn consumer_metadata_auto_creates_the_topic_when_broker_and_consumer_allow_it() {
    // The broker's default auto.create.topics.enable=true and the consumer's default
    // allow.auto.create.topics=true: the consumer's own Metadata request creates the topic.
    let cluster = Cluster::start_with(&[("group.initial.rebalance.delay.ms", "0")]);
    let mut consumer = console_consumer(
        "consumer",
        &cluster,
        &["--topic", "auto-late", "--group", "auto-group"],
    );
    wait_assigned(&mut consumer, &["auto-late-0"]);
    assert!(topic_list(&cluster).contains(&"auto-late".to_string()));
    produce(&cluster, "auto-late", &["made by the consumer"], &[]);
    wait_printed(&mut consumer, &["made by the consumer"], "the record");
}

#[test]
fn allow_auto_create_topics_false_keeps_the_consumer_from_creating_the_topic() {
    let cluster = Cluster::start_with(&[("group.initial.rebalance.delay.ms", "0")]);
    let mut consumer = console_consumer(
        "consumer",
        &cluster,
        &[
            "--topic",
            "not-created",
            "--consumer-property",
            "allow.auto.create.topics=false",
        ],
    );
    // Two Metadata answers that the topic is unknown: the consumer asked twice without
    // creating it.
    wait_until("two unknown-topic warnings", DEADLINE, || {
        (consumer
            .current_log_lines()
            .iter()
            .filter(|l| l.contains("not-created=UNKNOWN_TOPIC_OR_PARTITION"))
            .count()
            >= 2)
            .then_some(())
    });
    assert!(!topic_list(&cluster).contains(&"not-created".to_string()));
    // Created by hand, it is read.
    cluster.create_topic("not-created", 1);
    wait_assigned(&mut consumer, &["not-created-0"]);
    produce(&cluster, "not-created", &["by hand"], &[]);
    wait_printed(&mut consumer, &["by hand"], "the record");
}

#[test]
fn console_consumer_with_partition_waits_for_the_partition_to_exist() {
    let cluster = cluster_without_auto_create();
    let mut consumer = console_consumer(
        "consumer",
        &cluster,
        &[
            "--topic",
            "late-p",
            "--partition",
            "1",
            "--offset",
            "earliest",
        ],
    );
    consumer.wait_for_line(
        "the consumer warning that late-p is unknown",
        DEADLINE,
        |l| l.contains("late-p=UNKNOWN_TOPIC_OR_PARTITION"),
    );
    // Partition 1 does not exist yet in a one-partition topic either.
    cluster.create_topic("late-p", 1);
    cluster.topics(&["--alter", "--topic", "late-p", "--partitions", "2"]);
    produce(
        &cluster,
        "late-p",
        &["1:on-one", "0:on-zero"],
        &[
            "--property",
            "parse.key=true",
            "--property",
            "key.separator=:",
        ],
    );
    // Which of the two keys murmur2 puts on partition 1.
    let on_one = if client::partitioner::partition_for_key(b"1", 2) == 1 {
        "on-one"
    } else {
        "on-zero"
    };
    wait_printed(&mut consumer, &[on_one], "the record on partition 1");
    assert!(consumer.is_running(), "{}", consumer.log());
}

#[test]
fn group_member_reads_partitions_added_by_alter_while_it_runs() {
    let cluster = cluster_without_auto_create();
    cluster.create_topic("grow", 1);
    let mut consumer = console_consumer(
        "consumer",
        &cluster,
        &[
            "--topic",
            "grow",
            "--group",
            "grow-group",
            "--from-beginning",
            "--property",
            "print.partition=true",
            "--consumer-property",
            "metadata.max.age.ms=500",
            "--consumer-property",
            "auto.commit.interval.ms=200",
        ],
    );
    wait_assigned(&mut consumer, &["grow-0"]);
    cluster.topics(&["--alter", "--topic", "grow", "--partitions", "3"]);
    wait_assigned(&mut consumer, &["grow-0", "grow-1", "grow-2"]);
    // Keys spread over the three partitions (murmur2, as the producer places them).
    let keys: Vec<String> = (0..12).map(|i| format!("key{i}")).collect();
    let lines: Vec<String> = keys.iter().map(|k| format!("{k}:v-{k}")).collect();
    let line_refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    produce(
        &cluster,
        "grow",
        &line_refs,
        &[
            "--property",
            "parse.key=true",
            "--property",
            "key.separator=:",
        ],
    );
    let expected: Vec<String> = keys
        .iter()
        .map(|k| {
            let p = client::partitioner::partition_for_key(k.as_bytes(), 3);
            format!("Partition:{p}\tv-{k}")
        })
        .collect();
    assert!(
        expected.iter().any(|e| e.starts_with("Partition:2")),
        "some key goes to partition 2: {expected:?}"
    );
    let expected_refs: Vec<&str> = expected.iter().map(String::as_str).collect();
    wait_printed(
        &mut consumer,
        &expected_refs,
        "every record, new partitions included",
    );

    // kafka-consumer-groups sees the added partitions: describe lists them with the
    // committed offsets, and a reset covers them.
    let bs = cluster.bootstrap();
    wait_until(
        "describe to show committed offsets on grow-2",
        DEADLINE,
        || {
            let out = run_tool(
                "kafka-consumer-groups",
                &[
                    "--bootstrap-server",
                    &bs,
                    "--describe",
                    "--group",
                    "grow-group",
                ],
                b"",
                TOOL_TIMEOUT,
            );
            let rows: Vec<Vec<&str>> = out
                .stdout
                .lines()
                .map(|l| l.split_whitespace().collect())
                .filter(|c: &Vec<&str>| c.first() == Some(&"grow-group"))
                .collect();
            let committed_on_2 = rows.iter().any(|c| {
                c.get(2) == Some(&"2") && c.get(3).is_some_and(|o| *o != "-" && *o != "0")
            });
            (rows.len() == 3 && committed_on_2).then_some(())
        },
    );
    consumer.signal_and_wait("TERM", DEADLINE);
    let reset = wait_until("the reset of the stopped group", DEADLINE, || {
        let out = run_tool(
            "kafka-consumer-groups",
            &[
                "--bootstrap-server",
                &bs,
                "--reset-offsets",
                "--group",
                "grow-group",
                "--topic",
                "grow",
                "--to-earliest",
                "--execute",
            ],
            b"",
            TOOL_TIMEOUT,
        );
        (out.code == Some(0) && out.stdout.contains("grow-group")).then_some(out)
    });
    for p in 0..3 {
        assert!(
            reset.stdout.lines().any(|l| l.split_whitespace().eq([
                "grow-group",
                "grow",
                &p.to_string(),
                "0"
            ])),
            "partition {p} reset to 0: {reset}"
        );
    }
}

/// A console producer reading a pipe that the test writes to while it runs.
struct RunningProducer {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl RunningProducer {
    fn start(cluster: &Cluster, topic: &str, expiry_ms: &str) -> RunningProducer {
        let mut child = Command::new(binary("kafka-console-producer"))
            .args([
                "--bootstrap-server",
                &cluster.bootstrap(),
                "--topic",
                topic,
                "--metadata-expiry-ms",
                expiry_ms,
                "--property",
                "parse.key=true",
                "--property",
                "key.separator=:",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start kafka-console-producer: {e}"));
        let stdin = child.stdin.take();
        RunningProducer { child, stdin }
    }

    fn write(&mut self, lines: &[String]) {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let stdin = self.stdin.as_mut().expect("producer stdin");
        stdin
            .write_all(text.as_bytes())
            .and_then(|_| stdin.flush())
            .expect("write to the producer");
    }

    /// Closes stdin and waits for the producer to send what it has and exit.
    fn finish(mut self) {
        self.stdin = None;
        let deadline = std::time::Instant::now() + DEADLINE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "console producer exit {status}");
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "console producer did not exit"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RunningProducer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `Partition:<p>\t<value>` lines of a whole topic read from the beginning.
fn read_all(cluster: &Cluster, topic: &str, n: usize) -> Vec<String> {
    let bs = cluster.bootstrap();
    let max = n.to_string();
    let out = run_tool(
        "kafka-console-consumer",
        &[
            "--bootstrap-server",
            &bs,
            "--topic",
            topic,
            "--from-beginning",
            "--max-messages",
            &max,
            "--timeout-ms",
            "20000",
            "--property",
            "print.partition=true",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    out.stdout.lines().map(str::to_string).collect()
}

#[test]
fn running_console_producer_uses_partitions_added_after_metadata_expiry() {
    let cluster = cluster_without_auto_create();
    cluster.create_topic("grow-p", 1);
    let mut producer = RunningProducer::start(&cluster, "grow-p", "500");
    let round =
        |r: usize| -> Vec<String> { (0..8).map(|i| format!("r{r}k{i}:r{r}v{i}")).collect() };
    producer.write(&round(0));
    let before = wait_until("round 0 stored", DEADLINE, || {
        let got = read_all(&cluster, "grow-p", 8);
        (got.len() == 8).then_some(got)
    });
    assert!(
        before.iter().all(|l| l.starts_with("Partition:0\t")),
        "{before:?}"
    );
    cluster.topics(&["--alter", "--topic", "grow-p", "--partitions", "4"]);
    // The same running producer, more rounds of keyed lines: once its metadata is older than
    // --metadata-expiry-ms it refreshes, and keys go to all four partitions by murmur2.
    let mut written = 8;
    let mut r = 1;
    wait_until("a record on an added partition", DEADLINE, || {
        producer.write(&round(r));
        r += 1;
        written += 8;
        let got = read_all(&cluster, "grow-p", written);
        (got.len() == written && got.iter().any(|l| !l.starts_with("Partition:0\t"))).then_some(())
    });
    // From then on the producer knows four partitions: every record of the next round sits
    // where murmur2 over 4 puts it.
    producer.write(&round(r));
    written += 8;
    let got = read_all(&cluster, "grow-p", written);
    for i in 0..8 {
        let key = format!("r{r}k{i}");
        let p = client::partitioner::partition_for_key(key.as_bytes(), 4);
        let want = format!("Partition:{p}\tr{r}v{i}");
        assert!(got.contains(&want), "{want} in {got:?}");
    }
    producer.finish();
}

#[test]
fn console_producer_waiting_for_a_missing_topic_sends_once_it_is_created() {
    // Auto-creation off: the producer waits up to max.block.ms (60 s) for the topic's metadata,
    // refreshing it, and sends as soon as kafka-topics has created it.
    let cluster = cluster_without_auto_create();
    let mut producer = RunningProducer::start(&cluster, "late-prod", "300000");
    producer.write(&["k:waited".to_string()]);
    cluster.create_topic("late-prod", 1);
    producer.finish();
    assert_eq!(
        read_all(&cluster, "late-prod", 1),
        vec!["Partition:0\twaited"]
    );
}

#[test]
fn include_pattern_picks_up_topics_created_later() {
    let cluster = cluster_without_auto_create();
    cluster.create_topic("other", 1);
    let mut consumer = console_consumer(
        "consumer",
        &cluster,
        &[
            "--include",
            "inc-.*",
            "--from-beginning",
            "--consumer-property",
            "metadata.max.age.ms=500",
        ],
    );
    consumer.wait_for_line("the first join", DEADLINE, |l| {
        l.contains("Successfully joined group with generation")
    });
    cluster.create_topic("inc-1", 1);
    produce(&cluster, "inc-1", &["from inc-1"], &[]);
    wait_printed(&mut consumer, &["from inc-1"], "the record of inc-1");
    produce(&cluster, "other", &["not matched"], &[]);
    cluster.create_topic("inc-2", 2);
    produce(&cluster, "inc-2", &["from inc-2"], &[]);
    wait_printed(&mut consumer, &["from inc-2"], "the record of inc-2");
    assert!(
        !consumer
            .current_log_lines()
            .iter()
            .any(|l| l == "not matched"),
        "{}",
        consumer.log()
    );
}

#[test]
fn kafka_python_consumer_subscribed_before_the_topic_exists_reads_it() {
    let Some(python) = python() else {
        return;
    };
    let cluster = cluster_without_auto_create();
    let mut consumer = Process::spawn(
        "kafka-python",
        python,
        vec![
            repo_root()
                .join("e2e/python/late_topic_consumer.py")
                .display()
                .to_string(),
            cluster.bootstrap(),
            "late-py".to_string(),
            "py-group".to_string(),
            "90".to_string(),
        ],
        vec![
            ("PYTHONUNBUFFERED".to_string(), "1".to_string()),
            ("PYTHONDONTWRITEBYTECODE".to_string(), "1".to_string()),
        ],
    );
    consumer.wait_for_line("the first poll", DEADLINE, |l| l == "POLLING");
    cluster.create_topic("late-py", 1);
    produce(&cluster, "late-py", &["py1", "py2"], &[]);
    wait_printed(
        &mut consumer,
        &["RECORD 0 py1", "RECORD 0 py2"],
        "kafka-python to read the late topic",
    );
}
