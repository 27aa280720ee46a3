//! Reads of whole stored batches, split in two so that the partition's lock is held only to
//! resolve *where* to read (`PartitionLog::read_plan`), while the positional reads themselves
//! (`ReadPlan::execute`) run after the lock is released.
//!
//! A read costs a bounded number of `pread`s, whatever the size of the batches: the offset
//! index only says where to *start looking* (an entry every `index.interval.bytes`), so instead
//! of reading one batch header after the other from there, the plan reads that stretch and the
//! bytes wanted in one go and finds the batch in memory. A tailing consumer's fetch is one
//! `pread` per partition; a batch larger than what the first read brought costs a second. The
//! records returned are a slice of the buffer read: no further copy on the way to the socket.
//! Large reads go into buffers taken from a pool and given back when the response is written.
//!
//! Bytes below a segment's committed size never change while a plan exists (appends only write
//! past it), so the plan stays valid outside the lock; a segment deleted meanwhile is still
//! readable through the open file handle.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use bytes::Bytes;

use super::batch::{BatchHeader, BATCH_HEADER_LEN, LOG_OVERHEAD};
use super::LogError;

/// No single read returns more than this beyond its first batch, whatever the client asked for
/// (Kafka's broker-side `fetch.max.bytes` default is 55 MiB): it bounds the buffer a fetch
/// allocates.
pub const MAX_READ_BYTES: usize = 64 << 20;

/// The most a read takes in ahead of the bytes wanted to find its first batch (see
/// [`ReadPlan::new`]'s `slack`): a larger `index.interval.bytes` costs more reads, not more memory.
const MAX_SLACK: u64 = 1 << 20;

/// Whole batches read from the log, as stored (offsets patched, CRCs intact).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadSlice {
    pub records: Bytes,
    /// Positional reads (`pread`) it took.
    pub reads: usize,
}

/// Where a read will find its bytes: a segment file, where to start looking, where the segment's
/// committed data ends and which offsets to return.
#[derive(Clone, Debug)]
pub struct ReadPlan {
    inner: Option<Planned>,
}

#[derive(Clone, Debug)]
struct Planned {
    file: Arc<File>,
    /// A batch boundary at or before the batch containing `offset` (from the offset index).
    start: u64,
    /// Committed size of the segment when planned.
    end: u64,
    offset: i64,
    /// Batches starting at or after this offset are not returned (the high watermark).
    max_offset: i64,
    max_bytes: usize,
    /// How far past `start` the batch holding `offset` may begin (the index interval).
    slack: u64,
}

/// `len` bytes of `file` from `pos`, in one `pread`. A large read goes into a pooled buffer
/// (see [`pool`]): no fresh memory to zero-fill and fault in per fetch.
fn read_at(file: &File, pos: u64, len: u64) -> Result<Bytes, LogError> {
    let len = usize::try_from(len)
        .map_err(|_| LogError::CorruptMessage("read larger than memory".into()))?;
    if !pool::takes(len) {
        let mut buf = vec![0u8; len];
        file.read_exact_at(&mut buf, pos)?;
        return Ok(Bytes::from(buf));
    }
    let mut buf = pool::READS.take(len);
    file.read_exact_at(&mut buf.as_mut()[..len], pos)?;
    Ok(buf.into_bytes(len))
}

/// Read buffers kept for reuse: a fetch's records go to the socket as slices of the buffer they
/// were read into, and the buffer comes back here once the last slice is dropped (the response
/// written). Only buffers between [`pool::MIN`] and [`pool::MAX`] bytes are pooled, at most
/// [`pool::MAX_BYTES`] of them in all.
pub(crate) mod pool {
    use std::sync::Mutex;

    use bytes::Bytes;

    /// Reads smaller than this just allocate: zeroing them costs little.
    pub const MIN: usize = 64 << 10;
    /// Reads larger than this are rare (one batch above the fetch size): not kept.
    pub const MAX: usize = 8 << 20;
    /// Memory the pool keeps at most.
    pub const MAX_BYTES: usize = 64 << 20;
    /// Sizes are rounded up to a multiple of this, so buffers fit the next reads too.
    const GRAIN: usize = 64 << 10;

