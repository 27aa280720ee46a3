//! Prometheus metrics (issue 13): the broker's `/metrics` on `metrics.http.listener` and
//! zookeeper-lite's on `metricsProvider.*`, read over HTTP and parsed by an independent
//! Prometheus text-format parser (the `prometheus-parse` crate).

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use e2e::{
    binary, metrics_port, repo_root, run_tool, wait_until, Broker, Process, ThreeBrokers,
    ZooKeeper, TOOL_TIMEOUT,
};

const TOPIC: &str = "metrics-test";
/// Records produced, and each one's value size in bytes.
const N: usize = 40;
const S: usize = 100;

/// One scrape: the samples by `(name, sorted labels)`.
struct Scrape {
    content_type: String,
    samples: HashMap<(String, Vec<(String, String)>), f64>,
}

impl Scrape {
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut want: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        want.sort();
        self.samples.get(&(name.to_string(), want)).copied()
    }

    /// The value, 0 when the series does not exist (yet).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels).unwrap_or(0.0)
    }
}

/// GETs `http://127.0.0.1:<port>/metrics` and parses it. Every line that is not a comment must
/// be a sample the parser reads (it skips what it cannot read, so this is checked line by line).
fn scrape(port: u16) -> Scrape {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/metrics");
    let (status, content_type, body) = runtime.block_on(async {
        let response = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap()
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (status, content_type, response.text().await.unwrap())
    });
    assert!(status.is_success(), "GET {url}: {status}\n{body}");
    for line in body.lines() {
        let info = prometheus_parse::LineInfo::parse(line);
        assert!(
            matches!(
                info,
                prometheus_parse::LineInfo::Sample { .. }
                    | prometheus_parse::LineInfo::Doc { .. }
                    | prometheus_parse::LineInfo::Type { .. }
                    | prometheus_parse::LineInfo::Empty
            ),
            "not a Prometheus text-format line: {line:?}"
        );
    }
    let parsed = prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_string()))).unwrap();
    let mut samples = HashMap::new();
    for s in parsed.samples {
        let mut labels: Vec<(String, String)> = s
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        labels.sort();
        let v = match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            // A histogram's buckets: keep the +Inf one as `<name>_bucket` (its count).
            prometheus_parse::Value::Histogram(buckets) => {
                let inf = buckets
                    .iter()
                    .find(|b| b.less_than.is_infinite())
                    .map_or(0.0, |b| b.count);
                samples.insert((format!("{}_bucket", s.metric), labels), inf);
                continue;
            }
            prometheus_parse::Value::Summary(_) => continue,
        };
        samples.insert((s.metric, labels), v);
    }
    Scrape {
        content_type,
        samples,
    }
}

/// The port of the `metrics listening on http://...` line of `process`.
fn wait_for_metrics_port(process: &mut Process) -> u16 {
    let line = process.wait_for_line(
        "`metrics listening on http://...`",
        e2e::STARTUP_TIMEOUT,
        |l| metrics_port(l).is_some(),
    );
    metrics_port(&line).unwrap()
}

