//! The classic group APIs: FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
//! ListGroups, DescribeGroups and DeleteGroups. The rules live in `crate::group`; this file
//! decodes, checks that this broker coordinates the group, and encodes per version.

use std::collections::BTreeMap;
use std::sync::Arc;

use common::errors::ErrorCode;
use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::find_coordinator_response::Coordinator as CoordinatorEntry;
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{
    BrokerId, DeleteGroupsRequest, DeleteGroupsResponse, DescribeGroupsRequest,
    DescribeGroupsResponse, FindCoordinatorRequest, FindCoordinatorResponse, GroupId,
    HeartbeatRequest, HeartbeatResponse, JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest,
    LeaveGroupResponse, ListGroupsRequest, ListGroupsResponse, SyncGroupRequest, SyncGroupResponse,
};
use kafka_protocol::protocol::StrBytes;
use zookeeper_lite::protocol::BrokerInfo;

use super::RequestContext;
use crate::broker::Broker;
use crate::group::{GroupState, JoinRequest, SyncRequest};
use common::errors::codes::*;
use common::topic::GROUP_METADATA_TOPIC_NAME;

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

/// The live broker that coordinates `group`: the leader of its `__consumer_offsets`
/// partition. `Err` is COORDINATOR_NOT_AVAILABLE while the topic does not exist or the
/// partition has no live leader; a missing topic is created (Kafka's FindCoordinator creates
/// the internal topic on first use).
pub(crate) async fn coordinator_of(broker: &Broker, group: &str) -> Result<BrokerInfo, i16> {
    let not_available = ErrorCode::CoordinatorNotAvailable.code();
    let md = broker.cluster.metadata();
    let Some(topic) = md.topics.get(GROUP_METADATA_TOPIC_NAME) else {
        crate::group::ensure_offsets_topic(&broker.cluster, &broker.partitions, &broker.config)
            .await;
        return Err(not_available);
    };
    let count = i32::try_from(topic.partitions.len()).unwrap_or(i32::MAX);
    let p = crate::group::partition_for(group, count);
    let leader = topic
        .partitions
        .iter()
        .find(|i| i.partition == p)
        .map(|i| i.leader)
        .ok_or(not_available)?;
    md.brokers
        .iter()
        .find(|b| b.id == leader)
        .cloned()
        .ok_or(not_available)
}

/// NONE when this broker coordinates `group` (and has loaded it), else the error Kafka answers
/// with: COORDINATOR_LOAD_IN_PROGRESS while loading (also in the moment between becoming the
/// partition's leader and starting the load), NOT_COORDINATOR otherwise.
pub(crate) fn check_coordinator(broker: &Broker, group: &str) -> i16 {
    let code = broker.groups.check(group);
    if code != ErrorCode::NotCoordinator.code() {
        return code;
    }
    let md = broker.cluster.metadata();
    let leads = md.topics.get(GROUP_METADATA_TOPIC_NAME).is_some_and(|t| {
        let count = i32::try_from(t.partitions.len()).unwrap_or(i32::MAX);
        let p = crate::group::partition_for(group, count);
        t.partitions
            .iter()
            .any(|i| i.partition == p && i.leader == broker.config.broker_id)
    });
    if leads {
        ErrorCode::CoordinatorLoadInProgress.code()
    } else {
        code
    }
}

/// Like [`check_coordinator`] for the APIs of groups that use the coordinator for membership
/// (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetDelete), which Kafka refuses an empty
/// group id with ErrorCode::InvalidGroupId.code().
pub(crate) fn check_member_group(broker: &Broker, group: &str) -> i16 {
    if group.is_empty() {
        return ErrorCode::InvalidGroupId.code();
    }
    check_coordinator(broker, group)
}

