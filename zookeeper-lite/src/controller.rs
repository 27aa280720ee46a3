//! The controller (Kafka's name for the node that owns the cluster metadata): the state machine
//! and its journal glued together. Each request is planned
//! against the state, its records journaled (fsynced), then applied, then answered; nothing is
//! acknowledged that a crash could lose.

use std::path::Path;
use std::time::Instant;

use crate::journal::{Journal, JournalError};
use crate::protocol::{Request, Response, ServerError, ZkErrorCode};
use crate::state::{Record, State};

pub struct Controller {
    state: State,
    journal: Journal,
    /// The metadata version, published after every request and tick for `watch_metadata`.
    version: tokio::sync::watch::Sender<u64>,
}

impl Controller {
    /// Recovers from `data_dir`; brokers named in partitions get their grace from `now`.
    pub fn open(data_dir: &Path, now: Instant) -> Result<Controller, JournalError> {
        let (durable, journal) = Journal::open(data_dir)?;
        let state = State::new(durable, now);
        Ok(Controller {
            version: tokio::sync::watch::Sender::new(state.version()),
            state,
            journal,
        })
    }

    /// Metadata version changes (WatchMetadata waits on these).
    pub fn subscribe_version(&self) -> tokio::sync::watch::Receiver<u64> {
        self.version.subscribe()
    }

    fn publish_version(&self) {
        let v = self.state.version();
        self.version.send_if_modified(|cur| {
            let moved = *cur != v;
            *cur = v;
            moved
        });
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// The journal, for its size and fsync metrics.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    fn commit(&mut self, records: &[Record]) -> Result<(), ServerError> {
        if records.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.journal.append(records) {
            tracing::error!("journal append failed, change refused: {e}");
            return Err(ServerError::new(
                ZkErrorCode::Internal,
                format!("journal write failed: {e}"),
            ));
        }
        for r in records {
            self.state.apply(r);
        }
        Ok(())
    }

    /// Expires overdue sessions, moving leadership away from them.
    pub fn tick(&mut self, now: Instant) {
        self.expire(now);
        self.publish_version();
    }

    fn expire(&mut self, now: Instant) {
        for id in self.state.expired(now) {
            let records = self.state.plan_remove_broker(id);
            if self.commit(&records).is_err() {
                // Retried on the next tick; the broker stays listed until the change is durable.
                return;
            }
            self.state.remove_broker(id);
            tracing::info!(
                "broker {id}: session expired; {} topics had leadership or ISR changed",
                records.len()
            );
        }
    }

    /// Elects leaders outside the ISR for leaderless partitions whose topic now allows it
    /// (after a config change). A journal failure leaves them for the next change or
    /// registration.
    fn unclean_elections(&mut self) {
        let records = self.state.plan_unclean_elections();
        if records.is_empty() {
            return;
        }
        match self.commit(&records) {
            Ok(()) => tracing::warn!(
                "unclean.leader.election.enable is on: leaders elected outside the ISR in {} \
                 topics; records only the old ISR had are lost",
                records.len()
            ),
            Err(e) => tracing::error!("unclean leader election not recorded: {e}"),
        }
    }

    pub fn handle(&mut self, req: Request, now: Instant) -> Response {
        // Expire first, so a heartbeat after its deadline is refused even between ticks.
        self.expire(now);
        let response = match self.dispatch(req, now) {
            Ok(r) => r,
            Err(error) => Response::Error { error },
        };
        self.publish_version();
        response
    }

