//! One TCP connection to one broker. Requests are pipelined: a writer task sends frames in the
//! order they are queued, a reader task matches each response to its request by correlation id.
//! On connect the connection negotiates versions with ApiVersions (KIP-511 fallback included), and
//! every later request goes out at the newest version both sides speak.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::protocol::{Decodable, Request, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use common::errors::codes::UNSUPPORTED_VERSION;

use crate::error::ClientError;
use crate::frame;
use crate::versions::{BrokerVersions, API_VERSIONS_FIRST_TRY};

type ResponseSender = oneshot::Sender<Result<Bytes, ClientError>>;

struct Pending {
    header_version: i16,
    reply: ResponseSender,
}

struct Shared {
    peer: String,
    /// Requests waiting for their response, by correlation id. Locked only briefly, never across
    /// an await.
    pending: Mutex<HashMap<i32, Pending>>,
    /// Set once the socket failed; later sends fail fast and the owner reconnects.
    closed: AtomicBool,
}

impl Shared {
    fn fail_all(&self, err: &ClientError) {
        self.closed.store(true, Ordering::SeqCst);
        let drained: Vec<Pending> = match self.pending.lock() {
            Ok(mut map) => map.drain().map(|(_, p)| p).collect(),
            Err(poisoned) => poisoned.into_inner().drain().map(|(_, p)| p).collect(),
        };
        for p in drained {
            let _ = p.reply.send(Err(err.clone()));
        }
    }

    fn take_pending(&self, correlation_id: i32) -> Option<Pending> {
        match self.pending.lock() {
            Ok(mut map) => map.remove(&correlation_id),
            Err(poisoned) => poisoned.into_inner().remove(&correlation_id),
        }
    }

    fn insert_pending(&self, correlation_id: i32, pending: Pending) {
        match self.pending.lock() {
            Ok(mut map) => map.insert(correlation_id, pending),
            Err(poisoned) => poisoned.into_inner().insert(correlation_id, pending),
        };
    }
}

/// Options for a connection.
#[derive(Debug, Clone)]
pub struct ConnectionOptions {
    pub client_id: String,
    /// How long a request may wait for its response.
    pub request_timeout: Duration,
    /// How long the TCP connect plus ApiVersions exchange may take.
    pub connect_timeout: Duration,
    pub max_response_size: usize,
}

impl Default for ConnectionOptions {
    fn default() -> Self {
        ConnectionOptions {
            client_id: "rust-client".to_string(),
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_response_size: frame::MAX_RESPONSE_SIZE,
        }
    }
}

/// Stops the read loop when the last clone of a connection is dropped (the write loop ends by
/// itself once its channel closes), so an abandoned connection does not keep a task and a socket.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A negotiated connection to one broker. Cheap to clone; the socket closes when the last clone
/// is dropped.
#[derive(Clone)]
pub struct Connection {
    shared: Arc<Shared>,
    _reader: Arc<AbortOnDrop>,
    outgoing: mpsc::UnboundedSender<Bytes>,
    next_correlation_id: Arc<AtomicI32>,
    versions: Arc<BrokerVersions>,
    options: Arc<ConnectionOptions>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("peer", &self.shared.peer)
            .finish()
    }
}

impl Connection {
    /// Connects to `addr` ("host:port") and negotiates API versions.
    pub async fn connect(
        addr: &str,
        options: ConnectionOptions,
    ) -> Result<Connection, ClientError> {
        let connect_timeout = options.connect_timeout;
        let attempt = async {
            let stream = TcpStream::connect(addr)
                .await
                .map_err(|e| ClientError::io(addr, e))?;
            let _ = stream.set_nodelay(true);
            let mut conn = Self::start(addr, stream, options);
            let versions = conn.negotiate().await?;
            conn.versions = Arc::new(versions);
            Ok(conn)
        };
        match tokio::time::timeout(connect_timeout, attempt).await {
            Ok(result) => result,
            Err(_) => Err(ClientError::Timeout(format!(
                "Timed out connecting to {addr} after {} ms",
                connect_timeout.as_millis()
            ))),
        }
    }

