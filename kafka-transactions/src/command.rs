//! The five commands of Kafka 3.9's `TransactionsCommand`, their arguments (`parser`), what
//! they ask the cluster and the tab-separated tables they print (`ToolsUtils.prettyPrintTable`).
//! A failure is the message `printErrorAndExit` prints (exit 1).

use std::collections::BTreeMap;
use std::io::Write;

use client::admin::{AbortTransactionSpec, ListTransactionsOptions, ProducerStateInfo};
use client::{Admin, ClientError};

use cli::argparse::{Group, Kind, Namespace, Opt, Parser};

const PROG: &str = "kafka-transactions.sh";

/// `DescribeProducersCommand.HEADERS`.
const DESCRIBE_PRODUCERS_HEADERS: [&str; 6] = [
    "ProducerId",
    "ProducerEpoch",
    "LatestCoordinatorEpoch",
    "LastSequence",
    "LastTimestamp",
    "CurrentTransactionStartOffset",
];

/// `DescribeTransactionsCommand.HEADERS`.
const DESCRIBE_HEADERS: [&str; 9] = [
    "CoordinatorId",
    "TransactionalId",
    "ProducerId",
    "ProducerEpoch",
    "TransactionState",
    "TransactionTimeoutMs",
    "CurrentTransactionStartTimeMs",
    "TransactionDurationMs",
    "TopicPartitions",
];

/// `ListTransactionsCommand.HEADERS`.
const LIST_HEADERS: [&str; 4] = [
    "TransactionalId",
    "Coordinator",
    "ProducerId",
    "TransactionState",
];

/// `FindHangingTransactionsCommand.HEADERS`.
const FIND_HANGING_HEADERS: [&str; 8] = [
    "Topic",
    "Partition",
    "ProducerId",
    "ProducerEpoch",
    "CoordinatorEpoch",
    "StartOffset",
    "LastTimestamp",
    "Duration(min)",
];

/// The tool's parser: `buildBaseParser` and every command's `addSubparser`.
pub fn parser() -> Parser {
    let mut main = Parser::new(PROG);
    main.description = "This tool is used to analyze the transactional state of producers in the cluster. It can be used to detect and recover from hanging transactions.";
    main.opts.push(Opt::version_opt(
        "show the version of this Kafka distribution and exit",
    ));
    main.opts.push(
        Opt::value(
            &["--command-config"],
            "command_config",
            Kind::Str,
            "property file containing configs to be passed to admin client",
        )
        .metavar("FILE"),
    );
    main.opts.push(
        Opt::value(
            &["--bootstrap-server"],
            "bootstrap_server",
            Kind::Str,
            "hostname and port for the broker to connect to, in the form `host:port`  (multiple comma-separated entries can be given)",
        )
        .metavar("host:port")
        .required(),
    );
    main.commands_title = "commands";
    main.commands_metavar = "COMMAND";
    main.commands_dest = "command";

    let mut list = Parser::sub(PROG, "list", "list transactions");
    list.opts.push(Opt::value(
        &["--duration-filter"],
        "duration_filter",
        Kind::Long,
        "Duration (in millis) to filter by: if < 0, all transactions will be returned; otherwise, only transactions running longer than this duration will be returned",
    ));

    let mut describe = Parser::sub(
        PROG,
        "describe",
        "describe the state of an active transactional-id",
    );
    describe.description = "Describe the state of an active transactional-id.";
    describe.opts.push(
        Opt::value(
            &["--transactional-id"],
            "transactional_id",
            Kind::Str,
            "transactional id",
        )
        .required(),
    );

    let mut producers = Parser::sub(
        PROG,
        "describe-producers",
        "describe the states of active producers for a topic partition",
    );
    producers.opts.push(Opt::value(
        &["--broker-id"],
        "broker_id",
        Kind::Int,
        "optional broker id to describe the producer state on a specific replica",
    ));
    producers
        .opts
        .push(Opt::value(&["--topic"], "topic", Kind::Str, "topic name").required());
    producers
        .opts
        .push(Opt::value(&["--partition"], "partition", Kind::Int, "partition number").required());

    let mut abort = Parser::sub(
        PROG,
        "abort",
        "abort a hanging transaction (requires administrative privileges)",
    );
    abort
        .opts
        .push(Opt::value(&["--topic"], "topic", Kind::Str, "topic name").required());
    abort
        .opts
        .push(Opt::value(&["--partition"], "partition", Kind::Int, "partition number").required());
    abort.groups.push(Group {
        title: "Brokers on versions 3.0 and above",
        description:
            "For newer brokers, only the start offset of the transaction to be aborted is required",
    });
    abort.groups.push(Group {
        title: "Brokers on versions older than 3.0",
        description: "For older brokers, you must provide all of these arguments",
    });
    abort.opts.push(
        Opt::value(
            &["--start-offset"],
            "start_offset",
            Kind::Long,
            "start offset of the transaction to abort",
        )
        .in_group(0),
    );
    abort
        .opts
        .push(Opt::value(&["--producer-id"], "producer_id", Kind::Long, "producer id").in_group(1));
    abort.opts.push(
        Opt::value(
            &["--producer-epoch"],
            "producer_epoch",
            Kind::Short,
            "producer epoch",
        )
        .in_group(1),
    );
    abort.opts.push(
        Opt::value(
            &["--coordinator-epoch"],
            "coordinator_epoch",
            Kind::Int,
            "coordinator epoch",
        )
        .in_group(1),
    );

    let mut hanging = Parser::sub(PROG, "find-hanging", "find hanging transactions");
    hanging.opts.push(Opt::value(
        &["--broker-id"],
        "broker_id",
        Kind::Int,
        "broker id to search for hanging transactions",
    ));
    hanging.opts.push(
        Opt::value(
            &["--max-transaction-timeout"],
            "max_transaction_timeout",
            Kind::Int,
            "maximum transaction timeout in minutes to limit the scope of the search (15 minutes by default)",
        )
        .default("15"),
    );
    hanging.opts.push(Opt::value(
        &["--topic"],
        "topic",
        Kind::Str,
        "topic name to limit search to (required if --partition is specified)",
    ));
    hanging.opts.push(Opt::value(
        &["--partition"],
        "partition",
        Kind::Int,
        "partition number",
    ));

    main.commands = vec![list, describe, producers, abort, hanging];
    main
}

