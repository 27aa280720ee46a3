#![allow(clippy::unwrap_used)]

use super::http::{parse_listener, MetricsListener};
use super::*;

/// One sample: name, sorted labels, value.
type Sample = (String, Vec<(String, String)>, f64);

/// Every sample, read back by an independent parser.
fn samples(text: &str) -> Vec<Sample> {
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    let mut out = Vec::new();
    for s in scrape.samples {
        let mut labels: Vec<(String, String)> = s
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        labels.sort();
        let value = match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            prometheus_parse::Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            prometheus_parse::Value::Summary(_) => continue,
        };
        out.push((s.metric, labels, value));
    }
    out
}

fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut want: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    want.sort();
    samples(text)
        .into_iter()
        .find(|(n, l, _)| n == name && *l == want)
        .map(|(_, _, v)| v)
}

#[test]
fn produce_and_fetch_count_per_topic_and_for_all_topics() {
    let m = BrokerMetrics::new();
    m.record_produce("t", 3, 300);
    m.record_produce("t", 2, 200);
    m.record_produce("u", 1, 50);
    m.record_fetch("t", 120, false);
    m.record_fetch("t", 999, true);
    let text = m.encode(&BrokerState::default()).unwrap();
    let v = |name: &str, labels: &[(&str, &str)]| value(&text, name, labels);
    assert_eq!(
        v(
            "kafka_server_brokertopicmetrics_messagesin_total",
            &[("topic", "t")]
        ),
        Some(5.0)
    );
    assert_eq!(
        v(
            "kafka_server_brokertopicmetrics_bytesin_total",
            &[("topic", "t")]
        ),
        Some(500.0)
    );
    assert_eq!(
        v("kafka_server_brokertopicmetrics_messagesin_total", &[]),
        Some(6.0)
    );
    assert_eq!(
        v("kafka_server_brokertopicmetrics_bytesin_total", &[]),
        Some(550.0)
    );
    assert_eq!(
        v(
            "kafka_server_brokertopicmetrics_bytesout_total",
            &[("topic", "t")]
        ),
        Some(120.0)
    );
    assert_eq!(
        v("kafka_server_brokertopicmetrics_bytesout_total", &[]),
        Some(120.0)
    );
    assert_eq!(
        v(
            "kafka_server_brokertopicmetrics_replicationbytesout_total",
            &[]
        ),
        Some(999.0)
    );
    // Prometheus text format 0.0.4: the counter's TYPE line names the `_total` series.
    assert!(text.contains("# TYPE kafka_server_brokertopicmetrics_messagesin_total counter\n"));
    assert!(!text.contains("# EOF"));
}

