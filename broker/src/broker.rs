//! The broker's shared state, what every handler is given: its config, its link to the cluster,
//! the partitions it hosts, the consumer groups it coordinates and its producer-id allocator.
//! The server loop (`server`) builds one and runs the background tasks over it; handlers depend
//! on this module, not on the loop.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use common::ids::{BrokerId, ProducerId};
use zookeeper_lite::protocol::BrokerInfo;

use crate::cluster::Cluster;
use crate::config::BrokerConfig;
use crate::group::{GroupConfig, Groups};
use crate::metrics::BrokerMetrics;
use crate::partitions::Partitions;
use crate::txn::{TxnConfig, TxnCoordinator};

pub struct Broker {
    pub config: BrokerConfig,
    pub cluster: Arc<Cluster>,
    pub partitions: Partitions,
    pub advertised: BrokerInfo,
    /// The consumer groups this broker coordinates.
    pub groups: Groups,
    /// The transactional ids this broker coordinates.
    pub txn: TxnCoordinator,
    /// Its Prometheus metrics (served on `metrics.http.listener`).
    pub metrics: Arc<BrokerMetrics>,
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
    fn new(broker_id: BrokerId) -> Self {
        let now_ms = common::time::now_ms();
        ProducerIdAllocator {
            next: AtomicI64::new(now_ms << 12),
            broker_id: i64::from(broker_id.get() & 0xff),
        }
    }

    fn allocate(&self) -> ProducerId {
        ProducerId((self.next.fetch_add(1, Ordering::Relaxed) << 8) | self.broker_id)
    }
}

impl Broker {
    /// A broker with no hosted partitions and no groups yet, for `config`, linked to the
    /// cluster through `cluster` and advertising `advertised` to clients.
    pub fn new(config: BrokerConfig, cluster: Arc<Cluster>, advertised: BrokerInfo) -> Broker {
        Broker {
            partitions: Partitions::new(config.clone(), cluster.clone()),
            producer_ids: ProducerIdAllocator::new(config.broker_id),
            groups: Groups::new(GroupConfig {
                initial_rebalance_delay_ms: config.group_initial_rebalance_delay_ms,
                min_session_timeout_ms: config.group_min_session_timeout_ms,
                max_session_timeout_ms: config.group_max_session_timeout_ms,
                offsets_retention_ms: config.offsets_retention_ms,
            }),
            txn: TxnCoordinator::new(
                TxnConfig {
                    broker_id: config.broker_id.get(),
                    max_timeout_ms: config.txn.max_timeout_ms,
                    transactional_id_expiration_ms: config.txn.transactional_id_expiration_ms,
                    num_partitions: config.txn.state_log_num_partitions,
                },
                cluster.clone(),
            ),
            metrics: Arc::new(BrokerMetrics::new()),
            config,
            cluster,
            advertised,
        }
    }

    /// The state the metrics' gauges show, read now (a scrape of `/metrics`): hosted
    /// partitions with their log sizes, groups, the zookeeper-lite session.
    pub fn metrics_state(&self) -> crate::metrics::BrokerState {
        let partitions = self
            .partitions
            .all()
            .into_iter()
            .map(|(tp, h)| {
                let (size_bytes, segments) = h.log.size_and_segments();
                let under_replicated = match &*h.replica.lock() {
                    crate::replica::Role::Leader(l) => {
                        l.replicas.iter().any(|r| !l.isr.contains(r))
                    }
                    _ => false,
                };
                crate::metrics::PartitionState {
                    topic: tp.topic,
                    partition: tp.partition,
                    size_bytes,
                    segments,
                    under_replicated,
                }
            })
            .collect();
        let md = self.cluster.metadata();
        let (session, session_expires, session_disconnects) = self.cluster.session_stats();
        crate::metrics::BrokerState {
            partitions,
            groups: self.groups.with(|c, _| c.list().len()),
            session,
            session_expires,
            session_disconnects,
            topics: Some(md.topics.keys().cloned().collect()),
        }
    }

