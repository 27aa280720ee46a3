//! The record deletion admin call `kafka-delete-records` makes, as Kafka's
//! `KafkaAdminClient.deleteRecords` (its `DeleteRecordsHandler` over a `PartitionLeaderStrategy`)
//! makes it: each partition's leader looked up in Metadata, one DeleteRecords request per leader,
//! partitions whose leader moved or is not known yet looked up again until the API timeout.

use std::collections::BTreeMap;
use std::time::Instant;

use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::{DeleteRecordsRequest, TopicName};
use kafka_protocol::protocol::StrBytes;

use super::{Admin, Target, RETRY_BACKOFF};
use crate::error::{invalidates_metadata, is_retriable, ClientError};

/// Per partition: the partition's new low watermark (its log start offset once every replica
/// deleted up to it), or the error it failed with.
pub type DeletedRecords = BTreeMap<(String, i32), Result<i64, ClientError>>;

/// Partitions grouped by topic in first-seen order (the request's shape).
fn request(partitions: &[(String, i32, i64)], timeout_ms: i32) -> DeleteRecordsRequest {
    let mut topics: Vec<DeleteRecordsTopic> = Vec::new();
    for (topic, partition, offset) in partitions {
        let p = DeleteRecordsPartition::default()
            .with_partition_index(*partition)
            .with_offset(*offset);
        match topics.iter_mut().find(|t| t.name.0.as_str() == topic) {
            Some(t) => t.partitions.push(p),
            None => topics.push(
                DeleteRecordsTopic::default()
                    .with_name(TopicName(StrBytes::from_string(topic.clone())))
                    .with_partitions(vec![p]),
            ),
        }
    }
    DeleteRecordsRequest::default()
        .with_topics(topics)
        .with_timeout_ms(timeout_ms)
}

impl Admin {
    /// Kafka's `Admin.deleteRecords`: deletes the records of each `(topic, partition)` below
    /// `offset` (-1: up to the high watermark). A partition whose topic or leader is not known is
    /// looked up again until the API timeout, as Kafka's admin client does, then fails with
    /// "Timed out waiting for a node assignment. Call: deleteRecords(api=METADATA)"; a broker's
    /// error for a partition (OFFSET_OUT_OF_RANGE, POLICY_VIOLATION, ...) is that partition's.
    pub async fn delete_records(&self, partitions: &[(String, i32, i64)]) -> DeletedRecords {
        let deadline = Instant::now() + self.api_timeout;
        // As Kafka's admin client, the broker may wait for the followers up to the API timeout.
        let timeout_ms = i32::try_from(self.api_timeout.as_millis()).unwrap_or(i32::MAX);
        let mut out = DeletedRecords::new();
        let mut pending: Vec<(String, i32, i64)> = partitions.to_vec();
        let mut topics: Vec<String> = partitions.iter().map(|(t, _, _)| t.clone()).collect();
        topics.sort();
        topics.dedup();
        while !pending.is_empty() {
            let snapshot = match self
                .call("deleteRecords(api=METADATA)", Target::Any, |_| {
                    self.cluster.refresh(Some(&topics), false)
                })
                .await
            {
                Ok(s) => s,
                Err(e) => {
                    for (t, p, _) in pending.drain(..) {
                        out.insert((t, p), Err(e.clone()));
                    }
                    break;
                }
            };
            let mut by_leader: BTreeMap<i32, Vec<(String, i32, i64)>> = BTreeMap::new();
            let mut retry = Vec::new();
            for (t, p, offset) in pending.drain(..) {
                let topic_error = snapshot
                    .topics
                    .get(&t)
                    .map(|m| m.error_code)
                    .filter(|code| *code != 0 && !is_retriable(*code));
                if let Some(code) = topic_error {
                    out.insert((t, p), Err(ClientError::kafka(code, None)));
                    continue;
                }
                match snapshot.leader_of(&t, p) {
                    Some(leader) => by_leader.entry(leader).or_default().push((t, p, offset)),
                    None => retry.push((t, p, offset)),
                }
            }
            for (leader, parts) in by_leader {
                let answered = async {
                    let conn = self.cluster.connection(leader).await?;
                    conn.send(request(&parts, timeout_ms)).await
                }
                .await;
                let response = match answered {
                    Ok(r) => r,
                    Err(e) if e.is_retriable() => {
                        retry.extend(parts);
                        continue;
                    }
                    Err(e) => {
                        for (t, p, _) in parts {
                            out.insert((t, p), Err(e.clone()));
                        }
                        continue;
                    }
                };
                let mut answers = BTreeMap::new();
                for t in &response.topics {
                    for p in &t.partitions {
                        answers.insert((t.name.0.to_string(), p.partition_index), p.clone());
                    }
                }
                for (t, p, offset) in parts {
                    match answers.get(&(t.clone(), p)) {
                        Some(a) if a.error_code == 0 => {
                            out.insert((t, p), Ok(a.low_watermark));
                        }
                        Some(a)
                            if invalidates_metadata(a.error_code) || is_retriable(a.error_code) =>
                        {
                            retry.push((t, p, offset))
                        }
                        Some(a) => {
                            out.insert((t, p), Err(ClientError::kafka(a.error_code, None)));
                        }
                        None => {
                            let message = format!(
                                "The response from broker {leader} did not contain a result for topic partition {t}-{p}"
                            );
                            out.insert((t, p), Err(ClientError::Protocol(message)));
                        }
                    }
                }
            }
            if !retry.is_empty() && Instant::now() + RETRY_BACKOFF >= deadline {
                let e = ClientError::Timeout(
                    "Timed out waiting for a node assignment. Call: deleteRecords(api=METADATA)"
                        .to_string(),
                );
                for (t, p, _) in retry {
                    out.insert((t, p), Err(e.clone()));
                }
                break;
            }
            if !retry.is_empty() {
                tokio::time::sleep(RETRY_BACKOFF).await;
            }
            pending = retry;
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_grouped_by_topic_with_their_offsets() {
        let r = request(
            &[
                ("b".to_string(), 1, 5),
                ("a".to_string(), 0, -1),
                ("b".to_string(), 0, 7),
            ],
            1000,
        );
        assert_eq!(r.timeout_ms, 1000);
        assert_eq!(r.topics.len(), 2);
        assert_eq!(r.topics[0].name.0.as_str(), "b");
        assert_eq!(r.topics[0].partitions[0].offset, 5);
        assert_eq!(r.topics[0].partitions[1].partition_index, 0);
        assert_eq!(r.topics[1].partitions[0].offset, -1);
    }
}
