//! A bare HTTP/1.1 client over one `std::net::TcpStream`, for the tests of the listeners built on
//! this crate (the broker's and zookeeper-lite's `/metrics`): they hold connections open, send
//! half a request, and watch the server close them, which a full HTTP client hides.

use std::io::{self, Read, Write};
use std::net::TcpStream;

/// Sends `GET path` with a `Host: localhost` header, keeping the connection open.
pub fn send_get(stream: &mut TcpStream, path: &str) -> io::Result<()> {
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n")
}

/// Reads one response: its status and body (Content-Length framed, as axum sends these). A
/// head that is not HTTP is `InvalidData`; a read timeout set on the stream comes back as its
/// `WouldBlock` / `TimedOut` error (see [`timed_out`]).
pub fn read_response(stream: &mut TcpStream) -> io::Result<(u16, String)> {
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).map_err(|_| invalid("a head that is not UTF-8"))?;
    let status: u16 = head
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid("no status code"))?;
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body)?;
    let body = String::from_utf8(body).map_err(|_| invalid("a body that is not UTF-8"))?;
    Ok((status, body))
}

/// Whether a read ended on the stream's read timeout (nothing came).
pub fn timed_out<T>(r: &io::Result<T>) -> bool {
    matches!(r, Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut))
}

/// Reads until the server closes the connection (end of file or reset): true, or until the
/// stream's read timeout passes with the connection still open: false.
pub fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        let read = stream.read(&mut buf);
        match read {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(_) if timed_out(&read) => return false,
            Err(_) => return true,
        }
    }
}
