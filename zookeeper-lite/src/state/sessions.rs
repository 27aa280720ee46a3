//! Broker sessions: registration, heartbeats, expiry and controlled shutdown, and their effect on
//! partitions, following Kafka's ISR model:
//!
//! - a broker leaves the ISR of every partition when its session ends, except the last in-sync
//!   replica, which stays listed (with no leader) so that only it can lead again;
//! - a partition whose leader is gone gets the next live in-sync replica as leader, never a
//!   replica outside the ISR unless `unclean.leader.election.enable` is set for its topic (as an
//!   override or a dynamic cluster default);
//! - a registering broker does not rejoin any ISR (its leader adds it once it has caught up,
//!   through AlterPartition); it only leads partitions that have no leader and list it in their
//!   ISR;
//! - every change of leader bumps the leader epoch, every change of leader or ISR the partition
//!   epoch.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::*;

/// After a restart, brokers named in partitions but holding no kept session get at least this
/// long to re-register before they are treated as expired.
pub const RESTART_GRACE: Duration = Duration::from_secs(30);
/// Session timeouts are bounded so that deadline arithmetic cannot overflow.
pub const MAX_SESSION_TIMEOUT_MS: u64 = 24 * 3600 * 1000;

/// Kafka's `unclean.leader.election.enable` for a topic: its override, else the dynamic cluster
/// default, else false (Kafka's default). A broker's static `server.properties` value is not
/// known here.
pub(super) fn unclean_allowed(
    topic_configs: &BTreeMap<String, String>,
    broker_configs: &BTreeMap<String, BTreeMap<String, String>>,
) -> bool {
    const KEY: &str = "unclean.leader.election.enable";
    topic_configs
        .get(KEY)
        .or_else(|| {
            broker_configs
                .get(crate::protocol::BROKER_DEFAULT_ENTITY)
                .and_then(|c| c.get(KEY))
        })
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

impl State {
    // ---- brokers ----------------------------------------------------------------------------

    /// Validates a registration and plans it: the session record, and leadership of partitions
    /// that have none and list the broker in their ISR (or, with unclean election allowed, that
    /// have no live in-sync replica at all). Returns the records and the session id to use.
    pub fn plan_register(
        &self,
        broker: &BrokerInfo,
        session_timeout_ms: u64,
    ) -> Result<(Vec<Record>, SessionId), ServerError> {
        if broker.id.is_none() {
            return Err(err(
                ZkErrorCode::InvalidRequest,
                format!("Broker id must not be negative: {}.", broker.id),
            ));
        }
        if !(1..=MAX_SESSION_TIMEOUT_MS).contains(&session_timeout_ms) {
            return Err(err(
                ZkErrorCode::InvalidRequest,
                format!(
                    "Session timeout {session_timeout_ms} ms is outside 1..={MAX_SESSION_TIMEOUT_MS} ms."
                ),
            ));
        }
        if let Some(s) = self.durable.sessions.get(&broker.id) {
            return Err(err(
                ZkErrorCode::BrokerIdInUse,
                format!(
                    "Broker id {} is already registered by a live session {} of {}:{}.",
                    broker.id, s.session, s.broker.host, s.broker.port
                ),
            ));
        }
        let id = broker.id;
        let session = self.next_session;
        let mut records = Vec::new();
        if session_timeout_ms > self.durable.max_session_timeout_ms {
            records.push(Record::SessionTimeoutSeen {
                ms: session_timeout_ms,
            });
        }
        records.push(Record::PutSession {
            session: SessionRecord {
                broker: broker.clone(),
                session,
                timeout_ms: session_timeout_ms.min(MAX_SESSION_TIMEOUT_MS),
            },
        });
        let broker_configs = &self.durable.broker_configs;
        records.extend(self.plan_partitions(|configs, p| {
            if !p.replicas.contains(&id) || !p.leader.is_none() {
                return false;
            }
            if p.isr.contains(&id) {
                p.leader = id;
                p.leader_epoch = p.leader_epoch.next();
                return true;
            }
            let isr_alive = p.isr.iter().any(|&b| b != id && self.is_eligible(b));
            if !isr_alive && unclean_allowed(configs, broker_configs) {
                tracing::warn!(
                    "unclean leader election: broker {id} leads a partition although it was not \
                     in its ISR {:?}; records only the old ISR had are lost",
                    p.isr
                );
                p.leader = id;
                p.isr = vec![id];
                p.leader_epoch = p.leader_epoch.next();
                return true;
            }
            false
        }));
        Ok((records, session))
    }

    /// Starts the session of a broker whose [`State::plan_register`] records were applied.
    pub fn register(&mut self, broker_id: BrokerId, now: Instant) {
        self.next_session += 1;
        self.absent.remove(&broker_id);
        self.shutting_down.remove(&broker_id);
        self.last_seen.insert(broker_id, now);
    }

    pub fn check_session(
        &self,
        broker_id: BrokerId,
        session: SessionId,
    ) -> Result<(), ServerError> {
        match self.durable.sessions.get(&broker_id) {
            Some(s) if s.session == session => Ok(()),
            _ => Err(err(
                ZkErrorCode::SessionExpired,
                format!("Session {session} of broker {broker_id} has expired or is unknown."),
            )),
        }
    }

    /// Keeps a session alive; answers the metadata version so brokers notice changes.
    pub fn heartbeat(
        &mut self,
        broker_id: BrokerId,
        session: SessionId,
        now: Instant,
    ) -> Result<u64, ServerError> {
        self.check_session(broker_id, session)?;
        self.last_seen.insert(broker_id, now);
        Ok(self.version)
    }

    /// Brokers whose session timed out, or who did not come back within the restart grace.
    pub fn expired(&self, now: Instant) -> Vec<BrokerId> {
        let mut out: BTreeSet<BrokerId> = self
            .durable
            .sessions
            .iter()
            .filter(|(id, s)| {
                let seen = self.last_seen.get(id).copied().unwrap_or(now);
                now.saturating_duration_since(seen) > Duration::from_millis(s.timeout_ms)
            })
            .map(|(&id, _)| id)
            .collect();
        out.extend(
            self.absent
                .iter()
                .filter(|(_, &d)| now >= d)
                .map(|(&id, _)| id),
        );
        out.into_iter().collect()
    }

    /// The next leader of `p` when `gone` can no longer lead: the first eligible in-sync replica
    /// in replica order.
    fn next_leader(&self, p: &PartitionInfo, gone: BrokerId) -> Option<BrokerId> {
        p.isr
            .iter()
            .copied()
            .find(|&b| b != gone && self.is_eligible(b))
    }

    /// Moves `p` away from broker `id` (its session ended, or it shuts down): a new leader from
    /// the ISR if `id` led it, and `id` out of the ISR unless it is the last member and no other
    /// leader could be found. Returns whether anything changed.
    fn move_away(
        &self,
        id: BrokerId,
        p: &mut PartitionInfo,
        unclean: bool,
        session_ended: bool,
    ) -> bool {
        let leads = p.leader == id;
        if !leads && !p.isr.contains(&id) {
            return false;
        }
        if leads {
            match self.next_leader(p, id) {
                Some(next) => {
                    p.leader = next;
                    p.isr.retain(|&b| b != id);
                }
                None => {
                    let outside = p
                        .replicas
                        .iter()
                        .copied()
                        .find(|&b| b != id && self.is_eligible(b));
                    match outside.filter(|_| unclean && session_ended) {
                        Some(b) => {
                            tracing::warn!(
                                "unclean leader election: broker {b} leads a partition \
                                 although it was not in its ISR {:?}",
                                p.isr
                            );
                            p.leader = b;
                            p.isr = vec![b];
                        }
                        None if session_ended => {
                            // Kafka keeps the last in-sync replica in the ISR: only it has
                            // every acknowledged record, so only it may lead again.
                            p.leader = BrokerId::NONE;
                            if p.isr.len() > 1 {
                                p.isr.retain(|&b| b != id);
                            }
                        }
                        // Controlled shutdown with no one to hand over to: it keeps leading.
                        None => return false,
                    }
                }
            }
            p.leader_epoch = p.leader_epoch.next();
            return true;
        }
        if p.isr.len() > 1 {
            p.isr.retain(|&b| b != id);
            return true;
        }
        false
    }

    /// Plans a broker's departure (its session expired or it unregistered): its session record
    /// goes, partitions it led get a new leader from the ISR, it leaves every ISR (see the
    /// module doc for the last in-sync replica).
    pub fn plan_remove_broker(&self, id: BrokerId) -> Vec<Record> {
        let broker_configs = &self.durable.broker_configs;
        let mut records = self.plan_partitions(|configs, p| {
            self.move_away(id, p, unclean_allowed(configs, broker_configs), true)
        });
        if self.durable.sessions.contains_key(&id) {
            records.push(Record::DeleteSession { broker_id: id });
        }
        records
    }

    /// Ends a broker's session (after its [`State::plan_remove_broker`] records were applied).
    pub fn remove_broker(&mut self, id: BrokerId) {
        self.last_seen.remove(&id);
        self.absent.remove(&id);
        self.shutting_down.remove(&id);
        self.version += 1;
    }

    /// Plans Kafka's controlled shutdown of `id`: leadership of its partitions moves to other
    /// live in-sync replicas, and it leaves the ISR of the partitions it follows. Returns the
    /// records and the partitions it still leads (nobody else in their ISR).
    pub fn plan_controlled_shutdown(
        &self,
        id: BrokerId,
        session: SessionId,
    ) -> Result<(Vec<Record>, Vec<TopicPartition>), ServerError> {
        self.check_session(id, session)?;
        let records = self.plan_partitions(|_, p| self.move_away(id, p, false, false));
        let mut remaining = Vec::new();
        let changed: BTreeMap<&str, &TopicInfo> = records
            .iter()
            .filter_map(|r| match r {
                Record::PutTopic { topic } => Some((topic.name.as_str(), topic)),
                _ => None,
            })
            .collect();
        for t in self.durable.topics.values() {
            let t = changed.get(t.name.as_str()).copied().unwrap_or(t);
            for p in &t.partitions {
                // As Kafka's `doControlledShutdown`: a partition with one replica has nowhere
                // to go and does not hold the shutdown up.
                if p.leader == id && p.replicas.len() > 1 {
                    remaining.push(TopicPartition {
                        topic: t.name.clone(),
                        partition: p.partition,
                    });
                }
            }
        }
        Ok((records, remaining))
    }

    /// Marks `id` as shutting down (after its controlled-shutdown records were applied): it is
    /// not elected or added to an ISR again until it registers anew.
    pub fn begin_shutdown(&mut self, id: BrokerId) {
        self.shutting_down.insert(id);
        self.version += 1;
    }

    // ---- partition state ----------------------------------------------------------------

    /// Plans Kafka's AlterPartition: the leader of `topic`-`partition` (`broker_id`, holding
    /// `session`) sets its ISR to `new_isr`. Refused unless the leader epoch and partition epoch
    /// are the current ones; replicas added must be eligible (live, not shutting down); the
    /// leader must stay in. An ISR that holds every target replica of a reassignment in progress
    /// completes it (see `reassignments`). Returns the record and the partition as it will be.
    #[allow(clippy::too_many_arguments)]
    pub fn plan_alter_partition(
        &self,
        broker_id: BrokerId,
        session: SessionId,
        topic: &str,
        partition: i32,
        leader_epoch: LeaderEpoch,
        partition_epoch: i32,
        new_isr: &[BrokerId],
    ) -> Result<(Record, PartitionInfo), ServerError> {
        self.check_session(broker_id, session)?;
        let t = self
            .durable
            .topics
            .get(topic)
            .ok_or_else(|| unknown_topic(topic))?;
        let p = t
            .partitions
            .iter()
            .find(|p| p.partition == partition)
            .ok_or_else(|| unknown_topic(topic))?;
        if leader_epoch < p.leader_epoch {
            return Err(err(
                ZkErrorCode::FencedLeaderEpoch,
                format!(
                    "The leader epoch {leader_epoch} of {topic}-{partition} is older than the \
                     current {}.",
                    p.leader_epoch
                ),
            ));
        }
        if p.leader != broker_id || leader_epoch != p.leader_epoch {
            return Err(err(
                ZkErrorCode::NotLeader,
                format!(
                    "Broker {broker_id} is not the leader of {topic}-{partition} at epoch \
                     {leader_epoch} (the leader is {} at epoch {}).",
                    p.leader, p.leader_epoch
                ),
            ));
        }
        if partition_epoch != p.partition_epoch {
            return Err(err(
                ZkErrorCode::InvalidUpdateVersion,
                format!(
                    "The partition epoch {partition_epoch} of {topic}-{partition} is not the \
                     current {}.",
                    p.partition_epoch
                ),
            ));
        }
        let mut unique = BTreeSet::new();
        if !new_isr.contains(&broker_id)
            || new_isr
                .iter()
                .any(|b| !p.replicas.contains(b) || !unique.insert(*b))
        {
            return Err(err(
                ZkErrorCode::InvalidRequest,
                format!(
                    "The ISR [{}] of {topic}-{partition} must be distinct replicas of [{}] that \
                     include the leader {broker_id}.",
                    join(new_isr),
                    join(&p.replicas)
                ),
            ));
        }
        if let Some(b) = new_isr
            .iter()
            .find(|b| !p.isr.contains(b) && !self.is_eligible(**b))
        {
            return Err(err(
                ZkErrorCode::IneligibleReplica,
                format!(
                    "Replica {b} of {topic}-{partition} cannot join the ISR: it is not live or \
                     is shutting down."
                ),
            ));
        }
        let mut topic_info = t.clone();
        let mut updated = p.clone();
        updated.isr = p
            .replicas
            .iter()
            .copied()
            .filter(|b| new_isr.contains(b))
            .collect();
        // The ISR the leader asked for may complete a reassignment (its adding replicas caught
        // up), which replaces the replicas, and maybe the leader, in the same change.
        let completed =
            super::reassignments::complete_if_caught_up(&mut updated, |b| self.is_eligible(b));
        if completed {
            tracing::info!(
                "{topic}-{partition}: reassignment completed; replicas are now [{}], ISR [{}], \
                 leader {} at epoch {}",
                join(&updated.replicas),
                join(&updated.isr),
                updated.leader,
                updated.leader_epoch
            );
        }
        if updated.isr != p.isr || completed {
            updated.partition_epoch = p.partition_epoch.wrapping_add(1);
        }
        if let Some(slot) = topic_info
            .partitions
            .iter_mut()
            .find(|q| q.partition == partition)
        {
            *slot = updated.clone();
        }
        Ok((Record::PutTopic { topic: topic_info }, updated))
    }

    /// Kafka's `processTopicUncleanLeaderElectionEnable` / `processUncleanLeaderElectionEnable`:
    /// once `unclean.leader.election.enable` is on for a topic (its override or the dynamic
    /// cluster default), its partitions without a live leader get one from their live replicas
    /// at once, rather than at the next broker registration.
    pub fn plan_unclean_elections(&self) -> Vec<Record> {
        let broker_configs = &self.durable.broker_configs;
        let wanted: Vec<TopicPartition> = self
            .durable
            .topics
            .values()
            .filter(|t| unclean_allowed(&t.configs, broker_configs))
            .flat_map(|t| {
                t.partitions
                    .iter()
                    .filter(|p| p.leader.is_none() || !self.is_up(p.leader))
                    .map(|p| TopicPartition {
                        topic: t.name.clone(),
                        partition: p.partition,
                    })
            })
            .collect();
        if wanted.is_empty() {
            return Vec::new();
        }
        self.plan_elect_leaders(ElectionType::Unclean, Some(&wanted))
            .0
    }

    /// Plans Kafka's ElectLeaders for `partitions` (every partition when `None`): preferred
    /// elects the first replica when it is eligible and in the ISR; unclean elects a live
    /// in-sync replica, or any live replica, for partitions without a leader. Returns the
    /// records and every partition's outcome, ELECTION_NOT_NEEDED included, as Kafka's
    /// `KafkaController.processReplicaLeaderElection` does (for a request naming no partitions,
    /// the broker leaves those out of its answer, as `KafkaApis.handleElectLeaders` does).
    pub fn plan_elect_leaders(
        &self,
        election: ElectionType,
        partitions: Option<&[TopicPartition]>,
    ) -> (Vec<Record>, Vec<ElectionResult>) {
        let wanted: Option<BTreeSet<(&str, i32)>> = partitions.map(|ps| {
            ps.iter()
                .map(|tp| (tp.topic.as_str(), tp.partition))
                .collect()
        });
        let mut results = Vec::new();
        let mut records = Vec::new();
        if let Some(w) = &wanted {
            for &(topic, partition) in w {
                let known = self
                    .durable
                    .topics
                    .get(topic)
                    .is_some_and(|t| t.partitions.iter().any(|p| p.partition == partition));
                if !known {
                    results.push(ElectionResult {
                        topic: topic.to_string(),
                        partition,
                        error: Some(err(
                            ZkErrorCode::UnknownTopic,
                            "The partition does not exist.",
                        )),
                    });
                }
            }
        }
        for t in self.durable.topics.values() {
            let mut topic = t.clone();
            let mut changed = false;
            for p in &mut topic.partitions {
                if wanted
                    .as_ref()
                    .is_some_and(|w| !w.contains(&(t.name.as_str(), p.partition)))
                {
                    continue;
                }
                let tp = format!("{}-{}", t.name, p.partition);
                let outcome = match election {
                    ElectionType::Preferred => {
                        let preferred = p.replicas.first().copied().unwrap_or(BrokerId::NONE);
                        if p.leader == preferred {
                            Err(err(
                                ZkErrorCode::ElectionNotNeeded,
                                "Leader election not needed for topic partition.",
                            ))
                        } else if self.is_eligible(preferred) && p.isr.contains(&preferred) {
                            Ok(preferred)
                        } else {
                            Err(err(
                                ZkErrorCode::PreferredLeaderNotAvailable,
                                format!(
                                    "Failed to elect leader for partition {tp} under strategy \
                                     PreferredReplicaPartitionLeaderElectionStrategy"
                                ),
                            ))
                        }
                    }
                    ElectionType::Unclean => {
                        if !p.leader.is_none() && self.is_up(p.leader) {
                            Err(err(
                                ZkErrorCode::ElectionNotNeeded,
                                "Leader election not needed for topic partition.",
                            ))
                        } else {
                            let in_isr = p.isr.iter().copied().find(|&b| self.is_eligible(b));
                            let any = p.replicas.iter().copied().find(|&b| self.is_eligible(b));
                            match in_isr.or(any) {
                                Some(b) => Ok(b),
                                None => Err(err(
                                    ZkErrorCode::EligibleLeadersNotAvailable,
                                    format!(
                                        "Failed to elect leader for partition {tp} under \
                                         strategy OfflinePartitionLeaderElectionStrategy(true)"
                                    ),
                                )),
                            }
                        }
                    }
                };
                match outcome {
                    Ok(leader) => {
                        p.leader = leader;
                        p.leader_epoch = p.leader_epoch.next();
                        if !p.isr.contains(&leader) {
                            p.isr = vec![leader];
                        }
                        p.partition_epoch = p.partition_epoch.wrapping_add(1);
                        changed = true;
                        results.push(ElectionResult {
                            topic: t.name.clone(),
                            partition: p.partition,
                            error: None,
                        });
                    }
                    Err(e) => results.push(ElectionResult {
                        topic: t.name.clone(),
                        partition: p.partition,
                        error: Some(e),
                    }),
                }
            }
            if changed {
                records.push(Record::PutTopic { topic });
            }
        }
        (records, results)
    }
}
