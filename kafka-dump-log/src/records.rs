//! The batches of a segment file as Kafka's `FileLogInputStream` reads them, and the records of
//! each v2 batch (`DefaultRecordBatch` / `DefaultRecord`), decompressed where needed. The header
//! is read through `common`'s `BatchHeader` view and the record framing through `common`'s
//! `walk_records`; only the key, value and header bytes are sliced out here.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use bytes::Bytes;
use common::record::batch::{BATCH_HEADER_LEN, CRC_START, LOG_OVERHEAD, MAGIC_AT};
use common::record::varint::{read_zigzag, MAX_VARINT_BYTES};
use common::record::{walk_records, BatchHeader};
use kafka_protocol::compression::{self as cmpr, Decompressor};

use crate::failure::Failure;

/// `Records.HEADER_SIZE_UP_TO_MAGIC`: offset, size, partition leader epoch and magic.
const HEADER_SIZE_UP_TO_MAGIC: usize = MAGIC_AT + 1;
/// `LegacyRecord.RECORD_OVERHEAD_V0`: the smallest `size` any message format allows.
const RECORD_OVERHEAD_V0: i32 = 14;

/// One batch as stored: its bytes and where it starts in the file.
#[derive(Debug, Clone)]
pub struct FileBatch {
    /// Position of the batch in the file (bytes).
    pub position: u64,
    /// The whole batch (`LOG_OVERHEAD` + `size` bytes).
    pub bytes: Vec<u8>,
}

impl FileBatch {
    pub fn magic(&self) -> i8 {
        self.bytes.get(MAGIC_AT).map_or(0, |m| *m as i8)
    }

    /// The v2 header view, `None` for older message formats or a batch too short for one.
    pub fn header(&self) -> Option<BatchHeader<&[u8]>> {
        if self.magic() < 2 {
            return None;
        }
        BatchHeader::new(self.bytes.as_slice()).ok()
    }

    /// `sizeInBytes`.
    pub fn size(&self) -> usize {
        self.bytes.len()
    }

    /// The offset in the log header (the base offset of a v2 batch, the last offset of a
    /// legacy wrapper message).
    pub fn log_offset(&self) -> i64 {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(&self.bytes[..8]);
        i64::from_be_bytes(raw)
    }

    /// `lastOffset`.
    pub fn last_offset(&self) -> i64 {
        match self.header() {
            Some(h) => h.last_offset(),
            None => self.log_offset(),
        }
    }

    /// `DefaultRecordBatch.isValid`: at least a header long and the CRC-32C matches.
    pub fn is_valid(&self) -> bool {
        match self.header() {
            Some(h) => crc32c::crc32c(&self.bytes[CRC_START..]) == h.crc(),
            None => false,
        }
    }
}

/// Batches from `[start, end)` of a file, as `FileLogInputStream.nextBatch` finds them: the
/// iteration ends quietly when fewer than 17 bytes or less than a whole batch remain (the
/// caller reports the trailing bytes), and fails on a size below any format's minimum.
pub struct FileBatches<'a> {
    file: &'a File,
    path: String,
    position: u64,
    end: u64,
    failed: bool,
}

impl<'a> FileBatches<'a> {
    pub fn new(file: &'a File, path: &str, start: u64, end: u64) -> Self {
        FileBatches {
            file,
            path: path.to_string(),
            position: start,
            end,
            failed: false,
        }
    }

    fn next_batch(&mut self) -> Result<Option<FileBatch>, Failure> {
        if self.position + HEADER_SIZE_UP_TO_MAGIC as u64 >= self.end {
            return Ok(None);
        }
        let mut head = [0u8; HEADER_SIZE_UP_TO_MAGIC];
        read_exact_at(self.file, &mut head, self.position, &self.path)?;
        let size = i32::from_be_bytes([head[8], head[9], head[10], head[11]]);
        if size < RECORD_OVERHEAD_V0 {
            return Err(Failure::new(
                "org.apache.kafka.common.errors.CorruptRecordException",
                format!(
                    "Found record size {size} smaller than minimum record overhead \
                     ({RECORD_OVERHEAD_V0}) in file {}.",
                    self.path
                ),
            ));
        }
        let total = LOG_OVERHEAD as u64 + size as u64;
        if self.position + total > self.end {
            return Ok(None);
        }
        // Bounded by the file's length, checked just above.
        let mut bytes = vec![0u8; total as usize];
        read_exact_at(self.file, &mut bytes, self.position, &self.path)?;
        let batch = FileBatch {
            position: self.position,
            bytes,
        };
        self.position += total;
        Ok(Some(batch))
    }
}

