//! A tiny in-process fake broker on 127.0.0.1 for unit tests of the connection layer: it answers
//! ApiVersions (with KIP-511 behaviour) and Metadata, and can misbehave on request.

use std::sync::{Arc, Mutex};

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    api_versions_response::ApiVersion, ApiKey, ApiVersionsResponse, MetadataResponse,
    RequestHeader, ResponseHeader,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Debug)]
pub struct FakeBrokerOptions {
    /// Highest ApiVersions version accepted; newer ones get error 35 in v0 format.
    pub api_versions_max: i16,
    /// Answer the second of two Metadata requests before the first.
    pub reverse_order: bool,
    /// Close the socket when a Metadata request arrives.
    pub close_on_metadata: bool,
    /// Answer Metadata with a size prefix far above any limit.
    pub oversize_metadata: bool,
}

impl Default for FakeBrokerOptions {
    fn default() -> Self {
        FakeBrokerOptions {
            api_versions_max: 3,
            reverse_order: false,
            close_on_metadata: false,
            oversize_metadata: false,
        }
    }
}

pub struct FakeBroker {
    addr: String,
    seen: Arc<Mutex<Vec<i16>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeBroker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeBroker {
    pub async fn start(options: FakeBrokerOptions) -> FakeBroker {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr").to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, options.clone(), seen2.clone()));
            }
        });
        FakeBroker { addr, seen, task }
    }

    pub fn addr(&self) -> String {
        self.addr.clone()
    }

    /// The ApiVersions request versions received, in order.
    pub fn api_versions_versions_seen(&self) -> Vec<i16> {
        self.seen.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

fn advertised(api_versions_max: i16) -> Vec<ApiVersion> {
    [
        (ApiKey::ApiVersions, 0, api_versions_max),
        (ApiKey::Metadata, 0, 12),
        (ApiKey::Produce, 0, 11),
        (ApiKey::Fetch, 0, 12),
        (ApiKey::ListOffsets, 0, 9),
        (ApiKey::CreateTopics, 0, 7),
        (ApiKey::DeleteTopics, 0, 6),
        (ApiKey::DescribeConfigs, 0, 4),
        (ApiKey::CreatePartitions, 0, 3),
    ]
    .into_iter()
    .map(|(k, min, max)| {
        ApiVersion::default()
            .with_api_key(k as i16)
            .with_min_version(min)
            .with_max_version(max)
    })
    .collect()
}

async fn serve(mut socket: TcpStream, options: FakeBrokerOptions, seen: Arc<Mutex<Vec<i16>>>) {
    let mut held: Option<Bytes> = None;
    loop {
        let mut size = [0u8; 4];
        if socket.read_exact(&mut size).await.is_err() {
            return;
        }
        let size = i32::from_be_bytes(size);
        if !(8..=1 << 20).contains(&size) {
            return;
        }
        let mut buf = vec![0u8; size as usize];
        if socket.read_exact(&mut buf).await.is_err() {
            return;
        }
        let mut buf = Bytes::from(buf);
        let key = i16::from_be_bytes([buf[0], buf[1]]);
        let version = i16::from_be_bytes([buf[2], buf[3]]);
        let Ok(api) = ApiKey::try_from(key) else {
            return;
        };
        let Ok(header) = RequestHeader::decode(&mut buf, api.request_header_version(version))
        else {
            return;
        };
        let corr = header.correlation_id;
        let response = match api {
            ApiKey::ApiVersions => {
                if let Ok(mut s) = seen.lock() {
                    s.push(version);
                }
                let (body_version, error) = if version > options.api_versions_max {
                    (0, 35)
                } else {
                    (version, 0)
                };
                let body = ApiVersionsResponse::default()
                    .with_error_code(error)
                    .with_api_keys(advertised(options.api_versions_max));
                encode(corr, 0, &body, body_version)
            }
            ApiKey::Metadata => {
                if options.close_on_metadata {
                    return;
                }
                if options.oversize_metadata {
                    let _ = socket.write_all(&i32::MAX.to_be_bytes()).await;
                    continue;
                }
                let body = MetadataResponse::default();
                encode(
                    corr,
                    MetadataResponse::header_version(version),
                    &body,
                    version,
                )
            }
            _ => return,
        };
        if options.reverse_order && api == ApiKey::Metadata {
            match held.take() {
                None => {
                    held = Some(response);
                    continue;
                }
                Some(first) => {
                    let _ = socket.write_all(&response).await;
                    let _ = socket.write_all(&first).await;
                    continue;
                }
            }
        }
        if socket.write_all(&response).await.is_err() {
            return;
        }
    }
}

fn encode<M: Encodable>(corr: i32, header_version: i16, body: &M, version: i16) -> Bytes {
    let mut buf = BytesMut::new();
    buf.put_i32(0);
    ResponseHeader::default()
        .with_correlation_id(corr)
        .encode(&mut buf, header_version)
        .expect("encode header");
    body.encode(&mut buf, version).expect("encode body");
    let len = (buf.len() - 4) as i32;
    buf[..4].copy_from_slice(&len.to_be_bytes());
    buf.freeze()
}
