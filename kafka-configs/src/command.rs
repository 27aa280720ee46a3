//! What kafka-configs does once its options are valid: Kafka 3.9's `ConfigCommand.alterConfig`
//! and `describeResourceConfig` over the admin client, with their output lines.

use std::io::Write;

use cli::load_properties;
use client::admin::{
    config_source_name, AlterConfigOp, AlterOpType, ConfigResource, DescribedConfig,
};
use client::{Admin, ClientError};

use crate::options::{ConfigOptions, BROKERS, TOPICS};

/// How a command fails, mirroring the two branches of `ConfigCommand.main`'s catch.
#[derive(Debug)]
pub enum Failure {
    /// `IllegalArgumentException` / `InvalidConfigurationException` thrown by the tool itself:
    /// its message alone on stderr.
    Message(String),
    /// Anything else (a broker's error arrives wrapped in `ExecutionException`): "Error while
    /// executing config command with args '...'" and the exception on stderr.
    Exception { class: String, message: String },
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        Failure::Exception {
            class: format!(
                "java.util.concurrent.ExecutionException: {}",
                cli::exception::exception_class(&e)
            ),
            message: e.to_string(),
        }
    }
}

fn message(m: impl Into<String>) -> Failure {
    Failure::Message(m.into())
}

/// `Utils.loadProps` failing: the exception Java's `Files.newInputStream` throws, e.g.
/// `NoSuchFileException: <path>` for a missing file.
pub fn unreadable_file(e: &cli::PropertiesError) -> Failure {
    Failure::Exception {
        class: e.java_class().into(),
        message: e.java_message(),
    }
}

/// Kafka's split of `--add-config` at `sep` outside square brackets: the regex
/// `sep(?=[^\]]*(?:\[|$))`, i.e. a separator counts unless a `]` comes after it before any `[`.
fn split_outside_brackets(s: &str, sep: char) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut parts = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == sep {
            let rest = &chars[i + 1..];
            let next_close = rest.iter().position(|&c| c == ']');
            let splits = match next_close {
                None => true,
                Some(close) => rest[..close].contains(&'['),
            };
            if splits {
                parts.push(std::mem::take(&mut current));
                continue;
            }
        }
        current.push(c);
    }
    parts.push(current);
    parts
}

/// `parseConfigsToBeAdded`: the `--add-config-file` properties, then `--add-config`'s
/// `k=v,k2=[a,b]` pairs (brackets removed from values), in order, later keys winning.
pub fn parse_configs_to_add(
    add_config: Option<&str>,
    add_config_file: Option<&str>,
    out: &mut impl Write,
) -> Result<Vec<(String, String)>, Failure> {
    let mut props: Vec<(String, String)> = Vec::new();
    let set = |k: String, v: String, props: &mut Vec<(String, String)>| match props
        .iter_mut()
        .find(|(key, _)| *key == k)
    {
        Some(e) => e.1 = v,
        None => props.push((k, v)),
    };
    if let Some(path) = add_config_file {
        let loaded = load_properties(path).map_err(|e| unreadable_file(&e))?;
        for (k, v) in loaded.iter() {
            set(k.to_string(), v.to_string(), &mut props);
        }
    }
    if let Some(text) = add_config {
        let mut pairs = Vec::new();
        for item in split_outside_brackets(text, ',') {
            // `\s*=\s*` with the same lookahead, limit -1 (trailing empty values are kept).
            let kv = split_outside_brackets(&item, '=');
            if kv.len() != 2 {
                return Err(message(
                    "requirement failed: Invalid entity config: all configs to be added must be in the format \"key=val\".",
                ));
            }
            pairs.push((
                kv[0].trim().to_string(),
                kv[1].replace(['[', ']'], "").trim().to_string(),
            ));
        }
        for (k, v) in pairs {
            set(k, v, &mut props);
        }
    }
    if let Some((_, v)) = props.iter().find(|(k, _)| k == "message.format.version") {
        let _ = writeln!(out, "WARNING: The configuration message.format.version={v} is specified. This configuration will be ignored if the version is newer than the inter.broker.protocol.version specified in the broker or if the inter.broker.protocol.version is 3.0 or newer. This configuration is deprecated and it will be removed in Apache Kafka 4.0.");
    }
    if let Some((k, _)) = props.iter().find(|(k, _)| {
        !k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    }) {
        return Err(message(format!(
            "Invalid character found for config key: {k}"
        )));
    }
    Ok(props)
}

