//! Kafka's error codes (`org.apache.kafka.common.protocol.Errors`, Kafka 3.9): one enum, mapped
//! to the wire's `i16` in one place ([`ErrorCode::code`] and [`ErrorCode::from_code`]), with each
//! error's upper-case name, its default message and the Java exception class Kafka's clients raise
//! for it. Requests and responses carry the bare `i16`; callers convert at the edge.

use std::fmt;

/// Declares [`ErrorCode`] and the [`codes`] constants from `Variant(NAME) = code, "default message";`
/// rows (sorted by code).
macro_rules! error_codes {
    ($($variant:ident($name:ident) = $code:literal, $message:literal;)*) => {
        /// One of Kafka's error codes (`org.apache.kafka.common.protocol.Errors`). `None` (0) is
        /// success, as in Kafka. The wire value is [`ErrorCode::code`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode {
            $(
                #[doc = concat!("`", stringify!($name), "` (", stringify!($code), ") ", $message)]
                $variant,
            )*
        }

        impl ErrorCode {
            /// Every error code this enum knows, in code order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The wire value (Kafka's `Errors.code()`).
            pub const fn code(self) -> i16 {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// The error for a wire value, or `None` for a code Kafka 3.9 does not define
            /// (Kafka's `Errors.forCode` would answer `UNKNOWN_SERVER_ERROR`).
            pub const fn from_code(code: i16) -> Option<ErrorCode> {
                match code {
                    $($code => Some(ErrorCode::$variant),)*
                    _ => None,
                }
            }

            /// Kafka's upper-case name (`TOPIC_ALREADY_EXISTS`).
            pub const fn name(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => stringify!($name),)*
                }
            }

            /// Kafka's default message for the error (the exception's message when the broker
            /// sends none); empty for `NONE`, which has no exception.
            pub const fn message(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $message,)*
                }
            }
        }

        /// The wire values as `i16` constants named as Kafka names them, for matching a response's
        /// `error_code` field (`match code { codes::NOT_COORDINATOR => .. }`). Generated from the
        /// same rows as [`ErrorCode`], so each number is still written once.
        pub mod codes {
            $(
                #[doc = concat!("[`ErrorCode::", stringify!($variant), "`]")]
                pub const $name: i16 = $code;
            )*
        }
    };
}

