//! The dumps of DumpLogSegments, one function per file kind, writing what Kafka 3.9 prints to
//! `out` and collecting the problems it reports on stderr at the end ([`Reports`]).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use broker::log::txn::TxnIndexEntry;

use crate::decoders::MessageParser;
use crate::failure::{base_offset_of, Failure};
use crate::options::DumpOptions;
use crate::records::{batch_records, codec_name, FileBatch, FileBatches};

/// `RecordIndent`.
const RECORD_INDENT: &str = "|";
/// Offset index entry: relative offset u32, position u32.
const OFFSET_ENTRY: usize = 8;
/// Time index entry: timestamp i64, relative offset u32.
const TIME_ENTRY: usize = 12;
/// `AbortedTxn.TOTAL_SIZE`.
const TXN_ENTRY: usize = 34;
/// `RecordBatch.NO_TIMESTAMP`.
const NO_TIMESTAMP: i64 = -1;
/// Attribute bit 6: the batch's base timestamp is its delete horizon (KIP-534).
const DELETE_HORIZON_FLAG: i16 = 0x40;

/// What is printed on stderr after every file was dumped, keyed by absolute path in the order
/// the files were met.
#[derive(Debug, Default)]
pub struct Reports {
    /// `misMatchesForIndexFilesMap`: (index offset, log offset), newest first as Kafka's
    /// prepended lists print.
    index_mismatches: Vec<(String, Vec<(i64, i64)>)>,
    /// `TimeIndexDumpErrors`: (index timestamp, log timestamp) mismatches.
    time_mismatches: Vec<(String, Vec<(i64, i64)>)>,
    /// (index timestamp, previous index timestamp).
    time_out_of_order: Vec<(String, Vec<(i64, i64)>)>,
    /// (indexed offset, found log offset).
    shallow_not_found: Vec<(String, Vec<(i64, i64)>)>,
    /// `nonConsecutivePairsForLogFilesMap`, newest first.
    non_consecutive: Vec<(String, Vec<(i64, i64)>)>,
}

fn push(map: &mut Vec<(String, Vec<(i64, i64)>)>, key: &str, pair: (i64, i64)) {
    match map.iter_mut().find(|(k, _)| k == key) {
        Some((_, list)) => list.push(pair),
        None => map.push((key.to_string(), vec![pair])),
    }
}

impl Reports {
    /// The stderr text, in Kafka's order: index mismatches, time index errors, then
    /// non-consecutive offsets.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (file, list) in &self.index_mismatches {
            out.push_str(&format!("Mismatches in :{file}\n"));
            for (index, log) in list.iter().rev() {
                out.push_str(&format!("  Index offset: {index}, log offset: {log}\n"));
            }
        }
        for (file, list) in &self.time_mismatches {
            out.push_str(&format!("Found timestamp mismatch in :{file}\n"));
            for (index, log) in list {
                out.push_str(&format!(
                    "  Index timestamp: {index}, log timestamp: {log}\n"
                ));
            }
        }
        for (file, list) in &self.time_out_of_order {
            out.push_str(&format!("Found out of order timestamp in :{file}\n"));
            for (index, prev) in list {
                out.push_str(&format!(
                    "  Index timestamp: {index}, Previously indexed timestamp: {prev}\n"
                ));
            }
        }
        for (_, list) in &self.shallow_not_found {
            out.push_str("The following indexed offsets are not found in the log.\n");
            for (indexed, found) in list {
                out.push_str(&format!(
                    "Indexed offset: {indexed}, found log offset: {found}\n"
                ));
            }
        }
        for (file, list) in &self.non_consecutive {
            out.push_str(&format!("Non-consecutive offsets in {file}\n"));
            for (first, second) in list.iter().rev() {
                out.push_str(&format!("  {first} is followed by {second}\n"));
            }
        }
        out
    }
}

/// Java's `File.getAbsolutePath`.
fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

