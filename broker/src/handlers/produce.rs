//! Produce: each partition's record batches are validated and appended as received, straight
//! from the request's frame (only each batch's header is copied, to patch its offset and leader
//! epoch; nothing is re-encoded); the answer waits for durability per the flush policy. The
//! request is handled in two steps: [`start`] appends (the connection's next request is started
//! only after that, so appends keep the request order), and [`Started::finish`] waits for the
//! fsync and the replicas while the connection goes on. Failures are reported per partition, with Kafka's `error_message` and, for
//! records refused one by one, `record_errors` (Produce v8+, KIP-467).
//!
//! Before any partition is touched, as Kafka's `KafkaApis.handleProduceRequest` does: a request
//! carrying transactional batches without a transactional id is answered
//! TRANSACTIONAL_ID_AUTHORIZATION_FAILED for every partition (with one, the batches are
//! appended and open a transaction for their producer in each partition, KIP-98; a batch that
//! is not transactional from a producer with a transaction open is INVALID_TXN_STATE, and an
//! old producer epoch INVALID_PRODUCER_EPOCH); then per partition, unknown topic
//! first, then `ProduceRequest.validateRecords` (v3+: one v2 batch, zstd from v7), then, with
//! `acks=all`, `min.insync.replicas` against the partition's ISR (NOT_ENOUGH_REPLICAS).
//!
//! Kafka keys the partitions of a request by `TopicPartition`: a partition named twice is
//! appended once, with the records of its last entry, and answered once; a topic named twice is
//! answered as one topic (`last_entry_per_partition`).

use std::sync::Arc;

