//! Request checks against cross-site request forgery and DNS rebinding, applied to every route
//! as an axum middleware (see `web::router`):
//! - a request that can change something (any method but GET and HEAD) carrying an `Origin`
//!   header (else a `Referer`) must come from the console's own origin: its `host:port` must be
//!   the request's `Host`. Requests with neither (curl, scripts) are let through, as they cannot
//!   come from another site's page in a browser.
//! - when the console listens on a loopback address, the `Host` must name loopback
//!   (`127.0.0.1`, `localhost`, `[::1]`) with the console's port, so that a page of another site
//!   whose name was rebound to 127.0.0.1 cannot read the console (421 Misdirected Request).

use axum::http::{header, HeaderMap, Method, StatusCode};

use crate::error::ConsoleError;

/// What the checks need to know about where the console listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guard {
    /// `Some(port)` when the console listens on a loopback address only.
    pub loopback_port: Option<u16>,
}

/// `host[:port]` with the default HTTP port 80 dropped and the host in lower case.
fn normalize_authority(authority: &str) -> String {
    let a = authority.trim().to_ascii_lowercase();
    match a.strip_suffix(":80") {
        Some(rest) => rest.to_string(),
        None => a,
    }
}

/// The `host[:port]` of an `Origin` (`http://h:p`) or `Referer` (`http://h:p/path?q`) value;
/// `None` for `null`, other schemes or no authority.
fn origin_authority(value: &str) -> Option<String> {
    let rest = value.trim().strip_prefix("http://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    // Drop any user info.
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    (!authority.is_empty()).then(|| normalize_authority(authority))
}

/// Whether `host` (a Host header) names loopback with `port`.
fn is_loopback_host(host: &str, port: u16) -> bool {
    let host = host.trim().to_ascii_lowercase();
    ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|name| host == format!("{name}:{port}") || (port == 80 && host == *name))
}

/// Checks one request's method and headers; `Err` is the answer to give instead (403 for a
/// cross-origin change, 421 for a Host that is not the console's).
pub fn check(method: &Method, headers: &HeaderMap, guard: Guard) -> Result<(), ConsoleError> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if let Some(port) = guard.loopback_port {
        if !is_loopback_host(host, port) {
            return Err(ConsoleError::new(
                StatusCode::MISDIRECTED_REQUEST,
                format!(
                    "The console serves this machine only: the Host header must be 127.0.0.1:{port}, localhost:{port} or [::1]:{port}, not '{host}'."
                ),
            ));
        }
    }
    if method == Method::GET || method == Method::HEAD {
        return Ok(());
    }
    let (name, value) = match (headers.get(header::ORIGIN), headers.get(header::REFERER)) {
        (Some(o), _) => ("Origin", o),
        (None, Some(r)) => ("Referer", r),
        (None, None) => return Ok(()),
    };
    let value = value.to_str().unwrap_or("");
    match origin_authority(value) {
        Some(a) if !host.is_empty() && a == normalize_authority(host) => Ok(()),
        _ => Err(ConsoleError::new(
            StatusCode::FORBIDDEN,
            format!(
                "Cross-origin request refused: the {name} '{value}' is not this console (http://{host}). Use the console's own pages to change anything."
            ),
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    const LOOPBACK: Guard = Guard {
        loopback_port: Some(8080),
    };
    const ANY: Guard = Guard {
        loopback_port: None,
    };

    #[test]
    fn posts_from_another_origin_are_refused() {
        let h = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://evil.example"),
        ]);
        let e = check(&Method::POST, &h, LOOPBACK).unwrap_err();
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        assert!(e.message.contains("Cross-origin"), "{}", e.message);
        let h = headers(&[
            ("host", "127.0.0.1:8080"),
            ("referer", "http://127.0.0.1:9999/topics"),
        ]);
        assert!(check(&Method::DELETE, &h, LOOPBACK).is_err());
        let h = headers(&[("host", "127.0.0.1:8080"), ("origin", "null")]);
        assert!(check(&Method::POST, &h, LOOPBACK).is_err());
        // GETs are not checked against the origin.
        let h = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://evil.example"),
        ]);
        assert!(check(&Method::GET, &h, LOOPBACK).is_ok());
    }

    #[test]
    fn posts_from_the_console_itself_or_without_origin_pass() {
        let h = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
        ]);
        assert!(check(&Method::POST, &h, LOOPBACK).is_ok());
        let h = headers(&[
            ("host", "localhost:8080"),
            ("referer", "http://localhost:8080/topics/t?x=1"),
        ]);
        assert!(check(&Method::POST, &h, LOOPBACK).is_ok());
        let h = headers(&[("host", "127.0.0.1:8080")]);
        assert!(check(&Method::POST, &h, LOOPBACK).is_ok());
        let h = headers(&[
            ("host", "kafka.example:80"),
            ("origin", "http://KAFKA.example"),
        ]);
        assert!(check(&Method::POST, &h, ANY).is_ok());
    }

    #[test]
    fn a_loopback_console_serves_loopback_host_names_only() {
        for host in ["127.0.0.1:8080", "localhost:8080", "[::1]:8080"] {
            assert!(check(&Method::GET, &headers(&[("host", host)]), LOOPBACK).is_ok());
        }
        for host in ["evil.example:8080", "127.0.0.1:9090", "127.0.0.1"] {
            let e = check(&Method::GET, &headers(&[("host", host)]), LOOPBACK).unwrap_err();
            assert_eq!(e.status, StatusCode::MISDIRECTED_REQUEST, "{host}");
        }
        assert!(check(&Method::GET, &HeaderMap::new(), LOOPBACK).is_err());
        // Bound to every interface: any Host name is served.
        assert!(check(&Method::GET, &headers(&[("host", "kafka.example")]), ANY).is_ok());
    }
}