fn open(path: &Path) -> Result<File, Failure> {
    File::open(path).map_err(|e| Failure::io(&path.display().to_string(), &e))
}

fn file_len(file: &File, path: &Path) -> Result<u64, Failure> {
    file.metadata()
        .map(|m| m.len())
        .map_err(|e| Failure::io(&path.display().to_string(), &e))
}

fn read_all(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::io(&path.display().to_string(), &e))
}

/// The `.log` beside an index: `<dir>/<base>.log`.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.split('.').next().unwrap_or_default();
    let dir = std::path::absolute(path)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    dir.join(format!("{stem}{suffix}"))
}

/// Java's `OptionalLong.toString`.
fn optional_long(value: Option<i64>) -> String {
    value.map_or_else(
        || "OptionalLong.empty".to_string(),
        |v| format!("OptionalLong[{v}]"),
    )
}

/// `printBatchLevel`.
fn batch_line(batch: &FileBatch, position: u64) -> Result<String, Failure> {
    let Some(h) = batch.header() else {
        return Err(legacy(batch));
    };
    let base_sequence = h.base_sequence();
    let last_sequence = if base_sequence == -1 {
        -1
    } else {
        h.last_sequence()
    };
    let timestamp_type = if h.is_log_append_time() {
        "LogAppendTime"
    } else {
        "CreateTime"
    };
    let delete_horizon = (h.attributes() & DELETE_HORIZON_FLAG != 0).then(|| h.base_timestamp());
    Ok(format!(
        "baseOffset: {} lastOffset: {} count: {} baseSequence: {base_sequence} lastSequence: {last_sequence} \
         producerId: {} producerEpoch: {} partitionLeaderEpoch: {} isTransactional: {} isControl: {} \
         deleteHorizonMs: {} position: {position} {timestamp_type}: {} size: {} magic: {} \
         compresscodec: {} crc: {} isvalid: {}",
        h.base_offset(),
        h.last_offset(),
        h.records_count(),
        h.producer_id(),
        h.producer_epoch(),
        h.partition_leader_epoch(),
        h.is_transactional(),
        h.is_control(),
        optional_long(delete_horizon),
        h.max_timestamp(),
        batch.size(),
        h.magic(),
        codec_name(h.compression()),
        h.crc(),
        batch.is_valid(),
    ))
}

/// Message format v0/v1 entries: our brokers store only v2 batches (older produce requests are
/// converted on the way in), so a file holding older ones is refused, naming where.
fn legacy(batch: &FileBatch) -> Failure {
    Failure::new(
        "java.lang.UnsupportedOperationException",
        format!(
            "message format v{} entry at position {}: this kafka-dump-log reads record batches v2 only",
            batch.magic(),
            batch.position
        ),
    )
}

/// `ControlRecordType` names by id.
fn control_type_name(id: i16) -> &'static str {
    match id {
        0 => "ABORT",
        1 => "COMMIT",
        2 => "LEADER_CHANGE",
        3 => "SNAPSHOT_HEADER",
        4 => "SNAPSHOT_FOOTER",
        5 => "KRAFT_VERSION",
        6 => "KRAFT_VOTERS",
        _ => "UNKNOWN",
    }
}

/// What a control record adds to its line: ` endTxnMarker: COMMIT coordinatorEpoch: 5` for a
/// transaction marker, ` controlType: NAME(id)` for the others.
fn control_text(record: &crate::records::Record) -> Result<String, Failure> {
    let key = record.key.as_deref().unwrap_or_default();
    if key.len() < 4 {
        return Err(Failure::new(
            "org.apache.kafka.common.InvalidRecordException",
            format!(
                "Invalid value size found for end control record key. Must have at least 4 bytes, but found only {}",
                key.len()
            ),
        ));
    }
    let type_id = i16::from_be_bytes([key[2], key[3]]);
    let name = control_type_name(type_id);
    if type_id == 0 || type_id == 1 {
        let value = record.value.as_deref().unwrap_or_default();
        if value.len() < 6 {
            return Err(Failure::new(
                "org.apache.kafka.common.InvalidRecordException",
                format!(
                    "Invalid value size found for end control record value. Must have at least 6 bytes, but found only {}",
                    value.len()
                ),
            ));
        }
        let epoch = i32::from_be_bytes([value[2], value[3], value[4], value[5]]);
        return Ok(format!(" endTxnMarker: {name} coordinatorEpoch: {epoch}"));
    }
    Ok(format!(" controlType: {name}({type_id})"))
}

