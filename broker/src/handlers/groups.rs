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

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

/// The live broker that coordinates `group` (see [`crate::group::coordinator_of`]).
pub(crate) fn coordinator_of(broker: &Broker, group: &str) -> Option<BrokerInfo> {
    crate::group::coordinator_of(&broker.cluster, group)
}

/// ErrorCode::None.code() when this broker coordinates `group`, else the error Kafka answers with.
pub(crate) fn check_coordinator(broker: &Broker, group: &str) -> i16 {
    crate::group::check_coordinator(&broker.cluster, group)
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

pub fn find_coordinator(
    broker: &Arc<Broker>,
    request: FindCoordinatorRequest,
    version: i16,
) -> FindCoordinatorResponse {
    let lookup = |key: &str| -> Result<BrokerInfo, i16> {
        match request.key_type {
            0 => coordinator_of(broker, key).ok_or(ErrorCode::CoordinatorNotAvailable.code()),
            // Transactions are not implemented: no transaction coordinator exists.
            1 => Err(ErrorCode::CoordinatorNotAvailable.code()),
            _ => Err(ErrorCode::InvalidRequest.code()),
        }
    };
    if version >= 4 {
        let coordinators = request
            .coordinator_keys
            .iter()
            .map(|key| {
                let entry = CoordinatorEntry::default().with_key(key.clone());
                match lookup(key.as_str()) {
                    Ok(b) => entry
                        .with_node_id(BrokerId(b.id.get()))
                        .with_host(s(&b.host))
                        .with_port(i32::from(b.port)),
                    Err(code) => entry
                        .with_node_id(BrokerId(-1))
                        .with_host(s(""))
                        .with_port(-1)
                        .with_error_code(code),
                }
            })
            .collect();
        return FindCoordinatorResponse::default().with_coordinators(coordinators);
    }
    // v1-3 carry `error.message()`, which Kafka sets even on success ("NONE").
    let message = |code: i16| (version >= 1).then(|| s(find_coordinator_message(code)));
    match lookup(request.key.as_str()) {
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
    // A group that is new (or Empty) in memory continues above the generation its committed offsets were
    // written with, or zookeeper-lite would fence every commit of its new life.
    let floor = if !broker.groups.with(|c, _| c.is_empty_or_unknown(&group)) {
        0
    } else {
        match broker.cluster.group_generation(&group).await {
            Ok(g) => g,
            Err(e) if e.code == ErrorCode::GroupIdNotFound => 0,
            Err(e) => {
                tracing::warn!("reading the generation of group {group} failed: {e}");
                return error_response(ErrorCode::CoordinatorNotAvailable.code());
            }
        }
    };
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
    let result = broker.groups.join(&group, req, floor).await;
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

/// Groups this broker coordinates: those in memory, plus groups that only have committed offsets
/// (Empty), as Kafka lists groups loaded from its offsets topic.
pub async fn list(broker: &Arc<Broker>, request: ListGroupsRequest) -> ListGroupsResponse {
    let mut groups: BTreeMap<String, (String, &'static str)> = broker
        .groups
        .with(|c, _| c.list())
        .into_iter()
        .map(|(id, protocol_type, state)| (id, (protocol_type, state.name())))
        .collect();
    let mut error = NONE;
    match broker.cluster.list_offset_groups().await {
        Ok(ids) => {
            for id in ids {
                if groups.contains_key(&id)
                    || check_coordinator(broker, &id) != ErrorCode::None.code()
                {
                    continue;
                }
                let protocol_type = stored_protocol_type(broker, &id).await;
                groups.insert(id, (protocol_type, GroupState::Empty.name()));
            }
        }
        Err(e) => {
            // Kafka answers ErrorCode::CoordinatorNotAvailable.code() with no groups, not a partial list.
            tracing::warn!("listing groups with committed offsets failed: {e}");
            error = ErrorCode::CoordinatorNotAvailable.code();
            groups.clear();
        }
    }
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
        // Not in memory: Empty if it has committed offsets, else Dead (Kafka answers an unknown
        // group with state Dead and no error).
        let state = match broker.cluster.fetch_offsets(&id, None).await {
            Ok(offsets) if !offsets.is_empty() => GroupState::Empty,
            Ok(_) => GroupState::Dead,
            Err(e) => {
                tracing::warn!("reading the offsets of group {id} failed: {e}");
                described.push(describe_error(
                    base,
                    ErrorCode::CoordinatorNotAvailable.code(),
                ));
                continue;
            }
        };
        let protocol_type = if state == GroupState::Empty {
            stored_protocol_type(broker, &id).await
        } else {
            String::new()
        };
        described.push(
            base.with_group_state(s(state.name()))
                .with_protocol_type(s(&protocol_type)),
        );
    }
    described
}

/// The protocol type of a group known only by its committed offsets (after a restart, or after
/// the coordinator moved), which Kafka would read back from its offsets topic: "consumer" when
/// members of a generation committed (only group-managed consumers commit with a generation;
/// Kafka keeps an Empty former consumer group's type), "" when only simple or admin commits were
/// made (Kafka's protocolType None).
async fn stored_protocol_type(broker: &Broker, group: &str) -> String {
    match broker.cluster.group_generation(group).await {
        Ok(generation) if generation >= 1 => "consumer".to_string(),
        Ok(_) => String::new(),
        Err(e) => {
            tracing::warn!("reading the generation of group {group} failed: {e}");
            String::new()
        }
    }
}

pub async fn delete(broker: &Arc<Broker>, request: DeleteGroupsRequest) -> DeleteGroupsResponse {
    let mut results = Vec::new();
    for group_id in request.groups_names {
        let id = group_id.0.as_str().to_string();
        let mut code = check_coordinator(broker, &id);
        if code == ErrorCode::None.code() {
            let in_memory = broker.groups.with(|c, _| c.contains(&id));
            code = match broker.groups.with(|c, _| c.delete(&id)) {
                Err(e) => e,
                Ok(()) => match broker.cluster.delete_group_offsets(&id).await {
                    Ok(()) => NONE,
                    // A group known only in memory (being formed, no offsets) was deleted.
                    Err(e) if e.code == ErrorCode::GroupIdNotFound => {
                        if in_memory {
                            ErrorCode::None.code()
                        } else {
                            ErrorCode::GroupIdNotFound.code()
                        }
                    }
                    Err(e) => {
                        tracing::warn!("deleting the offsets of group {id} failed: {e}");
                        e.code.code()
                    }
                },
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