    fn dispatch(&mut self, req: Request, now: Instant) -> Result<Response, ServerError> {
        match req {
            Request::RegisterBroker {
                broker,
                session_timeout_ms,
            } => {
                let (records, session) = self.state.plan_register(&broker, session_timeout_ms)?;
                self.commit(&records)?;
                let (id, host, port) = (broker.id, broker.host.clone(), broker.port);
                self.state.register(id, now);
                tracing::info!(
                    "broker {id} registered from {host}:{port} (session {session}, timeout {session_timeout_ms} ms)"
                );
                Ok(Response::Registered { session })
            }
            Request::Heartbeat { broker_id, session } => Ok(Response::Heartbeat {
                version: self.state.heartbeat(broker_id, session, now)?,
            }),
            Request::UnregisterBroker { broker_id, session } => {
                self.state.check_session(broker_id, session)?;
                let records = self.state.plan_remove_broker(broker_id);
                self.commit(&records)?;
                self.state.remove_broker(broker_id);
                tracing::info!("broker {broker_id} unregistered");
                Ok(Response::Unregistered)
            }
            Request::Metadata => Ok(Response::Metadata {
                metadata: self.state.metadata(),
            }),
            Request::CreateTopic { topic } => {
                let info = self.state.plan_create_topic(&topic)?;
                if !topic.validate_only {
                    self.commit(&[Record::PutTopic {
                        topic: info.clone(),
                    }])?;
                    tracing::info!(
                        "created topic {} (id {}, {} partitions)",
                        info.name,
                        info.id,
                        info.partitions.len()
                    );
                }
                Ok(Response::TopicCreated { topic: info })
            }
            Request::DeleteTopic { name } => {
                let record = self.state.plan_delete_topic(&name)?;
                self.commit(&[record])?;
                tracing::info!("deleted topic {name}");
                Ok(Response::TopicDeleted)
            }
            Request::CreatePartitions {
                name,
                total,
                assignment,
            } => {
                let info =
                    self.state
                        .plan_create_partitions(&name, total, assignment.as_deref())?;
                self.commit(&[Record::PutTopic {
                    topic: info.clone(),
                }])?;
                tracing::info!("topic {name} now has {total} partitions");
                Ok(Response::PartitionsCreated { topic: info })
            }
            Request::CommitOffsets {
                group,
                generation,
                offsets,
            } => {
                let (record, results) = self
                    .state
                    .plan_commit_offsets(&group, generation, &offsets)?;
                if let Some(record) = record {
                    self.commit(&[record])?;
                }
                tracing::debug!(
                    "group {group} (generation {generation}) committed {} offsets",
                    results.iter().filter(|r| r.error.is_none()).count()
                );
                Ok(Response::OffsetsCommitted { results })
            }
            Request::FetchOffsets { group, partitions } => Ok(Response::Offsets {
                offsets: self.state.fetch_offsets(&group, partitions.as_deref()),
            }),
            Request::ListOffsetGroups => Ok(Response::OffsetGroups {
                groups: self.state.offset_groups(),
            }),
            Request::GroupGeneration { group } => Ok(Response::GroupGeneration {
                generation: self.state.group_generation(&group),
            }),
            Request::DeleteGroupOffsets { group } => {
                let record = self.state.plan_delete_group_offsets(&group)?;
                self.commit(&[record])?;
                tracing::info!("deleted the committed offsets of group {group}");
                Ok(Response::GroupOffsetsDeleted)
            }
            Request::DeleteOffsets { group, partitions } => {
                let record = self.state.plan_delete_offsets(&group, &partitions)?;
                self.commit(&[record])?;
                tracing::info!(
                    "deleted {} committed offsets of group {group}",
                    partitions.len()
                );
                Ok(Response::OffsetsDeleted)
            }
            Request::AlterTopicConfigs {
                name,
                configs,
                validate_only,
            } => {
                let topic = self.state.plan_alter_topic_configs(&name, &configs)?;
                if !validate_only {
                    self.commit(&[Record::PutTopic {
                        topic: topic.clone(),
                    }])?;
                    tracing::info!("topic {name}: config overrides are now {configs:?}");
                    self.unclean_elections();
                }
                Ok(Response::TopicConfigsAltered { topic })
            }
            Request::AlterBrokerConfigs {
                entity,
                configs,
                validate_only,
            } => {
                let record = self.state.plan_alter_broker_configs(&entity, &configs)?;
                if !validate_only {
                    self.commit(&[record])?;
                    let who = if entity.is_empty() {
                        "the cluster default".to_string()
                    } else {
                        format!("broker {entity}")
                    };
                    tracing::info!("dynamic broker configs of {who} are now {configs:?}");
                    self.unclean_elections();
                }
                Ok(Response::BrokerConfigsAltered)
            }
            Request::AlterPartition {
                broker_id,
                session,
                topic,
                partition,
                leader_epoch,
                partition_epoch,
                new_isr,
            } => {
                let (record, info) = self.state.plan_alter_partition(
                    broker_id,
                    session,
                    &topic,
                    partition,
                    leader_epoch,
                    partition_epoch,
                    &new_isr,
                )?;
                self.commit(&[record])?;
                tracing::info!(
                    "{topic}-{partition}: ISR is now {:?} (leader {broker_id}, leader epoch \
                     {leader_epoch}, partition epoch {})",
                    info.isr,
                    info.partition_epoch
                );
                Ok(Response::PartitionAltered { partition: info })
            }
            Request::AllocateProducerIds { broker_id, session } => {
                let (record, first, count) =
                    self.state.plan_allocate_producer_ids(broker_id, session)?;
                self.commit(&[record])?;
                tracing::info!(
                    "producer ids {first} to {} are broker {broker_id}'s",
                    first + i64::from(count) - 1
                );
                Ok(Response::ProducerIdsAllocated { first, count })
            }
            // Served by the connection loop, which can wait without holding the controller.
            Request::WatchMetadata { .. } => Ok(Response::Metadata {
                metadata: self.state.metadata(),
            }),
            Request::ElectLeaders {
                election,
                partitions,
            } => {
                let (records, results) = self
                    .state
                    .plan_elect_leaders(election, partitions.as_deref());
                self.commit(&records)?;
                for r in results.iter().filter(|r| r.error.is_none()) {
                    tracing::info!(
                        "{}-{}: {election:?} leader election done",
                        r.topic,
                        r.partition
                    );
                }
                Ok(Response::LeadersElected { results })
            }
            Request::ControlledShutdown { broker_id, session } => {
                let (records, remaining) =
                    self.state.plan_controlled_shutdown(broker_id, session)?;
                self.commit(&records)?;
                self.state.begin_shutdown(broker_id);
                tracing::info!(
                    "broker {broker_id}: controlled shutdown; {} partitions still led by it",
                    remaining.len()
                );
                Ok(Response::ShutdownPrepared { remaining })
            }
            Request::AlterPartitionReassignments { targets } => {
                let (records, results) = self.state.plan_alter_reassignments(&targets);
                self.commit(&records)?;
                for (t, r) in targets.iter().zip(&results) {
                    match (&r.error, &t.replicas) {
                        (Some(e), _) => tracing::info!(
                            "Unable to alter partition reassignment for {}:{} because of an \
                             {:?} error: {}",
                            t.topic,
                            t.partition,
                            e.code,
                            e.message
                        ),
                        (None, Some(replicas)) => tracing::info!(
                            "{}-{}: reassignment to {replicas:?} accepted",
                            t.topic,
                            t.partition
                        ),
                        (None, None) => {
                            tracing::info!("{}-{}: reassignment cancelled", t.topic, t.partition)
                        }
                    }
                }
                Ok(Response::ReassignmentsAltered { results })
            }
            Request::ListPartitionReassignments { partitions } => Ok(Response::Reassignments {
                reassignments: self.state.list_reassignments(partitions.as_deref()),
            }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::protocol::{BrokerId, BrokerInfo, LeaderEpoch, NewTopic, TopicPartition};
    use std::time::Duration;

    #[test]
    fn acknowledged_topics_and_sessions_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let now = Instant::now();
        let mut c = Controller::open(dir.path(), now).unwrap();
        let broker = BrokerInfo {
            id: BrokerId(0),
            host: "localhost".into(),
            port: 9092,
            rack: None,
        };
        let r = c.handle(
            Request::RegisterBroker {
                broker,
                session_timeout_ms: 100,
            },
            now,
        );
        let Response::Registered { session } = r else {
            panic!("{r:?}")
        };
        let r = c.handle(
            Request::CreateTopic {
                topic: NewTopic {
                    name: "t".into(),
                    num_partitions: 2,
                    replication_factor: 1,
                    replica_assignment: None,
                    configs: [("retention.ms".to_string(), "1000".to_string())].into(),
                    validate_only: false,
                },
            },
            now,
        );
        let Response::TopicCreated { topic } = r else {
            panic!("{r:?}")
        };
        let v = c.state().version();
        drop(c);
        let later = now + Duration::from_millis(50);
        let mut c = Controller::open(dir.path(), later).unwrap();
        assert!(c.state().version() > v);
        let Response::Metadata { metadata } = c.handle(Request::Metadata, later) else {
            panic!()
        };
        assert_eq!(metadata.topics["t"], topic);
        assert_eq!(metadata.brokers.len(), 1);
        // The broker carries on with the session it had: no re-registration, nothing moves.
        let r = c.handle(
            Request::Heartbeat {
                broker_id: BrokerId(0),
                session,
            },
            later + Duration::from_millis(90),
        );
        assert!(matches!(r, Response::Heartbeat { .. }), "{r:?}");
        // Unheard of for a whole timeout, it expires as it would have without the restart.
        let r = c.handle(
            Request::Heartbeat {
                broker_id: BrokerId(0),
                session,
            },
            later + Duration::from_millis(200),
        );
        assert!(
            matches!(r, Response::Error { error } if error.code == ZkErrorCode::SessionExpired)
        );
        let p = &c.state().metadata().topics["t"].partitions[0];
        assert_eq!(
            (p.leader, p.isr.clone()),
            (BrokerId::NONE, vec![BrokerId(0)])
        );
    }

    #[test]
    fn validate_only_changes_nothing_and_unregister_moves_leadership_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let now = Instant::now();
        let mut c = Controller::open(dir.path(), now).unwrap();
        let mut sessions = Vec::new();
        for id in [0, 1] {
            let broker = BrokerInfo {
                id: BrokerId(id),
                host: "localhost".into(),
                port: 9092,
                rack: None,
            };
            let r = c.handle(
                Request::RegisterBroker {
                    broker,
                    session_timeout_ms: 60_000,
                },
                now,
            );
            let Response::Registered { session } = r else {
                panic!("{r:?}")
            };
            sessions.push(session);
        }
        let mut topic = NewTopic {
            name: "t".into(),
            num_partitions: 1,
            replication_factor: 2,
            replica_assignment: None,
            configs: Default::default(),
            validate_only: true,
        };
        let v = c.state().version();
        let r = c.handle(
            Request::CreateTopic {
                topic: topic.clone(),
            },
            now,
        );
        assert!(matches!(r, Response::TopicCreated { .. }), "{r:?}");
        assert_eq!(c.state().version(), v);
        assert!(c.state().durable().topics.is_empty());
        topic.validate_only = false;
        c.handle(Request::CreateTopic { topic }, now);
        let r = c.handle(
            Request::UnregisterBroker {
                broker_id: BrokerId(0),
                session: sessions[0],
            },
            now,
        );
        assert_eq!(r, Response::Unregistered);
        let p = &c.state().durable().topics["t"].partitions[0];
        assert_eq!(
            (p.leader, p.leader_epoch, p.isr.clone()),
            (BrokerId(1), LeaderEpoch(1), vec![BrokerId(1)])
        );
    }

    #[test]
    fn committed_offsets_survive_reopen_and_stale_commits_are_answered_with_an_error() {
        use crate::protocol::CommittedOffset;
        let dir = tempfile::tempdir().unwrap();
        let now = Instant::now();
        let mut c = Controller::open(dir.path(), now).unwrap();
        let broker = BrokerInfo {
            id: BrokerId(0),
            host: "localhost".into(),
            port: 9092,
            rack: None,
        };
        c.handle(
            Request::RegisterBroker {
                broker,
                session_timeout_ms: 60_000,
            },
            now,
        );
        c.handle(
            Request::CreateTopic {
                topic: NewTopic {
                    name: "t".into(),
                    num_partitions: 1,
                    replication_factor: 1,
                    replica_assignment: None,
                    configs: Default::default(),
                    validate_only: false,
                },
            },
            now,
        );
        let commit = |generation: i32, offset: i64| Request::CommitOffsets {
            group: "g".into(),
            generation,
            offsets: vec![CommittedOffset {
                topic: "t".into(),
                partition: 0,
                offset,
                leader_epoch: common::ids::LeaderEpoch(0),
                metadata: Some(String::new()),
                commit_timestamp_ms: 1,
            }],
        };
        let r = c.handle(commit(2, 40), now);
        assert!(
            matches!(&r, Response::OffsetsCommitted { results } if results.len() == 1 && results[0].error.is_none()),
            "{r:?}"
        );
        let r = c.handle(commit(1, 10), now);
        assert!(
            matches!(&r, Response::Error { error } if error.code == ZkErrorCode::IllegalGeneration),
            "{r:?}"
        );
        drop(c);
        let mut c = Controller::open(dir.path(), now).unwrap();
        let r = c.handle(
            Request::FetchOffsets {
                group: "g".into(),
                partitions: None,
            },
            now,
        );
        let Response::Offsets { offsets } = r else {
            panic!("{r:?}")
        };
        assert_eq!(
            (offsets[0].offset, offsets[0].metadata.as_deref()),
            (40, Some(""))
        );
        assert_eq!(
            c.handle(Request::GroupGeneration { group: "g".into() }, now),
            Response::GroupGeneration { generation: 2 }
        );
    }
    fn register(c: &mut Controller, id: i32, port: u16, timeout_ms: u64, now: Instant) -> Response {
        c.handle(
            Request::RegisterBroker {
                broker: BrokerInfo {
                    id: BrokerId(id),
                    host: "localhost".into(),
                    port,
                    rack: None,
                },
                session_timeout_ms: timeout_ms,
            },
            now,
        )
    }

    #[test]
    fn the_cluster_id_is_made_once_and_kept_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let now = Instant::now();
        let c = Controller::open(dir.path(), now).unwrap();
        let id = c.state().metadata().cluster_id;
        assert_eq!(id.len(), 22, "{id}");
        assert!(
            id.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
                && !id.starts_with('-'),
            "{id}"
        );
        drop(c);
        let c = Controller::open(dir.path(), now).unwrap();
        assert_eq!(c.state().metadata().cluster_id, id);
        // Another data directory is another cluster.
        let other = tempfile::tempdir().unwrap();
        let c2 = Controller::open(other.path(), now).unwrap();
        assert_ne!(c2.state().metadata().cluster_id, id);
    }

