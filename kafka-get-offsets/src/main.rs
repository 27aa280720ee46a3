//! `kafka-get-offsets`: prints `topic:partition:offset` for the partitions chosen by
//! `--topic-partitions` patterns or `--topic` / `--partitions`, at `--time` (latest, earliest,
//! max-timestamp, earliest-local, latest-tiered or a timestamp in ms), as Kafka 3.9's
//! `GetOffsetShell` does: lines sorted by `topic-partition` as text, partitions without an offset
//! left out, a partition's error reported on stderr ("Skip getting offsets for topic-partition
//! ..."). Exit 0 on success; 1 with "Error occurred: ..." on stderr otherwise (no arguments or
//! `--help`: the usage).

mod filter;
mod options;

use std::io::Write;

use cli::admin::{admin_api_timeout, load_command_config, run_async};
use client::admin::OffsetSpec;
use client::{Admin, ClientError};
use java_compat::exception::EXECUTION;
use java_compat::order::{hash_order, string_hash, Capacity};
use java_compat::JavaException;

use crate::filter::{FilterError, TopicPartitionFilter};
use crate::options::{GetOffsetsOptions, Stop};

/// The tool's fixed `client.id`.
const CLIENT_ID: &str = "GetOffsetShell";

fn main() {
    cli::tool_log::init_tool_logging();
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let code = match options::parse_args(&args) {
        Err(Stop::Abort(abort)) => abort.exit(&options::parser()),
        Err(Stop::Terse(message)) => terse(&message),
        Ok(opts) => match run_async(execute(&opts)) {
            None => 1,
            Some(Ok(())) => 0,
            Some(Err(Failure::Terse(message))) => terse(&message),
            Some(Err(Failure::Exception(e))) => {
                let _ = write!(
                    std::io::stderr(),
                    "Error occurred: {}\n{}",
                    e.message_or_null(),
                    e.trace()
                );
                1
            }
        },
    };
    std::process::exit(code);
}

/// `mainNoExit`'s catch of a `TerseException`.
fn terse(message: &str) -> i32 {
    let _ = writeln!(std::io::stderr(), "Error occurred: {message}");
    1
}

/// Why `fetchOffsets` stopped.
enum Failure {
    Terse(String),
    Exception(JavaException),
}

impl From<FilterError> for Failure {
    fn from(e: FilterError) -> Self {
        match e {
            FilterError::Terse(m) => Failure::Terse(m),
            FilterError::Exception(e) => Failure::Exception(e),
        }
    }
}

/// A client error as the exception `KafkaFuture.get()` throws.
fn execution(e: &ClientError) -> Failure {
    Failure::Exception(JavaException::wrapping(
        EXECUTION,
        cli::exception::java_exception(e),
    ))
}

/// `parseOffsetSpec`: the names, Kafka's special timestamps, or a timestamp in ms.
fn parse_offset_spec(time: &str) -> Result<OffsetSpec, String> {
    let special = |t: i64| match t {
        -2 => OffsetSpec::Earliest,
        -1 => OffsetSpec::Latest,
        // max-timestamp, earliest-local, latest-tiered: ListOffsets' own special timestamps.
        t => OffsetSpec::Timestamp(t),
    };
    Ok(match time {
        "earliest" => special(-2),
        "latest" => special(-1),
        "max-timestamp" => special(-3),
        "earliest-local" => special(-4),
        "latest-tiered" => special(-5),
        other => match other.parse::<i64>() {
            Ok(t) => special(t),
            Err(_) => return Err(format!("Malformed time argument {other}. Please use -1 or latest / -2 or earliest / -3 or max-timestamp / -4 or earliest-local / -5 or latest-tiered, or a specified long format timestamp")),
        },
    })
}

