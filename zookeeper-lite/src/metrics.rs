//! zookeeper-lite's metrics in the Prometheus text format (0.0.4), served at `/metrics` when
//! `metricsProvider.className` names ZooKeeper's `PrometheusMetricsProvider` (ZooKeeper 3.6+),
//! on `metricsProvider.httpHost`:`metricsProvider.httpPort` as ZooKeeper serves them.
//!
//! Names follow ZooKeeper's provider, which exports its `ServerMetrics` without a prefix:
//!
//! | Name | Type | What | ZooKeeper's metric |
//! |---|---|---|---|
//! | `global_sessions` | gauge | live broker sessions (registered and heartbeating) | `global_sessions` |
//! | `num_alive_connections` | gauge | open client (broker) connections | `num_alive_connections` |
//! | `fsynctime` | histogram (ms) | time of each journal append's write + fsync | `fsynctime` (a summary there) |
//! | `journal_size_bytes` | gauge (bytes) | the journal file's size (records since the start-up snapshot) | none: ZooKeeper reports no transaction log size; ours |
//! | `znode_count` | gauge | topics + partitions held (ZooKeeper: the znodes that would hold them) | `znode_count` (approximation) |
//!
//! `fsynctime` is a histogram with buckets, where ZooKeeper's provider writes a summary (its
//! `_sum` and `_count` mean the same); quantiles come from `histogram_quantile`.
//!
//! At most 16 connections are served at a time and one idle for 10 s is closed
//! ([`http_listener`]); one scrape reads the controller at a time.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::config::MetricsHttp;
use crate::controller::Controller;
use http_listener::{ConnectionLimits, LimitedListener};

/// The fsync latency histogram's upper bounds, in milliseconds.
const FSYNC_BUCKETS_MS: [f64; 14] = [
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 5000.0,
];

/// A new, empty fsync latency histogram (the journal keeps one).
pub fn fsync_time_histogram() -> Histogram {
    Histogram::new(FSYNC_BUCKETS_MS)
}

/// The registry of the request-path metrics (fsync times, connections); the state gauges are
/// read from the controller at each scrape.
pub struct ZkMetrics {
    registry: Registry,
    /// Open connections, kept by the server (`server::serve_counting`).
    pub alive_connections: Gauge,
}

impl ZkMetrics {
    /// Registers the journal's fsync histogram and a connection gauge.
    pub fn new(fsync_time: Histogram) -> ZkMetrics {
        let mut registry = Registry::default();
        registry.register(
            "fsynctime",
            "Milliseconds each journal append took to write and fsync (ZooKeeper's fsynctime)",
            fsync_time,
        );
        let alive_connections = Gauge::default();
        registry.register(
            "num_alive_connections",
            "Open client connections (ZooKeeper's num_alive_connections)",
            alive_connections.clone(),
        );
        ZkMetrics {
            registry,
            alive_connections,
        }
    }

    /// The exposition: the registered metrics, then the state gauges read from `controller`.
    pub fn encode(&self, controller: &Controller) -> Result<String, std::fmt::Error> {
        let mut state = Registry::default();
        let gauge = |v: usize| {
            let g = Gauge::<i64>::default();
            g.set(i64::try_from(v).unwrap_or(i64::MAX));
            g
        };
        let durable = controller.state().durable();
        state.register(
            "global_sessions",
            "Live broker sessions (ZooKeeper's global_sessions)",
            gauge(durable.sessions.len()),
        );
        state.register(
            "journal_size_bytes",
            "Bytes in the journal file: the records since the snapshot written at start-up",
            gauge(usize::try_from(controller.journal().len_bytes()).unwrap_or(usize::MAX)),
        );
        let partitions: usize = durable.topics.values().map(|t| t.partitions.len()).sum();
        state.register(
            "znode_count",
            "Topics and partitions held (the znodes ZooKeeper would hold them in)",
            gauge(durable.topics.len() + partitions),
        );
        let mut out = String::new();
        prometheus_text::encode(&mut out, &self.registry)?;
        prometheus_text::encode(&mut out, &state)?;
        Ok(out)
    }
}

/// Binds the metrics listener; the error names the keys and the address.
pub async fn bind(at: &MetricsHttp) -> anyhow::Result<TcpListener> {
    TcpListener::bind((at.host.as_str(), at.port))
        .await
        .with_context(|| {
            format!(
                "binding metricsProvider.httpHost={} metricsProvider.httpPort={}",
                at.host, at.port
            )
        })
}

