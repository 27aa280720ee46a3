//! Runs one kafka-consumer-groups action against the cluster and prints what Kafka's
//! `ConsumerGroupService` prints. Failures follow Kafka's `run()`: an `IllegalArgumentException`
//! prints the usage and exits 1; anything else prints `Error: Executing consumer group command
//! failed due to <msg>` and the tool still exits 0.

use std::collections::BTreeMap;
use std::io::Write;

use common::time::now_ms;

use cli::{tool_log, Abort};
use client::admin::{GroupDescription, OffsetSpec};
use client::{Admin, ClientError};

use crate::format::{self, MemberRow, OffsetRow, StateRow};
use crate::options::{Action, DescribeView, GroupOptions, Scenario};
use crate::reset;

pub const LOGGER: &str = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// Kafka's `IllegalArgumentException` from `run`: usage, exit 1.
    Illegal(String),
    /// Any other throwable: reported on stdout, exit 0.
    Failed { exception: String, message: String },
}

impl CommandError {
    pub fn failed(exception: &str, message: impl Into<String>) -> Self {
        CommandError::Failed {
            exception: exception.to_string(),
            message: message.into(),
        }
    }

    fn illegal_state(message: impl Into<String>) -> Self {
        Self::failed("java.lang.IllegalStateException", message)
    }
}

/// The Java class Kafka names for a broker error (a few differ from the error's name).
fn exception_class(e: &ClientError) -> String {
    match e {
        ClientError::Kafka { code: 68, .. } => {
            "org.apache.kafka.common.errors.GroupNotEmptyException".to_string()
        }
        // The admin's own checks (e.g. "GroupId g is not a consumer group").
        ClientError::InvalidArgument(_) => "java.lang.IllegalArgumentException".to_string(),
        _ => cli::exception::exception_class(e),
    }
}

/// `Throwable.toString`: `<class>: <message>`.
fn throwable_text(e: &ClientError) -> String {
    format!("{}: {e}", exception_class(e))
}

impl From<ClientError> for CommandError {
    fn from(e: ClientError) -> Self {
        // Admin futures fail with an ExecutionException whose message is the cause's toString.
        CommandError::Failed {
            exception: "java.util.concurrent.ExecutionException".to_string(),
            message: throwable_text(&e),
        }
    }
}

/// Prints a failure as Kafka does; returns the exit code.
pub fn report(e: &CommandError) -> i32 {
    match e {
        CommandError::Illegal(message) => {
            Abort::Usage(message.clone()).exit(&crate::options::parser())
        }
        CommandError::Failed { exception, message } => {
            let mut stdout = std::io::stdout();
            let _ = writeln!(
                stdout,
                "\nError: Executing consumer group command failed due to {message}"
            );
            let _ = stdout.flush();
            // Kafka prints the stack trace; its first line is enough to say what was thrown.
            eprintln!("{exception}: {message}");
            0
        }
    }
}

type Out<'a> = &'a mut dyn Write;

fn io_error(e: std::io::Error) -> CommandError {
    CommandError::failed("java.io.IOException", e.to_string())
}

/// Kafka's `printError`: `\nError: <msg>` on stdout.
fn print_error(out: Out, msg: &str) -> Result<(), CommandError> {
    writeln!(out, "\nError: {msg}").map_err(io_error)
}

/// A line on stderr, after what stdout has so far (so the two streams read in order).
fn stderr_line(out: Out, msg: &str) {
    let _ = out.flush();
    eprintln!("{msg}");
}

pub async fn run(admin: &Admin, opts: &GroupOptions, out: Out<'_>) -> Result<(), CommandError> {
    match opts.action {
        Action::List => list(admin, opts, out).await,
        Action::Describe => describe(admin, opts, out).await,
        Action::Delete => delete(admin, opts, out).await,
        Action::ResetOffsets => reset_offsets(admin, opts, out).await,
        Action::DeleteOffsets => delete_offsets(admin, opts, out).await,
    }
}

