//! `__consumer_offsets` as the group coordinator's storage: created on first use (Kafka's
//! `AutoTopicCreationManager` for the internal topic), loaded when this broker becomes leader
//! of one of its partitions and unloaded when it stops (Kafka's `onElection` /
//! `onResignation`), written through one writer task per partition that appends in order and
//! groups what is queued into one batch (one fsync for many commits).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use tokio::sync::mpsc;
use zookeeper_lite::protocol::NewTopic;

use super::records::{encode_offset_value, offset_key, OffsetValue};
use super::Groups;
use super::{offsets_partition_count, partition_for, read_partition, WriteJob};
use crate::cluster::Cluster;
use crate::config::BrokerConfig;
use crate::partitions::{HostedPartition, Partitions};
use common::errors::ErrorCode;
use common::ids::LeaderEpoch;
use common::topic::GROUP_METADATA_TOPIC_NAME;

/// At most this many bytes of queued writes go into one batch (well under the topic's
/// `max.message.bytes`); a single larger write goes alone.
const MAX_GROUPED_BYTES: usize = 512 * 1024;

/// Creates `__consumer_offsets` if it does not exist: `offsets.topic.num.partitions`
/// partitions, `offsets.topic.replication.factor` replicas (lowered, with a warning, to the
/// live broker count), `cleanup.policy=compact`, `compression.type=producer` and
/// `segment.bytes=offsets.topic.segment.bytes`, as Kafka 3.9 creates it. An existing topic
/// (another broker created it first) is fine.
pub async fn ensure_offsets_topic(
    cluster: &Cluster,
    partitions: &Partitions,
    config: &BrokerConfig,
) {
    let md = cluster.metadata();
    if md.topics.contains_key(GROUP_METADATA_TOPIC_NAME) {
        return;
    }
    let live = i16::try_from(md.brokers.len()).unwrap_or(i16::MAX).max(1);
    let wanted = config.offsets_topic_replication_factor;
    let replication_factor = wanted.min(live);
    if replication_factor < wanted {
        tracing::warn!(
            "creating {GROUP_METADATA_TOPIC_NAME} with replication factor {replication_factor}, \
             lower than offsets.topic.replication.factor={wanted}: only {live} broker(s) are \
             alive"
        );
    }
    let configs: BTreeMap<String, String> = [
        ("cleanup.policy", "compact".to_string()),
        ("compression.type", "producer".to_string()),
        (
            "segment.bytes",
            config.offsets_topic_segment_bytes.to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    create_internal_topic(
        cluster,
        partitions,
        config,
        GROUP_METADATA_TOPIC_NAME,
        config.offsets_topic_num_partitions,
        replication_factor,
        configs,
    )
    .await;
}

/// Creates internal topic `name` (`__consumer_offsets`, `__transaction_state`) with these
/// partitions, replication factor and topic configs, then syncs the partitions this broker
/// hosts with the new metadata. An existing topic (another broker created it first) is fine;
/// other failures are logged and the next request tries again.
pub async fn create_internal_topic(
    cluster: &Cluster,
    partitions: &Partitions,
    config: &BrokerConfig,
    name: &str,
    num_partitions: i32,
    replication_factor: i16,
    configs: BTreeMap<String, String>,
) {
    let topic = NewTopic {
        name: name.to_string(),
        num_partitions,
        replication_factor,
        replica_assignment: None,
        configs,
        validate_only: false,
    };
    match cluster.create_topic(topic).await {
        Ok(_) => {
            tracing::info!(
                "Created {name} with {num_partitions} partitions and replication factor \
                 {replication_factor}"
            );
            match cluster.refresh().await {
                Ok(md) => partitions.sync_with(&md, config.broker_id).await,
                Err(e) => tracing::warn!("refreshing metadata after creating {name}: {e}"),
            }
        }
        Err(e) if e.code == ErrorCode::TopicAlreadyExists => {}
        Err(e) => tracing::warn!("creating {name} failed: {e}"),
    }
}

/// Loads the `__consumer_offsets` partitions this broker now leads and unloads those it no
/// longer leads (run on every group tick; cheap when nothing changed).
pub fn sync_partitions(
    groups: &Groups,
    partitions: &Partitions,
    cluster: &Arc<Cluster>,
    config: &BrokerConfig,
) {
    let md = cluster.metadata();
    let count = offsets_partition_count(&md, config.offsets_topic_num_partitions);
    groups.set_partition_count(count);
    let mut leading: HashMap<i32, i32> = HashMap::new();
    let mut hosted: HashMap<i32, Arc<HostedPartition>> = HashMap::new();
    for (tp, h) in partitions.all() {
        if tp.topic != GROUP_METADATA_TOPIC_NAME {
            continue;
        }
        if let Some(epoch) = h.replica.leader_epoch() {
            if epoch == h.leader_epoch {
                leading.insert(tp.partition, epoch.get());
                hosted.insert(tp.partition, h);
            }
        }
    }
    for (p, epoch) in groups.sync_ownership(&leading) {
        let Some(h) = hosted.remove(&p) else {
            continue;
        };
        let loader = Loader {
            groups: groups.clone(),
            cluster: cluster.clone(),
            buffer_bytes: config.offsets_load_buffer_size,
            commit_timeout: Duration::from_millis(config.offsets_commit_timeout_ms),
        };
        tokio::spawn(async move { loader.load(p, epoch, h).await });
    }
}

/// What a load of one partition needs, moved into its task.
struct Loader {
    groups: Groups,
    cluster: Arc<Cluster>,
    buffer_bytes: usize,
    commit_timeout: Duration,
}

impl Loader {
    /// Reads partition `p` back (Kafka's `loadGroupsAndOffsets`), migrating the offsets
    /// zookeeper-lite kept for its groups when the partition is new, then serves it.
    async fn load(self, p: i32, epoch: i32, hosted: Arc<HostedPartition>) {
        let started = std::time::Instant::now();
        tracing::info!("[GroupMetadataManager] Loading group metadata of {GROUP_METADATA_TOPIC_NAME}-{p} (leader epoch {epoch})");
        let log = hosted.log.clone();
        let buffer = self.buffer_bytes;
        let read = tokio::task::spawn_blocking(move || read_partition(&log, buffer)).await;
        let mut loaded = match read {
            Ok(Ok(loaded)) => loaded,
            Ok(Err(e)) => {
                tracing::error!("loading {GROUP_METADATA_TOPIC_NAME}-{p} failed: {e}");
                self.groups.abort_load(p, epoch);
                return;
            }
            Err(e) => {
                tracing::error!("loading {GROUP_METADATA_TOPIC_NAME}-{p} failed: {e}");
                self.groups.abort_load(p, epoch);
                return;
            }
        };
        let timeout = self.commit_timeout;
        let writer = spawn_writer(hosted.clone(), LeaderEpoch(epoch), timeout);
        if loaded.end_offset == 0 {
            if let Err(e) = self
                .migrate_from_zookeeper_lite(p, &writer, &mut loaded)
                .await
            {
                tracing::warn!(
                    "{GROUP_METADATA_TOPIC_NAME}-{p}: migrating offsets from zookeeper-lite failed \
                     ({e}); retrying at the next load"
                );
                self.groups.abort_load(p, epoch);
                return;
            }
        }
        let groups = loaded.group_ids().len();
        if self.groups.finish_load(p, epoch, writer, loaded) {
            tracing::info!(
                "[GroupMetadataManager] Finished loading offsets and group metadata from \
                 {GROUP_METADATA_TOPIC_NAME}-{p} in {} milliseconds ({groups} groups)",
                started.elapsed().as_millis()
            );
        }
    }

    /// Before this broker kept groups in `__consumer_offsets`, zookeeper-lite held every group's
    /// committed offsets. When partition `p` is new (empty), the offsets zookeeper-lite holds for
    /// the groups placed in it are written into it once, with their commit timestamps, and cached.
    /// zookeeper-lite keeps its copy (OffsetCommit/OffsetFetch v0 use it, as Kafka 3.9 keeps v0
    /// offsets in ZooKeeper); a later load finds the partition non-empty and does not migrate again.
    async fn migrate_from_zookeeper_lite(
        &self,
        p: i32,
        writer: &mpsc::UnboundedSender<WriteJob>,
        loaded: &mut super::LoadedPartition,
    ) -> Result<(), String> {
        let count = self.groups.partition_count();
        let groups = self
            .cluster
            .list_offset_groups()
            .await
            .map_err(|e| e.to_string())?;
        let mut records = Vec::new();
        let mut entries: Vec<(String, (String, i32), OffsetValue)> = Vec::new();
        for group in groups.into_iter().filter(|g| partition_for(g, count) == p) {
            let offsets = self
                .cluster
                .fetch_offsets(&group, None)
                .await
                .map_err(|e| e.to_string())?;
            for o in offsets {
                let value = OffsetValue {
                    offset: o.offset,
                    leader_epoch: o.leader_epoch.get(),
                    metadata: o.metadata.unwrap_or_default(),
                    commit_timestamp: o.commit_timestamp_ms,
                    expire_timestamp: None,
                };
                records.push((
                    offset_key(&group, &o.topic, o.partition),
                    Some(encode_offset_value(&value)),
                ));
                entries.push((group.clone(), (o.topic, o.partition), value));
            }
        }
        if records.is_empty() {
            return Ok(());
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        writer
            .send(WriteJob {
                records,
                producer: None,
                done: tx,
            })
            .map_err(|_| "the partition writer stopped".to_string())?;
        let base = rx
            .await
            .map_err(|_| "the partition writer stopped".to_string())?
            .map_err(|code| format!("error {code}"))?;
        let migrated = entries.len();
        for (i, (group, tp, value)) in entries.into_iter().enumerate() {
            loaded.offsets.entry(group).or_default().insert(
                tp,
                super::CommittedOffset {
                    value,
                    log_offset: base + i64::try_from(i).unwrap_or(0),
                },
            );
        }
        tracing::info!(
            "{GROUP_METADATA_TOPIC_NAME}-{p}: migrated {migrated} committed offsets from zookeeper-lite"
        );
        Ok(())
    }
}

/// The writer of one partition at one leader epoch: appends queued jobs in order, each batch
/// holding everything queued meanwhile (up to [`MAX_GROUPED_BYTES`]), and answers each job once
/// the high watermark passes its records (`offsets.commit.timeout.ms` at most). It stops when
/// the last sender is dropped (the partition was unloaded).
pub fn spawn_writer(
    hosted: Arc<HostedPartition>,
    epoch: LeaderEpoch,
    timeout: Duration,
) -> mpsc::UnboundedSender<WriteJob> {
    let (tx, mut rx) = mpsc::unbounded_channel::<WriteJob>();
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut size = job_bytes(&first);
            let mut jobs = vec![first];
            while size < MAX_GROUPED_BYTES {
                match rx.try_recv() {
                    Ok(job) => {
                        size += job_bytes(&job);
                        jobs.push(job);
                    }
                    Err(_) => break,
                }
            }
            write(&hosted, epoch, jobs, timeout).await;
        }
    });
    tx
}

