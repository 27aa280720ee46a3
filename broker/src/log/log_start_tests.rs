//! The log start offset that DeleteRecords moves (Kafka's `UnifiedLog.maybeIncrementLogStartOffset`):
//! inside a segment, segments wholly below it deleted, kept across a restart by the checkpoint.

use super::partition_log::PartitionLog;
use super::testutil::batch;
use super::{DurableLog, LogConfig};

fn small_config() -> LogConfig {
    LogConfig {
        segment_bytes: 1_000,
        index_interval_bytes: 100,
        retention_ms: None,
        ..LogConfig::default()
    }
}

/// A log of 40 one-record batches over several segments.
fn filled(dir: &std::path::Path) -> PartitionLog {
    let mut log = PartitionLog::open(dir, small_config()).expect("open");
    for _ in 0..40 {
        log.append(&batch(1, 100), 3, 0).expect("append");
    }
    assert!(log.segment_count() > 3, "{} segments", log.segment_count());
    log
}

fn segment_bases(dir: &std::path::Path) -> Vec<i64> {
    let mut bases: Vec<i64> = std::fs::read_dir(dir)
        .expect("ls")
        .filter_map(|e| {
            let name = e.expect("entry").file_name().to_string_lossy().into_owned();
            name.strip_suffix(".log").and_then(|b| b.parse().ok())
        })
        .collect();
    bases.sort_unstable();
    bases
}

#[test]
fn log_start_offset_moves_inside_a_segment_and_deletes_the_segments_below() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = filled(dir.path());
    let bases = segment_bases(dir.path());
    // An offset strictly inside the third segment.
    let target = bases[2] + 1;
    assert!(log.advance_log_start_offset(target).expect("advance"));
    assert_eq!(log.log_start_offset(), target);
    assert_eq!(
        segment_bases(dir.path())[0],
        bases[2],
        "two segments deleted"
    );
    // Reads below the start are out of range; at the start they work.
    assert_eq!(
        log.read(target - 1, 1 << 20)
            .expect_err("deleted")
            .kafka_error_code(),
        1
    );
    assert!(!log.read(target, 1 << 20).expect("read").records.is_empty());
    // Never backwards.
    assert!(!log.advance_log_start_offset(target - 1).expect("no-op"));
    assert_eq!(log.log_start_offset(), target);
    // Earliest (ListOffsets -2) is the new start.
    assert!(matches!(
        log.timestamp_lookup(-2),
        super::partition_log::TimestampLookup::Done(Some((o, _))) if o == target
    ));
}

#[test]
fn log_start_offset_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = filled(dir.path());
    let bases = segment_bases(dir.path());
    let target = bases[1] + 2;
    log.advance_log_start_offset(target).expect("advance");
    let config = log.config().clone();
    // No clean close: what the checkpoint holds is what comes back.
    std::mem::forget(log);
    let log = PartitionLog::open(dir.path(), config).expect("reopen");
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (target, 40));
}

#[test]
fn log_start_offset_at_the_log_end_empties_the_log_for_readers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = filled(dir.path());
    log.advance_log_start_offset(40).expect("advance");
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (40, 40));
    let config = log.config().clone();
    drop(log);
    let mut log = PartitionLog::open(dir.path(), config).expect("reopen");
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (40, 40));
    assert_eq!(
        log.append(&batch(1, 10), 3, 0).expect("append").base_offset,
        40
    );
}

#[test]
fn truncation_below_the_log_start_offset_lowers_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = filled(dir.path());
    log.advance_log_start_offset(39).expect("advance");
    log.truncate_to(38).expect("truncate");
    assert!(log.log_start_offset() <= 38);
    assert_eq!(log.log_end_offset(), 38);
}

#[tokio::test]
async fn durable_log_refuses_a_start_above_the_high_watermark() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(filled(dir.path()));
    let log = DurableLog::open(dir.path(), small_config()).expect("open");
    let hw = log.high_watermark();
    let err = log
        .advance_log_start_offset(hw + 1)
        .expect_err("above the high watermark");
    assert_eq!(err.kafka_error_code(), 1);
    assert!(log.advance_log_start_offset(hw).expect("at hw"));
    assert_eq!(log.log_start_offset(), hw);
    log.close().await;
}

