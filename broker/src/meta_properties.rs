//! `meta.properties`, the identity file Kafka keeps in every log directory: which cluster and which
//! broker the data there belongs to. A broker refuses to start on data of another cluster or of
//! another broker id, so a wrong `zookeeper.connect` or a copied data directory cannot mix logs.
//!
//! The ZooKeeper-mode layout (version 0), as Kafka 3.9 writes it (`MetaProperties.toProperties`
//! through `PropertiesUtils.writePropertiesFile`, i.e. `java.util.Properties.store` with an empty
//! comment, into a temporary file renamed over the old one):
//!
//! ```text
//! #
//! #Sun Nov 29 18:56:11 UTC 2026
//! version=0
//! broker.id=0
//! cluster.id=8rA9ipSFRhG7xcZvJ9Wmrg
//! ```
//!
//! Checks and texts follow `MetaPropertiesEnsemble.verify` with `REQUIRE_V0`, called from
//! `KafkaServer.startup` before the broker registers.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use common::ids::BrokerId;
use thiserror::Error;

/// The file's name inside each log directory (Kafka's `META_PROPERTIES_NAME`).
pub const META_PROPERTIES_NAME: &str = "meta.properties";

/// The content of one `meta.properties`: version 0 (ZooKeeper mode), where both ids are optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaProperties {
    /// `version`; 0 when the key is missing, as Kafka reads it.
    pub version: i32,
    pub cluster_id: Option<String>,
    /// `broker.id` (version 0 names the node id so).
    pub broker_id: Option<i32>,
}

/// Why a broker refuses its log directories; each is fatal at start-up.
#[derive(Debug, Error)]
pub enum MetaPropertiesError {
    #[error(
        "Found unexpected version in {0}. ZK-based brokers that are not migrating only support \
         version 0 (which is implicit when the `version` field is missing)."
    )]
    UnexpectedVersion(PathBuf),
    #[error("Invalid cluster.id in: {path}. Expected {expected}, but read {found}")]
    ClusterIdMismatch {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error(
        "Stored node id {stored} doesn't match previous node id {expected} in {path}. If you \
         moved your data, make sure your configured node id matches. If you intend to create a \
         new node, you should remove all data in your data directories."
    )]
    NodeIdMismatch {
        path: PathBuf,
        stored: i32,
        expected: i32,
    },
    #[error("Failed to parse {key} property as an int: {value} in {path}")]
    NotAnInt {
        path: PathBuf,
        key: &'static str,
        value: String,
    },
    #[error("Error while reading or writing {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

impl MetaProperties {
    /// Parses the text of a `meta.properties` (Java properties syntax). `path` only names the
    /// file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<MetaProperties, MetaPropertiesError> {
        let mut props = MetaProperties {
            version: 0,
            cluster_id: None,
            broker_id: None,
        };
        let int = |key: &'static str, value: &str| {
            value
                .trim()
                .parse::<i32>()
                .map_err(|_| MetaPropertiesError::NotAnInt {
                    path: path.to_path_buf(),
                    key,
                    value: value.to_string(),
                })
        };
        for (k, v) in common::properties::parse_trimmed(text) {
            match k.as_str() {
                "version" => props.version = int("version", &v)?,
                "cluster.id" => props.cluster_id = Some(v),
                "broker.id" => props.broker_id = Some(int("broker.id", &v)?),
                _ => {}
            }
        }
        Ok(props)
    }

    /// The file's text, dated `now` (seconds since the Unix epoch, rendered in UTC as Java's
    /// `Date.toString` does).
    pub fn render(&self, now_secs: i64) -> String {
        let mut out = format!("#\n#{}\nversion={}\n", java_date(now_secs), self.version);
        if let Some(id) = self.broker_id {
            out.push_str(&format!("broker.id={id}\n"));
        }
        if let Some(id) = &self.cluster_id {
            out.push_str(&format!("cluster.id={id}\n"));
        }
        out
    }

    /// Checks this file (found at `path`) against the cluster id zookeeper-lite holds and the
    /// configured `broker.id`, as `MetaPropertiesEnsemble.verify` does with `REQUIRE_V0`.
    pub fn verify(
        &self,
        path: &Path,
        cluster_id: &str,
        broker_id: i32,
    ) -> Result<(), MetaPropertiesError> {
        if self.version != 0 {
            return Err(MetaPropertiesError::UnexpectedVersion(path.to_path_buf()));
        }
        if let Some(found) = &self.cluster_id {
            if found != cluster_id {
                return Err(MetaPropertiesError::ClusterIdMismatch {
                    path: path.to_path_buf(),
                    expected: cluster_id.to_string(),
                    found: found.clone(),
                });
            }
        }
        if let Some(stored) = self.broker_id {
            if stored != broker_id {
                return Err(MetaPropertiesError::NodeIdMismatch {
                    path: path.to_path_buf(),
                    stored,
                    expected: broker_id,
                });
            }
        }
        Ok(())
    }
}