fn job_bytes(job: &WriteJob) -> usize {
    job.records
        .iter()
        .map(|(k, v)| k.len() + v.as_ref().map_or(0, Bytes::len) + 16)
        .sum()
}

fn fail(jobs: Vec<WriteJob>, code: i16) {
    for job in jobs {
        let _ = job.done.send(Err(code));
    }
}

/// One uncompressed batch of `records`, stamped `now_ms` (offsets are assigned by the append).
/// With `producer`, one transactional batch of that producer id and epoch whose base sequence
/// is -1 (a TxnOffsetCommit's records, waiting for the producer's transaction marker).
fn batch(
    records: &[(Bytes, Option<Bytes>)],
    now_ms: i64,
    producer: Option<(i64, i16)>,
) -> Result<BytesMut, String> {
    let (producer_id, producer_epoch) = producer.unwrap_or((-1, -1));
    let records: Vec<Record> = records
        .iter()
        .enumerate()
        .map(|(i, (key, value))| Record {
            transactional: producer.is_some(),
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id,
            producer_epoch,
            timestamp_type: TimestampType::Creation,
            offset: i64::try_from(i).unwrap_or(0),
            // The encoder keeps records in one batch while offset - sequence stays the same,
            // and takes the first record's sequence as the batch's base sequence.
            sequence: if producer.is_some() {
                i32::try_from(i).unwrap_or(0) - 1
            } else {
                -1
            },
            timestamp: now_ms,
            key: Some(key.clone()),
            value: value.clone(),
            headers: Default::default(),
        })
        .collect();
    let mut out = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut out,
        records.iter(),
        &RecordEncodeOptions {
            version: 2,
            compression: Compression::None,
        },
    )
    .map_err(|e| e.to_string())?;
    Ok(out)
}

