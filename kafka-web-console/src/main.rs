//! `kafka-web-console`: a web console for any Kafka cluster (ours or Apache Kafka), talking to
//! it only through our client library: cluster overview, topics (create, delete, partitions,
//! configs), a message browser with live tail and a test producer, consumer groups with lag and
//! offset resets, and broker metrics charts. Every page has a JSON twin under `/api`. Pages are
//! rendered on the server (askama templates); the one stylesheet and the one small script are
//! compiled into the binary, so the console works without internet access.

mod chart;
mod console;
mod error;
mod flash;
mod guard;
mod metrics;
mod options;
mod pages;
mod render;
mod views;
mod web;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use cli::admin::{admin_api_timeout, load_command_config};
use client::Admin;

use crate::console::Console;
use crate::metrics::MetricsStore;
use crate::options::ConsoleOptions;

/// Each admin call gives up after this long unless `--command-config` sets
/// `default.api.timeout.ms`: a page should fail visibly rather than hang for Kafka's 60 s.
const DEFAULT_API_TIMEOUT: Duration = Duration::from_secs(15);

fn main() {
    cli::tool_log::init_tool_logging();
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let opts = match options::parse_args(&args) {
        Ok(o) => o,
        Err(abort) => abort.exit(&options::parser()),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(serve(opts)) {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}

async fn serve(opts: ConsoleOptions) -> anyhow::Result<()> {
    let props = load_command_config(opts.command_config.as_deref())
        .map_err(|e| anyhow::anyhow!("{}: {}", e.java_class(), e.java_message()))
        .with_context(|| {
            format!(
                "reading --command-config {}",
                opts.command_config.as_deref().unwrap_or("")
            )
        })?;
    let timeout = if props.contains("default.api.timeout.ms") {
        admin_api_timeout(&props).map_err(|m| anyhow::anyhow!(m))?
    } else {
        DEFAULT_API_TIMEOUT
    };
    let client_id = props.get("client.id").unwrap_or("kafka-web-console");
    let admin = Admin::connect_with_timeout(&opts.bootstrap_server, client_id, timeout)
        .await
        .with_context(|| format!("connecting to {}", opts.bootstrap_server))?;
    let client_props: Vec<(String, String)> = props
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let console = Arc::new(Console::new(
        admin,
        &opts.bootstrap_server,
        client_props,
        MetricsStore::new(&opts.metrics_urls),
    ));
    if !opts.metrics_urls.is_empty() {
        tokio::spawn(scrape_metrics(console.clone()));
    }
    let address = format!("{}:{}", opts.bind, opts.port);
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .with_context(|| format!("binding {address}"))?;
    let bound = listener.local_addr().context("reading the bound address")?;
    let host = if bound.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else if bound.is_ipv6() {
        format!("[{}]", bound.ip())
    } else {
        bound.ip().to_string()
    };
    println!(
        "Kafka web console listening on http://{host}:{}",
        bound.port()
    );
    let guard = guard::Guard {
        loopback_port: bound.ip().is_loopback().then_some(bound.port()),
    };
    axum::serve(listener, web::router(console, guard))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving HTTP")
}

/// Scrapes every `--metrics-url` forever, one round every [`metrics::SCRAPE_INTERVAL`].
async fn scrape_metrics(console: Arc<Console>) {
    let http = reqwest::Client::new();
    let urls = console.metrics.urls();
    let mut tick = tokio::time::interval(metrics::SCRAPE_INTERVAL);
    loop {
        tick.tick().await;
        for (i, url) in urls.iter().enumerate() {
            let result = metrics::scrape(&http, url).await;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            console.metrics.record(i, now, result);
        }
    }
}
