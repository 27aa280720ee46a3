//! The views of the console's pages: plain data that the HTML templates and the JSON API render
//! alike (serde), with the small display helpers the templates call (`-` for a missing number,
//! as Kafka's tools print it; bytes for people). Also the request bodies of the JSON API.

use serde::{Deserialize, Serialize};

use crate::render::{Format, Shown};

/// `-` for a missing number, as Kafka's tools print it.
pub fn dash<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// Bytes for people: `1.5 MiB`.
pub fn human_bytes(v: &Option<i64>) -> String {
    let Some(b) = *v else {
        return "-".to_string();
    };
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = b as f64;
    let mut i = 0;
    while x >= 1024.0 && i < units.len() - 1 {
        x /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{x:.1} {}", units[i])
    }
}

/// Broker ids as Kafka's tools list them: `1,2,3`.
fn ids(v: &[i32]) -> String {
    v.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

/// A broker as the overview lists it (Metadata / `Admin.describeCluster`).
#[derive(Debug, Clone, Serialize)]
pub struct BrokerView {
    pub id: i32,
    pub host: String,
    pub port: i32,
    pub rack: Option<String>,
    pub controller: bool,
}

impl BrokerView {
    pub fn rack_text(&self) -> String {
        dash(&self.rack)
    }
}

/// The cluster overview page (`/`, `/api/overview`).
#[derive(Debug, Clone, Serialize)]
pub struct OverviewView {
    pub cluster_id: Option<String>,
    pub controller: Option<i32>,
    pub brokers: Vec<BrokerView>,
    pub topic_count: usize,
    pub partition_count: usize,
    /// Partitions whose ISR is smaller than their replica set.
    pub under_replicated_partitions: usize,
    /// Partitions without a leader.
    pub offline_partitions: usize,
    /// The `--metrics-url` endpoints charted on the page.
    pub metrics_urls: Vec<String>,
    /// Each endpoint's last scrape error and last good scrape.
    pub metrics_endpoints: Vec<crate::metrics::EndpointStatus>,
}

impl OverviewView {
    pub fn cluster_id_text(&self) -> String {
        dash(&self.cluster_id)
    }
    pub fn controller_text(&self) -> String {
        dash(&self.controller)
    }
}

/// One row of the topics page.
#[derive(Debug, Clone, Serialize)]
pub struct TopicSummary {
    pub name: String,
    pub internal: bool,
    pub partitions: usize,
    pub replication_factor: usize,
    pub under_replicated_partitions: usize,
    pub offline_partitions: usize,
    /// Sum over partitions of log end offset - log start offset; `None` if any is unknown.
    pub messages: Option<i64>,
    /// Sum over partitions of the leader replica's bytes on disk (DescribeLogDirs); `None`
    /// when the brokers do not serve DescribeLogDirs.
    pub size_bytes: Option<i64>,
}

impl TopicSummary {
    pub fn messages_text(&self) -> String {
        dash(&self.messages)
    }
    pub fn size_text(&self) -> String {
        human_bytes(&self.size_bytes)
    }
}

/// The topics page (`/topics`, `/api/topics`), sorted by name.
#[derive(Debug, Clone, Serialize)]
pub struct TopicsView {
    pub topics: Vec<TopicSummary>,
}

/// One partition of a topic's page: Metadata, ListOffsets and DescribeLogDirs.
#[derive(Debug, Clone, Serialize)]
pub struct PartitionView {
    pub partition: i32,
    pub leader: Option<i32>,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    pub log_start_offset: Option<i64>,
    pub log_end_offset: Option<i64>,
    pub messages: Option<i64>,
    /// Bytes on disk of the leader's replica.
    pub size_bytes: Option<i64>,
}

impl PartitionView {
    pub fn leader_text(&self) -> String {
        dash(&self.leader)
    }
    pub fn replicas_text(&self) -> String {
        ids(&self.replicas)
    }
    pub fn isr_text(&self) -> String {
        ids(&self.isr)
    }
    pub fn start_text(&self) -> String {
        dash(&self.log_start_offset)
    }
    pub fn end_text(&self) -> String {
        dash(&self.log_end_offset)
    }
    pub fn messages_text(&self) -> String {
        dash(&self.messages)
    }
    pub fn size_text(&self) -> String {
        human_bytes(&self.size_bytes)
    }
    pub fn under_replicated(&self) -> bool {
        self.isr.len() < self.replicas.len()
    }
}

/// One topic config (DescribeConfigs), with Kafka's source name.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigView {
    pub name: String,
    pub value: Option<String>,
    /// Kafka's `ConfigEntry.ConfigSource` name (`DYNAMIC_TOPIC_CONFIG`, `DEFAULT_CONFIG`...).
    pub source: String,
    pub read_only: bool,
    pub sensitive: bool,
}