    /// AllocateProducerIds: blocks of 1000 that never overlap, for any broker, across restarts
    /// of zookeeper-lite (the blocks are journaled before the answer); a session the broker does
    /// not hold gets none.
    #[test]
    fn producer_id_blocks_never_repeat_across_brokers_and_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = Instant::now();
        let mut c = Controller::open(dir.path(), t0).unwrap();
        let mut sessions = Vec::new();
        for id in [0, 1] {
            let Response::Registered { session } = register(&mut c, id, 9092 + id as u16, 6000, t0)
            else {
                panic!()
            };
            sessions.push(session);
        }
        let allocate = |c: &mut Controller, broker: i32, session| match c.handle(
            Request::AllocateProducerIds {
                broker_id: BrokerId(broker),
                session,
            },
            t0,
        ) {
            Response::ProducerIdsAllocated { first, count } => (first, count),
            r => panic!("{r:?}"),
        };
        assert_eq!(allocate(&mut c, 0, sessions[0]), (0, 1000));
        assert_eq!(allocate(&mut c, 1, sessions[1]), (1000, 1000));
        assert_eq!(allocate(&mut c, 0, sessions[0]), (2000, 1000));
        let stale = c.handle(
            Request::AllocateProducerIds {
                broker_id: BrokerId(1),
                session: sessions[0],
            },
            t0,
        );
        assert!(
            matches!(&stale, Response::Error { error } if error.code == ZkErrorCode::SessionExpired),
            "{stale:?}"
        );
        drop(c);
        // Sessions survive the restart, and so does the next block: from the journal, then
        // (the journal folded into the snapshot at each start) from the snapshot alone.
        let mut c = Controller::open(dir.path(), t0).unwrap();
        assert_eq!(allocate(&mut c, 1, sessions[1]), (3000, 1000));
        drop(c);
        let c = Controller::open(dir.path(), t0).unwrap();
        drop(c);
        let mut c = Controller::open(dir.path(), t0).unwrap();
        assert_eq!(c.state().durable().next_producer_id, 4000);
        assert_eq!(allocate(&mut c, 0, sessions[0]), (4000, 1000));
    }

    #[test]
    fn a_stale_session_cannot_unregister_the_live_holder_of_its_id() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = Instant::now();
        let mut c = Controller::open(dir.path(), t0).unwrap();
        let Response::Registered { session: old } = register(&mut c, 0, 9092, 100, t0) else {
            panic!()
        };
        // The old process stops heartbeating; its session expires and a new one takes the id.
        let t1 = t0 + Duration::from_millis(300);
        let Response::Registered { session: new } = register(&mut c, 0, 9093, 100, t1) else {
            panic!()
        };
        assert_ne!(old, new);
        let r = c.handle(
            Request::UnregisterBroker {
                broker_id: BrokerId(0),
                session: old,
            },
            t1,
        );
        assert!(
            matches!(&r, Response::Error { error } if error.code == ZkErrorCode::SessionExpired),
            "{r:?}"
        );
        let brokers = c.state().metadata().brokers;
        assert_eq!(
            brokers.iter().map(|b| (b.id, b.port)).collect::<Vec<_>>(),
            vec![(BrokerId(0), 9093)]
        );
        // Nor can it keep the new session alive or re-register over it.
        let r = c.handle(
            Request::Heartbeat {
                broker_id: BrokerId(0),
                session: old,
            },
            t1,
        );
        assert!(
            matches!(&r, Response::Error { error } if error.code == ZkErrorCode::SessionExpired)
        );
        let r = register(&mut c, 0, 9092, 100, t1);
        let Response::Error { error } = r else {
            panic!("{r:?}")
        };
        assert_eq!(error.code, ZkErrorCode::BrokerIdInUse);
        assert_eq!(
            error.message,
            format!("Broker id 0 is already registered by a live session {new} of localhost:9093.")
        );
        // The holder itself can.
        let r = c.handle(
            Request::UnregisterBroker {
                broker_id: BrokerId(0),
                session: new,
            },
            t1,
        );
        assert_eq!(r, Response::Unregistered);
        assert!(c.state().metadata().brokers.is_empty());
    }

    #[test]
    fn altered_topic_and_broker_configs_move_the_version_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let now = Instant::now();
        let mut c = Controller::open(dir.path(), now).unwrap();
        let broker = BrokerInfo {
            id: BrokerId(0),
            host: "localhost".into(),
            port: 9092,
            rack: None,
        };
        let r = c.handle(
            Request::RegisterBroker {
                broker,
                session_timeout_ms: 100,
            },
            now,
        );
        assert!(matches!(r, Response::Registered { .. }), "{r:?}");
        let r = c.handle(
            Request::CreateTopic {
                topic: NewTopic {
                    name: "t".into(),
                    num_partitions: 1,
                    replication_factor: 1,
                    replica_assignment: None,
                    configs: Default::default(),
                    validate_only: false,
                },
            },
            now,
        );
        assert!(matches!(r, Response::TopicCreated { .. }), "{r:?}");
        let configs = |pairs: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        // validate_only answers but changes nothing.
        let v0 = c.state().version();
        let r = c.handle(
            Request::AlterTopicConfigs {
                name: "t".into(),
                configs: configs(&[("retention.ms", "5")]),
                validate_only: true,
            },
            now,
        );
        assert!(matches!(r, Response::TopicConfigsAltered { .. }), "{r:?}");
        assert_eq!(c.state().version(), v0);
        assert!(c.state().durable().topics["t"].configs.is_empty());
        // Unknown names and topics are refused with Kafka's texts.
        let r = c.handle(
            Request::AlterTopicConfigs {
                name: "t".into(),
                configs: configs(&[("retention.msx", "5")]),
                validate_only: false,
            },
            now,
        );
        assert!(
            matches!(&r, Response::Error { error } if error.code == ZkErrorCode::InvalidConfig
                && error.message == "Unknown topic config name: retention.msx"),
            "{r:?}"
        );
        let r = c.handle(
            Request::AlterTopicConfigs {
                name: "nope".into(),
                configs: configs(&[]),
                validate_only: false,
            },
            now,
        );
        assert!(
            matches!(&r, Response::Error { error } if error.code == ZkErrorCode::UnknownTopic),
            "{r:?}"
        );
        let r = c.handle(
            Request::AlterBrokerConfigs {
                entity: "x".into(),
                configs: configs(&[("log.retention.ms", "5")]),
                validate_only: false,
            },
            now,
        );
        assert!(
            matches!(&r, Response::Error { error } if error.code == ZkErrorCode::InvalidRequest),
            "{r:?}"
        );
        for (req, want) in [
            (
                Request::AlterTopicConfigs {
                    name: "t".into(),
                    configs: configs(&[("retention.ms", "5")]),
                    validate_only: false,
                },
                "topic",
            ),
            (
                Request::AlterBrokerConfigs {
                    entity: "".into(),
                    configs: configs(&[("log.retention.ms", "7")]),
                    validate_only: false,
                },
                "default",
            ),
            (
                Request::AlterBrokerConfigs {
                    entity: "0".into(),
                    configs: configs(&[("message.max.bytes", "100")]),
                    validate_only: false,
                },
                "broker",
            ),
        ] {
            let before = c.state().version();
            let r = c.handle(req, now);
            assert!(!matches!(r, Response::Error { .. }), "{want}: {r:?}");
            assert!(c.state().version() > before, "{want} must move the version");
        }
        drop(c);
        let mut c = Controller::open(dir.path(), now).unwrap();
        let Response::Metadata { metadata } = c.handle(Request::Metadata, now) else {
            panic!()
        };
        assert_eq!(
            metadata.topics["t"].configs,
            configs(&[("retention.ms", "5")])
        );
        assert_eq!(
            metadata.broker_configs[""],
            configs(&[("log.retention.ms", "7")])
        );
        assert_eq!(
            metadata.broker_configs["0"],
            configs(&[("message.max.bytes", "100")])
        );
        // An empty set removes the entity.
        let r = c.handle(
            Request::AlterBrokerConfigs {
                entity: "0".into(),
                configs: configs(&[]),
                validate_only: false,
            },
            now,
        );
        assert!(matches!(r, Response::BrokerConfigsAltered), "{r:?}");
        assert!(!c.state().metadata().broker_configs.contains_key("0"));
    }

    #[test]
    fn a_reassignment_in_progress_survives_reopen() {
        use crate::protocol::{OngoingReassignment, ReassignmentTarget};
        let dir = tempfile::tempdir().unwrap();
        let now = Instant::now();
        let mut c = Controller::open(dir.path(), now).unwrap();
        for (id, port) in [(0, 9092), (1, 9093)] {
            let r = register(&mut c, id, port, 60_000, now);
            assert!(matches!(r, Response::Registered { .. }), "{r:?}");
        }
        let r = c.handle(
            Request::CreateTopic {
                topic: NewTopic {
                    name: "t".into(),
                    num_partitions: 1,
                    replication_factor: 1,
                    replica_assignment: Some(vec![vec![BrokerId(0)]]),
                    configs: Default::default(),
                    validate_only: false,
                },
            },
            now,
        );
        assert!(matches!(r, Response::TopicCreated { .. }), "{r:?}");
        let v = c.state().version();
        let r = c.handle(
            Request::AlterPartitionReassignments {
                targets: vec![ReassignmentTarget {
                    topic: "t".into(),
                    partition: 0,
                    replicas: Some(vec![BrokerId(1)]),
                }],
            },
            now,
        );
        let Response::ReassignmentsAltered { results } = r else {
            panic!("{r:?}")
        };
        assert_eq!(results[0].error, None);
        assert!(
            c.state().version() > v,
            "brokers must hear of the new replicas"
        );
        drop(c);
        let mut c = Controller::open(dir.path(), now).unwrap();
        let r = c.handle(
            Request::ListPartitionReassignments { partitions: None },
            now,
        );
        assert_eq!(
            r,
            Response::Reassignments {
                reassignments: vec![OngoingReassignment {
                    topic: "t".into(),
                    partition: 0,
                    replicas: vec![BrokerId(1), BrokerId(0)],
                    adding_replicas: vec![BrokerId(1)],
                    removing_replicas: vec![BrokerId(0)],
                }]
            }
        );
        // Asked for a partition that is not moving (or does not exist): nothing listed.
        let r = c.handle(
            Request::ListPartitionReassignments {
                partitions: Some(vec![TopicPartition {
                    topic: "t".into(),
                    partition: 3,
                }]),
            },
            now,
        );
        assert_eq!(
            r,
            Response::Reassignments {
                reassignments: vec![]
            }
        );
    }
}
