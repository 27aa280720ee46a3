//! The `/metrics` HTTP listener: `metrics.http.listener=http://host:port` (off unless set; an
//! empty host binds every interface, port 0 an ephemeral port), serving `GET /metrics` in the
//! Prometheus text format, as the JMX exporter's agent serves a Kafka broker's metrics.
//! At most 16 connections are served at a time and one idle for 10 s is closed
//! ([`http_listener`]); one scrape reads the broker's state at a time, on the
//! blocking pool.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use http_listener::{ConnectionLimits, LimitedListener};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::{BrokerMetrics, BrokerState};

/// The server.properties key of the listener.
pub const LISTENER_KEY: &str = "metrics.http.listener";

/// Where `/metrics` is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsListener {
    /// Empty: every interface.
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for MetricsListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "http://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "http://{}:{}", self.host, self.port)
        }
    }
}

/// Parses the key's value: `http://host:port` (`http://:9404`, `http://127.0.0.1:0`,
/// `http://[::1]:9404`), or nothing (empty: no listener). The error is the reason, for the
/// config error that names key and value.
pub fn parse_listener(value: &str) -> Result<Option<MetricsListener>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    const EXPECTED: &str = "expected http://host:port (an empty host binds every interface)";
    let rest = match value.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
        Some((scheme, _)) => {
            return Err(format!(
                "scheme {scheme} is not supported (only http); {EXPECTED}"
            ))
        }
        None => return Err(EXPECTED.to_string()),
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains('/') {
        return Err(format!(
            "no path may be given: /metrics is served; {EXPECTED}"
        ));
    }
    let (host, port) = rest.rsplit_once(':').ok_or_else(|| EXPECTED.to_string())?;
    let port = port
        .parse::<u16>()
        .map_err(|_| "port is not a number from 0 to 65535".to_string())?;
    let host = match host.strip_prefix('[') {
        Some(h) => h
            .strip_suffix(']')
            .ok_or_else(|| EXPECTED.to_string())?
            .to_string(),
        None if host.contains(':') => return Err(EXPECTED.to_string()),
        None => host.to_string(),
    };
    Ok(Some(MetricsListener { host, port }))
}

/// Binds the listener. Errors name the key and the value (a port in use, an unknown host).
pub async fn bind(listener: &MetricsListener) -> anyhow::Result<TcpListener> {
    let host = if listener.host.is_empty() {
        "0.0.0.0"
    } else {
        listener.host.as_str()
    };
    TcpListener::bind((host, listener.port))
        .await
        .with_context(|| format!("binding {LISTENER_KEY}={listener}"))
}

/// The URL to log for a bound listener: an unspecified address is shown as the loopback one.
pub fn url(bound: SocketAddr) -> String {
    let shown = if bound.ip().is_unspecified() {
        SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), bound.port())
    } else {
        bound
    };
    format!("http://{shown}/metrics")
}

/// Reads the broker's state for a scrape.
pub type StateSource = Arc<dyn Fn() -> BrokerState + Send + Sync>;

/// Serves `GET /metrics` on `listener` until the future is dropped, with the default
/// [`ConnectionLimits`] (16 connections, 10 s idle); logs
/// `metrics listening on http://<addr>/metrics` first.
pub async fn serve(listener: TcpListener, metrics: Arc<BrokerMetrics>, state: StateSource) {
    serve_with_limits(listener, ConnectionLimits::default(), metrics, state).await;
}

/// [`serve`] with the given connection limits.
pub async fn serve_with_limits(
    listener: TcpListener,
    limits: ConnectionLimits,
    metrics: Arc<BrokerMetrics>,
    state: StateSource,
) {
    match listener.local_addr() {
        Ok(bound) => tracing::info!("metrics listening on {}", url(bound)),
        Err(e) => tracing::warn!("metrics listener: cannot read its address: {e}"),
    }
    // One scrape computes at a time; the others wait here, on the async side.
    let turn = Arc::new(Semaphore::new(1));
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            let state = state.clone();
            let turn = turn.clone();
            async move { scrape(metrics, state, turn).await }
        }),
    );
    if let Err(e) = axum::serve(LimitedListener::new(listener, limits), app).await {
        tracing::error!("metrics listener stopped: {e}");
    }
}

async fn scrape(
    metrics: Arc<BrokerMetrics>,
    state: StateSource,
    turn: Arc<Semaphore>,
) -> axum::response::Response {
    let Ok(turn) = turn.acquire_owned().await else {
        // Never closed.
        return failed("reading the metrics failed\n");
    };
    // Reading the state takes the partition logs' locks (held across fsyncs) and the group
    // coordinator's: off the async threads, which serve the Kafka listener too. The turn goes
    // with the task, so a client that hangs up does not let a second scrape start meanwhile.
    let encoded = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        metrics.scrape(|| state())
    })
    .await;
    match encoded {
        Ok(Ok(text)) => (
            [(
                header::CONTENT_TYPE,
                prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            )],
            text,
        )
            .into_response(),
        Ok(Err(e)) => {
            tracing::error!("encoding the metrics failed: {e}");
            failed("encoding the metrics failed\n")
        }
        Err(e) => {
            tracing::error!("reading the metrics failed: {e}");
            failed("reading the metrics failed\n")
        }
    }
}

fn failed(text: &'static str) -> axum::response::Response {
    (StatusCode::INTERNAL_SERVER_ERROR, text).into_response()
}
