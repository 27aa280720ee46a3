//! The broker's metrics, named after Kafka's JMX metrics as the Prometheus JMX exporter's Kafka
//! example configuration (`kafka-2_0_0.yml`, `lowercaseOutputName: true`) exposes them, and
//! served in the Prometheus text format (0.0.4) on `metrics.http.listener` (see [`http`]).
//!
//! Each broker has its own registry ([`BrokerMetrics`]), so several brokers in one process (tests,
//! `test-broker`) keep their own numbers. Counters and histograms are updated on the request path
//! with atomic increments (a per-topic counter is looked up once per topic of a request, without
//! allocating once the topic has been seen); the state gauges are read from the broker's state at
//! scrape time ([`BrokerState`]).
//!
//! The names, with the Kafka MBean each follows:
//!
//! | Prometheus name | Type | Labels | Kafka MBean |
//! |---|---|---|---|
//! | `kafka_server_brokertopicmetrics_messagesin_total` | counter | `topic` (and one series without it: all topics) | `kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec[,topic=T]` |
//! | `kafka_server_brokertopicmetrics_bytesin_total` | counter | same | `...,name=BytesInPerSec[,topic=T]` |
//! | `kafka_server_brokertopicmetrics_bytesout_total` | counter | same | `...,name=BytesOutPerSec[,topic=T]` (consumers' fetches) |
//! | `kafka_server_brokertopicmetrics_replicationbytesout_total` | counter | none | `...,name=ReplicationBytesOutPerSec` (followers' fetches) |
//! | `kafka_network_requestmetrics_requests_total` | counter | `request`, `version` | `kafka.network:type=RequestMetrics,name=RequestsPerSec,request=R,version=V` |
//! | `kafka_network_requestmetrics_totaltimems` | histogram (ms) | `request` | `kafka.network:type=RequestMetrics,name=TotalTimeMs,request=R` |
//! | `kafka_server_delayedoperationpurgatory_purgatorysize` | gauge | `delayedOperation` (`Produce`, `Fetch`) | `kafka.server:type=DelayedOperationPurgatory,name=PurgatorySize,delayedOperation=D` |
//! | `kafka_server_replicamanager_partitioncount` | gauge | none | `kafka.server:type=ReplicaManager,name=PartitionCount` |
//! | `kafka_server_replicamanager_underreplicatedpartitions` | gauge | none | `...,name=UnderReplicatedPartitions` |
//! | `kafka_server_replicamanager_isrshrinks_total` | counter | none | `...,name=IsrShrinksPerSec` |
//! | `kafka_server_replicamanager_isrexpands_total` | counter | none | `...,name=IsrExpandsPerSec` |
//! | `kafka_log_log_size` | gauge (bytes) | `topic`, `partition` | `kafka.log:type=Log,name=Size,topic=T,partition=P` |
//! | `kafka_log_log_numlogsegments` | gauge | `topic`, `partition` | `kafka.log:type=Log,name=NumLogSegments,topic=T,partition=P` |
//! | `kafka_coordinator_group_groupmetadatamanager_numgroups` | gauge | none | `kafka.coordinator.group:type=GroupMetadataManager,name=NumGroups` |
//! | `kafka_server_sessionexpirelistener_sessionstate` | gauge (1 for the current state) | `state` | `kafka.server:type=SessionExpireListener,name=SessionState` |
//! | `kafka_server_sessionexpirelistener_zookeeperexpires_total` | counter | none | `...,name=ZooKeeperExpiresPerSec` |
//! | `kafka_server_sessionexpirelistener_zookeeperdisconnects_total` | counter | none | `...,name=ZooKeeperDisconnectsPerSec` |
//!
//! Deliberate differences from what the JMX exporter shows for a Kafka broker:
//! - `totaltimems` is a real Prometheus histogram (`_bucket`, `_sum`, `_count`), not the
//!   exporter's quantile gauges plus `_count` (Kafka's Yammer histograms have no buckets); its
//!   buckets are in milliseconds, as the name says.
//! - `SessionState` is a string in Kafka (the exporter drops it); here it is a gauge per state
//!   (`CONNECTED`, `CONNECTING`, `CLOSED`, ZooKeeper's state names) with 1 for the current one.
//! - Kafka also counts a fetch under `FetchConsumer` / `FetchFollower`; only `Fetch` here.
//! - Label names keep Kafka's case (`delayedOperation`), as the exporter does without
//!   `lowercaseOutputLabelNames`.

pub mod http;

