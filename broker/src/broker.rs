//! The broker's shared state, what every handler is given: its config, its link to the cluster,
//! the partitions it hosts, the consumer groups it coordinates and its producer-id allocator.
//! The server loop (`server`) builds one and runs the background tasks over it; handlers depend
//! on this module, not on the loop.

use std::sync::Arc;

use common::errors::ErrorCode;
use common::ids::{BrokerId, ProducerId};
use zookeeper_lite::protocol::{BrokerInfo, PRODUCER_ID_BLOCK_SIZE};

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
    producer_ids: ProducerIdManager,
}

/// Producer ids for InitProducerId, from blocks that zookeeper-lite hands out and journals
/// (Kafka's `RPCProducerIdManager` over AllocateProducerIds): no id is ever given twice, by any
/// broker, whatever the clocks do. The next block is fetched ahead once nine tenths of the
/// current one are used, so InitProducerId seldom waits for zookeeper-lite.
#[derive(Default)]
struct ProducerIdManager {
    blocks: std::sync::Mutex<ProducerIdBlocks>,
    /// Held while a block is fetched: one request to zookeeper-lite at a time.
    fetching: tokio::sync::Mutex<()>,
    /// A background fetch is on its way (at most one is started at a time).
    prefetching: std::sync::atomic::AtomicBool,
}

/// How long InitProducerId waits for a block before answering COORDINATOR_LOAD_IN_PROGRESS
/// (the fetch goes on; the client's retry finds its ids).
const PRODUCER_ID_BLOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The block ids are taken from, and the one fetched ahead of need.
#[derive(Default, Debug)]
struct ProducerIdBlocks {
    current: std::ops::Range<i64>,
    next: Option<std::ops::Range<i64>>,
}

impl ProducerIdBlocks {
    fn take(&mut self) -> Option<i64> {
        if self.current.is_empty() {
            if let Some(next) = self.next.take() {
                self.current = next;
            }
        }
        self.current.next()
    }

    /// Whether a block should be fetched: none is waiting and under a tenth of one is left
    /// (Kafka's `RPCProducerIdManager` prefetches at 90%).
    fn needs_block(&self) -> bool {
        let left = self.current.end.saturating_sub(self.current.start);
        self.next.is_none() && left < i64::from(PRODUCER_ID_BLOCK_SIZE) / 10
    }

    fn add(&mut self, block: std::ops::Range<i64>) {
        if self.current.is_empty() {
            self.current = block;
        } else {
            self.next = Some(block);
        }
    }
}