/// The acceptance: after producing N records of S bytes, messages-in went up by N and
/// bytes-in by at least N x S, and the Produce latency histogram has counts; consuming them
/// moves bytes-out. The state gauges (partitions, log size, session) and zookeeper-lite's
/// endpoint (sessions, fsync latency, journal size) are read on the same cluster.
#[test]
fn produce_and_fetch_move_the_brokers_counters_and_zookeeper_lite_shows_its_sessions() {
    let mut zk = ZooKeeper::start_with(&[
        (
            "metricsProvider.className",
            "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider",
        ),
        ("metricsProvider.httpHost", "127.0.0.1"),
        ("metricsProvider.httpPort", "0"),
    ]);
    let zk_metrics = wait_for_metrics_port(&mut zk.process);
    // The harness gives every broker `metrics.http.listener=http://127.0.0.1:0`.
    let mut broker = Broker::start(&zk, 0, &[]);
    let port = wait_for_metrics_port(&mut broker.process);
    let bootstrap = broker.bootstrap();

    let out = run_tool(
        "kafka-topics",
        &[
            "--bootstrap-server",
            &bootstrap,
            "--create",
            "--topic",
            TOPIC,
            "--partitions",
            "1",
            "--replication-factor",
            "1",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    out.assert_success("kafka-topics --create");

    let before = scrape(port);
    assert!(
        before.content_type.starts_with("text/plain; version=0.0.4"),
        "{}",
        before.content_type
    );
    let messages_in = "kafka_server_brokertopicmetrics_messagesin_total";
    let bytes_in = "kafka_server_brokertopicmetrics_bytesin_total";
    let bytes_out = "kafka_server_brokertopicmetrics_bytesout_total";
    let topic = [("topic", TOPIC)];
    // The all-topics series exist from the start, as Kafka's do.
    assert!(before.get(messages_in, &[]).is_some());

    let records: String = (0..N)
        .map(|i| format!("{:0>width$}\n", i, width = S))
        .collect();
    let out = run_tool(
        "kafka-console-producer",
        &["--bootstrap-server", &bootstrap, "--topic", TOPIC],
        records.as_bytes(),
        TOOL_TIMEOUT,
    );
    out.assert_success("kafka-console-producer");

    let after = scrape(port);
    let delta = |name: &str, labels: &[(&str, &str)]| {
        after.value(name, labels) - before.value(name, labels)
    };
    assert_eq!(delta(messages_in, &topic), N as f64);
    assert_eq!(delta(messages_in, &[]), N as f64);
    assert!(
        delta(bytes_in, &topic) >= (N * S) as f64,
        "bytes in: {}",
        delta(bytes_in, &topic)
    );
    assert!(delta(bytes_in, &[]) >= (N * S) as f64);
    let produce = [("request", "Produce")];
    assert!(
        after.value("kafka_network_requestmetrics_totaltimems_count", &produce) > 0.0,
        "the Produce latency histogram has counts"
    );
    assert_eq!(
        after.value("kafka_network_requestmetrics_totaltimems_count", &produce),
        after.value("kafka_network_requestmetrics_totaltimems_bucket", &produce),
        "the +Inf bucket holds every observation"
    );
    assert!(after.value("kafka_network_requestmetrics_totaltimems_sum", &produce) > 0.0);
    let produce_requests: f64 = after
        .samples
        .iter()
        .filter(|((name, labels), _)| {
            name == "kafka_network_requestmetrics_requests_total"
                && labels.contains(&("request".to_string(), "Produce".to_string()))
                && labels.iter().any(|(k, _)| k == "version")
        })
        .map(|(_, v)| v)
        .sum();
    assert!(produce_requests > 0.0);

    // The state gauges, read at scrape time.
    let partition = [("topic", TOPIC), ("partition", "0")];
    assert!(after.value("kafka_log_log_size", &partition) >= (N * S) as f64);
    assert_eq!(after.value("kafka_log_log_numlogsegments", &partition), 1.0);
    assert!(after.value("kafka_server_replicamanager_partitioncount", &[]) >= 1.0);
    assert_eq!(
        after.get("kafka_server_replicamanager_underreplicatedpartitions", &[]),
        Some(0.0)
    );
    assert_eq!(
        after.get(
            "kafka_server_sessionexpirelistener_sessionstate",
            &[("state", "CONNECTED")]
        ),
        Some(1.0)
    );
    for op in ["Produce", "Fetch"] {
        assert!(after
            .get(
                "kafka_server_delayedoperationpurgatory_purgatorysize",
                &[("delayedOperation", op)]
            )
            .is_some());
    }

    let out = run_tool(
        "kafka-console-consumer",
        &[
            "--bootstrap-server",
            &bootstrap,
            "--topic",
            TOPIC,
            "--from-beginning",
            "--max-messages",
            &N.to_string(),
            "--timeout-ms",
            "30000",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    out.assert_success("kafka-console-consumer");
    let consumed = scrape(port);
    assert!(
        consumed.value(bytes_out, &topic) - after.value(bytes_out, &topic) >= (N * S) as f64,
        "bytes out: {}",
        consumed.value(bytes_out, &topic)
    );
    assert!(
        consumed.value(
            "kafka_network_requestmetrics_totaltimems_count",
            &[("request", "Fetch")]
        ) > 0.0
    );
    // The console consumer's group (and the offsets topic) now exist on this coordinator.
    assert!(
        consumed.value(
            "kafka_coordinator_group_groupmetadatamanager_numgroups",
            &[]
        ) >= 1.0
    );

    // zookeeper-lite's own endpoint, ZooKeeper's names.
    let zk_scrape = scrape(zk_metrics);
    assert!(zk_scrape
        .content_type
        .starts_with("text/plain; version=0.0.4"));
    assert_eq!(zk_scrape.get("global_sessions", &[]), Some(1.0));
    assert!(zk_scrape.value("num_alive_connections", &[]) >= 1.0);
    assert!(
        zk_scrape.value("fsynctime_count", &[]) >= 1.0,
        "the topic's creation was fsynced"
    );
    assert!(zk_scrape.value("journal_size_bytes", &[]) > 0.0);
}

/// A follower that stops fetching leaves the leader's ISR, and back once it has caught up: the
/// leader counts an ISR shrink and an expansion, and shows the partition under-replicated
/// meanwhile.
#[test]
fn a_follower_leaving_and_rejoining_the_isr_is_counted_by_the_leader() {
    let mut cluster = ThreeBrokers::start(&[("replica.lag.time.max.ms", "1500")]);
    let port = wait_for_metrics_port(&mut cluster.broker(0).process);
    cluster
        .topics(&[
            "--create",
            "--topic",
            "isr-metrics",
            "--replica-assignment",
            "0:1:2",
        ])
        .assert_success("kafka-topics --create");
    let shrinks = "kafka_server_replicamanager_isrshrinks_total";
    let expands = "kafka_server_replicamanager_isrexpands_total";
    let under = "kafka_server_replicamanager_underreplicatedpartitions";
    let partition = [("topic", "isr-metrics"), ("partition", "0")];
    let before = wait_until("broker 0 to host the partition", TOOL_TIMEOUT, || {
        let s = scrape(port);
        s.get("kafka_log_log_size", &partition)
            .is_some()
            .then_some(s)
    });
    // Killed, broker 2 stops fetching: after replica.lag.time.max.ms the leader drops it.
    cluster.broker(2).kill9();
    wait_until("broker 0 to shrink the ISR", TOOL_TIMEOUT, || {
        let s = scrape(port);
        (s.value(shrinks, &[]) > before.value(shrinks, &[]) && s.value(under, &[]) == 1.0)
            .then_some(())
    });
    cluster.broker(2).restart();
    wait_until("broker 0 to take broker 2 back", TOOL_TIMEOUT, || {
        let s = scrape(port);
        (s.value(expands, &[]) > before.value(expands, &[]) && s.value(under, &[]) == 0.0)
            .then_some(())
    });
}

/// A broker started with `args` after the shipped `config/server.properties`; it must fail.
fn failed_start(overrides: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![repo_root()
        .join("config/server.properties")
        .display()
        .to_string()];
    let log_dirs = format!("log.dirs={}", dir.path().display());
    let mut all = vec![
        ("listeners", "PLAINTEXT://127.0.0.1:0"),
        ("zookeeper.connect", "127.0.0.1:1"),
    ];
    all.extend_from_slice(overrides);
    args.extend(["--override".to_string(), log_dirs]);
    for (k, v) in all {
        args.push("--override".into());
        args.push(format!("{k}={v}"));
    }
    let mut broker = Process::spawn("broker that must not start", binary("broker"), args, vec![]);
    let status = broker.wait_exit(TOOL_TIMEOUT);
    assert_eq!(status.code(), Some(1), "{}", broker.log());
    broker.log()
}

/// A malformed `metrics.http.listener` and a port in use both stop the broker at startup with
/// an error naming the key and the value.
#[test]
fn a_bad_listener_value_or_a_port_in_use_stops_the_broker() {
    let log = failed_start(&[("metrics.http.listener", "localhost:9404")]);
    assert!(
        log.contains(
            "invalid value 'localhost:9404' for configuration key 'metrics.http.listener'"
        ),
        "{log}"
    );

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let value = format!("http://127.0.0.1:{port}");
    let log = failed_start(&[("metrics.http.listener", &value)]);
    assert!(
        log.contains(&format!("binding metrics.http.listener={value}")),
        "{log}"
    );
    assert!(log.contains("Address already in use"), "{log}");
    drop(taken);
}
