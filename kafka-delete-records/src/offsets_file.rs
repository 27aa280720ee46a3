//! The `--offset-json-file` as `DeleteRecordsCommand.parseOffsetJsonStringWithoutDedup` reads
//! it, with Kafka's decoders' messages: `{"partitions":[{"topic":"t","partition":0,
//! "offset":5}],"version":1}` (version 1 when absent; -1 as an offset means the high watermark).

use serde_json::Value;

use java_compat::exception::{ADMIN_COMMAND_FAILED, ADMIN_OPERATION, JSON_MAPPING};
use java_compat::order::{hash_order, topic_partition_hash, Capacity};
use java_compat::JavaException;

/// The partitions of the file, in the file's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetsFile {
    /// (topic, partition, offset) per entry.
    pub partitions: Vec<(String, i32, i64)>,
}

fn mapping(message: String) -> JavaException {
    JavaException::new(JSON_MAPPING, message)
}

/// Jackson's `JsonNode.toString()` of a value (compact JSON).
fn node(v: &Value) -> String {
    v.to_string()
}

/// `DecodeJson.DecodeInteger`: a JSON integer that fits an `int`.
fn int(v: &Value) -> Result<i32, JavaException> {
    v.as_i64()
        .filter(|_| !v.is_f64())
        .and_then(|i| i32::try_from(i).ok())
        .ok_or_else(|| mapping(format!("Expected `Integer` value, received {}", node(v))))
}

/// `DecodeJson.DecodeLong`: a JSON integer that fits a `long`.
fn long(v: &Value) -> Result<i64, JavaException> {
    v.as_i64()
        .filter(|_| !v.is_f64())
        .ok_or_else(|| mapping(format!("Expected `Long` value, received {}", node(v))))
}

/// `DecodeJson.DecodeString`.
fn string(v: &Value) -> Result<String, JavaException> {
    v.as_str()
        .map(String::from)
        .ok_or_else(|| mapping(format!("Expected `String` value, received {}", node(v))))
}

/// `JsonValue.asJsonObject`.
fn object(v: &Value) -> Result<&serde_json::Map<String, Value>, JavaException> {
    v.as_object()
        .ok_or_else(|| mapping(format!("Expected JSON object, received {}", node(v))))
}

/// `JsonObject.apply`.
fn field<'a>(
    o: &'a serde_json::Map<String, Value>,
    name: &str,
) -> Result<&'a Value, JavaException> {
    o.get(name)
        .ok_or_else(|| mapping(format!("No such field exists: `{name}`")))
}

impl OffsetsFile {
    /// Kafka's `parseOffsetJsonStringWithoutDedup`. Like Jackson's `readTree`, the first JSON
    /// value is read and anything after it ignored.
    pub fn parse(text: &str) -> Result<OffsetsFile, JavaException> {
        let invalid =
            || JavaException::new(ADMIN_OPERATION, "The input string is not a valid JSON");
        if text.is_empty() {
            return Err(invalid());
        }
        let mut values = serde_json::Deserializer::from_str(text).into_iter::<Value>();
        let js = match values.next() {
            Some(Ok(v)) => v,
            // Only whitespace: Jackson's MissingNode, which prints as nothing.
            None => return Err(mapping("Expected JSON object, received ".to_string())),
            Some(Err(_)) => return Err(invalid()),
        };
        let version = match object(&js)?.get("version") {
            Some(v) => int(v)?,
            None => 1,
        };
        if version != 1 {
            return Err(JavaException::new(
                ADMIN_OPERATION,
                format!("Not supported version field value {version}"),
            ));
        }
        let partitions = object(&js)?
            .get("partitions")
            .ok_or_else(|| JavaException::new(ADMIN_OPERATION, "Missing partitions field"))?;
        let entries = partitions.as_array().ok_or_else(|| {
            mapping(format!(
                "Expected JSON array, received {}",
                node(partitions)
            ))
        })?;
        let mut out = Vec::with_capacity(entries.len());
        for entry in entries {
            let o = object(entry)?;
            let topic = string(field(o, "topic")?)?;
            let partition = int(field(o, "partition")?)?;
            let offset = long(field(o, "offset")?)?;
            out.push((topic, partition, offset));
        }
        Ok(OffsetsFile { partitions: out })
    }

