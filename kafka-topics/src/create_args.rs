//! Parsing of `--config` and `--replica-assignment` for create and alter, with Kafka's messages.

use client::topic_configs::is_topic_config;

/// `parseTopicConfigsToBeAdded`: each entry split on `\s*=\s*` must give exactly a key and a
/// value (Java's split drops trailing empty pieces, so `a=` is rejected too).
pub fn parse_topic_configs(entries: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut configs: Vec<(String, String)> = Vec::new();
    for entry in entries {
        let mut pieces: Vec<&str> = entry.split('=').map(str::trim).collect();
        while pieces.len() > 1 && pieces.last() == Some(&"") {
            pieces.pop();
        }
        if pieces.len() != 2 {
            return Err("requirement failed: Invalid topic config: all configs to be added must be in the format \"key=val\".".to_string());
        }
        let (key, value) = (pieces[0].to_string(), pieces[1].to_string());
        configs.retain(|(k, _)| *k != key);
        configs.push((key, value));
    }
    for (key, _) in &configs {
        if !is_topic_config(key) {
            return Err(format!("Unknown topic config name: {key}"));
        }
    }
    Ok(configs)
}

/// `parseReplicaAssignment`: `1:2,3:4` -> partition 0 on [1, 2], partition 1 on [3, 4].
pub fn parse_replica_assignment(raw: &str) -> Result<Vec<Vec<i32>>, String> {
    let mut partitions: Vec<&str> = raw.split(',').collect();
    while partitions.len() > 1 && partitions.last() == Some(&"") {
        partitions.pop();
    }
    let mut assignment: Vec<Vec<i32>> = Vec::new();
    for (i, part) in partitions.iter().enumerate() {
        let mut brokers = Vec::new();
        for id in part.split(':') {
            let id = id.trim();
            brokers.push(
                id.parse::<i32>()
                    .map_err(|_| format!("For input string: \"{id}\""))?,
            );
        }
        let mut duplicates: Vec<i32> = Vec::new();
        for (j, b) in brokers.iter().enumerate() {
            if brokers[..j].contains(b) && !duplicates.contains(b) {
                duplicates.push(*b);
            }
        }
        if !duplicates.is_empty() {
            let list: Vec<String> = duplicates.iter().map(i32::to_string).collect();
            return Err(format!(
                "Partition replica lists may not contain duplicate entries: {}",
                list.join(",")
            ));
        }
        if let Some(first) = assignment.first() {
            if first.len() != brokers.len() {
                let list: Vec<String> = brokers.iter().map(i32::to_string).collect();
                return Err(format!(
                    "Partition {i} has different replication factor: [{}]",
                    list.join(", ")
                ));
            }
        }
        assignment.push(brokers);
    }
    Ok(assignment)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn configs_are_key_equals_value() {
        assert_eq!(
            parse_topic_configs(&strings(&["retention.ms = 1000", "cleanup.policy=compact"]))
                .unwrap(),
            vec![
                ("retention.ms".to_string(), "1000".to_string()),
                ("cleanup.policy".to_string(), "compact".to_string())
            ]
        );
    }

    #[test]
    fn malformed_config_gets_kafkas_message() {
        for bad in ["retention.ms", "retention.ms=", "a=b=c"] {
            assert_eq!(
                parse_topic_configs(&strings(&[bad])).unwrap_err(),
                "requirement failed: Invalid topic config: all configs to be added must be in the format \"key=val\"."
            );
        }
    }

    #[test]
    fn unknown_config_name_is_rejected() {
        assert_eq!(
            parse_topic_configs(&strings(&["retention.msx=1"])).unwrap_err(),
            "Unknown topic config name: retention.msx"
        );
    }

    #[test]
    fn replica_assignment_parses_partitions_and_brokers() {
        assert_eq!(
            parse_replica_assignment("0:1, 1:2,2 : 0").unwrap(),
            vec![vec![0, 1], vec![1, 2], vec![2, 0]]
        );
    }

    #[test]
    fn replica_assignment_errors() {
        assert_eq!(
            parse_replica_assignment("1:1:2").unwrap_err(),
            "Partition replica lists may not contain duplicate entries: 1"
        );
        assert_eq!(
            parse_replica_assignment("1:2,3").unwrap_err(),
            "Partition 1 has different replication factor: [3]"
        );
        assert_eq!(
            parse_replica_assignment("a").unwrap_err(),
            "For input string: \"a\""
        );
    }
}
