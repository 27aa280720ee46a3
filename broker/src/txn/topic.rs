//! `__transaction_state` as the transaction coordinator's storage: created on first use (the
//! first FindCoordinator for a transactional id), loaded when this broker becomes leader of one
//! of its partitions and forgotten when it stops (Kafka's `onElection` / `onResignation` of the
//! `TransactionCoordinator`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use common::ids::LeaderEpoch;

use super::coordinator::{Loaded, Outcome, Owned, TxnMetadata};
use super::records::{decode_key, decode_value};
use super::{TxnCoordinator, TxnState};
use crate::cluster::Cluster;
use crate::config::BrokerConfig;
use crate::partitions::{HostedPartition, Partitions};

/// The internal topic's name (Kafka's `Topic.TRANSACTION_STATE_TOPIC_NAME`).
pub const TRANSACTION_STATE_TOPIC_NAME: &str = "__transaction_state";

/// How long an append to `__transaction_state` waits for the ISR before failing, ms.
const WRITER_TIMEOUT: Duration = Duration::from_secs(30);

/// Creates `__transaction_state` if it does not exist, as Kafka 3.9 creates it:
/// `transaction.state.log.num.partitions` partitions, `transaction.state.log.replication.factor`
/// replicas, `cleanup.policy=compact`, `compression.type=uncompressed`,
/// `min.insync.replicas=transaction.state.log.min.isr`, `segment.bytes` from
/// `transaction.state.log.segment.bytes`, `unclean.leader.election.enable=false`. With fewer
/// live brokers than the replication factor, it is lowered to their count (and
/// `min.insync.replicas` with it), with a warning, as for `__consumer_offsets`.
pub async fn ensure_transaction_topic(
    cluster: &Cluster,
    partitions: &Partitions,
    config: &BrokerConfig,
) {
    let md = cluster.metadata();
    if md.topics.contains_key(TRANSACTION_STATE_TOPIC_NAME) {
        return;
    }
    let txn = &config.txn;
    let live = i16::try_from(md.brokers.len()).unwrap_or(i16::MAX).max(1);
    let wanted = txn.state_log_replication_factor;
    let replication_factor = wanted.min(live);
    let min_isr = txn
        .state_log_min_isr
        .min(usize::try_from(replication_factor).unwrap_or(1));
    if replication_factor < wanted {
        tracing::warn!(
            "creating {TRANSACTION_STATE_TOPIC_NAME} with replication factor {replication_factor} \
             and min.insync.replicas {min_isr}, lower than \
             transaction.state.log.replication.factor={wanted}: only {live} broker(s) are alive"
        );
    }
    let configs: BTreeMap<String, String> = [
        ("cleanup.policy", "compact".to_string()),
        ("compression.type", "uncompressed".to_string()),
        ("min.insync.replicas", min_isr.to_string()),
        ("segment.bytes", txn.state_log_segment_bytes.to_string()),
        ("unclean.leader.election.enable", "false".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    crate::group::create_internal_topic(
        cluster,
        partitions,
        config,
        TRANSACTION_STATE_TOPIC_NAME,
        txn.state_log_num_partitions,
        replication_factor,
        configs,
    )
    .await;
}

/// Loads the `__transaction_state` partitions this broker now leads and forgets those it no
/// longer leads (run on every coordinator tick and metadata change; cheap when nothing changed).
pub fn sync_partitions(
    coordinator: &TxnCoordinator,
    partitions: &Partitions,
    cluster: &Arc<Cluster>,
    config: &BrokerConfig,
) {
    let md = cluster.metadata();
    let count = md
        .topics
        .get(TRANSACTION_STATE_TOPIC_NAME)
        .map(|t| i32::try_from(t.partitions.len()).unwrap_or(i32::MAX))
        .filter(|n| *n > 0)
        .unwrap_or(config.txn.state_log_num_partitions.max(1));
    let mut leading: HashMap<i32, (i32, Arc<HostedPartition>)> = HashMap::new();
    for (tp, h) in partitions.all() {
        if tp.topic != TRANSACTION_STATE_TOPIC_NAME {
            continue;
        }
        if let Some(epoch) = h.replica.leader_epoch() {
            if epoch == h.leader_epoch {
                leading.insert(tp.partition, (epoch.get(), h));
            }
        }
    }
    let mut to_load = Vec::new();
    {
        let mut st = coordinator.lock();
        st.partition_count = count;
        st.partitions.retain(|p, owned| {
            let keep = leading
                .get(p)
                .is_some_and(|(epoch, _)| *epoch == owned.epoch());
            if !keep {
                tracing::info!(
                    "[Transaction State Manager {}]: Unloaded transaction metadata of \
                     {TRANSACTION_STATE_TOPIC_NAME}-{p}",
                    config.broker_id
                );
            }
            keep
        });
        for (p, (epoch, h)) in leading {
            if let std::collections::hash_map::Entry::Vacant(e) = st.partitions.entry(p) {
                e.insert(Owned::Loading { epoch });
                to_load.push((p, epoch, h));
            }
        }
    }
    for (p, epoch, h) in to_load {
        let coordinator = coordinator.clone();
        let buffer = config.txn.state_log_load_buffer_size;
        tokio::spawn(async move { coordinator.load(p, epoch, h, buffer).await });
    }
}

impl TxnCoordinator {
    /// Reads partition `p` back (Kafka's `loadTransactionsForTxnTopicPartition`): the last
    /// record of each transactional id wins, a tombstone removes it. Then serves it and resumes
    /// the transactions found half-ended (PrepareCommit, PrepareAbort) by sending their markers.
    async fn load(&self, p: i32, epoch: i32, hosted: Arc<HostedPartition>, buffer: usize) {
        let started = std::time::Instant::now();
        let me = self.inner.config.broker_id;
        let log = hosted.log.clone();
        let read = tokio::task::spawn_blocking(move || {
            let mut txns: HashMap<String, TxnMetadata> = HashMap::new();
            let mut skipped = 0usize;
            let end = crate::group::read_records(&log, buffer, |r, from| {
                if r.offset < from || r.control {
                    return;
                }
                let Some(id) = r.key.as_deref().and_then(|k| decode_key(k).ok()) else {
                    skipped += 1;
                    return;
                };
                match r.value.as_deref() {
                    None => {
                        txns.remove(&id);
                    }
                    Some(v) => match decode_value(v) {
                        Ok(v) => {
                            txns.insert(id, TxnMetadata::from_log(v));
                        }
                        Err(_) => skipped += 1,
                    },
                }
            });
            end.map(|_| (txns, skipped))
        })
        .await;
        let (txns, skipped) = match read {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                tracing::error!("loading {TRANSACTION_STATE_TOPIC_NAME}-{p} failed: {e}");
                self.abandon_load(p, epoch);
                return;
            }
            Err(e) => {
                tracing::error!("loading {TRANSACTION_STATE_TOPIC_NAME}-{p} failed: {e}");
                self.abandon_load(p, epoch);
                return;
            }
        };
        if skipped > 0 {
            tracing::warn!(
                "{TRANSACTION_STATE_TOPIC_NAME}-{p}: skipped {skipped} records that do not decode"
            );
        }
        let writer = crate::group::spawn_writer(hosted, LeaderEpoch(epoch), WRITER_TIMEOUT);
        let resume: Vec<(String, Outcome)> = txns
            .iter()
            .filter_map(|(id, m)| match m.state {
                TxnState::PrepareCommit => Some((id.clone(), Outcome::Commit)),
                TxnState::PrepareAbort => Some((id.clone(), Outcome::Abort)),
                _ => None,
            })
            .collect();
        let count = txns.len();
        {
            let mut st = self.lock();
            match st.partitions.get(&p) {
                Some(Owned::Loading { epoch: e }) if *e == epoch => {}
                _ => return,
            }
            st.partitions.insert(
                p,
                Owned::Loaded(Loaded {
                    epoch,
                    writer,
                    txns,
                }),
            );
        }
        tracing::info!(
            "[Transaction State Manager {me}]: Finished loading {count} transaction metadata from \
             {TRANSACTION_STATE_TOPIC_NAME}-{p} in {} milliseconds (coordinator epoch {epoch})",
            started.elapsed().as_millis()
        );
        for (id, outcome) in resume {
            tracing::info!(
                "[Transaction State Manager {me}]: resuming the {} of {id}",
                if outcome == Outcome::Commit {
                    "commit"
                } else {
                    "abort"
                }
            );
            self.spawn_completion(id, p, epoch, outcome);
        }
    }

    /// A failed load: the partition is dropped so that the next sync tries again.
    fn abandon_load(&self, p: i32, epoch: i32) {
        let mut st = self.lock();
        if matches!(st.partitions.get(&p), Some(Owned::Loading { epoch: e }) if *e == epoch) {
            st.partitions.remove(&p);
        }
    }
}
