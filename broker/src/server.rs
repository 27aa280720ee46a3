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
    // Bound before anything else happens, so a port in use stops the start at once.
    let metrics_listener = match &config.metrics_listener {
        Some(at) => Some(crate::metrics::http::bind(at).await?),
        None => None,
    };
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
    crate::handlers::set_local_marker_writer(&broker);
    let md = cluster.metadata();
    broker
        .partitions
        .sync_with(&md, broker.config.broker_id)
        .await;

    let session = tokio::spawn(cluster.clone().run_session());
    let watch = tokio::spawn(cluster.clone().run_metadata_watch());
    let isr_expiration = tokio::spawn(isr_expiration(broker.clone()));
    let leader_rebalance = tokio::spawn(leader_rebalance(broker.clone()));
    let hosting = tokio::spawn(keep_hosting_in_sync(broker.clone()));
    let retention = tokio::spawn(retention_loop(broker.clone()));
    let cleaner = tokio::spawn(crate::compaction::run(broker.clone()));
    let group_timers = tokio::spawn(group_ticker(broker.clone()));
    let group_cleanup = tokio::spawn(group_metadata_cleanup(broker.clone()));
    let txn_timers = tokio::spawn(txn_ticker(broker.clone()));

    let id = broker.config.broker_id;
    tracing::info!("listening on {bound}");
    // Spawned after that line, so `metrics listening on ...` always comes second (scripts take
    // the first `listening on` line as the Kafka listener's).
    let metrics_http = metrics_listener.map(|listener| {
        let state = broker.clone();
        tokio::spawn(crate::metrics::http::serve(
            listener,
            broker.metrics.clone(),
            Arc::new(move || state.metrics_state()),
        ))
    });
    tracing::info!("[KafkaServer id={id}] started");
    let mut serving = Box::pin(crate::net::serve(listener, broker.clone()));
    let stopped_serving = tokio::select! {
        _ = &mut serving => true,
        _ = shutdown => false,
    };
    tracing::info!("[KafkaServer id={id}] shutting down");
    // As Kafka: requests are still served while leadership moves away, so clients get
    // NOT_LEADER_OR_FOLLOWER from a live broker rather than a refused connection.
    if broker.config.controlled_shutdown_enable && !stopped_serving {
        tokio::select! {
            _ = controlled_shutdown(&broker) => {}
            _ = &mut serving => {}
        }
    }
    // The listener closes here: nothing new is accepted from now on.
    drop(serving);
    watch.abort();
    isr_expiration.abort();
    leader_rebalance.abort();
    session.abort();
    hosting.abort();
    retention.abort();
    cleaner.abort();
    group_timers.abort();
    group_cleanup.abort();
    txn_timers.abort();
    if let Some(task) = metrics_http {
        task.abort();
    }
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
        // Group partitions won or lost are loaded or unloaded at once, not at the next tick.
        crate::group::sync_partitions(
            &broker.groups,
            &broker.partitions,
            &broker.cluster,
            &broker.config,
        );
        crate::txn::sync_partitions(
            &broker.txn,
            &broker.partitions,
            &broker.cluster,
            &broker.config,
        );
        // Offsets of deleted topics go at once (their tombstones are written meanwhile).
        let groups = broker.groups.clone();
        tokio::spawn(async move {
            groups
                .drop_offsets_of_deleted_topics(|t| md.topics.contains_key(t))
                .await;
        });
    }
}

/// Kafka's controlled shutdown (`KafkaServer.controlledShutdown`): leadership of this broker's
/// partitions moves to other in-sync replicas before it stops serving, so producers and
/// consumers move on with a NOT_LEADER_OR_FOLLOWER rather than a dead connection. Retried
/// `controlled.shutdown.max.retries` times while some partition has no one else to lead it.
async fn controlled_shutdown(broker: &Arc<Broker>) {
    let id = broker.config.broker_id;
    let tries = broker.config.controlled_shutdown_max_retries.max(1);
    for attempt in 1..=tries {
        match broker.cluster.controlled_shutdown().await {
            Ok(remaining) if remaining.is_empty() => {
                tracing::info!(
                    "[KafkaServer id={id}] Controlled shutdown request returned successfully"
                );
                break;
            }
            Ok(remaining) => {
                let names: Vec<String> = remaining.iter().map(|tp| tp.to_string()).collect();
                tracing::warn!(
                    "[KafkaServer id={id}] Remaining partitions to move: {} (attempt {attempt} \
                     of {tries}; no other in-sync replica can lead them)",
                    names.join(",")
                );
            }
            Err(e) => tracing::warn!("[KafkaServer id={id}] controlled shutdown failed: {e}"),
        }
        if attempt < tries {
            tokio::time::sleep(std::time::Duration::from_millis(
                broker.config.controlled_shutdown_retry_backoff_ms,
            ))
            .await;
        }
    }
    let md = broker.cluster.metadata();
    broker.partitions.sync_with(&md, id).await;
}

