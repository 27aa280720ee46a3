//! Replication, as Kafka's `Partition` and `ReplicaManager` do it (the ISR model of
//! `ARCHITECTURE.md`):
//!
//! - every hosted partition has a [`Role`] taken from the cluster metadata: leader, follower of
//!   another broker, or offline (no leader);
//! - a leader tracks each follower's log end offset from its fetches ([`FollowerState`], Kafka's
//!   `Replica.updateFetchState`); the high watermark is the minimum over the ISR (applied by
//!   the log, `DurableLog::update_isr_followers`);
//! - a follower that has not caught up for `replica.lag.time.max.ms` leaves the ISR, one that
//!   has caught up to the high watermark (and to the start of the leader's epoch) joins it; every
//!   ISR change is an AlterPartition to zookeeper-lite, checked there against the leader epoch
//!   and partition epoch, and takes effect only once it has landed ([`alter_isr`]);
//! - followers replicate with [`fetcher::ReplicaFetchers`].
//!
//! One rule differs from `ARCHITECTURE.md`'s commit rule on purpose: the high watermark advances
//! even while the ISR is smaller than `min.insync.replicas`, as in Kafka 3.9 (whose stricter rule,
//! KIP-966's, is off by default there). `acks=all` writes are refused in that state
//! (NOT_ENOUGH_REPLICAS) so nothing acknowledged with `acks=all` depends on it; `acks=1` writes
//! stay visible to consumers, as Kafka users expect.

pub mod fetcher;
pub mod selector;

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use common::ids::{BrokerId, LeaderEpoch};
use common::topic_partition::TopicPartition;
use tokio::sync::watch;
use zookeeper_lite::protocol::PartitionInfo;

use crate::cluster::Cluster;
use crate::log::DurableLog;

/// What a leader knows of one follower (Kafka's `ReplicaState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FollowerState {
    /// The follower's log end offset, as its last fetch said (its fetch offset); -1 until it
    /// fetches from this leader.
    pub end_offset: i64,
    /// When it was last known to be caught up with the leader (ms since the epoch).
    pub last_caught_up_ms: i64,
    /// When its previous fetch arrived, and the leader's log end offset then.
    pub last_fetch_ms: i64,
    pub last_fetch_leader_end: i64,
    /// The follower's log start offset, as its last fetch said (Fetch v5+); -1 until known
    /// (Kafka's `ReplicaState.logStartOffset`). DeleteRecords waits for it.
    pub log_start_offset: i64,
}

impl FollowerState {
    /// A follower that has not fetched from this leader yet: its end offset is unknown, and an
    /// in-sync one counts as caught up at `now_ms` (so it is not dropped before it can fetch).
    fn unknown(in_sync: bool, now_ms: i64) -> FollowerState {
        FollowerState {
            end_offset: -1,
            last_caught_up_ms: if in_sync { now_ms } else { 0 },
            last_fetch_ms: 0,
            last_fetch_leader_end: -1,
            log_start_offset: -1,
        }
    }
}

/// A leader's view of its partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaderState {
    pub leader_epoch: LeaderEpoch,
    pub partition_epoch: i32,
    pub replicas: Vec<BrokerId>,
    pub isr: Vec<BrokerId>,
    /// Every replica but the leader.
    pub followers: BTreeMap<BrokerId, FollowerState>,
    /// The log end offset when this leadership began (Kafka's `leaderEpochStartOffsetOpt`): a
    /// follower joins the ISR only once it has everything up to here.
    pub epoch_start_offset: i64,
    /// An AlterPartition is in flight; no other is sent meanwhile.
    pub alter_in_flight: bool,
    /// After a refused AlterPartition, none is sent before this time (ms since the epoch), so a
    /// follower that may not join (it is shutting down, or zookeeper-lite has newer state)
    /// does not cost a request per fetch.
    pub alter_retry_after_ms: i64,
}

