//! `zookeeper.properties`: a small Java-style `.properties` parser and the typed config built
//! from it. Unknown keys are warned about by name (a misspelled key must never be silently
//! ignored); a bad value is an error naming the key and the value.

use std::net::{IpAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {cause}")]
    Read {
        path: PathBuf,
        // Not named `source`: the message already includes it, anyhow would print it twice.
        cause: std::io::Error,
    },
    #[error("Invalid value '{value}' for configuration {key}: {reason}")]
    BadValue {
        key: String,
        value: String,
        reason: String,
    },
    #[error("Missing required configuration {0}")]
    Missing(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ZkConfig {
    pub data_dir: PathBuf,
    /// 0 = an ephemeral port.
    pub client_port: u16,
    pub client_port_address: IpAddr,
    /// Concurrent connections allowed from one IP address; 0 = unlimited (ZooKeeper's meaning).
    pub max_client_cnxns: u32,
    /// Where `/metrics` is served: set when `metricsProvider.className` is ZooKeeper's
    /// Prometheus provider, at `metricsProvider.httpHost`:`metricsProvider.httpPort`.
    pub metrics: Option<MetricsHttp>,
    // The rest are accepted for compatibility with ZooKeeper's file; they have no effect here.
    pub admin_enable_server: bool,
    pub admin_server_port: u16,
    pub tick_time: u32,
    pub init_limit: u32,
    pub sync_limit: u32,
}

/// ZooKeeper's class name that turns the Prometheus metrics endpoint on (ZooKeeper 3.6+).
pub const PROMETHEUS_PROVIDER: &str =
    "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";
/// ZooKeeper's default provider: metrics kept for the four-letter words only, none served here.
pub const DEFAULT_PROVIDER: &str = "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider";

/// The Prometheus provider's HTTP listener (`metricsProvider.httpHost`, default `0.0.0.0`;
/// `metricsProvider.httpPort`, default 7000; 0 binds an ephemeral port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsHttp {
    pub host: String,
    pub port: u16,
}

impl ZkConfig {
    pub fn load(path: &Path) -> Result<ZkConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
            path: path.to_path_buf(),
            cause,
        })?;
        ZkConfig::from_pairs(&parse_properties(&text))
    }

    pub fn from_pairs(pairs: &[(String, String)]) -> Result<ZkConfig, ConfigError> {
        let mut data_dir = None;
        let mut c = ZkConfig {
            data_dir: PathBuf::new(),
            client_port: 2181,
            client_port_address: IpAddr::from([0, 0, 0, 0]),
            max_client_cnxns: 60,
            metrics: None,
            admin_enable_server: true,
            admin_server_port: 8080,
            tick_time: 3000,
            init_limit: 10,
            sync_limit: 5,
        };
        let mut provider_on = false;
        let mut metrics = MetricsHttp {
            host: "0.0.0.0".to_string(),
            port: 7000,
        };
        // Warn about every unknown key before any bad value stops the parse.
        for (key, _) in pairs {
            if !KNOWN_KEYS.contains(&key.as_str()) && !key.starts_with("autopurge.") {
                tracing::warn!("unknown configuration key '{key}' (ignored)");
            }
        }
        for (key, value) in pairs {
            match key.as_str() {
                "dataDir" => {
                    if value.is_empty() {
                        return Err(bad(key, value, "must not be empty"));
                    }
                    data_dir = Some(PathBuf::from(value));
                }
                "clientPort" => c.client_port = num(key, value)?,
                "clientPortAddress" => {
                    c.client_port_address = resolve(value)
                        .ok_or_else(|| bad(key, value, "not an IP address or resolvable host"))?
                }
                "maxClientCnxns" => c.max_client_cnxns = num(key, value)?,
                "admin.enableServer" => c.admin_enable_server = boolean(key, value)?,
                "admin.serverPort" => c.admin_server_port = num(key, value)?,
                "tickTime" => c.tick_time = num(key, value)?,
                "initLimit" => c.init_limit = num(key, value)?,
                "syncLimit" => c.sync_limit = num(key, value)?,
                "metricsProvider.className" => {
                    provider_on = match value.as_str() {
                        PROMETHEUS_PROVIDER => true,
                        DEFAULT_PROVIDER => false,
                        _ => {
                            return Err(bad(
                                key,
                                value,
                                &format!(
                                    "zookeeper-lite knows {PROMETHEUS_PROVIDER} (serves /metrics) \
                                     and {DEFAULT_PROVIDER} (serves nothing)"
                                ),
                            ))
                        }
                    }
                }
                "metricsProvider.httpPort" => metrics.port = num(key, value)?,
                "metricsProvider.httpHost" => {
                    if value.is_empty() {
                        return Err(bad(key, value, "must not be empty"));
                    }
                    metrics.host = value.clone();
                }
                "metricsProvider.exportJvmInfo" => {
                    boolean(key, value)?;
                }
                _ => {} // autopurge.* and unknown keys: warned about above.
            }
        }
        c.data_dir = data_dir.ok_or(ConfigError::Missing("dataDir"))?;
        c.metrics = provider_on.then_some(metrics);
        Ok(c)
    }
}

