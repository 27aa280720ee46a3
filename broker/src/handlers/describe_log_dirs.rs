//! DescribeLogDirs (API key 35, v0-4): every log directory of this broker with the partitions
//! stored in it, as Kafka's `ReplicaManager.describeLogDirs` answers it: per directory its
//! absolute path, error (none: an unusable directory stops our broker), and per partition the
//! bytes of its segments (`UnifiedLog.size`), an offset lag of 0 (no future replicas, KIP-113)
//! and `is_future_key` false; v4 adds the volume's total and usable bytes (-1 when unknown).
//! A null topics list asks for every partition.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kafka_protocol::messages::describe_log_dirs_response::{
    DescribeLogDirsPartition, DescribeLogDirsResult, DescribeLogDirsTopic,
};
use kafka_protocol::messages::{DescribeLogDirsRequest, DescribeLogDirsResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;

/// Kafka's `DescribeLogDirsResponse.UNKNOWN_VOLUME_BYTES`.
const UNKNOWN_VOLUME_BYTES: i64 = -1;

/// The absolute form of a directory, as Kafka's `File.getAbsolutePath` names it (not
/// canonicalised: symlinks stay as configured).
fn absolute(dir: &Path) -> PathBuf {
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// (total bytes, usable bytes) of the file system holding `dir` (Java's `FileStore.getTotalSpace`
/// and `getUsableSpace`), or -1 each when it cannot be read.
#[cfg(unix)]
fn volume_bytes(dir: &Path) -> (i64, i64) {
    match rustix::fs::statvfs(dir) {
        Ok(s) => {
            let bytes =
                |blocks: u64| i64::try_from(blocks.saturating_mul(s.f_frsize)).unwrap_or(i64::MAX);
            (bytes(s.f_blocks), bytes(s.f_bavail))
        }
        Err(e) => {
            tracing::warn!("statvfs of {} failed: {e}", dir.display());
            (UNKNOWN_VOLUME_BYTES, UNKNOWN_VOLUME_BYTES)
        }
    }
}

#[cfg(not(unix))]
fn volume_bytes(_dir: &Path) -> (i64, i64) {
    (UNKNOWN_VOLUME_BYTES, UNKNOWN_VOLUME_BYTES)
}

/// Answers a DescribeLogDirs request. Statting the volumes and sizing the logs touches no file
/// contents; it runs on a blocking thread all the same, since a slow disk must not stall a worker.
pub async fn handle(
    broker: &Arc<Broker>,
    request: DescribeLogDirsRequest,
    version: i16,
) -> DescribeLogDirsResponse {
    let broker = broker.clone();
    match tokio::task::spawn_blocking(move || answer(&broker, &request, version)).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!("DescribeLogDirs failed: {e}");
            DescribeLogDirsResponse::default()
                .with_error_code(common::errors::ErrorCode::UnknownServerError.code())
        }
    }
}

fn answer(
    broker: &Broker,
    request: &DescribeLogDirsRequest,
    version: i16,
) -> DescribeLogDirsResponse {
    // `None`: every partition; else the (topic, partition) pairs asked about.
    let wanted: Option<BTreeSet<(String, i32)>> = request.topics.as_ref().map(|topics| {
        topics
            .iter()
            .flat_map(|t| {
                t.partitions
                    .iter()
                    .map(move |p| (t.topic.0.as_str().to_string(), *p))
            })
            .collect()
    });
    // Per log dir (absolute), per topic, (partition, size in bytes).
    let dirs: Vec<PathBuf> = broker.config.log_dirs.iter().map(|d| absolute(d)).collect();
    let mut by_dir: BTreeMap<PathBuf, BTreeMap<String, Vec<(i32, i64)>>> = BTreeMap::new();
    for (tp, hosted) in broker.partitions.all() {
        if wanted
            .as_ref()
            .is_some_and(|w| !w.contains(&(tp.topic.clone(), tp.partition)))
        {
            continue;
        }
        let Some(parent) = hosted.log.dir().parent().map(absolute) else {
            continue;
        };
        let size = i64::try_from(hosted.log.size_bytes()).unwrap_or(i64::MAX);
        by_dir
            .entry(parent)
            .or_default()
            .entry(tp.topic.clone())
            .or_default()
            .push((tp.partition, size));
    }
    let results = dirs
        .iter()
        .map(|dir| {
            let topics = by_dir
                .remove(dir)
                .unwrap_or_default()
                .into_iter()
                .map(|(topic, mut partitions)| {
                    partitions.sort_unstable();
                    DescribeLogDirsTopic::default()
                        .with_name(TopicName(StrBytes::from_string(topic)))
                        .with_partitions(
                            partitions
                                .into_iter()
                                .map(|(partition, size)| {
                                    DescribeLogDirsPartition::default()
                                        .with_partition_index(partition)
                                        .with_partition_size(size)
                                        .with_offset_lag(0)
                                        .with_is_future_key(false)
                                })
                                .collect(),
                        )
                })
                .collect();
            let mut result = DescribeLogDirsResult::default()
                .with_error_code(0)
                .with_log_dir(StrBytes::from_string(dir.to_string_lossy().into_owned()))
                .with_topics(topics);
            if version >= 4 {
                let (total, usable) = volume_bytes(dir);
                result = result.with_total_bytes(total).with_usable_bytes(usable);
            }
            result
        })
        .collect();
    DescribeLogDirsResponse::default()
        .with_throttle_time_ms(0)
        .with_error_code(0)
        .with_results(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_sizes_of_an_existing_directory_are_known() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (total, usable) = volume_bytes(dir.path());
        if cfg!(unix) {
            assert!(
                total > 0 && usable >= 0 && usable <= total,
                "{total} {usable}"
            );
        }
        assert_eq!(
            volume_bytes(Path::new("/no/such/directory/anywhere")),
            (UNKNOWN_VOLUME_BYTES, UNKNOWN_VOLUME_BYTES)
        );
    }

    #[test]
    fn relative_log_dirs_are_reported_absolute() {
        let abs = absolute(Path::new("data/logs"));
        assert!(abs.is_absolute());
        assert!(abs.ends_with("data/logs"));
    }
}
