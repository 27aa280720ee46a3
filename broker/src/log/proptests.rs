//! Property tests of the partition log: what is appended is read back with contiguous offsets,
//! truncation keeps exactly the whole batches below the cut, and reopening a directory (after a
//! clean close, a crash, or a tail torn at any byte) recovers the same records up to the last
//! whole batch. The disk-touching properties run few cases so `cargo test -p broker` stays fast.

use std::fs;
use std::path::{Path, PathBuf};

use bytes::BytesMut;
use proptest::prelude::*;

use super::batch::check_batch;
use super::testutil::{batch_with, BatchSpec};
use super::{DurableLog, LogConfig, PartitionLog};

/// Cases of each property that writes files.
const DISK_CASES: u32 = 48;

/// One batch as the test appends it: its record count and value size.
#[derive(Clone, Debug)]
struct Shape {
    records: usize,
    value_len: usize,
}

fn shapes() -> impl Strategy<Value = Vec<Shape>> {
    prop::collection::vec(
        (1usize..6, 0usize..300).prop_map(|(records, value_len)| Shape { records, value_len }),
        1..24,
    )
}

/// Small segments (so that appends roll) and a dense offset index (so reads use it).
fn config(segment_bytes: u64) -> LogConfig {
    LogConfig {
        segment_bytes,
        index_interval_bytes: 64,
        retention_ms: None,
        ..LogConfig::default()
    }
}

fn encode(shape: &Shape) -> Vec<u8> {
    batch_with(&BatchSpec {
        records: shape.records,
        value_len: shape.value_len,
        ..BatchSpec::default()
    })
}

/// A stored batch: base offset, last offset, and its bytes from `magic` on (everything the
/// broker does not patch: baseOffset and partitionLeaderEpoch precede it, the CRC covers it).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stored {
    base: i64,
    last: i64,
    tail: Vec<u8>,
}

/// Reads the whole log from its start, batch by batch, checking every CRC.
fn read_back(log: &PartitionLog) -> Result<Vec<Stored>, TestCaseError> {
    let mut out = Vec::new();
    let mut next = log.log_start_offset();
    while next < log.log_end_offset() {
        let slice = log
            .read(next, 1)
            .map_err(|e| TestCaseError::fail(format!("read at {next}: {e}")))?;
        prop_assert!(!slice.records.is_empty(), "empty read at {}", next);
        let mut pos = 0;
        while pos < slice.records.len() {
            let info = check_batch(&slice.records[pos..], pos, usize::MAX)
                .map_err(|e| TestCaseError::fail(format!("stored batch at {next}: {e}")))?;
            out.push(Stored {
                base: info.base_offset,
                last: info.last_offset(),
                tail: slice.records[pos + 16..pos + info.size].to_vec(),
            });
            next = info.last_offset() + 1;
            pos += info.size;
        }
    }
    Ok(out)
}

/// Appends every shape, checking offsets are assigned contiguously; returns what was sent.
fn append_all(log: &mut PartitionLog, shapes: &[Shape]) -> Result<Vec<Stored>, TestCaseError> {
    let mut sent = Vec::new();
    for shape in shapes {
        let bytes = encode(shape);
        let tail = bytes[16..].to_vec();
        let expected_base = log.log_end_offset();
        let info = log
            .append(&bytes, 7, 0)
            .map_err(|e| TestCaseError::fail(format!("append: {e}")))?;
        prop_assert!(!info.duplicate);
        prop_assert_eq!(info.base_offset, expected_base);
        prop_assert_eq!(info.last_offset, expected_base + shape.records as i64 - 1);
        prop_assert_eq!(log.log_end_offset(), info.last_offset + 1);
        sent.push(Stored {
            base: info.base_offset,
            last: info.last_offset,
            tail,
        });
    }
    Ok(sent)
}

fn open(dir: &Path, segment_bytes: u64) -> Result<PartitionLog, TestCaseError> {
    PartitionLog::open(dir, config(segment_bytes))
        .map_err(|e| TestCaseError::fail(format!("open: {e}")))
}

