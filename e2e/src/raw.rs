//! Raw Kafka requests over one TCP connection, for tests that must send exactly the bytes (or the
//! request versions) a test names, bypassing the client library: every request is framed with a
//! request header of its version, every answer checked for its correlation id and decoded by the
//! kafka-protocol crate with every byte consumed.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::produce_response::PartitionProduceResponse;
use kafka_protocol::messages::{ApiKey, ProduceRequest, RequestKind, ResponseKind, TopicName};
use kafka_protocol::protocol::StrBytes;

/// How long a raw request waits for its answer.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// The client id of raw requests.
const CLIENT_ID: &[u8] = b"e2e-raw";

/// One connection to a broker speaking raw frames; correlation ids count up from 1.
pub struct Conn {
    stream: TcpStream,
    correlation: i32,
}

impl Conn {
    /// Connects to `bootstrap` (`host:port`); panics if the broker cannot be reached.
    pub fn open(bootstrap: &str) -> Conn {
        let stream = TcpStream::connect(bootstrap).expect("connect to the broker");
        stream.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
        Conn {
            stream,
            correlation: 0,
        }
    }

    /// Connects to the first of `bootstrap`'s comma-separated `host:port`s that accepts, or None.
    pub fn try_open(bootstrap: &str) -> Option<Conn> {
        bootstrap.split(',').find_map(|addr| {
            let stream = TcpStream::connect(addr.trim()).ok()?;
            stream.set_read_timeout(Some(IO_TIMEOUT)).ok()?;
            Some(Conn {
                stream,
                correlation: 0,
            })
        })
    }

    /// Sends `body` as `key` v`version` and returns the response body after its header; panics
    /// (naming the pair) if the broker closes the connection or answers another correlation id.
    pub fn exchange(&mut self, key: ApiKey, version: i16, body: &[u8]) -> Bytes {
        self.correlation += 1;
        let mut frame = BytesMut::new();
        frame.put_i16(key as i16);
        frame.put_i16(version);
        frame.put_i32(self.correlation);
        frame.put_i16(CLIENT_ID.len() as i16);
        frame.put_slice(CLIENT_ID);
        if key.request_header_version(version) >= 2 && version >= key.valid_versions().min {
            frame.put_u8(0); // no tagged fields
        }
        frame.put_slice(body);
        let mut out = (frame.len() as i32).to_be_bytes().to_vec();
        out.extend_from_slice(&frame);
        let what = format!("{key:?} v{version}");
        self.stream
            .write_all(&out)
            .unwrap_or_else(|e| panic!("{what}: write: {e}"));
        let mut size = [0u8; 4];
        self.stream
            .read_exact(&mut size)
            .unwrap_or_else(|e| panic!("{what}: the broker closed the connection: {e}"));
        let mut response = vec![0u8; i32::from_be_bytes(size).clamp(0, 64 << 20) as usize];
        self.stream
            .read_exact(&mut response)
            .unwrap_or_else(|e| panic!("{what}: short response: {e}"));
        let mut response = Bytes::from(response);
        assert_eq!(
            response.get_i32(),
            self.correlation,
            "{what}: correlation id"
        );
        let flexible_header =
            key != ApiKey::ApiVersions && key.response_header_version(version) >= 1;
        if flexible_header {
            assert_eq!(response.get_u8(), 0, "{what}: response tagged fields");
        }
        response
    }

    /// A request the crate encodes; the answer decoded by the crate, every byte consumed (else a
    /// panic naming the API and version).
    pub fn call(&mut self, version: i16, request: RequestKind) -> ResponseKind {
        let key = api_key_of(&request);
        let mut body = BytesMut::new();
        request
            .encode(&mut body, version)
            .unwrap_or_else(|e| panic!("{key:?} v{version}: encoding the request: {e}"));
        let mut response = self.exchange(key, version, &body);
        let decoded = ResponseKind::decode(key, &mut response, version)
            .unwrap_or_else(|e| panic!("{key:?} v{version}: undecodable answer: {e}"));
        assert_eq!(
            response.remaining(),
            0,
            "{key:?} v{version}: bytes left over"
        );
        decoded
    }
}

