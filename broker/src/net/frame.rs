//! Request framing, done before any decoding: the size prefix is checked against the configured
//! maximum before a buffer is allocated, and the api key, version and correlation id are read by
//! hand so that nothing a peer sends reaches the protocol crate unchecked.

use thiserror::Error;

/// api_key (2) + api_version (2) + correlation_id (4): the smallest request header of any version.
pub const MIN_REQUEST_SIZE: usize = 8;

#[derive(Debug, Error, PartialEq)]
pub enum FrameError {
    #[error("request size {size} is smaller than the minimum of {MIN_REQUEST_SIZE} bytes")]
    TooSmall { size: i32 },
    #[error("request size {size} is larger than socket.request.max.bytes ({max})")]
    TooLarge { size: i32, max: usize },
}

/// Validates the 4-byte size prefix of a request and returns the body length to read.
pub fn body_len(prefix: [u8; 4], max: usize) -> Result<usize, FrameError> {
    let size = i32::from_be_bytes(prefix);
    if size < MIN_REQUEST_SIZE as i32 {
        return Err(FrameError::TooSmall { size });
    }
    let len = size as usize;
    if len > max {
        return Err(FrameError::TooLarge { size, max });
    }
    Ok(len)
}

/// The fixed first fields of every request header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderPrefix {
    pub api_key: i16,
    pub api_version: i16,
    pub correlation_id: i32,
}

/// Reads the fixed header fields; `frame` is the body after the size prefix.
pub fn header_prefix(frame: &[u8]) -> Option<HeaderPrefix> {
    let b = frame.get(..MIN_REQUEST_SIZE)?;
    Some(HeaderPrefix {
        api_key: i16::from_be_bytes([b[0], b[1]]),
        api_version: i16::from_be_bytes([b[2], b[3]]),
        correlation_id: i32::from_be_bytes([b[4], b[5], b[6], b[7]]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_below_minimum_or_negative_are_rejected() {
        assert_eq!(
            body_len(0i32.to_be_bytes(), 100),
            Err(FrameError::TooSmall { size: 0 })
        );
        assert_eq!(
            body_len((-5i32).to_be_bytes(), 100),
            Err(FrameError::TooSmall { size: -5 })
        );
    }

    #[test]
    fn oversize_frame_is_rejected_before_allocation() {
        assert_eq!(
            body_len(i32::MAX.to_be_bytes(), 1024),
            Err(FrameError::TooLarge {
                size: i32::MAX,
                max: 1024
            })
        );
        assert_eq!(body_len(1024i32.to_be_bytes(), 1024), Ok(1024));
    }

    #[test]
    fn header_prefix_needs_eight_bytes() {
        assert_eq!(header_prefix(&[0, 18, 0, 3, 0, 0]), None);
        let p = header_prefix(&[0, 18, 0, 3, 0, 0, 0, 7, 0xff]).unwrap();
        assert_eq!((p.api_key, p.api_version, p.correlation_id), (18, 3, 7));
    }
}