/// Serves `GET /metrics` until the future is dropped, with the default [`ConnectionLimits`]
/// (16 connections, 10 s idle); logs `metrics listening on http://<addr>/metrics` first
/// (loopback shown for an unspecified bind).
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<ZkMetrics>,
    controller: Arc<Mutex<Controller>>,
) {
    serve_with_limits(listener, ConnectionLimits::default(), metrics, controller).await;
}

/// [`serve`] with the given connection limits.
pub async fn serve_with_limits(
    listener: TcpListener,
    limits: ConnectionLimits,
    metrics: Arc<ZkMetrics>,
    controller: Arc<Mutex<Controller>>,
) {
    match listener.local_addr() {
        Ok(bound) => {
            let shown = if bound.ip().is_unspecified() {
                SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), bound.port())
            } else {
                bound
            };
            tracing::info!("metrics listening on http://{shown}/metrics");
        }
        Err(e) => tracing::warn!("metrics listener: cannot read its address: {e}"),
    }
    // One scrape reads the controller at a time: the others wait here, on the async side, so a
    // scrape flood holds at most one blocking-pool thread waiting on the controller lock (held
    // across journal fsyncs), and brokers' heartbeats, which need that pool and that lock, do
    // not queue behind a crowd of scrapes.
    let turn = Arc::new(Semaphore::new(1));
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            let controller = controller.clone();
            let turn = turn.clone();
            async move { scrape(metrics, controller, turn).await }
        }),
    );
    if let Err(e) = axum::serve(LimitedListener::new(listener, limits), app).await {
        tracing::error!("metrics listener stopped: {e}");
    }
}

