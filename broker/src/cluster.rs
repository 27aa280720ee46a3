//! The broker's link to zookeeper-lite: its session (registration and heartbeats) and the cached
//! cluster metadata that Metadata requests and partition hosting are answered from.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use thiserror::Error;
use tokio::sync::watch;
use zookeeper_lite::client::{ZkClient, ZkError};
use zookeeper_lite::protocol::{BrokerInfo, ClusterMetadata, ZkErrorCode};

#[derive(Debug, Error)]
pub enum ClusterError {
    #[error("broker.id {id} is already registered by a live broker: {message}")]
    BrokerIdInUse { id: i32, message: String },
    #[error("zookeeper-lite at {addr}: {source}")]
    Zk { addr: String, source: ZkError },
}

pub struct Cluster {
    zk: ZkClient,
    addr: String,
    me: BrokerInfo,
    session_timeout_ms: u64,
    session: std::sync::Mutex<Option<u64>>,
    metadata: RwLock<Arc<ClusterMetadata>>,
    /// Bumped whenever the cached metadata changes, so hosting and long-polls can react.
    changed: watch::Sender<u64>,
}

impl Cluster {
    pub async fn connect(
        addr: &str,
        me: BrokerInfo,
        session_timeout_ms: u64,
    ) -> Result<Arc<Cluster>, ClusterError> {
        let timeout = Duration::from_millis(session_timeout_ms.max(1000));
        let zk = ZkClient::connect(addr, timeout)
            .await
            .map_err(|source| ClusterError::Zk {
                addr: addr.to_string(),
                source,
            })?;
        let (changed, _) = watch::channel(0);
        Ok(Arc::new(Cluster {
            zk,
            addr: addr.to_string(),
            me,
            session_timeout_ms,
            session: std::sync::Mutex::new(None),
            metadata: RwLock::new(Arc::new(ClusterMetadata {
                version: 0,
                brokers: Vec::new(),
                topics: Default::default(),
                broker_configs: Default::default(),
            })),
            changed,
        }))
    }

    pub fn zk(&self) -> &ZkClient {
        &self.zk
    }

    pub fn broker_id(&self) -> i32 {
        self.me.id
    }

    fn zk_err(&self, source: ZkError) -> ClusterError {
        ClusterError::Zk {
            addr: self.addr.clone(),
            source,
        }
    }

    /// Registers this broker. An id still held by a session that is no longer heartbeating (our
    /// own previous life, killed) frees up once that session expires, so we wait for that long;
    /// an id held by a live broker stays taken and we give up with a clear error.
    pub async fn register(&self) -> Result<(), ClusterError> {
        let deadline = Instant::now() + Duration::from_millis(self.session_timeout_ms * 2 + 2000);
        let mut warned = false;
        loop {
            match self
                .zk
                .register_broker(self.me.clone(), self.session_timeout_ms)
                .await
            {
                Ok(session) => {
                    if let Ok(mut s) = self.session.lock() {
                        *s = Some(session);
                    }
                    self.refresh().await?;
                    return Ok(());
                }
                Err(ZkError::Server(e)) if e.code == ZkErrorCode::BrokerIdInUse => {
                    if Instant::now() >= deadline {
                        return Err(ClusterError::BrokerIdInUse {
                            id: self.me.id,
                            message: e.message,
                        });
                    }
                    if !warned {
                        tracing::warn!(
                            "broker.id {} is still registered ({}); waiting for that session to expire",
                            self.me.id,
                            e.message
                        );
                        warned = true;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => return Err(self.zk_err(e)),
            }
        }
    }

    /// Fetches the metadata and publishes it if it changed.
    pub async fn refresh(&self) -> Result<Arc<ClusterMetadata>, ClusterError> {
        let md = Arc::new(self.zk.metadata().await.map_err(|e| self.zk_err(e))?);
        let changed = {
            let mut cur = match self.metadata.write() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            let changed = cur.version != md.version || cur.brokers != md.brokers;
            *cur = md.clone();
            changed
        };
        if changed {
            self.changed.send_modify(|v| *v += 1);
        }
        Ok(md)
    }

    pub fn metadata(&self) -> Arc<ClusterMetadata> {
        match self.metadata.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// The session loop: heartbeats every third of the session timeout, refreshes metadata when
    /// its version moves, re-registers after an expiry or a coordinator restart. Runs until the
    /// task is dropped.
    pub async fn run_session(self: Arc<Self>) {
        let interval = Duration::from_millis((self.session_timeout_ms / 3).clamp(50, 2000));
        loop {
            tokio::time::sleep(interval).await;
            let session = self.session.lock().ok().and_then(|s| *s);
            let result = match session {
                Some(s) => self.zk.heartbeat(self.me.id, s).await,
                None => Err(ZkError::Server(zookeeper_lite::protocol::ServerError {
                    code: ZkErrorCode::SessionExpired,
                    message: "not registered".into(),
                })),
            };
            match result {
                Ok(version) => {
                    if version != self.metadata().version {
                        if let Err(e) = self.refresh().await {
                            tracing::warn!("metadata refresh failed: {e}");
                        }
                    }
                }
                Err(ZkError::Server(e)) if e.code == ZkErrorCode::SessionExpired => {
                    tracing::warn!(
                        "zookeeper-lite session expired ({}); registering again",
                        e.message
                    );
                    if let Ok(mut s) = self.session.lock() {
                        *s = None;
                    }
                    match self.register().await {
                        Ok(()) => tracing::info!("registered again with zookeeper-lite"),
                        Err(e) => tracing::error!("registration failed: {e}"),
                    }
                }
                Err(e) => {
                    tracing::warn!("heartbeat to zookeeper-lite at {} failed: {e}", self.addr)
                }
            }
        }
    }

    /// Clean shutdown: give up the session so partitions fail over at once.
    pub async fn unregister(&self) {
        let session = self.session.lock().ok().and_then(|mut s| s.take());
        if let Some(s) = session {
            if let Err(e) = self.zk.unregister_broker(self.me.id, s).await {
                tracing::warn!("unregistering from zookeeper-lite failed: {e}");
            }
        }
    }
}