impl ConfigView {
    pub fn value_text(&self) -> String {
        match (&self.value, self.sensitive) {
            (_, true) => "(sensitive)".to_string(),
            (Some(v), _) => v.clone(),
            (None, _) => "null".to_string(),
        }
    }
    pub fn overridden(&self) -> bool {
        self.source == "DYNAMIC_TOPIC_CONFIG"
    }
}

/// A topic's page (`/topics/{t}`, `/api/topics/{t}`): partitions and configs.
#[derive(Debug, Clone, Serialize)]
pub struct TopicView {
    pub name: String,
    pub topic_id: String,
    pub internal: bool,
    pub replication_factor: usize,
    pub messages: Option<i64>,
    pub size_bytes: Option<i64>,
    pub partitions: Vec<PartitionView>,
    pub configs: Vec<ConfigView>,
}

impl TopicView {
    pub fn messages_text(&self) -> String {
        dash(&self.messages)
    }
    pub fn size_text(&self) -> String {
        human_bytes(&self.size_bytes)
    }
}

/// What to browse (the query string of the message pages).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MessagesQuery {
    pub partition: Option<String>,
    /// The first offset to show.
    pub offset: Option<String>,
    /// The first record at or after this time: ms since the epoch or `YYYY-MM-DDTHH:mm[:ss]`
    /// (UTC unless a zone is given).
    pub timestamp: Option<String>,
    pub limit: Option<String>,
    /// `auto`, `text`, `json` or `hex`.
    pub format: Option<String>,
    /// The token of a one-time notice (the produce form redirects here with one).
    pub flash: Option<String>,
}

/// One record header, its value shown as the browse asked.
#[derive(Debug, Clone, Serialize)]
pub struct HeaderView {
    pub key: String,
    pub value: Option<Shown>,
}

/// One record of the message browser; timestamps in ms since the epoch and as UTC text.
#[derive(Debug, Clone, Serialize)]
pub struct RecordView {
    pub partition: i32,
    pub offset: i64,
    pub timestamp: i64,
    pub timestamp_text: String,
    pub key: Option<Shown>,
    pub value: Option<Shown>,
    pub headers: Vec<HeaderView>,
}

/// The message browser (`/topics/{t}/messages`, `/api/topics/{t}/messages`).
#[derive(Debug, Clone, Serialize)]
pub struct MessagesView {
    pub topic: String,
    pub partition: i32,
    pub partitions: Vec<i32>,
    pub log_start_offset: i64,
    pub log_end_offset: i64,
    /// Where this page starts.
    pub from_offset: i64,
    /// Where the next page (or the live tail) goes on.
    pub next_offset: i64,
    pub limit: usize,
    pub format: Format,
    pub records: Vec<RecordView>,
    /// The page stopped early at the console's cap on shown text (`MAX_PAGE_TEXT`, 8 MiB);
    /// `next_offset` goes on from there.
    pub capped: bool,
}

impl MessagesView {
    pub fn format_name(&self) -> &'static str {
        self.format.name()
    }
}

/// A test message to produce (the message browser's form, `POST /api/topics/{t}/messages`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProduceRequest {
    pub partition: Option<i32>,
    pub key: Option<String>,
    pub value: Option<String>,
    #[serde(default)]
    pub headers: Vec<HeaderInput>,
}

/// One header of a test message.
#[derive(Debug, Clone, Deserialize)]
pub struct HeaderInput {
    pub key: String,
    pub value: Option<String>,
}

