//! `zookeeper-lite <zookeeper.properties>`: recovers the metadata from dataDir, serves brokers
//! until SIGINT/SIGTERM, then exits 0.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use zookeeper_lite::config::ZkConfig;
use zookeeper_lite::controller::Controller;
use zookeeper_lite::metrics::ZkMetrics;

/// Ends the metrics listener's task with `run`.
struct AbortOnDrop(Option<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, config_path] = args.as_slice() else {
        eprintln!("USAGE: zookeeper-lite zookeeper.properties");
        return ExitCode::from(1);
    };
    common::logging::init();
    match run(Path::new(config_path)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::from(1)
        }
    }
}

#[tokio::main]
async fn run(config_path: &Path) -> anyhow::Result<()> {
    let config = ZkConfig::load(config_path).context("loading the configuration")?;
    let controller = Controller::open(&config.data_dir, Instant::now())
        .with_context(|| format!("recovering dataDir {}", config.data_dir.display()))?;
    tracing::info!(
        "recovered {} topics from dataDir {}",
        controller.state().durable().topics.len(),
        config.data_dir.display()
    );
    let shutdown = shutdown_signal();
    let bind = SocketAddr::new(config.client_port_address, config.client_port);
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding clientPort {bind}"))?;
    let local = listener.local_addr().context("reading the bound address")?;
    // Bound before serving, so a port in use stops the start at once.
    let metrics_listener = match &config.metrics {
        Some(at) => Some(zookeeper_lite::metrics::bind(at).await?),
        None => None,
    };
    if local.ip().is_unspecified() {
        tracing::info!("listening on 127.0.0.1:{} (bound to {local})", local.port());
    } else {
        tracing::info!("listening on {local}");
    }
    let metrics = Arc::new(ZkMetrics::new(controller.journal().fsync_time()));
    let shared = Arc::new(Mutex::new(controller));
    let metrics_http = metrics_listener.map(|l| {
        tokio::spawn(zookeeper_lite::metrics::serve(
            l,
            metrics.clone(),
            shared.clone(),
        ))
    });
    let _stop_metrics = AbortOnDrop(metrics_http);
    tokio::select! {
        () = zookeeper_lite::server::serve_counting(
            listener,
            shared,
            config.max_client_cnxns,
            metrics.alive_connections.clone(),
        ) => {}
        signal = shutdown => {
            tracing::info!("received {signal}, shutting down");
        }
    }
    Ok(())
}

/// Listens for SIGINT/SIGTERM from the moment it is called (not from the first poll), so that a
/// signal sent right after "listening on" is seen rather than killing the process by default.
fn shutdown_signal() -> impl std::future::Future<Output = &'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let int = signal(SignalKind::interrupt());
        let term = signal(SignalKind::terminate());
        async move {
            match (int, term) {
                (Ok(mut int), Ok(mut term)) => tokio::select! {
                    _ = int.recv() => "SIGINT",
                    _ = term.recv() => "SIGTERM",
                },
                (int, term) => {
                    if let Some(e) = int.as_ref().err().or(term.as_ref().err()) {
                        tracing::warn!("cannot listen for SIGINT/SIGTERM: {e}");
                    }
                    let _ = tokio::signal::ctrl_c().await;
                    "SIGINT"
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}