/// `dumpLog`, for `.log` files and KRaft snapshots (`.checkpoint`).
pub fn dump_log(
    path: &Path,
    opts: &DumpOptions,
    reports: &mut Reports,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let mut notices = Vec::new();
    // Kafka builds the parser (and a deprecated decoder prints its notice) before anything else.
    let parser = MessageParser::create(&opts.parser, &mut notices);
    for n in &notices {
        line(out, n);
    }
    let parser = parser?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.ends_with(".log") {
        line(
            out,
            &format!("Log starting offset: {}", base_offset_of(path)?),
        );
    } else if name == "bootstrap.checkpoint" {
        line(out, "KRaft bootstrap snapshot");
    } else if name.ends_with(".checkpoint") {
        let (offset, epoch) = snapshot_id(&name)
            .ok_or_else(|| Failure::new("java.util.NoSuchElementException", "No value present"))?;
        line(
            out,
            &format!("Snapshot end offset: {offset}, epoch: {epoch}"),
        );
    }
    let file = open(path)?;
    let size = file_len(&file, path)?;
    if opts.max_bytes < 0 {
        return Err(Failure::new(
            "java.lang.IllegalArgumentException",
            format!(
                "Invalid size: {} in read from {}",
                opts.max_bytes,
                file_records_text(size, &crate::java_file_text(&path.to_string_lossy()))
            ),
        ));
    }
    let end = size.min(opts.max_bytes as u64);
    let key = absolute(path);
    let mut valid_bytes = 0u64;
    let mut last_offset = -1i64;
    let display_path = path.display().to_string();
    for batch in FileBatches::new(&file, &display_path, 0, end) {
        let batch = batch?;
        line(out, &batch_line(&batch, valid_bytes)?);
        if opts.deep_iteration {
            let Some(h) = batch.header() else {
                return Err(legacy(&batch));
            };
            let timestamp_type = if h.is_log_append_time() {
                "LogAppendTime"
            } else {
                "CreateTime"
            };
            let read = batch_records(&batch);
            for record in read.records {
                if last_offset != -1 && record.offset != last_offset + 1 {
                    push(
                        &mut reports.non_consecutive,
                        &key,
                        (last_offset, record.offset),
                    );
                }
                last_offset = record.offset;
                let mut text = String::new();
                let mut prefix = format!("{RECORD_INDENT} ");
                if !opts.skip_record_metadata {
                    text.push_str(&format!(
                        "{prefix}offset: {} {timestamp_type}: {} keySize: {} valueSize: {}",
                        record.offset,
                        record.timestamp,
                        record.key_size(),
                        record.value_size()
                    ));
                    prefix = " ".to_string();
                    text.push_str(&format!(
                        " sequence: {} headerKeys: [{}]",
                        record.sequence,
                        record.header_keys.join(",")
                    ));
                    if h.is_control() {
                        text.push_str(&control_text(&record)?);
                    }
                }
                if opts.print_data_log && !h.is_control() {
                    let (k, payload) = parser.parse(&record)?;
                    if let Some(k) = k {
                        text.push_str(&format!("{prefix}key: {k}"));
                    }
                    if let Some(p) = payload {
                        text.push_str(&format!(" payload: {p}"));
                    }
                }
                line(out, &text);
            }
            if let Some(failure) = read.failure {
                return Err(failure);
            }
        }
        valid_bytes += batch.size() as u64;
    }
    let trailing = end.saturating_sub(valid_bytes);
    if trailing > 0 && opts.max_bytes == i32::MAX {
        line(
            out,
            &format!("Found {trailing} invalid bytes at the end of {name}"),
        );
    }
    Ok(())
}