impl LeaderState {
    /// A new leadership over `p`, begun at `now_ms` with the log ending at `log_end`. In-sync
    /// followers count as caught up now (so they are not dropped before they can fetch); their
    /// end offsets are unknown, which holds the high watermark where it is until they fetch.
    pub fn new(p: &PartitionInfo, me: BrokerId, log_end: i64, now_ms: i64) -> LeaderState {
        let followers = p
            .replicas
            .iter()
            .filter(|&&b| b != me)
            .map(|&b| (b, FollowerState::unknown(p.isr.contains(&b), now_ms)))
            .collect();
        LeaderState {
            leader_epoch: p.leader_epoch,
            partition_epoch: p.partition_epoch,
            replicas: p.replicas.clone(),
            isr: p.isr.clone(),
            followers,
            epoch_start_offset: log_end,
            alter_in_flight: false,
            alter_retry_after_ms: 0,
        }
    }

    /// Takes the replicas, ISR and partition epoch of `p`, a newer state of the partition made
    /// by zookeeper-lite at the same leader epoch (an ISR change, or a reassignment that added
    /// replicas, KIP-455). A replica new to this leader is tracked from now on like those of a
    /// new leadership; one no longer listed is forgotten, so its fetches count for nothing.
    pub fn take_partition(&mut self, p: &PartitionInfo, me: BrokerId, now_ms: i64) {
        self.followers.retain(|b, _| p.replicas.contains(b));
        for &b in p.replicas.iter().filter(|&&b| b != me) {
            self.followers
                .entry(b)
                .or_insert_with(|| FollowerState::unknown(p.isr.contains(&b), now_ms));
        }
        self.replicas = p.replicas.clone();
        self.isr = p.isr.clone();
        self.partition_epoch = p.partition_epoch;
    }

    /// `(follower, end offset)` of every in-sync replica but the leader: what the high
    /// watermark is the minimum over (with the leader's own end).
    pub fn isr_followers(&self) -> Vec<(i32, i64)> {
        self.isr
            .iter()
            .filter_map(|b| self.followers.get(b).map(|f| (b.get(), f.end_offset)))
            .collect()
    }

    /// Kafka's `Replica.updateFetchState`: a fetch from `follower` at `fetch_offset` arrived at
    /// `now_ms` while the leader's log ended at `leader_end`. Caught up means it asked for
    /// everything the leader had, or for everything the leader had at its previous fetch.
    pub fn record_fetch(
        &mut self,
        follower: BrokerId,
        fetch_offset: i64,
        leader_end: i64,
        now_ms: i64,
    ) {
        let Some(f) = self.followers.get_mut(&follower) else {
            return;
        };
        if fetch_offset >= leader_end {
            f.last_caught_up_ms = f.last_caught_up_ms.max(now_ms);
        } else if fetch_offset >= f.last_fetch_leader_end && f.last_fetch_leader_end >= 0 {
            f.last_caught_up_ms = f.last_caught_up_ms.max(f.last_fetch_ms);
        }
        f.end_offset = fetch_offset;
        f.last_fetch_ms = now_ms;
        f.last_fetch_leader_end = leader_end;
    }

    /// Kafka's `Partition.isFollowerInSync` for a follower outside the ISR: it has everything
    /// up to the high watermark and up to the start of this leader epoch.
    pub fn may_join_isr(&self, follower: BrokerId, high_watermark: i64) -> bool {
        if self.isr.contains(&follower) {
            return false;
        }
        self.followers.get(&follower).is_some_and(|f| {
            f.end_offset >= 0
                && f.end_offset >= high_watermark
                && f.end_offset >= self.epoch_start_offset
        })
    }

    /// Whether an AlterPartition may be sent now: none in flight, none refused in the last
    /// second.
    pub fn may_alter(&self, now_ms: i64) -> bool {
        !self.alter_in_flight && now_ms >= self.alter_retry_after_ms
    }