async fn scrape(
    metrics: Arc<ZkMetrics>,
    controller: Arc<Mutex<Controller>>,
    turn: Arc<Semaphore>,
) -> axum::response::Response {
    let Ok(turn) = turn.acquire_owned().await else {
        // Never closed.
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "reading the metrics failed\n",
        )
            .into_response();
    };
    // The controller's lock is held across journal fsyncs: wait for it off the async threads.
    // The turn goes with the task, so a client that hangs up does not let another scrape start
    // while this one still waits for the lock.
    let encoded = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        let guard = controller.lock().unwrap_or_else(PoisonError::into_inner);
        metrics.encode(&guard)
    })
    .await;
    match encoded {
        Ok(Ok(text)) => (
            [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
            text,
        )
            .into_response(),
        Ok(Err(e)) => {
            tracing::error!("encoding the metrics failed: {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "encoding the metrics failed\n",
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!("reading the metrics failed: {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "reading the metrics failed\n",
            )
                .into_response()
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use http_listener::raw_http::{closed_by_server, read_response, send_get, timed_out};
    use std::time::Instant;

    #[test]
    fn sessions_journal_size_and_fsync_times_are_exported_with_zookeepers_names() {
        let dir = tempfile::tempdir().unwrap();
        let mut controller = Controller::open(dir.path(), Instant::now()).unwrap();
        let metrics = ZkMetrics::new(controller.journal().fsync_time());
        metrics.alive_connections.inc();
        let before = metrics.encode(&controller).unwrap();
        assert!(
            before.contains("# TYPE global_sessions gauge\nglobal_sessions 0\n"),
            "{before}"
        );
        assert!(before.contains("journal_size_bytes 0\n"), "{before}");
        assert!(before.contains("fsynctime_count 0\n"), "{before}");
        assert!(before.contains("num_alive_connections 1\n"), "{before}");
        let response = controller.handle(
            crate::protocol::Request::RegisterBroker {
                broker: crate::protocol::BrokerInfo {
                    id: common::ids::BrokerId(0),
                    host: "localhost".into(),
                    port: 9092,
                    rack: None,
                },
                session_timeout_ms: 6000,
            },
            Instant::now(),
        );
        assert!(
            matches!(response, crate::protocol::Response::Registered { .. }),
            "{response:?}"
        );
        let after = metrics.encode(&controller).unwrap();
        assert!(after.contains("global_sessions 1\n"), "{after}");
        assert!(after.contains("fsynctime_count 1\n"), "{after}");
        assert!(!after.contains("journal_size_bytes 0\n"), "{after}");
        assert!(after.contains("# TYPE fsynctime histogram\n"), "{after}");
    }

    /// The listener served on a current-thread runtime of its own (two blocking threads at
    /// most, so a test can see them taken), on its own thread; stopped on drop.
    struct Served {
        addr: SocketAddr,
        controller: Arc<Mutex<Controller>>,
        runtime: tokio::runtime::Handle,
        stop: Option<tokio::sync::oneshot::Sender<()>>,
        thread: Option<std::thread::JoinHandle<()>>,
        _dir: tempfile::TempDir,
    }

    impl Served {
        fn start(limits: ConnectionLimits) -> Served {
            let dir = tempfile::tempdir().unwrap();
            let controller = Controller::open(dir.path(), Instant::now()).unwrap();
            let metrics = Arc::new(ZkMetrics::new(controller.journal().fsync_time()));
            let controller = Arc::new(Mutex::new(controller));
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .max_blocking_threads(2)
                .build()
                .unwrap();
            let handle = runtime.handle().clone();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let (bound_tx, bound_rx) = std::sync::mpsc::channel();
            let shared = controller.clone();
            let thread = std::thread::spawn(move || {
                runtime.block_on(async move {
                    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                    bound_tx.send(listener.local_addr().unwrap()).unwrap();
                    tokio::select! {
                        () = serve_with_limits(listener, limits, metrics, shared) => {}
                        _ = stopped => {}
                    }
                });
            });
            let addr = bound_rx
                .recv_timeout(std::time::Duration::from_secs(10))
                .unwrap();
            Served {
                addr,
                controller,
                runtime: handle,
                stop: Some(stop),
                thread: Some(thread),
                _dir: dir,
            }
        }

        fn connect(&self) -> std::net::TcpStream {
            let stream = std::net::TcpStream::connect(self.addr).unwrap();
            stream
                .set_read_timeout(Some(std::time::Duration::from_secs(10)))
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

    #[test]
    fn connections_over_the_cap_wait_until_one_closes() {
        let served = Served::start(ConnectionLimits {
            max_connections: 2,
            idle_timeout: std::time::Duration::from_secs(60),
        });
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
            .set_read_timeout(Some(std::time::Duration::from_millis(500)))
            .unwrap();
        let early = read_response(&mut third);
        assert!(
            timed_out(&early),
            "a third connection was served over a cap of 2: {early:?}"
        );
        drop(first);
        third
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let (status, body) = read_response(&mut third).unwrap();
        assert_eq!(status, 200);
        assert!(body.contains("global_sessions 0\n"), "{body}");
    }

    #[test]
    fn idle_and_unfinished_connections_are_closed_after_the_idle_timeout() {
        let idle = std::time::Duration::from_millis(300);
        let served = Served::start(ConnectionLimits {
            max_connections: 16,
            idle_timeout: idle,
        });
        // A request that never ends (slowloris).
        let mut unfinished = served.connect();
        let started = std::time::Instant::now();
        std::io::Write::write_all(&mut unfinished, b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
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

    #[test]
    fn a_scrape_flood_holds_one_blocking_thread_waiting_on_the_controller() {
        let served = Served::start(ConnectionLimits {
            max_connections: 16,
            idle_timeout: std::time::Duration::from_secs(60),
        });
        // The controller busy (as across a journal fsync) while three scrapes arrive.
        let busy = served.controller.lock().unwrap();
        let mut scrapes: Vec<_> = (0..3).map(|_| served.connect()).collect();
        for c in &mut scrapes {
            send_get(c, "/metrics").unwrap();
        }
        // A later request is answered: the scrapes' requests have been read by now.
        let mut other = served.connect();
        send_get(&mut other, "/nowhere").unwrap();
        assert_eq!(read_response(&mut other).unwrap().0, 404);
        // Work that needs the blocking pool (as a broker's heartbeat does) still gets a thread of
        // the two.
        let (ran_tx, ran_rx) = std::sync::mpsc::channel();
        served.runtime.spawn_blocking(move || {
            let _ = ran_tx.send(());
        });
        let ran = ran_rx.recv_timeout(std::time::Duration::from_secs(5));
        drop(busy);
        assert!(
            ran.is_ok(),
            "scrapes waiting on the controller took every blocking thread"
        );
        for c in &mut scrapes {
            assert_eq!(read_response(c).unwrap().0, 200);
        }
    }
}