/// The API key of a request.
pub fn api_key_of(request: &RequestKind) -> ApiKey {
    match request {
        RequestKind::Produce(_) => ApiKey::Produce,
        RequestKind::Fetch(_) => ApiKey::Fetch,
        RequestKind::ListOffsets(_) => ApiKey::ListOffsets,
        RequestKind::Metadata(_) => ApiKey::Metadata,
        RequestKind::OffsetCommit(_) => ApiKey::OffsetCommit,
        RequestKind::OffsetFetch(_) => ApiKey::OffsetFetch,
        RequestKind::FindCoordinator(_) => ApiKey::FindCoordinator,
        RequestKind::JoinGroup(_) => ApiKey::JoinGroup,
        RequestKind::Heartbeat(_) => ApiKey::Heartbeat,
        RequestKind::LeaveGroup(_) => ApiKey::LeaveGroup,
        RequestKind::SyncGroup(_) => ApiKey::SyncGroup,
        RequestKind::DescribeGroups(_) => ApiKey::DescribeGroups,
        RequestKind::ListGroups(_) => ApiKey::ListGroups,
        RequestKind::ApiVersions(_) => ApiKey::ApiVersions,
        RequestKind::CreateTopics(_) => ApiKey::CreateTopics,
        RequestKind::DeleteTopics(_) => ApiKey::DeleteTopics,
        RequestKind::DeleteRecords(_) => ApiKey::DeleteRecords,
        RequestKind::InitProducerId(_) => ApiKey::InitProducerId,
        RequestKind::OffsetForLeaderEpoch(_) => ApiKey::OffsetForLeaderEpoch,
        RequestKind::DescribeConfigs(_) => ApiKey::DescribeConfigs,
        RequestKind::AlterConfigs(_) => ApiKey::AlterConfigs,
        RequestKind::DescribeLogDirs(_) => ApiKey::DescribeLogDirs,
        RequestKind::CreatePartitions(_) => ApiKey::CreatePartitions,
        RequestKind::DeleteGroups(_) => ApiKey::DeleteGroups,
        RequestKind::IncrementalAlterConfigs(_) => ApiKey::IncrementalAlterConfigs,
        RequestKind::AlterPartitionReassignments(_) => ApiKey::AlterPartitionReassignments,
        RequestKind::ListPartitionReassignments(_) => ApiKey::ListPartitionReassignments,
        RequestKind::OffsetDelete(_) => ApiKey::OffsetDelete,
        RequestKind::DescribeCluster(_) => ApiKey::DescribeCluster,
        RequestKind::DescribeTopicPartitions(_) => ApiKey::DescribeTopicPartitions,
        RequestKind::ElectLeaders(_) => ApiKey::ElectLeaders,
        RequestKind::WriteTxnMarkers(_) => ApiKey::WriteTxnMarkers,
        RequestKind::TxnOffsetCommit(_) => ApiKey::TxnOffsetCommit,
        RequestKind::DescribeProducers(_) => ApiKey::DescribeProducers,
        RequestKind::AddPartitionsToTxn(_) => ApiKey::AddPartitionsToTxn,
        RequestKind::AddOffsetsToTxn(_) => ApiKey::AddOffsetsToTxn,
        RequestKind::EndTxn(_) => ApiKey::EndTxn,
        RequestKind::DescribeTransactions(_) => ApiKey::DescribeTransactions,
        RequestKind::ListTransactions(_) => ApiKey::ListTransactions,
        other => panic!("no key for {other:?}"),
    }
}

/// Sends one Produce v9 with `acks` of `records` (record batch bytes, sent as they are) to
/// partition 0 of `topic` on a new connection, and returns that partition's answer.
pub fn produce(
    bootstrap: &str,
    topic: &str,
    records: Vec<u8>,
    acks: i16,
) -> PartitionProduceResponse {
    let request = ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(TopicName(StrBytes::from_string(topic.to_string())))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(0)
                .with_records(Some(Bytes::from(records)))])]);
    let ResponseKind::Produce(response) =
        Conn::open(bootstrap).call(9, RequestKind::Produce(request))
    else {
        unreachable!("a Produce request is answered by a Produce response")
    };
    response
        .responses
        .into_iter()
        .next()
        .and_then(|t| t.partition_responses.into_iter().next())
        .expect("one partition answered")
}

/// Waits (up to `crate::STARTUP_TIMEOUT`) until the broker at `bootstrap` coordinates `group`
/// and has loaded it: FindCoordinator creates `__consumer_offsets` on first use and answers
/// COORDINATOR_NOT_AVAILABLE until its partition has a leader, and the leader answers
/// COORDINATOR_LOAD_IN_PROGRESS while it loads the partition. A Kafka client retries through
/// both; raw tests call this first.
pub fn wait_for_groups(bootstrap: &str, groups: &[&str]) {
    for group in groups {
        wait_for_group_coordinator(bootstrap, group);
    }
}

/// [`wait_for_groups`] for one group.
pub fn wait_for_group_coordinator(bootstrap: &str, group: &str) {
    use kafka_protocol::messages::{DescribeGroupsRequest, FindCoordinatorRequest, GroupId};
    let mut conn = Conn::open(bootstrap);
    crate::wait_until(
        &format!("a coordinator for group {group}"),
        crate::STARTUP_TIMEOUT,
        || {
            let request = FindCoordinatorRequest::default()
                .with_key(StrBytes::from_string(group.to_string()));
            match conn.call(1, RequestKind::FindCoordinator(request)) {
                ResponseKind::FindCoordinator(r) if r.error_code == 0 => Some(r.node_id.0),
                _ => None,
            }
        },
    );
    crate::wait_until(
        &format!("group {group} loaded by its coordinator"),
        crate::STARTUP_TIMEOUT,
        || {
            let request = DescribeGroupsRequest::default()
                .with_groups(vec![GroupId(StrBytes::from_string(group.to_string()))]);
            match conn.call(0, RequestKind::DescribeGroups(request)) {
                ResponseKind::DescribeGroups(r) => match r.groups.first().map(|g| g.error_code) {
                    Some(0) => Some(()),
                    _ => None,
                },
                _ => None,
            }
        },
    );
}

/// The broker id FindCoordinator (v1, key type 1) names as the transaction coordinator of
/// `txn_id`, or None while it answers an error (or the connection fails).
pub fn find_transaction_coordinator(bootstrap: &str, txn_id: &str) -> Option<i32> {
    use kafka_protocol::messages::FindCoordinatorRequest;
    let mut conn = Conn::try_open(bootstrap)?;
    let request = FindCoordinatorRequest::default()
        .with_key(StrBytes::from_string(txn_id.to_string()))
        .with_key_type(1);
    match conn.call(1, RequestKind::FindCoordinator(request)) {
        ResponseKind::FindCoordinator(r) if r.error_code == 0 => Some(r.node_id.0),
        _ => None,
    }
}