error_codes! {
    UnknownServerError(UNKNOWN_SERVER_ERROR) = -1, "The server experienced an unexpected error when processing the request.";
    None(NONE) = 0, "";
    OffsetOutOfRange(OFFSET_OUT_OF_RANGE) = 1, "The requested offset is not within the range of offsets maintained by the server.";
    CorruptMessage(CORRUPT_MESSAGE) = 2, "This message has failed its CRC checksum, exceeds the valid size, has a null key for a compacted topic, or is otherwise corrupt.";
    UnknownTopicOrPartition(UNKNOWN_TOPIC_OR_PARTITION) = 3, "This server does not host this topic-partition.";
    InvalidFetchSize(INVALID_FETCH_SIZE) = 4, "The requested fetch size is invalid.";
    LeaderNotAvailable(LEADER_NOT_AVAILABLE) = 5, "There is no leader for this topic-partition as we are in the middle of a leadership election.";
    NotLeaderOrFollower(NOT_LEADER_OR_FOLLOWER) = 6, "For requests intended only for the leader, this error indicates that the broker is not the current leader. For requests intended for any replica, this error indicates that the broker is not a replica of the topic partition.";
    RequestTimedOut(REQUEST_TIMED_OUT) = 7, "The request timed out.";
    BrokerNotAvailable(BROKER_NOT_AVAILABLE) = 8, "The broker is not available.";
    ReplicaNotAvailable(REPLICA_NOT_AVAILABLE) = 9, "The replica is not available for the requested topic-partition. Produce/Fetch requests and other requests intended only for the leader or follower return NOT_LEADER_OR_FOLLOWER if the broker is not a replica of the topic-partition.";
    MessageTooLarge(MESSAGE_TOO_LARGE) = 10, "The request included a message larger than the max message size the server will accept.";
    StaleControllerEpoch(STALE_CONTROLLER_EPOCH) = 11, "The controller moved to another broker.";
    OffsetMetadataTooLarge(OFFSET_METADATA_TOO_LARGE) = 12, "The metadata field of the offset request was too large.";
    NetworkException(NETWORK_EXCEPTION) = 13, "The server disconnected before a response was received.";
    CoordinatorLoadInProgress(COORDINATOR_LOAD_IN_PROGRESS) = 14, "The coordinator is loading and hence can't process requests.";
    CoordinatorNotAvailable(COORDINATOR_NOT_AVAILABLE) = 15, "The coordinator is not available.";
    NotCoordinator(NOT_COORDINATOR) = 16, "This is not the correct coordinator.";
    InvalidTopicException(INVALID_TOPIC_EXCEPTION) = 17, "The request attempted to perform an operation on an invalid topic.";
    RecordListTooLarge(RECORD_LIST_TOO_LARGE) = 18, "The request included message batch larger than the configured segment size on the server.";
    NotEnoughReplicas(NOT_ENOUGH_REPLICAS) = 19, "Messages are rejected since there are fewer in-sync replicas than required.";
    NotEnoughReplicasAfterAppend(NOT_ENOUGH_REPLICAS_AFTER_APPEND) = 20, "Messages are written to the log, but to fewer in-sync replicas than required.";
    InvalidRequiredAcks(INVALID_REQUIRED_ACKS) = 21, "Produce request specified an invalid value for required acks.";
    IllegalGeneration(ILLEGAL_GENERATION) = 22, "Specified group generation id is not valid.";
    InconsistentGroupProtocol(INCONSISTENT_GROUP_PROTOCOL) = 23, "The group member's supported protocols are incompatible with those of existing members or first group member tried to join with empty protocol type or empty protocol list.";
    InvalidGroupId(INVALID_GROUP_ID) = 24, "The configured groupId is invalid.";
    UnknownMemberId(UNKNOWN_MEMBER_ID) = 25, "The coordinator is not aware of this member.";
    InvalidSessionTimeout(INVALID_SESSION_TIMEOUT) = 26, "The session timeout is not within the range allowed by the broker (as configured by group.min.session.timeout.ms and group.max.session.timeout.ms).";
    RebalanceInProgress(REBALANCE_IN_PROGRESS) = 27, "The group is rebalancing, so a rejoin is needed.";
    InvalidCommitOffsetSize(INVALID_COMMIT_OFFSET_SIZE) = 28, "The committing offset data size is not valid.";
    TopicAuthorizationFailed(TOPIC_AUTHORIZATION_FAILED) = 29, "Topic authorization failed.";
    GroupAuthorizationFailed(GROUP_AUTHORIZATION_FAILED) = 30, "Group authorization failed.";
    ClusterAuthorizationFailed(CLUSTER_AUTHORIZATION_FAILED) = 31, "Cluster authorization failed.";
    InvalidTimestamp(INVALID_TIMESTAMP) = 32, "The timestamp of the message is out of acceptable range.";
    UnsupportedSaslMechanism(UNSUPPORTED_SASL_MECHANISM) = 33, "The broker does not support the requested SASL mechanism.";
    IllegalSaslState(ILLEGAL_SASL_STATE) = 34, "Request is not valid given the current SASL state.";
    UnsupportedVersion(UNSUPPORTED_VERSION) = 35, "The version of API is not supported.";
    TopicAlreadyExists(TOPIC_ALREADY_EXISTS) = 36, "Topic with this name already exists.";
    InvalidPartitions(INVALID_PARTITIONS) = 37, "Number of partitions is below 1.";
    InvalidReplicationFactor(INVALID_REPLICATION_FACTOR) = 38, "Replication factor is below 1 or larger than the number of available brokers.";
    InvalidReplicaAssignment(INVALID_REPLICA_ASSIGNMENT) = 39, "Replica assignment is invalid.";
    InvalidConfig(INVALID_CONFIG) = 40, "Configuration is invalid.";
    NotController(NOT_CONTROLLER) = 41, "This is not the correct controller for this cluster.";
    InvalidRequest(INVALID_REQUEST) = 42, "This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker. See the broker logs for more details.";
    UnsupportedForMessageFormat(UNSUPPORTED_FOR_MESSAGE_FORMAT) = 43, "The message format version on the broker does not support the request.";
    PolicyViolation(POLICY_VIOLATION) = 44, "Request parameters do not satisfy the configured policy.";
    OutOfOrderSequenceNumber(OUT_OF_ORDER_SEQUENCE_NUMBER) = 45, "The broker received an out of order sequence number.";
    DuplicateSequenceNumber(DUPLICATE_SEQUENCE_NUMBER) = 46, "The broker received a duplicate sequence number.";
    InvalidProducerEpoch(INVALID_PRODUCER_EPOCH) = 47, "Producer attempted to produce with an old epoch.";
    InvalidTxnState(INVALID_TXN_STATE) = 48, "The producer attempted a transactional operation in an invalid state.";
    InvalidProducerIdMapping(INVALID_PRODUCER_ID_MAPPING) = 49, "The producer attempted to use a producer id which is not currently assigned to its transactional id.";
    InvalidTransactionTimeout(INVALID_TRANSACTION_TIMEOUT) = 50, "The transaction timeout is larger than the maximum value allowed by the broker (as configured by transaction.max.timeout.ms).";
    ConcurrentTransactions(CONCURRENT_TRANSACTIONS) = 51, "The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing.";
    TransactionCoordinatorFenced(TRANSACTION_COORDINATOR_FENCED) = 52, "Indicates that the transaction coordinator sending a WriteTxnMarker is no longer the current coordinator for a given producer.";
    TransactionalIdAuthorizationFailed(TRANSACTIONAL_ID_AUTHORIZATION_FAILED) = 53, "Transactional Id authorization failed.";
    SecurityDisabled(SECURITY_DISABLED) = 54, "Security features are disabled.";
    OperationNotAttempted(OPERATION_NOT_ATTEMPTED) = 55, "The broker did not attempt to execute this operation. This may happen for batched RPCs where some operations in the batch failed, causing the broker to respond without trying the rest.";
    KafkaStorageError(KAFKA_STORAGE_ERROR) = 56, "Disk error when trying to access log file on the disk.";
    LogDirNotFound(LOG_DIR_NOT_FOUND) = 57, "The user-specified log directory is not found in the broker config.";
    SaslAuthenticationFailed(SASL_AUTHENTICATION_FAILED) = 58, "SASL Authentication failed.";
    UnknownProducerId(UNKNOWN_PRODUCER_ID) = 59, "This exception is raised by the broker if it could not locate the producer metadata associated with the producerId in question. This could happen if, for instance, the producer's records were deleted because their retention time had elapsed. Once the last records of the producerId are removed, the producer's metadata is removed from the broker, and future appends by the producer will return this exception.";
    ReassignmentInProgress(REASSIGNMENT_IN_PROGRESS) = 60, "A partition reassignment is in progress.";
    DelegationTokenAuthDisabled(DELEGATION_TOKEN_AUTH_DISABLED) = 61, "Delegation Token feature is not enabled.";
    DelegationTokenNotFound(DELEGATION_TOKEN_NOT_FOUND) = 62, "Delegation Token is not found on server.";
    DelegationTokenOwnerMismatch(DELEGATION_TOKEN_OWNER_MISMATCH) = 63, "Specified Principal is not valid Owner/Renewer.";
    DelegationTokenRequestNotAllowed(DELEGATION_TOKEN_REQUEST_NOT_ALLOWED) = 64, "Delegation Token requests are not allowed on PLAINTEXT/1-way SSL channels and on delegation token authenticated channels.";
    DelegationTokenAuthorizationFailed(DELEGATION_TOKEN_AUTHORIZATION_FAILED) = 65, "Delegation Token authorization failed.";
    DelegationTokenExpired(DELEGATION_TOKEN_EXPIRED) = 66, "Delegation Token is expired.";
    InvalidPrincipalType(INVALID_PRINCIPAL_TYPE) = 67, "Supplied principalType is not supported.";
    NonEmptyGroup(NON_EMPTY_GROUP) = 68, "The group is not empty.";
    GroupIdNotFound(GROUP_ID_NOT_FOUND) = 69, "The group id does not exist.";
    FetchSessionIdNotFound(FETCH_SESSION_ID_NOT_FOUND) = 70, "The fetch session ID was not found.";
    InvalidFetchSessionEpoch(INVALID_FETCH_SESSION_EPOCH) = 71, "The fetch session epoch is invalid.";
    ListenerNotFound(LISTENER_NOT_FOUND) = 72, "There is no listener on the leader broker that matches the listener on which metadata request was processed.";
    TopicDeletionDisabled(TOPIC_DELETION_DISABLED) = 73, "Topic deletion is disabled.";
    FencedLeaderEpoch(FENCED_LEADER_EPOCH) = 74, "The leader epoch in the request is older than the epoch on the broker.";
    UnknownLeaderEpoch(UNKNOWN_LEADER_EPOCH) = 75, "The leader epoch in the request is newer than the epoch on the broker.";
    UnsupportedCompressionType(UNSUPPORTED_COMPRESSION_TYPE) = 76, "The requesting client does not support the compression type of given partition.";
    StaleBrokerEpoch(STALE_BROKER_EPOCH) = 77, "Broker epoch has changed.";
    OffsetNotAvailable(OFFSET_NOT_AVAILABLE) = 78, "The leader high watermark has not caught up from a recent leader election so the offsets cannot be guaranteed to be monotonically increasing.";
    MemberIdRequired(MEMBER_ID_REQUIRED) = 79, "The group member needs to have a valid member id before actually entering a consumer group.";
    PreferredLeaderNotAvailable(PREFERRED_LEADER_NOT_AVAILABLE) = 80, "The preferred leader was not available.";
    GroupMaxSizeReached(GROUP_MAX_SIZE_REACHED) = 81, "The consumer group has reached its max size.";
    FencedInstanceId(FENCED_INSTANCE_ID) = 82, "The broker rejected this static consumer since another consumer with the same group.instance.id has registered with a different member.id.";
    EligibleLeadersNotAvailable(ELIGIBLE_LEADERS_NOT_AVAILABLE) = 83, "Eligible topic partition leaders are not available.";
    ElectionNotNeeded(ELECTION_NOT_NEEDED) = 84, "Leader election not needed for topic partition.";
    NoReassignmentInProgress(NO_REASSIGNMENT_IN_PROGRESS) = 85, "No partition reassignment is in progress.";
    GroupSubscribedToTopic(GROUP_SUBSCRIBED_TO_TOPIC) = 86, "Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it.";
    InvalidRecord(INVALID_RECORD) = 87, "This record has failed the validation on broker and hence will be rejected.";
    UnstableOffsetCommit(UNSTABLE_OFFSET_COMMIT) = 88, "There are unstable offsets that need to be cleared.";
    ThrottlingQuotaExceeded(THROTTLING_QUOTA_EXCEEDED) = 89, "The throttling quota has been exceeded.";
    ProducerFenced(PRODUCER_FENCED) = 90, "There is a newer producer with the same transactionalId which fences the current one.";
    ResourceNotFound(RESOURCE_NOT_FOUND) = 91, "A request illegally referred to a resource that does not exist.";
    DuplicateResource(DUPLICATE_RESOURCE) = 92, "A request illegally referred to the same resource twice.";
    UnacceptableCredential(UNACCEPTABLE_CREDENTIAL) = 93, "Requested credential would not meet criteria for acceptability.";
    InconsistentVoterSet(INCONSISTENT_VOTER_SET) = 94, "Indicates that the either the sender or recipient of a voter-only request is not one of the expected voters.";
    InvalidUpdateVersion(INVALID_UPDATE_VERSION) = 95, "The given update version was invalid.";
    FeatureUpdateFailed(FEATURE_UPDATE_FAILED) = 96, "Unable to update finalized features due to an unexpected server error.";
    PrincipalDeserializationFailure(PRINCIPAL_DESERIALIZATION_FAILURE) = 97, "Request principal deserialization failed during forwarding. This indicates an internal error on the broker cluster security setup.";
    SnapshotNotFound(SNAPSHOT_NOT_FOUND) = 98, "Requested snapshot was not found.";
    UnknownTopicId(UNKNOWN_TOPIC_ID) = 100, "This server does not host this topic ID.";
    DuplicateBrokerRegistration(DUPLICATE_BROKER_REGISTRATION) = 101, "This broker ID is already in use.";
    BrokerIdNotRegistered(BROKER_ID_NOT_REGISTERED) = 102, "The given broker ID was not registered.";
    InconsistentTopicId(INCONSISTENT_TOPIC_ID) = 103, "The log's topic ID did not match the topic ID in the request.";
    InconsistentClusterId(INCONSISTENT_CLUSTER_ID) = 104, "The clusterId in the request does not match that found on the server.";
    TransactionalIdNotFound(TRANSACTIONAL_ID_NOT_FOUND) = 105, "The transactionalId could not be found.";
    FetchSessionTopicIdError(FETCH_SESSION_TOPIC_ID_ERROR) = 106, "The fetch session encountered inconsistent topic ID usage.";
    IneligibleReplica(INELIGIBLE_REPLICA) = 107, "The new ISR contains at least one ineligible replica.";
    NewLeaderElected(NEW_LEADER_ELECTED) = 108, "The AlterPartition request successfully updated the partition state but the leader has changed.";
    OffsetMovedToTieredStorage(OFFSET_MOVED_TO_TIERED_STORAGE) = 109, "The requested offset is moved to tiered storage.";
    FencedMemberEpoch(FENCED_MEMBER_EPOCH) = 110, "The member epoch is fenced by the group coordinator. The member must abandon all its partitions and rejoin.";
    UnreleasedInstanceId(UNRELEASED_INSTANCE_ID) = 111, "The instance ID is still used by another member in the consumer group. That member must leave first.";
    UnsupportedAssignor(UNSUPPORTED_ASSIGNOR) = 112, "The assignor or its version range is not supported by the consumer group.";
    StaleMemberEpoch(STALE_MEMBER_EPOCH) = 113, "The member epoch is stale. The member must retry after receiving its updated member epoch via the ConsumerGroupHeartbeat API.";
    MismatchedEndpointType(MISMATCHED_ENDPOINT_TYPE) = 114, "The request was sent to an endpoint of the wrong type.";
    UnsupportedEndpointType(UNSUPPORTED_ENDPOINT_TYPE) = 115, "This endpoint type is not supported yet.";
    UnknownControllerId(UNKNOWN_CONTROLLER_ID) = 116, "This controller ID is not known.";
    UnknownSubscriptionId(UNKNOWN_SUBSCRIPTION_ID) = 117, "Client sent a push telemetry request with an invalid or outdated subscription ID.";
    TelemetryTooLarge(TELEMETRY_TOO_LARGE) = 118, "Client sent a push telemetry request larger than the maximum size the broker will accept.";
    InvalidRegistration(INVALID_REGISTRATION) = 119, "The controller has considered the broker registration to be invalid.";
    TransactionAbortable(TRANSACTION_ABORTABLE) = 120, "The server encountered an error with the transaction. The client can abort the transaction to continue using this transactional ID.";
    InvalidRecordState(INVALID_RECORD_STATE) = 121, "The record state is invalid. The acknowledgement of delivery could not be completed.";
    ShareSessionNotFound(SHARE_SESSION_NOT_FOUND) = 122, "The share session was not found.";
    InvalidShareSessionEpoch(INVALID_SHARE_SESSION_EPOCH) = 123, "The share session epoch is invalid.";
    FencedStateEpoch(FENCED_STATE_EPOCH) = 124, "The share coordinator rejected the request because the share-group state epoch did not match.";
    InvalidVoterKey(INVALID_VOTER_KEY) = 125, "The voter key doesn't match the receiving replica's key.";
    DuplicateVoter(DUPLICATE_VOTER) = 126, "The voter is already part of the set of voters.";
    VoterNotFound(VOTER_NOT_FOUND) = 127, "The voter is not part of the set of voters.";
    InvalidRegularExpression(INVALID_REGULAR_EXPRESSION) = 128, "The regular expression is not valid.";
}

