//! The partitions this broker hosts: one `DurableLog` per `<topic>-<partition>` directory, opened
//! when the cluster metadata assigns the partition to us and removed when its topic is deleted.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use common::errors::ErrorCode;
use common::ids::{BrokerId, LeaderEpoch};
use common::topic_partition::TopicPartition;
use uuid::Uuid;
use zookeeper_lite::protocol::{ClusterMetadata, PartitionInfo, TopicInfo};

use crate::cluster::Cluster;
use crate::config::BrokerConfig;
use crate::log::{DurableLog, LogConfig, LogError};
use crate::replica::fetcher::{FetcherConfig, ReplicaFetchers};
use crate::replica::{Replica, Role};
use crate::topic_config::{effective_broker_config, topic_log_config};

/// A hosted partition: its log plus what the metadata says about it.
pub struct HostedPartition {
    pub log: Arc<DurableLog>,
    pub topic_id: Uuid,
    pub leader_epoch: LeaderEpoch,
    /// The settings the log was last given: the topic's overrides over the broker's effective
    /// (static + dynamic) configuration. Re-derived on every metadata change.
    pub log_config: LogConfig,
    /// Leader or follower, and what a leader knows of its followers; shared by every version
    /// of this partition's `HostedPartition`.
    pub replica: Arc<Replica>,
}

impl HostedPartition {
    /// Kafka's delayed produce for acks=all (`Partition.checkEnoughReplicasReachOffset`): waits
    /// until the high watermark reaches `required` (every in-sync replica has the records, durably
    /// with our default flush policy). Then NONE, or NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR
    /// fell below `min.insync.replicas` meanwhile; NOT_LEADER_OR_FOLLOWER if the leadership is
    /// lost first; REQUEST_TIMED_OUT at `deadline` (the request's `timeout_ms`).
    pub async fn wait_for_isr(&self, required: i64, deadline: tokio::time::Instant) -> ErrorCode {
        let hosted = self;
        let epoch = hosted.leader_epoch;
        let mut hw = hosted.log.subscribe_high_watermark();
        let mut role = hosted.replica.subscribe();
        loop {
            if hosted.replica.leader_epoch() != Some(epoch) {
                return ErrorCode::NotLeaderOrFollower;
            }
            if *hw.borrow_and_update() >= required {
                let isr = hosted.replica.isr().unwrap_or_default();
                return if isr.len() < hosted.log_config.min_insync_replicas {
                    ErrorCode::NotEnoughReplicasAfterAppend
                } else {
                    ErrorCode::None
                };
            }
            tokio::select! {
                r = hw.changed() => if r.is_err() { return ErrorCode::NotLeaderOrFollower; },
                r = role.changed() => if r.is_err() { return ErrorCode::NotLeaderOrFollower; },
                _ = tokio::time::sleep_until(deadline) => return ErrorCode::RequestTimedOut,
            }
        }
    }
}

pub struct Partitions {
    config: BrokerConfig,
    /// The replica fetchers of the partitions this broker follows.
    pub fetchers: ReplicaFetchers,
    hosted: Mutex<HashMap<TopicPartition, Arc<HostedPartition>>>,
    /// Serialises `sync_with` (two concurrent syncs would open the same directory twice) and
    /// remembers the metadata version last applied, so an older view never undoes a newer one.
    syncing: tokio::sync::Mutex<u64>,
}

/// File in each partition directory recording the topic id it belongs to, so that a directory left
/// over from a deleted topic is never served as part of a new topic with the same name.
const PARTITION_METADATA: &str = "partition.metadata";