use std::collections::{HashMap, HashSet};
use std::sync::{OnceLock, RwLock};
use std::time::Instant;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// A metric's labels: Kafka's MBean keys and their values.
type Labels = Vec<(&'static str, String)>;

/// The request latency histogram's upper bounds, in milliseconds.
const TOTAL_TIME_BUCKETS_MS: [f64; 17] = [
    0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0,
    10_000.0, 30_000.0, 60_000.0,
];

/// API keys and versions with a request counter slot; a request outside is not counted (it is
/// refused before it is served anyway).
const API_KEYS: usize = 128;
const API_VERSIONS: usize = 32;

fn total_time_histogram() -> Histogram {
    Histogram::new(TOTAL_TIME_BUCKETS_MS)
}

/// One topic's BrokerTopicMetrics counters (clones share the atomics of the registered series).
#[derive(Clone)]
struct TopicCounters {
    messages_in: Counter,
    bytes_in: Counter,
    bytes_out: Counter,
}

/// A request's counter and latency histogram, resolved on its API's first request.
#[derive(Clone)]
struct RequestSeries {
    requests: Counter,
    total_time: Histogram,
}

/// One broker's metrics: the registry served on `/metrics` and the handles the request path
/// updates. See the module documentation for the names.
pub struct BrokerMetrics {
    registry: Registry,
    messages_in: Family<Labels, Counter>,
    bytes_in: Family<Labels, Counter>,
    bytes_out: Family<Labels, Counter>,
    all_topics: TopicCounters,
    /// Per-topic counters by topic name, so a request finds them without allocating.
    topics: RwLock<HashMap<String, TopicCounters>>,
    replication_bytes_out: Counter,
    requests: Family<Labels, Counter>,
    total_time: Family<Labels, Histogram, fn() -> Histogram>,
    /// `[api_key * API_VERSIONS + version]`.
    request_series: Vec<OnceLock<RequestSeries>>,
    produce_purgatory: Gauge,
    fetch_purgatory: Gauge,
    isr_shrinks: Counter,
    isr_expands: Counter,
}

impl Default for BrokerMetrics {
    fn default() -> Self {
        BrokerMetrics::new()
    }
}

impl std::fmt::Debug for BrokerMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerMetrics").finish_non_exhaustive()
    }
}

impl BrokerMetrics {
    /// A registry with every request-path metric registered (the all-topics series and the
    /// purgatory sizes start at 0; per-topic and per-request series appear on first use).
    pub fn new() -> BrokerMetrics {
        let mut registry = Registry::default();
        let messages_in = Family::<Labels, Counter>::default();
        let bytes_in = Family::<Labels, Counter>::default();
        let bytes_out = Family::<Labels, Counter>::default();
        registry.register(
            "kafka_server_brokertopicmetrics_messagesin",
            "Records appended by Produce requests (Kafka's MessagesInPerSec)",
            messages_in.clone(),
        );
        registry.register(
            "kafka_server_brokertopicmetrics_bytesin",
            "Bytes of record batches appended by Produce requests (Kafka's BytesInPerSec)",
            bytes_in.clone(),
        );
        registry.register(
            "kafka_server_brokertopicmetrics_bytesout",
            "Record bytes returned to consumers' Fetch requests (Kafka's BytesOutPerSec)",
            bytes_out.clone(),
        );
        let replication_bytes_out = Counter::default();
        registry.register(
            "kafka_server_brokertopicmetrics_replicationbytesout",
            "Record bytes returned to followers' Fetch requests (Kafka's ReplicationBytesOutPerSec)",
            replication_bytes_out.clone(),
        );
        let requests = Family::<Labels, Counter>::default();
        registry.register(
            "kafka_network_requestmetrics_requests",
            "Requests received, by API and version (Kafka's RequestsPerSec)",
            requests.clone(),
        );
        let total_time: Family<Labels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(total_time_histogram);
        registry.register(
            "kafka_network_requestmetrics_totaltimems",
            "Milliseconds from a request's arrival to its response written (Kafka's TotalTimeMs)",
            total_time.clone(),
        );
        let purgatory = Family::<Labels, Gauge>::default();
        registry.register(
            "kafka_server_delayedoperationpurgatory_purgatorysize",
            "Requests waiting: Produce for the in-sync replicas (acks=all), Fetch for data \
             (Kafka's PurgatorySize)",
            purgatory.clone(),
        );
        let produce_purgatory =
            purgatory.get_or_create_owned(&vec![("delayedOperation", "Produce".to_string())]);
        let fetch_purgatory =
            purgatory.get_or_create_owned(&vec![("delayedOperation", "Fetch".to_string())]);
        let isr_shrinks = Counter::default();
        registry.register(
            "kafka_server_replicamanager_isrshrinks",
            "ISR shrinks of partitions this broker leads (Kafka's IsrShrinksPerSec)",
            isr_shrinks.clone(),
        );
        let isr_expands = Counter::default();
        registry.register(
            "kafka_server_replicamanager_isrexpands",
            "ISR expansions of partitions this broker leads (Kafka's IsrExpandsPerSec)",
            isr_expands.clone(),
        );
        let all = Labels::new();
        let all_topics = TopicCounters {
            messages_in: messages_in.get_or_create_owned(&all),
            bytes_in: bytes_in.get_or_create_owned(&all),
            bytes_out: bytes_out.get_or_create_owned(&all),
        };
        BrokerMetrics {
            registry,
            messages_in,
            bytes_in,
            bytes_out,
            all_topics,
            topics: RwLock::new(HashMap::new()),
            replication_bytes_out,
            requests,
            total_time,
            request_series: (0..API_KEYS * API_VERSIONS)
                .map(|_| OnceLock::new())
                .collect(),
            produce_purgatory,
            fetch_purgatory,
            isr_shrinks,
            isr_expands,
        }
    }