    /// Free buffers, each fully initialized.
    pub struct Pool {
        free: Mutex<Vec<Vec<u8>>>,
    }

    /// The pool of segment reads.
    pub static READS: Pool = Pool::new();

    /// Whether a read of `len` bytes is served from a pool.
    pub fn takes(len: usize) -> bool {
        (MIN..=MAX).contains(&len)
    }

    impl Pool {
        pub const fn new() -> Self {
            Pool {
                free: Mutex::new(Vec::new()),
            }
        }

        /// A buffer of at least `len` initialized bytes: a free one that is large enough, else
        /// a new one.
        pub fn take(&'static self, len: usize) -> Pooled {
            let reused = {
                let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
                free.iter()
                    .position(|b| b.len() >= len)
                    .map(|i| free.swap_remove(i))
            };
            let buf = reused.unwrap_or_else(|| vec![0u8; len.div_ceil(GRAIN) * GRAIN]);
            Pooled {
                buf,
                len,
                pool: self,
            }
        }

        fn give_back(&self, buf: Vec<u8>) {
            if !takes(buf.len()) {
                return;
            }
            let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
            let kept: usize = free.iter().map(Vec::len).sum();
            if kept + buf.len() <= MAX_BYTES {
                free.push(buf);
            }
        }
    }

    /// A pooled buffer; `len` bytes of it are the data.
    pub struct Pooled {
        buf: Vec<u8>,
        len: usize,
        pool: &'static Pool,
    }

    impl Pooled {
        /// The data as `Bytes` sharing the buffer, which returns to the pool when the last
        /// slice of it is dropped.
        pub fn into_bytes(mut self, len: usize) -> Bytes {
            self.len = len.min(self.buf.len());
            Bytes::from_owner(self)
        }
    }

    impl AsRef<[u8]> for Pooled {
        fn as_ref(&self) -> &[u8] {
            &self.buf[..self.len]
        }
    }

    impl AsMut<[u8]> for Pooled {
        fn as_mut(&mut self) -> &mut [u8] {
            &mut self.buf
        }
    }

    impl Drop for Pooled {
        fn drop(&mut self) {
            self.pool.give_back(std::mem::take(&mut self.buf));
        }
    }
}

impl ReadPlan {
    /// A read with nothing to return (at the log end or the high watermark).
    pub fn empty() -> Self {
        ReadPlan { inner: None }
    }

    /// `slack`: how far past `start` the batch containing `offset` usually begins, i.e. the
    /// segment's `index.interval.bytes` (the offset index has an entry at least that often; the
    /// entry names a batch's last offset, so one more batch may lie between). A read takes that
    /// much in ahead of the bytes wanted, instead of a `pread` per batch header skipped; a
    /// skipped batch bigger than that costs one more `pread`.
    pub(crate) fn new(
        file: Arc<File>,
        start: u64,
        end: u64,
        offset: i64,
        max_offset: i64,
        max_bytes: usize,
        slack: u64,
    ) -> Self {
        ReadPlan {
            inner: Some(Planned {
                file,
                start,
                end,
                offset,
                max_offset,
                max_bytes,
                slack: slack.min(MAX_SLACK),
            }),
        }
    }

