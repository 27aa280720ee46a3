//! `--path-to-json-file`: Kafka's `parseReplicaElectionData`, which reads
//! `{"partitions": [{"topic": "foo", "partition": 1}, ...]}` with the failures it throws: the
//! file unreadable (`RuntimeException` of the `IOException`), not JSON ("Replica election data is
//! empty"), no `partitions` field, a field of the wrong type (`RuntimeException` of Jackson's
//! `JsonMappingException`, with Kafka's `DecodeJson` texts), a partition listed twice.

use serde_json::Value;

use java_compat::exception::{ADMIN_OPERATION, JSON_MAPPING};
use java_compat::order::{hash_order, topic_partition_hash, Capacity};
use java_compat::JavaException;

/// Reads the file at `path` (Kafka's `Utils.readFileAsString`) and parses it.
pub fn read_replica_election_data(path: &str) -> Result<Vec<(String, i32)>, JavaException> {
    let bytes = std::fs::read(path)
        .map_err(|e| JavaException::runtime(JavaException::from_read_error(path, &e)))?;
    parse_replica_election_data(&String::from_utf8_lossy(&bytes))
}

fn mapping(message: String) -> JavaException {
    // Both of Kafka's lambdas rethrow a JsonMappingException as `new RuntimeException(e)`.
    JavaException::runtime(JavaException::new(JSON_MAPPING, message))
}

/// Kafka's `Json.parseFull`: the first JSON value of `text` (Jackson ignores what follows it),
/// or `None` when there is none.
fn parse_full(text: &str) -> Option<Value> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .next()
        .and_then(Result::ok)
}

/// Parses the JSON text of a replica election file into its partitions, in file order.
pub fn parse_replica_election_data(text: &str) -> Result<Vec<(String, i32)>, JavaException> {
    let Some(root) = parse_full(text) else {
        return Err(JavaException::new(
            ADMIN_OPERATION,
            "Replica election data is empty",
        ));
    };
    let Value::Object(root) = root else {
        return Err(mapping(format!("Expected JSON object, received {root}")));
    };
    let Some(list) = root.get("partitions") else {
        return Err(JavaException::new(
            ADMIN_OPERATION,
            "Replica election data is missing \"partitions\" field",
        ));
    };
    let Value::Array(list) = list else {
        return Err(mapping(format!("Expected JSON array, received {list}")));
    };
    let mut partitions = Vec::with_capacity(list.len());
    for entry in list {
        let Value::Object(entry) = entry else {
            return Err(mapping(format!("Expected JSON object, received {entry}")));
        };
        let field = |name: &str| {
            entry
                .get(name)
                .ok_or_else(|| mapping(format!("No such field exists: `{name}`")))
        };
        let topic = match field("topic")? {
            Value::String(s) => s.clone(),
            other => {
                return Err(mapping(format!(
                    "Expected `String` value, received {other}"
                )))
            }
        };
        let partition = field("partition")?;
        // Jackson's `isInt()`: an integer literal within int's range.
        let Some(partition) = partition
            .as_i64()
            .filter(|_| !partition.is_f64())
            .and_then(|p| i32::try_from(p).ok())
        else {
            return Err(mapping(format!(
                "Expected `Integer` value, received {partition}"
            )));
        };
        partitions.push((topic, partition));
    }
    let mut duplicates: Vec<(String, i32)> = Vec::new();
    for (i, tp) in partitions.iter().enumerate() {
        if partitions[..i].contains(tp) && !duplicates.contains(tp) {
            duplicates.push(tp.clone());
        }
    }
    if !duplicates.is_empty() {
        // `Collectors.toSet()` is a HashSet, printed in its iteration order.
        let shown: Vec<String> = hash_order(duplicates, Capacity::Default, |(t, p)| {
            topic_partition_hash(t, *p)
        })
        .into_iter()
        .map(|(t, p)| format!("{t}-{p}"))
        .collect();
        return Err(JavaException::new(
            ADMIN_OPERATION,
            format!(
                "Replica election data contains duplicate partitions: [{}]",
                shown.join(", ")
            ),
        ));
    }
    Ok(partitions)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        parse_replica_election_data(text).unwrap_err().report()
    }

    #[test]
    fn kafkas_example_file_is_read_in_order() {
        let text = "{\"partitions\":\n\t[{\"topic\": \"foo\", \"partition\": 1},\n\t {\"topic\": \"foobar\", \"partition\": 2}]\n}\n";
        assert_eq!(
            parse_replica_election_data(text).unwrap(),
            vec![("foo".to_string(), 1), ("foobar".to_string(), 2)]
        );
        // Jackson stops after the first value; an empty list is no partitions.
        assert_eq!(
            parse_replica_election_data("{\"partitions\": []} trailing").unwrap(),
            vec![]
        );
    }

    #[test]
    fn bad_files_fail_with_kafkas_exceptions() {
        assert_eq!(
            error("not json"),
            "Replica election data is empty\n\
             org.apache.kafka.server.common.AdminOperationException: Replica election data is empty\n"
        );
        assert_eq!(error(""), error("not json"));
        assert!(error("{}").starts_with("Replica election data is missing \"partitions\" field\n"));
        assert!(error("[1]").starts_with(
            "com.fasterxml.jackson.databind.JsonMappingException: Expected JSON object, received [1]\n\
             java.lang.RuntimeException: com.fasterxml.jackson.databind.JsonMappingException"
        ));
        let first_line = |text: &str| error(text).lines().next().unwrap().to_string();
        let jackson = "com.fasterxml.jackson.databind.JsonMappingException: ";
        assert_eq!(
            first_line("{\"partitions\": {}}"),
            format!("{jackson}Expected JSON array, received {{}}")
        );
        assert_eq!(
            first_line("{\"partitions\": [{\"partition\": 0}]}"),
            format!("{jackson}No such field exists: `topic`")
        );
        assert_eq!(
            first_line("{\"partitions\": [{\"topic\": 1, \"partition\": 0}]}"),
            format!("{jackson}Expected `String` value, received 1")
        );
        assert_eq!(
            first_line("{\"partitions\": [{\"topic\": \"t\", \"partition\": \"0\"}]}"),
            format!("{jackson}Expected `Integer` value, received \"0\"")
        );
        assert_eq!(
            first_line("{\"partitions\": [{\"topic\": \"t\", \"partition\": 1.0}]}"),
            format!("{jackson}Expected `Integer` value, received 1.0")
        );
        assert_eq!(
            first_line("{\"partitions\": [{\"topic\": \"t\", \"partition\": 3000000000}]}"),
            format!("{jackson}Expected `Integer` value, received 3000000000")
        );
    }

    #[test]
    fn a_partition_listed_twice_is_refused() {
        let text = r#"{"partitions": [{"topic": "t", "partition": 0}, {"topic": "t", "partition": 1},
            {"topic": "t", "partition": 0}, {"topic": "t", "partition": 1}]}"#;
        assert_eq!(
            error(text).lines().next().unwrap(),
            "Replica election data contains duplicate partitions: [t-1, t-0]"
        );
    }

    #[test]
    fn an_unreadable_file_is_a_runtime_exception_of_the_io_exception() {
        let report = read_replica_election_data("/nonexistent/election.json")
            .unwrap_err()
            .report();
        assert_eq!(
            report,
            "java.nio.file.NoSuchFileException: /nonexistent/election.json\n\
             java.lang.RuntimeException: java.nio.file.NoSuchFileException: /nonexistent/election.json\n\
             Caused by: java.nio.file.NoSuchFileException: /nonexistent/election.json\n"
        );
    }
}
