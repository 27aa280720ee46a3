//! The periodic cleanup of group metadata (Kafka's `GroupMetadataManager.cleanupGroupMetadata`,
//! run every `offsets.retention.check.interval.ms`): offsets past `offsets.retention.minutes`
//! expire, and a group that is Empty without offsets goes Dead and is removed.
//!
//! Which offsets expire follows Kafka's `GroupMetadata.removeExpiredOffsets`:
//! - a group that uses group management (it has a protocol type) and is Empty: all its offsets,
//!   once it has been Empty for the retention time;
//! - a group that only stores offsets (no protocol type, or not in memory, e.g. after a restart):
//!   each offset, once the retention time has passed since it was committed;
//! - a Stable consumer group whose subscription is known: each offset of a topic it no longer
//!   subscribes to, once the retention time has passed since it was committed.
//!
//! Offsets of other groups with members are left alone.

use std::collections::BTreeSet;

use common::errors::ErrorCode;

use super::placement::check_coordinator;
use super::Groups;
use crate::cluster::{Cluster, OpError};
use common::errors::codes::NONE;

fn unknown_group(e: &OpError) -> bool {
    e.code == ErrorCode::GroupIdNotFound
}

/// The partitions of `offsets` committed at least `retention_ms` before `now_ms`.
pub(crate) fn expired_by_commit_time(
    offsets: &[zookeeper_lite::protocol::CommittedOffset],
    now_ms: i64,
    retention_ms: u64,
) -> Vec<(String, i32)> {
    let retention = i64::try_from(retention_ms).unwrap_or(i64::MAX);
    offsets
        .iter()
        .filter(|o| now_ms.saturating_sub(o.commit_timestamp_ms) >= retention)
        .map(|o| (o.topic.clone(), o.partition))
        .collect()
}

/// Deletes the offsets of `group` whose commit is older than the retention time, except those of
/// `keep_topics`. Returns whether the group still has offsets. A group without members
/// (`has_members` false) that loses its last offset is forgotten whole, its recorded generation
/// too; a group with members keeps that record, which fences stale members' commits.
async fn expire_by_commit_time(
    cluster: &Cluster,
    group: &str,
    now_ms: i64,
    retention_ms: u64,
    keep_topics: &BTreeSet<String>,
    has_members: bool,
) -> Result<bool, OpError> {
    let zk = &cluster;
    let offsets = zk.fetch_offsets(group, None).await?;
    let mut expired = expired_by_commit_time(&offsets, now_ms, retention_ms);
    expired.retain(|(topic, _)| !keep_topics.contains(topic));
    if expired.is_empty() {
        return Ok(!offsets.is_empty());
    }
    let remaining = offsets.len() - expired.len();
    tracing::info!("Removed {} expired offsets of group {group}", expired.len());
    if remaining == 0 && !has_members {
        match zk.delete_group_offsets(group).await {
            Ok(()) => {}
            Err(e) if unknown_group(&e) => {}
            Err(e) => return Err(e),
        }
    } else {
        match zk.delete_offsets(group, expired).await {
            Ok(()) => {}
            Err(e) if unknown_group(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(remaining > 0)
}

/// One cleanup pass over the groups this broker coordinates (`groups`, in memory, and those
/// known by their offsets in `cluster`), with `offsets.retention.minutes` as `retention_ms`.
pub async fn cleanup_group_metadata(groups: &Groups, cluster: &Cluster, retention_ms: u64) {
    let now_ms = common::time::now_ms();
    let empty = groups.with(|c, now| c.empty_groups(now));
    let mut in_memory: BTreeSet<String> = BTreeSet::new();
    for g in empty {
        in_memory.insert(g.group_id.clone());
        if check_coordinator(cluster, &g.group_id) != NONE {
            // The group moved to another coordinator: unload it, as Kafka unloads the groups of
            // an offsets partition it no longer leads (its offsets belong to the new one).
            groups.with(|c, _| c.remove_if_empty(&g.group_id));
            continue;
        }
        let has_offsets = if !g.uses_group_management {
            expire_by_commit_time(
                cluster,
                &g.group_id,
                now_ms,
                retention_ms,
                &BTreeSet::new(),
                false,
            )
            .await
        } else if g.retention_passed {
            tracing::info!(
                "Offsets of group {} expired: it has been Empty for offsets.retention.minutes",
                g.group_id
            );
            match cluster.delete_group_offsets(&g.group_id).await {
                Ok(()) => Ok(false),
                Err(e) if unknown_group(&e) => Ok(false),
                Err(e) => Err(e),
            }
        } else {
            cluster
                .fetch_offsets(&g.group_id, None)
                .await
                .map(|o| !o.is_empty())
        };
        match has_offsets {
            Ok(false) => {
                groups.with(|c, _| c.remove_if_empty(&g.group_id));
            }
            Ok(true) => {}
            Err(e) => tracing::warn!("cleaning up group {} failed: {e}", g.group_id),
        }
    }
    let stable = groups.with(|c, _| c.stable_consumer_subscriptions());
    for (id, subscribed) in stable {
        in_memory.insert(id.clone());
        if check_coordinator(cluster, &id) != NONE {
            continue;
        }
        if let Err(e) =
            expire_by_commit_time(cluster, &id, now_ms, retention_ms, &subscribed, true).await
        {
            tracing::warn!("expiring the offsets of group {id} failed: {e}");
        }
    }
    // Groups known only by their offsets (simple groups, or groups from before a restart).
    let stored = match cluster.list_offset_groups().await {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!("listing groups with committed offsets failed: {e}");
            return;
        }
    };
    for id in stored {
        if in_memory.contains(&id)
            || groups.with(|c, _| c.contains(&id))
            || check_coordinator(cluster, &id) != NONE
        {
            continue;
        }
        if let Err(e) =
            expire_by_commit_time(cluster, &id, now_ms, retention_ms, &BTreeSet::new(), false).await
        {
            tracing::warn!("expiring the offsets of group {id} failed: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zookeeper_lite::protocol::CommittedOffset;

    fn committed(partition: i32, at: i64) -> CommittedOffset {
        CommittedOffset {
            topic: "t".to_string(),
            partition,
            offset: 5,
            leader_epoch: common::ids::LeaderEpoch::UNKNOWN,
            metadata: Some(String::new()),
            commit_timestamp_ms: at,
        }
    }

    #[test]
    fn offsets_of_a_simple_group_expire_one_by_one_after_their_commit() {
        let offsets = [committed(0, 1_000), committed(1, 5_000)];
        assert!(expired_by_commit_time(&offsets, 10_999, 10_000).is_empty());
        assert_eq!(
            expired_by_commit_time(&offsets, 11_000, 10_000),
            vec![("t".to_string(), 0)]
        );
        assert_eq!(expired_by_commit_time(&offsets, 15_000, 10_000).len(), 2);
    }
}
