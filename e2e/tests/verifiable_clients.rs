//! `kafka-verifiable-producer` and `kafka-verifiable-consumer` against a real broker: every
//! stdout line is one of Kafka 3.9's JSON events with its fields, what the producer reports as
//! acknowledged is what the consumer (and kcat, a client we did not write) reads, group
//! rebalances show as `partitions_revoked` / `partitions_assigned`, and the option errors carry
//! argparse4j's texts as Kafka's tools print them.

// Helpers outside `#[test]` functions fail the test they serve.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Duration;

use e2e::{binary, have_kcat, run_command, run_script, run_tool, Cluster, Process, ToolOutput};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(60);

/// Every stdout line as JSON (panics, showing the output, on a line that is not).
fn events(out: &ToolOutput) -> Vec<Value> {
    out.stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {l:?}\n{out}"))
        })
        .collect()
}

fn name(v: &Value) -> &str {
    v["name"].as_str().unwrap_or_default()
}

/// The keys of a JSON object in the order printed.
fn keys(line: &str) -> Vec<String> {
    // serde_json's Map is sorted unless preserve_order; read the order from the text instead.
    let mut out = Vec::new();
    let mut depth = 0;
    let mut in_str = false;
    let mut escaped = false;
    let mut current = String::new();
    let mut reading_key = false;
    let chars: Vec<char> = line.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if in_str {
            if escaped {
                escaped = false;
            } else if *c == '\\' {
                escaped = true;
            } else if *c == '"' {
                in_str = false;
                if reading_key && chars.get(i + 1) == Some(&':') && depth == 1 {
                    out.push(current.clone());
                }
            } else {
                current.push(*c);
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                current.clear();
                reading_key = matches!(chars.get(i.wrapping_sub(1)), Some('{') | Some(','));
            }
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            _ => {}
        }
    }
    out
}

fn producer(args: &[&str]) -> ToolOutput {
    run_tool("kafka-verifiable-producer", args, b"", TIMEOUT)
}

fn consumer(args: &[&str]) -> ToolOutput {
    run_tool("kafka-verifiable-consumer", args, b"", TIMEOUT)
}