/// Verifies every log directory's `meta.properties` against `cluster_id` and `broker_id`, then
/// (only if all agree) writes the file where it is missing or differs, as `KafkaServer.startup`
/// does before registering. Nothing is written when any directory disagrees.
pub fn ensure(
    log_dirs: &[PathBuf],
    cluster_id: &str,
    broker_id: BrokerId,
) -> Result<(), MetaPropertiesError> {
    let broker_id = broker_id.get();
    let mut existing = Vec::with_capacity(log_dirs.len());
    for dir in log_dirs {
        let path = dir.join(META_PROPERTIES_NAME);
        let props = match fs::read_to_string(&path) {
            Ok(text) => Some(MetaProperties::parse(&text, &path)?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(source) => return Err(MetaPropertiesError::Io { path, source }),
        };
        if let Some(p) = &props {
            p.verify(&path, cluster_id, broker_id)?;
        }
        existing.push(props);
    }
    let wanted = MetaProperties {
        version: 0,
        cluster_id: Some(cluster_id.to_string()),
        broker_id: Some(broker_id),
    };
    let now = common::time::now_ms() / 1000;
    for (dir, props) in log_dirs.iter().zip(existing) {
        if props.as_ref() == Some(&wanted) {
            continue;
        }
        let path = dir.join(META_PROPERTIES_NAME);
        tracing::info!("Rewriting {}", path.display());
        write_atomically(dir, &path, wanted.render(now).as_bytes())
            .map_err(|source| MetaPropertiesError::Io { path, source })?;
    }
    Ok(())
}

/// Writes `bytes` to `path.tmp`, fsyncs it, renames it over `path` and fsyncs the directory.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    fs::File::open(dir)?.sync_all()
}

/// `Sun Nov 29 18:56:11 UTC 2026`: Java's `Date.toString` in UTC.
fn java_date(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs.div_euclid(86_400);
    let s = secs.rem_euclid(86_400);
    let (y, m, d) = common::time::civil_from_days(days);
    let weekday = DAYS[days.rem_euclid(7) as usize];
    let month = MONTHS[(m.clamp(1, 12) - 1) as usize];
    format!(
        "{weekday} {month} {d:02} {:02}:{:02}:{:02} UTC {y}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const ID: &str = "8rA9ipSFRhG7xcZvJ9Wmrg";

    #[test]
    fn the_file_is_written_in_kafkas_zk_mode_layout() {
        let p = MetaProperties {
            version: 0,
            cluster_id: Some(ID.into()),
            broker_id: Some(0),
        };
        // 2026-11-29 18:56:11 UTC was a Sunday.
        assert_eq!(
            p.render(1_795_978_571),
            format!("#\n#Sun Nov 29 18:56:11 UTC 2026\nversion=0\nbroker.id=0\ncluster.id={ID}\n")
        );
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        let back = MetaProperties::parse(&p.render(0), Path::new("m")).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn a_missing_version_is_version_0_and_other_versions_are_refused() {
        let path = Path::new("/d/meta.properties");
        let p = MetaProperties::parse("broker.id=3\n", path).unwrap();
        assert_eq!(
            (p.version, p.broker_id, p.cluster_id.clone()),
            (0, Some(3), None)
        );
        p.verify(path, ID, 3).unwrap();
        let v1 = MetaProperties::parse("version=1\nnode.id=3\ncluster.id=x\n", path).unwrap();
        assert_eq!(
            v1.verify(path, ID, 3).unwrap_err().to_string(),
            "Found unexpected version in /d/meta.properties. ZK-based brokers that are not \
             migrating only support version 0 (which is implicit when the `version` field is \
             missing)."
        );
        assert!(MetaProperties::parse("broker.id=x\n", path).is_err());
    }

    #[test]
    fn a_mismatched_cluster_or_broker_id_is_refused_with_kafkas_texts() {
        let path = Path::new("/d/meta.properties");
        let p = MetaProperties::parse(&format!("version=0\nbroker.id=0\ncluster.id={ID}\n"), path)
            .unwrap();
        p.verify(path, ID, 0).unwrap();
        assert_eq!(
            p.verify(path, "otherClusterId00000000", 0)
                .unwrap_err()
                .to_string(),
            format!(
                "Invalid cluster.id in: /d/meta.properties. Expected otherClusterId00000000, but \
                 read {ID}"
            )
        );
        assert_eq!(
            p.verify(path, ID, 1).unwrap_err().to_string(),
            "Stored node id 0 doesn't match previous node id 1 in /d/meta.properties. If you \
             moved your data, make sure your configured node id matches. If you intend to create \
             a new node, you should remove all data in your data directories."
        );
    }

    #[test]
    fn ensure_writes_every_dir_and_writes_nothing_when_one_disagrees() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let dirs = vec![a.path().to_path_buf(), b.path().to_path_buf()];
        ensure(&dirs, ID, BrokerId(4)).unwrap();
        for d in &dirs {
            let text = fs::read_to_string(d.join(META_PROPERTIES_NAME)).unwrap();
            assert!(text.starts_with("#\n#"), "{text}");
            assert!(
                text.ends_with(&format!("\nversion=0\nbroker.id=4\ncluster.id={ID}\n")),
                "{text}"
            );
            assert!(!d.join("meta.properties.tmp").exists());
        }
        // Unchanged files are not rewritten; a second start with the same ids is fine.
        ensure(&dirs, ID, BrokerId(4)).unwrap();
        // One directory of another broker: refused, and the other is left alone.
        fs::remove_file(a.path().join(META_PROPERTIES_NAME)).unwrap();
        assert!(matches!(
            ensure(&dirs, ID, BrokerId(5)),
            Err(MetaPropertiesError::NodeIdMismatch {
                stored: 4,
                expected: 5,
                ..
            })
        ));
        assert!(!a.path().join(META_PROPERTIES_NAME).exists());
    }
}
