//! Durability in `dataDir`: a snapshot (`snapshot.json`) plus a journal (`journal.log`) of the
//! records applied since. Each journal record is `[u32 len][u32 crc32c(json)][json]`, big-endian,
//! appended and fsynced before the change is acknowledged.
//!
//! At start-up the snapshot is read, the journal replayed (a torn or corrupt tail, the trace of a
//! crash mid-append, is dropped and logged), and the result written as a new snapshot; then the
//! journal starts empty, so it never grows beyond one run's changes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::state::{Durable, Record};

pub const SNAPSHOT_FILE: &str = "snapshot.json";
pub const JOURNAL_FILE: &str = "journal.log";
const RECORD_HEADER_BYTES: usize = 8;
/// A record holds one topic at most; this bounds what replay will allocate for a length it reads.
pub const MAX_RECORD_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Error)]
pub enum JournalError {
    // `cause`, not `source`: the message includes it, anyhow would print it twice.
    #[error("{path}: {cause}")]
    Io { path: PathBuf, cause: io::Error },
    #[error("{path}: unreadable snapshot ({reason}); refusing to start rather than lose metadata")]
    CorruptSnapshot { path: PathBuf, reason: String },
    #[error("encoding a journal record: {0}")]
    Encode(String),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> JournalError + '_ {
    move |cause| JournalError::Io {
        path: path.to_path_buf(),
        cause,
    }
}

pub fn encode_record(record: &Record) -> Result<Vec<u8>, JournalError> {
    let json = serde_json::to_vec(record).map_err(|e| JournalError::Encode(e.to_string()))?;
    if json.len() > MAX_RECORD_BYTES {
        return Err(JournalError::Encode(format!(
            "record of {} bytes exceeds {MAX_RECORD_BYTES}",
            json.len()
        )));
    }
    let mut out = Vec::with_capacity(RECORD_HEADER_BYTES + json.len());
    out.extend_from_slice(&(json.len() as u32).to_be_bytes());
    out.extend_from_slice(&crc32c::crc32c(&json).to_be_bytes());
    out.extend_from_slice(&json);
    Ok(out)
}

/// What replay found: the good records, where they end, and why the rest (if any) was dropped.
#[derive(Debug, PartialEq)]
pub struct Replay {
    pub records: Vec<Record>,
    pub good_bytes: usize,
    pub bad_tail: Option<String>,
}

/// Decodes journal bytes up to the first record that is incomplete or fails its checks.
pub fn decode_records(bytes: &[u8]) -> Replay {
    let mut records = Vec::new();
    let mut pos = 0;
    let bad_tail = loop {
        let rest = &bytes[pos..];
        if rest.is_empty() {
            break None;
        }
        let Some(header) = rest.get(..RECORD_HEADER_BYTES) else {
            break Some(format!("incomplete record header ({} bytes)", rest.len()));
        };
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let crc = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
        if len == 0 || len > MAX_RECORD_BYTES {
            break Some(format!("impossible record length {len}"));
        }
        let Some(json) = rest.get(RECORD_HEADER_BYTES..RECORD_HEADER_BYTES + len) else {
            break Some(format!(
                "record of {len} bytes with only {} present",
                rest.len() - RECORD_HEADER_BYTES
            ));
        };
        if crc32c::crc32c(json) != crc {
            break Some("CRC mismatch".to_string());
        }
        match serde_json::from_slice::<Record>(json) {
            Ok(r) => records.push(r),
            Err(e) => break Some(format!("undecodable record: {e}")),
        }
        pos += RECORD_HEADER_BYTES + len;
    };
    Replay {
        records,
        good_bytes: pos,
        bad_tail,
    }
}

pub struct Journal {
    path: PathBuf,
    file: File,
    len: u64,
    /// Milliseconds each append's write and fsync took (ZooKeeper's `fsynctime`).
    fsync_time: prometheus_client::metrics::histogram::Histogram,
}

