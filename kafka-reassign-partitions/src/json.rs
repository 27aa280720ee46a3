//! The tool's two JSON files, read and written as Kafka 3.9's `ReassignPartitionsCommand` does
//! (`parseTopicsData`, `parsePartitionReassignmentData`, `formatAsReassignmentJson`, with the
//! `DecodeJson` rules of `org.apache.kafka.server.util.json`):
//!
//! - topics to move: `{"topics": [{"topic": "foo"}, ...], "version": 1}`;
//! - a reassignment: `{"partitions": [{"topic": "foo", "partition": 1, "replicas": [1,2,3],
//!   "log_dirs": ["any", "any", "any"]}], "version": 1}`, `log_dirs` optional.
//!
//! A missing `version` is version 1, the only one there is; a missing `topics` or `partitions`
//! is an empty list. Numbers must be JSON integers that fit an `int`, names JSON strings; a
//! failure carries the exception Kafka throws and its text.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::command::Failure;

/// `ReassignPartitionsCommand.ANY_LOG_DIR`: the replica may live in any log directory.
pub const ANY_LOG_DIR: &str = "any";

/// A partition of a topic, printed `topic-partition` and ordered by topic then partition (Kafka's
/// `compareTopicPartitions`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Partition {
    pub topic: String,
    pub partition: i32,
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// A reassignment file as `parsePartitionReassignmentData` reads it: the partitions with their target replicas, in file order
/// (duplicates kept, so that they can be reported), and the log directories asked for replicas
/// (`"any"` left out), by (partition, broker).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReassignmentData {
    pub partitions: Vec<(Partition, Vec<i32>)>,
    pub log_dirs: BTreeMap<(Partition, i32), String>,
}

const MAPPING: &str = "com.fasterxml.jackson.databind.JsonMappingException";
const ADMIN_OPERATION: &str = "org.apache.kafka.server.common.AdminOperationException";
const PARSE: &str = "com.fasterxml.jackson.core.JsonParseException";

fn mapping(message: String) -> Failure {
    Failure::exception(MAPPING, message)
}

/// How Jackson prints a JSON node in `DecodeJson`'s messages: compact JSON.
fn node(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn expected(kind: &str, v: &Value) -> Failure {
    mapping(format!("Expected `{kind}` value, received {}", node(v)))
}

fn as_object(v: &Value) -> Result<&serde_json::Map<String, Value>, Failure> {
    v.as_object()
        .ok_or_else(|| mapping(format!("Expected JSON object, received {}", node(v))))
}

fn as_array(v: &Value) -> Result<&Vec<Value>, Failure> {
    v.as_array()
        .ok_or_else(|| mapping(format!("Expected JSON array, received {}", node(v))))
}

/// `JsonObject.apply`: the field, or `No such field exists`.
fn field<'a>(o: &'a serde_json::Map<String, Value>, name: &str) -> Result<&'a Value, Failure> {
    o.get(name)
        .ok_or_else(|| mapping(format!("No such field exists: `{name}`")))
}

/// `DecodeInteger`: a JSON integer that fits an `int` (Jackson's `isInt`).
fn int(v: &Value) -> Result<i32, Failure> {
    v.as_i64()
        .filter(|_| !v.is_f64())
        .and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| expected("Integer", v))
}

/// `DecodeString`: a JSON string.
fn string(v: &Value) -> Result<String, Failure> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| expected("String", v))
}

/// `DecodeJson.decodeList`.
fn list<T>(v: &Value, each: impl Fn(&Value) -> Result<T, Failure>) -> Result<Vec<T>, Failure> {
    v.as_array()
        .ok_or_else(|| expected("JSON array", v))?
        .iter()
        .map(each)
        .collect()
}

/// The `version` field (1 when absent), which must be 1.
fn check_version(o: &serde_json::Map<String, Value>) -> Result<(), Failure> {
    let version = match o.get("version") {
        Some(v) => int(v)?,
        None => 1,
    };
    if version != 1 {
        return Err(Failure::exception(
            ADMIN_OPERATION,
            format!("Not supported version field value {version}"),
        ));
    }
    Ok(())
}

