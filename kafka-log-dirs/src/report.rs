//! What `LogDirsCommand` prints: the brokers asked, and the JSON of their log directories in the
//! order Kafka's `HashMap`s and `HashSet`s give them back (see `java_compat::order`), with the
//! keys in the order Jackson writes a `HashMap` of them.

use std::collections::BTreeMap;

use client::admin::{BrokerLogDirs, LogDirDescription, ReplicaInfo};
use client::ClientError;
use java_compat::order::{hash_order, integer_hash, string_hash, topic_partition_hash, Capacity};

/// `commaDelimitedStringFromIntegerSet`.
pub fn comma_list(ids: &[i32]) -> String {
    ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

/// `existingBrokers`: the brokers asked for (all of the cluster's when none were named) that the
/// cluster has, in the order of the `HashSet` Kafka copies them into.
pub fn existing_brokers(cluster: &[i32], input: &[i32]) -> Vec<i32> {
    let base = if input.is_empty() { cluster } else { input };
    hash_order(base.to_vec(), Capacity::SetCopyOf(base.len()), integer_hash)
        .into_iter()
        .filter(|b| cluster.contains(b))
        .collect()
}

/// `describeLogDirs(brokers).allDescriptions().get()`: every broker's directories in the order
/// of the result's map (built `new HashMap<>(n)` from the brokers' `HashSet` order, copied, then
/// copied again into `new HashMap<>(n)`), or the first failure.
pub fn all_descriptions(
    brokers: &[i32],
    mut described: BTreeMap<i32, BrokerLogDirs>,
) -> Result<Vec<(i32, Vec<LogDirDescription>)>, ClientError> {
    let n = brokers.len();
    let futures = hash_order(brokers.to_vec(), Capacity::Initial(n), integer_hash);
    let copied = hash_order(futures, Capacity::MapCopyOf(n), integer_hash);
    let order = hash_order(copied, Capacity::Initial(n), integer_hash);
    let mut out = Vec::with_capacity(n);
    for broker in order {
        match described.remove(&broker) {
            Some(Ok(dirs)) => out.push((broker, dirs)),
            Some(Err(e)) => return Err(e),
            None => {
                return Err(ClientError::Protocol(format!(
                    "no answer from broker {broker}"
                )))
            }
        }
    }
    Ok(out)
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// One replica as `fromReplicasInfoToPrintableRepresentation` maps it.
fn replica_json(r: &ReplicaInfo) -> String {
    format!(
        "{{\"partition\":{},\"size\":{},\"offsetLag\":{},\"isFuture\":{}}}",
        json_string(&format!("{}-{}", r.topic, r.partition)),
        r.size,
        r.offset_lag,
        r.is_future
    )
}

fn tp_hash(r: &ReplicaInfo) -> i32 {
    topic_partition_hash(&r.topic, r.partition)
}

/// One directory as `fromLogDirInfosToPrintableRepresentation` maps it: its replicas (in the
/// order of the admin client's `HashMap`, filtered to `topics` and collected into another one),
/// its error's class name or null, its path.
fn log_dir_json(dir: &LogDirDescription, topics: &[String]) -> String {
    let replicas = hash_order(dir.replicas.clone(), Capacity::Default, tp_hash);
    let kept: Vec<ReplicaInfo> = replicas
        .into_iter()
        .filter(|r| topics.is_empty() || topics.contains(&r.topic))
        .collect();
    let kept = hash_order(kept, Capacity::Default, tp_hash);
    let partitions: Vec<String> = kept.iter().map(replica_json).collect();
    let error = match &dir.error {
        Some(e) => json_string(&cli::exception::exception_class(e)),
        None => "null".to_string(),
    };
    format!(
        "{{\"partitions\":[{}],\"error\":{error},\"logDir\":{}}}",
        partitions.join(","),
        json_string(&dir.path)
    )
}

/// `formatAsJson`: `{"brokers":[{"broker":0,"logDirs":[...]}],"version":1}`.
pub fn format_as_json(by_broker: &[(i32, Vec<LogDirDescription>)], topics: &[String]) -> String {
    let brokers: Vec<String> = by_broker
        .iter()
        .map(|(broker, dirs)| {
            // The admin client's `new HashMap<>(results.size())` of directories by path.
            let dirs = hash_order(
                dirs.iter().collect::<Vec<_>>(),
                Capacity::Initial(dirs.len()),
                |d| string_hash(&d.path),
            );
            let dirs: Vec<String> = dirs.iter().map(|d| log_dir_json(d, topics)).collect();
            format!("{{\"broker\":{broker},\"logDirs\":[{}]}}", dirs.join(","))
        })
        .collect();
    format!("{{\"brokers\":[{}],\"version\":1}}", brokers.join(","))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn replica(topic: &str, partition: i32, size: i64) -> ReplicaInfo {
        ReplicaInfo {
            topic: topic.into(),
            partition,
            size,
            offset_lag: 0,
            is_future: false,
        }
    }

    #[test]
    fn json_has_kafkas_key_order_and_topic_filter() {
        let dir = LogDirDescription {
            path: "/tmp/kafka-logs".into(),
            error: None,
            replicas: vec![replica("t", 0, 10), replica("other", 0, 5)],
            total_bytes: None,
            usable_bytes: None,
        };
        let json = format_as_json(&[(0, vec![dir.clone()])], &["t".to_string()]);
        assert_eq!(
            json,
            "{\"brokers\":[{\"broker\":0,\"logDirs\":[{\"partitions\":[{\"partition\":\"t-0\",\"size\":10,\"offsetLag\":0,\"isFuture\":false}],\"error\":null,\"logDir\":\"/tmp/kafka-logs\"}]}],\"version\":1}"
        );
        let all = format_as_json(&[(0, vec![dir])], &[]);
        assert!(all.contains("other-0"), "{all}");
        let failed = LogDirDescription {
            path: "/d".into(),
            error: Some(ClientError::kafka(56, None)),
            replicas: vec![],
            total_bytes: None,
            usable_bytes: None,
        };
        assert!(format_as_json(&[(1, vec![failed])], &[])
            .contains("\"error\":\"org.apache.kafka.common.errors.KafkaStorageException\""));
    }

    #[test]
    fn partitions_come_in_javas_hash_map_order() {
        let dir = LogDirDescription {
            path: "/d".into(),
            error: None,
            replicas: (0..12).map(|p| replica("topic", p, 0)).collect(),
            total_bytes: None,
            usable_bytes: None,
        };
        let json = format_as_json(&[(0, vec![dir])], &[]);
        let expected = hash_order((0..12).collect::<Vec<i32>>(), Capacity::Default, |p| {
            topic_partition_hash("topic", *p)
        });
        let printed: Vec<i32> = json
            .split("\"partition\":\"topic-")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(printed, expected);
    }

    #[test]
    fn existing_brokers_and_the_missing_ones() {
        assert_eq!(existing_brokers(&[0, 1, 2], &[]), vec![0, 1, 2]);
        assert_eq!(existing_brokers(&[0, 1, 2], &[2, 0, 7]), vec![0, 2]);
        assert_eq!(comma_list(&[0, 1]), "0,1");
    }
}
