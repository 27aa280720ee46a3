//! DescribeCluster (API 60, v0-1): the cluster id, the live brokers and the controller, as Kafka
//! 3.9's ZooKeeper-mode broker answers it (`KafkaApis.handleDescribeCluster` and
//! `AuthHelper.computeDescribeClusterResponse`).

use common::errors::ErrorCode;
use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{BrokerId, DescribeClusterRequest, DescribeClusterResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;

/// `EndpointType.BROKER`: the only endpoint type a broker serves (controllers are type 2).
const ENDPOINT_TYPE_BROKER: i8 = 1;
/// `EndpointType.CONTROLLER`.
const ENDPOINT_TYPE_CONTROLLER: i8 = 2;

/// `cluster_authorized_operations` when the client did not ask for them: the schema's default,
/// `Integer.MIN_VALUE`.
pub const AUTHORIZED_OPERATIONS_OMITTED: i32 = i32::MIN;

/// The operations Kafka supports on the CLUSTER resource (`AclEntry.supportedOperations`:
/// CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11,
/// IDEMPOTENT_WRITE 12) as a bit field (`Utils.to32BitField`). Without an authorizer Kafka
/// grants them all, so that is what a client asking for them gets.
pub const CLUSTER_AUTHORIZED_OPERATIONS: i32 =
    (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12);

pub fn handle(
    broker: &Broker,
    request: &DescribeClusterRequest,
    version: i16,
) -> DescribeClusterResponse {
    // v0 has no endpoint type: it is BROKER (the field's default).
    let requested = if version >= 1 {
        request.endpoint_type
    } else {
        ENDPOINT_TYPE_BROKER
    };
    if requested != ENDPOINT_TYPE_BROKER {
        let (code, message) = if requested == ENDPOINT_TYPE_CONTROLLER {
            (
                ErrorCode::MismatchedEndpointType.code(),
                "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of \
                 type CONTROLLER"
                    .to_string(),
            )
        } else {
            (
                ErrorCode::UnsupportedEndpointType.code(),
                format!("Unsupported endpoint type {requested}"),
            )
        };
        let code = if version == 0 {
            ErrorCode::InvalidRequest.code()
        } else {
            code
        };
        return DescribeClusterResponse::default()
            .with_error_code(code)
            .with_error_message(Some(StrBytes::from_string(message)));
    }
    let md = broker.cluster.metadata();
    let brokers: Vec<DescribeClusterBroker> = md
        .brokers
        .iter()
        .map(|b| {
            DescribeClusterBroker::default()
                .with_broker_id(BrokerId(b.id.get()))
                .with_host(StrBytes::from_string(b.host.clone()))
                .with_port(i32::from(b.port))
                .with_rack(b.rack.clone().map(StrBytes::from_string))
        })
        .collect();
    let controller = broker.controller_id();
    // A controller id missing from the broker list is answered as -1, as Kafka does.
    let controller = if md.brokers.iter().any(|b| b.id == controller) {
        controller
    } else {
        common::ids::BrokerId::NONE
    };
    let operations = if request.include_cluster_authorized_operations {
        CLUSTER_AUTHORIZED_OPERATIONS
    } else {
        AUTHORIZED_OPERATIONS_OMITTED
    };
    DescribeClusterResponse::default()
        .with_cluster_id(StrBytes::from_string(md.cluster_id.clone()))
        .with_controller_id(BrokerId(controller.get()))
        .with_brokers(brokers)
        .with_cluster_authorized_operations(operations)
        .with_endpoint_type(ENDPOINT_TYPE_BROKER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_operations_are_kafkas_bit_field_for_the_cluster_resource() {
        // The value a Kafka 3.9 broker without an authorizer answers.
        assert_eq!(CLUSTER_AUTHORIZED_OPERATIONS, 8096);
    }
}
