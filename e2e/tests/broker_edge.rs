//! The broker's network edge under load (issue 7, part 4): connections past `max.connections` are
//! closed at once while the admitted ones are served, and a flood of maximum-size frames (forged
//! length prefixes, partly or fully sent, from many connections) keeps the broker's memory within
//! `queued.max.request.bytes` while it keeps answering.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

use e2e::raw::Conn;
use e2e::{wait_until, Cluster};
use kafka_protocol::messages::{ApiVersionsRequest, MetadataRequest, RequestKind, ResponseKind};

/// A deadline for what must happen: reaching it is a failure, not a measurement.
const DEADLINE: Duration = Duration::from_secs(60);

/// `socket.request.max.bytes` (Kafka's default, 100 MiB) and our default
/// `queued.max.request.bytes` (the same).
const MAX_FRAME: usize = 104_857_600;
const MIB: u64 = 1 << 20;

fn api_versions(conn: &mut Conn) {
    let ResponseKind::ApiVersions(r) =
        conn.call(0, RequestKind::ApiVersions(ApiVersionsRequest::default()))
    else {
        unreachable!("ApiVersions answers ApiVersions")
    };
    assert_eq!(r.error_code, 0);
    assert!(!r.api_keys.is_empty());
}

fn metadata(conn: &mut Conn) {
    let ResponseKind::Metadata(r) = conn.call(1, RequestKind::Metadata(MetadataRequest::default()))
    else {
        unreachable!("Metadata answers Metadata")
    };
    assert_eq!(r.brokers.len(), 1);
}

/// Whether the broker closed `stream` (EOF or reset); waits up to the deadline for it.
fn closed_by_broker(stream: &mut TcpStream) -> bool {
    stream.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => matches!(
            e.kind(),
            ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe
        ),
    }
}

/// Whether a new connection is answered an ApiVersions v0 (hand-framed, so that a refused
/// connection is an answer, not a panic).
fn answers_api_versions(bootstrap: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(bootstrap) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(DEADLINE));
    // size 10: api key 18, version 0, correlation id 1, client id "" (length 0).
    let frame = [0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, 0, 0];
    let mut size = [0u8; 4];
    stream.write_all(&frame).is_ok() && stream.read_exact(&mut size).is_ok()
}

/// A line of `/proc/<pid>/status` in KiB (`VmRSS`, `VmHWM`).
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

#[test]
fn two_thousand_idle_connections_are_refused_past_max_connections_while_the_broker_serves() {
    const LIMIT: usize = 100;
    const OPENED: usize = 2_000;
    let cluster = Cluster::start_with(&[("max.connections", "100")]);
    let bootstrap = cluster.bootstrap();

    // The first LIMIT connections are admitted: each is answered.
    let mut admitted: Vec<Conn> = (0..LIMIT)
        .map(|_| {
            let mut conn = Conn::open(&bootstrap);
            api_versions(&mut conn);
            conn
        })
        .collect();

    // Every further one is closed at once by the broker; they are all kept open on our side.
    let mut refused = Vec::with_capacity(OPENED - LIMIT);
    for i in LIMIT..OPENED {
        let mut stream = TcpStream::connect(&bootstrap).expect("the kernel accepts the SYN");
        assert!(
            closed_by_broker(&mut stream),
            "connection {i} past max.connections={LIMIT} was not closed"
        );
        refused.push(stream);
    }
    assert_eq!(refused.len() + admitted.len(), OPENED);

    // The broker still serves its admitted connections.
    for conn in admitted.iter_mut().step_by(10) {
        metadata(conn);
    }
    // A freed slot admits a new connection (once the broker has seen the close).
    admitted.truncate(LIMIT - 1);
    wait_until("a new connection is admitted", DEADLINE, || {
        answers_api_versions(&bootstrap).then_some(())
    });
    assert!(
        cluster
            .broker
            .process
            .log()
            .contains("Rejected connection from 127.0.0.1"),
        "the refusals are logged"
    );
}