    /// Kafka's `Partition.getOutOfSyncReplicas`: in-sync followers not caught up for longer
    /// than `lag_ms`.
    pub fn out_of_sync(&self, now_ms: i64, lag_ms: i64) -> Vec<BrokerId> {
        self.isr
            .iter()
            .copied()
            .filter(|b| {
                self.followers
                    .get(b)
                    .is_some_and(|f| now_ms - f.last_caught_up_ms > lag_ms)
            })
            .collect()
    }
}

/// What this broker is for one partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// No leader, or not decided yet.
    Offline,
    Leader(LeaderState),
    Follower {
        leader: BrokerId,
        leader_epoch: LeaderEpoch,
    },
}

/// The replication state of one hosted partition, shared by every version of its
/// `HostedPartition`. Changes of role are published on a watch so that waiting produce requests
/// (acks=all) notice a lost leadership at once.
pub struct Replica {
    role: Mutex<Role>,
    role_changes: watch::Sender<u64>,
    /// Bumped when a follower's log start offset changes (waiting DeleteRecords requests).
    follower_starts: watch::Sender<u64>,
}

impl Default for Replica {
    fn default() -> Self {
        Replica {
            role: Mutex::new(Role::Offline),
            role_changes: watch::Sender::new(0),
            follower_starts: watch::Sender::new(0),
        }
    }
}

impl Replica {
    pub fn lock(&self) -> MutexGuard<'_, Role> {
        self.role.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Role changes (leadership won or lost).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.role_changes.subscribe()
    }

    /// Changes of the followers' log start offsets.
    pub fn subscribe_follower_starts(&self) -> watch::Receiver<u64> {
        self.follower_starts.subscribe()
    }

    /// Kafka's `Partition.lowWatermarkIfLeader`: the smallest log start offset over this
    /// leader's (`leader_start`) and its followers' on live brokers (`live`), a follower whose
    /// start is not known yet counting as -1. `None` when this broker does not lead.
    pub fn low_watermark(&self, leader_start: i64, live: impl Fn(BrokerId) -> bool) -> Option<i64> {
        match &*self.lock() {
            Role::Leader(l) => Some(
                l.followers
                    .iter()
                    .filter(|(b, _)| live(**b))
                    .map(|(_, f)| f.log_start_offset)
                    .fold(leader_start, i64::min),
            ),
            _ => None,
        }
    }

    fn changed(&self) {
        self.role_changes.send_modify(|v| *v += 1);
    }

    /// The leader epoch while this broker leads, else `None`.
    pub fn leader_epoch(&self) -> Option<LeaderEpoch> {
        match &*self.lock() {
            Role::Leader(l) => Some(l.leader_epoch),
            _ => None,
        }
    }

    /// The ISR while this broker leads.
    pub fn isr(&self) -> Option<Vec<BrokerId>> {
        match &*self.lock() {
            Role::Leader(l) => Some(l.isr.clone()),
            _ => None,
        }
    }

    /// Applies the metadata's view of the partition: becomes leader (a new leader epoch: the
    /// log's epoch cache gets the epoch and the high watermark waits for the ISR's fetches),
    /// takes an ISR change made elsewhere (a newer partition epoch), or becomes a follower or
    /// offline. Returns the role now held.
    pub fn apply_metadata(&self, p: &PartitionInfo, me: BrokerId, log: &DurableLog) -> Role {
        let now = common::time::now_ms();
        let mut role = self.lock();
        let next = if p.leader == me {
            match &*role {
                Role::Leader(l) if l.leader_epoch == p.leader_epoch => {
                    let mut l = l.clone();
                    if p.partition_epoch > l.partition_epoch {
                        l.take_partition(p, me, now);
                    }
                    Role::Leader(l)
                }
                _ => {
                    if let Err(e) = log.assign_epoch(p.leader_epoch.get()) {
                        tracing::error!("cannot record leader epoch {}: {e}", p.leader_epoch);
                    }
                    Role::Leader(LeaderState::new(p, me, log.log_end_offset(), now))
                }
            }
        } else if p.leader.is_none() {
            Role::Offline
        } else {
            Role::Follower {
                leader: p.leader,
                leader_epoch: p.leader_epoch,
            }
        };
        let became = *role != next;
        let was_leader = matches!(&*role, Role::Leader(_));
        match &next {
            Role::Leader(l) => {
                if was_leader {
                    log.update_isr_followers(l.isr_followers());
                } else {
                    log.become_leader(l.isr_followers());
                }
            }
            _ if was_leader => log.follow(log.high_watermark()),
            _ => {}
        }
        *role = next.clone();
        drop(role);
        if became {
            self.changed();
        }
        next
    }
}

