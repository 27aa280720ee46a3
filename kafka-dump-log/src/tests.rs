//! The dump of segment files written here with the client's batch encoder: the batch and record
//! lines of uncompressed and compressed batches, index checks and the errors of broken files.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use bytes::Bytes;
use client::records::{encode_batch, OutgoingRecord, ProducerIdentity};
use kafka_protocol::records::Compression;

use super::*;

fn record(key: Option<&str>, value: &str, ts: i64, headers: &[&str]) -> OutgoingRecord {
    OutgoingRecord {
        key: key.map(|k| Bytes::copy_from_slice(k.as_bytes())),
        value: Some(Bytes::copy_from_slice(value.as_bytes())),
        headers: headers
            .iter()
            .map(|h| (h.to_string(), Some(Bytes::from_static(b"v"))))
            .collect(),
        timestamp: ts,
    }
}

/// A batch at `base_offset` (the broker's patch of the offset lies outside the CRC).
fn batch(records: &[OutgoingRecord], compression: Compression, base_offset: i64) -> Vec<u8> {
    let mut bytes = encode_batch(records, compression, ProducerIdentity::NONE)
        .unwrap()
        .to_vec();
    bytes[..8].copy_from_slice(&base_offset.to_be_bytes());
    bytes
}

fn opts(files: &[&Path], extra: &[&str]) -> DumpOptions {
    let list: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    let mut args = vec!["--files".to_string(), list.join(",")];
    args.extend(extra.iter().map(|s| s.to_string()));
    match options::parse_args(&args) {
        Ok(o) => o,
        Err(e) => panic!("{e:?}"),
    }
}

fn dump(o: &DumpOptions) -> (String, String, Result<(), Failure>) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let result = dump_all(o, &mut out, &mut err).map(|reports| {
        err.extend_from_slice(reports.render().as_bytes());
    });
    (
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
        result,
    )
}

#[test]
fn records_of_plain_and_compressed_batches_are_printed() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("00000000000000000000.log");
    let mut bytes = batch(
        &[
            record(Some("k1"), "hello", 1000, &["h1", "h2"]),
            record(None, "world", 1005, &[]),
        ],
        Compression::None,
        0,
    );
    let first_size = bytes.len();
    for (i, codec) in [
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ]
    .into_iter()
    .enumerate()
    {
        bytes.extend(batch(
            &[
                record(Some("k"), "v1", 2000, &[]),
                record(Some("k"), "v2", 2001, &[]),
            ],
            codec,
            2 + 2 * i as i64,
        ));
    }
    std::fs::write(&log, &bytes).unwrap();

    let (out, err, result) = dump(&opts(&[&log], &["--print-data-log"]));
    result.unwrap();
    assert_eq!(err, "");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("Dumping {}", log.display()));
    assert_eq!(lines[1], "Log starting offset: 0");
    let crc = u32::from_be_bytes(bytes[17..21].try_into().unwrap());
    assert_eq!(
        lines[2],
        format!(
            "baseOffset: 0 lastOffset: 1 count: 2 baseSequence: -1 lastSequence: -1 producerId: -1 \
             producerEpoch: -1 partitionLeaderEpoch: -1 isTransactional: false isControl: false \
             deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: 1005 size: {first_size} \
             magic: 2 compresscodec: none crc: {crc} isvalid: true"
        )
    );
    assert_eq!(
        lines[3],
        "| offset: 0 CreateTime: 1000 keySize: 2 valueSize: 5 sequence: -1 headerKeys: [h1,h2] key: k1 payload: hello"
    );
    assert_eq!(
        lines[4],
        "| offset: 1 CreateTime: 1005 keySize: -1 valueSize: 5 sequence: -1 headerKeys: [] payload: world"
    );
    for (i, codec) in ["gzip", "snappy", "lz4", "zstd"].iter().enumerate() {
        let batch_line = lines[5 + 3 * i];
        let base = 2 + 2 * i;
        assert!(
            batch_line.starts_with(&format!(
                "baseOffset: {base} lastOffset: {} count: 2 ",
                base + 1
            )),
            "{batch_line}"
        );
        assert!(
            batch_line.contains(&format!(" compresscodec: {codec} ")),
            "{batch_line}"
        );
        assert!(batch_line.ends_with(" isvalid: true"), "{batch_line}");
        assert_eq!(
            lines[6 + 3 * i],
            format!("| offset: {base} CreateTime: 2000 keySize: 1 valueSize: 2 sequence: -1 headerKeys: [] key: k payload: v1")
        );
    }
    assert_eq!(lines.len(), 2 + 3 + 4 * 3);

    // Shallow: batch lines only. Skipped metadata: key and payload only.
    let (out, _, _) = dump(&opts(&[&log], &[]));
    assert_eq!(out.lines().count(), 2 + 5);
    let (out, _, _) = dump(&opts(
        &[&log],
        &["--print-data-log", "--skip-record-metadata"],
    ));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[3], "| key: k1 payload: hello");
    assert_eq!(lines[4], " payload: world");
}

