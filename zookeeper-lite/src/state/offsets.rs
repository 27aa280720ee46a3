//! Consumer groups' committed offsets, fenced by the highest generation each group committed from.

use super::*;

/// Committed offsets of consumer groups.
impl State {
    /// Validates a commit. A fenced commit (`generation` >= 0) older than the group's recorded
    /// generation is refused whole; otherwise each partition of an existing topic is stored and
    /// the others get `UnknownTopic`. Returns the record to journal (none if nothing is stored)
    /// and the per-partition results in request order.
    pub fn plan_commit_offsets(
        &self,
        group: &str,
        generation: i32,
        offsets: &[CommittedOffset],
    ) -> Result<(Option<Record>, Vec<PartitionResult>), ServerError> {
        check_group_id(group)?;
        let recorded = self.group_generation(group);
        if generation >= 0 && generation < recorded {
            return Err(err(
                ZkErrorCode::IllegalGeneration,
                format!(
                    "Specified group generation id is not valid: generation {generation} of group '{group}' is older than its latest generation {recorded}."
                ),
            ));
        }
        let mut stored = Vec::new();
        let mut results = Vec::with_capacity(offsets.len());
        for o in offsets {
            let exists =
                self.durable.topics.get(&o.topic).is_some_and(|t| {
                    o.partition >= 0 && (o.partition as usize) < t.partitions.len()
                });
            let error = if exists {
                stored.push(o.clone());
                None
            } else {
                Some(err(
                    ZkErrorCode::UnknownTopic,
                    "This server does not host this topic-partition.",
                ))
            };
            results.push(PartitionResult {
                topic: o.topic.clone(),
                partition: o.partition,
                error,
            });
        }
        // Admin commits record no generation: -1 never raises the recorded one.
        let record = (!stored.is_empty()).then(|| Record::PutOffsets {
            group: group.to_string(),
            generation: generation.max(-1),
            offsets: stored,
        });
        Ok((record, results))
    }

    /// A group's offsets: all (sorted by topic, partition) or the listed ones it has, in the
    /// order asked. An unknown group has none.
    pub fn fetch_offsets(
        &self,
        group: &str,
        partitions: Option<&[TopicPartition]>,
    ) -> Vec<CommittedOffset> {
        let Some(g) = self.durable.groups.get(group) else {
            return Vec::new();
        };
        let one = |topic: &str, partition: i32, v: &OffsetValue| CommittedOffset {
            topic: topic.to_string(),
            partition,
            offset: v.offset,
            leader_epoch: LeaderEpoch(v.leader_epoch),
            metadata: v.metadata.clone(),
            commit_timestamp_ms: v.commit_timestamp_ms,
        };
        match partitions {
            None => g
                .offsets
                .iter()
                .flat_map(|(t, ps)| ps.iter().map(move |(&p, v)| (t, p, v)))
                .map(|(t, p, v)| one(t, p, v))
                .collect(),
            Some(list) => list
                .iter()
                .filter_map(|tp| {
                    let v = g.offsets.get(&tp.topic)?.get(&tp.partition)?;
                    Some(one(&tp.topic, tp.partition, v))
                })
                .collect(),
        }
    }

    /// Groups with at least one committed offset, sorted.
    pub fn offset_groups(&self) -> Vec<String> {
        self.durable
            .groups
            .iter()
            .filter(|(_, g)| g.offsets.values().any(|ps| !ps.is_empty()))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The highest generation a fenced commit of `group` came from; -1 if none.
    pub fn group_generation(&self, group: &str) -> i32 {
        self.durable.groups.get(group).map_or(-1, |g| g.generation)
    }

    pub fn plan_delete_group_offsets(&self, group: &str) -> Result<Record, ServerError> {
        self.known_group(group)?;
        Ok(Record::DeleteGroupOffsets {
            group: group.to_string(),
        })
    }

    pub fn plan_delete_offsets(
        &self,
        group: &str,
        partitions: &[TopicPartition],
    ) -> Result<Record, ServerError> {
        self.known_group(group)?;
        Ok(Record::DeleteOffsets {
            group: group.to_string(),
            partitions: partitions.to_vec(),
        })
    }

    fn known_group(&self, group: &str) -> Result<(), ServerError> {
        if self.durable.groups.contains_key(group) {
            Ok(())
        } else {
            Err(err(
                ZkErrorCode::UnknownGroup,
                "The group id does not exist.",
            ))
        }
    }
}

/// Kafka refuses the empty group id (INVALID_GROUP_ID) for commits.
fn check_group_id(group: &str) -> Result<(), ServerError> {
    if group.is_empty() {
        return Err(err(
            ZkErrorCode::InvalidRequest,
            "The configured groupId is invalid.",
        ));
    }
    Ok(())
}