    fn start(addr: &str, stream: TcpStream, options: ConnectionOptions) -> Connection {
        let (read_half, write_half) = stream.into_split();
        let shared = Arc::new(Shared {
            peer: addr.to_string(),
            pending: Mutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
        });
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(write_half, rx, shared.clone()));
        let reader = tokio::spawn(read_loop(
            read_half,
            shared.clone(),
            options.max_response_size,
        ));
        Connection {
            shared,
            _reader: Arc::new(AbortOnDrop(reader.abort_handle())),
            outgoing: tx,
            next_correlation_id: Arc::new(AtomicI32::new(0)),
            versions: Arc::new(BrokerVersions::default()),
            options: Arc::new(options),
        }
    }

    /// ApiVersions at our newest version; on UNSUPPORTED_VERSION the broker answers in v0 format
    /// with its own range, and we retry with the newest version it named (KIP-511).
    async fn negotiate(&self) -> Result<BrokerVersions, ClientError> {
        let mut version = API_VERSIONS_FIRST_TRY;
        for _ in 0..2 {
            let request = ApiVersionsRequest::default()
                .with_client_software_name(StrBytes::from_static_str("rust-kafka-client"))
                .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
            // The ApiVersions response header is always v0, whatever the request version.
            let body = self.round_trip(&request, version, 0).await?;
            let response = decode_api_versions(body, version)?;
            if response.error_code == UNSUPPORTED_VERSION {
                let broker_max = response
                    .api_keys
                    .iter()
                    .find(|k| k.api_key == ApiVersionsRequest::KEY)
                    .map_or(0, |k| k.max_version);
                let next = broker_max.clamp(0, API_VERSIONS_FIRST_TRY);
                if next >= version {
                    break;
                }
                version = next;
                continue;
            }
            ClientError::check(response.error_code, None)?;
            return Ok(BrokerVersions::new(
                response
                    .api_keys
                    .iter()
                    .map(|k| (k.api_key, k.min_version, k.max_version)),
            ));
        }
        Err(ClientError::UnsupportedVersion(format!(
            "{} does not accept any ApiVersions version we speak",
            self.shared.peer
        )))
    }

    /// The broker address this connection talks to.
    pub fn peer(&self) -> &str {
        &self.shared.peer
    }

    /// Whether the socket has failed; a closed connection is replaced, not reused.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::SeqCst)
    }

    /// The versions the broker advertised.
    pub fn versions(&self) -> &BrokerVersions {
        &self.versions
    }

    /// The version `send` will use for request type `R`.
    pub fn version_for<R: Request>(&self) -> Result<i16, ClientError> {
        self.versions.choose(R::KEY)
    }

    /// Sends a request at the negotiated version and waits for its response.
    pub async fn send<R: Request>(&self, request: R) -> Result<R::Response, ClientError> {
        let version = self.version_for::<R>()?;
        let body = self
            .round_trip(
                &request,
                version,
                frame::response_header_version::<R>(version),
            )
            .await?;
        frame::decode_response::<R>(body, version)
    }

    /// Sends a request at `version`, which the broker must advertise (our own range is not
    /// consulted: for a caller that builds a newer shape itself, such as a broker's
    /// AddPartitionsToTxn v4 verification, KIP-890). A version the broker does not serve is an
    /// `UnsupportedVersion` error.
    pub async fn send_at<R: Request>(
        &self,
        request: R,
        version: i16,
    ) -> Result<R::Response, ClientError> {
        match self.versions.broker_range(R::KEY) {
            Some((min, max)) if (min..=max).contains(&version) => {}
            _ => {
                return Err(ClientError::UnsupportedVersion(format!(
                    "The node does not support {} version {version}",
                    crate::versions::api_name(R::KEY)
                )))
            }
        }
        let body = self
            .round_trip(
                &request,
                version,
                frame::response_header_version::<R>(version),
            )
            .await?;
        frame::decode_response::<R>(body, version)
    }

    /// Sends a request that the broker will not answer (Produce with acks=0).
    pub async fn send_no_response<R: Request>(&self, request: R) -> Result<(), ClientError> {
        self.queue_no_response(request)
    }

    fn next_correlation_id(&self) -> i32 {
        // Wraps after 2^31 requests; ids only need to be unique among those in flight.
        self.next_correlation_id
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1)
            & i32::MAX
    }

    fn enqueue(&self, bytes: Bytes) -> Result<(), ClientError> {
        if self.is_closed() {
            return Err(self.closed_error());
        }
        self.outgoing.send(bytes).map_err(|_| self.closed_error())
    }

    fn closed_error(&self) -> ClientError {
        ClientError::io(
            &self.shared.peer,
            std::io::Error::new(std::io::ErrorKind::NotConnected, "connection closed"),
        )
    }

    async fn round_trip<R: Request>(
        &self,
        request: &R,
        version: i16,
        response_header_version: i16,
    ) -> Result<Bytes, ClientError> {
        let (correlation_id, rx) = self.queue(request, version, response_header_version)?;
        self.await_response(R::KEY, correlation_id, rx).await
    }

    /// Encodes `request` and queues it for the writer, registered under a new correlation id;
    /// synchronous, so requests queued one after another go out in that order.
    fn queue<R: Request>(
        &self,
        request: &R,
        version: i16,
        response_header_version: i16,
    ) -> Result<(i32, oneshot::Receiver<Result<Bytes, ClientError>>), ClientError> {
        let correlation_id = self.next_correlation_id();
        let bytes =
            frame::encode_request(request, version, correlation_id, &self.options.client_id)?;
        let (tx, rx) = oneshot::channel();
        // Registered before the write so that a fast response always finds its entry.
        self.shared.insert_pending(
            correlation_id,
            Pending {
                header_version: response_header_version,
                reply: tx,
            },
        );
        if let Err(e) = self.enqueue(bytes) {
            self.shared.take_pending(correlation_id);
            return Err(e);
        }
        Ok((correlation_id, rx))
    }

    async fn await_response(
        &self,
        api_key: i16,
        correlation_id: i32,
        rx: oneshot::Receiver<Result<Bytes, ClientError>>,
    ) -> Result<Bytes, ClientError> {
        match tokio::time::timeout(self.options.request_timeout, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(self.closed_error()),
            Err(_) => {
                self.shared.take_pending(correlation_id);
                let error = ClientError::Timeout(format!(
                    "Request {} to {} timed out after {} ms.",
                    crate::versions::api_name(api_key),
                    self.shared.peer,
                    self.options.request_timeout.as_millis()
                ));
                // As Java's `NetworkClient.handleTimedOutRequests`: a broker that does not answer
                // within the timeout is disconnected (a paused or partitioned broker keeps its
                // sockets open), so the next request, a metadata refresh above all, goes to
                // another broker or to a new connection instead of waiting on this one again.
                tracing::debug!(
                    "disconnecting from {} after a request timeout",
                    self.shared.peer
                );
                self.shared.fail_all(&error);
                Err(error)
            }
        }
    }

    /// Queues `request` at the negotiated version right now and returns a future of its
    /// response. Unlike `send`, the request is on its way (in call order) before the future is
    /// first polled, so a caller can keep several requests in flight on this connection, in a
    /// fixed order (the producer's pipelined Produce requests), and await them elsewhere. The
    /// response wait is bounded by the request timeout, as for `send`.
    pub fn send_queued<R: Request>(
        &self,
        request: R,
    ) -> Result<
        impl std::future::Future<Output = Result<R::Response, ClientError>> + Send + 'static,
        ClientError,
    >
    where
        R::Response: Send + 'static,
    {
        let version = self.version_for::<R>()?;
        let (correlation_id, rx) = self.queue(
            &request,
            version,
            frame::response_header_version::<R>(version),
        )?;
        let conn = self.clone();
        Ok(async move {
            let body = conn.await_response(R::KEY, correlation_id, rx).await?;
            frame::decode_response::<R>(body, version)
        })
    }

    /// `send_no_response` without the `async`: queued (in call order) before it returns.
    pub fn queue_no_response<R: Request>(&self, request: R) -> Result<(), ClientError> {
        let version = self.version_for::<R>()?;
        let correlation_id = self.next_correlation_id();
        let bytes =
            frame::encode_request(&request, version, correlation_id, &self.options.client_id)?;
        self.enqueue(bytes)
    }
}

