//! A three-broker cluster keeps every acknowledged record through broker failures (issue 8):
//! `kill -9` and `SIGSTOP` of partition leaders mid-stream under idempotent `acks=all`
//! producers, two brokers down (NOT_ENOUGH_REPLICAS), a follower whose log diverged, and
//! `kafka-topics --describe` telling the true state (read from zookeeper-lite) throughout.

// Helpers outside `#[test]` functions fail the test they serve.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use client::consumer::{Consumer, ConsumerConfig, StartOffset};
use client::producer::{Producer, ProducerConfig, ProducerRecord};
use e2e::{run_tool, wait_until, Broker, ThreeBrokers as Three, TOOL_TIMEOUT};
use zookeeper_lite::client::ZkClient;
use zookeeper_lite::protocol::PartitionInfo;

/// Failover takes a session timeout (6 s in the tests) plus a catch-up; generous for CI.
const DEADLINE: Duration = Duration::from_secs(90);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The partitions of `topic` as zookeeper-lite has them: the truth describe must tell.
fn truth(cluster: &Three, rt: &tokio::runtime::Runtime, topic: &str) -> Vec<PartitionInfo> {
    let addr = cluster.zk.connect_string();
    rt.block_on(async {
        let zk = ZkClient::connect(&addr, Duration::from_secs(10))
            .await
            .unwrap();
        let md = zk.metadata().await.unwrap();
        md.topics
            .get(topic)
            .map(|t| t.partitions.clone())
            .unwrap_or_default()
    })
}

fn signal(b: &mut Broker, sig: &str) {
    b.process.signal(sig);
}

/// `(partition, leader, replicas, isr)` from one `kafka-topics --describe` partition line.
type DescribedPartition = (i32, i32, Vec<i32>, Vec<i32>);

fn parse_describe(out: &str) -> Vec<DescribedPartition> {
    let list = |s: &str| -> Vec<i32> {
        s.split(',')
            .filter(|x| !x.is_empty())
            .map(|x| x.trim().parse().unwrap())
            .collect()
    };
    out.lines()
        .filter(|l| l.trim_start().starts_with("Topic:") && l.contains("Partition:"))
        .map(|l| {
            let field = |name: &str| -> String {
                let at = l.find(&format!("{name}: ")).unwrap() + name.len() + 2;
                l[at..].split('\t').next().unwrap().trim().to_string()
            };
            let leader = match field("Leader").as_str() {
                "none" => -1,
                n => n.parse().unwrap(),
            };
            (
                field("Partition").parse().unwrap(),
                leader,
                list(&field("Replicas")),
                list(&field("Isr")),
            )
        })
        .collect()
}

fn as_described(truth: &[PartitionInfo]) -> Vec<DescribedPartition> {
    truth
        .iter()
        .map(|p| {
            (
                p.partition,
                p.leader.get(),
                p.replicas.iter().map(|b| b.get()).collect(),
                p.isr.iter().map(|b| b.get()).collect(),
            )
        })
        .collect()
}