/// `Snapshots.parse`: `<20-digit offset>-<10-digit epoch>.checkpoint`.
fn snapshot_id(name: &str) -> Option<(i64, i32)> {
    let stem = name.strip_suffix(".checkpoint")?;
    let (offset, epoch) = stem.split_once('-')?;
    Some((offset.parse().ok()?, epoch.parse().ok()?))
}

/// The offset index's entries as `OffsetIndex` maps them (whole entries only).
fn offset_entries(bytes: &[u8], base: i64) -> Vec<(i64, u32)> {
    bytes
        .chunks_exact(OFFSET_ENTRY)
        .map(|e| {
            let rel = u32::from_be_bytes([e[0], e[1], e[2], e[3]]);
            let pos = u32::from_be_bytes([e[4], e[5], e[6], e[7]]);
            (base + i64::from(rel), pos)
        })
        .collect()
}

/// `FileRecords.toString` of a file opened whole (`FileRecords.open(file, false)`: start 0, end
/// `Integer.MAX_VALUE`), as Kafka's slice errors name it; `size` in bytes.
fn file_records_text(size: u64, file: &str) -> String {
    format!("FileRecords(size={size}, file={file}, start=0, end=2147483647)")
}

/// `OffsetIndex.lookup`: the position of the largest entry at or below `target`, else 0.
fn lookup_position(entries: &[(i64, u32)], target: i64) -> u64 {
    entries
        .iter()
        .take_while(|(o, _)| *o <= target)
        .last()
        .map_or(0, |(_, p)| u64::from(*p))
}

/// `dumpIndex`, for `.index` files.
pub fn dump_index(
    path: &Path,
    opts: &DumpOptions,
    reports: &mut Reports,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let base = base_offset_of(path)?;
    let log_path = sibling(path, ".log");
    let log = open(&log_path)?;
    let log_size = file_len(&log, &log_path)?;
    let bytes = read_all(path)?;
    let entries = offset_entries(&bytes, base);
    if entries.is_empty() {
        line(out, &format!("{} is empty.", path.display()));
        return Ok(());
    }
    if opts.index_sanity_only {
        let last = entries.last().map_or(base, |(o, _)| *o);
        if last < base {
            return Err(Failure::new("org.apache.kafka.common.errors.CorruptIndexException", format!(
                "Corrupt index found, index file {} has non-zero size but the last offset is {last} which is less than the base offset {base}",
                absolute(path)
            )));
        }
        if bytes.len() % OFFSET_ENTRY != 0 {
            return Err(Failure::new("org.apache.kafka.common.errors.CorruptIndexException", format!(
                "Index file {} is corrupt, found {} bytes which is neither positive nor a multiple of {OFFSET_ENTRY}",
                absolute(path),
                bytes.len()
            )));
        }
        line(out, &format!("{} passed sanity check.", path.display()));
        return Ok(());
    }
    let key = absolute(path);
    let log_display = log_path.display().to_string();
    for (i, (offset, position)) in entries.iter().enumerate() {
        // A sparse file after a crash may hold zero entries: stop at the first.
        if *offset == base && i > 0 {
            return Ok(());
        }
        // `FileRecords.slice(entry.position, maxMessageSize)`; Java reads the position as an int.
        let records_text = || file_records_text(log_size, &log_display);
        let position = *position as i32;
        if position < 0 {
            return Err(Failure::new(
                "java.lang.IllegalArgumentException",
                format!(
                    "Invalid position: {position} in read from {}",
                    records_text()
                ),
            ));
        }
        let position = position as u64;
        if position > log_size {
            return Err(Failure::new(
                "java.lang.IllegalArgumentException",
                format!(
                    "Slice from position {position} exceeds end position of {}",
                    records_text()
                ),
            ));
        }
        if opts.max_message_size < 0 {
            return Err(Failure::new(
                "java.lang.IllegalArgumentException",
                format!(
                    "Invalid size: {} in read from {}",
                    opts.max_message_size,
                    records_text()
                ),
            ));
        }
        let end = log_size.min(position + opts.max_message_size as u64);
        let first = FileBatches::new(&log, &log_display, position, end)
            .next()
            .transpose()?
            .ok_or_else(|| Failure::new("java.util.NoSuchElementException", ""))?;
        let first_last_offset = first.last_offset();
        if first_last_offset != *offset {
            push(
                &mut reports.index_mismatches,
                &key,
                (*offset, first_last_offset),
            );
        }
        if !opts.verify_only {
            line(out, &format!("offset: {offset} position: {position}"));
        }
    }
    Ok(())
}