#[test]
fn torn_tail_and_gaps_are_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("00000000000000000005.log");
    let mut bytes = batch(&[record(None, "a", 1, &[])], Compression::None, 5);
    bytes.extend(batch(&[record(None, "b", 2, &[])], Compression::None, 7));
    let whole = bytes.len();
    let tail = batch(&[record(None, "c", 3, &[])], Compression::None, 8);
    bytes.extend(&tail[..tail.len() - 3]);
    std::fs::write(&log, &bytes).unwrap();
    let (out, err, result) = dump(&opts(&[&log], &["--deep-iteration"]));
    result.unwrap();
    assert!(out.contains("Log starting offset: 5\n"));
    assert!(out.ends_with(&format!(
        "Found {} invalid bytes at the end of 00000000000000000005.log\n",
        bytes.len() - whole
    )));
    let abs = std::path::absolute(&log).unwrap();
    assert_eq!(
        err,
        format!(
            "Non-consecutive offsets in {}\n  5 is followed by 7\n",
            abs.display()
        )
    );
    // --max-bytes stops early without the trailing-bytes line.
    let (out, _, _) = dump(&opts(&[&log], &["--max-bytes", "80"]));
    assert!(!out.contains("invalid bytes"), "{out}");
    assert!(out.contains("baseOffset: 5 "), "{out}");
    assert!(!out.contains("baseOffset: 7 "), "{out}");
}

#[test]
fn broken_files_fail_with_kafkas_exceptions() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("00000000000000000000.log");
    let (out, _, result) = dump(&opts(&[&missing], &[]));
    assert_eq!(
        out,
        format!("Dumping {}\nLog starting offset: 0\n", missing.display())
    );
    assert_eq!(
        result.unwrap_err().report(),
        format!(
            "Exception in thread \"main\" java.nio.file.NoSuchFileException: {}\n",
            missing.display()
        )
    );

    // A batch length below any format's minimum.
    let log = dir.path().join("00000000000000000009.log");
    let mut bytes = vec![0u8; 20];
    bytes[8..12].copy_from_slice(&3i32.to_be_bytes());
    std::fs::write(&log, &bytes).unwrap();
    let (_, _, result) = dump(&opts(&[&log], &[]));
    assert_eq!(
        result.unwrap_err().report(),
        format!(
            "Exception in thread \"main\" org.apache.kafka.common.errors.CorruptRecordException: \
             Found record size 3 smaller than minimum record overhead (14) in file {}.\n",
            log.display()
        )
    );

    // A record body that does not parse: the batch line, then the exception.
    let mut bytes = batch(&[record(Some("k"), "value", 1, &[])], Compression::None, 9);
    // The record's length varint made negative (zig-zag 0x7f is -64).
    bytes[61] = 0x7f;
    std::fs::write(&log, &bytes).unwrap();
    let (out, _, result) = dump(&opts(&[&log], &["--deep-iteration"]));
    assert!(out.contains("isvalid: false"), "{out}");
    assert_eq!(
        result.unwrap_err().class,
        "org.apache.kafka.common.InvalidRecordException"
    );

    // Files named without an offset, or of unknown kinds.
    let odd = dir.path().join("notes.log");
    std::fs::write(&odd, b"").unwrap();
    let (_, _, result) = dump(&opts(&[&odd], &[]));
    assert_eq!(
        result.unwrap_err().report(),
        "Exception in thread \"main\" java.lang.NumberFormatException: For input string: \"notes\"\n"
    );
    let other = dir.path().join("leader-epoch-checkpoint.txt");
    let (_, err, result) = dump(&opts(&[&other], &[]));
    result.unwrap();
    assert_eq!(err, format!("Ignoring unknown file {}\n", other.display()));
}

