//! The broker as a whole: its shared state and its lifecycle (start, serve, shut down).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use tokio::net::TcpListener;
use zookeeper_lite::protocol::BrokerInfo;

use crate::cluster::Cluster;
use crate::config::BrokerConfig;
use crate::group::{GroupConfig, Groups};
use crate::partitions::Partitions;

pub struct Broker {
    pub config: BrokerConfig,
    pub cluster: Arc<Cluster>,
    pub partitions: Partitions,
    pub advertised: BrokerInfo,
    /// The consumer groups this broker coordinates.
    pub groups: Groups,
    producer_ids: ProducerIdAllocator,
}

/// Producer ids must never repeat across restarts or brokers, or a new producer would inherit an
/// old one's sequence numbers: ids start from the start-up time in milliseconds, shifted to leave
/// room for a counter, with the broker id in the low bits.
struct ProducerIdAllocator {
    next: AtomicI64,
    broker_id: i64,
}

impl ProducerIdAllocator {
    fn new(broker_id: i32) -> Self {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        ProducerIdAllocator {
            next: AtomicI64::new(now_ms << 12),
            broker_id: i64::from(broker_id & 0xff),
        }
    }

    fn allocate(&self) -> i64 {
        (self.next.fetch_add(1, Ordering::Relaxed) << 8) | self.broker_id
    }
}

impl Broker {
    pub fn next_producer_id(&self) -> i64 {
        self.producer_ids.allocate()
    }

    /// The live broker chosen as "controller" for clients: admin requests go there. Every broker
    /// forwards them to zookeeper-lite, so any live broker will do; the lowest id is stable.
    pub fn controller_id(&self) -> i32 {
        self.cluster
            .metadata()
            .brokers
            .iter()
            .map(|b| b.id)
            .min()
            .unwrap_or(self.config.broker_id)
    }

    /// Re-reads the metadata and syncs hosted partitions with it; handlers call this after an
    /// admin change so the effect is visible to the next request.
    pub async fn refresh_metadata(&self) -> anyhow::Result<()> {
        let md = self.cluster.refresh().await?;
        self.partitions.sync_with(&md, self.config.broker_id).await;
        Ok(())
    }
}

/// A broker registered with an in-process zookeeper-lite, serving no socket: handler tests call
/// the handlers on it directly. The returned guard keeps the coordinator and the directories.
#[cfg(test)]
pub(crate) async fn start_for_test() -> (Arc<Broker>, impl Drop) {
    start_for_test_with(|_| {}).await
}

/// [`start_for_test`] with settings changed by `adjust`.
#[cfg(test)]
pub(crate) async fn start_for_test_with(
    adjust: impl FnOnce(&mut BrokerConfig),
) -> (Arc<Broker>, impl Drop) {
    struct Guard {
        zk: tokio::task::JoinHandle<()>,
        _dir: tempfile::TempDir,
    }
    impl Drop for Guard {
        fn drop(&mut self) {
            self.zk.abort();
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let zk_dir = dir.path().join("zk");
    std::fs::create_dir_all(&zk_dir).expect("zk dir");
    let coordinator =
        zookeeper_lite::coordinator::Coordinator::open(&zk_dir, std::time::Instant::now())
            .expect("zookeeper-lite opens");
    let shared = Arc::new(std::sync::Mutex::new(coordinator));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let zk_addr = listener.local_addr().expect("bound address");
    let zk = tokio::spawn(zookeeper_lite::server::serve(listener, shared, 0));
    let mut config = BrokerConfig {
        log_dirs: vec![dir.path().join("logs")],
        zookeeper_connect: zk_addr.to_string(),
        zookeeper_session_timeout_ms: 60_000,
        ..BrokerConfig::default()
    };
    adjust(&mut config);
    let advertised = BrokerInfo {
        id: config.broker_id,
        host: "127.0.0.1".to_string(),
        port: 9092,
        rack: None,
    };
    let cluster = Cluster::connect(&config.zookeeper_connect, advertised.clone(), 60_000)
        .await
        .expect("connects to zookeeper-lite");
    cluster.register().await.expect("registers");
    let broker = Arc::new(Broker {
        partitions: Partitions::new(config.clone()),
        producer_ids: ProducerIdAllocator::new(config.broker_id),
        groups: Groups::new(GroupConfig {
            initial_rebalance_delay_ms: config.group_initial_rebalance_delay_ms,
            min_session_timeout_ms: config.group_min_session_timeout_ms,
            max_session_timeout_ms: config.group_max_session_timeout_ms,
            offsets_retention_ms: config.offsets_retention_ms,
        }),
        config,
        cluster,
        advertised,
    });
    broker.refresh_metadata().await.expect("metadata");
    (broker, Guard { zk, _dir: dir })
}

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

    let broker = Arc::new(Broker {
        partitions: Partitions::new(config.clone()),
        producer_ids: ProducerIdAllocator::new(config.broker_id),
        groups: Groups::new(GroupConfig {
            initial_rebalance_delay_ms: config.group_initial_rebalance_delay_ms,
            min_session_timeout_ms: config.group_min_session_timeout_ms,
            max_session_timeout_ms: config.group_max_session_timeout_ms,
            offsets_retention_ms: config.offsets_retention_ms,
        }),
        config,
        cluster: cluster.clone(),
        advertised,
    });
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
        crate::group::cleanup_group_metadata(&broker).await;
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