impl ErrorCode {
    /// True for `NONE` (code 0).
    pub const fn is_none(self) -> bool {
        matches!(self, ErrorCode::None)
    }

    /// Errors whose condition may go away on its own (Java: the `RetriableException` subclasses
    /// that matter to produce and fetch): the client refreshes metadata and retries these.
    pub const fn is_retriable(self) -> bool {
        matches!(
            self,
            ErrorCode::CorruptMessage
                | ErrorCode::UnknownTopicOrPartition
                | ErrorCode::LeaderNotAvailable
                | ErrorCode::NotLeaderOrFollower
                | ErrorCode::RequestTimedOut
                | ErrorCode::BrokerNotAvailable
                | ErrorCode::ReplicaNotAvailable
                | ErrorCode::NetworkException
                | ErrorCode::CoordinatorLoadInProgress
                | ErrorCode::CoordinatorNotAvailable
                | ErrorCode::NotCoordinator
                | ErrorCode::NotEnoughReplicas
                | ErrorCode::NotEnoughReplicasAfterAppend
                | ErrorCode::KafkaStorageError
                | ErrorCode::FencedLeaderEpoch
                | ErrorCode::UnknownLeaderEpoch
                | ErrorCode::OffsetNotAvailable
                | ErrorCode::ThrottlingQuotaExceeded
                | ErrorCode::UnknownTopicId
        )
    }

