//! Accepting connections, framing requests and writing responses. Requests on one connection are
//! started one at a time and answered in order (as Kafka does), pipelined: the next request is
//! read and started while the previous one's answer waits for its fsync or its replicas (see
//! [`connection`]); connections are served concurrently.
//!
//! The edge holds under load (see [`limits`]): connections past `max.connections` or
//! `max.connections.per.ip` are closed at once; a connection idle for `connections.max.idle.ms`
//! is closed; a request once started must arrive whole within [`limits::REQUEST_READ_TIMEOUT`]
//! (or `connections.max.idle.ms` when shorter);
//! a frame's buffer is reserved from `queued.max.request.bytes` before it is allocated.

pub mod connection;
pub mod frame;
pub mod legacy;
pub mod limits;
#[cfg(test)]
mod pipelining_tests;
pub mod response;
pub mod shape;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::messages::{ApiKey, RequestHeader, RequestKind, ResponseKind};
use kafka_protocol::protocol::Decodable;
use thiserror::Error;
use tokio::net::TcpListener;

use crate::broker::Broker;
use crate::handlers::{self, Outcome, RequestContext};
use connection::Answer;
use frame::FrameError;
use limits::{ConnectionQuotas, RequestBudget};
use response::{encode_response, frame_response, ResponseFrame};