impl ProducerIdManager {
    fn blocks(&self) -> std::sync::MutexGuard<'_, ProducerIdBlocks> {
        self.blocks.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Broker {
    /// A broker with no hosted partitions and no groups yet, for `config`, linked to the
    /// cluster through `cluster` and advertising `advertised` to clients.
    pub fn new(config: BrokerConfig, cluster: Arc<Cluster>, advertised: BrokerInfo) -> Broker {
        Broker {
            partitions: Partitions::new(config.clone(), cluster.clone()),
            producer_ids: ProducerIdManager::default(),
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

    /// A producer id no producer of this cluster has had (InitProducerId). Waits (at most
    /// [`PRODUCER_ID_BLOCK_WAIT`]) for a block from zookeeper-lite when none is left; `Err`
    /// (Kafka's COORDINATOR_LOAD_IN_PROGRESS, which clients retry, as `RPCProducerIdManager`
    /// answers) when none came.
    pub async fn next_producer_id(self: &Arc<Self>) -> Result<ProducerId, ErrorCode> {
        if let Some(id) = self.try_next_producer_id() {
            return Ok(id);
        }
        self.wait_for_producer_ids().await;
        self.try_next_producer_id()
            .ok_or(ErrorCode::CoordinatorLoadInProgress)
    }

    /// A producer id from the blocks this broker holds, without waiting (`None` when they are
    /// used up). Starts fetching the next block in the background, once, when a tenth of one
    /// is left.
    pub fn try_next_producer_id(self: &Arc<Self>) -> Option<ProducerId> {
        let (id, low) = {
            let mut blocks = self.producer_ids.blocks();
            (blocks.take(), blocks.needs_block())
        };
        if low
            && !self
                .producer_ids
                .prefetching
                .swap(true, std::sync::atomic::Ordering::AcqRel)
        {
            let broker = Arc::clone(self);
            tokio::spawn(async move {
                let _ = broker.fetch_producer_ids().await;
                broker
                    .producer_ids
                    .prefetching
                    .store(false, std::sync::atomic::Ordering::Release);
            });
        }
        id.map(ProducerId)
    }

    /// Fetches a block if one is needed, waiting at most [`PRODUCER_ID_BLOCK_WAIT`] (the fetch
    /// goes on in the background past that); returns whether ids are at hand now.
    pub async fn wait_for_producer_ids(self: &Arc<Self>) -> bool {
        let broker = Arc::clone(self);
        let fetch = tokio::spawn(async move { broker.fetch_producer_ids().await });
        let _ = tokio::time::timeout(PRODUCER_ID_BLOCK_WAIT, fetch).await;
        let blocks = self.producer_ids.blocks();
        !blocks.current.is_empty() || blocks.next.is_some()
    }

    /// Fetches a block of producer ids unless one is no longer needed (another task fetched it
    /// meanwhile). A failure is logged and answered COORDINATOR_LOAD_IN_PROGRESS.
    async fn fetch_producer_ids(&self) -> Result<(), ErrorCode> {
        let _one_at_a_time = self.producer_ids.fetching.lock().await;
        if !self.producer_ids.blocks().needs_block() {
            return Ok(());
        }
        match self.cluster.allocate_producer_ids().await {
            Ok((first, count)) => {
                let end = first.saturating_add(i64::from(count));
                tracing::info!("producer ids {first} to {} are this broker's", end - 1);
                self.producer_ids.blocks().add(first..end);
                Ok(())
            }
            Err(e) => {
                tracing::warn!(
                    "no producer id block from zookeeper-lite: {} ({:?})",
                    e.message,
                    e.code
                );
                Err(ErrorCode::CoordinatorLoadInProgress)
            }
        }
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod producer_id_tests {
    use std::collections::BTreeSet;
    use std::time::{Duration, Instant};

    use super::*;

    /// A broker with id `id` registered with the zookeeper-lite at `zk`.
    async fn broker_on(zk: std::net::SocketAddr, id: i32, dir: &std::path::Path) -> Arc<Broker> {
        let config = BrokerConfig {
            broker_id: BrokerId(id),
            log_dirs: vec![dir.join(format!("logs-{id}"))],
            zookeeper_connect: zk.to_string(),
            zookeeper_session_timeout_ms: 60_000,
            ..BrokerConfig::default()
        };
        let advertised = BrokerInfo {
            id: config.broker_id,
            host: "127.0.0.1".to_string(),
            port: 9092 + u16::try_from(id).unwrap(),
            rack: None,
        };
        let cluster = Cluster::connect(&config.zookeeper_connect, advertised.clone(), 60_000)
            .await
            .unwrap();
        cluster.register().await.unwrap();
        Arc::new(Broker::new(config, cluster, advertised))
    }

    /// Two brokers take producer ids from blocks zookeeper-lite hands out: none is given twice,
    /// each block is 1000 ids, the next one is fetched ahead while a tenth of the current one
    /// is left, and a broker restarted (a new `Broker`, its blocks forgotten) gets a new block,
    /// not its old ids again.
    #[tokio::test]
    async fn producer_ids_come_in_blocks_that_never_repeat() {
        let dir = tempfile::tempdir().unwrap();
        let zk = zookeeper_lite::embedded::EmbeddedZooKeeper::start(&dir.path().join("zk"))
            .await
            .unwrap();
        let b0 = broker_on(zk.addr(), 0, dir.path()).await;
        let b1 = broker_on(zk.addr(), 1, dir.path()).await;
        let mut seen = BTreeSet::new();
        let mut take = |_: &Arc<Broker>, id: i64| assert!(seen.insert(id), "{id} given twice");
        for _ in 0..901 {
            let id = b0.next_producer_id().await.unwrap().get();
            take(&b0, id);
            let id = b1.next_producer_id().await.unwrap().get();
            take(&b1, id);
        }
        // 99 ids left in each broker's first block: the next one is on its way.
        let deadline = Instant::now() + Duration::from_secs(20);
        while b0.producer_ids.blocks().next.is_none() || b1.producer_ids.blocks().next.is_none() {
            assert!(Instant::now() < deadline, "no block fetched ahead");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        for _ in 0..1200 {
            let id = b0.next_producer_id().await.unwrap().get();
            take(&b0, id);
        }
        b0.cluster.unregister().await;
        let b0_again = broker_on(zk.addr(), 0, dir.path()).await;
        for _ in 0..10 {
            let id = b0_again.next_producer_id().await.unwrap().get();
            take(&b0_again, id);
        }
        assert_eq!(seen.len(), 2 * 901 + 1200 + 10);
        // Blocks of 1000 from 0: b0 and b1 took two each (four up to 3999), b0 a third (to
        // 4999) once its second ran low; the restarted broker's block is the next one.
        assert_eq!(*seen.first().unwrap(), 0);
        assert!(*seen.last().unwrap() < 6000, "{:?}", seen.last());
        let restarted = b0_again.try_next_producer_id().unwrap().get();
        assert!(restarted >= 5000, "{restarted}");
    }
}