/// Kafka's `isr-expiration` task: every half `replica.lag.time.max.ms`, each partition this
/// broker leads drops the followers that have not caught up for that long from its ISR (never
/// below the leader itself), through zookeeper-lite.
async fn isr_expiration(broker: Arc<Broker>) {
    let lag_ms = broker.config.replica_lag_time_max_ms;
    let period = std::time::Duration::from_millis(u64::try_from(lag_ms / 2).unwrap_or(1).max(1));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = common::time::now_ms();
        for (tp, h) in broker.partitions.all() {
            let shrink = {
                let role = h.replica.lock();
                match &*role {
                    crate::replica::Role::Leader(l) if l.may_alter(now) => {
                        let out = l.out_of_sync(now, lag_ms);
                        (!out.is_empty()).then(|| {
                            let details: Vec<String> = out
                                .iter()
                                .map(|b| {
                                    let f = l.followers.get(b);
                                    format!(
                                        "(brokerId: {b}, endOffset: {}, lastCaughtUpTimeMs: {})",
                                        f.map_or(-1, |f| f.end_offset),
                                        f.map_or(-1, |f| f.last_caught_up_ms)
                                    )
                                })
                                .collect();
                            let isr: Vec<_> =
                                l.isr.iter().copied().filter(|b| !out.contains(b)).collect();
                            (isr, details.join(", "))
                        })
                    }
                    _ => None,
                }
            };
            if let Some((isr, details)) = shrink {
                let why = format!(
                    "Shrinking ISR (highWatermark: {}, endOffset: {}). Out of sync replicas: {details}",
                    h.log.high_watermark(),
                    h.log.log_end_offset()
                );
                if crate::replica::alter_isr(&broker.cluster, &tp, &h.replica, &h.log, isr, &why)
                    .await
                {
                    broker.metrics.isr_shrunk();
                }
            }
        }
    }
}

/// Kafka's auto leader rebalance (`KafkaController.checkAndTriggerAutoLeaderRebalance`): the
/// controller broker (the lowest live id), every `leader.imbalance.check.interval.seconds`,
/// elects preferred leaders on every broker whose share of partitions it prefers but does not
/// lead is above `leader.imbalance.per.broker.percentage`.
async fn leader_rebalance(broker: Arc<Broker>) {
    if !broker.config.auto_leader_rebalance_enable {
        return;
    }
    let mut tick = tokio::time::interval(broker.config.leader_imbalance_check_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        if broker.controller_id() != broker.config.broker_id {
            continue;
        }
        let md = broker.cluster.metadata();
        let wanted = crate::replica::imbalanced_partitions(
            &md,
            broker.config.leader_imbalance_per_broker_percentage,
        );
        if wanted.is_empty() {
            continue;
        }
        tracing::info!(
            "Starting preferred replica leader election for partitions {}",
            wanted
                .iter()
                .map(|tp| tp.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        if let Err(e) = broker
            .cluster
            .elect_leaders(
                zookeeper_lite::protocol::ElectionType::Preferred,
                Some(wanted),
            )
            .await
        {
            tracing::warn!("preferred leader election failed: {e}");
        }
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
/// below the smallest session timeout a broker accepts. Each tick also loads the
/// `__consumer_offsets` partitions this broker has become leader of and unloads those it lost
/// (Kafka's `onElection` / `onResignation`); checking on every tick, not only on a metadata
/// change, also catches a request that created a group here just as its partition moved.
async fn group_ticker(broker: Arc<Broker>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        broker.groups.tick();
        crate::group::sync_partitions(
            &broker.groups,
            &broker.partitions,
            &broker.cluster,
            &broker.config,
        );
    }
}

/// Drives the transaction coordinator: every 100 ms it loads the `__transaction_state`
/// partitions this broker has become leader of and forgets those it lost; every
/// `transaction.abort.timed.out.transaction.cleanup.interval.ms` it aborts the transactions open
/// longer than their timeout, and every
/// `transaction.remove.expired.transaction.cleanup.interval.ms` it removes expired
/// transactional ids (Kafka's `TransactionCoordinator.startup` schedules).
async fn txn_ticker(broker: Arc<Broker>) {
    use std::time::{Duration, Instant};
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let abort_every = Duration::from_millis(broker.config.txn.abort_timed_out_interval_ms);
    let remove_every = Duration::from_millis(broker.config.txn.remove_expired_interval_ms);
    let mut next_abort = Instant::now() + abort_every;
    let mut next_remove = Instant::now() + remove_every;
    loop {
        tick.tick().await;
        crate::txn::sync_partitions(
            &broker.txn,
            &broker.partitions,
            &broker.cluster,
            &broker.config,
        );
        let now = Instant::now();
        if now >= next_abort {
            next_abort = now + abort_every;
            // An exhausted epoch needs a new producer id, taken without waiting: without one the
            // transaction waits for the next pass, and a block is fetched meanwhile.
            broker
                .txn
                .abort_timed_out(|| broker.try_next_producer_id().map(|id| id.get()))
                .await;
        }
        if now >= next_remove {
            next_remove = now + remove_every;
            broker.txn.remove_expired().await;
        }
    }
}
