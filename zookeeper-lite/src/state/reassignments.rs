//! Partition reassignment (KIP-455), as Kafka's KRaft controller runs it
//! (`ReplicationControlManager.alterPartitionReassignments`, `PartitionReassignmentReplicas`,
//! `PartitionReassignmentRevert`):
//!
//! - a reassignment of a partition to *target* replicas lists, while it runs, the target
//!   replicas followed by the ones being removed as the partition's replicas; `adding_replicas`
//!   are the target ones that were not replicas, `removing_replicas` the replicas that are not
//!   in the target (both sorted). The leader and ISR stay as they were: the adding replicas start
//!   following the leader and join the ISR through its AlterPartition once they caught up;
//! - it completes as soon as every target replica is in the ISR (checked when it starts and on
//!   every AlterPartition): the replicas become the target, the removed replicas leave the ISR,
//!   and a leader that was being removed hands over to the first target replica in the ISR that
//!   may lead (the completion waits while there is none). The leader epoch moves whenever the
//!   leader changes or replicas leave (a removed replica must not keep fetching as a follower);
//! - a new reassignment of a partition being reassigned replaces the old one, from the
//!   partition's current replicas; a cancellation (target `None`) puts back the replicas without
//!   the adding ones and drops those from the ISR;
//! - every change bumps the partition epoch, so a leader's AlterPartition made before it is
//!   refused and the leader learns of the new replicas from the metadata.

use std::collections::BTreeSet;

use super::sessions::unclean_allowed;
use super::*;
use crate::protocol::{OngoingReassignment, ReassignmentTarget};

fn invalid_assignment(message: impl Into<String>) -> ServerError {
    err(ZkErrorCode::InvalidReplicaAssignment, message)
}

/// The ids of `a` that are not in `b`, sorted (Kafka's `calculateDifference` over a TreeSet).
fn difference(a: &[BrokerId], b: &[BrokerId]) -> Vec<BrokerId> {
    let set: BTreeSet<BrokerId> = a.iter().copied().filter(|x| !b.contains(x)).collect();
    set.into_iter().collect()
}

/// `isr` in the order of `replicas` (the order every ISR is kept in).
fn in_replica_order(replicas: &[BrokerId], isr: &[BrokerId]) -> Vec<BrokerId> {
    replicas
        .iter()
        .copied()
        .filter(|b| isr.contains(b))
        .collect()
}

/// Completes the reassignment in progress on `p` if every target replica is in the ISR
/// (Kafka's `PartitionReassignmentReplicas.maybeCompleteReassignment`): the replicas become the
/// target, the removed replicas leave the ISR, a leader being removed is replaced by the first
/// target replica in the ISR for which `may_lead` holds (no completion while there is none), and
/// the leader epoch moves when the leader changes or replicas leave. The partition epoch is the
/// caller's to bump. Returns whether the reassignment completed.
pub(super) fn complete_if_caught_up(
    p: &mut PartitionInfo,
    may_lead: impl Fn(BrokerId) -> bool,
) -> bool {
    if !p.is_reassigning() {
        return false;
    }
    let target = p.target_replicas();
    let isr = in_replica_order(&target, &p.isr);
    if target.is_empty() || isr.len() != target.len() {
        return false;
    }
    let leader = if target.contains(&p.leader) {
        p.leader
    } else {
        match isr.iter().copied().find(|&b| may_lead(b)) {
            Some(b) => b,
            None => return false,
        }
    };
    let replicas_removed = !p.removing_replicas.is_empty();
    if leader != p.leader || replicas_removed {
        p.leader_epoch = p.leader_epoch.next();
    }
    p.leader = leader;
    p.replicas = target;
    p.isr = isr;
    p.adding_replicas.clear();
    p.removing_replicas.clear();
    true
}

impl State {
    /// Kafka's `validateManualPartitionAssignment` for a reassignment of `p` to `target`: not
    /// empty, no broker twice, and every broker registered (a current replica that is down is
    /// allowed, as Kafka keeps its registration). Brokers are checked in id order.
    fn check_target(&self, p: &PartitionInfo, target: &[BrokerId]) -> Result<(), ServerError> {
        if target.is_empty() {
            return Err(invalid_assignment(
                "The manual partition assignment includes an empty replica list.",
            ));
        }
        let mut sorted = target.to_vec();
        sorted.sort();
        let mut previous = None;
        for b in sorted {
            if !self.is_up(b) && !p.replicas.contains(&b) {
                return Err(invalid_assignment(format!(
                    "The manual partition assignment includes broker {b}, but no such broker is \
                     registered."
                )));
            }
            if previous == Some(b) {
                return Err(invalid_assignment(format!(
                    "The manual partition assignment includes the broker {b} more than once."
                )));
            }
            previous = Some(b);
        }
        Ok(())
    }

