//! One client connection: its requests read into one buffer kept for the connection's life,
//! started one at a time in the order they came, and answered strictly in that order (Kafka's
//! semantics), by a writer running beside the reader.
//!
//! Requests are pipelined: once a request is *started* (a produce's batches written to the
//! logs, any other request handled), the reader goes on to the next while the answer waits for
//! what remains (a produce's fsync or its in-sync replicas). So the requests a producer sends
//! without waiting (librdkafka keeps up to `max.in.flight` of them outstanding) are appended
//! while the previous one's fsync runs, and share the next fsync round (group commit) instead of
//! taking one fsync each. The order of effects is the order of requests, as before: a request
//! never starts before the previous one has.
//!
//! The read buffer is reused: a frame is read into its spare capacity and handed out as a
//! frozen slice of it, which the decoded request (a produce's records included) shares without
//! a copy. Once a request's slices are dropped the space is reclaimed by the next read, so a
//! steady stream of requests allocates nothing and faults no fresh pages in.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

use super::limits::{self, RequestBudget};
use super::response::ResponseFrame;
use super::{frame, handle_frame, ConnError};
use crate::broker::Broker;

/// Requests read and not yet answered on one connection, at most: past that the connection
/// reads nothing more (the requests wait in the socket) until the oldest is answered.
pub const MAX_IN_FLIGHT: usize = 64;

/// The read buffer's first size; it grows to fit the largest request and is kept.
const INITIAL_READ_BUFFER: usize = 16 * 1024;

/// Room asked for on each read beyond what the frame needs, so that one `read` takes in the
/// next small requests too.
const READ_AHEAD: usize = 8 * 1024;

/// A read buffer grown past this (by a large request) is given back once the connection has
/// been quiet for [`SHRINK_AFTER`], so that idle connections do not each hold megabytes.
const KEEP_WHILE_IDLE: usize = 64 * 1024;
const SHRINK_AFTER: Duration = Duration::from_secs(1);

/// A request's answer: ready, or a future that finishes it (see [`handle_frame`]).
pub enum Answer {
    /// `None`: the request gets no response (produce with acks=0).
    Now(Option<ResponseFrame>),
    Later(Pin<Box<dyn Future<Output = Result<Option<ResponseFrame>, ConnError>> + Send>>),
}

/// Reads request frames into one reused buffer (see the module's description).
pub struct FrameReader {
    buf: BytesMut,
    /// The largest capacity the buffer was given since it was last released.
    grown: usize,
}

impl Default for FrameReader {
    fn default() -> Self {
        FrameReader {
            buf: BytesMut::with_capacity(INITIAL_READ_BUFFER),
            grown: INITIAL_READ_BUFFER,
        }
    }
}

impl FrameReader {
    /// Makes room for `additional` more bytes: the space of frames already handed out and
    /// dropped is reclaimed, a new buffer is allocated only while they are still in use.
    fn make_room(&mut self, additional: usize) {
        if self.buf.capacity() - self.buf.len() < additional {
            self.buf.reserve(additional.max(READ_AHEAD));
            self.grown = self.grown.max(self.buf.len() + self.buf.capacity());
        }
    }

    /// Whether the buffer holds nothing and has grown past [`KEEP_WHILE_IDLE`].
    fn holds_a_large_idle_buffer(&self) -> bool {
        self.buf.is_empty() && self.grown > KEEP_WHILE_IDLE
    }

    /// Starts over with a small buffer; frames still in use keep their part of the old one.
    fn release_buffer(&mut self) {
        self.buf = BytesMut::with_capacity(INITIAL_READ_BUFFER);
        self.grown = INITIAL_READ_BUFFER;
    }

    /// Waits for the start of the next request: `false` at the end of the stream.
    async fn wait_for_data<R: AsyncRead + Unpin>(&mut self, r: &mut R) -> std::io::Result<bool> {
        if !self.buf.is_empty() {
            return Ok(true);
        }
        self.make_room(1);
        Ok(r.read_buf(&mut self.buf).await? > 0)
    }