async fn group_ids(admin: &Admin, opts: &GroupOptions) -> Result<Vec<String>, CommandError> {
    if opts.all_groups {
        Ok(admin
            .list_groups()
            .await?
            .into_iter()
            .map(|g| g.group_id)
            .collect())
    } else {
        Ok(opts.groups.clone())
    }
}

/// "classic" -> "Classic", as Kafka's `GroupType.toString`.
fn type_display(t: &str) -> String {
    let mut chars = t.chars();
    match chars.next() {
        Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
        None => "Classic".to_string(),
    }
}

async fn list(admin: &Admin, opts: &GroupOptions, out: Out<'_>) -> Result<(), CommandError> {
    let listings = admin.list_groups().await?;
    if opts.list_states.is_none() && opts.list_types.is_none() {
        for l in listings {
            writeln!(out, "{}", l.group_id).map_err(io_error)?;
        }
        return Ok(());
    }
    let states = opts.list_states.clone().unwrap_or_default();
    let types = opts.list_types.clone().unwrap_or_default();
    let rows: Vec<(String, String, String)> = listings
        .into_iter()
        .map(|l| {
            let ty = l
                .group_type
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "classic".into());
            let state = l
                .state
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "Unknown".into());
            (l.group_id, ty, state)
        })
        .filter(|(_, ty, state)| {
            (states.is_empty() || states.iter().any(|s| s.eq_ignore_ascii_case(state)))
                && (types.is_empty() || types.iter().any(|t| t.eq_ignore_ascii_case(ty)))
        })
        .map(|(g, ty, state)| (g, type_display(&ty), state))
        .collect();
    let text = format::list_table(&rows, opts.list_types.is_some(), opts.list_states.is_some());
    out.write_all(text.as_bytes()).map_err(io_error)
}

/// Kafka's `shouldPrintMemberState`: the state messages; whether to print the table.
fn should_print(out: Out, group: &str, state: &str, rows: usize) -> Result<bool, CommandError> {
    match state {
        "Dead" => {
            print_error(out, &format!("Consumer group '{group}' does not exist."))?;
            return Ok(false);
        }
        "Empty" => stderr_line(
            out,
            &format!("\nConsumer group '{group}' has no active members."),
        ),
        "PreparingRebalance" | "CompletingRebalance" | "Assigning" | "Reconciling" => stderr_line(
            out,
            &format!("\nWarning: Consumer group '{group}' is rebalancing."),
        ),
        _ => {}
    }
    Ok(rows > 0)
}

async fn describe(admin: &Admin, opts: &GroupOptions, out: Out<'_>) -> Result<(), CommandError> {
    for group in group_ids(admin, opts).await? {
        let desc = admin.describe_group(&group).await?;
        match opts.view {
            DescribeView::Offsets => {
                let rows = offset_rows(admin, &desc).await?;
                if should_print(out, &group, &desc.state, rows.len())? {
                    out.write_all(format::offsets_table(&rows).as_bytes())
                        .map_err(io_error)?;
                }
            }
            DescribeView::Members => {
                let rows: Vec<MemberRow> = desc
                    .members
                    .iter()
                    .map(|m| MemberRow {
                        group: group.clone(),
                        consumer_id: m.member_id.clone(),
                        group_instance_id: m.group_instance_id.clone().unwrap_or_default(),
                        host: m.host.clone(),
                        client_id: m.client_id.clone(),
                        assignment: m.assignment.clone(),
                    })
                    .collect();
                if should_print(out, &group, &desc.state, rows.len())? {
                    out.write_all(format::members_table(&rows, opts.verbose).as_bytes())
                        .map_err(io_error)?;
                }
            }
            DescribeView::State => {
                if should_print(out, &group, &desc.state, 1)? {
                    let row = StateRow {
                        group: group.clone(),
                        coordinator_host: desc.coordinator.host.clone(),
                        coordinator_port: desc.coordinator.port,
                        coordinator_id: desc.coordinator.id,
                        assignment_strategy: desc.assignment_strategy.clone(),
                        state: desc.state.clone(),
                        members: desc.members.len(),
                    };
                    out.write_all(format::state_table(&row).as_bytes())
                        .map_err(io_error)?;
                }
            }
        }
    }
    Ok(())
}

