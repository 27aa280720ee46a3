//! What the pages show, gathered from the cluster through the client library: one function per
//! page, each returning a serializable view that both the HTML page and its JSON twin render.
//! Message counts are log end offset - log start offset per partition; lag is log end offset -
//! committed offset, as `kafka-consumer-groups --describe` computes it; resets follow
//! `kafka-consumer-groups --reset-offsets` (its rules are shared through that crate's library).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::StatusCode;

use bytes::Bytes;
use client::admin::{AlterConfigOp, AlterOpType, ConfigResource, GroupDescription, OffsetSpec};
use client::{
    Admin, ClientError, Consumer, ConsumerConfig, NewTopic, Producer, ProducerConfig,
    ProducerRecord, StartOffset,
};
use kafka_consumer_groups::format::OffsetRow;
use kafka_consumer_groups::reset as group_reset;

use crate::error::ConsoleError;
use crate::metrics::MetricsStore;
use crate::render::{self, Format, Shown};
use crate::views::{
    BrokerView, ConfigView, GroupSummary, GroupView, GroupsView, HeaderView, MemberView,
    MessagesQuery, MessagesView, OffsetView, OverviewView, PartitionView, ProduceRequest,
    ProducedView, RecordView, ResetRequest, ResetRow, ResetView, TopicSummary, TopicView,
    TopicsView,
};

/// How many lag samples of a group are kept for its chart.
const LAG_HISTORY: usize = 180;
/// The most records one browse returns.
pub const MAX_RECORDS: usize = 500;
/// Records a browse returns when no limit is given.
pub const DEFAULT_RECORDS: usize = 50;
/// How long a browse waits for records it knows are there.
const BROWSE_TIMEOUT: Duration = Duration::from_secs(5);

/// The console's connection to one cluster, shared by every request.
pub struct Console {
    pub admin: Admin,
    bootstrap: String,
    /// The `--command-config` properties, given to the consumer and producer too.
    client_props: Vec<(String, String)>,
    producer: tokio::sync::OnceCell<Producer>,
    /// Total lag samples per group: (time ms, lag), oldest first.
    lag_history: Mutex<HashMap<String, VecDeque<(i64, i64)>>>,
    pub metrics: MetricsStore,
    /// One-time messages for the pages forms redirect to.
    pub flashes: crate::flash::Flashes,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

// ---- the calls -----------------------------------------------------------------------------

/// The scenarios a reset accepts.
pub const SCENARIOS: &[&str] = &[
    "to-earliest",
    "to-latest",
    "to-offset",
    "to-datetime",
    "shift-by",
];

/// `YYYY-MM-DDTHH:mm` (an HTML datetime-local field) gets its seconds; then Kafka's parser.
/// A time before 1970 is refused (400): ListOffsets reads negative timestamps as its
/// sentinels (-1 latest, -2 earliest, -3 max timestamp), not as times.
fn parse_time(text: &str) -> Result<i64, ConsoleError> {
    let text = text.trim();
    let ms = if let Ok(ms) = text.parse::<i64>() {
        ms
    } else {
        let full = if text.len() == 16 && text.as_bytes().get(13) == Some(&b':') {
            format!("{text}:00")
        } else {
            text.to_string()
        };
        group_reset::parse_datetime(&full).map_err(ConsoleError::bad_request)?
    };
    if ms < 0 {
        return Err(ConsoleError::bad_request(format!(
            "Invalid timestamp {text}: the timestamp must be >= 0 (ms since 1970-01-01T00:00:00Z)."
        )));
    }
    Ok(ms)
}

/// The console refuses to delete an internal topic (`__consumer_offsets`, `__transaction_state`):
/// deleting one would wipe every group's offsets or every transaction's state. Kafka 3.9's own
/// `kafka-topics --delete` no longer checks this; the text is its older `TopicCommand`'s.
pub fn check_deletable(topic: &str) -> Result<(), ConsoleError> {
    if common::topic::is_internal(topic) {
        return Err(ConsoleError::new(
            StatusCode::FORBIDDEN,
            format!("Topic {topic} is a kafka internal topic and is not allowed to be marked for deletion."),
        ));
    }
    Ok(())
}

/// The console refuses to create an internal topic: the brokers create `__consumer_offsets` and
/// `__transaction_state` themselves when first needed, compacted and with their own partition
/// counts; one made by hand (Kafka's CreateTopics allows it) would be an ordinary topic that
/// the group or transaction coordinator then has to use.
pub fn check_creatable(topic: &str) -> Result<(), ConsoleError> {
    if common::topic::is_internal(topic) {
        return Err(ConsoleError::new(
            StatusCode::FORBIDDEN,
            format!(
                "Topic {topic} is a kafka internal topic: the brokers create it themselves when \
                 it is first needed."
            ),
        ));
    }
    Ok(())
}

/// A partition without a leader (503): nothing can be read from or written to it until one of
/// its replicas comes back, and asking would only wait for the admin timeout.
fn offline_partition(topic: &str, partition: i32) -> ConsoleError {
    ConsoleError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("{topic}-{partition} is offline: none of its replicas is alive to lead it."),
    )
}

