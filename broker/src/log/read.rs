//! Reads of whole stored batches, split in two so that the partition's lock is held only to
//! resolve *where* to read (`PartitionLog::read_plan`), while the positional reads themselves
//! (`ReadPlan::execute`) run after the lock is released.
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

/// Whole batches read from the log, as stored (offsets patched, CRCs intact).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadSlice {
    pub records: Bytes,
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
}

impl ReadPlan {
    /// A read with nothing to return (at the log end or the high watermark).
    pub fn empty() -> Self {
        ReadPlan { inner: None }
    }

    pub(crate) fn new(
        file: Arc<File>,
        start: u64,
        end: u64,
        offset: i64,
        max_offset: i64,
        max_bytes: usize,
    ) -> Self {
        ReadPlan {
            inner: Some(Planned {
                file,
                start,
                end,
                offset,
                max_offset,
                max_bytes,
            }),
        }
    }

    /// Reads whole batches starting with the one containing the planned offset: at least that
    /// batch (even above `max_bytes`), then as many whole batches as fit in `max_bytes`.
    pub fn execute(&self) -> Result<ReadSlice, LogError> {
        let Some(p) = &self.inner else {
            return Ok(ReadSlice::default());
        };
        let mut pos = p.start;
        let mut header = [0u8; BATCH_HEADER_LEN];
        let first_size = loop {
            if p.end.saturating_sub(pos) < BATCH_HEADER_LEN as u64 {
                return Ok(ReadSlice::default());
            }
            p.file.read_exact_at(&mut header, pos)?;
            let h = BatchHeader::new(header)?;
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
                return Ok(ReadSlice::default());
            }
            if h.last_offset() >= p.offset {
                break size;
            }
            pos += size;
        };
        let want = (p.max_bytes.min(MAX_READ_BYTES) as u64)
            .max(first_size)
            .min(p.end - pos);
        let want = usize::try_from(want)
            .map_err(|_| LogError::CorruptMessage("read larger than memory".into()))?;
        let mut buf = vec![0u8; want];
        p.file.read_exact_at(&mut buf, pos)?;
        let keep = whole_batches_below(&buf, p.max_offset);
        buf.truncate(keep);
        Ok(ReadSlice {
            records: Bytes::from(buf),
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