/// `ToolsUtils.prettyPrintTable`: every column padded to its widest value, each followed by a
/// tab (the last one too).
pub fn pretty_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, v) in widths.iter_mut().zip(row) {
            *w = (*w).max(v.chars().count());
        }
    }
    let mut out = String::new();
    let mut print_row = |row: Vec<&str>| {
        for (v, w) in row.iter().zip(&widths) {
            out.push_str(v);
            out.push_str(&" ".repeat(w.saturating_sub(v.chars().count())));
            out.push('\t');
        }
        out.push('\n');
    };
    print_row(headers.to_vec());
    for row in rows {
        print_row(row.iter().map(String::as_str).collect());
    }
    out
}

/// `printErrorAndExit(message, t)`.
fn with_cause(message: &str, e: &ClientError) -> String {
    format!("{message}: {e}. Enable debug logging for additional detail.")
}

/// Runs the parsed command; `Err` is the message for stderr.
pub async fn execute<W: Write>(
    admin: &Admin,
    ns: &Namespace,
    now_ms: i64,
    out: &mut W,
) -> Result<(), String> {
    let text = match ns.get("command") {
        Some("list") => list(admin, ns).await?,
        Some("describe") => describe(admin, ns, now_ms).await?,
        Some("describe-producers") => describe_producers(admin, ns).await?,
        Some("abort") => {
            abort(admin, ns).await?;
            String::new()
        }
        Some("find-hanging") => find_hanging(admin, ns, now_ms).await?,
        other => return Err(format!("Unexpected command {}", other.unwrap_or("null"))),
    };
    let _ = out.write_all(text.as_bytes());
    Ok(())
}

async fn list(admin: &Admin, ns: &Namespace) -> Result<String, String> {
    let options = ListTransactionsOptions {
        duration_filter_ms: ns.get_i64("duration_filter"),
        ..Default::default()
    };
    let by_broker = admin
        .list_transactions(&options)
        .await
        .map_err(|e| with_cause("Failed to list transactions", &e))?;
    let mut rows = Vec::new();
    for (broker, listings) in by_broker {
        for l in listings {
            rows.push(vec![
                l.transactional_id,
                broker.to_string(),
                l.producer_id.to_string(),
                l.state,
            ]);
        }
    }
    Ok(pretty_table(&LIST_HEADERS, &rows))
}

async fn describe(admin: &Admin, ns: &Namespace, now_ms: i64) -> Result<String, String> {
    let id = ns.get("transactional_id").unwrap_or_default();
    let d = admin.describe_transaction(id).await.map_err(|e| {
        with_cause(
            &format!("Failed to describe transaction state of transactional-id `{id}`"),
            &e,
        )
    })?;
    let (start, duration) = match d.transaction_start_time_ms {
        Some(start) => (start.to_string(), (now_ms - start).to_string()),
        None => ("None".to_string(), "None".to_string()),
    };
    let row = vec![
        d.coordinator_id.to_string(),
        id.to_string(),
        d.producer_id.to_string(),
        d.producer_epoch.to_string(),
        d.state,
        d.transaction_timeout_ms.to_string(),
        start,
        duration,
        d.topic_partitions
            .iter()
            .map(|(t, p)| format!("{t}-{p}"))
            .collect::<Vec<_>>()
            .join(","),
    ];
    Ok(pretty_table(&DESCRIBE_HEADERS, &[row]))
}