    /// `p` reassigned to `target` (Kafka's `changePartitionReassignment`): the target replicas
    /// then the removing ones, the ISR as it was, and completed at once if the ISR already holds
    /// every target replica.
    fn reassigned(&self, p: &PartitionInfo, target: &[BrokerId]) -> PartitionInfo {
        let removing = difference(&p.replicas, target);
        let adding = difference(target, &p.replicas);
        let mut next = p.clone();
        next.replicas = target.iter().chain(&removing).copied().collect();
        next.isr = in_replica_order(&next.replicas, &p.isr);
        next.adding_replicas = adding;
        next.removing_replicas = removing;
        complete_if_caught_up(&mut next, |b| self.is_eligible(b));
        next
    }

    /// `p` with its reassignment cancelled (Kafka's `PartitionReassignmentRevert`): the replicas
    /// without the adding ones, which also leave the ISR. If only adding replicas were in sync,
    /// the first remaining replica becomes the ISR, which is an unclean election: refused unless
    /// the topic allows one.
    fn reverted(
        &self,
        topic: &str,
        configs: &BTreeMap<String, String>,
        p: &PartitionInfo,
    ) -> Result<PartitionInfo, ServerError> {
        if !p.is_reassigning() {
            return Err(err(
                ZkErrorCode::NoReassignmentInProgress,
                "No partition reassignment is in progress.",
            ));
        }
        let replicas: Vec<BrokerId> = p
            .replicas
            .iter()
            .copied()
            .filter(|b| !p.adding_replicas.contains(b))
            .collect();
        let mut isr = in_replica_order(&replicas, &p.isr);
        if isr.is_empty() {
            let Some(&first) = replicas.first() else {
                return Err(invalid_assignment(
                    "Invalid replica assignment: addingReplicas contains all replicas.",
                ));
            };
            if !unclean_allowed(configs, &self.durable.broker_configs) {
                return Err(invalid_assignment(format!(
                    "Unable to revert partition assignment for {topic}:{} because it would \
                     require an unclean leader election.",
                    p.partition
                )));
            }
            isr = vec![first];
        }
        let mut next = p.clone();
        let leader = if isr.contains(&p.leader) {
            p.leader
        } else {
            isr.iter()
                .copied()
                .find(|&b| self.is_eligible(b))
                .unwrap_or(BrokerId::NONE)
        };
        if leader != p.leader || !p.adding_replicas.is_empty() {
            next.leader_epoch = p.leader_epoch.next();
        }
        next.leader = leader;
        next.replicas = replicas;
        next.isr = isr;
        next.adding_replicas.clear();
        next.removing_replicas.clear();
        Ok(next)
    }

    /// Plans Kafka's AlterPartitionReassignments: each target starts, replaces or cancels the
    /// reassignment of its partition, or fails on its own (unknown partition, invalid replicas,
    /// nothing to cancel). Returns one PutTopic per changed topic and one result per target, in
    /// request order.
    pub fn plan_alter_reassignments(
        &self,
        targets: &[ReassignmentTarget],
    ) -> (Vec<Record>, Vec<PartitionResult>) {
        // Topics as the targets so far left them (a request may name a partition twice).
        let mut changed: BTreeMap<String, TopicInfo> = BTreeMap::new();
        let mut results = Vec::with_capacity(targets.len());
        for t in targets {
            let outcome = self.plan_one_reassignment(&mut changed, t);
            results.push(PartitionResult {
                topic: t.topic.clone(),
                partition: t.partition,
                error: outcome.err(),
            });
        }
        let records = changed
            .into_values()
            .map(|topic| Record::PutTopic { topic })
            .collect();
        (records, results)
    }

