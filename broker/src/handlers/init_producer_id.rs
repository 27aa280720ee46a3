//! InitProducerId without a transactional id: hands out producer ids for idempotent producers
//! (with a transactional id the transaction coordinator answers, `handlers::txn`).

use std::sync::Arc;

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};

use crate::broker::Broker;

pub async fn handle(
    broker: &Arc<Broker>,
    request: InitProducerIdRequest,
) -> InitProducerIdResponse {
    // KIP-360: a producer that already has an id asks for an epoch bump to reset its sequences.
    let bump = request.producer_id.0 >= 0
        && request.producer_epoch >= 0
        && request.producer_epoch < i16::MAX;
    let answer = if bump {
        Ok((request.producer_id.0, request.producer_epoch + 1))
    } else {
        broker.next_producer_id().await.map(|id| (id.get(), 0))
    };
    match answer {
        Ok((id, epoch)) => InitProducerIdResponse::default()
            .with_producer_id(ProducerId(id))
            .with_producer_epoch(epoch),
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
    /// gone) answers COORDINATOR_LOAD_IN_PROGRESS, which clients retry; an epoch bump (KIP-360)
    /// needs no new id and is answered still.
    #[tokio::test]
    async fn without_a_block_init_producer_id_is_retriable() {
        let (broker, _guard) = crate::broker::start_for_test().await;
        broker.cluster.unregister().await;
        let answer = handle(
            &broker,
            InitProducerIdRequest::default()
                .with_producer_id(ProducerId(-1))
                .with_producer_epoch(-1),
        )
        .await;
        assert_eq!(
            answer.error_code,
            ErrorCode::CoordinatorLoadInProgress.code()
        );
        assert_eq!((answer.producer_id.0, answer.producer_epoch), (-1, -1));
        let bump = handle(
            &broker,
            InitProducerIdRequest::default()
                .with_producer_id(ProducerId(7))
                .with_producer_epoch(3),
        )
        .await;
        assert_eq!(
            (bump.error_code, bump.producer_id.0, bump.producer_epoch),
            (0, 7, 4)
        );
    }
}
