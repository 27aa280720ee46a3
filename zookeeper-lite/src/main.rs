//! `zookeeper-lite <zookeeper.properties>`: recovers the metadata from dataDir, serves brokers
//! until SIGINT/SIGTERM, then exits 0.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use zookeeper_lite::config::ZkConfig;
use zookeeper_lite::coordinator::Coordinator;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, config_path] = args.as_slice() else {
        eprintln!("USAGE: zookeeper-lite zookeeper.properties");
        return ExitCode::from(1);
    };
    zookeeper_lite::logging::init();
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
    let coordinator = Coordinator::open(&config.data_dir, Instant::now())
        .with_context(|| format!("recovering dataDir {}", config.data_dir.display()))?;
    tracing::info!(
        "recovered {} topics from dataDir {}",
        coordinator.state().durable().topics.len(),
        config.data_dir.display()
    );
    let bind = SocketAddr::new(config.client_port_address, config.client_port);
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding clientPort {bind}"))?;
    let local = listener.local_addr().context("reading the bound address")?;
    if local.ip().is_unspecified() {
        tracing::info!("listening on 127.0.0.1:{} (bound to {local})", local.port());
    } else {
        tracing::info!("listening on {local}");
    }
    let shared = Arc::new(Mutex::new(coordinator));
    tokio::select! {
        () = zookeeper_lite::server::serve(listener, shared, config.max_client_cnxns) => {}
        signal = shutdown_signal() => {
            tracing::info!("received {signal}, shutting down");
        }
    }
    Ok(())
}

async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            },
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}