pub async fn find_coordinator(
    broker: &Arc<Broker>,
    request: FindCoordinatorRequest,
    version: i16,
) -> FindCoordinatorResponse {
    let key_type = request.key_type;
    let lookup = |key: String| async move {
        match key_type {
            0 => coordinator_of(broker, &key).await,
            1 => super::txn::coordinator_of(broker, &key).await,
            _ => Err(ErrorCode::InvalidRequest.code()),
        }
    };
    if version >= 4 {
        let mut coordinators = Vec::new();
        for key in &request.coordinator_keys {
            let entry = CoordinatorEntry::default().with_key(key.clone());
            coordinators.push(match lookup(key.as_str().to_string()).await {
                Ok(b) => entry
                    .with_node_id(BrokerId(b.id.get()))
                    .with_host(s(&b.host))
                    .with_port(i32::from(b.port)),
                Err(code) => entry
                    .with_node_id(BrokerId(-1))
                    .with_host(s(""))
                    .with_port(-1)
                    .with_error_code(code),
            });
        }
        return FindCoordinatorResponse::default().with_coordinators(coordinators);
    }
    // v1-3 carry `error.message()`, which Kafka sets even on success ("NONE").
    let message = |code: i16| (version >= 1).then(|| s(find_coordinator_message(code)));
    match lookup(request.key.as_str().to_string()).await {
        Ok(b) => FindCoordinatorResponse::default()
            .with_error_message(message(ErrorCode::None.code()))
            .with_node_id(BrokerId(b.id.get()))
            .with_host(s(&b.host))
            .with_port(i32::from(b.port)),
        Err(code) => FindCoordinatorResponse::default()
            .with_error_code(code)
            .with_error_message(message(code))
            .with_node_id(BrokerId(-1))
            .with_host(s(""))
            .with_port(-1),
    }
}

/// Kafka's `Errors.message()` for what FindCoordinator v1-3 answers: the error's default text,
/// or the error's name when it has no exception (ErrorCode::None.code()).
fn find_coordinator_message(code: i16) -> &'static str {
    match ErrorCode::from_code(code) {
        Some(ErrorCode::None) => "NONE",
        Some(ErrorCode::CoordinatorNotAvailable) => ErrorCode::CoordinatorNotAvailable.message(),
        _ => ErrorCode::InvalidRequest.message(),
    }
}

pub async fn join(
    broker: &Arc<Broker>,
    ctx: &RequestContext<'_>,
    request: JoinGroupRequest,
    version: i16,
) -> JoinGroupResponse {
    let group = request.group_id.0.as_str().to_string();
    let error_response = |code: i16| {
        JoinGroupResponse::default()
            .with_error_code(code)
            .with_generation_id(-1)
            .with_member_id(request.member_id.clone())
            .with_protocol_name((version < 7).then(|| s("")))
    };
    let code = check_member_group(broker, &group);
    if code != ErrorCode::None.code() {
        return error_response(code);
    }
    let session = request.session_timeout_ms;
    let req = JoinRequest {
        member_id: request.member_id.as_str().to_string(),
        group_instance_id: request
            .group_instance_id
            .as_ref()
            .map(|i| i.as_str().to_string()),
        client_id: ctx
            .header
            .client_id
            .as_ref()
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
        client_host: format!("/{}", ctx.peer.ip()),
        session_timeout_ms: session,
        rebalance_timeout_ms: if version == 0 {
            session
        } else {
            request.rebalance_timeout_ms
        },
        protocol_type: request.protocol_type.as_str().to_string(),
        protocols: request
            .protocols
            .iter()
            .map(|p| (p.name.as_str().to_string(), p.metadata.clone()))
            .collect(),
        require_known_member_id: version >= 4,
    };
    let result = broker.groups.join(&group, req).await;
    let members = result
        .members
        .into_iter()
        .map(|m| {
            JoinGroupResponseMember::default()
                .with_member_id(s(&m.member_id))
                .with_group_instance_id(m.group_instance_id.as_deref().map(s))
                .with_metadata(m.metadata)
        })
        .collect();
    // Kafka's JoinGroupResponse: below v7 the name is never null (""); from v7 on "" is null.
    let protocol_name = match result.protocol_name {
        Some(p) if p.is_empty() && version >= 7 => None,
        Some(p) => Some(s(&p)),
        None if version < 7 => Some(s("")),
        None => None,
    };
    JoinGroupResponse::default()
        .with_error_code(result.error)
        .with_generation_id(result.generation)
        .with_protocol_type(
            result
                .protocol_type
                .as_deref()
                .filter(|_| version >= 7)
                .map(s),
        )
        .with_protocol_name(protocol_name)
        .with_leader(s(&result.leader))
        .with_member_id(s(&result.member_id))
        .with_members(members)
}

