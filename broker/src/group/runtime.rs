//! The async shell around the pure [`Coordinator`]: a clock, one mutex held only for the length
//! of a state-machine call (never across an await), and oneshot channels for the JoinGroup and
//! SyncGroup requests that wait. A ticker task calls [`Groups::tick`] to drive timeouts.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::oneshot;

use super::{
    Coordinator, GroupConfig, JoinRequest, JoinResult, LeaveOutcome, Reply, SyncRequest,
    SyncResult, Token,
};
use common::errors::ErrorCode;

enum Waiter {
    Join(oneshot::Sender<JoinResult>),
    Sync(oneshot::Sender<SyncResult>),
}

struct Inner {
    coordinator: Coordinator,
    waiters: HashMap<Token, Waiter>,
    next_token: Token,
}

impl Inner {
    /// Hands every released reply to its waiting request. A waiter whose connection went away
    /// has dropped its receiver; its reply is simply discarded.
    fn release(&mut self, replies: Vec<Reply>) {
        for reply in replies {
            match reply {
                Reply::Join(t, j) => {
                    if let Some(Waiter::Join(tx)) = self.waiters.remove(&t) {
                        let _ = tx.send(j);
                    }
                }
                Reply::Sync(t, s) => {
                    if let Some(Waiter::Sync(tx)) = self.waiters.remove(&t) {
                        let _ = tx.send(s);
                    }
                }
            }
        }
    }

    fn token(&mut self) -> Token {
        self.next_token += 1;
        self.next_token
    }
}

pub struct Groups {
    inner: Mutex<Inner>,
    started: Instant,
}

impl Groups {
    pub fn new(config: GroupConfig) -> Self {
        Groups {
            inner: Mutex::new(Inner {
                coordinator: Coordinator::new(config),
                waiters: HashMap::new(),
                next_token: 0,
            }),
            started: Instant::now(),
        }
    }

    /// Milliseconds on a monotonic clock (wall-clock jumps must not expire sessions).
    pub fn now(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters more than refusing every group request from then on.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub async fn join(&self, group: &str, req: JoinRequest, generation_floor: i32) -> JoinResult {
        let member_id = req.member_id.clone();
        let rx = {
            let now = self.now();
            let mut inner = self.lock();
            let token = inner.token();
            let (tx, rx) = oneshot::channel();
            inner.waiters.insert(token, Waiter::Join(tx));
            let replies = inner
                .coordinator
                .join(group, req, token, generation_floor, now);
            inner.release(replies);
            rx
        };
        rx.await.unwrap_or(JoinResult {
            error: ErrorCode::CoordinatorNotAvailable.code(),
            generation: -1,
            member_id,
            ..Default::default()
        })
    }

    pub async fn sync(&self, group: &str, req: SyncRequest) -> SyncResult {
        let rx = {
            let mut inner = self.lock();
            let token = inner.token();
            let (tx, rx) = oneshot::channel();
            inner.waiters.insert(token, Waiter::Sync(tx));
            let replies = inner.coordinator.sync(group, req, token);
            inner.release(replies);
            rx
        };
        rx.await.unwrap_or(SyncResult {
            error: ErrorCode::CoordinatorNotAvailable.code(),
            ..Default::default()
        })
    }

    pub fn heartbeat(
        &self,
        group: &str,
        generation: i32,
        member_id: &str,
        instance_id: Option<&str>,
    ) -> i16 {
        let now = self.now();
        self.lock()
            .coordinator
            .heartbeat(group, generation, member_id, instance_id, now)
    }

    pub fn leave(&self, group: &str, members: Vec<(String, Option<String>)>) -> LeaveOutcome {
        let now = self.now();
        let mut inner = self.lock();
        let (outcome, replies) = inner.coordinator.leave(group, members, now);
        inner.release(replies);
        outcome
    }

    pub fn tick(&self) {
        let now = self.now();
        let mut inner = self.lock();
        let replies = inner.coordinator.tick(now);
        inner.release(replies);
    }

    /// Unloads the groups that `moved` says another broker coordinates now (see
    /// [`Coordinator::unload_where`]), answering their waiting requests.
    pub fn unload_where(&self, moved: impl Fn(&str) -> bool) {
        let mut inner = self.lock();
        let replies = inner.coordinator.unload_where(moved);
        inner.release(replies);
    }

    /// Runs a short synchronous query or update on the coordinator (commit checks, describe,
    /// list, delete) with the current time.
    pub fn with<R>(&self, f: impl FnOnce(&mut Coordinator, u64) -> R) -> R {
        let now = self.now();
        let mut inner = self.lock();
        f(&mut inner.coordinator, now)
    }
}
