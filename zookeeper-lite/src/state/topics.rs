//! Topics and their partitions: creation (placement of replicas), config overrides, new
//! partitions, deletion; Kafka's topic name and topic config name rules (the names from `common::config`).

use std::collections::{BTreeMap, BTreeSet};

use super::*;

/// Keeps one topic (and the metadata answer) far below the 16 MiB frame limit.
pub const MAX_PARTITIONS_PER_TOPIC: i32 = 10_000;
pub const MAX_PARTITIONS_TOTAL: usize = 100_000;

/// Kafka's `LogConfig.validateNames`: every name must be a topic config Kafka knows.
fn check_topic_config_names(configs: &BTreeMap<String, String>) -> Result<(), ServerError> {
    match configs.keys().find(|k| !common::config::is_topic_config(k)) {
        Some(key) => Err(err(
            ZkErrorCode::InvalidConfig,
            format!("Unknown topic config name: {key}"),
        )),
        None => Ok(()),
    }
}

impl State {
    // ---- topics -----------------------------------------------------------------------------

    /// Validates a creation and returns the topic it would create (id, placement, leaders).
    pub fn plan_create_topic(&self, t: &NewTopic) -> Result<TopicInfo, ServerError> {
        validate_topic_name(&t.name)?;
        if self.durable.topics.contains_key(&t.name) {
            return Err(err(
                ZkErrorCode::TopicAlreadyExists,
                format!("Topic '{}' already exists.", t.name),
            ));
        }
        // '.' and '_' collide in metric names, so Kafka refuses topics differing only there.
        let norm = |n: &str| n.replace('.', "_");
        let colliding: Vec<&str> = self
            .durable
            .topics
            .keys()
            .filter(|k| norm(k) == norm(&t.name))
            .map(String::as_str)
            .collect();
        if !colliding.is_empty() {
            return Err(err(
                ZkErrorCode::InvalidTopic,
                format!(
                    "Topic '{}' collides with existing topics: {}",
                    t.name,
                    colliding.join(", ")
                ),
            ));
        }
        check_topic_config_names(&t.configs)?;
        let assignment = match &t.replica_assignment {
            Some(a) => {
                if a.is_empty() {
                    return Err(err(
                        ZkErrorCode::InvalidPartitions,
                        "Number of partitions must be larger than 0.",
                    ));
                }
                self.check_partition_count(a.len() as i64, 0)?;
                self.validate_assignment(a, None)?;
                a.clone()
            }
            None => {
                if t.num_partitions <= 0 {
                    return Err(err(
                        ZkErrorCode::InvalidPartitions,
                        "Number of partitions must be larger than 0.",
                    ));
                }
                if t.replication_factor <= 0 {
                    return Err(err(
                        ZkErrorCode::InvalidReplicationFactor,
                        "Replication factor must be larger than 0.",
                    ));
                }
                self.check_partition_count(t.num_partitions as i64, 0)?;
                self.place(0, t.num_partitions as usize, t.replication_factor as usize)?
            }
        };
        Ok(TopicInfo {
            name: t.name.clone(),
            id: new_topic_id(),
            configs: t.configs.clone(),
            partitions: assignment
                .into_iter()
                .enumerate()
                .map(|(i, replicas)| self.new_partition(i as i32, replicas))
                .collect(),
        })
    }

    /// Validates replacing a topic's config overrides (names only: values are the broker's to
    /// check, as it knows their types) and returns the topic as it would be.
    pub fn plan_alter_topic_configs(
        &self,
        name: &str,
        configs: &BTreeMap<String, String>,
    ) -> Result<TopicInfo, ServerError> {
        let topic = self
            .durable
            .topics
            .get(name)
            .ok_or_else(|| unknown_topic(name))?;
        check_topic_config_names(configs)?;
        let mut topic = topic.clone();
        topic.configs = configs.clone();
        Ok(topic)
    }

    /// Validates replacing the dynamic configs of a broker entity: `""` (the cluster default) or
    /// a broker id (a non-negative integer; the broker need not be up, as in Kafka).
    pub fn plan_alter_broker_configs(
        &self,
        entity: &str,
        configs: &BTreeMap<String, String>,
    ) -> Result<Record, ServerError> {
        if !entity.is_empty() && !entity.parse::<i32>().is_ok_and(|id| id >= 0) {
            return Err(err(
                ZkErrorCode::InvalidRequest,
                format!("Broker id must be an integer, but it is: {entity}"),
            ));
        }
        Ok(Record::PutBrokerConfigs {
            entity: entity.to_string(),
            configs: configs.clone(),
        })
    }

    pub fn plan_delete_topic(&self, name: &str) -> Result<Record, ServerError> {
        if !self.durable.topics.contains_key(name) {
            return Err(unknown_topic(name));
        }
        Ok(Record::DeleteTopic {
            name: name.to_string(),
        })
    }