    /// Kafka's duplicate check: a partition named twice fails the command with
    /// "Offset json file contains duplicate topic partitions: t-0,u-1" (in `HashSet` order).
    pub fn without_duplicates(self) -> Result<OffsetsFile, JavaException> {
        let mut seen: Vec<(String, i32)> = Vec::new();
        let mut dups: Vec<(String, i32)> = Vec::new();
        for (t, p, _) in &self.partitions {
            let key = (t.clone(), *p);
            if seen.contains(&key) {
                if !dups.contains(&key) {
                    dups.push(key);
                }
            } else {
                seen.push(key);
            }
        }
        if dups.is_empty() {
            return Ok(self);
        }
        let tp_hash = |tp: &(String, i32)| topic_partition_hash(&tp.0, tp.1);
        // Filtered from the `HashMap` of every partition into a `HashSet`.
        let in_map = hash_order(seen, Capacity::Default, tp_hash);
        let dups: Vec<(String, i32)> = in_map.into_iter().filter(|k| dups.contains(k)).collect();
        let dups = hash_order(dups, Capacity::Default, tp_hash);
        let names: Vec<String> = dups.iter().map(|(t, p)| format!("{t}-{p}")).collect();
        Err(JavaException::new(
            ADMIN_COMMAND_FAILED,
            format!(
                "Offset json file contains duplicate topic partitions: {}",
                names.join(",")
            ),
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn error(text: &str) -> (String, String) {
        let e = OffsetsFile::parse(text)
            .and_then(OffsetsFile::without_duplicates)
            .unwrap_err();
        (e.class, e.message.unwrap())
    }

    #[test]
    fn the_documented_format_parses_and_version_defaults_to_one() {
        let f = OffsetsFile::parse(
            "{\"partitions\":\n  [{\"topic\": \"foo\", \"partition\": 1, \"offset\": 1}],\n \"version\":1\n}",
        )
        .unwrap();
        assert_eq!(f.partitions, vec![("foo".to_string(), 1, 1)]);
        let f = OffsetsFile::parse(
            "{\"partitions\":[{\"topic\":\"t\",\"partition\":0,\"offset\":-1}]}",
        )
        .unwrap();
        assert_eq!(f.partitions, vec![("t".to_string(), 0, -1)]);
    }

    #[test]
    fn kafkas_messages_for_bad_files() {
        let op = ADMIN_OPERATION.to_string();
        let map = JSON_MAPPING.to_string();
        for (text, class, message) in [
            ("", &op, "The input string is not a valid JSON"),
            ("{nope", &op, "The input string is not a valid JSON"),
            ("[1]", &map, "Expected JSON object, received [1]"),
            (
                "{\"version\":2,\"partitions\":[]}",
                &op,
                "Not supported version field value 2",
            ),
            (
                "{\"version\":\"1\"}",
                &map,
                "Expected `Integer` value, received \"1\"",
            ),
            ("{\"version\":1}", &op, "Missing partitions field"),
            (
                "{\"partitions\":{}}",
                &map,
                "Expected JSON array, received {}",
            ),
            (
                "{\"partitions\":[{\"partition\":0,\"offset\":1}]}",
                &map,
                "No such field exists: `topic`",
            ),
            (
                "{\"partitions\":[{\"topic\":1,\"partition\":0,\"offset\":1}]}",
                &map,
                "Expected `String` value, received 1",
            ),
            (
                "{\"partitions\":[{\"topic\":\"t\",\"partition\":1.0,\"offset\":1}]}",
                &map,
                "Expected `Integer` value, received 1.0",
            ),
            (
                "{\"partitions\":[{\"topic\":\"t\",\"partition\":3000000000,\"offset\":1}]}",
                &map,
                "Expected `Integer` value, received 3000000000",
            ),
            (
                "{\"partitions\":[{\"topic\":\"t\",\"partition\":0,\"offset\":\"5\"}]}",
                &map,
                "Expected `Long` value, received \"5\"",
            ),
        ] {
            assert_eq!(error(text), (class.clone(), message.to_string()), "{text}");
        }
    }

    #[test]
    fn duplicate_partitions_are_refused_with_kafkas_message() {
        let text = "{\"partitions\":[{\"topic\":\"t\",\"partition\":0,\"offset\":1},{\"topic\":\"t\",\"partition\":0,\"offset\":2},{\"topic\":\"u\",\"partition\":1,\"offset\":2},{\"topic\":\"u\",\"partition\":1,\"offset\":3}],\"version\":1}";
        let (class, message) = error(text);
        assert_eq!(class, ADMIN_COMMAND_FAILED);
        // TopicPartition hashes: t-0 = 1077, u-1 = 1109; buckets 5 and 5 of 16 (both), so the
        // file's order holds.
        assert_eq!(
            message,
            "Offset json file contains duplicate topic partitions: t-0,u-1"
        );
    }
}
