//! Connections to the brokers of one cluster and the cached metadata that says which broker leads
//! which partition. Bootstraps from `bootstrap.servers`, keeps one connection per broker id, and
//! refreshes metadata when asked (callers ask after NOT_LEADER / UNKNOWN_TOPIC /
//! LEADER_NOT_AVAILABLE and similar errors).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::connection::{Connection, ConnectionOptions};
use crate::error::ClientError;
use crate::metadata::{metadata_request, parse_bootstrap, ClusterSnapshot};

pub struct Cluster {
    bootstrap: Vec<String>,
    options: ConnectionOptions,
    /// Live connections by broker id; bootstrap connections (id unknown) under negative keys.
    connections: Mutex<HashMap<i32, Connection>>,
    snapshot: Mutex<Arc<ClusterSnapshot>>,
}

/// Key under which the connection to the i-th bootstrap address is kept (broker ids are >= 0).
fn bootstrap_key(i: usize) -> i32 {
    -1 - (i as i32)
}

impl Cluster {
    pub fn new(
        bootstrap_servers: &str,
        options: ConnectionOptions,
    ) -> Result<Cluster, ClientError> {
        let bootstrap = parse_bootstrap(bootstrap_servers).map_err(ClientError::InvalidConfig)?;
        Ok(Cluster {
            bootstrap,
            options,
            connections: Mutex::new(HashMap::new()),
            snapshot: Mutex::new(Arc::new(ClusterSnapshot {
                controller_id: -1,
                ..Default::default()
            })),
        })
    }

    pub fn options(&self) -> &ConnectionOptions {
        &self.options
    }

    /// The latest cached metadata.
    pub fn snapshot(&self) -> Arc<ClusterSnapshot> {
        match self.snapshot.lock() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The live connection to a broker, if one is open (no connecting, no waiting).
    pub fn live_connection(&self, broker_id: i32) -> Option<Connection> {
        self.cached_connection(broker_id)
    }

    fn cached_connection(&self, key: i32) -> Option<Connection> {
        let map = match self.connections.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.get(&key).filter(|c| !c.is_closed()).cloned()
    }

    fn store_connection(&self, key: i32, conn: Connection) -> Connection {
        let mut map = match self.connections.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Two tasks may have connected at once; keep the first live one.
        if let Some(existing) = map.get(&key).filter(|c| !c.is_closed()) {
            return existing.clone();
        }
        map.insert(key, conn.clone());
        conn
    }

    async fn connect_key(&self, key: i32, addr: &str) -> Result<Connection, ClientError> {
        if let Some(c) = self.cached_connection(key) {
            return Ok(c);
        }
        let conn = Connection::connect(addr, self.options.clone()).await?;
        Ok(self.store_connection(key, conn))
    }

    /// The connection to a broker by id, connecting if needed.
    pub async fn connection(&self, broker_id: i32) -> Result<Connection, ClientError> {
        if let Some(c) = self.cached_connection(broker_id) {
            return Ok(c);
        }
        let addr = self
            .snapshot()
            .brokers
            .get(&broker_id)
            .map(|b| b.address())
            .ok_or_else(|| {
                ClientError::kafka(
                    8,
                    Some(&format!("Broker {broker_id} is not in the metadata")),
                )
            })?;
        self.connect_key(broker_id, &addr).await
    }

    /// Any working connection: a live one if there is one, else the known brokers, then the
    /// bootstrap addresses, in order.
    pub async fn any_connection(&self) -> Result<Connection, ClientError> {
        let live = {
            let map = match self.connections.lock() {
                Ok(m) => m,
                Err(poisoned) => poisoned.into_inner(),
            };
            let mut keys: Vec<&i32> = map.keys().collect();
            keys.sort_by_key(|k| std::cmp::Reverse(**k)); // brokers (>= 0) before bootstrap
            keys.into_iter()
                .filter_map(|k| map.get(k))
                .find(|c| !c.is_closed())
                .cloned()
        };
        if let Some(c) = live {
            return Ok(c);
        }
        let mut last_error = None;
        let brokers: Vec<i32> = self.snapshot().brokers.keys().copied().collect();
        for id in brokers {
            match self.connection(id).await {
                Ok(c) => return Ok(c),
                Err(e) => last_error = Some(e),
            }
        }
        for (i, addr) in self.bootstrap.iter().enumerate() {
            match self.connect_key(bootstrap_key(i), addr).await {
                Ok(c) => return Ok(c),
                Err(e) => {
                    tracing::debug!("bootstrap {addr} unreachable: {e}");
                    last_error = Some(e);
                }
            }
        }
        Err(last_error.unwrap_or_else(|| ClientError::Protocol("no brokers known".to_string())))
    }

    /// Fetches metadata for `topics` (None = all) from any broker, merges it into the cache and
    /// returns what this response said.
    pub async fn refresh(
        &self,
        topics: Option<&[String]>,
        allow_auto_topic_creation: bool,
    ) -> Result<ClusterSnapshot, ClientError> {
        let conn = self.any_connection().await?;
        let response = conn
            .send(metadata_request(topics, allow_auto_topic_creation))
            .await?;
        let fresh = crate::metadata::parse_metadata(response);
        self.merge(&fresh, topics.is_none());
        Ok(fresh)
    }

    fn merge(&self, fresh: &ClusterSnapshot, all_topics: bool) {
        let mut guard = match self.snapshot.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut next = ClusterSnapshot {
            cluster_id: fresh.cluster_id.clone(),
            controller_id: fresh.controller_id,
            brokers: fresh.brokers.clone(),
            topics: if all_topics {
                Default::default()
            } else {
                guard.topics.clone()
            },
        };
        for (name, topic) in &fresh.topics {
            if topic.error_code == 0 {
                next.topics.insert(name.clone(), topic.clone());
            } else {
                next.topics.remove(name);
            }
        }
        *guard = Arc::new(next);
        drop(guard);
        // Connections to brokers that left the cluster are dropped so a new broker reusing the
        // id at another address gets a fresh connection.
        let mut map = match self.connections.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.retain(|k, _| *k < 0 || fresh.brokers.contains_key(k));
    }

    /// A connection to the controller named by fresh metadata (admin calls that change topics go
    /// there).
    pub async fn controller_connection(&self) -> Result<Connection, ClientError> {
        let snapshot = self.refresh(Some(&[]), false).await?;
        let id = snapshot.controller_id;
        if id < 0 || !snapshot.brokers.contains_key(&id) {
            return Err(ClientError::kafka(
                41,
                Some("The metadata response names no live controller"),
            ));
        }
        self.connection(id).await
    }
}