/// `Err` with [`offline_partition`] when `partition` of `described` has no leader.
fn check_online(
    described: &client::admin::TopicDescription,
    partition: i32,
) -> Result<(), ConsoleError> {
    if described
        .partitions
        .iter()
        .any(|p| p.partition == partition && p.leader.is_none())
    {
        return Err(offline_partition(&described.name, partition));
    }
    Ok(())
}

/// A topic the cluster does not know (404), in the console's text rather than Kafka's "This
/// server does not host this topic-partition.": `UNKNOWN_TOPIC_OR_PARTITION` becomes it, any
/// other error keeps Kafka's.
fn topic_error(name: &str, e: ClientError) -> ConsoleError {
    match e {
        ClientError::Kafka { code, .. }
            if code == common::errors::codes::UNKNOWN_TOPIC_OR_PARTITION =>
        {
            missing_topic(name)
        }
        e => e.into(),
    }
}

fn missing_topic(name: &str) -> ConsoleError {
    ConsoleError::not_found(format!("Topic '{name}' does not exist."))
}

/// The console's text for a partition a topic does not have (404).
fn no_such_partition(topic: &str, partition: i32) -> ConsoleError {
    ConsoleError::not_found(format!(
        "Partition {partition} of topic '{topic}' does not exist."
    ))
}

/// `Ok` when every one of `wanted` is among `partitions`; else the first missing one (404).
fn check_partitions(topic: &str, partitions: &[i32], wanted: &[i32]) -> Result<(), ConsoleError> {
    match wanted.iter().find(|p| !partitions.contains(p)) {
        Some(p) => Err(no_such_partition(topic, *p)),
        None => Ok(()),
    }
}

/// Where the next page of a browse starts: after the last record shown when the browse stopped
/// early (a full page or the size cap); the log end offset `end` when the read reached it
/// (`reached_end`: the rest of the log holds no records, only control batches such as
/// transaction markers); else where the consumer's position got to (a timed-out read). Never
/// beyond `end`.
fn next_offset(
    from: i64,
    end: i64,
    last_shown: Option<i64>,
    position: i64,
    stopped_early: bool,
    reached_end: bool,
) -> i64 {
    let after_shown = last_shown.map_or(from, |o| o + 1);
    if stopped_early {
        after_shown.min(end)
    } else if reached_end {
        end
    } else {
        after_shown.max(position).min(end)
    }
}

/// The bytes of one key, value or header value shown at most.
pub const MAX_SHOWN_BYTES: usize = 64 * 1024;
/// A browse stops adding records once this much text (keys, values, headers) is shown.
pub const MAX_PAGE_TEXT: usize = 8 * 1024 * 1024;

/// Shows `b` as `format` asks, cut to its first [`MAX_SHOWN_BYTES`] bytes (then marked
/// `truncated` with its full size).
fn show_capped(b: &[u8], format: Format) -> Shown {
    if b.len() <= MAX_SHOWN_BYTES {
        return render::show(b, format);
    }
    // Cut at a character boundary when the cut splits a UTF-8 sequence.
    let mut n = MAX_SHOWN_BYTES;
    if let Err(e) = std::str::from_utf8(&b[..n]) {
        if e.error_len().is_none() && n - e.valid_up_to() < 4 {
            n = e.valid_up_to();
        }
    }
    let mut shown = render::show(&b[..n], format);
    shown.truncated = true;
    shown.size = Some(b.len());
    shown
}

/// The records of a browse as shown, until their text reaches [`MAX_PAGE_TEXT`]; `true` when
/// records were left out for that reason (the next page starts at the first of them).
fn record_views(records: &[client::ConsumerRecord], format: Format) -> (Vec<RecordView>, bool) {
    let show = |b: &Option<Bytes>| b.as_ref().map(|b| show_capped(b, format));
    let mut out = Vec::new();
    let mut text = 0usize;
    for r in records {
        if text >= MAX_PAGE_TEXT {
            return (out, true);
        }
        let view = RecordView {
            partition: r.partition,
            offset: r.offset,
            timestamp: r.timestamp,
            timestamp_text: render::timestamp_text(r.timestamp),
            key: show(&r.key),
            value: show(&r.value),
            headers: r
                .headers
                .iter()
                .map(|(k, v)| HeaderView {
                    key: k.clone(),
                    value: show(v),
                })
                .collect(),
        };
        let len = |s: &Option<Shown>| s.as_ref().map_or(0, |s| s.text.len());
        text += len(&view.key)
            + len(&view.value)
            + view
                .headers
                .iter()
                .map(|h| h.key.len() + len(&h.value))
                .sum::<usize>();
        out.push(view);
    }
    (out, false)
}

fn parse_opt<T: std::str::FromStr>(
    v: &Option<String>,
    what: &str,
) -> Result<Option<T>, ConsoleError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| ConsoleError::bad_request(format!("Invalid {what}: {s}"))),
    }
}

impl Console {
    pub fn new(
        admin: Admin,
        bootstrap: &str,
        client_props: Vec<(String, String)>,
        metrics: MetricsStore,
    ) -> Console {
        Console {
            admin,
            bootstrap: bootstrap.to_string(),
            client_props,
            producer: tokio::sync::OnceCell::new(),
            lag_history: Mutex::new(HashMap::new()),
            metrics,
            flashes: crate::flash::Flashes::default(),
        }
    }