/// Kafka reads a batch's records one at a time: the records before a bad one are printed, then
/// the dump ends with the bad one's exception; a negative count fails before any record.
#[test]
fn a_corrupt_record_count_ends_the_dump_after_the_records_that_read() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("00000000000000000015.log");
    let good = batch(
        &[record(Some("k"), "value-16", 1, &[])],
        Compression::None,
        15,
    );
    // records_count is at byte 57 of the batch header.
    let with_count = |count: i32| {
        let mut bytes = good.clone();
        bytes[57..61].copy_from_slice(&count.to_be_bytes());
        bytes
    };

    std::fs::write(&log, with_count(-2)).unwrap();
    let (out, _, result) = dump(&opts(&[&log], &["--deep-iteration"]));
    assert!(out.contains("count: -2"), "{out}");
    assert!(!out.contains("| offset:"), "{out}");
    assert_eq!(
        result.unwrap_err().report(),
        "Exception in thread \"main\" org.apache.kafka.common.InvalidRecordException: \
         Found invalid record count -2 in magic v2 batch\n"
    );

    // Two declared, one there: the record that reads is printed, then premature EOF.
    std::fs::write(&log, with_count(2)).unwrap();
    let (out, _, result) = dump(&opts(&[&log], &["--print-data-log"]));
    assert!(
        out.contains("| offset: 15 CreateTime: 1 keySize: 1 valueSize: 8"),
        "{out}"
    );
    assert!(out.contains("payload: value-16"), "{out}");
    assert_eq!(
        result.unwrap_err().report(),
        "Exception in thread \"main\" org.apache.kafka.common.InvalidRecordException: \
         Incorrect declared batch size, premature EOF reached\n"
    );

    // A count far past what the body can hold reserves nothing by it and fails the same way.
    std::fs::write(&log, with_count(i32::MAX)).unwrap();
    let (out, _, result) = dump(&opts(&[&log], &["--deep-iteration"]));
    assert!(out.contains("| offset: 15"), "{out}");
    assert!(result
        .unwrap_err()
        .message
        .contains("premature EOF reached"));
}

#[test]
fn index_entries_are_checked_against_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("00000000000000000010.log");
    let first = batch(
        &[record(None, "a", 100, &[]), record(None, "b", 150, &[])],
        Compression::None,
        10,
    );
    let second = batch(&[record(None, "c", 200, &[])], Compression::None, 12);
    let mut bytes = first.clone();
    bytes.extend(&second);
    std::fs::write(&log, &bytes).unwrap();
    let index = dir.path().join("00000000000000000010.index");
    let mut idx = Vec::new();
    // Right: offset 11 ends the first batch; wrong: offset 13 is not the second batch's last.
    idx.extend(1u32.to_be_bytes());
    idx.extend(0u32.to_be_bytes());
    idx.extend(3u32.to_be_bytes());
    idx.extend((first.len() as u32).to_be_bytes());
    std::fs::write(&index, &idx).unwrap();
    let time = dir.path().join("00000000000000000010.timeindex");
    let mut tidx = Vec::new();
    tidx.extend(150i64.to_be_bytes());
    tidx.extend(1u32.to_be_bytes());
    tidx.extend(210i64.to_be_bytes());
    tidx.extend(2u32.to_be_bytes());
    std::fs::write(&time, &tidx).unwrap();

    let (out, err, result) = dump(&opts(&[&index, &time], &[]));
    result.unwrap();
    assert_eq!(
        out,
        format!(
            "Dumping {}\noffset: 11 position: 0\noffset: 13 position: {}\nDumping {}\ntimestamp: 150 offset: 11\ntimestamp: 210 offset: 12\n",
            index.display(),
            first.len(),
            time.display()
        )
    );
    let abs = |p: &Path| std::path::absolute(p).unwrap().display().to_string();
    assert_eq!(
        err,
        format!(
            "Mismatches in :{}\n  Index offset: 13, log offset: 12\nFound timestamp mismatch in :{}\n  Index timestamp: 210, log timestamp: 200\n",
            abs(&index),
            abs(&time)
        )
    );
    let (out, _, _) = dump(&opts(&[&index], &["--verify-index-only"]));
    assert_eq!(out, format!("Dumping {}\n", index.display()));
    let (out, _, _) = dump(&opts(&[&index, &time], &["--index-sanity-check"]));
    assert_eq!(
        out,
        format!(
            "Dumping {0}\n{0} passed sanity check.\nDumping {1}\n{1} passed sanity check.\n",
            index.display(),
            time.display()
        )
    );
    idx.push(0);
    std::fs::write(&index, &idx).unwrap();
    let (_, _, result) = dump(&opts(&[&index], &["--index-sanity-check"]));
    assert_eq!(
        result.unwrap_err().message,
        format!(
            "Index file {} is corrupt, found 17 bytes which is neither positive nor a multiple of 8",
            abs(&index)
        )
    );
    let empty = dir.path().join("00000000000000000020.index");
    std::fs::write(dir.path().join("00000000000000000020.log"), b"").unwrap();
    std::fs::write(&empty, b"").unwrap();
    let (out, _, _) = dump(&opts(&[&empty], &[]));
    assert!(out.ends_with(&format!("{} is empty.\n", empty.display())));
}