impl Journal {
    /// Recovers the durable state from `dir` (created if missing), writes it as the new snapshot
    /// with the generation bumped, and opens an empty journal.
    pub fn open(dir: &Path) -> Result<(Durable, Journal), JournalError> {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let snap_path = dir.join(SNAPSHOT_FILE);
        let mut durable = match fs::read(&snap_path) {
            Ok(bytes) => serde_json::from_slice::<Durable>(&bytes).map_err(|e| {
                JournalError::CorruptSnapshot {
                    path: snap_path.clone(),
                    reason: e.to_string(),
                }
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Durable::default(),
            Err(e) => return Err(io_err(&snap_path)(e)),
        };
        let path = dir.join(JOURNAL_FILE);
        match fs::read(&path) {
            Ok(bytes) => {
                let replay = decode_records(&bytes);
                if let Some(why) = &replay.bad_tail {
                    tracing::warn!(
                        "journal {}: truncating {} bytes at offset {} ({why}); kept {} records before it",
                        path.display(),
                        bytes.len() - replay.good_bytes,
                        replay.good_bytes,
                        replay.records.len()
                    );
                    // The truncation itself is done by the snapshot + empty journal below; cut
                    // here too so a crash before that does not meet the same tail again.
                    let f = OpenOptions::new()
                        .write(true)
                        .open(&path)
                        .map_err(io_err(&path))?;
                    f.set_len(replay.good_bytes as u64).map_err(io_err(&path))?;
                    f.sync_all().map_err(io_err(&path))?;
                }
                for r in &replay.records {
                    durable.apply(r);
                }
                tracing::info!(
                    "replayed {} journal records; {} topics, {} groups with offsets",
                    replay.records.len(),
                    durable.topics.len(),
                    durable.groups.len()
                );
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&path)(e)),
        }
        durable.generation += 1;
        if durable.cluster_id.is_none() {
            // The first start: the id is made here and is durable once the snapshot below is.
            let id = crate::state::new_cluster_id();
            tracing::info!("generated cluster id {id}");
            durable.cluster_id = Some(id);
        }
        write_snapshot(dir, &durable)?;
        // Everything the journal held is in the snapshot now. A crash before the truncation
        // below replays the old journal over the new snapshot, which is harmless: records state
        // absolute values.
        File::create(&path)
            .and_then(|f| f.sync_all())
            .map_err(io_err(&path))?;
        sync_dir(dir)?;
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        Ok((
            durable,
            Journal {
                path,
                file,
                len: 0,
                fsync_time: crate::metrics::fsync_time_histogram(),
            },
        ))
    }

    /// Appends and fsyncs; only after this returns Ok may a change be applied and acknowledged.
    pub fn append(&mut self, records: &[Record]) -> Result<(), JournalError> {
        let mut buf = Vec::new();
        for r in records {
            buf.extend_from_slice(&encode_record(r)?);
        }
        let started = std::time::Instant::now();
        let written = self
            .file
            .write_all(&buf)
            .and_then(|()| self.file.sync_data());
        self.fsync_time
            .observe(started.elapsed().as_secs_f64() * 1000.0);
        if let Err(e) = written {
            // Leave no half-written record for later appends to sit behind (replay would stop
            // at it and drop them). If even this fails, the tail is cut at the next start.
            if let Err(e2) = self.file.set_len(self.len) {
                tracing::error!(
                    "journal {}: cannot cut a failed append: {e2}",
                    self.path.display()
                );
            }
            return Err(io_err(&self.path)(e));
        }
        self.len += buf.len() as u64;
        Ok(())
    }

    /// Bytes in the journal file (records since the snapshot written at start-up).
    pub fn len_bytes(&self) -> u64 {
        self.len
    }

    /// The append latency histogram (shares its series with every clone).
    pub fn fsync_time(&self) -> prometheus_client::metrics::histogram::Histogram {
        self.fsync_time.clone()
    }
}

/// Writes the snapshot so that a crash at any point leaves either the old or the new one:
/// temp file, fsync, rename over, fsync the directory (which makes the rename durable).
fn write_snapshot(dir: &Path, durable: &Durable) -> Result<(), JournalError> {
    let json = serde_json::to_vec(durable).map_err(|e| JournalError::Encode(e.to_string()))?;
    let tmp = dir.join(format!("{SNAPSHOT_FILE}.tmp"));
    let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(&json)
        .and_then(|()| f.sync_all())
        .map_err(io_err(&tmp))?;
    drop(f);
    let target = dir.join(SNAPSHOT_FILE);
    fs::rename(&tmp, &target).map_err(io_err(&target))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::protocol::{BrokerId, PartitionInfo, TopicInfo};

    fn topic(name: &str, partitions: i32) -> TopicInfo {
        TopicInfo {
            name: name.into(),
            id: crate::state::new_topic_id(),
            configs: Default::default(),
            partitions: (0..partitions)
                .map(|p| PartitionInfo {
                    partition: p,
                    replicas: vec![BrokerId(0)],
                    leader: BrokerId(0),
                    leader_epoch: common::ids::LeaderEpoch(0),
                    isr: vec![BrokerId(0)],
                    partition_epoch: 0,
                    adding_replicas: Vec::new(),
                    removing_replicas: Vec::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn replay_gives_the_same_state() {
        let dir = tempfile::tempdir().unwrap();
        let (d0, mut j) = Journal::open(dir.path()).unwrap();
        assert_eq!(d0.generation, 1);
        let mut expect = d0.clone();
        let records = vec![
            Record::PutTopic {
                topic: topic("a", 2),
            },
            Record::PutTopic {
                topic: topic("b", 1),
            },
            Record::DeleteTopic { name: "a".into() },
            Record::SessionTimeoutSeen { ms: 18000 },
            Record::PutTopic {
                topic: topic("a", 3),
            },
        ];
        for r in &records {
            j.append(std::slice::from_ref(r)).unwrap();
            expect.apply(r);
        }
        drop(j);
        let (d1, _j) = Journal::open(dir.path()).unwrap();
        assert_eq!(d1.topics, expect.topics);
        assert_eq!(d1.max_session_timeout_ms, 18000);
        assert_eq!(d1.generation, 2);
        // The journal was folded into the snapshot and starts empty.
        assert_eq!(
            fs::metadata(dir.path().join(JOURNAL_FILE)).unwrap().len(),
            0
        );
        drop(_j);
        let (d2, _) = Journal::open(dir.path()).unwrap();
        assert_eq!(d2.topics, expect.topics);
    }

    #[test]
    fn broker_configs_replay_and_old_snapshots_without_them_load() {
        let dir = tempfile::tempdir().unwrap();
        let (_, mut j) = Journal::open(dir.path()).unwrap();
        let set = |pairs: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        j.append(&[
            Record::PutBrokerConfigs {
                entity: "".into(),
                configs: set(&[("log.retention.ms", "1000")]),
            },
            Record::PutBrokerConfigs {
                entity: "1".into(),
                configs: set(&[("message.max.bytes", "10")]),
            },
            // Replayed twice is the same as once; an empty set removes the entity.
            Record::PutBrokerConfigs {
                entity: "1".into(),
                configs: set(&[]),
            },
        ])
        .unwrap();
        drop(j);
        let (d, _j) = Journal::open(dir.path()).unwrap();
        assert_eq!(
            d.broker_configs,
            [("".to_string(), set(&[("log.retention.ms", "1000")]))].into()
        );
        // A snapshot written before dynamic broker configs existed still loads.
        let old: Durable = serde_json::from_str(r#"{"generation":3,"topics":{}}"#).unwrap();
        assert!(old.broker_configs.is_empty());
    }

    #[test]
    fn torn_tail_is_truncated_on_replay() {
        let dir = tempfile::tempdir().unwrap();
        let (_, mut j) = Journal::open(dir.path()).unwrap();
        let keep = topic("kept", 1);
        j.append(&[Record::PutTopic {
            topic: keep.clone(),
        }])
        .unwrap();
        drop(j);
        let path = dir.path().join(JOURNAL_FILE);
        let good_len = fs::metadata(&path).unwrap().len() as usize;
        // A second record cut off mid-write, as a crash would leave it.
        let torn = encode_record(&Record::PutTopic {
            topic: topic("lost", 1),
        })
        .unwrap();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&torn[..torn.len() / 2]).unwrap();
        drop(f);
        let bytes = fs::read(&path).unwrap();
        let replay = decode_records(&bytes);
        assert_eq!(replay.good_bytes, good_len);
        assert!(replay.bad_tail.unwrap().contains("only"));
        let (d, _) = Journal::open(dir.path()).unwrap();
        assert_eq!(d.topics.keys().collect::<Vec<_>>(), ["kept"]);
        assert_eq!(d.topics["kept"], keep);
    }

    #[test]
    fn corrupt_record_stops_replay_at_it() {
        let a = encode_record(&Record::DeleteTopic { name: "a".into() }).unwrap();
        let mut b = encode_record(&Record::DeleteTopic { name: "b".into() }).unwrap();
        let last = b.len() - 2;
        b[last] ^= 0xff;
        let c = encode_record(&Record::DeleteTopic { name: "c".into() }).unwrap();
        let bytes = [a.clone(), b, c].concat();
        let replay = decode_records(&bytes);
        assert_eq!(replay.records.len(), 1);
        assert_eq!(replay.good_bytes, a.len());
        assert_eq!(replay.bad_tail.as_deref(), Some("CRC mismatch"));
        // Garbage lengths do not allocate.
        let replay = decode_records(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1]);
        assert!(replay.records.is_empty() && replay.bad_tail.is_some());
    }

    #[test]
    fn arbitrary_bytes_replay_without_panicking() {
        let good = encode_record(&Record::DeleteTopic { name: "a".into() }).unwrap();
        let mut x: u32 = 7;
        for n in 0..500usize {
            let mut bytes = good.clone();
            bytes.extend((0..n % 40).map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            }));
            let replay = decode_records(&bytes);
            assert!(!replay.records.is_empty() && replay.good_bytes <= bytes.len());
        }
    }

    #[test]
    fn corrupt_snapshot_refuses_to_start() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(SNAPSHOT_FILE), b"{not json").unwrap();
        assert!(matches!(
            Journal::open(dir.path()),
            Err(JournalError::CorruptSnapshot { .. })
        ));
    }

