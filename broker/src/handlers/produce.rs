//! Produce: each partition's record batches are validated and appended as received (offsets and
//! leader epoch patched in place, nothing re-encoded); the answer waits for durability per the
//! flush policy. Failures are reported per partition.

use std::sync::Arc;

use bytes::BytesMut;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use super::leader_partition;
use crate::log::batch::{COMPRESSION_MASK, MAGIC_V2};
use crate::log::legacy_message_set;
use crate::log::BatchHeader;
use crate::server::Broker;

fn error(index: i32, code: i16, message: Option<String>) -> PartitionProduceResponse {
    PartitionProduceResponse::default()
        .with_index(index)
        .with_error_code(code)
        .with_base_offset(-1)
        .with_log_append_time_ms(-1)
        .with_log_start_offset(-1)
        .with_error_message(message.map(StrBytes::from_string))
}

/// Kafka 3.9's `ProduceRequest.validateRecords` for `version`, then the conversion of v0/v1
/// message sets (Produce v0-2 only) to one v2 batch, as `LogValidator` converts them for the
/// default `log.message.format.version` 3.0. Returns the bytes to append.
fn records_for_version(version: i16, records: &[u8]) -> Result<BytesMut, (i16, String)> {
    if version <= 2 {
        if legacy_message_set::is_legacy(records) {
            return legacy_message_set::up_convert(records)
                .map_err(|e| (e.kafka_error_code(), e.to_string()));
        }
        // Old versions may carry v2 batches: Kafka does not check their magic.
        return Ok(BytesMut::from(records));
    }
    let invalid = |why: &str| {
        (
            ResponseError::InvalidRecord.code(),
            format!("Produce requests with version {version} {why}"),
        )
    };
    if records.is_empty() {
        return Err(invalid("must have at least one record batch per partition"));
    }
    if legacy_message_set::first_magic(records).is_some_and(|m| m != MAGIC_V2) {
        return Err(invalid(
            "are only allowed to contain record batches with magic version 2",
        ));
    }
    if let Ok(header) = BatchHeader::new(records) {
        if version < 7 && header.attributes() & COMPRESSION_MASK == ZSTD {
            return Err((
                ResponseError::UnsupportedCompressionType.code(),
                format!(
                    "Produce requests with version {version} are not allowed to use ZStandard compression"
                ),
            ));
        }
        // A second whole batch (a partial tail is not a batch to Kafka's iterator).
        let rest = header.total_size().and_then(|size| records.get(size..));
        let second = rest
            .and_then(|rest| Some((BatchHeader::new(rest).ok()?.total_size()?, rest.len())))
            .is_some_and(|(size, len)| size <= len);
        if second {
            return Err(invalid(
                "are only allowed to contain exactly one record batch per partition",
            ));
        }
    }
    Ok(BytesMut::from(records))
}

/// The zstd codec id in batch attributes.
const ZSTD: i16 = 4;