    /// Runs `f` on `topic`'s counters, creating them on the topic's first use.
    fn with_topic(&self, topic: &str, f: impl Fn(&TopicCounters)) {
        {
            let topics = self.topics.read().unwrap_or_else(|e| e.into_inner());
            if let Some(c) = topics.get(topic) {
                f(c);
                return;
            }
        }
        let label = vec![("topic", topic.to_string())];
        let mut topics = self.topics.write().unwrap_or_else(|e| e.into_inner());
        let c = topics
            .entry(topic.to_string())
            .or_insert_with(|| TopicCounters {
                messages_in: self.messages_in.get_or_create_owned(&label),
                bytes_in: self.bytes_in.get_or_create_owned(&label),
                bytes_out: self.bytes_out.get_or_create_owned(&label),
            });
        f(c);
    }

    /// A Produce request appended `messages` records in `bytes` bytes of batches to `topic`
    /// (Kafka's `ReplicaManager.appendToLocalLog` marks MessagesInPerSec and BytesInPerSec).
    pub fn record_produce(&self, topic: &str, messages: u64, bytes: u64) {
        self.with_topic(topic, |c| {
            c.messages_in.inc_by(messages);
            c.bytes_in.inc_by(bytes);
        });
        self.all_topics.messages_in.inc_by(messages);
        self.all_topics.bytes_in.inc_by(bytes);
    }

    /// A Fetch response carries `bytes` record bytes of `topic`: BytesOutPerSec for a
    /// consumer, ReplicationBytesOutPerSec for a follower (Kafka's `BrokerTopicStats.updateBytesOut`).
    pub fn record_fetch(&self, topic: &str, bytes: u64, from_follower: bool) {
        if from_follower {
            self.replication_bytes_out.inc_by(bytes);
            return;
        }
        self.with_topic(topic, |c| {
            c.bytes_out.inc_by(bytes);
        });
        self.all_topics.bytes_out.inc_by(bytes);
    }

    /// A request that arrived at `arrived` was accepted: counts it (RequestsPerSec) and returns
    /// its clock. `None` for an API key or version that no series is kept for.
    pub fn request_started(
        &self,
        api_key: i16,
        version: i16,
        arrived: Instant,
    ) -> Option<RequestTimer> {
        let series = self.request_series(api_key, version)?;
        series.requests.inc();
        Some(RequestTimer {
            total_time: series.total_time.clone(),
            started: arrived,
        })
    }

    fn request_series(&self, api_key: i16, version: i16) -> Option<&RequestSeries> {
        let key = usize::try_from(api_key).ok().filter(|k| *k < API_KEYS)?;
        let v = usize::try_from(version)
            .ok()
            .filter(|v| *v < API_VERSIONS)?;
        let slot = self.request_series.get(key * API_VERSIONS + v)?;
        if let Some(series) = slot.get() {
            return Some(series);
        }
        let name = request_name(api_key)?;
        Some(slot.get_or_init(|| {
            RequestSeries {
                requests: self.requests.get_or_create_owned(&vec![
                    ("request", name.clone()),
                    ("version", version.to_string()),
                ]),
                total_time: self
                    .total_time
                    .get_or_create_owned(&vec![("request", name)]),
            }
        }))
    }