/// The JSON events a running process printed so far (its stderr lines are not JSON objects).
fn process_events(p: &Process) -> Vec<Value> {
    p.log()
        .lines()
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The partitions named in the last `partitions_assigned` event.
fn last_assignment(events: &[Value]) -> Option<BTreeSet<i64>> {
    events
        .iter()
        .rev()
        .find(|e| name(e) == "partitions_assigned")
        .map(|e| {
            e["partitions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["partition"].as_i64().unwrap())
                .collect()
        })
}

#[test]
fn verifiable_producer_and_consumer_agree_on_every_record() {
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    cluster.create_topic("vc", 3);
    const N: usize = 300;

    // The producer: N acknowledged sends of "0".."299", keys null, then shutdown and summary.
    let out = producer(&[
        "--topic",
        "vc",
        "--bootstrap-server",
        &bs,
        "--max-messages",
        "300",
    ]);
    out.assert_success("kafka-verifiable-producer --max-messages 300");
    let ev = events(&out);
    assert_eq!(name(&ev[0]), "startup_complete", "{out}");
    assert_eq!(
        keys(out.stdout.lines().next().unwrap()),
        ["timestamp", "name"]
    );
    let sends: Vec<&Value> = ev
        .iter()
        .filter(|e| name(e) == "producer_send_success")
        .collect();
    assert_eq!(sends.len(), N, "{out}");
    let first_send = out
        .stdout
        .lines()
        .find(|l| l.contains("producer_send_success"))
        .unwrap();
    assert_eq!(
        keys(first_send),
        [
            "timestamp",
            "name",
            "key",
            "value",
            "topic",
            "partition",
            "offset"
        ]
    );
    let mut positions = BTreeSet::new();
    let mut values = BTreeSet::new();
    let mut per_partition: BTreeMap<i64, i64> = BTreeMap::new();
    for s in &sends {
        assert!(s["key"].is_null());
        assert_eq!(s["topic"], "vc");
        assert!(s["timestamp"].as_i64().unwrap() > 1_600_000_000_000);
        let (p, o) = (
            s["partition"].as_i64().unwrap(),
            s["offset"].as_i64().unwrap(),
        );
        assert!(
            positions.insert((p, o)),
            "offset {p}/{o} acknowledged twice"
        );
        values.insert(s["value"].as_str().unwrap().parse::<usize>().unwrap());
        *per_partition.entry(p).or_default() += 1;
    }
    assert_eq!(values, (0..N).collect::<BTreeSet<_>>());
    let tail: Vec<&str> = ev.iter().rev().take(2).map(name).collect();
    assert_eq!(tail, ["tool_data", "shutdown_complete"], "{out}");
    let tool_data = ev.last().unwrap();
    assert_eq!(
        keys(out.stdout.lines().last().unwrap()),
        [
            "timestamp",
            "name",
            "sent",
            "acked",
            "target_throughput",
            "avg_throughput"
        ]
    );
    assert_eq!(tool_data["sent"], 300);
    assert_eq!(tool_data["acked"], 300);
    assert_eq!(tool_data["target_throughput"], -1);
    assert!(tool_data["avg_throughput"].as_f64().unwrap() > 0.0);

    // Keys under --repeating-keys, values under --value-prefix, throttled; kcat reads them back.
    let out = producer(&[
        "--topic",
        "vc-keys",
        "--broker-list",
        &bs,
        "--max-messages",
        "6",
        "--repeating-keys",
        "3",
        "--value-prefix",
        "5",
        "--throughput",
        "100",
        "--acks",
        "1",
    ]);
    out.assert_success("kafka-verifiable-producer --repeating-keys 3 --value-prefix 5");
    let keyed: Vec<(String, String)> = events(&out)
        .iter()
        .filter(|e| name(e) == "producer_send_success")
        .map(|e| {
            (
                e["key"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = (0..6)
        .map(|i| ((i % 3).to_string(), format!("5.{i}")))
        .collect();
    let mut sorted = keyed.clone();
    sorted.sort_by_key(|(_, v)| v.clone());
    assert_eq!(sorted, want, "{out}");
    if have_kcat() {
        let mut cmd = Command::new("kcat");
        cmd.args([
            "-C", "-b", &bs, "-t", "vc-keys", "-e", "-q", "-f", "%k=%s\\n",
        ]);
        let read = run_command(cmd, b"", TIMEOUT);
        read.assert_success("kcat -C");
        let mut got: Vec<String> = read.stdout.lines().map(str::to_string).collect();
        got.sort();
        let mut expected: Vec<String> = want.iter().map(|(k, v)| format!("{k}={v}")).collect();
        expected.sort();
        assert_eq!(got, expected, "kcat read other records: {read}");
    }

    // --message-create-time sets the records' timestamps (kcat shows them).
    let out = producer(&[
        "--topic",
        "vc-time",
        "--bootstrap-server",
        &bs,
        "--max-messages",
        "2",
        "--message-create-time",
        "1500000000000",
    ]);
    out.assert_success("kafka-verifiable-producer --message-create-time");
    if have_kcat() {
        let mut cmd = Command::new("kcat");
        cmd.args(["-C", "-b", &bs, "-t", "vc-time", "-e", "-q", "-f", "%T\\n"]);
        let read = run_command(cmd, b"", TIMEOUT);
        read.assert_success("kcat -C");
        let first: i64 = read.stdout.lines().next().unwrap().parse().unwrap();
        assert_eq!(first, 1_500_000_000_000, "{read}");
    }

    // A record the client cannot send is a producer_send_error line; the run goes on.
    let out = producer(&[
        "--topic",
        "bad topic!",
        "--bootstrap-server",
        &bs,
        "--max-messages",
        "2",
    ]);
    out.assert_success("kafka-verifiable-producer to an invalid topic");
    let ev = events(&out);
    let errors: Vec<&Value> = ev
        .iter()
        .filter(|e| name(e) == "producer_send_error")
        .collect();
    assert_eq!(errors.len(), 2, "{out}");
    assert_eq!(
        errors[0]["exception"], "class org.apache.kafka.common.errors.InvalidTopicException",
        "{out}"
    );
    assert_eq!(errors[0]["topic"], "bad topic!");
    assert_eq!(errors[0]["value"], "0");
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("producer_send_error"))
        .unwrap();
    assert_eq!(
        keys(line),
        [
            "timestamp",
            "name",
            "topic",
            "key",
            "value",
            "exception",
            "message"
        ]
    );
    let summary = ev.last().unwrap();
    assert_eq!(
        (summary["sent"].as_i64(), summary["acked"].as_i64()),
        (Some(2), Some(0)),
        "{out}"
    );

    // Without --max-messages the producer runs until a signal, then closes and sums up.
    let mut endless = Process::spawn(
        "producer",
        binary("kafka-verifiable-producer"),
        [
            "--topic",
            "vc-endless",
            "--bootstrap-server",
            &bs,
            "--throughput",
            "200",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        Vec::new(),
    );
    endless.wait_for_line("a few acknowledged sends", TIMEOUT, |l| {
        l.contains("\"value\":\"20\"")
    });
    let status = endless.signal_and_wait("TERM", TIMEOUT);
    assert!(
        status.success(),
        "producer exited {status}: {}",
        endless.log()
    );
    let ev = process_events(&endless);
    let tail: Vec<&str> = ev.iter().rev().take(2).map(name).collect();
    assert_eq!(
        tail,
        ["tool_data", "shutdown_complete"],
        "{}",
        endless.log()
    );
    let acked = ev
        .iter()
        .filter(|e| name(e) == "producer_send_success")
        .count() as i64;
    assert_eq!(ev.last().unwrap()["acked"].as_i64(), Some(acked));
    assert_eq!(ev.last().unwrap()["sent"].as_i64(), Some(acked));
    assert_eq!(ev.last().unwrap()["target_throughput"], 200);

    // Unthrottled (the default), the send loop never has to wait; a signal still ends it with
    // the summary, as Kafka's shutdown hook does.
    let mut flood = Process::spawn(
        "producer",
        binary("kafka-verifiable-producer"),
        ["--topic", "vc-flood", "--bootstrap-server", &bs]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        Vec::new(),
    );
    flood.wait_for_line("many acknowledged sends", TIMEOUT, |l| {
        l.contains("\"value\":\"1000\"")
    });
    let status = flood.signal_and_wait("TERM", TIMEOUT);
    assert!(status.success(), "producer exited {status}");
    let ev = process_events(&flood);
    let tail: Vec<&str> = ev.iter().rev().take(2).map(name).collect();
    assert_eq!(tail, ["tool_data", "shutdown_complete"]);
    assert_eq!(ev.last().unwrap()["target_throughput"], -1);
    drop(flood);

    // A negative create time: `new ProducerRecord` throws out of `main` before anything is sent;
    // the shutdown hook still prints its two lines.
    let out = producer(&[
        "--topic",
        "vc-negative-time",
        "--bootstrap-server",
        &bs,
        "--max-messages",
        "2",
        "--message-create-time",
        "-5",
    ]);
    out.assert_code(1, "a negative --message-create-time");
    assert!(
        out.stderr.contains(
            "Exception in thread \"main\" java.lang.IllegalArgumentException: Invalid timestamp: -5. Timestamp should always be non-negative or null."
        ),
        "{out}"
    );
    let ev = events(&out);
    assert_eq!(
        ev.iter().map(name).collect::<Vec<_>>(),
        ["startup_complete", "shutdown_complete", "tool_data"],
        "{out}"
    );
    assert_eq!(ev.last().unwrap()["sent"].as_i64(), Some(0));

    // The consumer reads all N through group g1 and commits after each poll.
    let out = consumer(&[
        "--topic",
        "vc",
        "--group-id",
        "g1",
        "--bootstrap-server",
        &bs,
        "--max-messages",
        "300",
    ]);
    out.assert_success("kafka-verifiable-consumer --max-messages 300");
    let ev = events(&out);
    assert_eq!(name(&ev[0]), "startup_complete", "{out}");
    assert_eq!(name(ev.last().unwrap()), "shutdown_complete", "{out}");
    assert_eq!(
        last_assignment(&ev),
        Some(BTreeSet::from([0, 1, 2])),
        "{out}"
    );
    let mut consumed = 0;
    let mut committed: BTreeMap<i64, i64> = BTreeMap::new();
    for e in &ev {
        match name(e) {
            "records_consumed" => {
                let parts = e["partitions"].as_array().unwrap();
                let sum: i64 = parts.iter().map(|p| p["count"].as_i64().unwrap()).sum();
                assert_eq!(e["count"].as_i64(), Some(sum), "{e}");
                for p in parts {
                    let (min, max) = (
                        p["minOffset"].as_i64().unwrap(),
                        p["maxOffset"].as_i64().unwrap(),
                    );
                    assert_eq!(max - min + 1, p["count"].as_i64().unwrap(), "{e}");
                }
                consumed += sum;
            }
            "offsets_committed" => {
                assert_eq!(e["success"], true, "{e}");
                assert!(e.get("error").is_none(), "{e}");
                for o in e["offsets"].as_array().unwrap() {
                    assert_eq!(o["topic"], "vc");
                    committed.insert(
                        o["partition"].as_i64().unwrap(),
                        o["offset"].as_i64().unwrap(),
                    );
                }
            }
            _ => {}
        }
    }
    assert_eq!(consumed, N as i64, "{out}");
    // The last commit of each partition is its log end: what the producer put there.
    assert_eq!(committed, per_partition, "{out}");
    // Closing revokes what the member held, just before shutdown_complete.
    assert_eq!(name(&ev[ev.len() - 2]), "partitions_revoked", "{out}");
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("records_consumed"))
        .unwrap();
    assert_eq!(keys(line), ["timestamp", "name", "count", "partitions"]);

    // --verbose: one record_data per counted record; --max-messages cuts a poll short.
    let out = consumer(&[
        "--topic",
        "vc",
        "--group-id",
        "g2",
        "--broker-list",
        &bs,
        "--max-messages",
        "5",
        "--verbose",
        "--enable-autocommit",
    ]);
    out.assert_success("kafka-verifiable-consumer --verbose --max-messages 5");
    let ev = events(&out);
    let data: Vec<&Value> = ev.iter().filter(|e| name(e) == "record_data").collect();
    assert_eq!(data.len(), 5, "{out}");
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("record_data"))
        .unwrap();
    assert_eq!(
        keys(line),
        [
            "timestamp",
            "name",
            "key",
            "value",
            "topic",
            "partition",
            "offset"
        ]
    );
    let counted: i64 = ev
        .iter()
        .filter(|e| name(e) == "records_consumed")
        .flat_map(|e| e["partitions"].as_array().unwrap().clone())
        .map(|p| p["count"].as_i64().unwrap())
        .sum();
    assert_eq!(counted, 5, "{out}");
    // With auto-commit on, the tool commits nothing itself.
    assert!(!ev.iter().any(|e| name(e) == "offsets_committed"), "{out}");

    // Two members of one group split the three partitions; the first revokes everything when
    // the second joins; SIGTERM ends a member with shutdown_complete and hands its partitions
    // over.
    let args: Vec<String> = [
        "--topic",
        "vc",
        "--group-id",
        "g3",
        "--bootstrap-server",
        &bs,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut a = Process::spawn(
        "consumer-a",
        binary("kafka-verifiable-consumer"),
        args.clone(),
        Vec::new(),
    );
    e2e::wait_until("a to own all three partitions", TIMEOUT, || {
        (last_assignment(&process_events(&a)) == Some(BTreeSet::from([0, 1, 2]))).then_some(())
    });
    let mut b = Process::spawn(
        "consumer-b",
        binary("kafka-verifiable-consumer"),
        args,
        Vec::new(),
    );
    e2e::wait_until("a and b to split the partitions", TIMEOUT, || {
        let (ea, eb) = (
            last_assignment(&process_events(&a))?,
            last_assignment(&process_events(&b))?,
        );
        let split =
            !ea.is_empty() && !eb.is_empty() && ea.is_disjoint(&eb) && ea.union(&eb).count() == 3;
        split.then_some(())
    });
    let revoked: Vec<Value> = process_events(&a)
        .into_iter()
        .filter(|e| name(e) == "partitions_revoked")
        .collect();
    assert_eq!(
        revoked
            .first()
            .map(|e| e["partitions"].as_array().unwrap().len()),
        Some(3),
        "{}",
        a.log()
    );
    let status = a.signal_and_wait("TERM", TIMEOUT);
    assert!(status.success(), "a exited {status}: {}", a.log());
    let ea = process_events(&a);
    assert_eq!(
        ea.last().map(name),
        Some("shutdown_complete"),
        "{}",
        a.log()
    );
    assert_eq!(
        ea.get(ea.len() - 2).map(name),
        Some("partitions_revoked"),
        "{}",
        a.log()
    );
    // a left the group on close: b takes everything over.
    e2e::wait_until("b to own all three partitions", TIMEOUT, || {
        (last_assignment(&process_events(&b)) == Some(BTreeSet::from([0, 1, 2]))).then_some(())
    });
    let status = b.signal_and_wait("INT", TIMEOUT);
    assert!(status.success(), "b exited {status}: {}", b.log());
    assert_eq!(
        process_events(&b).last().map(name),
        Some("shutdown_complete"),
        "{}",
        b.log()
    );

    // --group-protocol consumer (KIP-848): our broker does not serve ConsumerGroupHeartbeat, so
    // the run ends as Kafka's tool ends against such a broker.
    let out = consumer(&[
        "--topic",
        "vc",
        "--group-id",
        "g4",
        "--bootstrap-server",
        &bs,
        "--group-protocol",
        "consumer",
    ]);
    out.assert_success("kafka-verifiable-consumer --group-protocol consumer");
    let names: Vec<String> = events(&out).iter().map(|e| name(e).to_string()).collect();
    assert_eq!(names, ["startup_complete", "shutdown_complete"], "{out}");
    assert!(
        out.stderr.contains("org.apache.kafka.common.errors.UnsupportedVersionException: The node does not support CONSUMER_GROUP_HEARTBEAT"),
        "{out}"
    );
}

#[test]
fn verifiable_clients_refuse_bad_options_with_argparse4j_texts() {
    // No arguments: the help on stdout, exit 0.
    let out = producer(&[]);
    out.assert_success("kafka-verifiable-producer with no arguments");
    assert!(
        out.stdout
            .starts_with("usage: verifiable-producer [-h] --topic TOPIC"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("\nConnection Group:\n  Group of arguments for connection to brokers\n"),
        "{out}"
    );
    assert!(
        out.stdout.contains(
            "  --acks ACKS            Acks required on each  produced message. See Kafka\n"
        ),
        "{out}"
    );

    let cases: [(&str, &[&str], &str); 6] = [
        (
            "kafka-verifiable-producer",
            &["--bootstrap-server", "localhost:9092"],
            "verifiable-producer: error: argument --topic is required\n",
        ),
        (
            "kafka-verifiable-producer",
            &["--topic", "t", "--bootstrap-server", "a:1", "--broker-list", "b:1"],
            "verifiable-producer:  error:  argument  --broker-list:   not  allowed  with\nargument --bootstrap-server\n",
        ),
        (
            "kafka-verifiable-producer",
            &["--topic", "t"],
            "verifiable-producer: error:  one  of  the  arguments  --bootstrap-server --\nbroker-list is required\n",
        ),
        (
            "kafka-verifiable-producer",
            &["--topic", "t", "--bootstrap-server", "a:1", "--acks", "all"],
            "verifiable-producer: error: argument  --acks:  could  not  convert 'all' to\nInteger (For input string: \"all\")\n",
        ),
        (
            "kafka-verifiable-producer",
            &["--topic", "t", "--bootstrap-server", "a:1", "--acks", "2"],
            "verifiable-producer: error: argument  --acks:  invalid  choice: '2' (choose\nfrom {0,1,-1})\n",
        ),
        (
            "kafka-verifiable-consumer",
            &["--topic", "t", "--bootstrap-server", "a:1"],
            "verifiable-consumer: error: argument --group-id is required\n",
        ),
    ];
    for (tool, args, tail) in cases {
        let out = run_tool(tool, args, b"", TIMEOUT);
        out.assert_code(1, &format!("{tool} {}", args.join(" ")));
        assert!(out.stdout.is_empty(), "{out}");
        assert!(out.stderr.starts_with("usage: verifiable-"), "{out}");
        assert!(
            out.stderr.ends_with(tail),
            "expected the error {tail:?}: {out}"
        );
    }

    // The wrappers run the same binaries.
    let out = run_script(
        "kafka-verifiable-consumer.sh",
        &["--group-id", "g", "--bootstrap-server", "a:1"],
        b"",
        TIMEOUT,
    );
    out.assert_code(1, "kafka-verifiable-consumer.sh without --topic");
    assert!(
        out.stderr
            .ends_with("verifiable-consumer: error: argument --topic is required\n"),
        "{out}"
    );
    let out = run_script("kafka-verifiable-producer.sh", &["-h"], b"", TIMEOUT);
    out.assert_code(1, "kafka-verifiable-producer.sh -h");
    assert!(
        out.stdout
            .contains("This tool produces increasing integers"),
        "{out}"
    );
}

#[test]
fn verifiable_producer_stopped_while_waiting_for_metadata_reports_the_record() {
    // Nothing listens on port 1: the first send waits for metadata until the signal.
    let mut p = Process::spawn(
        "producer",
        binary("kafka-verifiable-producer"),
        ["--topic", "t", "--bootstrap-server", "127.0.0.1:1"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        Vec::new(),
    );
    p.wait_for_line("startup_complete", TIMEOUT, |l| {
        l.contains("\"name\":\"startup_complete\"")
    });
    let status = p.signal_and_wait("TERM", TIMEOUT);
    assert!(status.success(), "exited {status}: {}", p.log());
    let names: Vec<String> = process_events(&p)
        .iter()
        .map(|e| name(e).to_string())
        .collect();
    assert_eq!(
        names,
        [
            "startup_complete",
            "producer_send_error",
            "shutdown_complete",
            "tool_data"
        ],
        "{}",
        p.log()
    );
    let ev = process_events(&p);
    assert_eq!(
        ev[1]["exception"],
        "class org.apache.kafka.common.KafkaException"
    );
    assert_eq!(ev[1]["message"], "Producer closed while send in progress");
    assert_eq!(
        (ev[3]["sent"].as_i64(), ev[3]["acked"].as_i64()),
        (Some(1), Some(0))
    );
}
