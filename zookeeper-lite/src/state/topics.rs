//! Topics and their partitions: creation (replicas placed by `placement`), config overrides, new
//! partitions, deletion; Kafka's topic name and topic config name rules (the names from `common::config`).

use std::collections::{BTreeMap, BTreeSet};

use super::placement;
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
                self.validate_assignment(a)?;
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
                self.place(t.num_partitions as usize, t.replication_factor as usize)?
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

    /// Validates growing a topic to `total` partitions (Kafka's ZooKeeper-mode
    /// `ZkAdminManager.createPartitions` and `AdminZkClient.createNewPartitionsAssignment`, checks
    /// in Kafka's order); `assignment` lists the replicas of the new partitions only.
    ///
    /// Without an assignment the new partitions are placed as a new topic's are, with Kafka's
    /// start rule: the start index is that of the first live broker whose id is at least the
    /// leader of partition 0, and the partition ids continue from the existing count.
    pub fn plan_create_partitions(
        &self,
        name: &str,
        total: i32,
        assignment: Option<&[Vec<BrokerId>]>,
    ) -> Result<TopicInfo, ServerError> {
        // Kafka reads the live brokers (`getBrokerMetadatas`, rack-aware mode enforced) before
        // it looks at the topic, and refuses a mix of brokers with and without a rack even when
        // the request names the brokers itself.
        let brokers = self.broker_metadatas();
        let with_rack = brokers.iter().filter(|b| b.rack.is_some()).count();
        if with_rack > 0 && with_rack < brokers.len() {
            return Err(err(
                ZkErrorCode::Internal,
                "Not all brokers have rack information. Add --disable-rack-aware in command line \
                 to make replica assignment without rack information.",
            ));
        }
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
        let partition0 = topic
            .partitions
            .first()
            .map(|p| p.replicas.as_slice())
            .unwrap_or_default();
        let new = match assignment {
            Some(a) => {
                self.validate_new_partitions_assignment(a, add, current, partition0.len())?;
                a.to_vec()
            }
            None => {
                let start = partition0
                    .first()
                    .and_then(|&leader| brokers.iter().position(|b| b.id >= leader))
                    .unwrap_or(0);
                placement::assign_replicas_to_brokers(
                    &brokers,
                    add,
                    partition0.len(),
                    placement::Start::fixed(start),
                    current,
                )?
            }
        };
        let mut topic = topic.clone();
        for (i, replicas) in new.into_iter().enumerate() {
            let p = self.new_partition((current + i) as i32, replicas);
            topic.partitions.push(p);
        }
        Ok(topic)
    }

    /// Kafka's checks of the replicas named for new partitions (`ZkAdminManager.createPartitions`,
    /// then `AdminZkClient.validateReplicaAssignment`), in Kafka's order and with its texts;
    /// `first` is the id of the first new partition, `rf` partition 0's replica count.
    fn validate_new_partitions_assignment(
        &self,
        a: &[Vec<BrokerId>],
        add: usize,
        first: usize,
        rf: usize,
    ) -> Result<(), ServerError> {
        let bad = |m: String| Err(err(ZkErrorCode::InvalidReplicaAssignment, m));
        let mut unknown: Vec<BrokerId> = Vec::new();
        for &b in a.iter().flatten() {
            if !self.is_up(b) && !unknown.contains(&b) {
                unknown.push(b);
            }
        }
        if !unknown.is_empty() {
            return bad(format!(
                "Unknown broker(s) in replica assignment: {}.",
                join(&unknown)
            ));
        }
        if a.len() != add {
            return bad(format!(
                "Increasing the number of partitions by {add} but {} assignments provided.",
                a.len()
            ));
        }
        for (i, replicas) in a.iter().enumerate() {
            let id = first + i;
            if replicas.is_empty() {
                return bad(format!(
                    "Cannot have replication factor of 0 for partition id {id}."
                ));
            }
            if replicas.iter().collect::<BTreeSet<_>>().len() != replicas.len() {
                return bad(format!(
                    "Duplicate brokers not allowed in replica assignment: {} for partition id {id}.",
                    join(replicas)
                ));
            }
        }
        let (ids, counts): (Vec<String>, Vec<String>) = a
            .iter()
            .enumerate()
            .filter(|(_, r)| r.len() != rf)
            .map(|(i, r)| ((first + i).to_string(), r.len().to_string()))
            .unzip();
        if !ids.is_empty() {
            return bad(format!(
                "Inconsistent replication factor between partitions, partition 0 has {rf} while \
                 partitions [{}] have replication factors [{}], respectively.",
                ids.join(", "),
                counts.join(", ")
            ));
        }
        Ok(())
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

    /// Kafka's `BrokerMetadata` of every registered broker, sorted by id (`getBrokerMetadatas`;
    /// a broker's rack is its `broker.rack`).
    fn broker_metadatas(&self) -> Vec<placement::BrokerMetadata> {
        self.durable
            .sessions
            .values()
            .map(|s| placement::BrokerMetadata {
                id: s.broker.id,
                rack: s.broker.rack.clone(),
            })
            .collect()
    }

    /// A new topic's replicas (`AdminUtils.assignReplicasToBrokers` over the live brokers, from
    /// a random start unless [`State`] fixes one); the first replica is the preferred leader.
    fn place(&self, count: usize, rf: usize) -> Result<Vec<Vec<BrokerId>>, ServerError> {
        let brokers = self.broker_metadatas();
        let start = match self.placement_start {
            Some(index) => placement::Start::fixed(index),
            None => placement::Start::random(brokers.len()),
        };
        placement::assign_replicas_to_brokers(&brokers, count, rf, start, 0)
    }

    /// The replicas a CreateTopics request names. Kafka 3.9 in ZooKeeper mode does not check
    /// that the brokers exist (`ZkAdminManager.createTopics`: "we don't check that
    /// replicaAssignment contains unknown brokers"); we refuse them, with the text Kafka gives
    /// for new partitions, rather than create partitions on brokers that never registered.
    fn validate_assignment(&self, a: &[Vec<BrokerId>]) -> Result<(), ServerError> {
        let rf = a.first().map_or(0, Vec::len);
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
            if replicas.len() != rf {
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