    /// A Produce request now waits for its in-sync replicas (acks=all) until the entry drops.
    pub fn enter_produce_purgatory(&self) -> PurgatoryEntry {
        PurgatoryEntry::new(&self.produce_purgatory)
    }

    /// A Fetch request now waits for data until the entry drops.
    pub fn enter_fetch_purgatory(&self) -> PurgatoryEntry {
        PurgatoryEntry::new(&self.fetch_purgatory)
    }

    /// A partition's ISR shrank (zookeeper-lite accepted it).
    pub fn isr_shrunk(&self) {
        self.isr_shrinks.inc();
    }

    /// A partition's ISR expanded (zookeeper-lite accepted it).
    pub fn isr_expanded(&self) {
        self.isr_expands.inc();
    }

    /// A scrape: reads the broker's state with `read_state` and returns [`encode`](Self::encode)'s
    /// exposition. Only topics whose counters existed before the state was read can be dropped
    /// as deleted: a topic's counters are made after the broker's metadata has the topic, so
    /// such a topic is in the state's (later) topic list unless it was deleted since, while a
    /// topic created and first produced to after the list was read is not in it yet and keeps
    /// its counters.
    pub fn scrape(
        &self,
        read_state: impl FnOnce() -> BrokerState,
    ) -> Result<String, std::fmt::Error> {
        let counted = self.counted_topics();
        let state = read_state();
        if let Some(live) = &state.topics {
            self.forget_deleted_topics(&counted, live);
        }
        self.write(&state)
    }

    /// The Prometheus text exposition (format 0.0.4) of every metric: the request-path ones and
    /// the state gauges read from `state`. Per-topic counters of topics absent from
    /// `state.topics` (deleted) are dropped first, as Kafka removes a deleted topic's metrics.
    pub fn encode(&self, state: &BrokerState) -> Result<String, std::fmt::Error> {
        if let Some(live) = &state.topics {
            self.forget_deleted_topics(&self.counted_topics(), live);
        }
        self.write(state)
    }

    fn write(&self, state: &BrokerState) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)?;
        prometheus_client::encoding::prometheus_text::encode(&mut out, &state.registry())?;
        Ok(out)
    }

    /// The topics that have per-topic counters now.
    fn counted_topics(&self) -> Vec<String> {
        let topics = self.topics.read().unwrap_or_else(|e| e.into_inner());
        topics.keys().cloned().collect()
    }

    /// Drops the counters of the topics of `counted` that are not `live`.
    fn forget_deleted_topics(&self, counted: &[String], live: &HashSet<String>) {
        let gone: Vec<&String> = counted.iter().filter(|t| !live.contains(*t)).collect();
        if gone.is_empty() {
            return;
        }
        let mut topics = self.topics.write().unwrap_or_else(|e| e.into_inner());
        for name in gone {
            if topics.remove(name).is_some() {
                let label = vec![("topic", name.clone())];
                self.messages_in.remove(&label);
                self.bytes_in.remove(&label);
                self.bytes_out.remove(&label);
            }
        }
    }
}

/// Kafka's request name of an API key (`ApiKeys.name`: `Produce`, `Fetch`, `ApiVersions` ...).
fn request_name(api_key: i16) -> Option<String> {
    kafka_protocol::messages::ApiKey::try_from(api_key)
        .ok()
        .map(|k| format!("{k:?}"))
}

/// A request's clock, from [`BrokerMetrics::request_started`].
pub struct RequestTimer {
    total_time: Histogram,
    started: Instant,
}

impl RequestTimer {
    /// The response is written (or, for a request without one, the request is done): records
    /// the request's total time (TotalTimeMs).
    pub fn finish(self) {
        self.total_time
            .observe(self.started.elapsed().as_secs_f64() * 1000.0);
    }
}

/// A request counted in a purgatory size until dropped.
pub struct PurgatoryEntry(Gauge);

impl PurgatoryEntry {
    fn new(gauge: &Gauge) -> PurgatoryEntry {
        gauge.inc();
        PurgatoryEntry(gauge.clone())
    }
}

impl Drop for PurgatoryEntry {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// One hosted partition's state for the `kafka.log` gauges.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionState {
    pub topic: String,
    pub partition: i32,
    /// Bytes in all its segments (Kafka's `Log.Size`).
    pub size_bytes: u64,
    pub segments: usize,
    /// This broker leads it and its ISR is smaller than its replica set.
    pub under_replicated: bool,
}