    pub async fn overview(&self) -> Result<OverviewView, ConsoleError> {
        let cluster = self.admin.describe_cluster().await?;
        let names: Vec<String> = self
            .admin
            .list_topics()
            .await?
            .into_iter()
            .map(|t| t.name)
            .collect();
        let topics = self.admin.describe_topics(&names).await?;
        let partitions: Vec<_> = topics.iter().flat_map(|t| t.partitions.iter()).collect();
        Ok(OverviewView {
            cluster_id: cluster.cluster_id,
            controller: cluster.controller,
            brokers: cluster
                .brokers
                .into_iter()
                .map(|b| BrokerView {
                    controller: Some(b.id) == cluster.controller,
                    id: b.id,
                    host: b.host,
                    port: b.port,
                    rack: b.rack,
                })
                .collect(),
            topic_count: topics.len(),
            partition_count: partitions.len(),
            under_replicated_partitions: partitions
                .iter()
                .filter(|p| p.isr.len() < p.replicas.len())
                .count(),
            offline_partitions: partitions.iter().filter(|p| p.leader.is_none()).count(),
            metrics_urls: self.metrics.urls(),
            metrics_endpoints: self.metrics.statuses(),
        })
    }

    /// The partitions of `keys` that have a leader (all of them when the metadata cannot be
    /// read): an offline one would hold ListOffsets up until the admin timeout.
    async fn online(&self, keys: Vec<(String, i32)>) -> Vec<(String, i32)> {
        let topics: Vec<String> = keys
            .iter()
            .map(|(t, _)| t.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let Ok(described) = self.admin.describe_topics(&topics).await else {
            return keys;
        };
        let offline: BTreeSet<(String, i32)> = described
            .iter()
            .flat_map(|t| {
                t.partitions
                    .iter()
                    .filter(|p| p.leader.is_none())
                    .map(|p| (t.name.clone(), p.partition))
            })
            .collect();
        keys.into_iter().filter(|k| !offline.contains(k)).collect()
    }

    /// Log start and end offsets of partitions (ListOffsets earliest and latest, asked side by
    /// side: a broker that does not answer costs one admin timeout, not two).
    async fn log_offsets(
        &self,
        partitions: &[(String, i32)],
    ) -> Result<BTreeMap<(String, i32), (Option<i64>, Option<i64>)>, ConsoleError> {
        let (starts, ends) = tokio::join!(
            self.admin.list_offsets(partitions, OffsetSpec::Earliest),
            self.admin.list_offsets(partitions, OffsetSpec::Latest)
        );
        let (starts, ends) = (starts?, ends?);
        let value = |m: &BTreeMap<(String, i32), Result<Option<i64>, ClientError>>, k| {
            m.get(k).and_then(|v| v.as_ref().ok().copied().flatten())
        };
        Ok(partitions
            .iter()
            .map(|k| (k.clone(), (value(&starts, k), value(&ends, k))))
            .collect())
    }

    /// Bytes on disk of each partition's leader replica, from DescribeLogDirs of the leaders;
    /// empty when no broker answers it (an older broker: UNSUPPORTED_VERSION).
    async fn partition_sizes(
        &self,
        leaders: &BTreeMap<(String, i32), i32>,
    ) -> BTreeMap<(String, i32), i64> {
        let brokers: BTreeSet<i32> = leaders.values().copied().collect();
        let brokers: Vec<i32> = brokers.into_iter().collect();
        let answers = self.admin.describe_log_dirs(&brokers).await;
        let mut out = BTreeMap::new();
        for (broker, dirs) in answers {
            let Ok(dirs) = dirs else { continue };
            for dir in dirs.iter().filter(|d| d.error.is_none()) {
                for r in dir.replicas.iter().filter(|r| !r.is_future) {
                    let key = (r.topic.clone(), r.partition);
                    if leaders.get(&key) == Some(&broker) {
                        out.insert(key, r.size);
                    }
                }
            }
        }
        out
    }

    pub async fn topics(&self) -> Result<TopicsView, ConsoleError> {
        let names: Vec<String> = self
            .admin
            .list_topics()
            .await?
            .into_iter()
            .map(|t| t.name)
            .collect();
        let described = self.admin.describe_topics(&names).await?;
        // An offline partition (no leader) has no offsets to ask for: ListOffsets would retry
        // it until the admin timeout and hold up the whole page.
        let keys: Vec<(String, i32)> = described
            .iter()
            .flat_map(|t| {
                t.partitions
                    .iter()
                    .filter(|p| p.leader.is_some())
                    .map(|p| (t.name.clone(), p.partition))
            })
            .collect();
        let leaders: BTreeMap<(String, i32), i32> = described
            .iter()
            .flat_map(|t| {
                t.partitions
                    .iter()
                    .filter_map(|p| Some(((t.name.clone(), p.partition), p.leader?)))
            })
            .collect();
        // Side by side, so a broker that does not answer holds the page up once.
        let (offsets, sizes) =
            tokio::join!(self.log_offsets(&keys), self.partition_sizes(&leaders));
        let offsets = offsets?;
        let mut topics: Vec<TopicSummary> = described
            .iter()
            .map(|t| {
                let mut messages = Some(0i64);
                let mut size = Some(0i64);
                for p in &t.partitions {
                    let key = (t.name.clone(), p.partition);
                    messages = match (messages, offsets.get(&key)) {
                        (Some(m), Some((Some(s), Some(e)))) => Some(m + (e - s)),
                        _ => None,
                    };
                    size = match (size, sizes.get(&key)) {
                        (Some(a), Some(b)) => Some(a + b),
                        _ => None,
                    };
                }
                TopicSummary {
                    name: t.name.clone(),
                    internal: t.internal,
                    partitions: t.partitions.len(),
                    replication_factor: t.partitions.first().map_or(0, |p| p.replicas.len()),
                    under_replicated_partitions: t
                        .partitions
                        .iter()
                        .filter(|p| p.isr.len() < p.replicas.len())
                        .count(),
                    offline_partitions: t.partitions.iter().filter(|p| p.leader.is_none()).count(),
                    messages,
                    size_bytes: size,
                }
            })
            .collect();
        topics.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(TopicsView { topics })
    }

    pub async fn create_topic(
        &self,
        name: &str,
        partitions: Option<i32>,
        replication_factor: Option<i16>,
    ) -> Result<(), ConsoleError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(ConsoleError::bad_request("A topic name is required."));
        }
        check_creatable(name)?;
        self.admin
            .create_topic(NewTopic {
                name: name.to_string(),
                num_partitions: partitions,
                replication_factor,
                ..Default::default()
            })
            .await?;
        Ok(())
    }

    /// Deletes a topic; internal topics are refused (403) as `check_deletable` says.
    pub async fn delete_topic(&self, name: &str) -> Result<(), ConsoleError> {
        check_deletable(name)?;
        self.admin
            .delete_topic(name)
            .await
            .map_err(|e| topic_error(name, e))
    }

    /// Metadata of one topic; a topic the cluster does not know is a 404 ([`topic_error`]).
    async fn describe_one(
        &self,
        name: &str,
    ) -> Result<client::admin::TopicDescription, ConsoleError> {
        self.admin
            .describe_topics(&[name.to_string()])
            .await
            .map_err(|e| topic_error(name, e))?
            .into_iter()
            .next()
            .ok_or_else(|| missing_topic(name))
    }

    pub async fn topic(&self, name: &str) -> Result<TopicView, ConsoleError> {
        let described = self.describe_one(name).await?;
        // As on the topics page: no ListOffsets for offline partitions.
        let keys: Vec<(String, i32)> = described
            .partitions
            .iter()
            .filter(|p| p.leader.is_some())
            .map(|p| (name.to_string(), p.partition))
            .collect();
        let leaders = described
            .partitions
            .iter()
            .filter_map(|p| Some(((name.to_string(), p.partition), p.leader?)))
            .collect();
        let (offsets, sizes) =
            tokio::join!(self.log_offsets(&keys), self.partition_sizes(&leaders));
        let offsets = offsets?;
        let partitions: Vec<PartitionView> = described
            .partitions
            .iter()
            .map(|p| {
                let key = (name.to_string(), p.partition);
                let (start, end) = offsets.get(&key).copied().unwrap_or((None, None));
                PartitionView {
                    partition: p.partition,
                    leader: p.leader,
                    replicas: p.replicas.clone(),
                    isr: p.isr.clone(),
                    log_start_offset: start,
                    log_end_offset: end,
                    messages: start.zip(end).map(|(s, e)| e - s),
                    size_bytes: sizes.get(&key).copied(),
                }
            })
            .collect();
        let configs = self
            .admin
            .describe_configs(&ConfigResource::topic(name), false)
            .await?;
        let mut configs: Vec<ConfigView> = configs
            .into_iter()
            .map(|c| ConfigView {
                source: client::admin::config_source_name(c.source).to_string(),
                name: c.name,
                value: c.value,
                read_only: c.read_only,
                sensitive: c.sensitive,
            })
            .collect();
        configs.sort_by(|a, b| a.name.cmp(&b.name));
        let sum = |f: fn(&PartitionView) -> Option<i64>| {
            partitions.iter().try_fold(0i64, |acc, p| Some(acc + f(p)?))
        };
        Ok(TopicView {
            name: described.name.clone(),
            topic_id: client::format_topic_id(&described.topic_id),
            internal: described.internal,
            replication_factor: described.partitions.first().map_or(0, |p| p.replicas.len()),
            messages: sum(|p| p.messages),
            size_bytes: sum(|p| p.size_bytes),
            partitions,
            configs,
        })
    }

    /// Sets (`value` given) or deletes (reverts to the default) one topic config with
    /// IncrementalAlterConfigs.
    pub async fn alter_topic_config(
        &self,
        topic: &str,
        name: &str,
        value: Option<&str>,
    ) -> Result<(), ConsoleError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(ConsoleError::bad_request("A config name is required."));
        }
        let op = match value {
            Some(v) => AlterConfigOp {
                name: name.to_string(),
                op: AlterOpType::Set,
                value: Some(v.to_string()),
            },
            None => AlterConfigOp {
                name: name.to_string(),
                op: AlterOpType::Delete,
                value: None,
            },
        };
        self.admin
            .incremental_alter_configs(&ConfigResource::topic(topic), &[op], false)
            .await?;
        Ok(())
    }

    fn consumer_config(&self) -> Result<ConsumerConfig, ConsoleError> {
        let mut c = ConsumerConfig::from_properties(&self.client_props)?;
        c.bootstrap_servers = self.bootstrap.clone();
        c.client_id = "kafka-web-console".to_string();
        c.group_id = None;
        c.enable_auto_commit = false;
        c.allow_auto_create_topics = false;
        c.fetch_max_wait_ms = 100;
        Ok(c)
    }

    pub async fn messages(
        &self,
        topic: &str,
        q: &MessagesQuery,
    ) -> Result<MessagesView, ConsoleError> {
        let format = match q.format.as_deref() {
            None => Format::Auto,
            Some(f) => Format::parse(f)
                .ok_or_else(|| ConsoleError::bad_request(format!("Unknown format: {f}")))?,
        };
        let limit = parse_opt::<usize>(&q.limit, "limit")?
            .unwrap_or(DEFAULT_RECORDS)
            .clamp(1, MAX_RECORDS);
        let described = self.describe_one(topic).await?;
        let partitions: Vec<i32> = described.partitions.iter().map(|p| p.partition).collect();
        let partition = parse_opt::<i32>(&q.partition, "partition")?.unwrap_or(0);
        check_partitions(topic, &partitions, &[partition])?;
        check_online(&described, partition)?;
        let key = (topic.to_string(), partition);
        let offsets = self.log_offsets(std::slice::from_ref(&key)).await?;
        let (Some(start), Some(end)) = offsets.get(&key).copied().unwrap_or((None, None)) else {
            return Err(ConsoleError::new(
                axum::http::StatusCode::BAD_GATEWAY,
                format!("The offsets of {topic}-{partition} are not available (no leader?)."),
            ));
        };
        let from = if let Some(o) = parse_opt::<i64>(&q.offset, "offset")? {
            o.clamp(start, end)
        } else if let Some(t) = q.timestamp.as_deref().filter(|t| !t.trim().is_empty()) {
            let ms = parse_time(t)?;
            let found = self
                .admin
                .list_offsets(std::slice::from_ref(&key), OffsetSpec::Timestamp(ms))
                .await?;
            match found.get(&key) {
                Some(Ok(Some(o))) => (*o).clamp(start, end),
                Some(Err(e)) => return Err(e.clone().into()),
                _ => end,
            }
        } else {
            (end - limit as i64).max(start)
        };
        let (records, position, reached_end) = if from < end {
            self.read(topic, partition, from, end, limit).await?
        } else {
            (Vec::new(), from, true)
        };
        let (records, capped) = record_views(&records, format);
        let next_offset = next_offset(
            from,
            end,
            records.last().map(|r| r.offset),
            position,
            capped || records.len() >= limit,
            reached_end,
        );
        Ok(MessagesView {
            topic: topic.to_string(),
            partition,
            partitions,
            log_start_offset: start,
            log_end_offset: end,
            from_offset: from,
            next_offset,
            limit,
            format,
            records,
            capped,
        })
    }

    /// Reads up to `limit` records of one partition from `from`, stopping at `end` (the log end
    /// offset looked up before) or after [`BROWSE_TIMEOUT`]. Also returns the consumer's
    /// position at the end and whether the read reached `end` (the position got there, past
    /// any control batches such as transaction markers, or a record at `end - 1` came).
    async fn read(
        &self,
        topic: &str,
        partition: i32,
        from: i64,
        end: i64,
        limit: usize,
    ) -> Result<(Vec<client::ConsumerRecord>, i64, bool), ConsoleError> {
        let mut consumer = Consumer::new(self.consumer_config()?).await?;
        consumer
            .assign(vec![(
                topic.to_string(),
                partition,
                StartOffset::Offset(from),
            )])
            .await?;
        let deadline = Instant::now() + BROWSE_TIMEOUT;
        let mut out = Vec::new();
        let mut position = from;
        let mut reached_end = false;
        while out.len() < limit && Instant::now() < deadline {
            let batch = consumer.poll(Duration::from_millis(200)).await?;
            out.extend(batch.into_iter().filter(|r| r.offset < end));
            position = consumer.position(topic, partition).unwrap_or(position);
            if position >= end || out.last().is_some_and(|r| r.offset + 1 >= end) {
                reached_end = true;
                break;
            }
        }
        out.truncate(limit);
        consumer.close().await;
        Ok((out, position, reached_end))
    }

    pub async fn produce(
        &self,
        topic: &str,
        request: ProduceRequest,
    ) -> Result<ProducedView, ConsoleError> {
        // The producer would create a missing topic (the broker's auto-create) or wait out its
        // delivery timeout for a missing partition: check both first.
        let described = self.describe_one(topic).await?;
        if let Some(p) = request.partition {
            let partitions: Vec<i32> = described.partitions.iter().map(|p| p.partition).collect();
            check_partitions(topic, &partitions, &[p])?;
            // Nothing can take the record until a replica comes back: say so instead of
            // waiting out the delivery timeout.
            check_online(&described, p)?;
        }
        let producer = self
            .producer
            .get_or_try_init(|| async {
                let mut config = ProducerConfig::from_properties(&self.client_props)?;
                config.bootstrap_servers = self.bootstrap.clone();
                config.client_id = "kafka-web-console".to_string();
                config.delivery_timeout_ms = 30_000;
                config.max_block_ms = 30_000;
                Producer::new(config).await
            })
            .await?;
        let record = ProducerRecord {
            topic: topic.to_string(),
            partition: request.partition,
            key: request.key.map(Bytes::from),
            value: request.value.map(Bytes::from),
            headers: request
                .headers
                .into_iter()
                .map(|h| (h.key, h.value.map(Bytes::from)))
                .collect(),
            timestamp: None,
        };
        let delivered = producer.send(record).await?.await?;
        Ok(ProducedView {
            topic: delivered.topic,
            partition: delivered.partition,
            offset: delivered.offset,
        })
    }

    pub async fn groups(&self) -> Result<GroupsView, ConsoleError> {
        let mut groups: Vec<GroupSummary> = self
            .admin
            .list_groups()
            .await?
            .into_iter()
            .map(|g| GroupSummary {
                state: g.state.unwrap_or_else(|| "-".to_string()),
                group_id: g.group_id,
                protocol_type: g.protocol_type,
            })
            .collect();
        groups.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        Ok(GroupsView { groups })
    }

    fn record_lag(&self, group: &str, lag: i64) -> Vec<(i64, i64)> {
        let mut history = match self.lag_history.lock() {
            Ok(h) => h,
            Err(poisoned) => poisoned.into_inner(),
        };
        let samples = history.entry(group.to_string()).or_default();
        samples.push_back((now_ms(), lag));
        while samples.len() > LAG_HISTORY {
            samples.pop_front();
        }
        samples.iter().copied().collect()
    }

    pub async fn group(&self, group: &str) -> Result<GroupView, ConsoleError> {
        let desc = self.admin.describe_group(group).await?;
        if desc.state == "Dead" {
            // kafka-consumer-groups --describe's text for a group the coordinator does not know.
            return Err(ConsoleError::not_found(format!(
                "Consumer group '{group}' does not exist."
            )));
        }
        let offsets = self.offset_rows(&desc).await?;
        let total_lag = offsets.iter().filter_map(|o| o.lag).sum();
        let lag_history = self.record_lag(group, total_lag);
        let coordinator = format!(
            "{}:{} (id: {})",
            desc.coordinator.host, desc.coordinator.port, desc.coordinator.id
        );
        Ok(GroupView {
            group_id: desc.group_id.clone(),
            state: desc.state.clone(),
            protocol_type: desc.protocol_type.clone(),
            protocol: desc.assignment_strategy.clone(),
            coordinator,
            members: desc
                .members
                .iter()
                .map(|m| MemberView {
                    member_id: m.member_id.clone(),
                    group_instance_id: m.group_instance_id.clone(),
                    client_id: m.client_id.clone(),
                    host: m.host.clone(),
                    assignment: m
                        .assignment
                        .iter()
                        .map(|(t, p)| format!("{t}-{p}"))
                        .collect(),
                })
                .collect(),
            offsets,
            total_lag,
            lag_history,
        })
    }

    /// The offsets table of `kafka-consumer-groups --describe`: every assigned partition with
    /// its member, then committed partitions no member holds; sorted by topic and partition.
    async fn offset_rows(&self, desc: &GroupDescription) -> Result<Vec<OffsetView>, ConsoleError> {
        let committed: BTreeMap<(String, i32), i64> = self
            .admin
            .list_group_offsets(&desc.group_id)
            .await?
            .into_iter()
            .map(|o| ((o.topic, o.partition), o.offset))
            .collect();
        let mut rows: BTreeMap<(String, i32), OffsetView> = BTreeMap::new();
        for m in &desc.members {
            for (t, p) in &m.assignment {
                rows.insert(
                    (t.clone(), *p),
                    OffsetView {
                        topic: t.clone(),
                        partition: *p,
                        current_offset: committed.get(&(t.clone(), *p)).copied(),
                        log_end_offset: None,
                        lag: None,
                        consumer_id: Some(m.member_id.clone()),
                        host: Some(m.host.clone()),
                        client_id: Some(m.client_id.clone()),
                    },
                );
            }
        }
        for ((t, p), o) in &committed {
            rows.entry((t.clone(), *p)).or_insert_with(|| OffsetView {
                topic: t.clone(),
                partition: *p,
                current_offset: Some(*o),
                log_end_offset: None,
                lag: None,
                consumer_id: None,
                host: None,
                client_id: None,
            });
        }
        let keys = self.online(rows.keys().cloned().collect()).await;
        let ends = self.admin.list_offsets(&keys, OffsetSpec::Latest).await?;
        Ok(rows
            .into_iter()
            .map(|(key, mut row)| {
                row.log_end_offset = ends
                    .get(&key)
                    .and_then(|v| v.as_ref().ok().copied().flatten());
                // The tool's own rule for its LAG column.
                row.lag = OffsetRow {
                    group: desc.group_id.clone(),
                    topic: Some(row.topic.clone()),
                    partition: Some(row.partition),
                    current_offset: row.current_offset,
                    log_end_offset: row.log_end_offset,
                    consumer_id: row.consumer_id.clone(),
                    host: row.host.clone(),
                    client_id: row.client_id.clone(),
                }
                .lag();
                row
            })
            .collect())
    }

    /// Plans, and with `execute` commits, a reset of a group's offsets with the semantics of
    /// `kafka-consumer-groups --reset-offsets`. An active group is refused with Kafka's text.
    pub async fn reset(&self, group: &str, req: &ResetRequest) -> Result<ResetView, ConsoleError> {
        let desc = self.admin.describe_group(group).await?;
        if !matches!(desc.state.as_str(), "Empty" | "Dead") {
            return Err(ConsoleError::conflict(format!(
                "Assignments can only be reset if the group '{group}' is inactive, but the current state is {}.",
                desc.state
            )));
        }
        let committed: BTreeMap<(String, i32), i64> = self
            .admin
            .list_group_offsets(group)
            .await?
            .into_iter()
            .map(|o| ((o.topic, o.partition), o.offset))
            .collect();
        let partitions: Vec<(String, i32)> = match req.topic.as_deref().map(str::trim) {
            None | Some("") => committed.keys().cloned().collect(),
            Some(arg) => {
                let (topic, ps) =
                    group_reset::parse_topic_scope(arg).map_err(ConsoleError::bad_request)?;
                let described = self.describe_one(&topic).await?;
                let all: Vec<i32> = described.partitions.iter().map(|p| p.partition).collect();
                match ps {
                    Some(ps) => {
                        check_partitions(&topic, &all, &ps)?;
                        ps.into_iter().map(|p| (topic.clone(), p)).collect()
                    }
                    None => all.into_iter().map(|p| (topic.clone(), p)).collect(),
                }
            }
        };
        if partitions.is_empty() {
            return Err(ConsoleError::bad_request(
                "No partitions to reset: the group has no committed offsets, so name a topic.",
            ));
        }
        // An offline partition has no offsets to reset to: say so at once instead of waiting
        // for ListOffsets to time out.
        let online = self.online(partitions.clone()).await;
        if let Some((t, p)) = partitions.iter().find(|k| !online.contains(k)) {
            return Err(offline_partition(t, *p));
        }
        let offsets = self.log_offsets(&partitions).await?;
        let mut warnings = Vec::new();
        let bounds = |k: &(String, i32)| offsets.get(k).copied().unwrap_or((None, None));
        let required = |v: Option<i64>, (t, p): &(String, i32)| {
            v.ok_or_else(|| {
                ConsoleError::new(
                    axum::http::StatusCode::BAD_GATEWAY,
                    format!("Expected a valid offset for partition {t}-{p}"),
                )
            })
        };
        let number = |what: &str| -> Result<i64, ConsoleError> {
            parse_opt::<i64>(&req.value, what)?
                .ok_or_else(|| ConsoleError::bad_request(format!("The {what} is required.")))
        };
        let mut plan: Vec<(String, i32, i64)> = Vec::new();
        match req.scenario.as_str() {
            "to-earliest" | "to-latest" => {
                for k in &partitions {
                    let (s, e) = bounds(k);
                    let v = if req.scenario == "to-earliest" { s } else { e };
                    plan.push((k.0.clone(), k.1, required(v, k)?));
                }
            }
            "to-offset" | "shift-by" => {
                let n = number(if req.scenario == "to-offset" {
                    "offset"
                } else {
                    "shift"
                })?;
                for k in &partitions {
                    let requested = if req.scenario == "to-offset" {
                        n
                    } else {
                        let Some(current) = committed.get(k) else {
                            return Err(ConsoleError::bad_request(format!(
                                "Cannot shift offset for partition {}-{} since there is no current committed offset",
                                k.0, k.1
                            )));
                        };
                        current.saturating_add(n)
                    };
                    let (s, e) = bounds(k);
                    let (v, warning) = group_reset::clamp_offset(&k.0, k.1, requested, s, e);
                    warnings.extend(warning);
                    plan.push((k.0.clone(), k.1, v));
                }
            }
            "to-datetime" => {
                let text = req.value.as_deref().unwrap_or("").trim();
                if text.is_empty() {
                    return Err(ConsoleError::bad_request("The datetime is required."));
                }
                let ms = parse_time(text)?;
                let found = self
                    .admin
                    .list_offsets(&partitions, OffsetSpec::Timestamp(ms))
                    .await?;
                for k in &partitions {
                    let v = match found.get(k) {
                        Some(Ok(Some(o))) => *o,
                        Some(Err(e)) => return Err(e.clone().into()),
                        _ => {
                            warnings.push(format!(
                                "Partition {} from topic {} is empty. Falling back to latest known offset.",
                                k.1, k.0
                            ));
                            required(bounds(k).1, k)?
                        }
                    };
                    plan.push((k.0.clone(), k.1, v));
                }
            }
            other => {
                return Err(ConsoleError::bad_request(format!(
                    "Unknown reset scenario '{other}'; expected one of {}",
                    SCENARIOS.join(", ")
                )))
            }
        }
        plan.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        if req.execute {
            let results = self.admin.alter_group_offsets(group, &plan).await?;
            if let Some((_, _, Some(e))) = results.into_iter().find(|(_, _, e)| e.is_some()) {
                return Err(e.into());
            }
        }
        Ok(ResetView {
            group_id: group.to_string(),
            executed: req.execute,
            rows: plan
                .into_iter()
                .map(|(t, p, o)| ResetRow {
                    current_offset: committed.get(&(t.clone(), p)).copied(),
                    topic: t,
                    partition: p,
                    new_offset: o,
                })
                .collect(),
            warnings,
        })
    }

    /// The group's lag history after taking one more sample (for the chart); empty when the
    /// group cannot be described.
    pub async fn lag_sample(&self, group: &str) -> Vec<(i64, i64)> {
        match self.group(group).await {
            Ok(view) => view.lag_history,
            Err(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn times_accept_ms_datetime_local_and_kafkas_format() {
        assert_eq!(parse_time("1234").unwrap(), 1234);
        assert_eq!(parse_time("1970-01-01T00:01").unwrap(), 60_000);
        assert_eq!(parse_time("1970-01-01T00:00:01.500").unwrap(), 1500);
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn times_before_1970_are_refused() {
        for t in ["-1", "-100", "1969-12-31T23:59", "1960-01-01T00:00:00"] {
            let e = parse_time(t).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{t}");
            assert!(e.message.contains("must be >= 0"), "{t}: {}", e.message);
        }
        assert_eq!(parse_time("0").unwrap(), 0);
    }

    #[test]
    fn internal_topics_cannot_be_deleted() {
        let e = check_deletable("__consumer_offsets").unwrap_err();
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        assert_eq!(
            e.message,
            "Topic __consumer_offsets is a kafka internal topic and is not allowed to be marked for deletion."
        );
        assert!(check_deletable("__transaction_state").is_err());
        assert!(check_deletable("orders").is_ok());
    }

    #[test]
    fn internal_topics_cannot_be_created_by_hand() {
        let e = check_creatable("__transaction_state").unwrap_err();
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        assert_eq!(
            e.message,
            "Topic __transaction_state is a kafka internal topic: the brokers create it themselves when it is first needed."
        );
        assert!(check_creatable("__consumer_offsets").is_err());
        assert!(check_creatable("__orders").is_ok());
    }

    #[test]
    fn missing_partitions_are_named() {
        let e = check_partitions("t1", &[0, 1, 2], &[0, 7]).unwrap_err();
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        assert_eq!(e.message, "Partition 7 of topic 't1' does not exist.");
        assert!(check_partitions("t1", &[0, 1, 2], &[2, 0]).is_ok());
    }

    #[test]
    fn a_browse_ending_in_a_transaction_marker_ends_at_the_log_end() {
        // Records 0..=4, a COMMIT marker at 5, log end offset 6: the read reached the end (the
        // position passed the marker); the next page is 6.
        assert_eq!(next_offset(0, 6, Some(4), 5, false, true), 6);
        // Starting at the marker itself: nothing shown, still the end, no self-link.
        assert_eq!(next_offset(5, 6, None, 5, false, true), 6);
        // A full page goes on after its last record, whatever the consumer read ahead.
        assert_eq!(next_offset(0, 100, Some(49), 80, true, false), 50);
        // A timed-out browse stays where it got to.
        assert_eq!(next_offset(10, 100, None, 10, false, false), 10);
    }

    fn record(offset: i64, value: Vec<u8>) -> client::ConsumerRecord {
        client::ConsumerRecord {
            topic: "t".into(),
            partition: 0,
            offset,
            timestamp: 0,
            timestamp_type: client::TimestampType::CreateTime,
            key: None,
            value: Some(Bytes::from(value)),
            headers: vec![(
                "h".into(),
                Some(Bytes::from(vec![b'x'; MAX_SHOWN_BYTES + 1])),
            )],
        }
    }

    #[test]
    fn big_values_are_cut_and_a_page_stops_at_its_text_cap() {
        let records: Vec<_> = (0..500).map(|o| record(o, vec![0xff; 1 << 20])).collect();
        let (views, capped) = record_views(&records, Format::Hex);
        assert!(capped);
        let v = views[0].value.as_ref().unwrap();
        assert!(v.truncated);
        assert_eq!(v.size, Some(1 << 20));
        assert_eq!(v.text.len(), 3 * MAX_SHOWN_BYTES - 1);
        let h = views[0].headers[0].value.as_ref().unwrap();
        assert!(h.truncated && h.size == Some(MAX_SHOWN_BYTES + 1));
        let total: usize = views
            .iter()
            .map(|r| {
                r.value.as_ref().unwrap().text.len()
                    + r.headers[0].value.as_ref().unwrap().text.len()
            })
            .sum();
        assert!(total < MAX_PAGE_TEXT + 8 * MAX_SHOWN_BYTES, "{total}");
        assert!(views.len() < 500);
        // Small values are whole and unmarked.
        let (views, capped) = record_views(&[record(0, b"hi".to_vec())], Format::Text);
        assert!(!capped);
        assert!(!views[0].value.as_ref().unwrap().truncated);
        assert_eq!(views[0].value.as_ref().unwrap().size, None);
    }
}