    fn plan_one_reassignment(
        &self,
        changed: &mut BTreeMap<String, TopicInfo>,
        t: &ReassignmentTarget,
    ) -> Result<(), ServerError> {
        let topic = match changed.get(&t.topic) {
            Some(topic) => topic,
            None => self.durable.topics.get(&t.topic).ok_or_else(|| {
                err(
                    ZkErrorCode::UnknownTopic,
                    format!("Unable to find a topic named {}.", t.topic),
                )
            })?,
        };
        let p = topic
            .partitions
            .iter()
            .find(|p| p.partition == t.partition)
            .ok_or_else(|| {
                err(
                    ZkErrorCode::UnknownTopic,
                    format!("Unable to find partition {}:{}.", t.topic, t.partition),
                )
            })?;
        let mut next = match &t.replicas {
            Some(target) => {
                self.check_target(p, target)?;
                self.reassigned(p, target)
            }
            None => self.reverted(&t.topic, &topic.configs, p)?,
        };
        if next == *p {
            return Ok(());
        }
        next.partition_epoch = p.partition_epoch.wrapping_add(1);
        let mut topic = topic.clone();
        if let Some(slot) = topic
            .partitions
            .iter_mut()
            .find(|q| q.partition == t.partition)
        {
            *slot = next;
        }
        changed.insert(t.topic.clone(), topic);
        Ok(())
    }