#[test]
fn requests_are_counted_per_api_and_version_and_timed_per_api() {
    let m = BrokerMetrics::new();
    for _ in 0..3 {
        m.request_started(0, 9, Instant::now()).unwrap().finish();
    }
    m.request_started(18, 3, Instant::now()).unwrap().finish();
    // Not counted: an unknown key, a negative version.
    assert!(m.request_started(-1, 0, Instant::now()).is_none());
    assert!(m.request_started(0, -1, Instant::now()).is_none());
    assert!(m.request_started(30_000, 0, Instant::now()).is_none());
    let text = m.encode(&BrokerState::default()).unwrap();
    assert_eq!(
        value(
            &text,
            "kafka_network_requestmetrics_requests_total",
            &[("request", "Produce"), ("version", "9")]
        ),
        Some(3.0)
    );
    assert_eq!(
        value(
            &text,
            "kafka_network_requestmetrics_requests_total",
            &[("request", "ApiVersions"), ("version", "3")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            "kafka_network_requestmetrics_totaltimems_count",
            &[("request", "Produce")]
        ),
        Some(3.0)
    );
    assert!(text.contains("# TYPE kafka_network_requestmetrics_totaltimems histogram\n"));
    assert!(
        text.contains(
            "kafka_network_requestmetrics_totaltimems_bucket{le=\"+Inf\",request=\"Produce\"} 3\n"
        ) || text.contains(
            "kafka_network_requestmetrics_totaltimems_bucket{request=\"Produce\",le=\"+Inf\"} 3\n"
        ),
        "{text}"
    );
}

#[test]
fn purgatory_sizes_follow_the_waiting_requests() {
    let m = BrokerMetrics::new();
    let a = m.enter_produce_purgatory();
    let b = m.enter_produce_purgatory();
    let c = m.enter_fetch_purgatory();
    let size = |m: &BrokerMetrics, op: &str| {
        value(
            &m.encode(&BrokerState::default()).unwrap(),
            "kafka_server_delayedoperationpurgatory_purgatorysize",
            &[("delayedOperation", op)],
        )
    };
    assert_eq!(size(&m, "Produce"), Some(2.0));
    assert_eq!(size(&m, "Fetch"), Some(1.0));
    drop((a, b, c));
    assert_eq!(size(&m, "Produce"), Some(0.0));
    assert_eq!(size(&m, "Fetch"), Some(0.0));
}

#[test]
fn state_gauges_are_read_at_scrape_time() {
    let m = BrokerMetrics::new();
    m.isr_shrunk();
    m.isr_expanded();
    m.isr_expanded();
    let state = BrokerState {
        partitions: vec![
            PartitionState {
                topic: "t".into(),
                partition: 0,
                size_bytes: 4096,
                segments: 2,
                under_replicated: true,
            },
            PartitionState {
                topic: "t".into(),
                partition: 1,
                size_bytes: 0,
                segments: 1,
                under_replicated: false,
            },
        ],
        groups: 4,
        session: SessionState::Connected,
        session_expires: 1,
        session_disconnects: 2,
        topics: None,
    };
    let text = m.encode(&state).unwrap();
    let v = |name: &str, labels: &[(&str, &str)]| value(&text, name, labels);
    assert_eq!(
        v("kafka_server_replicamanager_partitioncount", &[]),
        Some(2.0)
    );
    assert_eq!(
        v("kafka_server_replicamanager_underreplicatedpartitions", &[]),
        Some(1.0)
    );
    assert_eq!(
        v("kafka_server_replicamanager_isrshrinks_total", &[]),
        Some(1.0)
    );
    assert_eq!(
        v("kafka_server_replicamanager_isrexpands_total", &[]),
        Some(2.0)
    );
    assert_eq!(
        v("kafka_log_log_size", &[("topic", "t"), ("partition", "0")]),
        Some(4096.0)
    );
    assert_eq!(
        v(
            "kafka_log_log_numlogsegments",
            &[("topic", "t"), ("partition", "1")]
        ),
        Some(1.0)
    );
    assert_eq!(
        v(
            "kafka_coordinator_group_groupmetadatamanager_numgroups",
            &[]
        ),
        Some(4.0)
    );
    assert_eq!(
        v(
            "kafka_server_sessionexpirelistener_sessionstate",
            &[("state", "CONNECTED")]
        ),
        Some(1.0)
    );
    assert_eq!(
        v(
            "kafka_server_sessionexpirelistener_sessionstate",
            &[("state", "CONNECTING")]
        ),
        Some(0.0)
    );
    assert_eq!(
        v(
            "kafka_server_sessionexpirelistener_zookeeperexpires_total",
            &[]
        ),
        Some(1.0)
    );
    assert_eq!(
        v(
            "kafka_server_sessionexpirelistener_zookeeperdisconnects_total",
            &[]
        ),
        Some(2.0)
    );
}

#[test]
fn a_deleted_topics_counters_are_dropped() {
    let m = BrokerMetrics::new();
    m.record_produce("gone", 1, 10);
    m.record_produce("kept", 1, 10);
    let state = BrokerState {
        topics: Some(["kept".to_string()].into_iter().collect()),
        ..BrokerState::default()
    };
    let text = m.encode(&state).unwrap();
    assert!(!text.contains("topic=\"gone\""), "{text}");
    assert!(text.contains("topic=\"kept\""), "{text}");
    // The all-topics series keep what was counted.
    assert_eq!(
        value(
            &text,
            "kafka_server_brokertopicmetrics_messagesin_total",
            &[]
        ),
        Some(2.0)
    );
    // A topic created again under the name starts over.
    m.record_produce("gone", 1, 10);
    let text = m.encode(&BrokerState::default()).unwrap();
    assert_eq!(
        value(
            &text,
            "kafka_server_brokertopicmetrics_messagesin_total",
            &[("topic", "gone")]
        ),
        Some(1.0)
    );
}

#[test]
fn every_line_is_a_comment_or_a_sample_of_a_declared_family() {
    let m = BrokerMetrics::new();
    m.record_produce("t", 1, 1);
    m.request_started(1, 12, Instant::now()).unwrap().finish();
    let text = m
        .encode(&BrokerState {
            partitions: vec![PartitionState {
                topic: "t".into(),
                partition: 0,
                size_bytes: 1,
                segments: 1,
                under_replicated: false,
            }],
            ..BrokerState::default()
        })
        .unwrap();
    let mut declared = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let name = rest.split(' ').next().unwrap();
            assert!(declared.insert(name.to_string()), "declared twice: {line}");
        }
    }
    let lines = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count();
    assert!(!samples(&text).is_empty());
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let name = line.split(['{', ' ']).next().unwrap();
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| declared.contains(*f)))
            .unwrap_or(name);
        assert!(declared.contains(family), "undeclared sample: {line}");
    }
    assert!(lines > 10);
}