#[test]
fn a_flood_of_maximum_size_frames_keeps_the_broker_rss_bounded_while_it_serves() {
    const PARTIAL: usize = 16; // connections sending 16 MiB of a 100 MiB frame, then stalling
    const FULL: usize = 2; // connections sending a whole forged 100 MiB frame
    const PARTIAL_BYTES: usize = 16 << 20;
    let cluster = Cluster::start();
    let bootstrap = cluster.bootstrap();
    let pid = cluster.broker.process.pid().expect("broker pid");
    let mut conn = Conn::open(&bootstrap);
    api_versions(&mut conn);
    let baseline_kib = status_kib(pid, "VmRSS");

    // A length above socket.request.max.bytes closes the connection, before any allocation.
    let mut oversize = TcpStream::connect(&bootstrap).expect("connect");
    oversize
        .write_all(&((MAX_FRAME + 1) as i32).to_be_bytes())
        .expect("write");
    assert!(closed_by_broker(&mut oversize), "oversize frame closes");

    // The flood: forged Produce frames of the maximum size. A writer gives up once the broker
    // stops reading its connection (backpressure: the write times out) and keeps the socket.
    let flooders: Vec<_> = (0..PARTIAL + FULL)
        .map(|i| {
            let bootstrap = bootstrap.clone();
            thread::spawn(move || {
                let mut stream = TcpStream::connect(&bootstrap).expect("connect");
                stream
                    .set_write_timeout(Some(Duration::from_secs(2)))
                    .expect("timeout");
                let send = if i < PARTIAL {
                    PARTIAL_BYTES
                } else {
                    MAX_FRAME
                };
                let mut frame = (MAX_FRAME as i32).to_be_bytes().to_vec();
                // Produce v9 header, then garbage: never a valid request.
                frame.extend_from_slice(&[0, 0, 0, 9, 0, 0, 0, 1]);
                let chunk = vec![0x5au8; 1 << 20];
                let _ = stream.write_all(&frame);
                let mut sent = 0;
                while sent < send {
                    let n = chunk.len().min(send - sent);
                    if stream.write_all(&chunk[..n]).is_err() {
                        break;
                    }
                    sent += n;
                }
                (stream, sent)
            })
        })
        .collect();
    let flood: Vec<(TcpStream, usize)> = flooders
        .into_iter()
        .map(|t| t.join().expect("flooder"))
        .collect();
    let sent: usize = flood.iter().map(|(_, n)| n).sum();

    // The broker keeps serving: on an open connection and on a new one.
    api_versions(&mut conn);
    metadata(&mut conn);
    let mut fresh = Conn::open(&bootstrap);
    api_versions(&mut fresh);
    metadata(&mut fresh);

    let hwm_kib = status_kib(pid, "VmHWM");
    let rss_kib = status_kib(pid, "VmRSS");
    // The bound: what the broker used before, plus the request budget (100 MiB), plus 64 MiB
    // for everything else (small frames, responses, allocator slack).
    let bound_kib = baseline_kib + (100 + 64) * MIB / 1024;
    eprintln!(
        "flood: {} MiB sent on {} connections; broker RSS before {} MiB, VmHWM {} MiB, \
         VmRSS {} MiB, bound {} MiB",
        sent as u64 / MIB,
        PARTIAL + FULL,
        baseline_kib / 1024,
        hwm_kib / 1024,
        rss_kib / 1024,
        bound_kib / 1024
    );
    assert!(
        hwm_kib < bound_kib,
        "broker peak RSS {hwm_kib} KiB exceeds the bound {bound_kib} KiB"
    );
    drop(flood);
}

#[test]
fn idle_connections_and_stalled_requests_are_closed_while_active_ones_are_served() {
    // connections.max.idle.ms=1000 also bounds how long a started request may take.
    let cluster = Cluster::start_with(&[("connections.max.idle.ms", "1000")]);
    let bootstrap = cluster.bootstrap();
    let mut idle = TcpStream::connect(&bootstrap).expect("connect");
    // Two bytes of a size prefix, then nothing.
    let mut in_prefix = TcpStream::connect(&bootstrap).expect("connect");
    in_prefix.write_all(&[0, 0]).expect("write");
    // A whole prefix announcing 1 MiB and a few bytes of it, then nothing.
    let mut in_body = TcpStream::connect(&bootstrap).expect("connect");
    in_body
        .write_all(&[0, 0x10, 0, 0, 0, 0, 0, 9])
        .expect("write");

    assert!(closed_by_broker(&mut idle), "idle connection closed");
    assert!(closed_by_broker(&mut in_prefix), "stalled prefix closed");
    assert!(closed_by_broker(&mut in_body), "stalled body closed");
    // A new connection is served as usual.
    let mut conn = Conn::open(&bootstrap);
    api_versions(&mut conn);
    metadata(&mut conn);
}