pub async fn sync(
    broker: &Arc<Broker>,
    request: SyncGroupRequest,
    version: i16,
) -> SyncGroupResponse {
    // From v5 on the protocol type and name are mandatory (Kafka's
    // `areMandatoryProtocolTypeAndNamePresent`).
    if version >= 5 && (request.protocol_type.is_none() || request.protocol_name.is_none()) {
        return SyncGroupResponse::default()
            .with_error_code(ErrorCode::InconsistentGroupProtocol.code());
    }
    let group = request.group_id.0.as_str().to_string();
    let code = check_member_group(broker, &group);
    if code != ErrorCode::None.code() {
        return SyncGroupResponse::default().with_error_code(code);
    }
    let req = SyncRequest {
        generation: request.generation_id,
        member_id: request.member_id.as_str().to_string(),
        group_instance_id: request
            .group_instance_id
            .as_ref()
            .map(|i| i.as_str().to_string()),
        protocol_type: request
            .protocol_type
            .as_ref()
            .map(|p| p.as_str().to_string()),
        protocol_name: request
            .protocol_name
            .as_ref()
            .map(|p| p.as_str().to_string()),
        assignments: request
            .assignments
            .iter()
            .map(|a| (a.member_id.as_str().to_string(), a.assignment.clone()))
            .collect(),
    };
    let result = broker.groups.sync(&group, req).await;
    SyncGroupResponse::default()
        .with_error_code(result.error)
        .with_protocol_type(result.protocol_type.as_deref().map(s))
        .with_protocol_name(result.protocol_name.as_deref().map(s))
        .with_assignment(result.assignment)
}

pub fn heartbeat(broker: &Arc<Broker>, request: HeartbeatRequest) -> HeartbeatResponse {
    let group = request.group_id.0.as_str();
    let mut code = check_member_group(broker, group);
    if code == ErrorCode::None.code() {
        code = broker.groups.heartbeat(
            group,
            request.generation_id,
            request.member_id.as_str(),
            request.group_instance_id.as_ref().map(|i| i.as_str()),
        );
    }
    HeartbeatResponse::default().with_error_code(code)
}

pub fn leave(broker: &Arc<Broker>, request: LeaveGroupRequest, version: i16) -> LeaveGroupResponse {
    let group = request.group_id.0.as_str();
    let code = check_member_group(broker, group);
    if code != ErrorCode::None.code() {
        return LeaveGroupResponse::default().with_error_code(code);
    }
    let leaving: Vec<(String, Option<String>)> = if version < 3 {
        vec![(request.member_id.as_str().to_string(), None)]
    } else {
        request
            .members
            .iter()
            .map(|m| {
                (
                    m.member_id.as_str().to_string(),
                    m.group_instance_id.as_ref().map(|i| i.as_str().to_string()),
                )
            })
            .collect()
    };
    let outcome = broker.groups.leave(group, leaving);
    if version < 3 {
        // One member per request: its error is the request's.
        let member_error = outcome
            .members
            .first()
            .map(|m| m.2)
            .unwrap_or(ErrorCode::None.code());
        let error = if outcome.error != ErrorCode::None.code() {
            outcome.error
        } else {
            member_error
        };
        return LeaveGroupResponse::default().with_error_code(error);
    }
    let members = outcome
        .members
        .into_iter()
        .map(|(member_id, instance_id, error)| {
            MemberResponse::default()
                .with_member_id(s(&member_id))
                .with_group_instance_id(instance_id.as_deref().map(s))
                .with_error_code(error)
        })
        .collect();
    LeaveGroupResponse::default()
        .with_error_code(outcome.error)
        .with_members(members)
}