/// Why a connection is closed: a frame that can't be read, decoded or served, or an I/O error.
#[derive(Debug, Error)]
pub enum ConnError {
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("unknown API key {0}")]
    UnknownApiKey(i16),
    #[error("unsupported version {version} of {key:?}")]
    UnsupportedVersion { key: ApiKey, version: i16 },
    #[error("malformed {key:?} v{version} request: {reason}")]
    Malformed {
        key: ApiKey,
        version: i16,
        reason: String,
    },
    #[error("encoding the {key:?} response failed: {reason}")]
    Encode { key: ApiKey, reason: String },
    #[error("API {0:?} is not served by this broker")]
    NotServed(ApiKey),
    #[error(
        "Closing connection due to error during produce request with correlation id \
         {correlation_id} from client id {client_id} with ack=0\n\
         Topic and partition to exceptions: {failed}"
    )]
    Acks0ProduceFailed {
        correlation_id: i32,
        client_id: String,
        failed: String,
    },
    #[error("no request for connections.max.idle.ms ({0:?}): closing the idle connection")]
    Idle(std::time::Duration),
    #[error("a started request did not arrive whole within {0:?}")]
    ReadTimeout(std::time::Duration),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub async fn serve(listener: TcpListener, broker: Arc<Broker>) {
    let quotas = Arc::new(ConnectionQuotas::new(
        broker.config.max_connections,
        broker.config.max_connections_per_ip,
        broker.config.max_connections_per_ip_overrides.clone(),
    ));
    let budget = Arc::new(RequestBudget::new(broker.config.queued_max_request_bytes));
    let mut accept_failures = FailureLog::default();
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                if let Some(failed) = accept_failures.recovered() {
                    tracing::info!("accepting connections again after {failed} failed accepts");
                }
                // Kafka's `ConnectionQuotas.inc`: past a limit the new connection is closed at
                // once; the open ones are served on.
                let slot = match quotas.admit(peer.ip()) {
                    Ok(slot) => slot,
                    Err(refused) => {
                        tracing::info!("Rejected connection from {}: {refused}", peer.ip());
                        drop(stream);
                        continue;
                    }
                };
                let broker = broker.clone();
                let budget = budget.clone();
                tokio::spawn(async move {
                    let _slot = slot;
                    let _ = stream.set_nodelay(true);
                    match connection::serve(stream, peer, broker, &budget).await {
                        Ok(()) => {}
                        Err(ConnError::Io(e))
                            if matches!(
                                e.kind(),
                                std::io::ErrorKind::ConnectionReset
                                    | std::io::ErrorKind::BrokenPipe
                                    | std::io::ErrorKind::UnexpectedEof
                            ) => {}
                        Err(e @ ConnError::Idle(_)) => tracing::debug!("{peer}: {e}"),
                        Err(e @ ConnError::ReadTimeout(_)) => {
                            tracing::info!("closing connection from {peer}: {e}")
                        }
                        // Kafka logs this one at INFO: the close is the answer.
                        Err(e @ ConnError::Acks0ProduceFailed { .. }) => tracing::info!("{e}"),
                        Err(e) => tracing::error!("closing connection from {peer}: {e}"),
                    }
                });
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning, and log
                // the first failure of a run and then one line per 10 s, not one per attempt.
                if let Some(suppressed) = accept_failures.failed(std::time::Instant::now()) {
                    if suppressed == 0 {
                        tracing::error!("accept failed: {e}");
                    } else {
                        tracing::error!(
                            "accept failed: {e} ({suppressed} more since the last report)"
                        );
                    }
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// A run of failed accepts, so that a broker out of file descriptors logs the failure once per
/// [`FailureLog::INTERVAL`] rather than ten times a second.
#[derive(Debug, Default)]
struct FailureLog {
    /// Failures since the run began.
    failures: u64,
    /// Failures not logged since the last line.
    suppressed: u64,
    last_logged: Option<std::time::Instant>,
}

impl FailureLog {
    const INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

    /// Records a failure at `now`; `Some(n)` when a line should be logged, `n` being the
    /// failures left out since the previous line.
    fn failed(&mut self, now: std::time::Instant) -> Option<u64> {
        self.failures += 1;
        let due = self
            .last_logged
            .is_none_or(|at| now.duration_since(at) >= Self::INTERVAL);
        if due {
            self.last_logged = Some(now);
            Some(std::mem::take(&mut self.suppressed))
        } else {
            self.suppressed += 1;
            None
        }
    }

    /// An accept succeeded: `Some(failures)` if a run of failures just ended.
    fn recovered(&mut self) -> Option<u64> {
        let failures = std::mem::take(&mut self.failures);
        self.suppressed = 0;
        self.last_logged = None;
        (failures > 0).then_some(failures)
    }
}

#[cfg(test)]
mod failure_log_tests {
    use super::FailureLog;
    use std::time::{Duration, Instant};

    #[test]
    fn a_run_of_failed_accepts_logs_once_per_interval_and_its_end() {
        let mut log = FailureLog::default();
        let t0 = Instant::now();
        assert_eq!(log.failed(t0), Some(0));
        for i in 1..100 {
            assert_eq!(log.failed(t0 + Duration::from_millis(100 * i)), None);
        }
        assert_eq!(log.failed(t0 + Duration::from_secs(10)), Some(99));
        assert_eq!(log.recovered(), Some(101));
        assert_eq!(log.recovered(), None);
        assert_eq!(log.failed(t0 + Duration::from_secs(11)), Some(0));
    }
}

/// A request frame's body decoded as the broker serves it (see [`decode_request`]).
#[derive(Debug)]
pub enum DecodedRequest {
    /// An ApiVersions request newer than we serve: answered in v0 (KIP-511) so that any client
    /// can read our ranges and retry.
    ApiVersionsTooNew { correlation_id: i32 },
    /// A version Kafka 3.9 serves but the protocol crate no longer decodes (KIP-896 removals).
    Legacy {
        key: ApiKey,
        version: i16,
        header: RequestHeader,
        request: legacy::LegacyRequest,
    },
    /// Decoded by the protocol crate.
    Crate {
        key: ApiKey,
        version: i16,
        header: RequestHeader,
        request: RequestKind,
    },
}

/// Decodes one request frame's body (the bytes after the 4-byte length prefix): the header
/// prefix, the API key and version against what we serve, the shape check of every length
/// against the bytes present (`shape::check_request`), then the legacy or the crate decoder
/// with a panic guard. Pure: no I/O and no broker state, so it is also the fuzzing entry point
/// for request framing and decoding (`fuzz/fuzz_targets/request.rs`).
///
/// Errors: [`ConnError::Frame`] (too short for a header), `UnknownApiKey`, `NotServed`,
/// `UnsupportedVersion`, `Malformed`; each closes the connection as Kafka does.
pub fn decode_request(body: Bytes) -> Result<DecodedRequest, ConnError> {
    let prefix = frame::header_prefix(&body).ok_or(FrameError::TooSmall {
        size: body.len() as i32,
    })?;
    let key =
        ApiKey::try_from(prefix.api_key).map_err(|_| ConnError::UnknownApiKey(prefix.api_key))?;
    let version = prefix.api_version;
    let Some((min, max)) = handlers::supported_range(key) else {
        return Err(ConnError::NotServed(key));
    };
    if key == ApiKey::ApiVersions && version > max {
        return Ok(DecodedRequest::ApiVersionsTooNew {
            correlation_id: prefix.correlation_id,
        });
    }
    if version < min || version > max {
        return Err(ConnError::UnsupportedVersion { key, version });
    }
    // The crate's decoders allocate forged array counts before reading them (an abort, not a
    // panic): check every length against the bytes present first.
    let used = shape::check_request(key, version, &body).map_err(|e| ConnError::Malformed {
        key,
        version,
        reason: e.to_string(),
    })?;
    if legacy::is_legacy(key, version) {
        let (header, request) = decode_legacy(key, version, body.slice(..used))?;
        Ok(DecodedRequest::Legacy {
            key,
            version,
            header,
            request,
        })
    } else {
        let (header, request) = decode(key, version, body)?;
        Ok(DecodedRequest::Crate {
            key,
            version,
            header,
            request,
        })
    }
}

/// Decodes one request and starts it: handles it whole, or (a produce waiting for its fsync or
/// its replicas) as far as its effects, leaving the rest to the answer's future, which holds
/// nothing of the request frame. An error closes the connection.
async fn handle_frame(
    broker: &Arc<Broker>,
    peer: SocketAddr,
    body: Bytes,
) -> Result<Answer, ConnError> {
    let now = |frame: Result<ResponseFrame, ConnError>| frame.map(|f| Answer::Now(Some(f)));
    let (key, version, header, request) = match decode_request(body)? {
        DecodedRequest::ApiVersionsTooNew { correlation_id } => {
            // KIP-511: answer in v0 so that any client can read our ranges and retry.
            let key = ApiKey::ApiVersions;
            let response = ResponseKind::ApiVersions(handlers::unsupported_version_response());
            return now(encode_response(key, 0, correlation_id, response));
        }
        DecodedRequest::Crate {
            key,
            version,
            header,
            request,
        } => (key, version, header, request),
        DecodedRequest::Legacy {
            key,
            version,
            header,
            request,
        } => match request {
            legacy::LegacyRequest::Crate(request) => (key, version, header, *request),
            legacy::LegacyRequest::OffsetCommitV1 {
                request,
                commit_timestamps,
            } => {
                let response = ResponseKind::OffsetCommit(
                    handlers::offset_commit_v1(broker, request, &commit_timestamps).await,
                );
                return now(encode_response(
                    key,
                    version,
                    header.correlation_id,
                    response,
                ));
            }
            legacy::LegacyRequest::ListOffsetsV0(request) => {
                let answer = handlers::list_offsets_v0(broker, request).await;
                let body = legacy::encode_list_offsets_v0(&answer).freeze();
                return Ok(Answer::Now(Some(ResponseFrame::whole(frame_response(
                    key,
                    version,
                    header.correlation_id,
                    &body,
                )))));
            }
        },
    };
    let ctx = RequestContext {
        header: &header,
        peer,
    };
    let correlation_id = header.correlation_id;
    match handlers::dispatch(broker, &ctx, request).await {
        Outcome::Respond(response) => now(encode_response(key, version, correlation_id, *response)),
        Outcome::Later(finish) => Ok(Answer::Later(Box::pin(async move {
            let response = finish.await;
            encode_response(key, version, correlation_id, *response).map(Some)
        }))),
        Outcome::NoResponse => Ok(Answer::Now(None)),
        Outcome::CloseAfterProduceError(failed) => Err(ConnError::Acks0ProduceFailed {
            correlation_id,
            client_id: header
                .client_id
                .as_ref()
                .map_or_else(String::new, |c| c.to_string()),
            failed,
        }),
        Outcome::Close => Err(ConnError::NotServed(key)),
    }
}

/// Runs the protocol crate's decoders. They are not trusted to reject every malformed input
/// without panicking, so a panic is caught and treated as a malformed request: one bad peer must
/// not take the broker down.
fn decode(
    key: ApiKey,
    version: i16,
    mut body: Bytes,
) -> Result<(RequestHeader, RequestKind), ConnError> {
    let malformed = |reason: String| ConnError::Malformed {
        key,
        version,
        reason,
    };
    let result = std::panic::catch_unwind(move || {
        let header = RequestHeader::decode(&mut body, legacy::request_header_version(key, version))
            .map_err(|e| format!("header: {e}"))?;
        let request = RequestKind::decode(key, &mut body, version).map_err(|e| e.to_string())?;
        Ok::<_, String>((header, request))
    });
    match result {
        Ok(Ok(decoded)) => Ok(decoded),
        Ok(Err(reason)) => Err(malformed(reason)),
        Err(_) => Err(malformed("the decoder rejected it".to_string())),
    }
}

/// [`legacy::decode`], with the same panic guard as [`decode`].
fn decode_legacy(
    key: ApiKey,
    version: i16,
    frame: Bytes,
) -> Result<(RequestHeader, legacy::LegacyRequest), ConnError> {
    let malformed = |reason: String| ConnError::Malformed {
        key,
        version,
        reason,
    };
    match std::panic::catch_unwind(move || legacy::decode(key, version, frame)) {
        Ok(Ok(decoded)) => Ok(decoded),
        Ok(Err(reason)) => Err(malformed(reason)),
        Err(_) => Err(malformed("the decoder rejected it".to_string())),
    }
}
