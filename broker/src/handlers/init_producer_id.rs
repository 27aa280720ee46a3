//! InitProducerId: hands out producer ids for idempotent producers. Transactions are not
//! implemented, so a transactional id is refused rather than half-served.

use std::sync::Arc;

use common::errors::ErrorCode;
use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};

use crate::broker::Broker;

pub fn handle(broker: &Arc<Broker>, request: InitProducerIdRequest) -> InitProducerIdResponse {
    if request.transactional_id.is_some() {
        return InitProducerIdResponse::default()
            .with_error_code(ErrorCode::CoordinatorNotAvailable.code())
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1);
    }
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
