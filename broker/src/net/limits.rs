//! What keeps the network edge bounded under load: connection quotas (Kafka's `ConnectionQuotas`:
//! `max.connections`, `max.connections.per.ip`, `max.connections.per.ip.overrides`) and the
//! memory budget for request frames in flight (`queued.max.request.bytes`, Kafka's
//! `MemoryPool`).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long the rest of a started request may take to arrive: once the first byte of a frame
/// is read, the size prefix must follow within this, and once its buffer is reserved, the body
/// too. 30 s is the default `request.timeout.ms` of Kafka's clients: a client that has not sent
/// its request by then has given up on it anyway. Bounds how long a slow-loris peer holds a
/// buffer (and its share of the budget). A shorter `connections.max.idle.ms` bounds it too.
pub const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Frames up to this size are not counted against `queued.max.request.bytes`: they are what
/// every ordinary request (metadata, heartbeats, small produces) needs, and serving them keeps
/// the broker answering while large frames wait for the budget. Their memory is bounded by
/// `max.connections` x this size.
pub const UNCOUNTED_FRAME_BYTES: usize = 64 * 1024;

/// Connection counts per peer address and in total (Kafka's `ConnectionQuotas`).
pub struct ConnectionQuotas {
    max: usize,
    max_per_ip: usize,
    overrides: BTreeMap<IpAddr, usize>,
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// Why a new connection was closed at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// `max.connections` open already.
    #[error("the broker-wide connection limit max.connections={0} is reached")]
    Broker(usize),
    /// The peer address's limit (`max.connections.per.ip` or its override) is reached.
    #[error("too many connections from this address (limit {0})")]
    PerIp(usize),
}

/// One admitted connection; dropping it frees its slot.
pub struct ConnectionSlot {
    quotas: Arc<ConnectionQuotas>,
    ip: IpAddr,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut counts = self.quotas.lock();
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_ip.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.per_ip.remove(&self.ip);
            }
        }
    }
}

impl ConnectionQuotas {
    pub fn new(max: usize, max_per_ip: usize, overrides: BTreeMap<IpAddr, usize>) -> Self {
        ConnectionQuotas {
            max,
            max_per_ip,
            overrides,
            counts: Mutex::new(Counts::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Admits a new connection from `ip`, or says which limit refuses it.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<ConnectionSlot, Refused> {
        let limit = self.overrides.get(&ip).copied().unwrap_or(self.max_per_ip);
        let mut counts = self.lock();
        let from_ip = counts.per_ip.get(&ip).copied().unwrap_or(0);
        if from_ip >= limit {
            return Err(Refused::PerIp(limit));
        }
        if counts.total >= self.max {
            return Err(Refused::Broker(self.max));
        }
        counts.total += 1;
        *counts.per_ip.entry(ip).or_insert(0) += 1;
        Ok(ConnectionSlot {
            quotas: self.clone(),
            ip,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.lock().total
    }
}

/// The bytes of request frames held in memory at once (`queued.max.request.bytes`). A frame's
/// share is reserved before its buffer is allocated and released when the request is done.
pub struct RequestBudget {
    semaphore: Option<Arc<Semaphore>>,
    capacity: usize,
}

/// A frame's reservation; dropping it returns the bytes to the budget.
pub struct Reservation {
    _permit: Option<OwnedSemaphorePermit>,
}

impl RequestBudget {
    /// `None` is unbounded (Kafka's `-1`).
    pub fn new(capacity: Option<usize>) -> Self {
        // The semaphore counts in u32 per acquire; cap the capacity so one frame's share fits.
        let capacity = capacity.map(|c| c.min(u32::MAX as usize));
        RequestBudget {
            semaphore: capacity.map(|c| Arc::new(Semaphore::new(c))),
            capacity: capacity.unwrap_or(usize::MAX),
        }
    }

    /// The share a frame of `len` bytes takes: none for small frames, else its length, but never
    /// more than the whole budget (a frame larger than the budget waits until it has it all).
    pub fn share(&self, len: usize) -> usize {
        if len <= UNCOUNTED_FRAME_BYTES {
            0
        } else {
            len.min(self.capacity)
        }
    }

    /// Waits until `len` bytes can be held (backpressure: the connection reads nothing more
    /// meanwhile).
    pub async fn reserve(&self, len: usize) -> Reservation {
        let share = self.share(len);
        let permit = match &self.semaphore {
            Some(s) if share > 0 => s.clone().acquire_many_owned(share as u32).await.ok(),
            _ => None,
        };
        Reservation { _permit: permit }
    }

    /// Bytes not reserved now (`usize::MAX` when unbounded).
    pub fn available(&self) -> usize {
        self.semaphore
            .as_ref()
            .map_or(usize::MAX, |s| s.available_permits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_ip_and_broker_limits_refuse_and_free_on_drop() {
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let c: IpAddr = "127.0.0.3".parse().unwrap();
        let q = Arc::new(ConnectionQuotas::new(3, 2, BTreeMap::from([(c, 0)])));
        let s1 = q.admit(a).unwrap();
        let _s2 = q.admit(a).unwrap();
        assert_eq!(q.admit(a).err(), Some(Refused::PerIp(2)));
        assert_eq!(q.admit(c).err(), Some(Refused::PerIp(0)));
        let _s3 = q.admit(b).unwrap();
        assert_eq!(q.admit(b).err(), Some(Refused::Broker(3)));
        drop(s1);
        assert_eq!(q.open(), 2);
        let _s4 = q.admit(b).unwrap();
    }

    #[tokio::test]
    async fn budget_waits_until_bytes_are_released() {
        let budget = RequestBudget::new(Some(1_000_000));
        assert_eq!(budget.share(100), 0);
        assert_eq!(budget.share(5_000_000), 1_000_000);
        let big = budget.reserve(800_000).await;
        assert_eq!(budget.available(), 200_000);
        let _small = budget.reserve(1_000).await; // uncounted
        let mut second = Box::pin(budget.reserve(300_000));
        assert!(futures_poll_once(&mut second).await.is_none());
        drop(big);
        let _r = second.await;
        assert_eq!(budget.available(), 700_000);
    }

    async fn futures_poll_once<F: std::future::Future + Unpin>(f: &mut F) -> Option<F::Output> {
        tokio::select! {
            biased;
            out = f => Some(out),
            _ = std::future::ready(()) => None,
        }
    }
}
