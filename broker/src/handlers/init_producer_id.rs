//! InitProducerId without a transactional id: hands out producer ids for idempotent producers
//! (with a transactional id the transaction coordinator answers, `handlers::txn`).

use std::sync::Arc;

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};

use crate::broker::Broker;

pub fn handle(broker: &Arc<Broker>, request: InitProducerIdRequest) -> InitProducerIdResponse {
    // KIP-360: a producer that already has an id asks for an epoch bump to reset its sequences.
    let (id, epoch) = if request.producer_id.0 >= 0 && request.producer_epoch >= 0 {
        if request.producer_epoch == i16::MAX {
            (broker.next_producer_id().get(), 0)
        } else {
            (request.producer_id.0, request.producer_epoch + 1)
        }
    } else {
        (broker.next_producer_id().get(), 0)
    };
    InitProducerIdResponse::default()
        .with_producer_id(ProducerId(id))
        .with_producer_epoch(epoch)
}
