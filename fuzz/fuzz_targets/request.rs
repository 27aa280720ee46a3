//! Request framing and decoding as the broker does it on every connection: the 4-byte length
//! prefix (`net::frame::body_len` against `socket.request.max.bytes`), then
//! `net::decode_request` (header prefix, API key and version, the shape check of every length,
//! the legacy or the protocol crate's decoder). Any panic that escapes, or an allocation beyond
//! libFuzzer's limit, is a finding.
#![no_main]

use broker::net::{decode_request, frame};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

/// Kafka's default `socket.request.max.bytes` (100 MiB).
const MAX_REQUEST_BYTES: usize = 104_857_600;

fuzz_target!(|data: &[u8]| {
    // The input is a stream of frames, as a connection would carry them.
    let mut rest = data;
    while rest.len() >= 4 {
        let prefix = [rest[0], rest[1], rest[2], rest[3]];
        let Ok(len) = frame::body_len(prefix, MAX_REQUEST_BYTES) else {
            return; // the broker closes the connection
        };
        let Some(body) = rest.get(4..4 + len) else {
            // A partial frame: the broker would wait for the rest. Decode what is there as if
            // it were the whole body, so short bodies are fuzzed too.
            let _ = decode_request(Bytes::copy_from_slice(&rest[4..]));
            return;
        };
        let _ = decode_request(Bytes::copy_from_slice(body));
        rest = &rest[4 + len..];
    }
});