    /// Reads whole batches starting with the one containing the planned offset: at least that
    /// batch (even above `max_bytes`), then as many whole batches as fit in `max_bytes`.
    pub fn execute(&self) -> Result<ReadSlice, LogError> {
        let Some(p) = &self.inner else {
            return Ok(ReadSlice::default());
        };
        let budget = (p.max_bytes.min(MAX_READ_BYTES) as u64).max(BATCH_HEADER_LEN as u64);
        let mut reads = 0;
        // `window` holds the file's bytes from `window_at`; `at` is a batch boundary in it.
        let mut window_at = p.start;
        let mut window = Bytes::new();
        let mut at = 0usize;
        let (first_size, found_at) = loop {
            let pos = window_at + at as u64;
            if p.end.saturating_sub(pos) < BATCH_HEADER_LEN as u64 {
                return Ok(ReadSlice {
                    records: Bytes::new(),
                    reads,
                });
            }
            // `at` may lie past the window when a skipped batch was bigger than it.
            if window.len().saturating_sub(at) < BATCH_HEADER_LEN {
                // The batches to skip and the bytes wanted, in one read.
                window = read_at(&p.file, pos, (p.slack + budget).min(p.end - pos))?;
                reads += 1;
                window_at = pos;
                at = 0;
            }
            let h = BatchHeader::new(&window[at..])?;
            let size = h
                .total_size()
                .map(|s| s as u64)
                .filter(|s| pos + s <= p.end);
            let Some(size) = size else {
                return Err(LogError::CorruptMessage(format!(
                    "stored batch at position {pos} has a bad length {}",
                    h.batch_length()
                )));
            };
            if h.base_offset() >= p.max_offset {
                return Ok(ReadSlice {
                    records: Bytes::new(),
                    reads,
                });
            }
            if h.last_offset() >= p.offset {
                break (size, pos);
            }
            at += size as usize;
        };
        let want = budget.max(first_size).min(p.end - found_at);
        if ((window.len() - at) as u64) < first_size {
            // The first batch runs past what was read: read it (and what fits after it) whole.
            window = read_at(&p.file, found_at, want)?;
            reads += 1;
            at = 0;
        }
        let upto = window.len().min(at + want as usize);
        let keep = whole_batches_below(&window[at..upto], p.max_offset);
        Ok(ReadSlice {
            records: window.slice(at..at + keep),
            reads,
        })
    }
}

/// Length of the prefix of `buf` made of whole batches starting below `max_offset`.
fn whole_batches_below(buf: &[u8], max_offset: i64) -> usize {
    let mut keep = 0usize;
    while buf.len() - keep >= LOG_OVERHEAD {
        let mut base = [0u8; 8];
        let mut len = [0u8; 4];
        base.copy_from_slice(&buf[keep..keep + 8]);
        len.copy_from_slice(&buf[keep + 8..keep + 12]);
        let Ok(len) = usize::try_from(i32::from_be_bytes(len)) else {
            break;
        };
        let size = LOG_OVERHEAD + len;
        if size > buf.len() - keep || i64::from_be_bytes(base) >= max_offset {
            break;
        }
        keep += size;
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pooled buffer goes back to its pool once every slice of it is dropped, and the next
    /// read of a similar size reuses it (no fresh allocation to zero-fill).
    #[test]
    fn pooled_buffers_come_back_once_their_last_slice_is_dropped() {
        let pool: &'static pool::Pool = Box::leak(Box::new(pool::Pool::new()));
        let mut first = pool.take(300_000);
        first.as_mut()[..3].copy_from_slice(b"abc");
        let first = first.into_bytes(300_000);
        assert_eq!(first.len(), 300_000);
        let at = first.as_ptr() as usize;
        let slice = first.slice(1..3);
        drop(first);
        // Still in use through the slice: another buffer.
        let second = pool.take(300_000).into_bytes(300_000);
        assert_ne!(second.as_ptr() as usize, at);
        assert_eq!(&slice[..], b"bc");
        drop(slice);
        let again = pool.take(290_000).into_bytes(290_000);
        assert_eq!(
            again.as_ptr() as usize,
            at,
            "the returned buffer is taken again"
        );
        drop(second);
        drop(again);
        let third = pool.take(200_000).into_bytes(200_000);
        assert_eq!(third.len(), 200_000);
        assert!(!pool::takes(100), "small reads are not pooled");
    }

    #[test]
    fn reads_return_the_bytes_asked_for_pooled_or_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).expect("write");
        let file = File::open(&path).expect("open");
        for (pos, len) in [(1_000, 300_000), (0, 600_000), (7, 100), (599_000, 1_000)] {
            let read = read_at(&file, pos, len as u64).expect("read");
            assert_eq!(&read[..], &data[pos as usize..pos as usize + len]);
        }
    }
}
