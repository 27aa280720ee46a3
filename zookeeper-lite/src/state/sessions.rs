//! Broker sessions: registration, heartbeats and expiry, and their effect on partitions
//! (leaders and ISR move within the live replicas).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::*;

/// After a restart, brokers named in partitions get at least this long to re-register before
/// they are treated as expired (their sessions died with the old process).
pub const RESTART_GRACE: Duration = Duration::from_secs(30);
/// Session timeouts are bounded so that deadline arithmetic cannot overflow.
pub const MAX_SESSION_TIMEOUT_MS: u64 = 24 * 3600 * 1000;

#[derive(Debug, Clone)]
pub(super) struct Session {
    pub(super) info: BrokerInfo,
    pub(super) id: SessionId,
    pub(super) timeout: Duration,
    pub(super) last_seen: Instant,
}

impl State {
    // ---- brokers ----------------------------------------------------------------------------

    /// Validates a registration and plans its effect on partitions: the broker rejoins the ISR
    /// of partitions it replicates and leads those that have no leader.
    pub fn plan_register(
        &self,
        broker: &BrokerInfo,
        session_timeout_ms: u64,
    ) -> Result<Vec<Record>, ServerError> {
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
        if let Some(s) = self.sessions.get(&broker.id) {
            return Err(err(
                ZkErrorCode::BrokerIdInUse,
                format!(
                    "Broker id {} is already registered by a live session {} of {}:{}.",
                    broker.id, s.id, s.info.host, s.info.port
                ),
            ));
        }
        let id = broker.id;
        let mut records = Vec::new();
        if session_timeout_ms > self.durable.max_session_timeout_ms {
            records.push(Record::SessionTimeoutSeen {
                ms: session_timeout_ms,
            });
        }
        records.extend(self.plan_partitions(|p| {
            if !p.replicas.contains(&id) {
                return false;
            }
            let mut changed = false;
            if !p.isr.contains(&id) {
                p.isr.push(id);
                let isr = std::mem::take(&mut p.isr);
                // Keep the ISR in replica order, as Kafka lists it.
                p.isr = p
                    .replicas
                    .iter()
                    .copied()
                    .filter(|r| isr.contains(r))
                    .collect();
                changed = true;
            }
            if p.leader.is_none() {
                p.leader = id;
                p.leader_epoch = p.leader_epoch.next();
                changed = true;
            }
            changed
        }));
        Ok(records)
    }

    /// Starts the session of a broker whose [`State::plan_register`] records were applied.
    pub fn register(
        &mut self,
        broker: BrokerInfo,
        session_timeout_ms: u64,
        now: Instant,
    ) -> SessionId {
        let id = self.next_session;
        self.next_session += 1;
        self.absent.remove(&broker.id);
        self.sessions.insert(
            broker.id,
            Session {
                info: broker.clone(),
                id,
                timeout: Duration::from_millis(session_timeout_ms.min(MAX_SESSION_TIMEOUT_MS)),
                last_seen: now,
            },
        );
        self.version += 1;
        id
    }

    pub fn check_session(
        &self,
        broker_id: BrokerId,
        session: SessionId,
    ) -> Result<(), ServerError> {
        match self.sessions.get(&broker_id) {
            Some(s) if s.id == session => Ok(()),
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
        if let Some(s) = self.sessions.get_mut(&broker_id) {
            s.last_seen = now;
        }
        Ok(self.version)
    }

    /// Brokers whose session timed out, or who did not come back within the restart grace.
    pub fn expired(&self, now: Instant) -> Vec<BrokerId> {
        let mut out: BTreeSet<BrokerId> = self
            .sessions
            .iter()
            .filter(|(_, s)| now.saturating_duration_since(s.last_seen) > s.timeout)
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

    /// Plans a broker's departure: it leaves every ISR, and partitions it led get the next ISR
    /// member that is up as leader (or -1), with the leader epoch bumped.
    pub fn plan_remove_broker(&self, id: BrokerId) -> Vec<Record> {
        self.plan_partitions(|p| {
            if !p.isr.contains(&id) && p.leader != id {
                return false;
            }
            p.isr.retain(|&b| b != id);
            if p.leader == id {
                p.leader = p
                    .isr
                    .iter()
                    .copied()
                    .find(|&b| self.is_up(b))
                    .unwrap_or(BrokerId::NONE);
                p.leader_epoch = p.leader_epoch.next();
            }
            true
        })
    }

    /// Ends a broker's session (after its [`State::plan_remove_broker`] records were applied).
    pub fn remove_broker(&mut self, id: BrokerId) {
        self.sessions.remove(&id);
        self.absent.remove(&id);
        self.version += 1;
    }
}