/// Kafka's `parseTopicsData` of a `--topics-to-move-json-file`: the topic names in file order.
/// Text that is not JSON at all is `The input string is not a valid JSON`.
pub fn parse_topics(text: &str) -> Result<Vec<String>, Failure> {
    let js: Value = serde_json::from_str(text)
        .map_err(|_| Failure::exception(ADMIN_OPERATION, "The input string is not a valid JSON"))?;
    let o = as_object(&js)?;
    check_version(o)?;
    let Some(topics) = o.get("topics") else {
        return Ok(Vec::new());
    };
    as_array(topics)?
        .iter()
        .map(|t| string(field(as_object(t)?, "topic")?))
        .collect()
}

/// Kafka's `parsePartitionReassignmentData` of a `--reassignment-json-file`. Text that is not
/// JSON is Jackson's parse error, wrapped as Kafka wraps it.
pub fn parse_reassignment(text: &str) -> Result<ReassignmentData, Failure> {
    if text.is_empty() {
        return Err(Failure::exception(
            ADMIN_OPERATION,
            format!("{PARSE}: The input string shouldn't be empty"),
        ));
    }
    let js: Value = serde_json::from_str(text)
        .map_err(|e| Failure::exception(ADMIN_OPERATION, format!("{PARSE}: {e}")))?;
    let o = as_object(&js)?;
    check_version(o)?;
    let mut data = ReassignmentData::default();
    let Some(partitions) = o.get("partitions") else {
        return Ok(data);
    };
    for p in as_array(partitions)? {
        let fields = as_object(p)?;
        let topic = string(field(fields, "topic")?)?;
        let partition = int(field(fields, "partition")?)?;
        let replicas = list(field(fields, "replicas")?, int)?;
        let log_dirs = match fields.get("log_dirs") {
            Some(dirs) => list(dirs, string)?,
            None => vec![ANY_LOG_DIR.to_string(); replicas.len()],
        };
        let tp = Partition { topic, partition };
        if replicas.len() != log_dirs.len() {
            return Err(Failure::exception(
                crate::command::ADMIN_COMMAND_FAILED,
                format!(
                    "Size of replicas list {} is different from size of log dirs list {} for \
                     partition {tp}",
                    java_list(&replicas),
                    java_list(&log_dirs)
                ),
            ));
        }
        for (replica, dir) in replicas.iter().zip(&log_dirs) {
            if dir != ANY_LOG_DIR {
                data.log_dirs.insert((tp.clone(), *replica), dir.clone());
            }
        }
        data.partitions.push((tp, replicas));
    }
    Ok(data)
}

/// How Java prints a `List`: `[1, 2, 3]`.
pub fn java_list<T: fmt::Display>(items: &[T]) -> String {
    let inner: Vec<String> = items.iter().map(T::to_string).collect();
    format!("[{}]", inner.join(", "))
}