/// Waits until `kafka-topics --describe` shows exactly zookeeper-lite's state of `topic` and
/// `check` accepts that state; returns it.
fn wait_for_state(
    cluster: &mut Three,
    rt: &tokio::runtime::Runtime,
    topic: &str,
    what: &str,
    check: impl Fn(&[PartitionInfo]) -> bool,
) -> Vec<PartitionInfo> {
    let mut last;
    let deadline = std::time::Instant::now() + DEADLINE;
    loop {
        let truth = truth(cluster, rt, topic);
        if check(&truth) {
            let out = cluster.topics(&["--describe", "--topic", topic]);
            if out.code == Some(0) && parse_describe(&out.stdout) == as_described(&truth) {
                return truth;
            }
            last = format!("describe said:\n{}\ntruth: {truth:?}", out.stdout);
        } else {
            last = format!("truth: {truth:?}");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}; {last}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn fully_replicated(ps: &[PartitionInfo]) -> bool {
    !ps.is_empty() && ps.iter().all(|p| p.isr.len() == 3 && !p.leader.is_none())
}

/// `(partition, offset, sequence number)` of every acknowledged record, in ack order.
type Acked = Arc<Mutex<Vec<(i32, i64, u64)>>>;

fn producer_config(bootstrap: &str) -> ProducerConfig {
    ProducerConfig {
        bootstrap_servers: bootstrap.to_string(),
        client_id: "e2e-replication".to_string(),
        acks: -1,
        enable_idempotence: true,
        linger_ms: 5,
        request_timeout_ms: 5000,
        delivery_timeout_ms: 120_000,
        retries: u32::MAX,
        retry_backoff_ms: 100,
        ..ProducerConfig::default()
    }
}

/// Produces `v-<n>` with increasing `n` round the partitions until `stop`, recording every
/// acknowledgement; failed sends are simply not acknowledged.
async fn produce(
    bootstrap: String,
    topic: String,
    partitions: i32,
    acked: Acked,
    stop: Arc<AtomicBool>,
) {
    let producer = Producer::new(producer_config(&bootstrap)).await.unwrap();
    let mut n: u64 = 0;
    while !stop.load(Ordering::SeqCst) {
        let mut window = Vec::new();
        for _ in 0..30 {
            let p = (n % partitions as u64) as i32;
            let record =
                ProducerRecord::new(topic.clone(), Bytes::from(format!("v-{n}"))).with_partition(p);
            match producer.send(record).await {
                Ok(f) => window.push((n, f)),
                Err(e) => eprintln!("send v-{n} failed: {e}"),
            }
            n += 1;
        }
        for (seq, f) in window {
            match f.await {
                Ok(md) => acked.lock().unwrap().push((md.partition, md.offset, seq)),
                Err(e) => eprintln!("delivery of v-{seq} failed: {e}"),
            }
        }
    }
    let _ = producer.close().await;
}

/// Every record of `topic` by `(partition, offset)`, read from the beginning until each
/// partition has reached `ends[p]` (exclusive).
async fn read_all(
    bootstrap: &str,
    topic: &str,
    ends: &BTreeMap<i32, i64>,
) -> BTreeMap<(i32, i64), String> {
    let mut consumer = Consumer::new(ConsumerConfig {
        bootstrap_servers: bootstrap.to_string(),
        client_id: "e2e-replication-reader".to_string(),
        ..ConsumerConfig::default()
    })
    .await
    .unwrap();
    consumer
        .assign(
            ends.keys()
                .map(|&p| (topic.to_string(), p, StartOffset::Earliest))
                .collect(),
        )
        .await
        .unwrap();
    let mut got = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        for r in consumer.poll(Duration::from_millis(500)).await.unwrap() {
            let v = r
                .value
                .map(|v| String::from_utf8_lossy(&v).into_owned())
                .unwrap_or_default();
            got.insert((r.partition, r.offset), v);
        }
        let done = ends
            .iter()
            .all(|(&p, &end)| end == 0 || got.range((p, end - 1)..=(p, i64::MAX)).next().is_some());
        if done {
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out reading {topic} up to {ends:?}: have {} records",
            got.len()
        );
    }
}

/// The verdict on what was acknowledged: (lost, duplicated, reordered).
fn audit(acked: &[(i32, i64, u64)], log: &BTreeMap<(i32, i64), String>) -> (usize, usize, usize) {
    let mut lost = 0;
    for (p, off, seq) in acked {
        if log.get(&(*p, *off)) != Some(&format!("v-{seq}")) {
            lost += 1;
        }
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for v in log.values() {
        *seen.entry(v.as_str()).or_default() += 1;
    }
    let duplicated = seen.values().filter(|&&n| n > 1).count();
    // Within a partition, acknowledged records must sit in the order they were sent.
    let mut by_partition: BTreeMap<i32, Vec<(i64, u64)>> = BTreeMap::new();
    for (p, off, seq) in acked {
        by_partition.entry(*p).or_default().push((*off, *seq));
    }
    let mut reordered = 0;
    for records in by_partition.values_mut() {
        records.sort();
        reordered += records.windows(2).filter(|w| w[1].1 < w[0].1).count();
    }
    (lost, duplicated, reordered)
}

#[test]
fn acknowledged_records_survive_leader_kills_and_pauses() {
    const TOPIC: &str = "chaos";
    let rt = runtime();
    let mut cluster = Three::start(&[
        ("auto.leader.rebalance.enable", "false"),
        ("replica.fetch.backoff.ms", "100"),
    ]);
    let out = cluster.topics(&[
        "--create",
        "--topic",
        TOPIC,
        "--partitions",
        "3",
        "--replication-factor",
        "3",
        "--config",
        "min.insync.replicas=2",
    ]);
    out.assert_success("create");
    wait_for_state(
        &mut cluster,
        &rt,
        TOPIC,
        "a fully replicated topic",
        fully_replicated,
    );

    let acked: Acked = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let bootstrap = cluster.bootstrap();
    let task = rt.spawn(produce(
        bootstrap.clone(),
        TOPIC.into(),
        3,
        acked.clone(),
        stop.clone(),
    ));
    let progress = |acked: &Acked, from: usize, what: &str| {
        wait_until(what, DEADLINE, || {
            (acked.lock().unwrap().len() >= from + 150).then_some(())
        });
    };
    progress(&acked, 0, "the first acknowledgements");

    // Three rounds of kill -9, then two of SIGSTOP past the session timeout, each time of the
    // leader of another partition.
    for round in 0..5 {
        let partition = round % 3;
        let before = truth(&cluster, &rt, TOPIC);
        let victim = before[partition].leader.get();
        let epoch = before[partition].leader_epoch;
        let pause = round >= 3;
        eprintln!(
            "round {round}: {} broker {victim}, leader of {TOPIC}-{partition}",
            if pause { "SIGSTOP" } else { "kill -9" }
        );
        if pause {
            signal(cluster.broker(victim), "STOP");
        } else {
            cluster.broker(victim).kill9();
        }
        // A new leader from the ISR, one epoch later, and describe says so.
        wait_for_state(&mut cluster, &rt, TOPIC, "a new leader", |ps| {
            ps[partition].leader.get() != victim
                && !ps[partition].leader.is_none()
                && ps[partition].leader_epoch > epoch
                && ps.iter().all(|p| !p.isr.iter().any(|b| b.get() == victim))
        });
        let n = acked.lock().unwrap().len();
        progress(&acked, n, "production going on without the failed broker");
        if pause {
            signal(cluster.broker(victim), "CONT");
        } else {
            cluster.broker(victim).restart();
        }
        // It catches up and only then rejoins every ISR.
        wait_for_state(
            &mut cluster,
            &rt,
            TOPIC,
            "the broker back in every ISR",
            fully_replicated,
        );
        let n = acked.lock().unwrap().len();
        progress(&acked, n, "production after the broker's return");
    }
    stop.store(true, Ordering::SeqCst);
    rt.block_on(async { tokio::time::timeout(DEADLINE, task).await })
        .unwrap()
        .unwrap();

    let acked = acked.lock().unwrap().clone();
    let mut ends: BTreeMap<i32, i64> = (0..3).map(|p| (p, 0)).collect();
    for (p, off, _) in &acked {
        let e = ends.entry(*p).or_default();
        *e = (*e).max(off + 1);
    }
    let bootstrap = cluster.bootstrap();
    let log = rt.block_on(read_all(&bootstrap, TOPIC, &ends));
    let (lost, duplicated, reordered) = audit(&acked, &log);
    println!(
        "acked {} / lost {lost} / duplicated {duplicated} / reordered {reordered} (records in \
         the log: {})",
        acked.len(),
        log.len()
    );
    assert_eq!((lost, duplicated, reordered), (0, 0, 0));
    // Every replica ends up with the same log, byte for byte.
    for p in 0..3 {
        wait_until(
            &format!("the same log of {TOPIC}-{p} on every replica"),
            DEADLINE,
            || {
                let files: BTreeSet<Vec<u8>> = cluster
                    .brokers
                    .iter()
                    .map(|b| {
                        std::fs::read(b.partition_dir(TOPIC, p).join("00000000000000000000.log"))
                            .unwrap_or_default()
                    })
                    .collect();
                (files.len() == 1).then_some(())
            },
        );
    }
}

#[test]
fn two_brokers_down_refuse_acks_all_and_lose_nothing_acknowledged() {
    const TOPIC: &str = "quorum";
    let rt = runtime();
    let mut cluster = Three::start(&[("auto.leader.rebalance.enable", "false")]);
    cluster
        .topics(&[
            "--create",
            "--topic",
            TOPIC,
            "--replica-assignment",
            "0:1:2",
            "--config",
            "min.insync.replicas=2",
        ])
        .assert_success("create");
    wait_for_state(
        &mut cluster,
        &rt,
        TOPIC,
        "a fully replicated topic",
        fully_replicated,
    );
    let bootstrap = cluster.bootstrap();
    let produce = |bootstrap: &str, lines: &[u8]| {
        run_tool(
            "kafka-console-producer",
            &[
                "--bootstrap-server",
                bootstrap,
                "--topic",
                TOPIC,
                "--sync",
                "--producer-property",
                "acks=all",
                "--producer-property",
                "delivery.timeout.ms=8000",
                "--producer-property",
                "request.timeout.ms=3000",
            ],
            lines,
            TOOL_TIMEOUT,
        )
    };
    produce(&bootstrap, b"a\nb\nc\n").assert_success("produce with three brokers");

    // Brokers 1 and 2 die; broker 0 leads alone, below min.insync.replicas.
    cluster.broker(1).kill9();
    cluster.broker(2).kill9();
    wait_for_state(&mut cluster, &rt, TOPIC, "an ISR of broker 0 alone", |ps| {
        ps[0].isr.iter().map(|b| b.get()).collect::<Vec<_>>() == [0] && ps[0].leader.get() == 0
    });
    // The filters tell the operator.
    for (filter, listed) in [
        ("--under-replicated-partitions", true),
        ("--under-min-isr-partitions", true),
        ("--at-min-isr-partitions", false),
        ("--unavailable-partitions", false),
    ] {
        let out = cluster.topics(&["--describe", "--topic", TOPIC, filter]);
        assert_eq!(
            out.stdout.contains("Partition: 0"),
            listed,
            "{filter}: {out}"
        );
    }
    let bootstrap = cluster.bootstrap();
    let refused = produce(&bootstrap, b"d\n");
    assert_ne!(refused.code, Some(0), "{refused}");
    assert!(
        refused.stderr.contains("NotEnoughReplicasException")
            && refused.stderr.contains(
                "The size of the current ISR Set(0) is insufficient to satisfy the min.isr \
                 requirement of 2 for partition quorum-0"
            ),
        "{refused}"
    );

    // Broker 0 dies too: the partition has no leader and keeps broker 0 in its ISR. Broker 1
    // returns, but is not elected: it may lack acknowledged records (no unclean election).
    cluster.broker(0).kill9();
    cluster.broker(1).restart();
    let state = wait_for_state(&mut cluster, &rt, TOPIC, "no leader", |ps| {
        ps[0].leader.is_none()
    });
    assert_eq!(
        state[0].isr.iter().map(|b| b.get()).collect::<Vec<_>>(),
        [0]
    );
    let out = cluster.topics(&["--describe", "--topic", TOPIC, "--unavailable-partitions"]);
    assert!(
        out.stdout.contains("Partition: 0") && out.stdout.contains("Leader: none"),
        "{out}"
    );

    // Broker 0 returns and leads again; the others catch up and rejoin; nothing acknowledged
    // is missing.
    cluster.broker(0).restart();
    wait_for_state(
        &mut cluster,
        &rt,
        TOPIC,
        "brokers 0 and 1 in the ISR",
        |ps| ps[0].leader.get() == 0 && ps[0].isr.len() == 2,
    );
    let out = cluster.topics(&["--describe", "--topic", TOPIC, "--at-min-isr-partitions"]);
    assert!(out.stdout.contains("Partition: 0"), "{out}");
    cluster.broker(2).restart();
    wait_for_state(
        &mut cluster,
        &rt,
        TOPIC,
        "a fully replicated topic",
        fully_replicated,
    );
    let bootstrap = cluster.bootstrap();
    produce(&bootstrap, b"e\n").assert_success("produce after the return");
    let log = rt.block_on(read_all(&bootstrap, TOPIC, &BTreeMap::from([(0, 4)])));
    let values: Vec<&str> = log.values().map(String::as_str).collect();
    assert_eq!(values, ["a", "b", "c", "e"]);
}

#[test]
fn a_diverged_follower_truncates_exactly_its_uncommitted_suffix() {
    const TOPIC: &str = "diverge";
    let rt = runtime();
    let mut cluster = Three::start(&[("auto.leader.rebalance.enable", "false")]);
    cluster
        .topics(&[
            "--create",
            "--topic",
            TOPIC,
            "--replica-assignment",
            "0:1:2",
        ])
        .assert_success("create");
    wait_for_state(
        &mut cluster,
        &rt,
        TOPIC,
        "a fully replicated topic",
        fully_replicated,
    );
    let send = |bootstrap: &str, acks: &str, lines: &[u8]| {
        run_tool(
            "kafka-console-producer",
            &[
                "--bootstrap-server",
                bootstrap,
                "--topic",
                TOPIC,
                "--sync",
                "--producer-property",
                &format!("acks={acks}"),
            ],
            lines,
            TOOL_TIMEOUT,
        )
        .assert_success(&format!("produce acks={acks}"));
    };
    let leader0 = cluster.broker(0).bootstrap();
    let committed: String = (0..10).map(|i| format!("committed-{i}\n")).collect();
    send(&leader0, "all", committed.as_bytes());
    // The followers pause; the leader takes five records with acks=1 that nobody replicates,
    // then dies before the followers wake.
    signal(cluster.broker(1), "STOP");
    signal(cluster.broker(2), "STOP");
    let uncommitted: String = (0..5).map(|i| format!("lost-{i}\n")).collect();
    send(&leader0, "1", uncommitted.as_bytes());
    cluster.broker(0).kill9();
    signal(cluster.broker(1), "CONT");
    signal(cluster.broker(2), "CONT");
    wait_for_state(&mut cluster, &rt, TOPIC, "broker 1 leading", |ps| {
        ps[0].leader.get() == 1
    });
    let bootstrap = cluster.bootstrap();
    let after: String = (0..3).map(|i| format!("after-{i}\n")).collect();
    send(&bootstrap, "all", after.as_bytes());

    // Broker 0 returns: it led epoch 0 up to offset 15; the new leader's epoch 0 ends at 10.
    let mark = cluster.broker(0).process.log_mark();
    cluster.broker(0).restart();
    wait_for_state(
        &mut cluster,
        &rt,
        TOPIC,
        "broker 0 back in the ISR",
        fully_replicated,
    );
    let lines = cluster.broker(0).process.lines_since(mark);
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("truncating {TOPIC}-0 to offset 10"))),
        "broker 0 truncates its five unreplicated records: {lines:#?}"
    );
    let log = rt.block_on(read_all(&bootstrap, TOPIC, &BTreeMap::from([(0, 13)])));
    let expected: Vec<String> = (0..10)
        .map(|i| format!("committed-{i}"))
        .chain((0..3).map(|i| format!("after-{i}")))
        .collect();
    assert_eq!(log.values().cloned().collect::<Vec<_>>(), expected);
    // Every replica's log is now the same, byte for byte.
    let segment = |id: i32, cluster: &mut Three| {
        std::fs::read(
            cluster
                .broker(id)
                .partition_dir(TOPIC, 0)
                .join("00000000000000000000.log"),
        )
        .unwrap()
    };
    let leader_log = segment(1, &mut cluster);
    wait_until("the same log on every replica", DEADLINE, || {
        (segment(0, &mut cluster) == leader_log && segment(2, &mut cluster) == leader_log)
            .then_some(())
    });
}

