//! zookeeper-lite started inside another process: for the broker's unit tests, which want a real
//! controller on a loopback port without spawning the binary. Production runs the
//! `zookeeper-lite` binary.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::net::TcpListener;

use crate::controller::Controller;
use crate::journal::JournalError;

/// Why an in-process zookeeper-lite could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// The data directory's snapshot or journal could not be opened or replayed.
    #[error("opening the data directory: {0}")]
    Open(#[from] JournalError),
    /// The loopback listener could not be bound.
    #[error("binding 127.0.0.1:0: {0}")]
    Bind(#[from] std::io::Error),
}

/// A zookeeper-lite serving on `127.0.0.1:<ephemeral>` inside this process; stops when dropped.
pub struct EmbeddedZooKeeper {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl EmbeddedZooKeeper {
    /// Opens (or creates) the controller's state in `data_dir` and serves it on an ephemeral
    /// loopback port, with no per-IP connection limit. Must be called inside a Tokio runtime.
    pub async fn start(data_dir: &Path) -> Result<EmbeddedZooKeeper, EmbeddedError> {
        let controller = Controller::open(data_dir, Instant::now())?;
        let shared = Arc::new(Mutex::new(controller));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(crate::server::serve(listener, shared, 0));
        Ok(EmbeddedZooKeeper { addr, task })
    }

    /// The address to put in the broker's `zookeeper.connect`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for EmbeddedZooKeeper {
    fn drop(&mut self) {
        self.task.abort();
    }
}
