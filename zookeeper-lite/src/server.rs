//! The TCP server: one task per connection reading frames, a session-expiry ticker, and the
//! controller behind one `std::sync::Mutex`. The lock is taken only inside `spawn_blocking`
//! (journal fsyncs happen under it) and never across an `.await`.
//!
//! A peer that sends a bad frame, invalid JSON or an unknown op gets an error logged with its
//! address and its connection closed; every other connection carries on.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use prometheus_client::metrics::gauge::Gauge;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::controller::Controller;
use crate::protocol::{
    decode_body, encode_frame, frame_body_len, Request, Response, ServerError, ZkErrorCode,
    FRAME_HEADER_BYTES,
};

/// How often sessions are checked for expiry; well below any sensible session timeout.
pub const TICK: Duration = Duration::from_millis(50);
/// Once a frame has started, the rest of it must arrive within this long.
pub const FRAME_BODY_TIMEOUT: Duration = Duration::from_secs(10);

pub type Shared = Arc<Mutex<Controller>>;

/// Runs `f` on the controller off the async threads (it may fsync). A panic elsewhere must not
/// take every later request down, so a poisoned lock is used as is: the state machine only
/// changes after a successful journal write, so what it holds is consistent.
async fn with_controller<T: Send + 'static>(
    shared: &Shared,
    f: impl FnOnce(&mut Controller) -> T + Send + 'static,
) -> Option<T> {
    let shared = shared.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let mut guard = shared.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    })
    .await;
    match joined {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::error!("controller task failed: {e}");
            None
        }
    }
}

/// Serves connections until the future is dropped. `max_per_ip` = 0 means no limit.
pub async fn serve(listener: TcpListener, shared: Shared, max_per_ip: u32) {
    serve_counting(listener, shared, max_per_ip, Gauge::default()).await
}

/// [`serve`], keeping the number of open connections in `alive` (ZooKeeper's
/// `num_alive_connections`).
pub async fn serve_counting(listener: TcpListener, shared: Shared, max_per_ip: u32, alive: Gauge) {
    let ticker = {
        let shared = shared.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(TICK);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                with_controller(&shared, |c| c.tick(Instant::now())).await;
            }
        })
    };
    // Aborts the ticker when `serve` ends or is dropped.
    struct AbortOnDrop(tokio::task::JoinHandle<()>);
    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let _ticker = AbortOnDrop(ticker);

    let counts: Arc<Mutex<HashMap<IpAddr, u32>>> = Arc::default();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // Typically out of file descriptors: back off instead of spinning.
                tracing::error!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(slot) = ConnSlot::take(&counts, peer.ip(), max_per_ip) else {
            tracing::warn!(
                "too many connections from {} (maxClientCnxns={max_per_ip}); closing {peer}",
                peer.ip()
            );
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let alive = alive.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let _alive = AliveConnection::new(alive);
            handle_connection(stream, peer, shared).await;
        });
    }
}

/// One open connection in the `num_alive_connections` gauge, taken out on drop.
struct AliveConnection(Gauge);

impl AliveConnection {
    fn new(gauge: Gauge) -> AliveConnection {
        gauge.inc();
        AliveConnection(gauge)
    }
}

