//! OffsetForLeaderEpoch (KIP-101, KIP-279, KIP-320): for each partition, where the leader's log
//! for the asked leader epoch ends (Kafka's `Partition.lastOffsetForLeaderEpoch`). Followers ask
//! it to truncate exactly their diverged records; consumers (the Java client) ask it to check
//! their position after a leader change. Only the leader answers; a `current_leader_epoch`
//! (v2+) that does not match ours is FENCED_LEADER_EPOCH or UNKNOWN_LEADER_EPOCH.

use std::sync::Arc;

use kafka_protocol::messages::offset_for_leader_epoch_response::{
    EpochEndOffset, OffsetForLeaderTopicResult,
};
use kafka_protocol::messages::{OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse};

use super::fetch::check_leader_epoch;
use super::leader_partition;
use crate::broker::Broker;

fn failed(partition: i32, code: i16) -> EpochEndOffset {
    EpochEndOffset::default()
        .with_partition(partition)
        .with_error_code(code)
        .with_leader_epoch(-1)
        .with_end_offset(-1)
}

pub fn handle(
    broker: &Arc<Broker>,
    request: &OffsetForLeaderEpochRequest,
) -> OffsetForLeaderEpochResponse {
    let topics = request
        .topics
        .iter()
        .map(|t| {
            let name = t.topic.0.as_str();
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let hosted = match leader_partition(broker, name, p.partition) {
                        Ok(h) => h,
                        Err(code) => return failed(p.partition, code),
                    };
                    if let Err(code) =
                        check_leader_epoch(p.current_leader_epoch, hosted.leader_epoch.get())
                    {
                        return failed(p.partition, code);
                    }
                    let (epoch, end) = hosted.log.end_offset_for_epoch(p.leader_epoch);
                    EpochEndOffset::default()
                        .with_partition(p.partition)
                        .with_error_code(0)
                        .with_leader_epoch(epoch)
                        .with_end_offset(end)
                })
                .collect();
            OffsetForLeaderTopicResult::default()
                .with_topic(t.topic.clone())
                .with_partitions(partitions)
        })
        .collect();
    OffsetForLeaderEpochResponse::default().with_topics(topics)
}