/// Groups this broker coordinates: every group of the `__consumer_offsets` partitions it has
/// loaded, those with members and those Empty with offsets. While one of its partitions is
/// still loading, Kafka answers COORDINATOR_LOAD_IN_PROGRESS with the groups it has.
pub async fn list(broker: &Arc<Broker>, request: ListGroupsRequest) -> ListGroupsResponse {
    let groups: BTreeMap<String, (String, &'static str)> = broker
        .groups
        .with(|c, _| c.list())
        .into_iter()
        .map(|(id, protocol_type, state)| (id, (protocol_type, state.name())))
        .collect();
    let error = if broker.groups.loading() {
        ErrorCode::CoordinatorLoadInProgress.code()
    } else {
        NONE
    };
    let states: Vec<String> = request
        .states_filter
        .iter()
        .map(|s| s.as_str().to_ascii_lowercase())
        .collect();
    let types: Vec<String> = request
        .types_filter
        .iter()
        .map(|s| s.as_str().to_ascii_lowercase())
        .collect();
    let listed = groups
        .into_iter()
        .filter(|(id, _)| check_coordinator(broker, id) == ErrorCode::None.code())
        .filter(|(_, (_, state))| states.is_empty() || states.contains(&state.to_ascii_lowercase()))
        .filter(|_| types.is_empty() || types.iter().any(|t| t == "classic"))
        .map(|(id, (protocol_type, state))| {
            ListedGroup::default()
                .with_group_id(GroupId(s(&id)))
                .with_protocol_type(s(&protocol_type))
                .with_group_state(s(state))
                .with_group_type(s("classic"))
        })
        .collect();
    ListGroupsResponse::default()
        .with_error_code(error)
        .with_groups(listed)
}

/// A group DescribeGroups could not describe, as Kafka answers it
/// (`GroupCoordinator.EmptyGroup`): state, protocol type and protocol all "" (unknown), no
/// members. An unknown group is not an error: it is described with state Dead.
pub(super) fn describe_error(base: DescribedGroup, code: i16) -> DescribedGroup {
    base.with_error_code(code)
        .with_group_state(s(""))
        .with_protocol_type(s(""))
        .with_protocol_data(s(""))
        .with_members(Vec::new())
}

/// The ACL operations a group supports (READ, DELETE, DESCRIBE as the bits 3, 6 and 8), all
/// allowed without an authorizer: what Kafka reports when DescribeGroups v3+ asks for them.
const GROUP_AUTHORIZED_OPERATIONS: i32 = (1 << 3) | (1 << 6) | (1 << 8);

pub async fn describe(
    broker: &Arc<Broker>,
    request: DescribeGroupsRequest,
    version: i16,
) -> DescribeGroupsResponse {
    let include_operations = version >= 3 && request.include_authorized_operations;
    let mut described = describe_groups(broker, request).await;
    if include_operations {
        for g in described
            .iter_mut()
            .filter(|g| g.error_code == ErrorCode::None.code())
        {
            g.authorized_operations = GROUP_AUTHORIZED_OPERATIONS;
        }
    }
    DescribeGroupsResponse::default().with_groups(described)
}

async fn describe_groups(
    broker: &Arc<Broker>,
    request: DescribeGroupsRequest,
) -> Vec<DescribedGroup> {
    let mut described = Vec::new();
    for group_id in request.groups {
        let id = group_id.0.as_str().to_string();
        let base = DescribedGroup::default().with_group_id(group_id.clone());
        let code = check_coordinator(broker, &id);
        if code != ErrorCode::None.code() {
            described.push(describe_error(base, code));
            continue;
        }
        if let Some(d) = broker.groups.with(|c, _| c.describe(&id)) {
            let members = d
                .members
                .into_iter()
                .map(|m| {
                    DescribedGroupMember::default()
                        .with_member_id(s(&m.member_id))
                        .with_group_instance_id(m.group_instance_id.as_deref().map(s))
                        .with_client_id(s(&m.client_id))
                        .with_client_host(s(&m.client_host))
                        .with_member_metadata(m.metadata)
                        .with_member_assignment(m.assignment)
                })
                .collect();
            described.push(
                base.with_group_state(s(d.state.name()))
                    .with_protocol_type(s(&d.protocol_type))
                    .with_protocol_data(s(&d.protocol))
                    .with_members(members),
            );
            continue;
        }
        // Unknown: Kafka answers an unknown group with state Dead and no error.
        described.push(
            base.with_group_state(s(GroupState::Dead.name()))
                .with_protocol_type(s("")),
        );
    }
    described
}

pub async fn delete(broker: &Arc<Broker>, request: DeleteGroupsRequest) -> DeleteGroupsResponse {
    let mut results = Vec::new();
    for group_id in request.groups_names {
        let id = group_id.0.as_str().to_string();
        let mut code = check_coordinator(broker, &id);
        if code == ErrorCode::None.code() {
            // Kafka's `deleteGroups`: the group goes Dead at once, then its offsets and metadata
            // are tombstoned.
            code = match broker.groups.with(|c, _| c.delete(&id)) {
                Err(e) => e,
                Ok(partitions) => {
                    match broker.groups.write_tombstones(&id, &partitions, true).await {
                        Ok(()) => NONE,
                        Err(e) => {
                            tracing::warn!("writing the tombstones of deleted group {id} failed with error {e}");
                            NONE
                        }
                    }
                }
            };
        }
        results.push(
            DeletableGroupResult::default()
                .with_group_id(group_id)
                .with_error_code(code),
        );
    }
    DeleteGroupsResponse::default().with_results(results)
}