    /// Errors after which a client's view of partition leadership is stale (Java: the errors
    /// that make the producer and consumer request a metadata update).
    pub const fn invalidates_metadata(self) -> bool {
        matches!(
            self,
            ErrorCode::UnknownTopicOrPartition
                | ErrorCode::LeaderNotAvailable
                | ErrorCode::NotLeaderOrFollower
                | ErrorCode::ReplicaNotAvailable
                | ErrorCode::FencedLeaderEpoch
                | ErrorCode::UnknownLeaderEpoch
                | ErrorCode::UnknownTopicId
        )
    }

    /// The simple name of the Java exception Kafka 3.9 raises for this error
    /// (`TopicExistsException`): most are the camel-cased error name plus `Exception`, the others
    /// as Kafka's `Errors` enum lists them (`MESSAGE_TOO_LARGE` is a `RecordTooLargeException`).
    pub fn exception_simple_name(self) -> String {
        let special = match self {
            ErrorCode::UnknownServerError => Some("UnknownServerException"),
            ErrorCode::CorruptMessage => Some("CorruptRecordException"),
            ErrorCode::UnknownTopicOrPartition => Some("UnknownTopicOrPartitionException"),
            ErrorCode::RequestTimedOut => Some("TimeoutException"),
            ErrorCode::MessageTooLarge => Some("RecordTooLargeException"),
            ErrorCode::StaleControllerEpoch => Some("ControllerMovedException"),
            ErrorCode::OffsetMetadataTooLarge => Some("OffsetMetadataTooLarge"),
            ErrorCode::RecordListTooLarge => Some("RecordBatchTooLargeException"),
            ErrorCode::TopicAuthorizationFailed => Some("TopicAuthorizationException"),
            ErrorCode::GroupAuthorizationFailed => Some("GroupAuthorizationException"),
            ErrorCode::ClusterAuthorizationFailed => Some("ClusterAuthorizationException"),
            ErrorCode::TopicAlreadyExists => Some("TopicExistsException"),
            ErrorCode::InvalidConfig => Some("InvalidConfigurationException"),
            ErrorCode::OutOfOrderSequenceNumber => Some("OutOfOrderSequenceException"),
            ErrorCode::DuplicateSequenceNumber => Some("DuplicateSequenceException"),
            ErrorCode::InvalidProducerIdMapping => Some("InvalidPidMappingException"),
            ErrorCode::InvalidTransactionTimeout => Some("InvalidTxnTimeoutException"),
            ErrorCode::TransactionalIdAuthorizationFailed => {
                Some("TransactionalIdAuthorizationException")
            }
            ErrorCode::KafkaStorageError => Some("KafkaStorageException"),
            ErrorCode::SaslAuthenticationFailed => Some("SaslAuthenticationException"),
            ErrorCode::DelegationTokenAuthDisabled => Some("DelegationTokenDisabledException"),
            ErrorCode::DelegationTokenRequestNotAllowed => {
                Some("UnsupportedByAuthenticationException")
            }
            ErrorCode::DelegationTokenAuthorizationFailed => {
                Some("DelegationTokenAuthorizationException")
            }
            ErrorCode::NonEmptyGroup => Some("GroupNotEmptyException"),
            ErrorCode::PrincipalDeserializationFailure => Some("PrincipalDeserializationException"),
            ErrorCode::FetchSessionTopicIdError => Some("FetchSessionTopicIdException"),
            _ => None,
        };
        match special {
            Some(s) => s.to_string(),
            None => exception_name_from(self.name()),
        }
    }