    /// One pass of Kafka's `delete-expired-group-metadata` task over this broker's groups:
    /// expired offsets, Dead groups and offsets of deleted topics are removed and tombstoned.
    pub async fn cleanup_group_metadata(&self) {
        let md = self.cluster.metadata();
        self.groups
            .cleanup(|topic| md.topics.contains_key(topic))
            .await;
    }

    /// A producer id no producer of this cluster has had (InitProducerId without a
    /// transactional id).
    pub fn next_producer_id(&self) -> ProducerId {
        self.producer_ids.allocate()
    }

    /// The live broker chosen as "controller" for clients: admin requests go there. Every broker
    /// forwards them to zookeeper-lite, so any live broker will do; the lowest id is stable.
    pub fn controller_id(&self) -> BrokerId {
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
/// the handlers on it directly. The returned guard keeps zookeeper-lite and the directories.
#[cfg(test)]
pub(crate) async fn start_for_test() -> (Arc<Broker>, impl Sized) {
    start_for_test_with(|_| {}).await
}

/// [`start_for_test`] with settings changed by `adjust`.
#[cfg(test)]
pub(crate) async fn start_for_test_with(
    adjust: impl FnOnce(&mut BrokerConfig),
) -> (Arc<Broker>, impl Sized) {
    start_for_test_on(9092, adjust).await
}

#[cfg(test)]
async fn start_for_test_on(
    port: u16,
    adjust: impl FnOnce(&mut BrokerConfig),
) -> (Arc<Broker>, impl Sized) {
    struct Guard {
        _zk: zookeeper_lite::embedded::EmbeddedZooKeeper,
        _dir: tempfile::TempDir,
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let zk_dir = dir.path().join("zk");
    std::fs::create_dir_all(&zk_dir).expect("zk dir");
    let zk = zookeeper_lite::embedded::EmbeddedZooKeeper::start(&zk_dir)
        .await
        .expect("zookeeper-lite starts in process");
    let zk_addr = zk.addr();
    let mut config = BrokerConfig {
        log_dirs: vec![dir.path().join("logs")],
        zookeeper_connect: zk_addr.to_string(),
        zookeeper_session_timeout_ms: 60_000,
        offsets_topic_num_partitions: 3,
        ..BrokerConfig::default()
    };
    config.txn.state_log_num_partitions = 3;
    adjust(&mut config);
    let advertised = BrokerInfo {
        id: config.broker_id,
        host: "127.0.0.1".to_string(),
        port,
        rack: None,
    };
    let cluster = Cluster::connect(&config.zookeeper_connect, advertised.clone(), 60_000)
        .await
        .expect("connects to zookeeper-lite");
    cluster.register().await.expect("registers");
    let broker = Arc::new(Broker::new(config, cluster, advertised));
    broker.refresh_metadata().await.expect("metadata");
    // The group coordinator's partitions, created and loaded as the first FindCoordinator and
    // the group ticker would.
    crate::group::ensure_offsets_topic(&broker.cluster, &broker.partitions, &broker.config).await;
    load_groups_for_test(&broker).await;
    (broker, Guard { _zk: zk, _dir: dir })
}

/// Waits until every `__consumer_offsets` partition is loaded (the ticker's work in a running
/// broker).
#[cfg(test)]
pub(crate) async fn load_groups_for_test(broker: &Arc<Broker>) {
    let partitions = usize::try_from(broker.config.offsets_topic_num_partitions).unwrap_or(1);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while broker.groups.loaded_partitions().len() < partitions {
        assert!(
            std::time::Instant::now() < deadline,
            "the __consumer_offsets partitions did not load"
        );
        crate::group::sync_partitions(
            &broker.groups,
            &broker.partitions,
            &broker.cluster,
            &broker.config,
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// What a restart does to the group coordinator: every group forgotten, then loaded back from
/// `__consumer_offsets` (after the writes queued so far have landed).
#[cfg(test)]
pub(crate) async fn reload_groups_for_test(broker: &Arc<Broker>) {
    broker.groups.flush().await;
    broker
        .groups
        .sync_ownership(&std::collections::HashMap::new());
    load_groups_for_test(broker).await;
}