/// A flush planned before a DeleteRecords, and run after it (the flusher works outside the log's
/// lock), must not write a checkpoint naming the old start over the new one: after a crash the
/// deleted records would be back.
#[test]
fn a_flush_planned_before_the_start_moved_does_not_bring_it_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = filled(dir.path());
    let bases = segment_bases(dir.path());
    let target = bases[1] + 1;
    let stale = log.flush_plan(true).expect("a plan");
    assert!(log.advance_log_start_offset(target).expect("advance"));
    stale.execute().expect("the stale plan runs");
    log.mark_flushed(&stale);
    // A crash: no clean close.
    std::mem::forget(log);
    let log = PartitionLog::open(dir.path(), small_config()).expect("reopen");
    assert_eq!(log.log_start_offset(), target);
}

/// A log start offset that could not be made durable (here the checkpoint cannot replace the
/// directory standing in its place) takes the log offline instead of serving on with a start a
/// restart would undo.
#[tokio::test]
async fn a_start_that_cannot_be_checkpointed_takes_the_log_offline() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(filled(dir.path()));
    let log = DurableLog::open(dir.path(), small_config()).expect("open");
    let checkpoint = dir.path().join(super::checkpoint::FILE_NAME);
    let _ = std::fs::remove_file(&checkpoint);
    std::fs::create_dir(&checkpoint).expect("a directory where the checkpoint goes");
    std::fs::write(checkpoint.join("keep"), b"x").expect("not empty");
    let err = log
        .advance_log_start_offset(5)
        .expect_err("the checkpoint cannot be written");
    assert!(matches!(err, super::LogError::Io(_)), "{err:?}");
    let again = log.advance_log_start_offset(6);
    assert!(
        matches!(again, Err(super::LogError::Offline(_))),
        "{again:?}"
    );
    log.close().await;
}

/// A truncation (a follower dropping a diverged tail) replaces the checkpoint it makes wrong
/// with one that keeps only the log start offset: a crash before it finishes (here it fails
/// half-way, a directory standing where a file it deletes should be) must not bring back the
/// records DeleteRecords deleted inside the first segment.
#[test]
fn a_truncation_cut_short_keeps_the_log_start_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = filled(dir.path());
    let bases = segment_bases(dir.path());
    let target = bases[1] + 1;
    assert!(log.advance_log_start_offset(target).expect("advance"));
    let active = *bases.last().expect("segments");
    let time_index = dir.path().join(format!("{active:020}.timeindex"));
    std::fs::remove_file(&time_index).expect("rm time index");
    std::fs::create_dir(&time_index).expect("a directory in its place");
    std::fs::write(time_index.join("keep"), b"x").expect("not empty");
    log.truncate_to(active - 1)
        .expect_err("the truncation stops half-way");
    // A crash there: no clean close.
    std::mem::forget(log);
    std::fs::remove_dir_all(&time_index).expect("rm the directory");
    let log = PartitionLog::open(dir.path(), small_config()).expect("reopen");
    assert_eq!(log.log_start_offset(), target);
    assert!(log.log_end_offset() >= active - 1);
    assert!(!log.read(target, 1 << 20).expect("read").records.is_empty());
}

/// A checkpoint with only the log start offset makes recovery scan every segment (producer
/// state included) and keeps the start.
#[test]
fn a_start_only_checkpoint_keeps_the_start_and_recovery_scans_everything() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = PartitionLog::open(dir.path(), small_config()).expect("open");
    for seq in 0..30 {
        log.append(&super::testutil::idempotent_batch(7, 0, seq, 1), 3, 0)
            .expect("append");
    }
    assert!(log.advance_log_start_offset(3).expect("advance"));
    std::mem::forget(log);
    super::checkpoint::write(
        dir.path(),
        &super::checkpoint::RecoveryCheckpoint::start_only(3),
    )
    .expect("start-only checkpoint");
    let mut log = PartitionLog::open(dir.path(), small_config()).expect("reopen");
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (3, 30));
    // The producer's state came back from the scan: its next sequence is in order, a
    // duplicate is found.
    let dup = log
        .append(&super::testutil::idempotent_batch(7, 0, 29, 1), 3, 0)
        .expect("duplicate");
    assert!(dup.duplicate);
    assert_eq!(dup.base_offset, 29);
    assert_eq!(log.log_end_offset(), 30);
    log.append(&super::testutil::idempotent_batch(7, 0, 30, 1), 3, 0)
        .expect("next in sequence");
    assert_eq!(log.log_end_offset(), 31);
}