impl Partitions {
    pub fn new(config: BrokerConfig, cluster: Arc<Cluster>) -> Self {
        let fetcher_config = FetcherConfig {
            broker_id: config.broker_id,
            wait_max_ms: config.replica_fetch_wait_max_ms,
            min_bytes: config.replica_fetch_min_bytes,
            partition_max_bytes: config.replica_fetch_max_bytes,
            response_max_bytes: config.replica_fetch_response_max_bytes,
            backoff: std::time::Duration::from_millis(config.replica_fetch_backoff_ms),
            socket_timeout: std::time::Duration::from_millis(config.replica_socket_timeout_ms),
        };
        Partitions {
            fetchers: ReplicaFetchers::new(fetcher_config, cluster),
            config,
            hosted: Mutex::new(HashMap::new()),
            syncing: tokio::sync::Mutex::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TopicPartition, Arc<HostedPartition>>> {
        match self.hosted.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    pub fn get(&self, topic: &str, partition: i32) -> Option<Arc<HostedPartition>> {
        self.lock()
            .get(&TopicPartition {
                topic: topic.to_string(),
                partition,
            })
            .cloned()
    }

    fn dir_for(&self, tp: &TopicPartition) -> PathBuf {
        // One data directory for now; several log.dirs would spread partitions across them.
        self.config.log_dirs[0].join(tp.to_string())
    }

    /// Brings the hosted set in line with the metadata: opens logs of partitions whose replicas
    /// include us, closes and deletes those of topics that are gone.
    pub async fn sync_with(&self, md: &ClusterMetadata, me: BrokerId) {
        let mut applied = self.syncing.lock().await;
        if md.version < *applied {
            return;
        }
        *applied = md.version;
        // Dynamic broker configs and topic overrides both arrive with the metadata; each
        // partition's log is given the settings they make now, without a restart.
        let effective = effective_broker_config(&self.config, md);
        let mut wanted: Vec<(TopicInfo, PartitionInfo)> = Vec::new();
        for topic in md.topics.values() {
            for p in &topic.partitions {
                if p.replicas.contains(&me) {
                    wanted.push((topic.clone(), p.clone()));
                }
            }
        }
        // Drop partitions no longer assigned here (deleted topics, or recreated with a new id).
        let removed: Vec<(TopicPartition, Arc<HostedPartition>)> = {
            let mut hosted = self.lock();
            let keep: std::collections::HashSet<(String, i32, Uuid)> = wanted
                .iter()
                .map(|(t, p)| (t.name.clone(), p.partition, t.id))
                .collect();
            let gone: Vec<TopicPartition> = hosted
                .iter()
                .filter(|(tp, h)| !keep.contains(&(tp.topic.clone(), tp.partition, h.topic_id)))
                .map(|(tp, _)| tp.clone())
                .collect();
            gone.into_iter()
                .filter_map(|tp| hosted.remove(&tp).map(|h| (tp, h)))
                .collect()
        };
        for (tp, h) in removed {
            self.fetchers.stop(&tp);
            let dir = self.dir_for(&tp);
            h.log.close().await;
            tracing::info!("deleting log of {tp} ({})", dir.display());
            if let Err(e) = tokio::fs::remove_dir_all(&dir).await {
                tracing::warn!("could not delete {}: {e}", dir.display());
            }
        }
        for (topic, info) in wanted {
            let partition = info.partition;
            let epoch = info.leader_epoch;
            let tp = TopicPartition {
                topic: topic.name.clone(),
                partition,
            };
            if let Some(h) = self.get(&tp.topic, partition) {
                let log_config = topic_log_config(&effective, &topic.configs);
                let config_changed = h.log_config != log_config;
                if config_changed {
                    if let Err(e) = h.log.set_config(log_config.clone()) {
                        tracing::error!("cannot apply the changed configs of {tp}: {e}");
                        continue;
                    }
                    tracing::info!("{tp}: log configs changed to {log_config:?}");
                }
                if h.leader_epoch != epoch || config_changed {
                    let updated = Arc::new(HostedPartition {
                        log: h.log.clone(),
                        topic_id: h.topic_id,
                        leader_epoch: epoch,
                        log_config,
                        replica: h.replica.clone(),
                    });
                    self.lock().insert(tp.clone(), updated);
                }
                self.take_role(&tp, &info, &h, me);
                continue;
            }
            match self.open(&tp, &topic, epoch, &effective).await {
                Ok(h) => {
                    let h = Arc::new(h);
                    self.lock().insert(tp.clone(), h.clone());
                    self.take_role(&tp, &info, &h, me);
                }
                Err(e) => tracing::error!("cannot open the log of {tp}: {e}"),
            }
        }
    }

    /// Applies the metadata's leader and ISR of `tp` to its replica state and fetchers.
    fn take_role(
        &self,
        tp: &TopicPartition,
        info: &PartitionInfo,
        h: &HostedPartition,
        me: BrokerId,
    ) {
        match h.replica.apply_metadata(info, me, &h.log) {
            Role::Follower {
                leader,
                leader_epoch,
            } => self
                .fetchers
                .follow(tp, leader, leader_epoch, h.log.clone()),
            Role::Leader(_) | Role::Offline => self.fetchers.stop(tp),
        }
    }

    async fn open(
        &self,
        tp: &TopicPartition,
        topic: &TopicInfo,
        leader_epoch: LeaderEpoch,
        effective: &BrokerConfig,
    ) -> Result<HostedPartition, LogError> {
        let dir = self.dir_for(tp);
        let log_config = topic_log_config(effective, &topic.configs);
        let opened_with = log_config.clone();
        let id = topic.id;
        let tp_name = tp.to_string();
        let log = tokio::task::spawn_blocking(move || -> Result<DurableLog, LogError> {
            claim_dir(&dir, id, &tp_name)?;
            DurableLog::open(&dir, log_config)
        })
        .await
        .map_err(|e| LogError::Io(std::io::Error::other(e.to_string())))??;
        Ok(HostedPartition {
            log: Arc::new(log),
            topic_id: topic.id,
            leader_epoch,
            log_config: opened_with,
            replica: Arc::new(Replica::default()),
        })
    }

    pub fn all(&self) -> Vec<(TopicPartition, Arc<HostedPartition>)> {
        self.lock()
            .iter()
            .map(|(tp, h)| (tp.clone(), h.clone()))
            .collect()
    }

    /// Flushes and checkpoints every log (clean shutdown), after stopping replication.
    pub async fn close_all(&self) {
        self.fetchers.stop_all();
        for (_, h) in self.all() {
            h.log.close().await;
        }
    }
}

/// Makes sure `dir` belongs to topic `id`: a directory of another incarnation of the topic (deleted
/// while this broker was down, or from a coordinator that lost its data) is set aside, never
/// served as the new topic's data and never silently destroyed.
fn claim_dir(dir: &Path, id: Uuid, tp: &str) -> Result<(), LogError> {
    let marker = dir.join(PARTITION_METADATA);
    let expected = format!("version: 0\ntopic_id: {id}\n");
    match std::fs::read_to_string(&marker) {
        Ok(text) if text == expected => return Ok(()),
        Ok(text) => {
            let mut aside = dir.as_os_str().to_owned();
            aside.push(format!(".{}.stray", Uuid::new_v4().simple()));
            let aside = PathBuf::from(aside);
            tracing::warn!(
                "{} belongs to another incarnation of {tp} ({}); moved aside to {}",
                dir.display(),
                text.trim().replace('\n', ", "),
                aside.display()
            );
            std::fs::rename(dir, &aside)?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("{PARTITION_METADATA}.tmp"));
    std::fs::write(&tmp, expected)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, &marker)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}