/// `dumpTimeIndex`, for `.timeindex` files.
pub fn dump_time_index(
    path: &Path,
    opts: &DumpOptions,
    reports: &mut Reports,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let base = base_offset_of(path)?;
    let log_path = sibling(path, ".log");
    let log = open(&log_path)?;
    let log_size = file_len(&log, &log_path)?;
    let index_path = sibling(path, ".index");
    // Kafka's OffsetIndex creates a missing index file; an absent one reads as empty here.
    let index = offset_entries(&std::fs::read(&index_path).unwrap_or_default(), base);
    let bytes = read_all(path)?;
    let entries: Vec<(i64, i64)> = bytes
        .chunks_exact(TIME_ENTRY)
        .map(|e| {
            let mut ts = [0u8; 8];
            ts.copy_from_slice(&e[..8]);
            let rel = u32::from_be_bytes([e[8], e[9], e[10], e[11]]);
            (i64::from_be_bytes(ts), base + i64::from(rel))
        })
        .collect();
    if opts.index_sanity_only {
        if let (Some(first), Some(last)) = (entries.first(), entries.last()) {
            let corrupt =
                |m: String| Failure::new("org.apache.kafka.common.errors.CorruptIndexException", m);
            if last.0 < first.0 {
                return Err(corrupt(format!(
                    "Corrupt time index found, time index file ({}) has non-zero size but the last timestamp is {} which is less than the first timestamp {}",
                    absolute(path), last.0, first.0
                )));
            }
            if last.1 < base {
                return Err(corrupt(format!(
                    "Corrupt time index found, time index file ({}) has non-zero size but the last offset is {} which is less than the first offset {base}",
                    absolute(path), last.1
                )));
            }
        }
        if bytes.len() % TIME_ENTRY != 0 {
            return Err(Failure::new("org.apache.kafka.common.errors.CorruptIndexException", format!(
                "Time index file {} is corrupt, found {} bytes which is neither positive nor a multiple of {TIME_ENTRY}",
                absolute(path),
                bytes.len()
            )));
        }
        line(out, &format!("{} passed sanity check.", path.display()));
        return Ok(());
    }
    let key = absolute(path);
    let log_display = log_path.display().to_string();
    let mut prev_timestamp = NO_TIMESTAMP;
    for (i, (timestamp, offset)) in entries.iter().enumerate() {
        if *offset == base && i > 0 {
            return Ok(());
        }
        let position = lookup_position(&index, *offset).min(log_size);
        let mut found = None;
        for batch in FileBatches::new(&log, &log_display, position, log_size) {
            let batch = batch?;
            if batch.last_offset() >= *offset {
                found = Some(batch);
                break;
            }
        }
        match found {
            None => push(&mut reports.shallow_not_found, &key, (*offset, -1)),
            Some(batch) if batch.last_offset() != *offset => push(
                &mut reports.shallow_not_found,
                &key,
                (*offset, batch.last_offset()),
            ),
            Some(batch) => {
                let max_timestamp = batch_records(&batch)
                    .into_result()?
                    .iter()
                    .map(|r| r.timestamp)
                    .fold(NO_TIMESTAMP, i64::max);
                if max_timestamp != *timestamp {
                    push(
                        &mut reports.time_mismatches,
                        &key,
                        (*timestamp, max_timestamp),
                    );
                }
                if prev_timestamp >= *timestamp {
                    push(
                        &mut reports.time_out_of_order,
                        &key,
                        (*timestamp, prev_timestamp),
                    );
                }
            }
        }
        if !opts.verify_only {
            line(out, &format!("timestamp: {timestamp} offset: {offset}"));
        }
        prev_timestamp = *timestamp;
    }
    Ok(())
}