    fn offsets_record(group: &str, generation: i32, topic: &str, offset: i64) -> Record {
        Record::PutOffsets {
            group: group.into(),
            generation,
            offsets: vec![crate::protocol::CommittedOffset {
                topic: topic.into(),
                partition: 0,
                offset,
                leader_epoch: common::ids::LeaderEpoch::UNKNOWN,
                metadata: (offset % 2 == 0).then(String::new),
                commit_timestamp_ms: offset,
            }],
        }
    }

    #[test]
    fn committed_offsets_replay_and_a_second_replay_is_harmless() {
        let dir = tempfile::tempdir().unwrap();
        let (d0, mut j) = Journal::open(dir.path()).unwrap();
        let mut expect = d0.clone();
        let records = vec![
            Record::PutTopic {
                topic: topic("a", 1),
            },
            Record::PutTopic {
                topic: topic("b", 1),
            },
            offsets_record("g", 3, "a", 10),
            offsets_record("g", 4, "b", 11),
            offsets_record("h", -1, "a", 12),
            offsets_record("gone", 1, "a", 1),
            Record::DeleteGroupOffsets {
                group: "gone".into(),
            },
            offsets_record("g", 4, "a", 13),
            Record::DeleteTopic { name: "b".into() },
            Record::DeleteOffsets {
                group: "h".into(),
                partitions: vec![crate::protocol::TopicPartition {
                    topic: "a".into(),
                    partition: 0,
                }],
            },
        ];
        for r in &records {
            j.append(std::slice::from_ref(r)).unwrap();
            expect.apply(r);
        }
        drop(j);
        let journal = fs::read(dir.path().join(JOURNAL_FILE)).unwrap();
        let (d1, j) = Journal::open(dir.path()).unwrap();
        assert_eq!(d1.groups, expect.groups);
        assert_eq!(d1.groups["g"].generation, 4);
        assert_eq!(d1.groups["g"].offsets["a"][&0].offset, 13);
        assert!(!d1.groups["g"].offsets.contains_key("b"));
        assert!(!d1.groups.contains_key("gone"));
        drop(j);
        // A crash after the new snapshot but before the journal was emptied replays the same
        // records over a snapshot that already holds them: the state must not change.
        fs::write(dir.path().join(JOURNAL_FILE), &journal).unwrap();
        let (d2, _) = Journal::open(dir.path()).unwrap();
        assert_eq!(d2.groups, expect.groups);
        assert_eq!(d2.topics, expect.topics);
    }

    #[test]
    fn snapshot_from_before_groups_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join(SNAPSHOT_FILE),
            br#"{"generation":3,"max_session_timeout_ms":0,"topics":{}}"#,
        )
        .unwrap();
        let (d, _) = Journal::open(dir.path()).unwrap();
        assert_eq!(d.generation, 4);
        assert!(d.groups.is_empty());
    }
}