/// `"topics"` -> `"topic"` (Kafka's `dropRight(1)`).
fn singular(entity_type: &str) -> &str {
    entity_type.strip_suffix('s').unwrap_or(entity_type)
}

fn resource(entity_type: &str, name: &str) -> Result<ConfigResource, Failure> {
    match entity_type {
        TOPICS => Ok(ConfigResource::topic(name)),
        BROKERS => Ok(ConfigResource::broker(name)),
        other => Err(message(format!("Unsupported entity type: {other}"))),
    }
}

/// `getResourceConfig`: the entity's configs, sorted by name, only those set dynamically on
/// it unless `all`.
async fn resource_config(
    admin: &Admin,
    entity_type: &str,
    name: &str,
    include_synonyms: bool,
    all: bool,
) -> Result<Vec<DescribedConfig>, Failure> {
    if entity_type == BROKERS && !name.is_empty() && name.parse::<i32>().is_err() {
        return Err(message(format!(
            "The entity name for {entity_type} must be a valid integer broker id, found: {name}"
        )));
    }
    let dynamic_source = match (entity_type, name.is_empty()) {
        (TOPICS, _) => 1,
        (_, true) => 3,
        (_, false) => 2,
    };
    let r = resource(entity_type, name)?;
    let mut entries: Vec<DescribedConfig> = admin
        .describe_configs(&r, include_synonyms)
        .await?
        .into_iter()
        .filter(|e| all || e.source == dynamic_source)
        .collect();
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// `--alter`: topics through IncrementalAlterConfigs (SET / DELETE), brokers through
/// AlterConfigs with their whole new dynamic set, as Kafka 3.9's tool does.
pub async fn alter(
    admin: &Admin,
    opts: &ConfigOptions,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let entity_type = opts
        .entity_types
        .first()
        .map(String::as_str)
        .unwrap_or_default();
    let name = opts
        .entity_names
        .first()
        .map(String::as_str)
        .unwrap_or_default();
    let to_add = parse_configs_to_add(
        opts.add_config.as_deref(),
        opts.add_config_file.as_deref(),
        out,
    )?;
    let to_delete = &opts.delete_config;
    let r = resource(entity_type, name)?;
    let old = resource_config(admin, entity_type, name, false, false).await?;
    let invalid: Vec<&str> = to_delete
        .iter()
        .filter(|k| !old.iter().any(|e| &e.name == *k))
        .map(String::as_str)
        .collect();
    if !invalid.is_empty() {
        return Err(message(format!("Invalid config(s): {}", invalid.join(","))));
    }
    if entity_type == TOPICS {
        let ops: Vec<AlterConfigOp> = to_add
            .iter()
            .map(|(k, v)| AlterConfigOp {
                name: k.clone(),
                op: AlterOpType::Set,
                value: Some(v.clone()),
            })
            .chain(to_delete.iter().map(|k| AlterConfigOp {
                name: k.clone(),
                op: AlterOpType::Delete,
                value: Some(String::new()),
            }))
            .collect();
        admin.incremental_alter_configs(&r, &ops, false).await?;
    } else {
        let mut entries: Vec<(String, Option<String>)> =
            old.into_iter().map(|e| (e.name, e.value)).collect();
        for (k, v) in &to_add {
            match entries.iter_mut().find(|(n, _)| n == k) {
                Some(e) => e.1 = Some(v.clone()),
                None => entries.push((k.clone(), Some(v.clone()))),
            }
        }
        entries.retain(|(n, _)| !to_delete.contains(n));
        let missing: Vec<&str> = entries
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(n, _)| n.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(message(format!(
                "All sensitive broker config entries must be specified for --alter, missing entries: Set({})",
                missing.join(", ")
            )));
        }
        let full: Vec<(String, String)> = entries
            .into_iter()
            .map(|(n, v)| (n, v.unwrap_or_default()))
            .collect();
        admin.alter_configs(&r, &full, false).await?;
    }
    if name.is_empty() {
        let _ = writeln!(
            out,
            "Completed updating default config for {entity_type} in the cluster."
        );
    } else {
        let _ = writeln!(
            out,
            "Completed updating config for {} {name}.",
            singular(entity_type)
        );
    }
    Ok(())
}