#[test]
fn a_lagging_follower_leaves_the_isr_and_rejoins_once_caught_up() {
    const TOPIC: &str = "lag";
    let rt = runtime();
    let mut cluster = Three::start(&[
        ("auto.leader.rebalance.enable", "false"),
        ("replica.lag.time.max.ms", "1000"),
    ]);
    cluster
        .topics(&[
            "--create",
            "--topic",
            TOPIC,
            "--replica-assignment",
            "0:1:2",
        ])
        .assert_success("create");
    wait_for_state(
        &mut cluster,
        &rt,
        TOPIC,
        "a fully replicated topic",
        fully_replicated,
    );
    // Follower 2 stops fetching (paused), for less than its zookeeper-lite session: only the
    // leader's lag check can take it out of the ISR.
    let mark = cluster.broker(0).process.log_mark();
    signal(cluster.broker(2), "STOP");
    let state = wait_for_state(&mut cluster, &rt, TOPIC, "the ISR without broker 2", |ps| {
        ps[0].isr.iter().map(|b| b.get()).collect::<Vec<_>>() == [0, 1]
    });
    signal(cluster.broker(2), "CONT");
    assert_eq!(state[0].leader.get(), 0);
    let lines = cluster.broker(0).process.lines_since(mark);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("[Partition lag-0] Shrinking ISR") && l.contains("brokerId: 2")),
        "the leader says why: {lines:#?}"
    );
    // It is still registered: the ISR changed because of its lag, not its session.
    let addr = cluster.zk.connect_string();
    let live = rt.block_on(async {
        let zk = ZkClient::connect(&addr, Duration::from_secs(10))
            .await
            .unwrap();
        zk.metadata().await.unwrap().brokers.len()
    });
    assert_eq!(live, 3);
    // Back, it catches up and the leader adds it again.
    let bootstrap = cluster.bootstrap();
    run_tool(
        "kafka-console-producer",
        &["--bootstrap-server", &bootstrap, "--topic", TOPIC, "--sync"],
        b"x\ny\n",
        TOOL_TIMEOUT,
    )
    .assert_success("produce");
    wait_for_state(
        &mut cluster,
        &rt,
        TOPIC,
        "broker 2 back in the ISR",
        fully_replicated,
    );
}