    /// Kafka's ListPartitionReassignments: the reassignments in progress among `partitions`
    /// (all partitions when `None`), sorted by topic and partition; partitions that do not
    /// exist or are not being reassigned are left out.
    pub fn list_reassignments(
        &self,
        partitions: Option<&[TopicPartition]>,
    ) -> Vec<OngoingReassignment> {
        let wanted: Option<BTreeSet<(&str, i32)>> = partitions.map(|ps| {
            ps.iter()
                .map(|tp| (tp.topic.as_str(), tp.partition))
                .collect()
        });
        self.durable
            .topics
            .values()
            .flat_map(|t| t.partitions.iter().map(move |p| (t.name.as_str(), p)))
            .filter(|(name, p)| {
                p.is_reassigning()
                    && wanted
                        .as_ref()
                        .is_none_or(|w| w.contains(&(*name, p.partition)))
            })
            .map(|(name, p)| OngoingReassignment {
                topic: name.to_string(),
                partition: p.partition,
                replicas: p.replicas.clone(),
                adding_replicas: p.adding_replicas.clone(),
                removing_replicas: p.removing_replicas.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn ids(v: &[i32]) -> Vec<BrokerId> {
        v.iter().copied().map(BrokerId).collect()
    }

    /// Brokers 0, 1 and 2 registered, and topic `t` with one partition on `replicas`.
    fn cluster(replicas: &[i32]) -> State {
        let now = Instant::now();
        let mut s = State::new(Durable::default(), now);
        for id in 0..3 {
            let broker = BrokerInfo {
                id: BrokerId(id),
                host: "localhost".into(),
                port: 9092 + id as u16,
                rack: None,
            };
            let (records, _) = s.plan_register(&broker, 60_000).unwrap();
            apply(&mut s, &records);
            s.register(BrokerId(id), now);
        }
        let topic = s
            .plan_create_topic(&NewTopic {
                name: "t".into(),
                num_partitions: 1,
                replication_factor: 1,
                replica_assignment: Some(vec![ids(replicas)]),
                configs: BTreeMap::new(),
                validate_only: false,
            })
            .unwrap();
        apply(&mut s, &[Record::PutTopic { topic }]);
        s
    }

    fn apply(s: &mut State, records: &[Record]) {
        for r in records {
            s.apply(r);
        }
    }

    fn partition(s: &State) -> PartitionInfo {
        s.durable().topics["t"].partitions[0].clone()
    }

    fn target(partition: i32, replicas: Option<&[i32]>) -> ReassignmentTarget {
        ReassignmentTarget {
            topic: "t".into(),
            partition,
            replicas: replicas.map(ids),
        }
    }

    /// Runs one AlterPartitionReassignments; returns each target's error code.
    fn reassign(s: &mut State, targets: &[ReassignmentTarget]) -> Vec<Option<ZkErrorCode>> {
        let (records, results) = s.plan_alter_reassignments(targets);
        apply(s, &records);
        results
            .into_iter()
            .map(|r| r.error.map(|e| e.code))
            .collect()
    }

    /// The leader's AlterPartition setting the ISR to `isr`, at the current epochs.
    fn alter_isr(s: &mut State, isr: &[i32]) -> Result<PartitionInfo, ServerError> {
        let p = partition(s);
        let session = s.durable().sessions[&p.leader].session;
        let (record, info) = s.plan_alter_partition(
            p.leader,
            session,
            "t",
            0,
            p.leader_epoch,
            p.partition_epoch,
            &ids(isr),
        )?;
        s.apply(&record);
        Ok(info)
    }

    fn shape(p: &PartitionInfo) -> (Vec<BrokerId>, Vec<BrokerId>, Vec<BrokerId>, Vec<BrokerId>) {
        (
            p.replicas.clone(),
            p.isr.clone(),
            p.adding_replicas.clone(),
            p.removing_replicas.clone(),
        )
    }

    #[test]
    fn a_moved_partition_lists_old_and_new_replicas_until_the_new_one_is_in_sync() {
        let mut s = cluster(&[0, 2]);
        let before = partition(&s);
        assert_eq!(reassign(&mut s, &[target(0, Some(&[0, 1]))]), vec![None]);
        let p = partition(&s);
        assert_eq!(
            shape(&p),
            (ids(&[0, 1, 2]), ids(&[0, 2]), ids(&[1]), ids(&[2]))
        );
        assert_eq!(
            (p.leader, p.leader_epoch),
            (before.leader, before.leader_epoch)
        );
        assert_eq!(p.partition_epoch, before.partition_epoch + 1);
        assert_eq!(
            s.list_reassignments(None),
            vec![OngoingReassignment {
                topic: "t".into(),
                partition: 0,
                replicas: ids(&[0, 1, 2]),
                adding_replicas: ids(&[1]),
                removing_replicas: ids(&[2]),
            }]
        );

        // Broker 1 caught up: the leader's ISR expansion completes the move.
        let done = alter_isr(&mut s, &[0, 1, 2]).unwrap();
        assert_eq!(done, partition(&s));
        assert_eq!(shape(&done), (ids(&[0, 1]), ids(&[0, 1]), vec![], vec![]));
        assert_eq!(done.leader, BrokerId(0));
        assert_eq!(
            done.leader_epoch,
            before.leader_epoch.next(),
            "broker 2 left, so the leader epoch moves"
        );
        assert!(done.partition_epoch > p.partition_epoch);
        assert!(s.list_reassignments(None).is_empty());
    }

    #[test]
    fn an_isr_change_that_leaves_a_target_replica_out_does_not_complete() {
        let mut s = cluster(&[0]);
        reassign(&mut s, &[target(0, Some(&[0, 1, 2]))]);
        let p = alter_isr(&mut s, &[0, 1]).unwrap();
        assert_eq!(
            shape(&p),
            (ids(&[0, 1, 2]), ids(&[0, 1]), ids(&[1, 2]), vec![])
        );
        let p = alter_isr(&mut s, &[0, 1, 2]).unwrap();
        assert_eq!(
            shape(&p),
            (ids(&[0, 1, 2]), ids(&[0, 1, 2]), vec![], vec![])
        );
        assert_eq!(
            p.leader_epoch,
            LeaderEpoch(0),
            "nothing was removed and the leader stays: no new leader epoch"
        );
    }

    #[test]
    fn a_leader_being_removed_hands_over_to_the_first_target_replica_in_sync() {
        let mut s = cluster(&[0, 2]);
        reassign(&mut s, &[target(0, Some(&[1, 2]))]);
        let p = partition(&s);
        assert_eq!(
            (shape(&p), p.leader),
            (
                (ids(&[1, 2, 0]), ids(&[2, 0]), ids(&[1]), ids(&[0])),
                BrokerId(0)
            ),
            "the leader keeps leading while the move runs"
        );
        let done = alter_isr(&mut s, &[0, 1, 2]).unwrap();
        assert_eq!(shape(&done), (ids(&[1, 2]), ids(&[1, 2]), vec![], vec![]));
        assert_eq!(
            (done.leader, done.leader_epoch),
            (BrokerId(1), LeaderEpoch(1))
        );
    }

    #[test]
    fn dropping_a_replica_that_is_in_sync_completes_at_once() {
        let mut s = cluster(&[0, 1, 2]);
        assert_eq!(reassign(&mut s, &[target(0, Some(&[0, 1]))]), vec![None]);
        let p = partition(&s);
        assert_eq!(shape(&p), (ids(&[0, 1]), ids(&[0, 1]), vec![], vec![]));
        assert!(s.list_reassignments(None).is_empty());
    }

    #[test]
    fn cancelling_puts_back_the_replicas_and_a_second_cancel_finds_nothing() {
        let mut s = cluster(&[0, 2]);
        let before = partition(&s);
        reassign(&mut s, &[target(0, Some(&[0, 1]))]);
        assert_eq!(reassign(&mut s, &[target(0, None)]), vec![None]);
        let p = partition(&s);
        assert_eq!(shape(&p), (ids(&[0, 2]), ids(&[0, 2]), vec![], vec![]));
        assert_eq!(p.leader, BrokerId(0));
        assert_eq!(p.leader_epoch, before.leader_epoch.next());
        assert_eq!(
            reassign(&mut s, &[target(0, None)]),
            vec![Some(ZkErrorCode::NoReassignmentInProgress)]
        );
    }

    #[test]
    fn a_new_target_replaces_the_reassignment_in_progress() {
        let mut s = cluster(&[0]);
        reassign(&mut s, &[target(0, Some(&[1]))]);
        assert_eq!(
            shape(&partition(&s)),
            (ids(&[1, 0]), ids(&[0]), ids(&[1]), ids(&[0]))
        );
        // Broker 1 never caught up; move to broker 2 instead.
        reassign(&mut s, &[target(0, Some(&[2]))]);
        assert_eq!(
            shape(&partition(&s)),
            (ids(&[2, 0, 1]), ids(&[0]), ids(&[2]), ids(&[0, 1]))
        );
        let done = alter_isr(&mut s, &[0, 2]).unwrap();
        assert_eq!(
            (shape(&done), done.leader),
            ((ids(&[2]), ids(&[2]), vec![], vec![]), BrokerId(2))
        );
    }

    #[test]
    fn each_bad_target_fails_alone_with_kafkas_text() {
        let mut s = cluster(&[0]);
        let targets = [
            target(0, Some(&[])),
            target(0, Some(&[1, 1])),
            target(0, Some(&[1, 7])),
            target(5, Some(&[1])),
            ReassignmentTarget {
                topic: "nope".into(),
                partition: 0,
                replicas: Some(ids(&[1])),
            },
            target(0, Some(&[0, 1])),
        ];
        let (records, results) = s.plan_alter_reassignments(&targets);
        let errors: Vec<Option<(ZkErrorCode, String)>> = results
            .into_iter()
            .map(|r| r.error.map(|e| (e.code, e.message)))
            .collect();
        let bad = |m: &str| Some((ZkErrorCode::InvalidReplicaAssignment, m.to_string()));
        assert_eq!(
            errors,
            vec![
                bad("The manual partition assignment includes an empty replica list."),
                bad("The manual partition assignment includes the broker 1 more than once."),
                bad("The manual partition assignment includes broker 7, but no such broker is registered."),
                Some((ZkErrorCode::UnknownTopic, "Unable to find partition t:5.".into())),
                Some((ZkErrorCode::UnknownTopic, "Unable to find a topic named nope.".into())),
                None,
            ]
        );
        apply(&mut s, &records);
        assert_eq!(partition(&s).adding_replicas, ids(&[1]));
    }

    #[test]
    fn an_isr_change_made_before_the_reassignment_is_refused() {
        let mut s = cluster(&[0, 2]);
        let stale = partition(&s);
        reassign(&mut s, &[target(0, Some(&[0, 1]))]);
        let session = s.durable().sessions[&BrokerId(0)].session;
        let e = s
            .plan_alter_partition(
                BrokerId(0),
                session,
                "t",
                0,
                stale.leader_epoch,
                stale.partition_epoch,
                &ids(&[0]),
            )
            .unwrap_err();
        assert_eq!(e.code, ZkErrorCode::InvalidUpdateVersion);
    }

    #[test]
    fn cancelling_when_only_adding_replicas_are_in_sync_needs_unclean_election() {
        let mut s = cluster(&[0]);
        reassign(&mut s, &[target(0, Some(&[1]))]);
        // Broker 1 caught up and leads... before completion could run, broker 0 left the ISR.
        let mut topic = s.durable().topics["t"].clone();
        topic.partitions[0].isr = ids(&[1]);
        topic.partitions[0].leader = BrokerId(1);
        s.apply(&Record::PutTopic { topic });
        let (_, results) = s.plan_alter_reassignments(&[target(0, None)]);
        let e = results[0].error.clone().unwrap();
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                ZkErrorCode::InvalidReplicaAssignment,
                "Unable to revert partition assignment for t:0 because it would require an \
                 unclean leader election."
            )
        );
    }
}