/// The zookeeper-lite session's state, in ZooKeeper's `States` names (Kafka's SessionState).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SessionState {
    /// Registered and heartbeating.
    Connected,
    /// Not (yet, or no longer) registered, or heartbeats failing.
    #[default]
    Connecting,
    /// Given up at shutdown.
    Closed,
}

impl SessionState {
    /// Every state, in the order the series are written.
    pub const ALL: [SessionState; 3] = [
        SessionState::Connected,
        SessionState::Connecting,
        SessionState::Closed,
    ];

    /// ZooKeeper's name of the state.
    pub fn name(self) -> &'static str {
        match self {
            SessionState::Connected => "CONNECTED",
            SessionState::Connecting => "CONNECTING",
            SessionState::Closed => "CLOSED",
        }
    }
}

/// The broker's state read at scrape time for the gauges that describe it.
#[derive(Debug, Clone, Default)]
pub struct BrokerState {
    /// Every partition this broker hosts (leader or follower).
    pub partitions: Vec<PartitionState>,
    /// Groups the group coordinator holds, in any state.
    pub groups: usize,
    pub session: SessionState,
    /// zookeeper-lite sessions that expired, and heartbeats that failed after a good one.
    pub session_expires: u64,
    pub session_disconnects: u64,
    /// The topics that exist; `None` leaves per-topic counters as they are.
    pub topics: Option<HashSet<String>>,
}

impl BrokerState {
    /// The state gauges, in a registry of their own made for this scrape.
    fn registry(&self) -> Registry {
        let mut r = Registry::default();
        let count = Gauge::<i64>::default();
        count.set(i64::try_from(self.partitions.len()).unwrap_or(i64::MAX));
        r.register(
            "kafka_server_replicamanager_partitioncount",
            "Partitions this broker hosts, as leader or follower (Kafka's PartitionCount)",
            count,
        );
        let under = Gauge::<i64>::default();
        under.set(
            self.partitions
                .iter()
                .filter(|p| p.under_replicated)
                .count() as i64,
        );
        r.register(
            "kafka_server_replicamanager_underreplicatedpartitions",
            "Partitions this broker leads whose ISR is smaller than their replica set \
             (Kafka's UnderReplicatedPartitions)",
            under,
        );
        let size = Family::<Labels, Gauge>::default();
        let segments = Family::<Labels, Gauge>::default();
        for p in &self.partitions {
            let labels = vec![
                ("topic", p.topic.clone()),
                ("partition", p.partition.to_string()),
            ];
            size.get_or_create(&labels)
                .set(i64::try_from(p.size_bytes).unwrap_or(i64::MAX));
            segments
                .get_or_create(&labels)
                .set(i64::try_from(p.segments).unwrap_or(i64::MAX));
        }
        r.register(
            "kafka_log_log_size",
            "Bytes of a partition's log segments (Kafka's Log Size)",
            size,
        );
        r.register(
            "kafka_log_log_numlogsegments",
            "Segments of a partition's log (Kafka's NumLogSegments)",
            segments,
        );
        let groups = Gauge::<i64>::default();
        groups.set(i64::try_from(self.groups).unwrap_or(i64::MAX));
        r.register(
            "kafka_coordinator_group_groupmetadatamanager_numgroups",
            "Consumer groups this broker coordinates (Kafka's NumGroups)",
            groups,
        );
        let session = Family::<Labels, Gauge>::default();
        for s in SessionState::ALL {
            session
                .get_or_create(&vec![("state", s.name().to_string())])
                .set(i64::from(s == self.session));
        }
        r.register(
            "kafka_server_sessionexpirelistener_sessionstate",
            "1 for the state of the broker's zookeeper-lite session, in ZooKeeper's state names \
             (Kafka's SessionState)",
            session,
        );
        let expires: Counter = Counter::default();
        expires.inc_by(self.session_expires);
        r.register(
            "kafka_server_sessionexpirelistener_zookeeperexpires",
            "zookeeper-lite sessions of this broker that expired (Kafka's ZooKeeperExpiresPerSec)",
            expires,
        );
        let disconnects: Counter = Counter::default();
        disconnects.inc_by(self.session_disconnects);
        r.register(
            "kafka_server_sessionexpirelistener_zookeeperdisconnects",
            "Times the link to zookeeper-lite was lost (Kafka's ZooKeeperDisconnectsPerSec)",
            disconnects,
        );
        r
    }
}

#[cfg(test)]
mod tests;
