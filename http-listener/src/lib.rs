//! Admission control for the `/metrics` HTTP listeners of the broker and zookeeper-lite: a
//! [`LimitedListener`] hands `axum::serve` at most
//! [`ConnectionLimits::max_connections`] connections at a time, and each connection is closed
//! once no byte has moved either way for [`ConnectionLimits::idle_timeout`].
//!
//! Both listeners may be bound on every interface and share the process's file descriptors with
//! the Kafka (or client) listener and the log segments, so a client opening connections without
//! end, or opening one and never finishing its request (slowloris), must not take them all. The
//! shape is mini-redis's: a semaphore permit is taken before `accept`, so the connections beyond
//! the cap wait in the kernel's backlog, holding no descriptor of ours, and the permit is released
//! when the connection is dropped.
//!
//! `axum::serve` runs hyper without a timer, so hyper's own `header_read_timeout` is off; the
//! idle timeout lives in the connection's I/O instead ([`LimitedIo`]). It also bounds the time a
//! request may take to answer (hyper watches the socket for a hang-up while the handler runs);
//! Prometheus gives a scrape 10 s by default anyway.

pub mod raw_http;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// Connections served at a time by default.
pub const DEFAULT_MAX_CONNECTIONS: usize = 16;

/// How long a connection may stay without a byte read or written by default.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// The limits of a [`LimitedListener`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections served at once; the next waits, unaccepted, until one closes. At least 1.
    pub max_connections: usize,
    /// A connection on which no byte was read or written for this long is closed.
    pub idle_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        }
    }
}

/// A TCP listener for `axum::serve` that enforces [`ConnectionLimits`].
#[derive(Debug)]
pub struct LimitedListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
    idle_timeout: Duration,
}

impl LimitedListener {
    /// Wraps a bound listener.
    pub fn new(inner: TcpListener, limits: ConnectionLimits) -> LimitedListener {
        LimitedListener {
            inner,
            permits: Arc::new(Semaphore::new(limits.max_connections.max(1))),
            idle_timeout: limits.idle_timeout,
        }
    }
}

impl axum::serve::Listener for LimitedListener {
    type Io = LimitedIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (LimitedIo, SocketAddr) {
        // Before accepting: a connection over the cap stays in the backlog, not in our fd table.
        let Ok(permit) = self.permits.clone().acquire_owned().await else {
            // The semaphore is never closed; should it be, accept nothing more.
            match std::future::pending::<std::convert::Infallible>().await {}
        };
        // axum's own accept loop: retries, and backs off on errors such as EMFILE.
        let (stream, peer) = axum::serve::Listener::accept(&mut self.inner).await;
        (LimitedIo::new(stream, permit, self.idle_timeout), peer)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// An accepted connection: holds its permit until dropped, and fails its reads and writes with
/// `TimedOut` once no byte has moved for the idle timeout while it waits.
#[derive(Debug)]
pub struct LimitedIo {
    stream: TcpStream,
    idle_timeout: Duration,
    last_progress: Instant,
    /// Armed for `last_progress + idle_timeout` when an I/O call has to wait; reset lazily, so a
    /// busy connection does not touch the timer on every read.
    timer: Pin<Box<Sleep>>,
    _permit: OwnedSemaphorePermit,
}

impl LimitedIo {
    fn new(stream: TcpStream, permit: OwnedSemaphorePermit, idle_timeout: Duration) -> LimitedIo {
        let now = Instant::now();
        LimitedIo {
            stream,
            idle_timeout,
            last_progress: now,
            timer: Box::pin(tokio::time::sleep_until(now + idle_timeout)),
            _permit: permit,
        }
    }

    /// An I/O call would wait: registers the idle deadline with `cx`, and is ready with the
    /// error once it has passed.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let deadline = self.last_progress + self.idle_timeout;
        if self.timer.deadline() != deadline {
            self.timer.as_mut().reset(deadline);
        }
        match self.timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "connection idle for {} ms, closing it",
                    self.idle_timeout.as_millis()
                ),
            )),
            Poll::Pending => Poll::Pending,
        }
    }

    /// What a write call returned, with the idle deadline applied when it has to wait.
    fn after_write(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        match polled {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.last_progress = Instant::now();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => self.poll_idle(cx).map(Err),
        }
    }
}

impl AsyncRead for LimitedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.last_progress = Instant::now();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_idle(cx).map(Err),
        }
    }
}

impl AsyncWrite for LimitedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.after_write(cx, polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.after_write(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_flush(cx) {
            Poll::Pending => this.poll_idle(cx).map(Err),
            ready => ready,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