/// Kafka's `fetchOffsets` and the printing of `execute`.
async fn execute(opts: &GetOffsetsOptions) -> Result<(), Failure> {
    if opts.topic_partitions.is_some() && (opts.topic.is_some() || opts.partitions.is_some()) {
        return Err(Failure::Terse(
            "--topic-partitions cannot be used with --topic or --partitions".to_string(),
        ));
    }
    let spec = parse_offset_spec(&opts.time).map_err(Failure::Terse)?;
    let filter = match &opts.topic_partitions {
        Some(list) => TopicPartitionFilter::from_patterns(list)?,
        None => TopicPartitionFilter::from_topic_and_partitions(
            opts.topic.as_deref(),
            opts.partitions.as_deref(),
        )?,
    };
    let props = load_command_config(opts.command_config.as_deref())
        .map_err(|e| Failure::Exception(JavaException::new(e.java_class(), e.java_message())))?;
    let timeout = admin_api_timeout(&props)
        .map_err(|m| Failure::Exception(JavaException::new(cli::admin::CONFIG_EXCEPTION, m)))?;
    let admin = Admin::connect_with_timeout(&opts.bootstrap_server, CLIENT_ID, timeout)
        .await
        .map_err(|e| {
            Failure::Exception(
                JavaException::new(
                    "org.apache.kafka.common.KafkaException",
                    "Failed to create new KafkaAdminClient",
                )
                .caused_by(cli::exception::java_exception(&e)),
            )
        })?;
    let partitions = list_partition_infos(&admin, &filter, opts.exclude_internal_topics).await?;
    if partitions.is_empty() {
        return Err(Failure::Terse(
            "Could not match any topic-partitions with the specified filters".to_string(),
        ));
    }
    let offsets = admin
        .list_offsets(&partitions, spec)
        .await
        .map_err(|e| execution(&e))?;
    let mut found: Vec<(String, String)> = Vec::new();
    for (topic, partition) in &partitions {
        match offsets.get(&(topic.clone(), *partition)) {
            Some(Ok(Some(offset))) => found.push((
                format!("{topic}-{partition}"),
                format!("{topic}:{partition}:{offset}"),
            )),
            // Kafka's UNKNOWN_OFFSET (-1): nothing to print.
            Some(Ok(None)) => {}
            Some(Err(e)) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "Skip getting offsets for topic-partition {topic}-{partition} due to error: {}",
                    cli::exception::java_exception(e)
                );
            }
            None => {}
        }
    }
    // A TreeMap by `TopicPartition.toString()`.
    found.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = std::io::stdout();
    for (_, line) in found {
        let _ = writeln!(out, "{line}");
    }
    Ok(())
}

/// `listPartitionInfos`: the topics (internal ones unless excluded) the filter allows, then
/// their partitions the filter allows, in the order of Kafka's `allTopicNames()` map.
async fn list_partition_infos(
    admin: &Admin,
    filter: &TopicPartitionFilter,
    exclude_internal: bool,
) -> Result<Vec<(String, i32)>, Failure> {
    let topics = admin.list_topics().await.map_err(|e| execution(&e))?;
    let names: Vec<String> = topics
        .into_iter()
        .filter(|t| !(exclude_internal && t.internal))
        .map(|t| t.name)
        .filter(|name| filter.topic_allowed(name))
        .collect();
    let n = names.len();
    let names = hash_order(names, Capacity::Default, |s| string_hash(s));
    let names = hash_order(names, Capacity::Initial(n), |s| string_hash(s));
    let described = admin
        .describe_topics(&names)
        .await
        .map_err(|e| execution(&e))?;
    Ok(described
        .into_iter()
        .flat_map(|t| {
            let name = t.name;
            t.partitions
                .into_iter()
                .map(move |p| (name.clone(), p.partition))
        })
        .filter(|(t, p)| filter.partition_allowed(t, *p))
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn times_are_names_special_values_or_timestamps() {
        assert_eq!(parse_offset_spec("earliest"), Ok(OffsetSpec::Earliest));
        assert_eq!(parse_offset_spec("-2"), Ok(OffsetSpec::Earliest));
        assert_eq!(parse_offset_spec("latest"), Ok(OffsetSpec::Latest));
        assert_eq!(parse_offset_spec("-1"), Ok(OffsetSpec::Latest));
        assert_eq!(
            parse_offset_spec("max-timestamp"),
            Ok(OffsetSpec::Timestamp(-3))
        );
        assert_eq!(
            parse_offset_spec("earliest-local"),
            Ok(OffsetSpec::Timestamp(-4))
        );
        assert_eq!(parse_offset_spec("-5"), Ok(OffsetSpec::Timestamp(-5)));
        assert_eq!(
            parse_offset_spec("1700000000000"),
            Ok(OffsetSpec::Timestamp(1700000000000))
        );
        assert_eq!(
            parse_offset_spec("yesterday"),
            Err("Malformed time argument yesterday. Please use -1 or latest / -2 or earliest / -3 or max-timestamp / -4 or earliest-local / -5 or latest-tiered, or a specified long format timestamp".to_string())
        );
    }
}