/// The slices Kafka takes of a log fail with `FileRecords`' texts, naming the file as
/// `FileRecords.toString` does.
#[test]
fn bad_slices_fail_with_file_records_texts() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("00000000000000000010.log");
    let bytes = batch(&[record(None, "a", 100, &[])], Compression::None, 10);
    std::fs::write(&log, &bytes).unwrap();
    let size = bytes.len();
    let records = format!(
        "FileRecords(size={size}, file={}, start=0, end=2147483647)",
        std::path::absolute(&log).unwrap().display()
    );
    let index = dir.path().join("00000000000000000010.index");
    let write_index = |position: u32| {
        let mut idx = Vec::new();
        idx.extend(0u32.to_be_bytes());
        idx.extend(position.to_be_bytes());
        std::fs::write(&index, &idx).unwrap();
    };
    let failure = |extra: &[&str], file: &Path| dump(&opts(&[file], extra)).2.unwrap_err();

    write_index(65535);
    let f = failure(&[], &index);
    assert_eq!(f.class, "java.lang.IllegalArgumentException");
    assert_eq!(
        f.message,
        format!("Slice from position 65535 exceeds end position of {records}")
    );
    // Java reads the position as an int.
    write_index(u32::MAX);
    assert_eq!(
        failure(&[], &index).message,
        format!("Invalid position: -1 in read from {records}")
    );
    write_index(0);
    assert_eq!(
        failure(&["--max-message-size", "-5"], &index).message,
        format!("Invalid size: -5 in read from {records}")
    );
    // The log itself is opened by the name it was given.
    assert_eq!(
        failure(&["--max-bytes", "-1"], &log).message,
        format!(
            "Invalid size: -1 in read from FileRecords(size={size}, file={}, start=0, end=2147483647)",
            log.display()
        )
    );
}

#[test]
fn aborted_transactions_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("00000000000000000000.txnindex");
    let entry = broker::log::txn::TxnIndexEntry {
        producer_id: 7,
        first_offset: 3,
        last_offset: 9,
        last_stable_offset: 3,
    };
    std::fs::write(&path, entry.to_bytes()).unwrap();
    let (out, _, result) = dump(&opts(&[&path], &[]));
    result.unwrap();
    assert!(out
        .ends_with("version: 0 producerId: 7 firstOffset: 3 lastOffset: 9 lastStableOffset: 3\n"));
}

#[test]
fn java_file_text_drops_extra_separators() {
    assert_eq!(java_file_text("a//b/"), "a/b");
    assert_eq!(java_file_text("/"), "/");
}
