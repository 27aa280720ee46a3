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

use crate::config::MetricsHttp;
use crate::controller::Controller;

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

/// Serves `GET /metrics` until the future is dropped; logs
/// `metrics listening on http://<addr>/metrics` first (loopback shown for an unspecified bind).
pub async fn serve(
    listener: TcpListener,
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
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            let controller = controller.clone();
            async move { scrape(metrics, controller).await }
        }),
    );
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!("metrics listener stopped: {e}");
    }
}

async fn scrape(
    metrics: Arc<ZkMetrics>,
    controller: Arc<Mutex<Controller>>,
) -> axum::response::Response {
    // The controller's lock is held across journal fsyncs: wait for it off the async threads.
    let encoded = tokio::task::spawn_blocking(move || {
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
}