async fn describe_producers(admin: &Admin, ns: &Namespace) -> Result<String, String> {
    let topic = ns.get("topic").unwrap_or_default();
    let partition = ns.get_i32("partition").unwrap_or_default();
    let broker_id = ns.get_i32("broker_id");
    let producers = admin
        .describe_producers(topic, partition, broker_id)
        .await
        .map_err(|e| {
            let clause = match broker_id {
                Some(id) => format!("broker {id}"),
                None => "leader".to_string(),
            };
            with_cause(
                &format!(
                    "Failed to describe producers for partition {topic}-{partition} on {clause}"
                ),
                &e,
            )
        })?;
    let rows: Vec<Vec<String>> = producers
        .iter()
        .map(|p| {
            vec![
                p.producer_id.to_string(),
                p.producer_epoch.to_string(),
                p.coordinator_epoch.unwrap_or(-1).to_string(),
                p.last_sequence.to_string(),
                p.last_timestamp.to_string(),
                p.current_transaction_start_offset
                    .map_or_else(|| "None".to_string(), |o| o.to_string()),
            ]
        })
        .collect();
    Ok(pretty_table(&DESCRIBE_PRODUCERS_HEADERS, &rows))
}

async fn abort(admin: &Admin, ns: &Namespace) -> Result<(), String> {
    let topic = ns.get("topic").unwrap_or_default().to_string();
    let partition = ns.get_i32("partition").unwrap_or_default();
    let start_offset = ns.get_i64("start_offset");
    let producer_id = ns.get_i64("producer_id");
    let spec = match (start_offset, producer_id) {
        (None, None) => {
            return Err("The transaction to abort must be identified either with --start-offset (for brokers on 3.0 or above) or with --producer-id, --producer-epoch, and --coordinator-epoch (for older brokers)".to_string());
        }
        (None, Some(producer_id)) => {
            let Some(producer_epoch) = ns.get_i16("producer_epoch") else {
                return Err("Missing required argument --producer-epoch".to_string());
            };
            let Some(coordinator_epoch) = ns.get_i32("coordinator_epoch") else {
                return Err("Missing required argument --coordinator-epoch".to_string());
            };
            // A transaction that hung before its first marker has coordinator epoch -1 in
            // DescribeProducers; 0 is at most any real one.
            AbortTransactionSpec {
                topic,
                partition,
                producer_id,
                producer_epoch,
                coordinator_epoch: coordinator_epoch.max(0),
            }
        }
        (Some(start), _) => {
            let producers = admin
                .describe_producers(&topic, partition, None)
                .await
                .map_err(|e| {
                    with_cause(
                        &format!(
                            "Failed to validate producer state for partition {topic}-{partition}"
                        ),
                        &e,
                    )
                })?;
            let Some(p) = producers
                .iter()
                .find(|p| p.current_transaction_start_offset == Some(start))
            else {
                return Err(format!(
                    "Could not find any open transactions starting at offset {start} on partition {topic}-{partition}"
                ));
            };
            AbortTransactionSpec {
                topic,
                partition,
                producer_id: p.producer_id,
                producer_epoch: p.producer_epoch as i16,
                coordinator_epoch: p.coordinator_epoch.unwrap_or(0),
            }
        }
    };
    admin
        .abort_transaction(&spec)
        .await
        .map_err(|e| with_cause(&format!("Failed to abort transaction {spec}"), &e))
}

/// An open transaction found on a partition.
struct OpenTransaction {
    topic: String,
    partition: i32,
    producer: ProducerStateInfo,
}

/// Java's `Optional.toString` of the broker id in find-hanging's messages.
fn optional_text(v: Option<i32>) -> String {
    v.map_or_else(
        || "Optional.empty".to_string(),
        |b| format!("Optional[{b}]"),
    )
}