/// Kafka's `formatAsReassignmentJson` (Jackson, compact): version 1 and the partitions sorted by
/// topic and partition, each with `"log_dirs"` (`"any"` unless `log_dirs` names a directory).
pub fn format_reassignment(
    partitions: &BTreeMap<Partition, Vec<i32>>,
    log_dirs: &BTreeMap<(Partition, i32), String>,
) -> String {
    let entries: Vec<String> = partitions
        .iter()
        .map(|(tp, replicas)| {
            let dirs: Vec<Value> = replicas
                .iter()
                .map(|r| {
                    let dir = log_dirs
                        .get(&(tp.clone(), *r))
                        .map_or(ANY_LOG_DIR, String::as_str);
                    Value::String(dir.to_string())
                })
                .collect();
            let replicas: Vec<String> = replicas.iter().map(i32::to_string).collect();
            format!(
                "{{\"topic\":{},\"partition\":{},\"replicas\":[{}],\"log_dirs\":{}}}",
                Value::String(tp.topic.clone()),
                tp.partition,
                replicas.join(","),
                Value::Array(dirs)
            )
        })
        .collect();
    format!("{{\"version\":1,\"partitions\":[{}]}}", entries.join(","))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn tp(topic: &str, partition: i32) -> Partition {
        Partition {
            topic: topic.into(),
            partition,
        }
    }

    fn failure_text(f: Failure) -> String {
        match f {
            Failure::Terse(m) => m,
            Failure::Exception { class, message } => format!("{class}: {message}"),
        }
    }

    #[test]
    fn topics_to_move_are_read_in_file_order() {
        let topics =
            parse_topics(r#"{"topics": [{"topic": "foo"}, {"topic": "bar"}], "version": 1}"#)
                .unwrap();
        assert_eq!(topics, vec!["foo", "bar"]);
        assert_eq!(
            parse_topics(r#"{"version":1}"#).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            failure_text(parse_topics("{nope").unwrap_err()),
            "org.apache.kafka.server.common.AdminOperationException: The input string is not a valid JSON"
        );
        assert_eq!(
            failure_text(parse_topics(r#"{"topics":[{"name":"foo"}]}"#).unwrap_err()),
            "com.fasterxml.jackson.databind.JsonMappingException: No such field exists: `topic`"
        );
        assert_eq!(
            failure_text(parse_topics(r#"{"topics":[{"topic":5}],"version":2}"#).unwrap_err()),
            "org.apache.kafka.server.common.AdminOperationException: Not supported version field value 2"
        );
        assert_eq!(
            failure_text(parse_topics(r#"{"topics":[{"topic":5}]}"#).unwrap_err()),
            "com.fasterxml.jackson.databind.JsonMappingException: Expected `String` value, received 5"
        );
    }

    #[test]
    fn a_reassignment_keeps_duplicates_and_named_log_dirs() {
        let data = parse_reassignment(
            r#"{"version":1,"partitions":[
                {"topic":"t","partition":0,"replicas":[0,1],"log_dirs":["any","/d"]},
                {"topic":"t","partition":0,"replicas":[2]}]}"#,
        )
        .unwrap();
        assert_eq!(
            data.partitions,
            vec![(tp("t", 0), vec![0, 1]), (tp("t", 0), vec![2])]
        );
        assert_eq!(
            data.log_dirs,
            BTreeMap::from([((tp("t", 0), 1), "/d".to_string())])
        );
        let e = parse_reassignment(
            r#"{"partitions":[{"topic":"t","partition":0,"replicas":[1,2],"log_dirs":["any"]}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            failure_text(e),
            "org.apache.kafka.server.common.AdminCommandFailedException: Size of replicas list \
             [1, 2] is different from size of log dirs list [any] for partition t-0"
        );
        let e =
            parse_reassignment(r#"{"partitions":[{"topic":"t","partition":0,"replicas":[1.5]}]}"#)
                .unwrap_err();
        assert_eq!(
            failure_text(e),
            "com.fasterxml.jackson.databind.JsonMappingException: Expected `Integer` value, received 1.5"
        );
        let e = parse_reassignment(r#"{"partitions":[{"topic":"t","partition":0,"replicas":3}]}"#)
            .unwrap_err();
        assert_eq!(
            failure_text(e),
            "com.fasterxml.jackson.databind.JsonMappingException: Expected `JSON array` value, received 3"
        );
    }

    #[test]
    fn the_json_written_is_kafkas_compact_layout_sorted_by_partition() {
        let parts = BTreeMap::from([
            (tp("b", 0), vec![2, 0]),
            (tp("a", 10), vec![1]),
            (tp("a", 2), vec![0, 1]),
        ]);
        assert_eq!(
            format_reassignment(&parts, &BTreeMap::new()),
            r#"{"version":1,"partitions":[{"topic":"a","partition":2,"replicas":[0,1],"log_dirs":["any","any"]},{"topic":"a","partition":10,"replicas":[1],"log_dirs":["any"]},{"topic":"b","partition":0,"replicas":[2,0],"log_dirs":["any","any"]}]}"#
        );
        // What is written reads back.
        let text = format_reassignment(&parts, &BTreeMap::new());
        let back = parse_reassignment(&text).unwrap();
        assert_eq!(back.partitions.len(), 3);
        assert!(back.log_dirs.is_empty());
    }
}