#[test]
fn the_listener_value_is_http_host_port() {
    let l = |host: &str, port| {
        Ok(Some(MetricsListener {
            host: host.to_string(),
            port,
        }))
    };
    assert_eq!(parse_listener("http://:9404"), l("", 9404));
    assert_eq!(parse_listener("http://127.0.0.1:0"), l("127.0.0.1", 0));
    assert_eq!(
        parse_listener("HTTP://localhost:9404/"),
        l("localhost", 9404)
    );
    assert_eq!(parse_listener("http://[::1]:9404"), l("::1", 9404));
    assert_eq!(parse_listener(""), Ok(None));
    assert_eq!(parse_listener("  "), Ok(None));
    for bad in [
        "9404",
        "https://:9404",
        "http://:99999",
        "http://host",
        "http://:9404/metrics",
        "http://::1:9404",
        "http://:port",
    ] {
        assert!(parse_listener(bad).is_err(), "{bad}");
    }
    assert_eq!(
        MetricsListener {
            host: "::1".into(),
            port: 1
        }
        .to_string(),
        "http://[::1]:1"
    );
}

#[test]
fn a_topic_made_while_a_scrape_reads_the_state_keeps_its_counters() {
    let m = BrokerMetrics::new();
    m.record_produce("gone", 1, 10);
    let text = m
        .scrape(|| {
            // The topic list is read ("gone" deleted, "new" not created yet); then "new" is
            // created and produced to before the exposition is written.
            let state = BrokerState {
                topics: Some(HashSet::new()),
                ..BrokerState::default()
            };
            m.record_produce("new", 2, 20);
            state
        })
        .unwrap();
    let messages_in = |text: &str, topic: &str| {
        value(
            text,
            "kafka_server_brokertopicmetrics_messagesin_total",
            &[("topic", topic)],
        )
    };
    assert_eq!(messages_in(&text, "gone"), None, "{text}");
    assert_eq!(messages_in(&text, "new"), Some(2.0), "{text}");
    // The next scrape's list has it: still counted.
    m.record_produce("new", 1, 10);
    let text = m
        .scrape(|| BrokerState {
            topics: Some(["new".to_string()].into_iter().collect()),
            ..BrokerState::default()
        })
        .unwrap();
    assert_eq!(messages_in(&text, "new"), Some(3.0), "{text}");
}

/// The `/metrics` listener over real loopback connections.
mod listener {
    use std::io::Write;
    use std::net::{SocketAddr, TcpStream};
    use std::sync::{Arc, Condvar, Mutex};
    use std::time::Duration;

    use http_listener::raw_http::{closed_by_server, read_response, send_get, timed_out};
    use http_listener::ConnectionLimits;

    use super::super::http::{serve_with_limits, StateSource};
    use super::super::{BrokerMetrics, BrokerState};

    /// The listener served on a current-thread runtime of its own (so a scrape blocking its one
    /// worker would stop every connection), on its own thread; stopped on drop.
    struct Served {
        addr: SocketAddr,
        stop: Option<tokio::sync::oneshot::Sender<()>>,
        thread: Option<std::thread::JoinHandle<()>>,
    }

