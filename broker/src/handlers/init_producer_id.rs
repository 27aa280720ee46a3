//! InitProducerId without a transactional id: hands out producer ids for idempotent producers
//! (with a transactional id the transaction coordinator answers, `handlers::txn`).

use std::sync::Arc;

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};

use crate::broker::Broker;

/// Kafka's `handleInitProducerId` without a transactional id: a new producer id with epoch 0,
/// whatever id and epoch the request names ("blindly", as Kafka's comment says: a KIP-360
/// client asking to reset its sequences gets a fresh id). COORDINATOR_LOAD_IN_PROGRESS, which
/// clients retry, when no producer id block can be had.
pub async fn handle(
    broker: &Arc<Broker>,
    _request: InitProducerIdRequest,
) -> InitProducerIdResponse {
    match broker.next_producer_id().await {
        Ok(id) => InitProducerIdResponse::default()
            .with_producer_id(ProducerId(id.get()))
            .with_producer_epoch(0),
        Err(code) => InitProducerIdResponse::default()
            .with_error_code(code.code())
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1),
    }
}

#[cfg(test)]
mod tests {
    use common::errors::ErrorCode;

    use super::*;

    /// A broker with no ids left that cannot get a block (here its zookeeper-lite session is
    /// gone) answers COORDINATOR_LOAD_IN_PROGRESS, which clients retry. With ids at hand, a
    /// request naming an id and epoch (KIP-360) gets a new id with epoch 0, as Kafka answers.
    #[tokio::test]
    async fn a_new_id_every_time_and_retriable_without_a_block() {
        let (broker, _guard) = crate::broker::start_for_test().await;
        let ask = |id: i64, epoch: i16| {
            handle(
                &broker,
                InitProducerIdRequest::default()
                    .with_producer_id(ProducerId(id))
                    .with_producer_epoch(epoch),
            )
        };
        let first = ask(-1, -1).await;
        assert_eq!((first.error_code, first.producer_epoch), (0, 0));
        let again = ask(first.producer_id.0, 0).await;
        assert_eq!(again.error_code, 0);
        assert_eq!(again.producer_id.0, first.producer_id.0 + 1);
        assert_eq!(again.producer_epoch, 0);

        broker.cluster.unregister().await;
        // Use up the block this broker holds.
        while broker.try_next_producer_id().is_some() {}
        let answer = ask(-1, -1).await;
        assert_eq!(
            answer.error_code,
            ErrorCode::CoordinatorLoadInProgress.code()
        );
        assert_eq!((answer.producer_id.0, answer.producer_epoch), (-1, -1));
    }
}