const KNOWN_KEYS: &[&str] = &[
    "dataDir",
    "clientPort",
    "clientPortAddress",
    "maxClientCnxns",
    "admin.enableServer",
    "admin.serverPort",
    "tickTime",
    "initLimit",
    "syncLimit",
    "metricsProvider.className",
    "metricsProvider.httpPort",
    "metricsProvider.httpHost",
    "metricsProvider.exportJvmInfo",
];

/// An IP address, or a host name resolved now (ZooKeeper accepts both).
fn resolve(host: &str) -> Option<IpAddr> {
    if let Ok(ip) = host.parse() {
        return Some(ip);
    }
    if host == "localhost" {
        return Some(IpAddr::from([127, 0, 0, 1]));
    }
    (host, 0).to_socket_addrs().ok()?.next().map(|a| a.ip())
}

fn bad(key: &str, value: &str, reason: &str) -> ConfigError {
    ConfigError::BadValue {
        key: key.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

fn num<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, ConfigError> {
    value
        .parse()
        .map_err(|_| bad(key, value, "not a number in the allowed range"))
}

fn boolean(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad(key, value, "expected true or false")),
    }
}

/// Java `.properties` text to `key, value` pairs, values trimmed as server config files are
/// read (`common::properties::parse_trimmed`, shared with the broker). Later keys win when read
/// in order.
pub use common::properties::parse_trimmed as parse_properties;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse_properties(text)
    }

    #[test]
    fn properties_syntax_is_java_like() {
        let p = pairs(
            "# comment\n! also\n  a = 1 \nb:2\nc 3\nlong=x\\\n   y\nesc\\=k=v\\u0041\nempty=\n",
        );
        let want: Vec<(String, String)> = [
            ("a", "1"),
            ("b", "2"),
            ("c", "3"),
            ("long", "xy"),
            ("esc=k", "vA"),
            ("empty", ""),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(p, want);
    }

    #[test]
    fn shipped_zookeeper_properties_parse() {
        let c = ZkConfig::from_pairs(&pairs(
            "dataDir=/tmp/zookeeper\nclientPort=2181\nmaxClientCnxns=0\nadmin.enableServer=false\n# admin.serverPort=8080\n",
        ))
        .unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/tmp/zookeeper"));
        assert_eq!(c.client_port, 2181);
        assert_eq!(c.max_client_cnxns, 0);
        assert!(!c.admin_enable_server);
        assert_eq!(c.client_port_address, IpAddr::from([0, 0, 0, 0]));
    }

    #[test]
    fn bad_value_names_key_and_value() {
        let err = ZkConfig::from_pairs(&pairs("dataDir=/x\nclientPort=abc\n")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("clientPort") && msg.contains("'abc'"), "{msg}");
        let err = ZkConfig::from_pairs(&pairs("dataDir=/x\nclientPort=70000\n")).unwrap_err();
        assert!(err.to_string().contains("70000"));
    }

    #[test]
    fn the_prometheus_provider_turns_metrics_on_with_zookeepers_keys() {
        let c = ZkConfig::from_pairs(&pairs("dataDir=/x\n")).unwrap();
        assert_eq!(c.metrics, None);
        let c = ZkConfig::from_pairs(&pairs(&format!(
            "dataDir=/x\nmetricsProvider.className={PROMETHEUS_PROVIDER}\n"
        )))
        .unwrap();
        assert_eq!(
            c.metrics,
            Some(MetricsHttp {
                host: "0.0.0.0".into(),
                port: 7000
            })
        );
        let c = ZkConfig::from_pairs(&pairs(&format!(
            "dataDir=/x\nmetricsProvider.className={PROMETHEUS_PROVIDER}\n\
             metricsProvider.httpHost=127.0.0.1\nmetricsProvider.httpPort=0\n\
             metricsProvider.exportJvmInfo=false\n"
        )))
        .unwrap();
        assert_eq!(
            c.metrics,
            Some(MetricsHttp {
                host: "127.0.0.1".into(),
                port: 0
            })
        );
        let c = ZkConfig::from_pairs(&pairs(&format!(
            "dataDir=/x\nmetricsProvider.className={DEFAULT_PROVIDER}\nmetricsProvider.httpPort=1\n"
        )))
        .unwrap();
        assert_eq!(c.metrics, None);
        let e = ZkConfig::from_pairs(&pairs(
            "dataDir=/x\nmetricsProvider.className=com.example.Nope\n",
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("metricsProvider.className") && e.contains("'com.example.Nope'"),
            "{e}"
        );
        // The shipped file turns it on at ZooKeeper's default port.
        let shipped =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/zookeeper.properties");
        let c = ZkConfig::load(&shipped).unwrap();
        assert_eq!(
            c.metrics,
            Some(MetricsHttp {
                host: "0.0.0.0".into(),
                port: 7000
            })
        );
        let e = ZkConfig::from_pairs(&pairs("dataDir=/x\nmetricsProvider.httpPort=x\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("metricsProvider.httpPort") && e.contains("'x'"),
            "{e}"
        );
    }

    #[test]
    fn unknown_key_is_not_an_error_and_data_dir_is_required() {
        assert!(ZkConfig::from_pairs(&pairs("dataDir=/x\nclientPortt=1\n")).is_ok());
        assert!(matches!(
            ZkConfig::from_pairs(&pairs("clientPort=1\n")),
            Err(ConfigError::Missing("dataDir"))
        ));
    }
}
