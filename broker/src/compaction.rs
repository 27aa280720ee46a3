//! The log cleaner's thin async shell (Kafka's `LogCleaner` threads and the checkpoint side of
//! `LogCleanerManager`): over and over, every hosted partition whose `cleanup.policy` contains
//! `compact` (leader or follower: every replica compacts its own copy) is offered a cleaning
//! (`DurableLog::clean`, the work itself being `log::cleaner`), up to `log.cleaner.threads` at
//! once; when none was due the task sleeps `log.cleaner.backoff.ms`. The first dirty offset of
//! each log is kept in `cleaner-offset-checkpoint` in the log directory, rewritten atomically
//! after every round that moved one.
//!
//! Settings are read at every round from the broker's effective configuration (static, then
//! dynamic cluster default, then per broker), and each log's topic settings
//! (`min.cleanable.dirty.ratio` and the rest) reach it with the metadata as retention's do, so
//! `kafka-configs --alter` needs no restart. `log.cleaner.enable=false` (read-only in Kafka)
//! or `log.cleaner.threads=0` leaves compacted logs uncleaned, as in Kafka.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use common::topic_partition::TopicPartition;

use crate::broker::Broker;
use crate::log::cleaner::{
    read_cleaner_checkpoint, write_cleaner_checkpoint, CleanOutcome, CleanRequest, OffsetMap,
};
use crate::partitions::HostedPartition;
use crate::topic_config::effective_broker_config;

/// Runs the cleaner until the task is aborted (at shutdown).
pub async fn run(broker: Arc<Broker>) {
    if !broker.config.log_cleaner_enable {
        tracing::info!("log.cleaner.enable=false: compacted topics are not cleaned");
        return;
    }
    let Some(log_dir) = broker.config.log_dirs.first().cloned() else {
        return;
    };
    let mut checkpoints = read_cleaner_checkpoint(&log_dir);
    // Logs whose tombstones reach their delete horizon at this time (ms).
    let mut horizons: HashMap<TopicPartition, i64> = HashMap::new();
    loop {
        let config = effective_broker_config(&broker.config, &broker.cluster.metadata());
        let backoff = Duration::from_millis(config.log_cleaner_backoff_ms.max(1));
        let threads = config.log_cleaner_threads;
        if threads == 0 {
            tokio::time::sleep(backoff).await;
            continue;
        }
        let capacity = OffsetMap::capacity_for(
            config.log_cleaner_dedupe_buffer_size,
            threads,
            config.log_cleaner_io_buffer_load_factor,
        );
        let compacted: Vec<(TopicPartition, Arc<HostedPartition>)> = broker
            .partitions
            .all()
            .into_iter()
            .filter(|(_, h)| h.log_config.compact)
            .collect();
        let mut moved = false;
        let mut cleaned_any = false;
        for chunk in compacted.chunks(threads) {
            let mut running = tokio::task::JoinSet::new();
            for (tp, h) in chunk {
                let now = common::time::now_ms();
                let request = CleanRequest {
                    checkpoint: checkpoints.get(tp).copied(),
                    high_watermark: h.log.last_stable_offset(),
                    now_ms: now,
                    map_capacity: capacity,
                    horizon_due: horizons.get(tp).is_some_and(|h| now >= *h),
                };
                let (tp, log) = (tp.clone(), h.log.clone());
                running.spawn(async move {
                    let outcome = log.clean(request).await;
                    (tp, outcome)
                });
            }
            while let Some(done) = running.join_next().await {
                let Ok((tp, outcome)) = done else {
                    continue;
                };
                match outcome {
                    Ok(outcome) => {
                        cleaned_any |= outcome.cleaned;
                        moved |= record(&tp, &outcome, &mut checkpoints, &mut horizons);
                    }
                    Err(e) => tracing::warn!("log cleaning of {tp} failed: {e}"),
                }
            }
        }
        if moved {
            // Entries of partitions no longer hosted here go, as Kafka drops them on deletion.
            let hosted: std::collections::HashSet<TopicPartition> = broker
                .partitions
                .all()
                .into_iter()
                .map(|(tp, _)| tp)
                .collect();
            checkpoints.retain(|tp, _| hosted.contains(tp));
            horizons.retain(|tp, _| hosted.contains(tp));
            let (dir, entries) = (log_dir.clone(), checkpoints.clone());
            let written =
                tokio::task::spawn_blocking(move || write_cleaner_checkpoint(&dir, &entries)).await;
            match written {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!("writing the cleaner offset checkpoint failed: {e}"),
                Err(e) => tracing::warn!("writing the cleaner offset checkpoint failed: {e}"),
            }
        }
        if !cleaned_any {
            tokio::time::sleep(backoff).await;
        }
    }
}

/// Records what a cleaning of `tp` did; returns whether its checkpoint moved.
fn record(
    tp: &TopicPartition,
    outcome: &CleanOutcome,
    checkpoints: &mut BTreeMap<TopicPartition, i64>,
    horizons: &mut HashMap<TopicPartition, i64>,
) -> bool {
    if outcome.cleaned {
        tracing::info!(
            "Cleaner: cleaned log {tp} (dirty ratio {:.3}): {} bytes read, {} bytes written; \
             clean up to offset {}",
            outcome.ratio,
            outcome.bytes_read,
            outcome.bytes_written,
            outcome.checkpoint.unwrap_or(-1)
        );
        match outcome.tombstone_horizon {
            Some(h) => horizons.insert(tp.clone(), h),
            None => horizons.remove(tp),
        };
    }
    match outcome.checkpoint {
        Some(offset) if checkpoints.get(tp) != Some(&offset) => {
            checkpoints.insert(tp.clone(), offset);
            true
        }
        _ => false,
    }
}
