//! The per-partition recovery checkpoint (`recovery-point-offset-checkpoint`): everything below
//! `recovery_point` was fsynced together with its indexes, so a restart only scans from there.
//! It also carries the producer state at that point, so idempotent producers survive restarts
//! without rereading the whole log, and the log start offset (what Kafka keeps in
//! `log-start-offset-checkpoint`), so offsets deleted by retention stay deleted and the log end
//! offset never goes back after a restart, even when retention deleted every record.
//!
//! Written as temp file + fsync + rename + directory fsync: a crash leaves either the old or the
//! new checkpoint, never a torn one. A checkpoint that cannot be parsed is ignored (recovery then
//! scans everything), never trusted.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::producer_state::ProducerEntry;

pub const FILE_NAME: &str = "recovery-point-offset-checkpoint";
const TEMP_NAME: &str = "recovery-point-offset-checkpoint.tmp";
const VERSION: u32 = 1;
/// Far above any real checkpoint; a bigger file is garbage and is not read into memory.
const MAX_FILE_BYTES: u64 = 64 << 20;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCheckpoint {
    pub version: u32,
    /// Offsets below this were deleted (by retention); absent in older files (then 0).
    #[serde(default)]
    pub log_start_offset: i64,
    /// Offsets below this are durable.
    pub recovery_point: i64,
    /// The segment holding the recovery point, and the recovery point's position in it.
    pub segment_base: i64,
    pub segment_position: u64,
    /// That segment's max timestamp (and its offset) up to the recovery point.
    pub max_timestamp: i64,
    pub offset_of_max_timestamp: i64,
    pub producers: Vec<ProducerEntry>,
}

impl RecoveryCheckpoint {
    pub fn new(
        log_start_offset: i64,
        recovery_point: i64,
        segment_base: i64,
        segment_position: u64,
        max_timestamp: i64,
        offset_of_max_timestamp: i64,
        producers: Vec<ProducerEntry>,
    ) -> Self {
        RecoveryCheckpoint {
            version: VERSION,
            log_start_offset,
            recovery_point,
            segment_base,
            segment_position,
            max_timestamp,
            offset_of_max_timestamp,
            producers,
        }
    }
}

impl RecoveryCheckpoint {
    /// A checkpoint that keeps only the log start offset: its recovery point (-1) is below
    /// every segment and it holds no producer state, so recovery scans every segment as with no
    /// checkpoint at all. A truncation writes it in place of the one it makes wrong, so that a
    /// crash before the next flush cannot bring back offsets below the log start (DeleteRecords
    /// may have moved it inside a segment, where the segments alone cannot tell it).
    pub fn start_only(log_start_offset: i64) -> Self {
        RecoveryCheckpoint::new(log_start_offset, -1, -1, 0, -1, -1, Vec::new())
    }

    /// Whether this is a [`RecoveryCheckpoint::start_only`] one.
    pub fn is_start_only(&self) -> bool {
        self.recovery_point < 0
    }
}

/// Reads the checkpoint in `dir`; `None` when absent or unusable (logged).
pub fn read(dir: &Path) -> Option<RecoveryCheckpoint> {
    let path = dir.join(FILE_NAME);
    let mut file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!("ignoring {}: {e}", path.display());
            return None;
        }
    };
    let mut text = String::new();
    if let Err(e) = Read::by_ref(&mut file)
        .take(MAX_FILE_BYTES)
        .read_to_string(&mut text)
    {
        tracing::warn!("ignoring {}: {e}", path.display());
        return None;
    }
    match serde_json::from_str::<RecoveryCheckpoint>(&text) {
        Ok(cp) if cp.version == VERSION => Some(cp),
        Ok(cp) => {
            tracing::warn!(
                "ignoring {}: unknown version {}",
                path.display(),
                cp.version
            );
            None
        }
        Err(e) => {
            tracing::warn!("ignoring unreadable {}: {e}", path.display());
            None
        }
    }
}

/// Replaces the checkpoint in `dir` atomically and durably.
pub fn write(dir: &Path, checkpoint: &RecoveryCheckpoint) -> io::Result<()> {
    let temp = dir.join(TEMP_NAME);
    let body = serde_json::to_vec(checkpoint).map_err(io::Error::other)?;
    {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp)?;
        f.write_all(&body)?;
        f.sync_all()?;
    }
    fs::rename(&temp, dir.join(FILE_NAME))?;
    sync_dir(dir)
}

/// Makes created, renamed and removed directory entries durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_roundtrips_and_garbage_is_ignored() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(read(dir.path()), None);
        let cp = RecoveryCheckpoint::new(4, 10, 0, 500, 77, 3, Vec::new());
        write(dir.path(), &cp).expect("write");
        assert_eq!(read(dir.path()), Some(cp.clone()));
        fs::write(dir.path().join(FILE_NAME), b"{not json").expect("garbage");
        assert_eq!(read(dir.path()), None);
        // A checkpoint written before the log start offset was recorded reads as 0.
        fs::write(
            dir.path().join(FILE_NAME),
            br#"{"version":1,"recovery_point":3,"segment_base":0,"segment_position":9,"max_timestamp":-1,"offset_of_max_timestamp":0,"producers":[]}"#,
        )
        .expect("old format");
        assert_eq!(read(dir.path()).map(|cp| cp.log_start_offset), Some(0));
        let start_only = RecoveryCheckpoint::start_only(12);
        assert!(start_only.is_start_only() && !cp.is_start_only());
        write(dir.path(), &start_only).expect("write");
        assert_eq!(read(dir.path()), Some(start_only));
    }
}
