//! ListOffsets: earliest (-2), latest (-1), max timestamp (-3) and real timestamps via the time
//! index.

use std::collections::HashMap;
use std::sync::Arc;

use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};
use kafka_protocol::ResponseError;

use super::leader_partition;
use crate::server::Broker;

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;

/// Kafka's `timestampMinSupportedVersion`: the special timestamp -3 (max timestamp) needs v7;
/// other negative values below -2 are not served (-4 and -5 need v8 and v9, which we do not
/// advertise). Refused with UNSUPPORTED_VERSION.
fn timestamp_served(timestamp: i64, version: i16) -> bool {
    match timestamp {
        LATEST | EARLIEST => true,
        MAX_TIMESTAMP => version >= 7,
        t => t >= 0,
    }
}

pub async fn handle(
    broker: &Arc<Broker>,
    request: ListOffsetsRequest,
    version: i16,
) -> ListOffsetsResponse {
    // The leader epoch field exists from v4 on; the codec refuses it set on older versions.
    let epoch_of = |e: i32| if version >= 4 { e } else { -1 };
    // Kafka answers every occurrence of a partition named twice with INVALID_REQUEST.
    let mut seen: HashMap<(String, i32), usize> = HashMap::new();
    for t in &request.topics {
        for p in &t.partitions {
            *seen
                .entry((t.name.0.as_str().to_string(), p.partition_index))
                .or_default() += 1;
        }
    }
    let topics = request
        .topics
        .into_iter()
        .map(|topic| {
            let name = topic.name.0.as_str().to_string();
            let partitions = topic
                .partitions
                .into_iter()
                .map(|p| {
                    // Kafka's `buildErrorResponse`: timestamp -1, offset -1, leader epoch -1.
                    let base = ListOffsetsPartitionResponse::default()
                        .with_partition_index(p.partition_index)
                        .with_timestamp(-1)
                        .with_offset(-1)
                        .with_leader_epoch(-1);
                    if seen.get(&(name.clone(), p.partition_index)) > Some(&1) {
                        return base.with_error_code(ResponseError::InvalidRequest.code());
                    }
                    if !timestamp_served(p.timestamp, version) {
                        return base.with_error_code(ResponseError::UnsupportedVersion.code());
                    }
                    let hosted = match leader_partition(broker, &name, p.partition_index) {
                        Ok(h) => h,
                        Err(code) => return base.with_error_code(code),
                    };
                    let log = &hosted.log;
                    let found = match p.timestamp {
                        LATEST => Ok(Some((log.high_watermark(), -1))),
                        EARLIEST => Ok(Some((log.log_start_offset(), -1))),
                        MAX_TIMESTAMP => log.max_timestamp_offset(),
                        ts => log.offset_for_timestamp(ts),
                    };
                    match found {
                        Ok(Some((offset, timestamp))) => base
                            .with_offset(offset)
                            .with_timestamp(timestamp)
                            .with_leader_epoch(epoch_of(hosted.leader_epoch)),
                        // Nothing at or after that time: Kafka's `buildErrorResponse(NONE)`.
                        Ok(None) => base,
                        Err(e) => base.with_error_code(e.kafka_error_code()),
                    }
                })
                .collect();
            ListOffsetsTopicResponse::default()
                .with_name(topic.name)
                .with_partitions(partitions)
        })
        .collect();
    ListOffsetsResponse::default().with_topics(topics)
}