/// A fetch from follower `follower` at `fetch_offset` reached the leader of this partition
/// (Kafka's `Partition.updateFollowerFetchState`): its end offset is recorded, the high
/// watermark recomputed when it is in the ISR, and when it is outside the ISR but caught up the
/// ISR it should join is returned (for [`alter_isr`]). `Err` with Kafka's error when this
/// broker does not lead the partition at a matching epoch.
pub fn record_follower_fetch(
    replica: &Replica,
    log: &DurableLog,
    follower: BrokerId,
    fetch_offset: i64,
    follower_log_start: i64,
) -> Option<Vec<BrokerId>> {
    let mut role = replica.lock();
    let Role::Leader(l) = &mut *role else {
        return None;
    };
    let now = common::time::now_ms();
    l.record_fetch(follower, fetch_offset, log.log_end_offset(), now);
    if let Some(f) = l.followers.get_mut(&follower) {
        if f.log_start_offset != follower_log_start {
            f.log_start_offset = follower_log_start;
            replica.follower_starts.send_modify(|v| *v += 1);
        }
    }
    if l.isr.contains(&follower) {
        let followers = l.isr_followers();
        drop(role);
        log.update_isr_followers(followers);
        return None;
    }
    if l.may_alter(now) && l.may_join_isr(follower, log.high_watermark()) {
        let mut isr = l.isr.clone();
        isr.push(follower);
        let replicas = l.replicas.clone();
        return Some(replicas.into_iter().filter(|b| isr.contains(b)).collect());
    }
    None
}

/// The pause after a refused AlterPartition.
const ALTER_RETRY_BACKOFF_MS: i64 = 1000;