impl Iterator for FileBatches<'_> {
    type Item = Result<FileBatch, Failure>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let next = self.next_batch().transpose();
        self.failed = matches!(next, Some(Err(_)));
        next
    }
}

fn read_exact_at(file: &File, buf: &mut [u8], position: u64, path: &str) -> Result<(), Failure> {
    file.read_exact_at(buf, position).map_err(|e| {
        let what = if e.kind() == io::ErrorKind::UnexpectedEof {
            format!("Failed to read `log header` from file channel `{path}`. Expected to read {} bytes, but reached end of file after reading fewer bytes. Started read from position {position}.", buf.len())
        } else {
            e.to_string()
        };
        Failure::new("java.io.IOException", what)
    })
}

/// One record of a v2 batch (`DefaultRecord`), with the batch-level fields it derives from.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub offset: i64,
    pub timestamp: i64,
    pub sequence: i32,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub header_keys: Vec<String>,
}

impl Record {
    /// `keySize`: -1 for a null key.
    pub fn key_size(&self) -> i64 {
        self.key.as_ref().map_or(-1, |k| k.len() as i64)
    }

    /// `valueSize`: -1 for a null value.
    pub fn value_size(&self) -> i64 {
        self.value.as_ref().map_or(-1, |v| v.len() as i64)
    }
}

/// `CompressionType.name`.
pub fn codec_name(codec: u8) -> &'static str {
    match codec {
        0 => "none",
        1 => "gzip",
        2 => "snappy",
        3 => "lz4",
        4 => "zstd",
        _ => "unknown",
    }
}

/// The records of a v2 batch as far as they read, and the exception that stopped the reading.
///
/// Kafka's `DefaultRecordBatch.RecordIterator` reads records one at a time, so `DumpLogSegments`
/// prints every record before a bad one and then fails with the bad one's exception; the dumper
/// prints [`records`](Self::records) and then reports [`failure`](Self::failure).
#[derive(Debug, Default)]
pub struct BatchRecords {
    /// The records before the first one that did not read, in offset order.
    pub records: Vec<Record>,
    /// Why the reading stopped early: a body that does not decompress, a negative record count,
    /// a malformed record, fewer records than declared or bytes left after them.
    pub failure: Option<Failure>,
}

impl BatchRecords {
    /// Every record, or the exception that stopped the reading (for callers that need all).
    pub fn into_result(self) -> Result<Vec<Record>, Failure> {
        match self.failure {
            Some(failure) => Err(failure),
            None => Ok(self.records),
        }
    }
}

fn invalid_record(message: impl Into<String>) -> Failure {
    Failure::new("org.apache.kafka.common.InvalidRecordException", message)
}

/// The records of a v2 batch, decompressed, read as Kafka's record iterator reads them (see
/// [`BatchRecords`]). The failures are Kafka's exceptions: `Found invalid record count N in
/// magic v2 batch` for a negative count, a `KafkaException` for a body that does not
/// decompress, and the `InvalidRecordException` texts of a malformed record.
pub fn batch_records(batch: &FileBatch) -> BatchRecords {
    let Some(h) = batch.header() else {
        return BatchRecords::default();
    };
    let count = h.records_count();
    if count < 0 {
        return BatchRecords {
            records: Vec::new(),
            failure: Some(invalid_record(format!(
                "Found invalid record count {count} in magic v{} batch",
                h.magic()
            ))),
        };
    }
    if count == 0 {
        return BatchRecords::default();
    }
    let raw = Bytes::copy_from_slice(&batch.bytes[BATCH_HEADER_LEN..]);
    let codec = h.compression();
    let body = match decompress(codec, raw) {
        Ok(b) => b,
        Err(message) => {
            return BatchRecords {
                records: Vec::new(),
                failure: Some(Failure::new(
                    "org.apache.kafka.common.KafkaException",
                    message,
                )),
            };
        }
    };
    let log_append_time = h.is_log_append_time().then(|| h.max_timestamp());
    // Every record takes at least one byte, so the body bounds what a forged count may reserve.
    let mut records = Vec::with_capacity((count as usize).min(body.len()));
    let mut bad = false;
    let walked = walk_records(&body, count, |_, frame| {
        if bad {
            return;
        }
        let Some(tail) = frame.tail.clone() else {
            return;
        };
        match parse_tail(&body, tail.start, tail.end) {
            Ok((key, value, header_keys)) => {
                let offset_delta = frame.offset_delta;
                records.push(Record {
                    offset: h.base_offset().saturating_add(i64::from(offset_delta)),
                    timestamp: log_append_time
                        .unwrap_or_else(|| h.base_timestamp().wrapping_add(frame.timestamp_delta)),
                    sequence: if h.base_sequence() == -1 {
                        -1
                    } else {
                        common::record::batch::increment_sequence(h.base_sequence(), offset_delta)
                    },
                    key,
                    value,
                    header_keys,
                });
            }
            Err(()) => bad = true,
        }
    });
    let failure = if bad {
        Some(invalid_record("Found invalid record structure"))
    } else {
        walked.err().map(|e| invalid_record(e.to_string()))
    };
    BatchRecords { records, failure }
}