    /// Validates growing a topic to `total` partitions; `assignment` lists the replicas of the
    /// new partitions only, or of all of them (then the existing ones are left as they are).
    pub fn plan_create_partitions(
        &self,
        name: &str,
        total: i32,
        assignment: Option<&[Vec<BrokerId>]>,
    ) -> Result<TopicInfo, ServerError> {
        let topic = self
            .durable
            .topics
            .get(name)
            .ok_or_else(|| unknown_topic(name))?;
        let current = topic.partitions.len();
        let total_i = i64::from(total);
        if total_i < current as i64 {
            return Err(err(
                ZkErrorCode::InvalidPartitions,
                format!(
                    "Topic currently has {current} partitions, which is higher than the requested {total}."
                ),
            ));
        }
        if total_i == current as i64 {
            return Err(err(
                ZkErrorCode::InvalidPartitions,
                format!("Topic already has {current} partitions."),
            ));
        }
        self.check_partition_count(total_i, current)?;
        let add = total as usize - current;
        let rf = topic.partitions.first().map_or(1, |p| p.replicas.len());
        let new = match assignment {
            Some(a) => {
                let a = if a.len() == total as usize {
                    &a[current..]
                } else {
                    a
                };
                if a.len() != add {
                    return Err(err(
                        ZkErrorCode::InvalidReplicaAssignment,
                        format!(
                            "Increasing the number of partitions by {add} but {} assignments provided.",
                            a.len()
                        ),
                    ));
                }
                self.validate_assignment(a, Some(rf))?;
                a.to_vec()
            }
            None => self.place(current, add, rf)?,
        };
        let mut topic = topic.clone();
        for (i, replicas) in new.into_iter().enumerate() {
            let p = self.new_partition((current + i) as i32, replicas);
            topic.partitions.push(p);
        }
        Ok(topic)
    }

    /// `total` partitions for one topic, `existing` of which are already counted cluster-wide.
    fn check_partition_count(&self, total: i64, existing: usize) -> Result<(), ServerError> {
        if total > i64::from(MAX_PARTITIONS_PER_TOPIC) {
            return Err(err(
                ZkErrorCode::InvalidPartitions,
                format!("Number of partitions must be at most {MAX_PARTITIONS_PER_TOPIC}."),
            ));
        }
        let cluster: usize = self
            .durable
            .topics
            .values()
            .map(|t| t.partitions.len())
            .sum();
        if cluster - existing + total as usize > MAX_PARTITIONS_TOTAL {
            return Err(err(
                ZkErrorCode::InvalidPartitions,
                format!("The cluster would exceed {MAX_PARTITIONS_TOTAL} partitions."),
            ));
        }
        Ok(())
    }

    /// Round-robin over live brokers sorted by id; the first replica is the preferred leader.
    fn place(
        &self,
        first_partition: usize,
        count: usize,
        rf: usize,
    ) -> Result<Vec<Vec<BrokerId>>, ServerError> {
        let live: Vec<BrokerId> = self.durable.sessions.keys().copied().collect();
        if rf > live.len() {
            return Err(err(
                ZkErrorCode::InvalidReplicationFactor,
                format!(
                    "Replication factor: {rf} larger than available brokers: {}.",
                    live.len()
                ),
            ));
        }
        Ok((first_partition..first_partition + count)
            .map(|p| (0..rf).map(|j| live[(p + j) % live.len()]).collect())
            .collect())
    }

    fn validate_assignment(
        &self,
        a: &[Vec<BrokerId>],
        rf: Option<usize>,
    ) -> Result<(), ServerError> {
        let bad = |m: String| Err(err(ZkErrorCode::InvalidReplicaAssignment, m));
        for (i, replicas) in a.iter().enumerate() {
            if replicas.is_empty() {
                return Err(err(
                    ZkErrorCode::InvalidReplicationFactor,
                    "Replication factor must be larger than 0.",
                ));
            }
            let unique: BTreeSet<_> = replicas.iter().collect();
            if unique.len() != replicas.len() {
                return bad(format!(
                    "Duplicate brokers not allowed in replica assignment: {} for partition id {i}.",
                    join(replicas)
                ));
            }
            if replicas.len() != rf.unwrap_or(a[0].len()) {
                return bad("All partitions should have the same number of replicas".into());
            }
            let unknown: Vec<BrokerId> = replicas
                .iter()
                .copied()
                .filter(|&b| !self.is_up(b))
                .collect();
            if !unknown.is_empty() {
                return bad(format!(
                    "Unknown broker(s) in replica assignment: {}.",
                    join(&unknown)
                ));
            }
        }
        Ok(())
    }

    fn new_partition(&self, partition: i32, replicas: Vec<BrokerId>) -> PartitionInfo {
        let isr: Vec<BrokerId> = replicas
            .iter()
            .copied()
            .filter(|&b| self.is_up(b))
            .collect();
        PartitionInfo {
            partition,
            leader: isr.first().copied().unwrap_or(BrokerId::NONE),
            leader_epoch: LeaderEpoch(0),
            replicas,
            isr,
            partition_epoch: 0,
            adding_replicas: Vec::new(),
            removing_replicas: Vec::new(),
        }
    }
}

/// Kafka's `Topic.validate` (`common::topic::validate`, its texts) as this server's error.
pub fn validate_topic_name(name: &str) -> Result<(), ServerError> {
    common::topic::validate(name).map_err(|e| err(ZkErrorCode::InvalidTopic, e.to_string()))
}

/// A random topic id as Kafka makes them: never the nil id, and never one whose base64 form
/// starts with '-' (which would read as an option on a command line).
pub fn new_topic_id() -> uuid::Uuid {
    loop {
        let id = uuid::Uuid::new_v4();
        if !id.is_nil() && id.as_bytes()[0] >> 2 != 62 {
            return id;
        }
    }
}