pub async fn handle(
    broker: &Arc<Broker>,
    request: ProduceRequest,
    version: i16,
) -> ProduceResponse {
    let mut responses = Vec::with_capacity(request.topic_data.len());
    let acks_valid = matches!(request.acks, -1..=1);
    for topic in request.topic_data {
        let name = topic.name.0.as_str().to_string();
        let mut partitions = Vec::with_capacity(topic.partition_data.len());
        for p in topic.partition_data {
            if !acks_valid {
                partitions.push(error(
                    p.index,
                    ResponseError::InvalidRequiredAcks.code(),
                    None,
                ));
                continue;
            }
            let hosted = match leader_partition(broker, &name, p.index) {
                Ok(h) => h,
                Err(code) => {
                    partitions.push(error(p.index, code, None));
                    continue;
                }
            };
            let Some(records) = p.records else {
                partitions.push(error(
                    p.index,
                    ResponseError::CorruptMessage.code(),
                    Some("no records".into()),
                ));
                continue;
            };
            // The request buffer is shared with the decoded header fields, so the batches are
            // copied once into a buffer the log may patch in place.
            let payload = match records_for_version(version, &records) {
                Ok(payload) => payload,
                Err((code, message)) => {
                    partitions.push(error(p.index, code, Some(message)));
                    continue;
                }
            };
            match hosted.log.append(payload, hosted.leader_epoch).await {
                Ok(info) => {
                    broker.appended.notify_waiters();
                    partitions.push(
                        PartitionProduceResponse::default()
                            .with_index(p.index)
                            .with_base_offset(info.base_offset)
                            .with_log_append_time_ms(-1)
                            .with_log_start_offset(info.log_start_offset),
                    );
                }
                Err(e) => {
                    tracing::warn!("produce to {name}-{} refused: {e}", p.index);
                    partitions.push(error(p.index, e.kafka_error_code(), Some(e.to_string())));
                }
            }
        }
        responses.push(
            TopicProduceResponse::default()
                .with_name(topic.name)
                .with_partition_responses(partitions),
        );
    }
    ProduceResponse::default().with_responses(responses)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use kafka_protocol::records::{
        Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType, IEEE,
    };

    fn batch(compression: Compression) -> BytesMut {
        let record = Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: 0,
            sequence: -1,
            timestamp: 5,
            key: None,
            value: Some(Bytes::from_static(b"v")),
            headers: Default::default(),
        };
        let mut out = BytesMut::new();
        RecordBatchEncoder::encode(
            &mut out,
            [record].iter(),
            &RecordEncodeOptions {
                version: 2,
                compression,
            },
        )
        .expect("batch");
        out
    }

    fn magic_1_message() -> Vec<u8> {
        let mut m = vec![1u8, 0];
        m.extend_from_slice(&5i64.to_be_bytes());
        m.extend_from_slice(&(-1i32).to_be_bytes());
        m.extend_from_slice(&1i32.to_be_bytes());
        m.push(b'v');
        let mut out = 0i64.to_be_bytes().to_vec();
        out.extend_from_slice(&(m.len() as i32 + 4).to_be_bytes());
        out.extend_from_slice(&IEEE.checksum(&m).to_be_bytes());
        out.extend_from_slice(&m);
        out
    }

    #[test]
    fn produce_v0_to_v2_up_convert_message_sets_and_pass_v2_batches() {
        let converted = records_for_version(2, &magic_1_message()).expect("converted");
        assert_eq!(converted[16], 2);
        let v2 = batch(Compression::None);
        assert_eq!(records_for_version(0, &v2).expect("as is"), v2);
    }

    #[test]
    fn produce_v3_and_later_refuse_old_magic_and_more_than_one_batch() {
        let (code, message) = records_for_version(3, &magic_1_message()).unwrap_err();
        assert_eq!(code, ResponseError::InvalidRecord.code());
        assert_eq!(
            message,
            "Produce requests with version 3 are only allowed to contain record batches with magic version 2"
        );
        let mut two = batch(Compression::None);
        two.extend_from_slice(&batch(Compression::None));
        let (code, message) = records_for_version(9, &two).unwrap_err();
        assert_eq!(code, ResponseError::InvalidRecord.code());
        assert!(
            message.ends_with("exactly one record batch per partition"),
            "{message}"
        );
        // A partial tail is not a second batch (Kafka's iterator stops before it).
        let mut tail = batch(Compression::None);
        tail.extend_from_slice(&[0; 20]);
        assert!(records_for_version(9, &tail).is_ok());
        assert_eq!(
            records_for_version(3, &[]).unwrap_err().0,
            ResponseError::InvalidRecord.code()
        );
    }

    #[test]
    fn zstd_needs_produce_v7() {
        let zstd = batch(Compression::Zstd);
        for version in 3..=6 {
            assert_eq!(
                records_for_version(version, &zstd).unwrap_err().0,
                ResponseError::UnsupportedCompressionType.code()
            );
        }
        assert!(records_for_version(7, &zstd).is_ok());
    }
}