/// The rows of `--describe --offsets` (Kafka's `collectGroupOffsets`): members with the most
/// partitions first, each member's partitions by partition number, a member without partitions
/// as one row of `-`; then committed partitions no member holds, by topic and partition.
async fn offset_rows(
    admin: &Admin,
    desc: &GroupDescription,
) -> Result<Vec<OffsetRow>, CommandError> {
    if desc.state == "Dead" {
        return Ok(Vec::new());
    }
    let committed: BTreeMap<(String, i32), i64> = admin
        .list_group_offsets(&desc.group_id)
        .await?
        .into_iter()
        .map(|o| ((o.topic, o.partition), o.offset))
        .collect();
    let mut rows = build_offset_rows(desc, &committed);
    let partitions: Vec<(String, i32)> = rows
        .iter()
        .filter_map(|r| Some((r.topic.clone()?, r.partition?)))
        .collect();
    let ends = admin.list_offsets(&partitions, OffsetSpec::Latest).await?;
    for r in &mut rows {
        if let (Some(t), Some(p)) = (&r.topic, r.partition) {
            r.log_end_offset = ends
                .get(&(t.clone(), p))
                .and_then(|v| v.as_ref().ok().copied().flatten());
        }
    }
    Ok(rows)
}

/// The rows of the offsets table before log end offsets are known (pure part of
/// `offset_rows`).
fn build_offset_rows(
    desc: &GroupDescription,
    committed: &BTreeMap<(String, i32), i64>,
) -> Vec<OffsetRow> {
    let mut members: Vec<_> = desc.members.iter().collect();
    members.sort_by_key(|m| std::cmp::Reverse(m.assignment.len()));
    let mut rows = Vec::new();
    let mut assigned = std::collections::BTreeSet::new();
    for m in members {
        let mut partitions = m.assignment.clone();
        partitions.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
        if partitions.is_empty() {
            rows.push(OffsetRow {
                group: desc.group_id.clone(),
                topic: None,
                partition: None,
                current_offset: None,
                log_end_offset: None,
                consumer_id: Some(m.member_id.clone()),
                host: Some(m.host.clone()),
                client_id: Some(m.client_id.clone()),
            });
        }
        for (t, p) in partitions {
            assigned.insert((t.clone(), p));
            rows.push(OffsetRow {
                group: desc.group_id.clone(),
                current_offset: committed.get(&(t.clone(), p)).copied(),
                topic: Some(t),
                partition: Some(p),
                log_end_offset: None,
                consumer_id: Some(m.member_id.clone()),
                host: Some(m.host.clone()),
                client_id: Some(m.client_id.clone()),
            });
        }
    }
    for ((t, p), offset) in committed {
        if assigned.contains(&(t.clone(), *p)) {
            continue;
        }
        rows.push(OffsetRow {
            group: desc.group_id.clone(),
            topic: Some(t.clone()),
            partition: Some(*p),
            current_offset: Some(*offset),
            log_end_offset: None,
            consumer_id: None,
            host: None,
            client_id: None,
        });
    }
    rows
}

