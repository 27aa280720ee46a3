//! The broker's lifecycle: start (bind, register, open hosted logs), serve, shut down, and the
//! background tasks that run over the shared [`Broker`] state.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use zookeeper_lite::protocol::BrokerInfo;

use crate::broker::Broker;
use crate::cluster::Cluster;
use crate::config::BrokerConfig;

/// Starts the broker: binds the listener, registers with zookeeper-lite, opens hosted logs and
/// serves until `shutdown` resolves.
pub async fn run(
    config: BrokerConfig,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    for dir in &config.log_dirs {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating log directory {}", dir.display()))?;
    }
    let bind = if config.listen_host.is_empty() {
        format!("0.0.0.0:{}", config.listen_port)
    } else {
        format!("{}:{}", config.listen_host, config.listen_port)
    };
    let listener = TcpListener::bind(&bind)
        .await
        .with_context(|| format!("binding listener {bind}"))?;
    let bound: SocketAddr = listener.local_addr()?;
    let advertised = BrokerInfo {
        id: config.broker_id,
        host: config.advertised_host(&bound),
        port: config
            .advertised_port
            .filter(|p| *p != 0)
            .unwrap_or(bound.port()),
        rack: config.raw.get("broker.rack").cloned(),
    };
    let cluster = Cluster::connect(
        &config.zookeeper_connect,
        advertised.clone(),
        config.zookeeper_session_timeout_ms,
    )
    .await
    .with_context(|| {
        format!(
            "connecting to zookeeper.connect={}",
            config.zookeeper_connect
        )
    })?;
    // As KafkaServer.startup: the cluster id first, then every log directory's meta.properties
    // is checked against it and the broker id (and written), and only then is the broker
    // registered.
    let md = cluster.refresh().await?;
    tracing::info!("Cluster ID = {}", md.cluster_id);
    crate::meta_properties::ensure(&config.log_dirs, &md.cluster_id, config.broker_id)?;
    cluster.check_endpoint_free(&md)?;
    cluster.register().await?;

    let broker = Arc::new(Broker::new(config, cluster.clone(), advertised));
    let md = cluster.metadata();
    broker
        .partitions
        .sync_with(&md, broker.config.broker_id)
        .await;

    let session = tokio::spawn(cluster.clone().run_session());
    let hosting = tokio::spawn(keep_hosting_in_sync(broker.clone()));
    let retention = tokio::spawn(retention_loop(broker.clone()));
    let group_timers = tokio::spawn(group_ticker(broker.clone()));
    let group_cleanup = tokio::spawn(group_metadata_cleanup(broker.clone()));

    let id = broker.config.broker_id;
    tracing::info!("listening on {bound}");
    tracing::info!("[KafkaServer id={id}] started");
    tokio::select! {
        _ = crate::net::serve(listener, broker.clone()) => {}
        _ = shutdown => {}
    }
    tracing::info!("[KafkaServer id={id}] shutting down");
    session.abort();
    hosting.abort();
    retention.abort();
    group_timers.abort();
    group_cleanup.abort();
    broker.partitions.close_all().await;
    broker.cluster.unregister().await;
    tracing::info!("[KafkaServer id={id}] shut down completed");
    Ok(())
}

async fn keep_hosting_in_sync(broker: Arc<Broker>) {
    let mut changes = broker.cluster.subscribe();
    while changes.changed().await.is_ok() {
        let md = broker.cluster.metadata();
        broker
            .partitions
            .sync_with(&md, broker.config.broker_id)
            .await;
    }
}

/// Kafka's `kafka-log-retention` task: first `log.initial.task.delay.ms` after startup, then
/// every `log.retention.check.interval.ms`, deletes the segments past retention of every log.
async fn retention_loop(broker: Arc<Broker>) {
    let first = tokio::time::Instant::now() + broker.config.log_initial_task_delay;
    let mut tick = tokio::time::interval_at(first, broker.config.log_retention_check_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        for (tp, h) in broker.partitions.all() {
            match h.log.apply_retention().await {
                Ok(0) => {}
                Ok(n) => tracing::info!("retention deleted {n} segment(s) of {tp}"),
                Err(e) => tracing::warn!("retention of {tp} failed: {e}"),
            }
        }
    }
}

/// Removes Empty groups without offsets and expires offsets, every
/// `offsets.retention.check.interval.ms` (Kafka's `delete-expired-group-metadata` task).
async fn group_metadata_cleanup(broker: Arc<Broker>) {
    let period =
        std::time::Duration::from_millis(broker.config.offsets_retention_check_interval_ms);
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        broker.cleanup_group_metadata().await;
    }
}

/// Drives the group coordinator's timeouts (sessions, join and sync phases); 100 ms is well
/// below the smallest session timeout a broker accepts.
async fn group_ticker(broker: Arc<Broker>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        broker.groups.tick();
    }
}