use bytes::Bytes;
use common::errors::ErrorCode;
use kafka_protocol::messages::produce_request::TopicProduceData;
use kafka_protocol::messages::produce_response::{
    BatchIndexAndErrorMessage, LeaderIdAndEpoch, NodeEndpoint, PartitionProduceResponse,
    TopicProduceResponse,
};
use kafka_protocol::messages::{BrokerId, ProduceRequest, ProduceResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use super::leader_partition;
use super::metadata::is_internal_topic;
use crate::broker::Broker;
use crate::log::batch::TRANSACTIONAL_FLAG;
use crate::log::durable::PendingAppend;
use crate::log::legacy_message_set;
use crate::log::LogError;
use crate::log::{validate_produce_records, BatchHeader};
use crate::partitions::HostedPartition;

/// Whether any batch of `records` has the transactional attribute (Kafka's
/// `ProduceRequest.hasTransactionalRecords`); only headers are read.
fn has_transactional_batch(records: &[u8]) -> bool {
    let mut at = 0;
    while let Ok(header) = BatchHeader::new(&records[at.min(records.len())..]) {
        if header.magic() == 2 && header.attributes() & TRANSACTIONAL_FLAG != 0 {
            return true;
        }
        match header.total_size() {
            Some(size) => at += size,
            None => return false,
        }
    }
    false
}

fn error(index: i32, code: i16, message: Option<String>) -> PartitionProduceResponse {
    PartitionProduceResponse::default()
        .with_index(index)
        .with_error_code(code)
        .with_base_offset(-1)
        .with_log_append_time_ms(-1)
        .with_log_start_offset(-1)
        .with_error_message(message.map(StrBytes::from_string))
}

/// The bytes to append for a Produce request of `version`: v0/v1 message sets (Produce v0-2
/// only) converted to one v2 batch, as Kafka 3.9's `LogValidator` converts them for the default
/// `log.message.format.version` 3.0; v2 batches as sent, the request frame's own bytes (v3+
/// requests were checked by `validate_produce_records` already).
fn records_for_version(version: i16, records: &Bytes) -> Result<Bytes, (i16, String)> {
    if version <= 2 && legacy_message_set::is_legacy(records) {
        return legacy_message_set::up_convert(records)
            .map(|converted| converted.freeze())
            .map_err(|e| (e.kafka_error_code(), e.to_string()));
    }
    // Old versions may carry v2 batches: Kafka does not check their magic.
    Ok(records.clone())
}

/// A refused append as Kafka's `ReplicaManager.appendToLocalLog` reports it. CORRUPT_MESSAGE,
/// MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE and KAFKA_STORAGE_ERROR are "known" failures:
/// log start offset -1 and no message. Any other failure (INVALID_RECORD, sequence and epoch
/// errors, unsupported formats) carries the partition's log start offset; only record
/// validation (`LogError::client_message`) carries a message, and its `record_errors` (KIP-467).
fn append_error(index: i32, e: &LogError, log_start_offset: i64) -> PartitionProduceResponse {
    let code = e.kafka_error_code();
    let known = [
        ErrorCode::CorruptMessage.code(),
        ErrorCode::MessageTooLarge.code(),
        ErrorCode::RecordListTooLarge.code(),
        ErrorCode::KafkaStorageError.code(),
    ];
    if known.contains(&code) {
        return error(index, code, None);
    }
    let record_errors: Vec<BatchIndexAndErrorMessage> = e
        .record_errors()
        .iter()
        .map(|r| {
            BatchIndexAndErrorMessage::default()
                .with_batch_index(r.batch_index)
                .with_batch_index_error_message(Some(StrBytes::from_string(r.message.clone())))
        })
        .collect();
    error(index, code, e.client_message())
        .with_log_start_offset(log_start_offset)
        .with_record_errors(record_errors)
}

/// KIP-951 (v10+): a NOT_LEADER_OR_FOLLOWER answer names the partition's current leader and epoch
/// from the metadata (-1/-1 when unknown), and the response lists the live leader's endpoint, so
/// the client can redirect without a metadata round trip (Kafka's `getCurrentLeader`).
fn current_leader(
    broker: &Broker,
    topic: &str,
    partition: i32,
    endpoints: &mut Vec<NodeEndpoint>,
) -> LeaderIdAndEpoch {
    let md = broker.cluster.metadata();
    let (leader, epoch) = md
        .topics
        .get(topic)
        .and_then(|t| t.partitions.iter().find(|p| p.partition == partition))
        .map_or((common::ids::BrokerId::NONE, -1), |p| {
            (p.leader, p.leader_epoch.get())
        });
    if let Some(b) = md.brokers.iter().find(|b| b.id == leader) {
        if !endpoints.iter().any(|e| e.node_id.0 == b.id.get()) {
            endpoints.push(
                NodeEndpoint::default()
                    .with_node_id(BrokerId(b.id.get()))
                    .with_host(StrBytes::from_string(b.host.clone()))
                    .with_port(i32::from(b.port))
                    .with_rack(b.rack.clone().map(StrBytes::from_string)),
            );
        }
    }
    LeaderIdAndEpoch::default()
        .with_leader_id(BrokerId(leader.get()))
        .with_leader_epoch(epoch)
}

/// The topics of a Produce request as Kafka's `KafkaApis.handleProduceRequest` sees them once it
/// has put them in its maps keyed by `TopicPartition`: one entry per topic (at the place it was
/// first named), one per partition (at the place it was first named) carrying the records of
/// the last entry naming it.
fn last_entry_per_partition(topics: Vec<TopicProduceData>) -> Vec<TopicProduceData> {
    let mut merged: Vec<TopicProduceData> = Vec::with_capacity(topics.len());
    for topic in topics {
        let at = match merged.iter().position(|t| t.name == topic.name) {
            Some(at) => at,
            None => {
                merged.push(topic.clone().with_partition_data(Vec::new()));
                merged.len() - 1
            }
        };
        let partitions = &mut merged[at].partition_data;
        for p in topic.partition_data {
            match partitions.iter_mut().find(|q| q.index == p.index) {
                Some(earlier) => *earlier = p,
                None => partitions.push(p),
            }
        }
    }
    merged
}

/// KIP-890 verification of a transactional batch (`transaction.partition.verification.enable`):
/// when its producer has no transaction open in this partition yet, the producer's transaction
/// coordinator must know the partition is in its transaction, or the batch would start a
/// transaction that no marker ever ends. `Some(code)` refuses the batch with the error Kafka's
/// `ReplicaManager` answers: INVALID_TXN_STATE when the partition was not added,
/// INVALID_PRODUCER_EPOCH for a fenced producer, NOT_ENOUGH_REPLICAS (retriable) when the
/// coordinator is unavailable or busy ending the transaction.
async fn verify_transactional_write(
    broker: &Arc<Broker>,
    transactional_id: Option<&str>,
    hosted: &HostedPartition,
    topic: &str,
    partition: i32,
    records: &[u8],
) -> Option<i16> {
    let transactional_id = transactional_id?;
    if !broker.config.txn.partition_verification_enable {
        return None;
    }
    let header = BatchHeader::new(records).ok()?;
    if !header.is_transactional() || header.magic() != 2 {
        return None;
    }
    let (producer_id, producer_epoch) = (header.producer_id(), header.producer_epoch());
    let open = hosted
        .log
        .ongoing_transactions()
        .iter()
        .any(|t| t.producer_id == producer_id && t.producer_epoch == producer_epoch);
    if open {
        return None;
    }
    let code = broker
        .txn
        .verify_in_transaction(
            transactional_id,
            producer_id,
            producer_epoch,
            topic,
            partition,
        )
        .await
        .err()?;
    Some(match ErrorCode::from_code(code) {
        Some(ErrorCode::ProducerFenced) => ErrorCode::InvalidProducerEpoch.code(),
        Some(ErrorCode::CoordinatorNotAvailable | ErrorCode::ConcurrentTransactions) => {
            ErrorCode::NotEnoughReplicas.code()
        }
        _ => code,
    })
}

/// A Produce request whose appends are in the logs, its answer still to be completed.
pub struct Started {
    responses: Vec<TopicProduceResponse>,
    node_endpoints: Vec<NodeEndpoint>,
    /// Appends to wait for: (topic index, partition index, partition, append).
    appends: Vec<(usize, usize, Arc<HostedPartition>, PendingAppend)>,
    acks: i16,
    deadline: tokio::time::Instant,
    /// Counted in the Produce purgatory while an acks=all answer waits (Kafka's DelayedProduce).
    _waiting: Option<crate::metrics::PurgatoryEntry>,
}

/// Both steps of a Produce request at once (tests).
#[cfg(test)]
pub async fn handle(
    broker: &Arc<Broker>,
    request: ProduceRequest,
    version: i16,
) -> ProduceResponse {
    start(broker, request, version).await.finish().await
}

/// The first step of a Produce request: every partition's batches validated and written to its
/// log (or refused). The response's topic names are copies: the answer keeps nothing of the
/// request's frame.
pub async fn start(broker: &Arc<Broker>, mut request: ProduceRequest, version: i16) -> Started {
    request.topic_data = last_entry_per_partition(std::mem::take(&mut request.topic_data));
    let mut responses = Vec::with_capacity(request.topic_data.len());
    let mut node_endpoints = Vec::new();
    let acks_valid = matches!(request.acks, -1..=1);
    let transactional = request.topic_data.iter().any(|t| {
        t.partition_data
            .iter()
            .any(|p| p.records.as_deref().is_some_and(has_transactional_batch))
    });
    let deadline = tokio::time::Instant::now()
        + std::time::Duration::from_millis(u64::try_from(request.timeout_ms).unwrap_or(0));
    let own_name = |name: &TopicName| TopicName(StrBytes::from_string(name.0.to_string()));
    if transactional && request.transactional_id.is_none() {
        // Kafka answers the whole request so when no transactional id is given.
        let code = ErrorCode::TransactionalIdAuthorizationFailed.code();
        let responses = request
            .topic_data
            .into_iter()
            .map(|t| {
                TopicProduceResponse::default()
                    .with_partition_responses(
                        t.partition_data
                            .iter()
                            .map(|p| error(p.index, code, None))
                            .collect(),
                    )
                    .with_name(own_name(&t.name))
            })
            .collect();
        return Started {
            responses,
            node_endpoints,
            appends: Vec::new(),
            acks: request.acks,
            deadline,
            _waiting: None,
        };
    }
    let md = broker.cluster.metadata();
    let mut appends = Vec::new();
    for topic in request.topic_data {
        let name = topic.name.0.as_str().to_string();
        let mut partitions = Vec::with_capacity(topic.partition_data.len());
        // MessagesInPerSec and BytesInPerSec, counted once per topic of the request.
        let (mut messages_in, mut bytes_in) = (0u64, 0u64);
        for p in topic.partition_data {
            if !acks_valid {
                partitions.push(error(p.index, ErrorCode::InvalidRequiredAcks.code(), None));
                continue;
            }
            // Kafka's `ReplicaManager.appendToLocalLog`: a client never appends to an internal
            // topic (INVALID_TOPIC_EXCEPTION, no message), whether or not the partition exists.
            if is_internal_topic(&name) {
                partitions.push(error(
                    p.index,
                    ErrorCode::InvalidTopicException.code(),
                    None,
                ));
                continue;
            }
            let hosted = match leader_partition(broker, &name, p.index) {
                Ok(h) => h,
                Err(code) => {
                    let mut answer = error(p.index, code, None);
                    if version >= 10 && code == ErrorCode::NotLeaderOrFollower.code() {
                        answer = answer.with_current_leader(current_leader(
                            broker,
                            &name,
                            p.index,
                            &mut node_endpoints,
                        ));
                    }
                    partitions.push(answer);
                    continue;
                }
            };
            // Kafka's `ProduceRequest.validateRecords` refuses a partition without a batch before
            // any append: INVALID_RECORD with every offset -1 and no message.
            let Some(records) = p.records.filter(|r| !r.is_empty()) else {
                partitions.push(error(p.index, ErrorCode::InvalidRecord.code(), None));
                continue;
            };
            if version >= 3 {
                if let Err(e) = validate_produce_records(version, &records) {
                    partitions.push(error(p.index, e.kafka_error_code(), Some(e.to_string())));
                    continue;
                }
            }
            if let Some(code) = verify_transactional_write(
                broker,
                request.transactional_id.as_ref().map(|t| t.0.as_str()),
                &hosted,
                &name,
                p.index,
                &records,
            )
            .await
            {
                partitions.push(error(p.index, code, None));
                continue;
            }
            if request.acks == -1 {
                // The leader's own view of the ISR: it changes only once zookeeper-lite has the
                // change, so it is never wider than the committed one.
                let isr = hosted.replica.isr().unwrap_or_else(|| {
                    md.topics
                        .get(&name)
                        .and_then(|t| t.partitions.iter().find(|i| i.partition == p.index))
                        .map(|i| i.isr.clone())
                        .unwrap_or_default()
                });
                let min_isr = hosted.log_config.min_insync_replicas;
                if isr.len() < min_isr {
                    partitions.push(error(
                        p.index,
                        ErrorCode::NotEnoughReplicas.code(),
                        Some(not_enough_replicas_message(&isr, min_isr, &name, p.index)),
                    ));
                    continue;
                }
            }
            // The batches stay in the request's frame: the log copies only their headers.
            let payload = match records_for_version(version, &records) {
                Ok(payload) => payload,
                Err((code, message)) => {
                    partitions.push(error(p.index, code, Some(message)));
                    continue;
                }
            };
            drop(records);
            let payload_bytes = payload.len() as u64;
            match hosted
                .log
                .start_append(payload, hosted.leader_epoch.get())
                .await
            {
                Ok(pending) => {
                    let info = pending.info();
                    bytes_in += payload_bytes;
                    if !info.duplicate {
                        messages_in +=
                            u64::try_from(info.last_offset - info.base_offset + 1).unwrap_or(0);
                    }
                    appends.push((responses.len(), partitions.len(), hosted.clone(), pending));
                    partitions.push(
                        PartitionProduceResponse::default()
                            .with_index(p.index)
                            .with_base_offset(info.base_offset)
                            .with_log_append_time_ms(info.log_append_time)
                            .with_log_start_offset(info.log_start_offset),
                    );
                }
                Err(e) => {
                    tracing::warn!("produce to {name}-{} refused: {e}", p.index);
                    partitions.push(append_error(p.index, &e, hosted.log.log_start_offset()));
                }
            }
        }
        if bytes_in > 0 {
            broker.metrics.record_produce(&name, messages_in, bytes_in);
        }
        responses.push(
            TopicProduceResponse::default()
                .with_name(TopicName(StrBytes::from_string(name)))
                .with_partition_responses(partitions),
        );
    }
    let waiting = (request.acks == -1 && !appends.is_empty())
        .then(|| broker.metrics.enter_produce_purgatory());
    Started {
        responses,
        node_endpoints,
        appends,
        acks: request.acks,
        deadline,
        _waiting: waiting,
    }
}

impl Started {
    /// The response as the appends left it, without waiting for their durability (acks=0,
    /// which is never answered).
    pub fn into_written(self) -> ProduceResponse {
        ProduceResponse::default()
            .with_responses(self.responses)
            .with_node_endpoints(self.node_endpoints)
    }

    /// The second step: waits until every append is as durable as its partition's flush policy
    /// demands and, with acks=all, for the in-sync replicas, then answers.
    pub async fn finish(self) -> ProduceResponse {
        let Started {
            mut responses,
            node_endpoints,
            appends,
            acks,
            deadline,
            _waiting,
        } = self;
        // acks=all appends waiting for the ISR: (topic index, partition index, partition,
        // offset the high watermark must reach).
        let mut waits: Vec<(usize, usize, Arc<HostedPartition>, i64)> = Vec::new();
        for (t, p, hosted, pending) in appends {
            let Some(answer) = responses
                .get_mut(t)
                .and_then(|t: &mut TopicProduceResponse| t.partition_responses.get_mut(p))
            else {
                continue;
            };
            match pending.durable().await {
                Ok(info) => {
                    if acks == -1 {
                        waits.push((t, p, hosted, info.last_offset.saturating_add(1)));
                    }
                }
                Err(e) => {
                    tracing::warn!("produce to partition {} failed: {e}", answer.index);
                    *answer = append_error(answer.index, &e, hosted.log.log_start_offset());
                }
            }
        }
        wait_for_replicas(&mut responses, waits, deadline).await;
        ProduceResponse::default()
            .with_responses(responses)
            .with_node_endpoints(node_endpoints)
    }
}

/// acks=all: each append's answer waits until the high watermark passes it, or fails.
async fn wait_for_replicas(
    responses: &mut [TopicProduceResponse],
    waits: Vec<(usize, usize, Arc<HostedPartition>, i64)>,
    deadline: tokio::time::Instant,
) {
    for (t, p, hosted, required) in waits {
        let code = hosted.wait_for_isr(required, deadline).await;
        if let Some(answer) = responses
            .get_mut(t)
            .and_then(|t: &mut TopicProduceResponse| t.partition_responses.get_mut(p))
        {
            if code != ErrorCode::None {
                let index = answer.index;
                *answer = error(index, code.code(), None);
                if code == ErrorCode::NotEnoughReplicasAfterAppend {
                    let isr = hosted.replica.isr().unwrap_or_default();
                    answer.error_message = Some(StrBytes::from_string(format!(
                        "The number of in-sync replicas ({}) fell below min.insync.replicas ({}) \
                         after the append",
                        isr.len(),
                        hosted.log_config.min_insync_replicas
                    )));
                }
            }
        }
    }
}

/// Kafka's NOT_ENOUGH_REPLICAS text (`Partition.appendRecordsToLeader`).
fn not_enough_replicas_message(
    isr: &[common::ids::BrokerId],
    min_isr: usize,
    topic: &str,
    partition: i32,
) -> String {
    let set: Vec<String> = isr.iter().map(|b| b.to_string()).collect();
    format!(
        "The size of the current ISR Set({}) is insufficient to satisfy the min.isr requirement \
         of {min_isr} for partition {topic}-{partition}",
        set.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
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
    fn a_partition_named_twice_keeps_its_last_entry_and_a_topic_named_twice_is_merged() {
        use kafka_protocol::messages::produce_request::PartitionProduceData;
        use kafka_protocol::messages::TopicName;
        let part = |index: i32, tag: &'static [u8]| {
            PartitionProduceData::default()
                .with_index(index)
                .with_records(Some(Bytes::from_static(tag)))
        };
        let topic = |name: &'static str, partitions| {
            TopicProduceData::default()
                .with_name(TopicName(StrBytes::from_static_str(name)))
                .with_partition_data(partitions)
        };
        let merged = last_entry_per_partition(vec![
            topic("a", vec![part(0, b"first"), part(1, b"one")]),
            topic("b", vec![part(0, b"b")]),
            topic("a", vec![part(0, b"last"), part(2, b"two")]),
        ]);
        let shape: Vec<(String, Vec<(i32, Bytes)>)> = merged
            .iter()
            .map(|t| {
                (
                    t.name.0.to_string(),
                    t.partition_data
                        .iter()
                        .map(|p| (p.index, p.records.clone().unwrap_or_default()))
                        .collect(),
                )
            })
            .collect();
        let b = Bytes::from_static;
        assert_eq!(
            shape,
            [
                (
                    "a".to_string(),
                    vec![(0, b(b"last")), (1, b(b"one")), (2, b(b"two"))]
                ),
                ("b".to_string(), vec![(0, b(b"b"))]),
            ]
        );
    }

    #[test]
    fn produce_v0_to_v2_up_convert_message_sets_and_pass_v2_batches() {
        let converted = records_for_version(2, &Bytes::from(magic_1_message())).expect("converted");
        assert_eq!(converted[16], 2);
        let v2 = batch(Compression::None).freeze();
        assert_eq!(records_for_version(0, &v2).expect("as is"), v2);
    }

    /// v2 batches go to the log as the request frame's own bytes, not a copy.
    #[test]
    fn v2_batches_are_passed_on_without_a_copy() {
        let frame = batch(Compression::None).freeze();
        for version in [0, 3, 9, 11] {
            let records = records_for_version(version, &frame).expect("as is");
            assert_eq!(records.as_ptr(), frame.as_ptr(), "v{version}");
            assert_eq!(records.len(), frame.len());
        }
    }

    fn refused(version: i16, records: &[u8]) -> (i16, String) {
        let e = validate_produce_records(version, records).unwrap_err();
        (e.kafka_error_code(), e.to_string())
    }

    #[test]
    fn produce_v3_and_later_refuse_old_magic_and_more_than_one_batch() {
        let (code, message) = refused(3, &magic_1_message());
        assert_eq!(code, ErrorCode::InvalidRecord.code());
        assert_eq!(
            message,
            "Produce requests with version 3 are only allowed to contain record batches with magic version 2"
        );
        let mut two = batch(Compression::None);
        two.extend_from_slice(&batch(Compression::None));
        let (code, message) = refused(9, &two);
        assert_eq!(code, ErrorCode::InvalidRecord.code());
        assert!(
            message.ends_with("exactly one record batch per partition"),
            "{message}"
        );
        // A partial tail is not a second batch (Kafka's iterator stops before it).
        let one = batch(Compression::None);
        let mut tail = one.clone();
        tail.extend_from_slice(&one[..30]);
        assert!(validate_produce_records(9, &tail).is_ok());
        assert_eq!(refused(3, &[]).0, ErrorCode::InvalidRecord.code());
    }

    #[test]
    fn zstd_needs_produce_v7() {
        let zstd = batch(Compression::Zstd);
        for version in 3..=6 {
            assert_eq!(
                refused(version, &zstd).0,
                ErrorCode::UnsupportedCompressionType.code()
            );
        }
        assert!(validate_produce_records(7, &zstd).is_ok());
    }
}
