//! The wire layer without I/O: request frames out, response frames in. Every length read from
//! the peer is checked before anything is allocated or handed to the codec (kafka-protocol
//! 0.18.0 panics on headers shorter than their fixed part).

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};

use crate::error::ClientError;

/// The largest response we accept. Fetch responses are bounded by `fetch.max.bytes` (50 MiB by
/// default) plus at least one whole batch; this leaves room while refusing absurd sizes.
pub const MAX_RESPONSE_SIZE: usize = 256 * 1024 * 1024;

/// Encodes one request as a complete frame: i32 size, header, body.
pub fn encode_request<R: Request>(
    request: &R,
    version: i16,
    correlation_id: i32,
    client_id: &str,
) -> Result<Bytes, ClientError> {
    let mut header = RequestHeader::default();
    header.request_api_key = R::KEY;
    header.request_api_version = version;
    header.correlation_id = correlation_id;
    header.client_id = Some(StrBytes::from_string(client_id.to_string()));
    let header_version = R::header_version(version);

    let mut buf = BytesMut::new();
    buf.put_i32(0); // size, patched below
    header
        .encode(&mut buf, header_version)
        .map_err(|e| ClientError::Protocol(format!("encoding request header: {e}")))?;
    request.encode(&mut buf, version).map_err(|e| {
        ClientError::Protocol(format!(
            "encoding {} v{version}: {e}",
            crate::versions::api_name(R::KEY)
        ))
    })?;
    let size = i32::try_from(buf.len() - 4)
        .map_err(|_| ClientError::Protocol("request larger than 2 GiB".to_string()))?;
    buf[..4].copy_from_slice(&size.to_be_bytes());
    Ok(buf.freeze())
}

/// Validates a frame's size prefix before the frame is read.
pub fn check_frame_size(size: i32, max: usize) -> Result<usize, ClientError> {
    if size < 4 {
        return Err(ClientError::Protocol(format!(
            "invalid response size {size} (a response holds at least a 4-byte correlation id)"
        )));
    }
    let size = size as usize;
    if size > max {
        return Err(ClientError::Protocol(format!(
            "response size {size} is larger than the maximum {max}"
        )));
    }
    Ok(size)
}

/// The correlation id at the start of every response frame (after the size prefix).
pub fn peek_correlation_id(frame: &[u8]) -> Option<i32> {
    let bytes: [u8; 4] = frame.get(..4)?.try_into().ok()?;
    Some(i32::from_be_bytes(bytes))
}

/// Strips the response header (v0: correlation id; v1: plus tagged fields) and returns the body.
pub fn strip_response_header(mut frame: Bytes, header_version: i16) -> Result<Bytes, ClientError> {
    if frame.len() < 4 {
        return Err(ClientError::Protocol(format!(
            "response of {} bytes has no correlation id",
            frame.len()
        )));
    }
    ResponseHeader::decode(&mut frame, header_version)
        .map_err(|e| ClientError::Protocol(format!("decoding response header: {e}")))?;
    Ok(frame)
}

/// Decodes a response body of the given version.
pub fn decode_response<R: Request>(
    mut body: Bytes,
    version: i16,
) -> Result<R::Response, ClientError> {
    <R::Response as Decodable>::decode(&mut body, version).map_err(|e| {
        ClientError::Protocol(format!(
            "decoding {} v{version} response: {e}",
            crate::versions::api_name(R::KEY)
        ))
    })
}

/// The response header version for a request's response.
pub fn response_header_version<R: Request>(version: i16) -> i16 {
    <R::Response as HeaderVersion>::header_version(version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::{ApiVersionsRequest, MetadataRequest};

    #[test]
    fn request_frame_has_size_prefix_and_v1_header() {
        let frame = encode_request(&MetadataRequest::default(), 1, 7, "cli").ok();
        let frame = frame.unwrap_or_default();
        let size = i32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
        assert_eq!(size as usize, frame.len() - 4);
        // api key 3, version 1, correlation 7, client id "cli" with an int16 length.
        assert_eq!(&frame[4..8], &[0, 3, 0, 1]);
        assert_eq!(&frame[8..12], &7i32.to_be_bytes());
        assert_eq!(&frame[12..17], &[0, 3, b'c', b'l', b'i']);
    }

    #[test]
    fn flexible_request_keeps_int16_client_id() {
        let frame = encode_request(&ApiVersionsRequest::default(), 3, 1, "ab").unwrap_or_default();
        assert_eq!(&frame[12..16], &[0, 2, b'a', b'b']);
        // v2 header ends with an empty tagged-field section.
        assert_eq!(frame[16], 0);
    }

    #[test]
    fn negative_and_oversize_frames_are_rejected() {
        assert!(check_frame_size(-1, 1024).is_err());
        assert!(check_frame_size(2, 1024).is_err());
        assert!(check_frame_size(2048, 1024).is_err());
        assert_eq!(check_frame_size(512, 1024).ok(), Some(512));
    }

    #[test]
    fn short_header_is_an_error_not_a_panic() {
        assert!(strip_response_header(Bytes::from_static(&[0, 1]), 0).is_err());
        assert!(strip_response_header(Bytes::from_static(&[0, 0, 0, 1]), 1).is_err());
        let body = strip_response_header(Bytes::from_static(&[0, 0, 0, 1, 9]), 0);
        assert_eq!(body.ok(), Some(Bytes::from_static(&[9])));
        assert_eq!(peek_correlation_id(&[0, 0, 1, 0, 5]), Some(256));
        assert_eq!(peek_correlation_id(&[0, 0]), None);
    }
}