/// `dumpTxnIndex`, for `.txnindex` files: one line per aborted transaction.
pub fn dump_txn_index(path: &Path, out: &mut impl Write) -> Result<(), Failure> {
    base_offset_of(path)?;
    let bytes = read_all(path)?;
    for chunk in bytes.chunks_exact(TXN_ENTRY) {
        let version = i16::from_be_bytes([chunk[0], chunk[1]]);
        let Some(entry) = TxnIndexEntry::from_bytes(chunk) else {
            return Err(Failure::new(
                "org.apache.kafka.common.KafkaException",
                format!(
                    "Unexpected aborted transaction version {version} in transaction index {}, current version is 0",
                    absolute(path)
                ),
            ));
        };
        line(
            out,
            &format!(
                "version: {version} producerId: {} firstOffset: {} lastOffset: {} lastStableOffset: {}",
                entry.producer_id, entry.first_offset, entry.last_offset, entry.last_stable_offset
            ),
        );
    }
    Ok(())
}

/// `dumpProducerIdSnapshot`, for `.snapshot` files (Kafka's `ProducerStateManager` layout:
/// version int16 = 1, CRC-32C uint32 of the rest, then int32 count entries of producer id
/// int64, epoch int16, last sequence int32, last offset int64, offset delta int32, timestamp
/// int64, coordinator epoch int32, current transaction first offset int64). A corrupt file
/// prints Kafka's `CorruptSnapshotException` message on stderr and the dump goes on.
pub fn dump_producer_snapshot(
    path: &Path,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<(), Failure> {
    let bytes = read_all(path)?;
    match read_producer_snapshot(&bytes) {
        Ok(lines) => {
            for l in lines {
                line(out, &l);
            }
        }
        Err(message) => {
            let _ = writeln!(err, "{message}");
        }
    }
    Ok(())
}

fn read_producer_snapshot(bytes: &[u8]) -> Result<Vec<String>, String> {
    const ENTRY: usize = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8;
    /// `PRODUCER_SNAPSHOT_ENTRY_SCHEMA`'s fields and the byte each ends at.
    const ENTRY_FIELDS: [(&str, usize); 8] = [
        ("producer_id", 8),
        ("epoch", 10),
        ("last_sequence", 14),
        ("last_offset", 22),
        ("offset_delta", 26),
        ("timestamp", 34),
        ("coordinator_epoch", 38),
        ("current_txn_first_offset", 46),
    ];
    // The schema is read whole first (`PID_SNAPSHOT_MAP_SCHEMA.read`), then checked; each
    // `Schema.read` names the field it failed in, and `ArrayOf.read` checks the array's size.
    let schema = |detail: String| format!("Snapshot failed schema validation: {detail}");
    let underflow = |field: &str| {
        schema(format!(
            "Error reading field '{field}': java.nio.BufferUnderflowException"
        ))
    };
    if bytes.len() < 2 {
        return Err(underflow("version"));
    }
    if bytes.len() < 6 {
        return Err(underflow("crc"));
    }
    if bytes.len() < 10 {
        return Err(underflow("producer_entries"));
    }
    let count = i32::from_be_bytes([bytes[6], bytes[7], bytes[8], bytes[9]]);
    let body = &bytes[10..];
    let entries =
        |detail: String| schema(format!("Error reading field 'producer_entries': {detail}"));
    if count < 0 {
        return Err(entries(format!("Array size {count} cannot be negative")));
    }
    // Kafka compares the entry count with the bytes left, not with the bytes it needs.
    if count as usize > body.len() {
        return Err(entries(format!(
            "Error reading array of size {count}, only {} bytes available",
            body.len()
        )));
    }
    if (count as usize).saturating_mul(ENTRY) > body.len() {
        let left = body.len() % ENTRY;
        let field = ENTRY_FIELDS
            .iter()
            .find(|(_, end)| *end > left)
            .map_or("producer_id", |(name, _)| name);
        return Err(entries(format!(
            "Error reading field '{field}': java.nio.BufferUnderflowException"
        )));
    }
    let version = i16::from_be_bytes([bytes[0], bytes[1]]);
    if version != 1 {
        return Err(format!(
            "Snapshot contained an unknown file version {version}"
        ));
    }
    let crc = u32::from_be_bytes([bytes[2], bytes[3], bytes[4], bytes[5]]);
    let computed = crc32c::crc32c(&bytes[6..]);
    if crc != computed {
        return Err(format!(
            "Snapshot is corrupt (CRC is no longer valid). Stored crc: {crc}. Computed crc: {computed}"
        ));
    }
    let mut lines = Vec::new();
    for e in body.chunks_exact(ENTRY).take(count as usize) {
        let i64_at = |at: usize| {
            let mut raw = [0u8; 8];
            raw.copy_from_slice(&e[at..at + 8]);
            i64::from_be_bytes(raw)
        };
        let i32_at = |at: usize| i32::from_be_bytes([e[at], e[at + 1], e[at + 2], e[at + 3]]);
        let producer_id = i64_at(0);
        let epoch = i16::from_be_bytes([e[8], e[9]]);
        let last_seq = i32_at(10);
        let last_offset = i64_at(14);
        let offset_delta = i32_at(22);
        let timestamp = i64_at(26);
        let coordinator_epoch = i32_at(34);
        let txn_first = i64_at(38);
        let mut text = format!(
            "producerId: {producer_id} producerEpoch: {epoch} coordinatorEpoch: {coordinator_epoch} \
             currentTxnFirstOffset: {} lastTimestamp: {timestamp} ",
            optional_long((txn_first >= 0).then_some(txn_first)),
        );
        if last_offset >= 0 {
            text.push_str(&format!(
                "firstSequence: {} lastSequence: {last_seq} lastOffset: {last_offset} \
                 offsetDelta: {offset_delta} timestamp: {timestamp}",
                decrement_sequence(last_seq, offset_delta)
            ));
        }
        lines.push(text);
    }
    Ok(lines)
}

/// `DefaultRecordBatch.decrementSequence`: sequences wrap below 0 to `i32::MAX`.
fn decrement_sequence(sequence: i32, decrement: i32) -> i32 {
    let (sequence, decrement) = (i64::from(sequence), i64::from(decrement));
    let value = if sequence < decrement {
        i64::from(i32::MAX) - (decrement - sequence) + 1
    } else {
        sequence - decrement
    };
    value as i32
}

/// Writes one line; a closed stdout (`| head`) is not the dump's failure.
fn line(out: &mut impl Write, text: &str) {
    let _ = writeln!(out, "{text}");
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reports_print_in_kafkas_words_and_order() {
        let mut r = Reports::default();
        push(&mut r.index_mismatches, "/d/0.index", (5, 4));
        push(&mut r.index_mismatches, "/d/0.index", (9, 8));
        push(&mut r.non_consecutive, "/d/0.log", (1, 3));
        push(&mut r.time_mismatches, "/d/0.timeindex", (10, 11));
        assert_eq!(
            r.render(),
            "Mismatches in :/d/0.index\n  Index offset: 9, log offset: 8\n  Index offset: 5, log offset: 4\n\
             Found timestamp mismatch in :/d/0.timeindex\n  Index timestamp: 10, log timestamp: 11\n\
             Non-consecutive offsets in /d/0.log\n  1 is followed by 3\n"
        );
    }

    #[test]
    fn snapshot_names_give_offset_and_epoch() {
        assert_eq!(
            snapshot_id("00000000000000000100-0000000002.checkpoint"),
            Some((100, 2))
        );
        assert_eq!(snapshot_id("junk.checkpoint"), None);
    }

    #[test]
    fn producer_snapshots_read_as_kafka_writes_them() {
        let mut entries = Vec::new();
        entries.extend(1000i64.to_be_bytes());
        entries.extend(3i16.to_be_bytes());
        entries.extend(9i32.to_be_bytes());
        entries.extend(42i64.to_be_bytes());
        entries.extend(4i32.to_be_bytes());
        entries.extend(1234i64.to_be_bytes());
        entries.extend(7i32.to_be_bytes());
        entries.extend((-1i64).to_be_bytes());
        let mut after_crc = 1i32.to_be_bytes().to_vec();
        after_crc.extend(&entries);
        let mut file = 1i16.to_be_bytes().to_vec();
        file.extend(crc32c::crc32c(&after_crc).to_be_bytes());
        file.extend(&after_crc);
        assert_eq!(
            read_producer_snapshot(&file).unwrap(),
            vec![
                "producerId: 1000 producerEpoch: 3 coordinatorEpoch: 7 currentTxnFirstOffset: \
                  OptionalLong.empty lastTimestamp: 1234 firstSequence: 5 lastSequence: 9 \
                  lastOffset: 42 offsetDelta: 4 timestamp: 1234"
            ]
        );
        file[20] ^= 1;
        assert!(read_producer_snapshot(&file)
            .unwrap_err()
            .starts_with("Snapshot is corrupt (CRC is no longer valid). Stored crc: "));
        file[20] ^= 1;
        file[1] = 2;
        assert_eq!(
            read_producer_snapshot(&file).unwrap_err(),
            "Snapshot contained an unknown file version 2"
        );
        assert_eq!(decrement_sequence(2, 4), i32::MAX - 1);
    }

    /// `PID_SNAPSHOT_MAP_SCHEMA.read`'s texts for a file that does not hold what it declares.
    #[test]
    fn corrupt_producer_snapshots_fail_with_kafkas_schema_texts() {
        let file = |count: i32, body: usize| {
            let mut f = vec![0, 1, 0, 0, 0, 0];
            f.extend(count.to_be_bytes());
            f.extend(vec![0u8; body]);
            f
        };
        let prefix = "Snapshot failed schema validation: Error reading field";
        assert_eq!(
            read_producer_snapshot(&file(1000, 10)).unwrap_err(),
            format!("{prefix} 'producer_entries': Error reading array of size 1000, only 10 bytes available")
        );
        assert_eq!(
            read_producer_snapshot(&file(-5, 10)).unwrap_err(),
            format!("{prefix} 'producer_entries': Array size -5 cannot be negative")
        );
        // One entry, cut short: the field it stops in is named.
        assert_eq!(
            read_producer_snapshot(&file(1, 10)).unwrap_err(),
            format!("{prefix} 'producer_entries': Error reading field 'last_sequence': java.nio.BufferUnderflowException")
        );
        assert_eq!(
            read_producer_snapshot(&file(2, 46 + 40)).unwrap_err(),
            format!("{prefix} 'producer_entries': Error reading field 'current_txn_first_offset': java.nio.BufferUnderflowException")
        );
        assert_eq!(
            read_producer_snapshot(&[0, 1, 0]).unwrap_err(),
            format!("{prefix} 'crc': java.nio.BufferUnderflowException")
        );
    }

    #[test]
    fn optional_longs_print_as_java() {
        assert_eq!(optional_long(None), "OptionalLong.empty");
        assert_eq!(optional_long(Some(5)), "OptionalLong[5]");
    }
}