/// `--describe`: one block per entity (all topics, or every broker and the defaults, when no
/// name is given).
pub async fn describe(
    admin: &Admin,
    opts: &ConfigOptions,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let entity_type = opts
        .entity_types
        .first()
        .map(String::as_str)
        .unwrap_or_default();
    let entities: Vec<String> = match opts.entity_names.first() {
        Some(n) => vec![n.clone()],
        None => match entity_type {
            TOPICS => admin
                .list_topics()
                .await?
                .into_iter()
                .map(|t| t.name)
                .collect(),
            BROKERS => {
                let mut v: Vec<String> = admin
                    .live_broker_ids()
                    .await?
                    .into_iter()
                    .map(|id| id.to_string())
                    .collect();
                v.push(String::new());
                v
            }
            other => return Err(message(format!("Invalid entity type: {other}"))),
        },
    };
    for entity in entities {
        if entity.is_empty() {
            let _ = writeln!(out, "Default configs for {entity_type} in the cluster are:");
        } else {
            let which = if opts.all { "All" } else { "Dynamic" };
            let _ = writeln!(
                out,
                "{which} configs for {} {entity} are:",
                singular(entity_type)
            );
        }
        for e in resource_config(admin, entity_type, &entity, true, opts.all).await? {
            let _ = writeln!(out, "{}", entry_line(&e));
        }
    }
    Ok(())
}

/// `  name=value sensitive=false synonyms={SOURCE:name=value, ...}` (Java prints null as "null").
pub fn entry_line(e: &DescribedConfig) -> String {
    let synonyms: Vec<String> = e
        .synonyms
        .iter()
        .map(|s| {
            format!(
                "{}:{}={}",
                config_source_name(s.source),
                s.name,
                s.value.as_deref().unwrap_or("null")
            )
        })
        .collect();
    format!(
        "  {}={} sensitive={} synonyms={{{}}}",
        e.name,
        e.value.as_deref().unwrap_or("null"),
        e.sensitive,
        synonyms.join(", ")
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use client::admin::ConfigSynonym;

    fn add(text: &str) -> Result<Vec<(String, String)>, Failure> {
        parse_configs_to_add(Some(text), None, &mut Vec::new())
    }

    #[test]
    fn add_config_splits_outside_brackets_and_drops_them() {
        assert_eq!(
            add("k1=v1,k2=[a,b,c],k3 = v3").unwrap(),
            vec![
                ("k1".to_string(), "v1".to_string()),
                ("k2".to_string(), "a,b,c".to_string()),
                ("k3".to_string(), "v3".to_string()),
            ]
        );
        // An empty value is kept (ssl.endpoint.identification.algorithm=).
        assert_eq!(add("a=").unwrap(), vec![("a".to_string(), String::new())]);
        // The last of a repeated key wins.
        assert_eq!(
            add("a=1,a=2").unwrap(),
            vec![("a".to_string(), "2".to_string())]
        );
    }

    #[test]
    fn malformed_add_config_fails_with_kafkas_texts() {
        let m = |r: Result<Vec<(String, String)>, Failure>| match r {
            Err(Failure::Message(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            m(add("retention.ms")),
            "requirement failed: Invalid entity config: all configs to be added must be in the format \"key=val\"."
        );
        assert_eq!(
            m(add("a=b=c")),
            "requirement failed: Invalid entity config: all configs to be added must be in the format \"key=val\"."
        );
        assert_eq!(
            m(add("a$b=1")),
            "Invalid character found for config key: a$b"
        );
    }

    #[test]
    fn entries_print_as_kafka_prints_them() {
        let e = DescribedConfig {
            name: "retention.ms".into(),
            value: Some("1000".into()),
            source: 1,
            read_only: false,
            sensitive: false,
            synonyms: vec![
                ConfigSynonym {
                    name: "retention.ms".into(),
                    value: Some("1000".into()),
                    source: 1,
                },
                ConfigSynonym {
                    name: "log.retention.ms".into(),
                    value: None,
                    source: 5,
                },
            ],
        };
        assert_eq!(
            entry_line(&e),
            "  retention.ms=1000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=1000, DEFAULT_CONFIG:log.retention.ms=null}"
        );
        assert_eq!(singular("brokers"), "broker");
    }
}
