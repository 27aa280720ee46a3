//! Request shapes Kafka 3.9 answers in its own way, through the wire codec and the handlers
//! against a broker registered with an in-process zookeeper-lite: a partition named twice in one
//! Produce request (`KafkaApis.handleProduceRequest` keys partitions by `TopicPartition`).

use bytes::Bytes;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;

use super::error_answers::{create_topic, topic_name, wire};
use crate::log::testutil;
use crate::server::start_for_test;

fn partition(records: Vec<u8>) -> PartitionProduceData {
    PartitionProduceData::default()
        .with_index(0)
        .with_records(Some(Bytes::from(records)))
}

#[tokio::test]
async fn produce_naming_a_partition_twice_appends_only_the_last_entry_and_answers_once() {
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "twice").await;
    for version in [3, 9] {
        let request = ProduceRequest::default()
            .with_acks(-1)
            .with_timeout_ms(5000)
            .with_topic_data(vec![
                TopicProduceData::default()
                    .with_name(topic_name("twice"))
                    .with_partition_data(vec![partition(testutil::batch(2, 5))]),
                TopicProduceData::default()
                    .with_name(topic_name("twice"))
                    .with_partition_data(vec![partition(testutil::batch(3, 5))]),
            ]);
        let request = wire(&request, version);
        let response = wire(
            &super::produce::handle(&broker, request, version).await,
            version,
        );
        assert_eq!(response.responses.len(), 1, "v{version}: {response:?}");
        let partitions = &response.responses[0].partition_responses;
        assert_eq!(partitions.len(), 1, "v{version}: {response:?}");
        assert_eq!(partitions[0].error_code, 0);
    }
    // Two requests, each appending only its last entry's three records.
    let hosted = broker.partitions.get("twice", 0).expect("hosted partition");
    assert_eq!(hosted.log.log_end_offset(), 6);
}