    /// Reads until `want` bytes are buffered; an end of stream before that is an error.
    async fn fill<R: AsyncRead + Unpin>(&mut self, r: &mut R, want: usize) -> std::io::Result<()> {
        if self.buf.len() >= want {
            return Ok(());
        }
        self.make_room(want - self.buf.len());
        while self.buf.len() < want {
            if r.read_buf(&mut self.buf).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(())
    }

    /// The size prefix of the frame at the front, once its 4 bytes are in.
    fn prefix(&self) -> [u8; 4] {
        let mut prefix = [0u8; 4];
        prefix.copy_from_slice(&self.buf[..4]);
        prefix
    }

    /// Hands out the body of the frame at the front (`len` bytes after its prefix).
    fn take(&mut self, len: usize) -> Bytes {
        self.buf.advance(4);
        self.buf.split_to(len).freeze()
    }

    /// Reads the next frame's body: `None` at a clean end of stream between requests. Between
    /// requests the wait is bounded by `idle` (which resolves when the connection has been idle
    /// too long); once a request has begun, each of its two parts by `deadline`. A frame's
    /// share of the request budget is reserved before its bytes are read.
    pub async fn next_frame<R: AsyncRead + Unpin>(
        &mut self,
        r: &mut R,
        idle: impl Future<Output = ConnError>,
        deadline: Duration,
        max: usize,
        budget: &RequestBudget,
    ) -> Result<Option<(Bytes, limits::Reservation)>, ConnError> {
        tokio::pin!(idle);
        loop {
            let large = self.holds_a_large_idle_buffer();
            tokio::select! {
                more = self.wait_for_data(r) => {
                    if !more? {
                        return Ok(None);
                    }
                    break;
                }
                e = &mut idle => return Err(e),
                _ = tokio::time::sleep(SHRINK_AFTER), if large => self.release_buffer(),
            }
        }
        // Once started, the rest of the request must keep coming.
        tokio::time::timeout(deadline, self.fill(r, 4))
            .await
            .map_err(|_| ConnError::ReadTimeout(deadline))??;
        let len = frame::body_len(self.prefix(), max)?;
        // Reserved before the buffer grows: while the budget is spent this connection reads
        // nothing more (its bytes wait in the socket), so memory stays bounded.
        let reservation = budget.reserve(len).await;
        tokio::time::timeout(deadline, self.fill(r, 4 + len))
            .await
            .map_err(|_| ConnError::ReadTimeout(deadline))??;
        Ok(Some((self.take(len), reservation)))
    }
}

/// One queued answer, in request order.
struct Queued {
    answer: Result<Answer, ConnError>,
    /// The request's clock for the latency histogram, stopped once the answer is written.
    timer: Option<crate::metrics::RequestTimer>,
}

/// Serves one connection until the peer closes it or a request closes it; see the module's
/// description.
pub async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    broker: Arc<Broker>,
    budget: &RequestBudget,
) -> Result<(), ConnError> {
    let (mut reader, mut writer) = stream.into_split();
    let (queue, mut answers) = mpsc::channel::<Queued>(MAX_IN_FLIGHT);
    // Requests read and not yet answered: the idle timer only runs while there are none.
    let (in_flight, in_flight_rx) = watch::channel(0usize);
    let max = broker.config.socket_request_max_bytes;
    let idle = broker.config.connections_max_idle;
    let deadline = limits::REQUEST_READ_TIMEOUT.min(idle);

    let read_side = async {
        // Owned by the reader: when it stops, the queue closes and the writer ends after the
        // answers already queued.
        let queue = queue;
        let mut frames = FrameReader::default();
        loop {
            let mut waiting = in_flight_rx.clone();
            let idle_timer = async move {
                let _ = waiting.wait_for(|n| *n == 0).await;
                tokio::time::sleep(idle).await;
                ConnError::Idle(idle)
            };
            let Some((body, reservation)) = frames
                .next_frame(&mut reader, idle_timer, deadline, max, budget)
                .await?
            else {
                return Ok(());
            };
            let arrived = std::time::Instant::now();
            let prefix = frame::header_prefix(&body);
            let answer = handle_frame(&broker, peer, body).await;
            let timer = match (&answer, prefix) {
                (Ok(_), Some(p)) => {
                    broker
                        .metrics
                        .request_started(p.api_key, p.api_version, arrived)
                }
                _ => None,
            };
            // The request's buffer share is held while it is read and started; what is left of
            // it (a produce's answer) keeps only small values of its own.
            drop(reservation);
            let failed = answer.is_err();
            in_flight.send_modify(|n| *n += 1);
            if queue.send(Queued { answer, timer }).await.is_err() {
                // The writer stopped on a write error; it reports it.
                return Ok(());
            }
            if failed {
                // Nothing after a request that closes the connection is read; the answers
                // before it are still written.
                return Ok(());
            }
        }
    };
    let write_side = async {
        while let Some(Queued { answer, timer }) = answers.recv().await {
            let response = match answer? {
                Answer::Now(response) => response,
                Answer::Later(finish) => finish.await?,
            };
            if let Some(response) = response {
                write_frame(&mut writer, response).await?;
            }
            if let Some(timer) = timer {
                timer.finish();
            }
            in_flight.send_modify(|n| *n -= 1);
        }
        Ok::<(), ConnError>(())
    };
    tokio::pin!(read_side);
    tokio::pin!(write_side);
    tokio::select! {
        read = &mut read_side => {
            // The queue's sender is gone with the reader: the writer ends after the last answer.
            let written = write_side.await;
            written?;
            read
        }
        written = &mut write_side => {
            // The writer stops first only on a write error (or a request that closes the
            // connection): drop the reader.
            written
        }
    }
}