/// Where a test message landed.
#[derive(Debug, Clone, Serialize)]
pub struct ProducedView {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// One row of the consumer groups page (ListGroups).
#[derive(Debug, Clone, Serialize)]
pub struct GroupSummary {
    pub group_id: String,
    pub state: String,
    pub protocol_type: String,
}

/// The consumer groups page (`/groups`, `/api/groups`), sorted by id.
#[derive(Debug, Clone, Serialize)]
pub struct GroupsView {
    pub groups: Vec<GroupSummary>,
}

/// One member of a group (DescribeGroups), its assignment decoded.
#[derive(Debug, Clone, Serialize)]
pub struct MemberView {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub host: String,
    /// `topic-partition` names.
    pub assignment: Vec<String>,
}

impl MemberView {
    pub fn assignment_text(&self) -> String {
        if self.assignment.is_empty() {
            "-".to_string()
        } else {
            self.assignment.join(", ")
        }
    }
}

/// One row of the group's offsets, as in `kafka-consumer-groups --describe`.
#[derive(Debug, Clone, Serialize)]
pub struct OffsetView {
    pub topic: String,
    pub partition: i32,
    pub current_offset: Option<i64>,
    pub log_end_offset: Option<i64>,
    /// LOG-END-OFFSET - CURRENT-OFFSET when both are known.
    pub lag: Option<i64>,
    pub consumer_id: Option<String>,
    pub host: Option<String>,
    pub client_id: Option<String>,
}

impl OffsetView {
    pub fn current_text(&self) -> String {
        dash(&self.current_offset)
    }
    pub fn end_text(&self) -> String {
        dash(&self.log_end_offset)
    }
    pub fn lag_text(&self) -> String {
        dash(&self.lag)
    }
    pub fn consumer_text(&self) -> String {
        dash(&self.consumer_id)
    }
    pub fn host_text(&self) -> String {
        dash(&self.host)
    }
    pub fn client_text(&self) -> String {
        dash(&self.client_id)
    }
}

/// A group's page (`/groups/{g}`, `/api/groups/{g}`).
#[derive(Debug, Clone, Serialize)]
pub struct GroupView {
    pub group_id: String,
    pub state: String,
    pub protocol_type: String,
    /// The assignor the group chose (`range`), empty when none.
    pub protocol: String,
    pub coordinator: String,
    pub members: Vec<MemberView>,
    pub offsets: Vec<OffsetView>,
    /// The sum of the known lags.
    pub total_lag: i64,
    /// (time ms, total lag) samples taken while the group was looked at, oldest first.
    pub lag_history: Vec<(i64, i64)>,
}

/// A reset of a group's offsets (`kafka-consumer-groups --reset-offsets`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResetRequest {
    /// `t` or `t:0,1`; empty or absent: every partition the group has committed offsets for
    /// (`--all-topics`).
    pub topic: Option<String>,
    /// `to-earliest`, `to-latest`, `to-offset`, `to-datetime` or `shift-by`.
    pub scenario: String,
    /// The offset, datetime or shift for the scenarios that take one.
    pub value: Option<String>,
    /// false (the default): a dry run that only shows the plan.
    #[serde(default)]
    pub execute: bool,
}

/// One partition of a reset plan.
#[derive(Debug, Clone, Serialize)]
pub struct ResetRow {
    pub topic: String,
    pub partition: i32,
    pub current_offset: Option<i64>,
    pub new_offset: i64,
}

impl ResetRow {
    pub fn current_text(&self) -> String {
        dash(&self.current_offset)
    }
}

/// The outcome of a reset: the plan, and whether it was committed.
#[derive(Debug, Clone, Serialize)]
pub struct ResetView {
    pub group_id: String,
    pub executed: bool,
    pub rows: Vec<ResetRow>,
    /// Kafka's warnings (offsets moved into range, empty partitions).
    pub warnings: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_shown_for_people() {
        assert_eq!(human_bytes(&None), "-");
        assert_eq!(human_bytes(&Some(512)), "512 B");
        assert_eq!(human_bytes(&Some(1536)), "1.5 KiB");
        assert_eq!(dash::<i64>(&None), "-");
    }
}