    /// The fully qualified Java exception class (`org.apache.kafka.common.errors.…`).
    pub fn exception_class(self) -> String {
        format!(
            "org.apache.kafka.common.errors.{}",
            self.exception_simple_name()
        )
    }
}

/// `INVALID_REPLICATION_FACTOR` -> `InvalidReplicationFactorException` (a name already ending in
/// `EXCEPTION` gets it once).
pub fn exception_name_from(upper_name: &str) -> String {
    let camel: String = upper_name
        .split('_')
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            let mut chars = lower.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect();
    let base = camel.strip_suffix("Exception").unwrap_or(&camel);
    format!("{base}Exception")
}

impl fmt::Display for ErrorCode {
    /// Kafka's upper-case name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<ErrorCode> for i16 {
    fn from(e: ErrorCode) -> i16 {
        e.code()
    }
}

/// The upper-case name of a wire code, or `UNKNOWN_ERROR_CODE` for a code not in Kafka 3.9.
pub fn error_name(code: i16) -> &'static str {
    ErrorCode::from_code(code).map_or("UNKNOWN_ERROR_CODE", ErrorCode::name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted_unique_and_round_trip() {
        for pair in ErrorCode::ALL.windows(2) {
            assert!(
                pair[0].code() < pair[1].code(),
                "{} then {}",
                pair[0],
                pair[1]
            );
        }
        let mut seen = std::collections::HashSet::new();
        for e in ErrorCode::ALL {
            assert!(seen.insert(e.code()), "{e} twice");
            assert_eq!(ErrorCode::from_code(e.code()), Some(*e));
        }
        assert_eq!(ErrorCode::from_code(99), None);
        assert_eq!(ErrorCode::from_code(12345), None);
    }

    #[test]
    fn names_messages_and_classes_are_kafkas() {
        assert_eq!(ErrorCode::TopicAlreadyExists.code(), 36);
        assert_eq!(ErrorCode::TopicAlreadyExists.name(), "TOPIC_ALREADY_EXISTS");
        assert_eq!(
            ErrorCode::TopicAlreadyExists.message(),
            "Topic with this name already exists."
        );
        assert_eq!(ErrorCode::UnknownServerError.code(), -1);
        assert_eq!(ErrorCode::None.code(), 0);
        assert_eq!(
            ErrorCode::TopicAlreadyExists.exception_class(),
            "org.apache.kafka.common.errors.TopicExistsException"
        );
        assert_eq!(
            ErrorCode::InvalidReplicationFactor.exception_simple_name(),
            "InvalidReplicationFactorException"
        );
        assert_eq!(
            ErrorCode::InvalidTopicException.exception_simple_name(),
            "InvalidTopicException"
        );
        assert_eq!(error_name(12345), "UNKNOWN_ERROR_CODE");
        assert_eq!(error_name(3), "UNKNOWN_TOPIC_OR_PARTITION");
    }

    #[test]
    fn retriable_errors_are_the_clients_set() {
        let retriable: Vec<i16> = ErrorCode::ALL
            .iter()
            .filter(|e| e.is_retriable())
            .map(|e| e.code())
            .collect();
        assert_eq!(
            retriable,
            vec![2, 3, 5, 6, 7, 8, 9, 13, 14, 15, 16, 19, 20, 56, 74, 75, 78, 89, 100]
        );
        let stale: Vec<i16> = ErrorCode::ALL
            .iter()
            .filter(|e| e.invalidates_metadata())
            .map(|e| e.code())
            .collect();
        assert_eq!(stale, vec![3, 5, 6, 9, 74, 75, 100]);
    }
}