async fn find_hanging(admin: &Admin, ns: &Namespace, now_ms: i64) -> Result<String, String> {
    let broker_id = ns.get_i32("broker_id");
    let topic = ns.get("topic");
    if topic.is_none() && broker_id.is_none() {
        return Err("The `find-hanging` command requires either --topic or --broker-id to limit the scope of the search".to_string());
    }
    let partition = ns.get_i32("partition");
    if partition.is_some() && topic.is_none() {
        return Err("The --partition argument requires --topic to be provided".to_string());
    }
    let max_timeout_ms = i64::from(ns.get_i32("max_transaction_timeout").unwrap_or(15)) * 60_000;

    // collectTopicPartitionsToSearch
    let partitions: Vec<(String, i32)> = match (topic, partition) {
        (Some(t), Some(p)) => vec![(t.to_string(), p)],
        _ => {
            let topics: Vec<String> = match topic {
                Some(t) => vec![t.to_string()],
                None => admin
                    .list_topics()
                    .await
                    .map_err(|e| with_cause("Failed to list topics", &e))?
                    .into_iter()
                    .map(|t| t.name)
                    .collect(),
            };
            let mut out = Vec::new();
            for batch in topics.chunks(500) {
                let described = admin.describe_topics(batch).await.map_err(|e| {
                    with_cause(&format!("Failed to describe {} topics", batch.len()), &e)
                })?;
                for d in described {
                    for p in d.partitions {
                        if broker_id.is_none_or(|b| p.replicas.contains(&b)) {
                            out.push((d.name.clone(), p.partition));
                        }
                    }
                }
            }
            out
        }
    };

    // collectCandidateOpenTransactions
    let mut candidates: Vec<OpenTransaction> = Vec::new();
    for batch in partitions.chunks(500) {
        for (t, p) in batch {
            let producers = admin
                .describe_producers(t, *p, broker_id)
                .await
                .map_err(|e| {
                    with_cause(
                        &format!(
                            "Failed to describe producers for {} partitions on broker {}",
                            batch.len(),
                            optional_text(broker_id)
                        ),
                        &e,
                    )
                })?;
            for producer in producers {
                if producer.current_transaction_start_offset.is_some()
                    && now_ms - producer.last_timestamp > max_timeout_ms
                {
                    candidates.push(OpenTransaction {
                        topic: t.clone(),
                        partition: *p,
                        producer,
                    });
                }
            }
        }
    }
    if candidates.is_empty() {
        return Ok(print_hanging(&[], now_ms));
    }

    // lookupTransactionalIds
    let mut by_producer: BTreeMap<i64, Vec<&OpenTransaction>> = BTreeMap::new();
    for c in &candidates {
        by_producer
            .entry(c.producer.producer_id)
            .or_default()
            .push(c);
    }
    let options = ListTransactionsOptions {
        producer_id_filters: by_producer.keys().copied().collect(),
        ..Default::default()
    };
    let listed = admin.list_transactions(&options).await.map_err(|e| {
        with_cause(
            &format!(
                "Failed to list transactions for {} producers",
                by_producer.len()
            ),
            &e,
        )
    })?;
    let mut transactional_ids: BTreeMap<i64, String> = BTreeMap::new();
    for l in listed.into_values().flatten() {
        if by_producer.contains_key(&l.producer_id) {
            transactional_ids.insert(l.producer_id, l.transactional_id);
        }
    }

    // describeTransactions, then filterHangingTransactions
    let mut descriptions = BTreeMap::new();
    for id in transactional_ids.values() {
        match admin.describe_transaction(id).await {
            Ok(d) => {
                descriptions.insert(id.clone(), Some(d));
            }
            Err(e) if e.code() == Some(common::errors::codes::TRANSACTIONAL_ID_NOT_FOUND) => {
                descriptions.insert(id.clone(), None);
            }
            Err(e) => {
                return Err(with_cause(
                    &format!(
                        "Failed to describe {} transactions",
                        transactional_ids.len()
                    ),
                    &e,
                ))
            }
        }
    }
    let mut hanging: Vec<&OpenTransaction> = Vec::new();
    for (producer_id, open) in &by_producer {
        let description = transactional_ids
            .get(producer_id)
            .and_then(|id| descriptions.get(id))
            .and_then(Option::as_ref);
        match description {
            None => hanging.extend(open.iter().copied()),
            Some(d) => hanging.extend(open.iter().copied().filter(|o| {
                !d.topic_partitions
                    .iter()
                    .any(|(t, p)| *t == o.topic && *p == o.partition)
            })),
        }
    }
    Ok(print_hanging(&hanging, now_ms))
}

fn print_hanging(hanging: &[&OpenTransaction], now_ms: i64) -> String {
    let rows: Vec<Vec<String>> = hanging
        .iter()
        .map(|o| {
            let minutes = (now_ms - o.producer.last_timestamp) / 60_000;
            vec![
                o.topic.clone(),
                o.partition.to_string(),
                o.producer.producer_id.to_string(),
                o.producer.producer_epoch.to_string(),
                o.producer.coordinator_epoch.unwrap_or(-1).to_string(),
                o.producer
                    .current_transaction_start_offset
                    .unwrap_or(-1)
                    .to_string(),
                o.producer.last_timestamp.to_string(),
                minutes.to_string(),
            ]
        })
        .collect();
    pretty_table(&FIND_HANGING_HEADERS, &rows)
}
