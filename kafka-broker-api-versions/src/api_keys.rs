//! Kafka 3.9's `ApiKeys`, as its client knows them: every API key with its name, the versions
//! the 3.9 client speaks (`validVersions` of `clients/src/main/resources/common/message/
//! *Request.json`; `ApiKeys.latestVersion()` counts an unstable last version too) and whether
//! it is one of `ApiKeys.clientApis()` (its `listeners` include `zkBroker` or `broker`).
//! Written out as data from the 3.9.0 message files.

/// One `ApiKeys` constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiKeyInfo {
    /// `ApiKeys.id`.
    pub id: i16,
    /// `ApiKeys.name` (the message name without `Request`).
    pub name: &'static str,
    /// `oldestVersion()`.
    pub oldest: i16,
    /// `latestVersion()`.
    pub latest: i16,
    /// In `ApiKeys.clientApis()`: listed as UNSUPPORTED when a broker does not advertise it.
    pub client_api: bool,
}

const fn key(
    id: i16,
    name: &'static str,
    oldest: i16,
    latest: i16,
    client_api: bool,
) -> ApiKeyInfo {
    ApiKeyInfo {
        id,
        name,
        oldest,
        latest,
        client_api,
    }
}

/// Every `ApiKeys` constant of Kafka 3.9, in id order.
pub const API_KEYS: &[ApiKeyInfo] = &[
    key(0, "Produce", 0, 11, true),
    key(1, "Fetch", 0, 17, true),
    key(2, "ListOffsets", 0, 9, true),
    key(3, "Metadata", 0, 12, true),
    key(4, "LeaderAndIsr", 0, 7, true),
    key(5, "StopReplica", 0, 4, true),
    key(6, "UpdateMetadata", 0, 8, true),
    key(7, "ControlledShutdown", 0, 3, true),
    key(8, "OffsetCommit", 0, 9, true),
    key(9, "OffsetFetch", 0, 9, true),
    key(10, "FindCoordinator", 0, 6, true),
    key(11, "JoinGroup", 0, 9, true),
    key(12, "Heartbeat", 0, 4, true),
    key(13, "LeaveGroup", 0, 5, true),
    key(14, "SyncGroup", 0, 5, true),
    key(15, "DescribeGroups", 0, 5, true),
    key(16, "ListGroups", 0, 5, true),
    key(17, "SaslHandshake", 0, 1, true),
    key(18, "ApiVersions", 0, 4, true),
    key(19, "CreateTopics", 0, 7, true),
    key(20, "DeleteTopics", 0, 6, true),
    key(21, "DeleteRecords", 0, 2, true),
    key(22, "InitProducerId", 0, 5, true),
    key(23, "OffsetForLeaderEpoch", 0, 4, true),
    key(24, "AddPartitionsToTxn", 0, 5, true),
    key(25, "AddOffsetsToTxn", 0, 4, true),
    key(26, "EndTxn", 0, 4, true),
    key(27, "WriteTxnMarkers", 0, 1, true),
    key(28, "TxnOffsetCommit", 0, 4, true),
    key(29, "DescribeAcls", 0, 3, true),
    key(30, "CreateAcls", 0, 3, true),
    key(31, "DeleteAcls", 0, 3, true),
    key(32, "DescribeConfigs", 0, 4, true),
    key(33, "AlterConfigs", 0, 2, true),
    key(34, "AlterReplicaLogDirs", 0, 2, true),
    key(35, "DescribeLogDirs", 0, 4, true),
    key(36, "SaslAuthenticate", 0, 2, true),
    key(37, "CreatePartitions", 0, 3, true),
    key(38, "CreateDelegationToken", 0, 3, true),
    key(39, "RenewDelegationToken", 0, 2, true),
    key(40, "ExpireDelegationToken", 0, 2, true),
    key(41, "DescribeDelegationToken", 0, 3, true),
    key(42, "DeleteGroups", 0, 2, true),
    key(43, "ElectLeaders", 0, 2, true),
    key(44, "IncrementalAlterConfigs", 0, 1, true),
    key(45, "AlterPartitionReassignments", 0, 0, true),
    key(46, "ListPartitionReassignments", 0, 0, true),
    key(47, "OffsetDelete", 0, 0, true),
    key(48, "DescribeClientQuotas", 0, 1, true),
    key(49, "AlterClientQuotas", 0, 1, true),
    key(50, "DescribeUserScramCredentials", 0, 0, true),
    key(51, "AlterUserScramCredentials", 0, 0, true),
    key(52, "Vote", 0, 1, false),
    key(53, "BeginQuorumEpoch", 0, 1, false),
    key(54, "EndQuorumEpoch", 0, 1, false),
    key(55, "DescribeQuorum", 0, 2, true),
    key(56, "AlterPartition", 0, 3, true),
    key(57, "UpdateFeatures", 0, 1, true),
    key(58, "Envelope", 0, 0, true),
    key(59, "FetchSnapshot", 0, 1, false),
    key(60, "DescribeCluster", 0, 1, true),
    key(61, "DescribeProducers", 0, 0, true),
    key(62, "BrokerRegistration", 0, 4, false),
    key(63, "BrokerHeartbeat", 0, 1, false),
    key(64, "UnregisterBroker", 0, 0, true),
    key(65, "DescribeTransactions", 0, 0, true),
    key(66, "ListTransactions", 0, 1, true),
    key(67, "AllocateProducerIds", 0, 0, true),
    key(68, "ConsumerGroupHeartbeat", 0, 0, true),
    key(69, "ConsumerGroupDescribe", 0, 0, true),
    key(70, "ControllerRegistration", 0, 0, false),
    key(71, "GetTelemetrySubscriptions", 0, 0, true),
    key(72, "PushTelemetry", 0, 0, true),
    key(73, "AssignReplicasToDirs", 0, 0, false),
    key(74, "ListClientMetricsResources", 0, 0, true),
    key(75, "DescribeTopicPartitions", 0, 0, true),
    key(76, "ShareGroupHeartbeat", 0, 0, true),
    key(77, "ShareGroupDescribe", 0, 0, true),
    key(78, "ShareFetch", 0, 0, true),
    key(79, "ShareAcknowledge", 0, 0, true),
    key(80, "AddRaftVoter", 0, 0, true),
    key(81, "RemoveRaftVoter", 0, 0, true),
    key(82, "UpdateRaftVoter", 0, 0, false),
    key(83, "InitializeShareGroupState", 0, 0, true),
    key(84, "ReadShareGroupState", 0, 0, true),
    key(85, "WriteShareGroupState", 0, 0, true),
    key(86, "DeleteShareGroupState", 0, 0, true),
    key(87, "ReadShareGroupStateSummary", 0, 0, true),
];

/// The constant with this id, if Kafka 3.9 knows it (`ApiKeys.hasId`).
pub fn api_key(id: i16) -> Option<&'static ApiKeyInfo> {
    API_KEYS.iter().find(|k| k.id == id)
}