type Tail = (Option<Bytes>, Option<Bytes>, Vec<String>);

/// Key, value and header keys from a record's tail (from its key length to its end), whose
/// framing `walk_records` has already checked.
fn parse_tail(body: &Bytes, start: usize, end: usize) -> Result<Tail, ()> {
    let buf = &body[..end];
    let mut at = start;
    let field = |at: &mut usize| -> Result<Option<Bytes>, ()> {
        let len = read_zigzag(buf, at, MAX_VARINT_BYTES).map_err(|_| ())?;
        if len < 0 {
            return Ok(None);
        }
        let from = *at;
        let to = from
            .checked_add(len as usize)
            .filter(|t| *t <= end)
            .ok_or(())?;
        *at = to;
        Ok(Some(body.slice(from..to)))
    };
    let key = field(&mut at)?;
    let value = field(&mut at)?;
    let count = read_zigzag(buf, &mut at, MAX_VARINT_BYTES).map_err(|_| ())?;
    let mut header_keys = Vec::new();
    for _ in 0..count.max(0) {
        let name = field(&mut at)?.ok_or(())?;
        header_keys.push(String::from_utf8_lossy(&name).into_owned());
        field(&mut at)?;
    }
    Ok((key, value, header_keys))
}

fn decompress(codec: u8, mut data: Bytes) -> Result<Bytes, String> {
    let copy = |b: &mut Bytes| -> anyhow::Result<Bytes> { Ok(b.clone()) };
    let result = match codec {
        0 => return Ok(data),
        1 => cmpr::Gzip::decompress(&mut data, copy),
        2 => {
            if !snappy_claim_is_plausible(&data) {
                return Err(
                    "java.io.IOException: snappy stream claims more bytes than it can hold"
                        .to_string(),
                );
            }
            cmpr::Snappy::decompress(&mut data, copy)
        }
        3 => cmpr::Lz4::decompress(&mut data, copy),
        4 => cmpr::Zstd::decompress(&mut data, copy),
        other => return Err(format!("Unknown compression type id: {other}")),
    };
    result.map_err(|e| format!("java.io.IOException: {e:#}"))
}

/// Whether every snappy block's claimed uncompressed length is one its compressed bytes can
/// produce (snappy expands at most about 21 times; 32 times plus 64 bytes is the bound used):
/// a forged claim is refused before the decoder allocates it. Handles raw snappy and the xerial
/// framing Kafka's Java client writes (16 header bytes, then u32-length-prefixed blocks).
fn snappy_claim_is_plausible(body: &[u8]) -> bool {
    const XERIAL_MAGIC: &[u8] = b"\x82SNAPPY\x00";
    const XERIAL_HEADER: usize = 16;
    let bound = |compressed: usize| compressed.saturating_mul(32).saturating_add(64) as u64;
    let claim =
        |block: &[u8]| common::record::varint::read_unsigned(block, &mut 0, MAX_VARINT_BYTES).ok();
    if !body.starts_with(XERIAL_MAGIC) {
        return claim(body).is_some_and(|n| n <= bound(body.len()));
    }
    let mut at = XERIAL_HEADER;
    while at < body.len() {
        let Some(len) = body.get(at..at + 4) else {
            return false;
        };
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let Some(block) = body.get(at + 4..(at + 4).saturating_add(len)) else {
            return false;
        };
        if claim(block).is_none_or(|n| n > bound(block.len())) {
            return false;
        }
        at += 4 + len;
    }
    true
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn forged_snappy_lengths_are_refused_before_decoding() {
        // A raw stream claiming 2^32-1 bytes from 6.
        let forged = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00];
        assert!(!snappy_claim_is_plausible(&forged));
        let err = decompress(2, Bytes::copy_from_slice(&forged)).unwrap_err();
        assert!(err.contains("claims more bytes"), "{err}");
        assert!(snappy_claim_is_plausible(&[
            0x05, 0x10, b'h', b'e', b'l', b'l', b'o'
        ]));
    }
}