/// Decodes an ApiVersions response; an error-35 answer is in v0 format whatever we asked for.
fn decode_api_versions(body: Bytes, version: i16) -> Result<ApiVersionsResponse, ClientError> {
    if body.len() < 2 {
        return Err(ClientError::Protocol(
            "ApiVersions response shorter than its error code".to_string(),
        ));
    }
    let error_code = i16::from_be_bytes([body[0], body[1]]);
    let decode_version = if error_code == UNSUPPORTED_VERSION {
        0
    } else {
        version
    };
    let mut buf = body;
    ApiVersionsResponse::decode(&mut buf, decode_version)
        .map_err(|e| ClientError::Protocol(format!("decoding ApiVersions v{decode_version}: {e}")))
}

async fn write_loop(
    mut socket: OwnedWriteHalf,
    mut outgoing: mpsc::UnboundedReceiver<Bytes>,
    shared: Arc<Shared>,
) {
    while let Some(bytes) = outgoing.recv().await {
        if let Err(e) = socket.write_all(&bytes).await {
            shared.fail_all(&ClientError::io(&shared.peer, e));
            return;
        }
    }
    // Every sender is gone: the connection was dropped. Closing the write half lets the broker
    // see EOF and the read loop end.
    let _ = socket.shutdown().await;
}