/// Writes one response frame with vectored writes (a fetch's records go from the buffer they
/// were read into straight to the socket).
async fn write_frame<W: AsyncWrite + Unpin>(
    w: &mut W,
    frame: ResponseFrame,
) -> std::io::Result<()> {
    let mut chunks = frame.into_chunks();
    if let [one] = chunks.as_slice() {
        return w.write_all(one).await;
    }
    let mut first = 0;
    while first < chunks.len() {
        let slices: Vec<std::io::IoSlice<'_>> = chunks[first..]
            .iter()
            .take(64)
            .map(|c| std::io::IoSlice::new(c))
            .collect();
        let mut written = w.write_vectored(&slices).await?;
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        while written > 0 {
            let chunk = &mut chunks[first];
            let n = written.min(chunk.len());
            chunk.advance(n);
            written -= n;
            if chunk.is_empty() {
                first += 1;
            }
        }
        while first < chunks.len() && chunks[first].is_empty() {
            first += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut out = (body.len() as i32).to_be_bytes().to_vec();
        out.extend_from_slice(body);
        out
    }

    /// Frames arriving together are read with one buffer: each is a slice of it, back to back,
    /// and once they are dropped the next frames go into the same memory again (no buffer is
    /// allocated, let alone zero-filled, per request).
    #[tokio::test]
    async fn frames_are_slices_of_one_reused_buffer() {
        let (mut client, mut server) = tokio::io::duplex(1 << 20);
        let budget = RequestBudget::new(None);
        let mut reader = FrameReader::default();
        let never = std::future::pending::<ConnError>;
        let bodies: Vec<Vec<u8>> = (0..4u8).map(|i| vec![i; 100 + usize::from(i)]).collect();
        for b in &bodies {
            client.write_all(&frame(b)).await.expect("write");
        }
        let mut read = Vec::new();
        for b in &bodies {
            let (body, _r) = reader
                .next_frame(
                    &mut server,
                    never(),
                    Duration::from_secs(5),
                    1 << 20,
                    &budget,
                )
                .await
                .expect("read")
                .expect("a frame");
            assert_eq!(body[..], b[..]);
            read.push(body);
        }
        // The second frame sits right after the first (and its 4-byte prefix).
        let base = read[0].as_ptr() as usize - 4;
        assert_eq!(read[1].as_ptr() as usize, base + 4 + 100 + 4);
        drop(read);
        // Many times the buffer's size in frames, each dropped once handled: all of them land
        // in the buffer the connection started with.
        for round in 0..20u8 {
            let body = vec![round; 6_000];
            client.write_all(&frame(&body)).await.expect("write");
            let (got, _r) = reader
                .next_frame(
                    &mut server,
                    never(),
                    Duration::from_secs(5),
                    1 << 20,
                    &budget,
                )
                .await
                .expect("read")
                .expect("a frame");
            assert_eq!(got[..], body[..]);
            let at = got.as_ptr() as usize;
            assert!(
                (base..base + INITIAL_READ_BUFFER).contains(&at),
                "round {round}: frame at {at:#x}, buffer at {base:#x}"
            );
        }
        drop(client);
        assert!(reader
            .next_frame(
                &mut server,
                never(),
                Duration::from_secs(5),
                1 << 20,
                &budget
            )
            .await
            .expect("clean end")
            .is_none());
    }

    /// A buffer grown by a large request is one to give back once the connection is quiet;
    /// the initial one is kept.
    #[tokio::test]
    async fn a_grown_buffer_is_released_and_a_small_one_kept() {
        let (mut client, mut server) = tokio::io::duplex(1 << 20);
        let budget = RequestBudget::new(None);
        let mut reader = FrameReader::default();
        let never = std::future::pending::<ConnError>;
        assert!(!reader.holds_a_large_idle_buffer());
        client
            .write_all(&frame(&vec![7u8; 500_000]))
            .await
            .expect("write");
        let (body, _r) = reader
            .next_frame(
                &mut server,
                never(),
                Duration::from_secs(5),
                1 << 20,
                &budget,
            )
            .await
            .expect("read")
            .expect("a frame");
        assert_eq!(body.len(), 500_000);
        assert!(reader.holds_a_large_idle_buffer());
        reader.release_buffer();
        assert!(!reader.holds_a_large_idle_buffer());
        // The frame handed out is still whole.
        assert!(body.iter().all(|b| *b == 7));
        client
            .write_all(&frame(b"a later request"))
            .await
            .expect("write");
        let (body, _r) = reader
            .next_frame(
                &mut server,
                never(),
                Duration::from_secs(5),
                1 << 20,
                &budget,
            )
            .await
            .expect("read")
            .expect("a frame");
        assert_eq!(&body[..], b"a later request");
    }

    #[tokio::test]
    async fn chunked_frames_are_written_whole() {
        let (mut client, mut server) = tokio::io::duplex(64);
        let chunks: Vec<Bytes> = (0..5u8)
            .map(|i| Bytes::from(vec![i; 10 + 20 * usize::from(i)]))
            .collect();
        let expected: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
        let frame = ResponseFrame::from_chunks(chunks);
        let writing = tokio::spawn(async move {
            write_frame(&mut server, frame).await.expect("write");
        });
        let mut got = vec![0u8; expected.len()];
        client.read_exact(&mut got).await.expect("read");
        writing.await.expect("writer");
        assert_eq!(got, expected);
    }
}