async fn delete(admin: &Admin, opts: &GroupOptions, out: Out<'_>) -> Result<(), CommandError> {
    let groups = group_ids(admin, opts).await?;
    let results = admin.delete_groups(&groups).await;
    let success: Vec<&str> = results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(g, _)| g.as_str())
        .collect();
    let failed: Vec<(&str, &ClientError)> = results
        .iter()
        .filter_map(|(g, r)| r.as_ref().err().map(|e| (g.as_str(), e)))
        .collect();
    if failed.is_empty() {
        writeln!(
            out,
            "Deletion of requested consumer groups ('{}') was successful.",
            success.join(", ")
        )
        .map_err(io_error)?;
    } else {
        print_error(out, "Deletion of some consumer groups failed:")?;
        for (g, e) in &failed {
            writeln!(
                out,
                "* Group '{g}' could not be deleted due to: {}",
                throwable_text(e)
            )
            .map_err(io_error)?;
        }
        if !success.is_empty() {
            writeln!(
                out,
                "\nThese consumer groups were deleted successfully: '{}'",
                success.join(", ")
            )
            .map_err(io_error)?;
        }
    }
    Ok(())
}

/// The partitions `--topic` names: listed ones, or every partition of the topic.
async fn scoped_partitions(
    admin: &Admin,
    topics: &[String],
) -> Result<Vec<(String, i32)>, CommandError> {
    let mut out = Vec::new();
    for arg in topics {
        let (topic, partitions) = reset::parse_topic_scope(arg).map_err(CommandError::Illegal)?;
        match partitions {
            Some(ps) => out.extend(ps.into_iter().map(|p| (topic.clone(), p))),
            None => {
                let described = admin.describe_topics(std::slice::from_ref(&topic)).await?;
                for d in described {
                    out.extend(d.partitions.iter().map(|p| (topic.clone(), p.partition)));
                }
            }
        }
    }
    Ok(out)
}

/// One offset per partition for `spec`, or the error Kafka raises when a partition has none.
async fn offsets_for(
    admin: &Admin,
    partitions: &[(String, i32)],
    spec: OffsetSpec,
) -> Result<BTreeMap<(String, i32), Option<i64>>, CommandError> {
    let listed = admin.list_offsets(partitions, spec).await?;
    let mut out = BTreeMap::new();
    for key in partitions {
        match listed.get(key) {
            Some(Ok(v)) => {
                out.insert(key.clone(), *v);
            }
            Some(Err(e)) => return Err(e.clone().into()),
            None => {
                return Err(CommandError::illegal_state(format!(
                    "No offset for partition {}-{}",
                    key.0, key.1
                )))
            }
        }
    }
    Ok(out)
}

fn required(v: Option<&Option<i64>>, t: &str, p: i32) -> Result<i64, CommandError> {
    v.copied().flatten().ok_or_else(|| {
        CommandError::illegal_state(format!("Expected a valid offset for partition {t}-{p}"))
    })
}

/// Kafka's `checkOffsetsRange` over all requested offsets.
async fn clamp_all(
    admin: &Admin,
    out: Out<'_>,
    requested: Vec<(String, i32, i64)>,
) -> Result<Vec<(String, i32, i64)>, CommandError> {
    let keys: Vec<(String, i32)> = requested.iter().map(|(t, p, _)| (t.clone(), *p)).collect();
    let starts = admin.list_offsets(&keys, OffsetSpec::Earliest).await?;
    let ends = admin.list_offsets(&keys, OffsetSpec::Latest).await?;
    let mut result = Vec::new();
    for (t, p, o) in requested {
        let key = (t.clone(), p);
        let start = starts
            .get(&key)
            .and_then(|v| v.as_ref().ok().copied().flatten());
        let end = ends
            .get(&key)
            .and_then(|v| v.as_ref().ok().copied().flatten());
        let (value, warning) = reset::clamp_offset(&t, p, o, start, end);
        if let Some(w) = warning {
            let _ = out.flush();
            tool_log::warn(&w, LOGGER);
        }
        result.push((t, p, value));
    }
    Ok(result)
}