impl Drop for AliveConnection {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// One connection's place in the per-IP count, given back on drop.
struct ConnSlot {
    counts: Arc<Mutex<HashMap<IpAddr, u32>>>,
    ip: IpAddr,
}

impl ConnSlot {
    fn take(counts: &Arc<Mutex<HashMap<IpAddr, u32>>>, ip: IpAddr, max: u32) -> Option<ConnSlot> {
        let mut map = counts.lock().unwrap_or_else(PoisonError::into_inner);
        let n = map.entry(ip).or_insert(0);
        if max > 0 && *n >= max {
            return None;
        }
        *n += 1;
        Some(ConnSlot {
            counts: counts.clone(),
            ip,
        })
    }
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        let mut map = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = map.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

enum ReadOutcome {
    Frame(Vec<u8>),
    /// The peer closed between frames: a normal end.
    Closed,
    /// Protocol violation: logged by the caller, connection closed.
    Bad(String),
}

async fn read_frame(stream: &mut TcpStream) -> ReadOutcome {
    let mut header = [0u8; FRAME_HEADER_BYTES];
    let mut got = 0;
    while got < FRAME_HEADER_BYTES {
        match stream.read(&mut header[got..]).await {
            Ok(0) if got == 0 => return ReadOutcome::Closed,
            Ok(0) => {
                return ReadOutcome::Bad(format!(
                    "connection closed after {got} bytes of a frame header"
                ))
            }
            Ok(n) => got += n,
            Err(e) if got == 0 => {
                tracing::debug!("read error between frames: {e}");
                return ReadOutcome::Closed;
            }
            Err(e) => return ReadOutcome::Bad(format!("read error inside a frame header: {e}")),
        }
    }
    let len = match frame_body_len(header) {
        Ok(len) => len,
        Err(e) => return ReadOutcome::Bad(e.to_string()),
    };
    // Grow the buffer as bytes arrive rather than trusting the length with an allocation.
    let mut body = Vec::new();
    let read = tokio::time::timeout(
        FRAME_BODY_TIMEOUT,
        (&mut *stream).take(len as u64).read_to_end(&mut body),
    )
    .await;
    match read {
        Err(_) => ReadOutcome::Bad(format!(
            "frame of {len} bytes incomplete after {FRAME_BODY_TIMEOUT:?} ({} bytes arrived)",
            body.len()
        )),
        Ok(Err(e)) => ReadOutcome::Bad(format!("read error inside a frame of {len} bytes: {e}")),
        Ok(Ok(n)) if n < len => ReadOutcome::Bad(format!(
            "connection closed after {n} of {len} bytes of a frame (wrong frame length?)"
        )),
        Ok(Ok(_)) => ReadOutcome::Frame(body),
    }
}

async fn write_response(stream: &mut TcpStream, resp: &Response) -> io::Result<()> {
    let frame = match encode_frame(resp) {
        Ok(f) => f,
        Err(e) => {
            tracing::error!("cannot encode a response: {e}");
            let error = ServerError::new(ZkErrorCode::Internal, format!("response too large: {e}"));
            encode_frame(&Response::Error { error })
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?
        }
    };
    stream.write_all(&frame).await
}

/// The longest a WatchMetadata waits, whatever it asks for.
pub const MAX_WATCH_WAIT: Duration = Duration::from_secs(60);

/// Waits until the metadata version is above `after`, or `max_wait_ms` (at most
/// [`MAX_WATCH_WAIT`]) has passed; the caller then answers the current metadata.
async fn wait_for_version(shared: &Shared, after: u64, max_wait_ms: u64) {
    let Some(mut rx) = with_controller(shared, |c| c.subscribe_version()).await else {
        return;
    };
    let wait = Duration::from_millis(max_wait_ms).min(MAX_WATCH_WAIT);
    let _ = tokio::time::timeout(wait, rx.wait_for(|v| *v > after)).await;
}

async fn handle_connection(mut stream: TcpStream, peer: SocketAddr, shared: Shared) {
    tracing::debug!("connection from {peer}");
    loop {
        let body = match read_frame(&mut stream).await {
            ReadOutcome::Frame(b) => b,
            ReadOutcome::Closed => break,
            ReadOutcome::Bad(why) => {
                tracing::error!("peer {peer}: bad frame: {why}; closing the connection");
                break;
            }
        };
        let req: Request = match decode_body(&body) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("peer {peer}: bad request: {e}; closing the connection");
                // The frame itself was sound, so the peer can still read why.
                let error = ServerError::new(ZkErrorCode::InvalidRequest, e.to_string());
                let _ = write_response(&mut stream, &Response::Error { error }).await;
                break;
            }
        };
        if let Request::WatchMetadata {
            after_version,
            max_wait_ms,
        } = req
        {
            wait_for_version(&shared, after_version, max_wait_ms).await;
        }
        let resp = with_controller(&shared, move |c| c.handle(req, Instant::now()))
            .await
            .unwrap_or_else(|| Response::Error {
                error: ServerError::new(ZkErrorCode::Internal, "controller task failed"),
            });
        if let Err(e) = write_response(&mut stream, &resp).await {
            tracing::debug!("peer {peer}: write failed: {e}");
            break;
        }
    }
    let _ = stream.shutdown().await;
    tracing::debug!("connection from {peer} closed");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_per_ip_are_limited_and_released() {
        let counts: Arc<Mutex<HashMap<IpAddr, u32>>> = Arc::default();
        let ip = IpAddr::from([127, 0, 0, 1]);
        let a = ConnSlot::take(&counts, ip, 2);
        let b = ConnSlot::take(&counts, ip, 2);
        assert!(a.is_some() && b.is_some());
        assert!(ConnSlot::take(&counts, ip, 2).is_none());
        assert!(ConnSlot::take(&counts, IpAddr::from([10, 0, 0, 1]), 2).is_some());
        drop(a);
        assert!(ConnSlot::take(&counts, ip, 2).is_some());
        // 0 means no limit.
        let many: Vec<_> = (0..100).map(|_| ConnSlot::take(&counts, ip, 0)).collect();
        assert!(many.iter().all(Option::is_some));
    }
}