/// Sends an AlterPartition for `tp` setting its ISR to `new_isr`, unless one is in flight, and
/// applies the answer: the new ISR (and partition epoch) take effect only once zookeeper-lite
/// has them. A refusal (a newer leader epoch or partition epoch exists) leaves the ISR as it is;
/// the metadata watch brings the newer state. Returns whether the new ISR took effect.
pub async fn alter_isr(
    cluster: &Cluster,
    tp: &TopicPartition,
    replica: &Replica,
    log: &DurableLog,
    new_isr: Vec<BrokerId>,
    why: &str,
) -> bool {
    let (leader_epoch, partition_epoch, old_isr) = {
        let mut role = replica.lock();
        let Role::Leader(l) = &mut *role else {
            return false;
        };
        if l.alter_in_flight || l.isr == new_isr {
            return false;
        }
        l.alter_in_flight = true;
        (l.leader_epoch, l.partition_epoch, l.isr.clone())
    };
    let ids = |v: &[BrokerId]| {
        v.iter()
            .map(|b| b.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    tracing::debug!(
        "[Partition {tp}] {why}: asking to change the ISR from {} to {} (leader epoch \
         {leader_epoch}, partition epoch {partition_epoch})",
        ids(&old_isr),
        ids(&new_isr)
    );
    let new_isr_for_log = new_isr.clone();
    let result = cluster
        .alter_partition(
            &tp.topic,
            tp.partition,
            leader_epoch,
            partition_epoch,
            new_isr,
        )
        .await;
    let mut role = replica.lock();
    let Role::Leader(l) = &mut *role else {
        return false;
    };
    l.alter_in_flight = false;
    match result {
        Ok(info) if l.leader_epoch == info.leader_epoch => {
            if info.partition_epoch >= l.partition_epoch {
                // Logged once it has taken effect (Kafka's "ISR updated to ..."), not before.
                tracing::info!(
                    "[Partition {tp}] {why}: ISR updated from {} to {} and partition epoch to {} \
                     (leader epoch {leader_epoch})",
                    ids(&old_isr),
                    ids(&info.isr),
                    info.partition_epoch
                );
                // The answer may carry more than the ISR asked for: the change can complete a
                // reassignment, which replaces the replicas too.
                l.take_partition(&info, cluster.broker_id(), common::time::now_ms());
                let followers = l.isr_followers();
                drop(role);
                log.update_isr_followers(followers);
                replica.changed();
                return true;
            }
            false
        }
        Ok(_) => false,
        Err(e) => {
            l.alter_retry_after_ms = common::time::now_ms() + ALTER_RETRY_BACKOFF_MS;
            // A follower that may not join (it is shutting down) is expected: not worth a WARN.
            if e.code == common::errors::ErrorCode::IneligibleReplica {
                tracing::debug!("[Partition {tp}] {why}: {e}");
            } else {
                tracing::warn!(
                    "[Partition {tp}] {why}: zookeeper-lite refused the ISR change from {} to \
                     {}: {e} ({:?})",
                    ids(&old_isr),
                    ids(&new_isr_for_log),
                    e.code
                );
            }
            false
        }
    }
}

/// Kafka's `checkAndTriggerAutoLeaderRebalance` selection: for each live broker, the partitions
/// whose preferred replica (the first) it is, whose leader is another broker, and where it is
/// in the ISR (partitions being reassigned are left out); taken when their share of the
/// broker's preferred partitions is above `percentage`.
pub fn imbalanced_partitions(
    md: &zookeeper_lite::protocol::ClusterMetadata,
    percentage: u32,
) -> Vec<TopicPartition> {
    let mut out = Vec::new();
    for b in &md.brokers {
        let mut preferred = 0usize;
        let mut not_led = Vec::new();
        for t in md.topics.values() {
            for p in &t.partitions {
                // Kafka leaves partitions being reassigned to the reassignment.
                if p.replicas.first() != Some(&b.id) || p.is_reassigning() {
                    continue;
                }
                preferred += 1;
                if p.leader != b.id && p.isr.contains(&b.id) {
                    not_led.push(TopicPartition {
                        topic: t.name.clone(),
                        partition: p.partition,
                    });
                }
            }
        }
        if preferred > 0 && not_led.len() * 100 > preferred * percentage as usize {
            out.extend(not_led);
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn partition(isr: &[i32]) -> PartitionInfo {
        PartitionInfo {
            partition: 0,
            replicas: vec![BrokerId(0), BrokerId(1), BrokerId(2)],
            leader: BrokerId(0),
            leader_epoch: LeaderEpoch(3),
            isr: isr.iter().copied().map(BrokerId).collect(),
            partition_epoch: 7,
            adding_replicas: Vec::new(),
            removing_replicas: Vec::new(),
        }
    }

    /// DeleteRecords' low watermark (Kafka's `lowWatermarkIfLeader`): the smallest log start
    /// offset over the leader and its followers on live brokers, unknown ones counting as -1.
    #[test]
    fn low_watermark_is_the_smallest_log_start_over_live_replicas() {
        let replica = Replica::default();
        assert_eq!(replica.low_watermark(10, |_| true), None, "not a leader");
        *replica.lock() = Role::Leader(LeaderState::new(
            &partition(&[0, 1, 2]),
            BrokerId(0),
            100,
            0,
        ));
        assert_eq!(replica.low_watermark(10, |_| true), Some(-1));
        let starts = replica.subscribe_follower_starts();
        if let Role::Leader(l) = &mut *replica.lock() {
            l.followers.get_mut(&BrokerId(1)).unwrap().log_start_offset = 10;
            l.followers.get_mut(&BrokerId(2)).unwrap().log_start_offset = 4;
        }
        assert_eq!(replica.low_watermark(10, |_| true), Some(4));
        // A follower on a broker that is gone does not hold the answer back.
        assert_eq!(replica.low_watermark(10, |b| b != BrokerId(2)), Some(10));
        assert!(!starts.has_changed().unwrap());
    }

    #[test]
    fn a_follower_is_caught_up_when_it_asks_for_the_leaders_end() {
        let mut l = LeaderState::new(&partition(&[0, 1, 2]), BrokerId(0), 100, 1_000);
        assert_eq!(l.isr_followers(), vec![(1, -1), (2, -1)]);
        // Follower 1 fetches at the leader's end: caught up now.
        l.record_fetch(BrokerId(1), 100, 100, 5_000);
        // Follower 2 lags: 50 behind, and the leader keeps growing.
        l.record_fetch(BrokerId(2), 50, 100, 5_000);
        assert_eq!(l.isr_followers(), vec![(1, 100), (2, 50)]);
        assert_eq!(l.out_of_sync(12_000, 10_000), vec![BrokerId(2)]);
        // Follower 2 now asks for what the leader had at its previous fetch: caught up as of
        // that fetch.
        l.record_fetch(BrokerId(2), 100, 150, 25_000);
        assert_eq!(l.followers[&BrokerId(2)].last_caught_up_ms, 5_000);
        assert_eq!(l.out_of_sync(26_000, 30_000), Vec::<BrokerId>::new());
    }

    #[test]
    fn a_leader_tracks_replicas_a_reassignment_adds_and_forgets_removed_ones() {
        let mut p = partition(&[0, 2]);
        p.replicas = vec![BrokerId(0), BrokerId(2)];
        let mut l = LeaderState::new(&p, BrokerId(0), 100, 0);
        // A reassignment to [0, 1] begins: broker 1 is added while broker 2 is still listed.
        p.replicas = vec![BrokerId(0), BrokerId(1), BrokerId(2)];
        p.adding_replicas = vec![BrokerId(1)];
        p.removing_replicas = vec![BrokerId(2)];
        p.partition_epoch += 1;
        l.take_partition(&p, BrokerId(0), 5);
        l.record_fetch(BrokerId(1), 100, 100, 6);
        assert!(
            l.may_join_isr(BrokerId(1), 100),
            "the new replica's fetches count"
        );
        // It completes: broker 2 is gone and its fetches count for nothing.
        p.replicas = vec![BrokerId(0), BrokerId(1)];
        p.isr = vec![BrokerId(0), BrokerId(1)];
        p.partition_epoch += 1;
        l.take_partition(&p, BrokerId(0), 7);
        assert_eq!(
            l.followers.keys().copied().collect::<Vec<_>>(),
            vec![BrokerId(1)]
        );
        assert_eq!(l.followers[&BrokerId(1)].end_offset, 100, "kept, not reset");
        assert_eq!((l.isr_followers(), l.partition_epoch), (vec![(1, 100)], 9));
    }

    #[test]
    fn a_follower_joins_only_with_the_high_watermark_and_the_epoch_start() {
        let mut l = LeaderState::new(&partition(&[0, 1]), BrokerId(0), 100, 0);
        assert!(!l.may_join_isr(BrokerId(2), 0), "it has not fetched yet");
        l.record_fetch(BrokerId(2), 90, 120, 1);
        assert!(
            !l.may_join_isr(BrokerId(2), 80),
            "below the epoch start 100"
        );
        l.record_fetch(BrokerId(2), 110, 120, 2);
        assert!(
            !l.may_join_isr(BrokerId(2), 115),
            "below the high watermark"
        );
        assert!(l.may_join_isr(BrokerId(2), 110));
        assert!(!l.may_join_isr(BrokerId(1), 0), "already in the ISR");
    }
}