    impl Served {
        fn start(limits: ConnectionLimits, state: StateSource) -> Served {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let (bound_tx, bound_rx) = std::sync::mpsc::channel();
            let thread = std::thread::spawn(move || {
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                    bound_tx.send(listener.local_addr().unwrap()).unwrap();
                    let metrics = Arc::new(BrokerMetrics::new());
                    tokio::select! {
                        () = serve_with_limits(listener, limits, metrics, state) => {}
                        _ = stopped => {}
                    }
                });
            });
            let addr = bound_rx.recv_timeout(Duration::from_secs(10)).unwrap();
            Served {
                addr,
                stop: Some(stop),
                thread: Some(thread),
            }
        }

        fn connect(&self) -> TcpStream {
            let stream = TcpStream::connect(self.addr).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            stream
        }
    }

    impl Drop for Served {
        fn drop(&mut self) {
            if let Some(stop) = self.stop.take() {
                let _ = stop.send(());
            }
            // A test that failed with the runtime stuck leaves the thread behind.
            if !std::thread::panicking() {
                if let Some(t) = self.thread.take() {
                    t.join().unwrap();
                }
            }
        }
    }

    fn default_state() -> StateSource {
        Arc::new(BrokerState::default)
    }

    #[test]
    fn connections_over_the_cap_wait_until_one_closes() {
        let served = Served::start(
            ConnectionLimits {
                max_connections: 2,
                idle_timeout: Duration::from_secs(60),
            },
            default_state(),
        );
        // Two kept-alive connections that were served: both hold their slots.
        let mut first = served.connect();
        let mut second = served.connect();
        for c in [&mut first, &mut second] {
            send_get(c, "/metrics").unwrap();
            assert_eq!(read_response(c).unwrap().0, 200);
        }
        let mut third = served.connect();
        send_get(&mut third, "/metrics").unwrap();
        third
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let early = read_response(&mut third);
        assert!(
            timed_out(&early),
            "a third connection was served over a cap of 2: {early:?}"
        );
        drop(first);
        third
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let (status, body) = read_response(&mut third).unwrap();
        assert_eq!(status, 200);
        assert!(
            body.contains("kafka_server_replicamanager_partitioncount 0\n"),
            "{body}"
        );
    }

    #[test]
    fn idle_and_unfinished_connections_are_closed_after_the_idle_timeout() {
        let idle = Duration::from_millis(300);
        let served = Served::start(
            ConnectionLimits {
                max_connections: 16,
                idle_timeout: idle,
            },
            default_state(),
        );
        // A request that never ends (slowloris).
        let mut unfinished = served.connect();
        let started = std::time::Instant::now();
        unfinished
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        assert!(
            closed_by_server(&mut unfinished),
            "an unfinished request was still open after 10 s"
        );
        assert!(started.elapsed() >= idle, "{:?}", started.elapsed());
        // A kept-alive connection left idle after its response.
        let mut kept = served.connect();
        send_get(&mut kept, "/nowhere").unwrap();
        assert_eq!(read_response(&mut kept).unwrap().0, 404);
        assert!(
            closed_by_server(&mut kept),
            "an idle connection was still open after 10 s"
        );
    }

    /// Scrapes in the state source now, the most there were at once, and whether they may go on.
    #[derive(Default)]
    struct Inside {
        now: usize,
        most: usize,
        open: bool,
    }

    type Gate = Arc<(Mutex<Inside>, Condvar)>;

    /// Lets the scrapes through when the test ends, however it ends.
    struct OpenOnDrop(Gate);

    impl Drop for OpenOnDrop {
        fn drop(&mut self) {
            let (inside, changed) = &*self.0;
            inside.lock().unwrap_or_else(|e| e.into_inner()).open = true;
            changed.notify_all();
        }
    }

    #[test]
    fn scrapes_read_the_state_off_the_async_threads_one_at_a_time() {
        let gate: Gate = Arc::default();
        let state: StateSource = {
            let gate = gate.clone();
            Arc::new(move || {
                // As metrics_state waiting on a partition log's lock held across an fsync.
                let (inside, changed) = &*gate;
                let mut i = inside.lock().unwrap();
                i.now += 1;
                i.most = i.most.max(i.now);
                changed.notify_all();
                let mut i = changed.wait_while(i, |i| !i.open).unwrap();
                i.now -= 1;
                changed.notify_all();
                BrokerState::default()
            })
        };
        let served = Served::start(
            ConnectionLimits {
                max_connections: 16,
                idle_timeout: Duration::from_secs(60),
            },
            state,
        );
        let _open = OpenOnDrop(gate.clone());
        let (inside, changed) = &*gate;
        let mut first = served.connect();
        send_get(&mut first, "/metrics").unwrap();
        let (i, waited) = changed
            .wait_timeout_while(inside.lock().unwrap(), Duration::from_secs(10), |i| {
                i.now == 0
            })
            .unwrap();
        assert!(!waited.timed_out(), "the first scrape never read the state");
        drop(i);
        let mut second = served.connect();
        send_get(&mut second, "/metrics").unwrap();
        // The listener's one async thread is free while a scrape waits for the state.
        let mut other = served.connect();
        send_get(&mut other, "/nowhere").unwrap();
        let answer = read_response(&mut other);
        assert!(
            matches!(answer, Ok((404, _))),
            "a scrape waiting for the state blocked the listener: {answer:?}"
        );
        // The second scrape waits for the first to finish instead of reading the state too.
        let (i, _) = changed
            .wait_timeout_while(inside.lock().unwrap(), Duration::from_millis(500), |i| {
                i.now < 2
            })
            .unwrap();
        let now = i.now;
        drop(i);
        assert_eq!(now, 1, "two scrapes read the state at once");
        drop(_open);
        for c in [&mut first, &mut second] {
            assert_eq!(read_response(c).unwrap().0, 200);
        }
        assert_eq!(inside.lock().unwrap().most, 1);
    }
}