async fn read_loop(mut socket: OwnedReadHalf, shared: Arc<Shared>, max_response_size: usize) {
    let err = loop {
        match read_frame(&mut socket, &shared.peer, max_response_size).await {
            Ok(frame_bytes) => {
                let Some(correlation_id) = frame::peek_correlation_id(&frame_bytes) else {
                    break ClientError::Protocol("response without correlation id".to_string());
                };
                let Some(pending) = shared.take_pending(correlation_id) else {
                    // A response to a request that timed out; nothing waits for it any more.
                    tracing::debug!(
                        "dropping response with unknown correlation id {correlation_id} from {}",
                        shared.peer
                    );
                    continue;
                };
                let body = frame::strip_response_header(frame_bytes, pending.header_version);
                let _ = pending.reply.send(body);
            }
            Err(e) => break e,
        }
    };
    shared.fail_all(&err);
}

async fn read_frame(
    socket: &mut OwnedReadHalf,
    peer: &str,
    max_response_size: usize,
) -> Result<Bytes, ClientError> {
    let mut size = [0u8; 4];
    socket
        .read_exact(&mut size)
        .await
        .map_err(|e| ClientError::io(peer, e))?;
    let size = frame::check_frame_size(i32::from_be_bytes(size), max_response_size)?;
    let mut buf = vec![0u8; size];
    socket
        .read_exact(&mut buf)
        .await
        .map_err(|e| ClientError::io(peer, e))?;
    Ok(Bytes::from(buf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::MetadataRequest;
    use test_broker::{FakeBroker, FakeBrokerOptions};

    #[tokio::test]
    async fn negotiates_versions_with_a_v3_broker() {
        let broker = FakeBroker::start(FakeBrokerOptions::default()).await;
        let conn = Connection::connect(&broker.addr(), ConnectionOptions::default())
            .await
            .expect("connect");
        assert_eq!(conn.versions().choose(3).ok(), Some(12));
        assert_eq!(broker.api_versions_versions_seen(), vec![3]);
    }

    #[tokio::test]
    async fn falls_back_when_broker_rejects_api_versions_v3() {
        let broker = FakeBroker::start(FakeBrokerOptions {
            api_versions_max: 2,
            ..Default::default()
        })
        .await;
        let conn = Connection::connect(&broker.addr(), ConnectionOptions::default())
            .await
            .expect("connect");
        assert_eq!(broker.api_versions_versions_seen(), vec![3, 2]);
        assert_eq!(conn.versions().choose(3).ok(), Some(12));
    }

    #[tokio::test]
    async fn pipelined_requests_are_matched_by_correlation_id() {
        let broker = FakeBroker::start(FakeBrokerOptions {
            reverse_order: true,
            ..Default::default()
        })
        .await;
        let conn = Connection::connect(&broker.addr(), ConnectionOptions::default())
            .await
            .expect("connect");
        let a = conn.send(MetadataRequest::default());
        let b = conn.send(MetadataRequest::default());
        let (a, b) = tokio::join!(a, b);
        assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
    }

    #[tokio::test]
    async fn queued_requests_go_out_in_call_order_before_being_awaited() {
        let broker = FakeBroker::start(FakeBrokerOptions::default()).await;
        let conn = Connection::connect(&broker.addr(), ConnectionOptions::default())
            .await
            .expect("connect");
        let first = conn
            .send_queued(MetadataRequest::default())
            .expect("queued");
        let second = conn
            .send_queued(MetadataRequest::default())
            .expect("queued");
        // Awaited in reverse: both were already sent, and each gets its own answer.
        assert!(second.await.is_ok());
        assert!(first.await.is_ok());
    }

    #[tokio::test]
    async fn unadvertised_api_is_unsupported_version() {
        let broker = FakeBroker::start(FakeBrokerOptions::default()).await;
        let conn = Connection::connect(&broker.addr(), ConnectionOptions::default())
            .await
            .expect("connect");
        let err = conn
            .send(kafka_protocol::messages::InitProducerIdRequest::default())
            .await
            .err();
        assert!(matches!(err, Some(ClientError::UnsupportedVersion(_))));
    }

    #[tokio::test]
    async fn closed_socket_fails_pending_requests() {
        let broker = FakeBroker::start(FakeBrokerOptions {
            close_on_metadata: true,
            ..Default::default()
        })
        .await;
        let conn = Connection::connect(&broker.addr(), ConnectionOptions::default())
            .await
            .expect("connect");
        let err = conn.send(MetadataRequest::default()).await.err();
        assert!(matches!(err, Some(ClientError::Io { .. })), "{err:?}");
        assert!(conn.is_closed());
    }

    #[tokio::test]
    async fn unanswered_request_times_out_and_the_connection_is_dropped() {
        let broker = FakeBroker::start(FakeBrokerOptions {
            ignore_first_metadata: true,
            ..Default::default()
        })
        .await;
        let options = ConnectionOptions {
            request_timeout: Duration::from_millis(100),
            ..Default::default()
        };
        let conn = Connection::connect(&broker.addr(), options)
            .await
            .expect("connect");
        let err = conn.send(MetadataRequest::default()).await.err();
        assert!(matches!(err, Some(ClientError::Timeout(_))), "{err:?}");
        // As Java's NetworkClient: the silent broker is disconnected; the owner reconnects.
        assert!(conn.is_closed());
        assert!(conn.send(MetadataRequest::default()).await.is_err());
    }

    #[tokio::test]
    async fn oversize_response_is_refused() {
        let broker = FakeBroker::start(FakeBrokerOptions {
            oversize_metadata: true,
            ..Default::default()
        })
        .await;
        let conn = Connection::connect(&broker.addr(), ConnectionOptions::default())
            .await
            .expect("connect");
        let err = conn.send(MetadataRequest::default()).await.err();
        assert!(matches!(err, Some(ClientError::Protocol(_))), "{err:?}");
    }
}