async fn write(
    hosted: &Arc<HostedPartition>,
    epoch: LeaderEpoch,
    jobs: Vec<WriteJob>,
    timeout: Duration,
) {
    // Empty jobs are barriers: answered once everything queued before them is appended.
    let (barriers, jobs): (Vec<WriteJob>, Vec<WriteJob>) =
        jobs.into_iter().partition(|j| j.records.is_empty());
    // A transactional write is a batch of its own; the others are grouped, in order.
    let mut run: Vec<WriteJob> = Vec::new();
    for job in jobs {
        if job.producer.is_some() {
            if !run.is_empty() {
                append_jobs(hosted, epoch, std::mem::take(&mut run), timeout).await;
            }
            append_jobs(hosted, epoch, vec![job], timeout).await;
        } else {
            run.push(job);
        }
    }
    if !run.is_empty() {
        append_jobs(hosted, epoch, run, timeout).await;
    }
    for b in barriers {
        let _ = b.done.send(Ok(-1));
    }
}

async fn append_jobs(
    hosted: &Arc<HostedPartition>,
    epoch: LeaderEpoch,
    jobs: Vec<WriteJob>,
    timeout: Duration,
) {
    if hosted.replica.leader_epoch() != Some(epoch) {
        return fail(jobs, ErrorCode::NotLeaderOrFollower.code());
    }
    let isr = hosted.replica.isr().unwrap_or_default();
    if isr.len() < hosted.log_config.min_insync_replicas {
        return fail(jobs, ErrorCode::NotEnoughReplicas.code());
    }
    let records: Vec<(Bytes, Option<Bytes>)> = jobs
        .iter()
        .flat_map(|j| j.records.iter().cloned())
        .collect();
    // Only a transactional job (always alone) carries a producer.
    let producer = match jobs.as_slice() {
        [one] => one.producer,
        _ => None,
    };
    let payload = match batch(&records, common::time::now_ms(), producer) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!("encoding a batch for the group coordinator failed: {e}");
            return fail(jobs, ErrorCode::UnknownServerError.code());
        }
    };
    match hosted.log.append_as_coordinator(payload, epoch.get()).await {
        Ok(info) => {
            let required = info.last_offset.saturating_add(1);
            let deadline = tokio::time::Instant::now() + timeout;
            let hosted = hosted.clone();
            // The next batch is appended while this one waits for the followers.
            tokio::spawn(async move {
                let code = hosted.wait_for_isr(required, deadline).await;
                let mut base = info.base_offset;
                for job in jobs {
                    let n = i64::try_from(job.records.len()).unwrap_or(0);
                    let _ = job.done.send(if code == ErrorCode::None {
                        Ok(base)
                    } else {
                        Err(code.code())
                    });
                    base = base.saturating_add(n);
                }
            });
        }
        Err(e) if jobs.len() > 1 && e.kafka_error_code() == ErrorCode::MessageTooLarge.code() => {
            // Grouped, the batch is too large: each job on its own.
            for job in jobs {
                Box::pin(append_jobs(hosted, epoch, vec![job], timeout)).await;
            }
        }
        Err(e) => {
            tracing::warn!("appending to the group coordinator's partition failed: {e}");
            fail(jobs, e.kafka_error_code());
        }
    }
}