/// Offsets for a timestamp, falling back to the log end where no record is that new.
async fn offsets_at_time(
    admin: &Admin,
    out: Out<'_>,
    partitions: &[(String, i32)],
    timestamp: i64,
) -> Result<Vec<(String, i32, i64)>, CommandError> {
    let at = offsets_for(admin, partitions, OffsetSpec::Timestamp(timestamp)).await?;
    let missing: Vec<(String, i32)> = at
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| k.clone())
        .collect();
    for (t, p) in &missing {
        writeln!(
            out,
            "\nWarn: Partition {p} from topic {t} is empty. Falling back to latest known offset."
        )
        .map_err(io_error)?;
    }
    let ends = offsets_for(admin, &missing, OffsetSpec::Latest).await?;
    let mut result = Vec::new();
    for (t, p) in partitions {
        let key = (t.clone(), *p);
        let value = match at.get(&key).copied().flatten() {
            Some(v) => v,
            None => required(ends.get(&key), t, *p)?,
        };
        result.push((t.clone(), *p, value));
    }
    Ok(result)
}

/// Reads a `--from-file` plan: `topic,partition,offset` or `group,topic,partition,offset`.
fn read_plan(path: &str, group: &str) -> Result<Vec<(String, i32, i64)>, CommandError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CommandError::failed("java.nio.file.NoSuchFileException", format!("{path}: {e}"))
    })?;
    let mut plan = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let (g, rest) = match fields.len() {
            3 => (group, &fields[..]),
            4 => (fields[0], &fields[1..]),
            _ => {
                return Err(CommandError::illegal_state(format!(
                    "Invalid CSV line in {path}: {line}"
                )))
            }
        };
        if g != group {
            continue;
        }
        let bad = || CommandError::illegal_state(format!("Invalid CSV line in {path}: {line}"));
        let p: i32 = rest[1].parse().map_err(|_| bad())?;
        let o: i64 = rest[2].parse().map_err(|_| bad())?;
        plan.push((rest[0].to_string(), p, o));
    }
    Ok(plan)
}

/// Kafka's `prepareOffsetsToReset`.
async fn prepare(
    admin: &Admin,
    out: Out<'_>,
    opts: &GroupOptions,
    group: &str,
) -> Result<Vec<(String, i32, i64)>, CommandError> {
    let committed: BTreeMap<(String, i32), i64> = admin
        .list_group_offsets(group)
        .await?
        .into_iter()
        .map(|o| ((o.topic, o.partition), o.offset))
        .collect();
    let partitions: Vec<(String, i32)> = if opts.all_topics {
        committed.keys().cloned().collect()
    } else {
        scoped_partitions(admin, &opts.topics).await?
    };
    let Some(scenario) = &opts.scenario else {
        return Ok(Vec::new());
    };
    let mut result = match scenario {
        Scenario::ToOffset(n) => {
            let requested = partitions
                .iter()
                .map(|(t, p)| (t.clone(), *p, *n))
                .collect();
            clamp_all(admin, out, requested).await?
        }
        Scenario::ShiftBy(n) => {
            let mut requested = Vec::new();
            for (t, p) in &partitions {
                let Some(current) = committed.get(&(t.clone(), *p)) else {
                    return Err(CommandError::illegal_state(format!(
                        "Cannot shift offset for partition {t}-{p} since there is no current committed offset"
                    )));
                };
                requested.push((t.clone(), *p, current.saturating_add(*n)));
            }
            clamp_all(admin, out, requested).await?
        }
        Scenario::ToEarliest | Scenario::ToLatest => {
            let spec = if *scenario == Scenario::ToEarliest {
                OffsetSpec::Earliest
            } else {
                OffsetSpec::Latest
            };
            let offsets = offsets_for(admin, &partitions, spec).await?;
            let mut v = Vec::new();
            for (t, p) in &partitions {
                v.push((
                    t.clone(),
                    *p,
                    required(offsets.get(&(t.clone(), *p)), t, *p)?,
                ));
            }
            v
        }
        Scenario::ToCurrent => {
            let without: Vec<(String, i32)> = partitions
                .iter()
                .filter(|k| !committed.contains_key(*k))
                .cloned()
                .collect();
            let ends = offsets_for(admin, &without, OffsetSpec::Latest).await?;
            let mut v = Vec::new();
            for (t, p) in &partitions {
                let key = (t.clone(), *p);
                let value = match committed.get(&key) {
                    Some(c) => *c,
                    None => required(ends.get(&key), t, *p)?,
                };
                v.push((t.clone(), *p, value));
            }
            v
        }
        Scenario::ToDatetime(text) => {
            let ts = reset::parse_datetime(text)
                .map_err(|m| CommandError::failed("java.text.ParseException", m))?;
            offsets_at_time(admin, out, &partitions, ts).await?
        }
        Scenario::ByDuration(text) => {
            let d = reset::parse_duration_ms(text)
                .map_err(|m| CommandError::failed("java.time.format.DateTimeParseException", m))?;
            offsets_at_time(admin, out, &partitions, now_ms().saturating_sub(d)).await?
        }
        Scenario::FromFile(path) => {
            let plan = read_plan(path, group)?;
            clamp_all(admin, out, plan).await?
        }
    };
    result.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    Ok(result)
}