#[test]
fn a_zookeeper_lite_restart_moves_no_leader_and_keeps_every_session() {
    const TOPIC: &str = "zkrestart";
    let rt = runtime();
    let mut cluster = Three::start(&[("auto.leader.rebalance.enable", "false")]);
    cluster
        .topics(&[
            "--create",
            "--topic",
            TOPIC,
            "--partitions",
            "3",
            "--replication-factor",
            "3",
        ])
        .assert_success("create");
    let before = wait_for_state(
        &mut cluster,
        &rt,
        TOPIC,
        "a fully replicated topic",
        fully_replicated,
    );
    let marks: Vec<usize> = cluster
        .brokers
        .iter()
        .map(|b| b.process.log_mark())
        .collect();
    cluster.zk.kill9();
    cluster.zk.restart();
    // The brokers carry on with the sessions they had: nobody re-registers, no leader moves.
    let bootstrap = cluster.bootstrap();
    run_tool(
        "kafka-console-producer",
        &[
            "--bootstrap-server",
            &bootstrap,
            "--topic",
            TOPIC,
            "--sync",
            "--producer-property",
            "acks=all",
        ],
        b"1\n2\n3\n4\n5\n6\n",
        TOOL_TIMEOUT,
    )
    .assert_success("produce after the restart");
    // Longer than a session timeout after the restart, everything is as it was.
    let restarted = std::time::Instant::now();
    wait_until("a session timeout after the restart", DEADLINE, || {
        (restarted.elapsed() > Duration::from_millis(e2e::TEST_SESSION_TIMEOUT_MS + 1000))
            .then_some(())
    });
    let after = wait_for_state(&mut cluster, &rt, TOPIC, "the same state", fully_replicated);
    assert_eq!(after, before, "leaders, epochs and ISRs are untouched");
    for (b, mark) in cluster.brokers.iter().zip(marks) {
        let lines = b.process.lines_since(mark);
        assert!(
            !lines.iter().any(|l| l.contains("registering again")),
            "broker {} kept its session: {lines:#?}",
            b.id()
        );
    }
}
