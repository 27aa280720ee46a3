//! The JSON lines `VerifiableConsumer` prints, written as its Jackson `ObjectMapper` writes them:
//! `timestamp` and `name` first (`@JsonPropertyOrder`), then the event's fields in declaration
//! order; a `TopicPartition` as `{"topic":..,"partition":..}` (the tool's own serializer);
//! `record_data` in its declared order (key, value, topic, partition, offset);
//! `offsets_committed`'s `error` only when there is one (`@JsonInclude(NON_NULL)`).
//!
//! `offsets_committed` lists the offsets in the iteration order of the Java `HashMap` the tool
//! builds them in (`java_compat::order`), so that the lines read as Kafka's do.

use std::fmt::Write as _;

use java_compat::text::jackson_string as json_string;

use common::topic_partition::TopicPartition;

/// The summary of one partition's records in one poll (`RecordSetSummary`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSetSummary {
    pub topic: String,
    pub partition: i32,
    pub count: i64,
    pub min_offset: i64,
    pub max_offset: i64,
}

/// One committed offset (`CommitData`): the next offset to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitData {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// One event line's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumerEvent {
    StartupComplete,
    ShutdownComplete,
    /// `onPartitionsRevoked` (and `onPartitionsLost`, which calls it).
    PartitionsRevoked(Vec<TopicPartition>),
    /// `onPartitionsAssigned`.
    PartitionsAssigned(Vec<TopicPartition>),
    /// One poll's records: `count` is every record the poll returned, `partitions` the ones
    /// counted against `--max-messages`.
    RecordsConsumed {
        count: i64,
        partitions: Vec<RecordSetSummary>,
    },
    /// One record (`--verbose`).
    RecordData {
        key: Option<String>,
        value: Option<String>,
        topic: String,
        partition: i32,
        offset: i64,
    },
    /// The result of a commit; `error` is the exception's message when it failed.
    OffsetsCommitted {
        offsets: Vec<CommitData>,
        error: Option<String>,
        success: bool,
    },
}

impl ConsumerEvent {
    /// The event's `name`.
    pub fn name(&self) -> &'static str {
        match self {
            ConsumerEvent::StartupComplete => "startup_complete",
            ConsumerEvent::ShutdownComplete => "shutdown_complete",
            ConsumerEvent::PartitionsRevoked(_) => "partitions_revoked",
            ConsumerEvent::PartitionsAssigned(_) => "partitions_assigned",
            ConsumerEvent::RecordsConsumed { .. } => "records_consumed",
            ConsumerEvent::RecordData { .. } => "record_data",
            ConsumerEvent::OffsetsCommitted { .. } => "offsets_committed",
        }
    }

    /// The JSON line (without the newline), `timestamp` in ms since the epoch.
    pub fn to_json(&self, timestamp: i64) -> String {
        let mut out = format!("{{\"timestamp\":{timestamp},\"name\":\"{}\"", self.name());
        match self {
            ConsumerEvent::StartupComplete | ConsumerEvent::ShutdownComplete => {}
            ConsumerEvent::PartitionsRevoked(tps) | ConsumerEvent::PartitionsAssigned(tps) => {
                out.push_str(",\"partitions\":[");
                for (i, tp) in tps.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(
                        out,
                        "{{\"topic\":{},\"partition\":{}}}",
                        json_string(&tp.topic),
                        tp.partition
                    );
                }
                out.push(']');
            }
            ConsumerEvent::RecordsConsumed { count, partitions } => {
                let _ = write!(out, ",\"count\":{count},\"partitions\":[");
                for (i, s) in partitions.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(
                        out,
                        "{{\"topic\":{},\"partition\":{},\"count\":{},\"minOffset\":{},\"maxOffset\":{}}}",
                        json_string(&s.topic),
                        s.partition,
                        s.count,
                        s.min_offset,
                        s.max_offset
                    );
                }
                out.push(']');
            }
            ConsumerEvent::RecordData {
                key,
                value,
                topic,
                partition,
                offset,
            } => {
                let _ = write!(
                    out,
                    ",\"key\":{},\"value\":{},\"topic\":{},\"partition\":{partition},\"offset\":{offset}",
                    json_string_or_null(key.as_deref()),
                    json_string_or_null(value.as_deref()),
                    json_string(topic)
                );
            }
            ConsumerEvent::OffsetsCommitted {
                offsets,
                error,
                success,
            } => {
                out.push_str(",\"offsets\":[");
                for (i, c) in offsets.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(
                        out,
                        "{{\"topic\":{},\"partition\":{},\"offset\":{}}}",
                        json_string(&c.topic),
                        c.partition,
                        c.offset
                    );
                }
                out.push(']');
                if let Some(e) = error {
                    let _ = write!(out, ",\"error\":{}", json_string(e));
                }
                let _ = write!(out, ",\"success\":{success}");
            }
        }
        out.push('}');
        out
    }
}

fn json_string_or_null(s: Option<&str>) -> String {
    s.map_or_else(|| "null".to_string(), json_string)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn partitions_assigned_lists_topic_and_partition() {
        let e = ConsumerEvent::PartitionsAssigned(vec![
            TopicPartition::new("t", 0),
            TopicPartition::new("t", 1),
        ]);
        assert_eq!(
            e.to_json(1),
            r#"{"timestamp":1,"name":"partitions_assigned","partitions":[{"topic":"t","partition":0},{"topic":"t","partition":1}]}"#
        );
        assert_eq!(
            ConsumerEvent::PartitionsRevoked(Vec::new()).to_json(2),
            r#"{"timestamp":2,"name":"partitions_revoked","partitions":[]}"#
        );
    }

    #[test]
    fn records_consumed_has_count_then_partition_summaries() {
        let e = ConsumerEvent::RecordsConsumed {
            count: 5,
            partitions: vec![RecordSetSummary {
                topic: "t".to_string(),
                partition: 1,
                count: 5,
                min_offset: 10,
                max_offset: 14,
            }],
        };
        assert_eq!(
            e.to_json(3),
            r#"{"timestamp":3,"name":"records_consumed","count":5,"partitions":[{"topic":"t","partition":1,"count":5,"minOffset":10,"maxOffset":14}]}"#
        );
    }

    #[test]
    fn record_data_keeps_its_declared_order() {
        let e = ConsumerEvent::RecordData {
            key: None,
            value: Some("7".to_string()),
            topic: "t".to_string(),
            partition: 0,
            offset: 7,
        };
        assert_eq!(
            e.to_json(4),
            r#"{"timestamp":4,"name":"record_data","key":null,"value":"7","topic":"t","partition":0,"offset":7}"#
        );
    }

    #[test]
    fn offsets_committed_shows_error_only_on_failure() {
        let ok = ConsumerEvent::OffsetsCommitted {
            offsets: vec![CommitData {
                topic: "t".to_string(),
                partition: 0,
                offset: 5,
            }],
            error: None,
            success: true,
        };
        assert_eq!(
            ok.to_json(5),
            r#"{"timestamp":5,"name":"offsets_committed","offsets":[{"topic":"t","partition":0,"offset":5}],"success":true}"#
        );
        let failed = ConsumerEvent::OffsetsCommitted {
            offsets: Vec::new(),
            error: Some("boom \"x\"".to_string()),
            success: false,
        };
        let v: serde_json::Value = serde_json::from_str(&failed.to_json(6)).unwrap();
        assert_eq!(v["error"], "boom \"x\"");
        assert_eq!(v["success"], false);
        assert!(failed
            .to_json(6)
            .ends_with(r#","error":"boom \"x\"","success":false}"#));
    }
}