async fn reset_offsets(
    admin: &Admin,
    opts: &GroupOptions,
    out: Out<'_>,
) -> Result<(), CommandError> {
    let groups = group_ids(admin, opts).await?;
    let mut rows: Vec<(String, String, i32, i64)> = Vec::new();
    for group in &groups {
        let desc = admin.describe_group(group).await?;
        match desc.state.as_str() {
            "Empty" | "Dead" => {
                let prepared = prepare(admin, out, opts, group).await?;
                if opts.execute && !prepared.is_empty() {
                    let results = admin.alter_group_offsets(group, &prepared).await?;
                    if let Some((_, _, Some(e))) = results.iter().find(|(_, _, e)| e.is_some()) {
                        return Err(e.clone().into());
                    }
                }
                rows.extend(
                    prepared
                        .into_iter()
                        .map(|(t, p, o)| (group.clone(), t, p, o)),
                );
            }
            state => {
                print_error(out, &format!(
                    "Assignments can only be reset if the group '{group}' is inactive, but the current state is {state}."
                ))?;
            }
        }
    }
    let text = if opts.export {
        format!("{}\n", format::reset_csv(&rows, groups.len() == 1))
    } else {
        format::reset_table(&rows, !groups.is_empty())
    };
    out.write_all(text.as_bytes()).map_err(io_error)
}