/// The `.log` files of a partition directory, by base offset.
fn log_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "log"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Sizes of the whole batches stored in a segment file, in order.
fn batch_sizes(bytes: &[u8]) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut pos = 0;
    while pos + 12 <= bytes.len() {
        let mut len = [0u8; 4];
        len.copy_from_slice(&bytes[pos + 8..pos + 12]);
        let size = 12 + i32::from_be_bytes(len) as usize;
        sizes.push(size);
        pos += size;
    }
    sizes
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: DISK_CASES,
        ..ProptestConfig::default()
    })]

    /// Every appended batch is read back byte for byte (past the patched fields) at the offsets
    /// it was given, whatever the segment size makes the log roll.
    #[test]
    fn appended_batches_are_read_back(shapes in shapes(), segment_bytes in 1_700u64..6_000) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut log = open(dir.path(), segment_bytes)?;
        let sent = append_all(&mut log, &shapes)?;
        prop_assert_eq!(read_back(&log)?, sent.clone());
        // Reading from any offset starts with the batch that holds it.
        for s in &sent {
            for offset in [s.base, s.last] {
                let slice = log
                    .read(offset, 1)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let info = check_batch(&slice.records, 0, usize::MAX)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(info.base_offset, s.base);
            }
        }
        let end = log.log_end_offset();
        prop_assert!(log.read(end + 1, 1).is_err(), "read past the log end");
    }

    /// Truncating to an offset keeps the batches wholly below it, drops the one holding it and
    /// everything after; the next append continues at the new log end, also after a reopen.
    #[test]
    fn truncation_keeps_whole_batches_below_the_cut(
        shapes in shapes(),
        segment_bytes in 1_700u64..6_000,
        cut in any::<prop::sample::Index>(),
        flushed in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut log = open(dir.path(), segment_bytes)?;
        let sent = append_all(&mut log, &shapes)?;
        if flushed {
            log.flush().map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        let end = log.log_end_offset();
        let offset = cut.index(end as usize + 1) as i64;
        log.truncate_to(offset)
            .map_err(|e| TestCaseError::fail(format!("truncate_to({offset}): {e}")))?;
        let kept: Vec<Stored> = sent.iter().filter(|s| s.last < offset).cloned().collect();
        let new_end = kept.last().map_or(0, |s| s.last + 1);
        prop_assert_eq!(log.log_end_offset(), new_end);
        prop_assert_eq!(read_back(&log)?, kept.clone());

        let more = append_all(&mut log, &shapes[..1])?;
        prop_assert_eq!(more[0].base, new_end);
        drop(log);
        let log = open(dir.path(), segment_bytes)?;
        let mut expected = kept;
        expected.extend(more);
        prop_assert_eq!(read_back(&log)?, expected);
    }

    /// Reopening a directory, after a flush or without one, finds the same records and the same
    /// log end offset, and appends continue from there.
    #[test]
    fn reopen_recovers_every_record(
        shapes in shapes(),
        segment_bytes in 1_700u64..6_000,
        flushed in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut log = open(dir.path(), segment_bytes)?;
        let sent = append_all(&mut log, &shapes)?;
        if flushed {
            log.flush().map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        let end = log.log_end_offset();
        drop(log);
        let mut log = open(dir.path(), segment_bytes)?;
        prop_assert_eq!(log.log_end_offset(), end);
        prop_assert_eq!(read_back(&log)?, sent);
        let more = append_all(&mut log, &shapes[..1])?;
        prop_assert_eq!(more[0].base, end);
    }

    /// A last segment torn at any byte (a crash mid-write) is recovered to its last whole batch:
    /// the file is cut there, earlier segments are untouched, and appends continue after it.
    #[test]
    fn torn_tail_recovers_to_the_last_whole_batch(
        shapes in shapes(),
        segment_bytes in 1_700u64..6_000,
        tear in any::<prop::sample::Index>(),
        flushed in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut log = open(dir.path(), segment_bytes)?;
        let sent = append_all(&mut log, &shapes)?;
        if flushed {
            log.flush().map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        drop(log);

        let files = log_files(dir.path());
        let last = files.last().cloned().ok_or_else(|| TestCaseError::fail("no segment"))?;
        let bytes = fs::read(&last).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let cut = tear.index(bytes.len() + 1);
        let sizes = batch_sizes(&bytes);
        let (mut whole, mut pos) = (0usize, 0usize);
        for size in &sizes {
            if pos + size > cut {
                break;
            }
            pos += size;
            whole += 1;
        }
        let in_last = sizes.len();
        // The batches of the earlier segments, then the whole ones left in the last.
        let kept: Vec<Stored> = sent[..sent.len() - in_last + whole].to_vec();
        let whole_len = pos as u64;
        fs::OpenOptions::new()
            .write(true)
            .open(&last)
            .and_then(|f| f.set_len(cut as u64))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;

        let mut log = open(dir.path(), segment_bytes)?;
        let segment_base = sent[sent.len() - in_last].base;
        let new_end = kept.last().map_or(0, |s| s.last + 1).max(segment_base);
        prop_assert_eq!(log.log_end_offset(), new_end);
        prop_assert_eq!(read_back(&log)?, kept);
        let len = fs::metadata(&last).map_err(|e| TestCaseError::fail(e.to_string()))?.len();
        prop_assert_eq!(len, whole_len, "torn bytes are cut from the file");
        let more = append_all(&mut log, &shapes[..1])?;
        prop_assert_eq!(more[0].base, new_end);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 16,
        ..ProptestConfig::default()
    })]

    /// What `DurableLog` acknowledges (fsynced on every append) is found by a fresh
    /// `PartitionLog` after close, at the acknowledged offsets.
    #[test]
    fn durable_appends_survive_a_reopen(shapes in shapes()) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let config = LogConfig {
            flush_interval_messages: 1,
            ..config(2_000)
        };
        let sent = runtime.block_on(async {
            let log = DurableLog::open(dir.path(), config.clone())
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut sent = Vec::new();
            for shape in &shapes {
                let bytes = encode(shape);
                let tail = bytes[16..].to_vec();
                let info = log
                    .append(BytesMut::from(&bytes[..]), 0)
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert!(log.high_watermark() > info.last_offset);
                sent.push(Stored { base: info.base_offset, last: info.last_offset, tail });
            }
            log.close().await;
            Ok::<_, TestCaseError>(sent)
        })?;
        for pair in sent.windows(2) {
            prop_assert_eq!(pair[1].base, pair[0].last + 1);
        }
        let log = PartitionLog::open(dir.path(), config)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(read_back(&log)?, sent);
    }
}