async fn delete_offsets(
    admin: &Admin,
    opts: &GroupOptions,
    out: Out<'_>,
) -> Result<(), CommandError> {
    let Some(group) = opts.groups.first() else {
        return Err(CommandError::Illegal(
            "Option [delete-offsets] takes the following options: [[group], [topic]]".into(),
        ));
    };
    let mut partitions = Vec::new();
    // (topic, partition or -1, error) for topics that could not be looked up.
    let mut rows: Vec<(String, i32, Option<String>)> = Vec::new();
    let mut topic_names = Vec::new();
    for arg in &opts.topics {
        let (topic, ps) = reset::parse_topic_scope(arg).map_err(CommandError::Illegal)?;
        topic_names.push(topic.clone());
        match ps {
            Some(ps) => partitions.extend(ps.into_iter().map(|p| (topic.clone(), p))),
            None => match admin.describe_topics(std::slice::from_ref(&topic)).await {
                Ok(described) => {
                    for d in described {
                        partitions
                            .extend(d.partitions.iter().map(|p| (topic.clone(), p.partition)));
                    }
                }
                Err(e) => rows.push((topic.clone(), -1, Some(throwable_text(&e)))),
            },
        }
    }
    // As Kafka's admin: any partition failure fails the whole call with that partition's error,
    // and each partition row shows its own failure.
    let (top_error, partition_rows): (Option<ClientError>, Vec<_>) =
        match admin.delete_group_offsets(group, &partitions).await {
            Ok(results) => {
                let first = results.iter().find_map(|(_, _, e)| e.clone());
                let rows = results
                    .into_iter()
                    .map(|(t, p, e)| (t, p, e.map(|e| throwable_text(&e))))
                    .collect();
                (first, rows)
            }
            Err(e) if e.code().is_some() => {
                let text = throwable_text(&e);
                let rows = partitions
                    .iter()
                    .map(|(t, p)| (t.clone(), *p, Some(text.clone())))
                    .collect();
                (Some(e), rows)
            }
            Err(e) => return Err(e.into()),
        };
    match top_error.and_then(|e| e.code()) {
        None => writeln!(
            out,
            "Request succeed for deleting offsets with topic {} group {group}",
            topic_names.join(", ")
        )
        .map_err(io_error)?,
        Some(code) => {
            let message = match code {
                24 => format!("'{group}' is not valid."),
                69 => format!("'{group}' does not exist."),
                30 => format!("Access to '{group}' is not authorized."),
                68 => format!(
                    "Deleting offsets of a consumer group '{group}' is forbidden if the group is not empty."
                ),
                86 | 29 | 3 => {
                    "Encounter some partition level error, see the follow-up details:".to_string()
                }
                code => format!(
                    "Encounter some unknown error: {}",
                    client::error::error_name(code)
                ),
            };
            print_error(out, &message)?;
        }
    }
    rows.extend(partition_rows);
    rows.sort_by(|a, b| format!("{}{}", a.0, a.1).cmp(&format!("{}{}", b.0, b.1)));
    out.write_all(format::delete_offsets_table(&rows).as_bytes())
        .map_err(io_error)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use client::admin::MemberDescription;
    use client::metadata::BrokerNode;

    fn member(id: &str, assignment: &[(&str, i32)]) -> MemberDescription {
        MemberDescription {
            member_id: id.into(),
            group_instance_id: None,
            client_id: "c".into(),
            host: "/127.0.0.1".into(),
            assignment: assignment
                .iter()
                .map(|(t, p)| (t.to_string(), *p))
                .collect(),
        }
    }

    #[test]
    fn offset_rows_put_busiest_members_first_then_unassigned_commits() {
        let desc = GroupDescription {
            group_id: "g".into(),
            state: "Stable".into(),
            protocol_type: "consumer".into(),
            assignment_strategy: "range".into(),
            members: vec![
                member("idle", &[]),
                member("one", &[("t", 2)]),
                member("two", &[("t", 1), ("t", 0)]),
            ],
            coordinator: BrokerNode {
                id: 0,
                host: "localhost".into(),
                port: 9092,
                rack: None,
            },
        };
        let committed: BTreeMap<(String, i32), i64> =
            [(("t".to_string(), 0), 5), (("old".to_string(), 0), 9)]
                .into_iter()
                .collect();
        let rows = build_offset_rows(&desc, &committed);
        type Summary<'a> = (Option<&'a str>, Option<i32>, Option<i64>, Option<&'a str>);
        let summary: Vec<Summary> = rows
            .iter()
            .map(|r| {
                (
                    r.topic.as_deref(),
                    r.partition,
                    r.current_offset,
                    r.consumer_id.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (Some("t"), Some(0), Some(5), Some("two")),
                (Some("t"), Some(1), None, Some("two")),
                (Some("t"), Some(2), None, Some("one")),
                (None, None, None, Some("idle")),
                (Some("old"), Some(0), Some(9), None),
            ]
        );
    }

    #[test]
    fn broker_errors_print_as_java_throwables() {
        assert_eq!(
            throwable_text(&ClientError::kafka(68, None)),
            "org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty."
        );
        assert_eq!(
            CommandError::from(ClientError::Timeout("Timed out".into())),
            CommandError::Failed {
                exception: "java.util.concurrent.ExecutionException".into(),
                message: "org.apache.kafka.common.errors.TimeoutException: Timed out".into()
            }
        );
    }
}
