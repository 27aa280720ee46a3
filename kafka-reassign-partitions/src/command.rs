//! What the tool does once its options are valid: Kafka 3.9's `ReassignPartitionsCommand`
//! actions over the admin client, with their output lines.
//!
//! - `--generate` reads the topics to move and the broker list, and prints the current
//!   assignment and a proposed one (see [`crate::placement`]);
//! - `--execute` prints the current assignment of the partitions in the file (to roll back with)
//!   and starts their reassignment (AlterPartitionReassignments);
//! - `--verify` says which are completed or still in progress (ListPartitionReassignments,
//!   then Metadata), and once none is running clears the replication throttles;
//! - `--cancel` cancels those still running; `--list` lists every reassignment in progress.
//!
//! Replication is not throttled by these brokers and each has one log directory, so a
//! throttle or a log directory other than `"any"` is refused before anything changes (Kafka
//! would set throttle configs, and move replicas between directories with AlterReplicaLogDirs).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use client::admin::{AlterConfigOp, AlterOpType, ConfigResource, TopicPartitionKey};
use client::{Admin, ClientError};

use crate::json::{format_reassignment, java_list, parse_reassignment, parse_topics, Partition};
use crate::options::{Action, ReassignOptions};
use crate::placement::{round_robin, PlacementError};

/// The class of Kafka's `AdminCommandFailedException`, which the tool throws for plans it refuses.
pub const ADMIN_COMMAND_FAILED: &str = "org.apache.kafka.server.common.AdminCommandFailedException";
const UNKNOWN_TOPIC: &str = "org.apache.kafka.common.errors.UnknownTopicOrPartitionException";
/// UNKNOWN_TOPIC_OR_PARTITION.
const UNKNOWN_TOPIC_CODE: i16 = 3;

/// Kafka's `CANNOT_EXECUTE_BECAUSE_OF_EXISTING_MESSAGE`.
const EXISTING_REASSIGNMENT: &str = "Cannot execute because there is an existing partition \
    assignment.  Use --additional to override this and create a new partition assignment in \
    addition to the existing one. The --additional flag can also be used to change the throttle \
    by resubmitting the current reassignment.";

/// The broker configs `--verify` and `--cancel` clear (`BROKER_LEVEL_THROTTLES`).
const BROKER_LEVEL_THROTTLES: &[&str] = &[
    "leader.replication.throttled.rate",
    "follower.replication.throttled.rate",
    "replica.alter.log.dirs.io.max.bytes.per.second",
];
/// The topic configs they clear (`TOPIC_LEVEL_THROTTLES`).
const TOPIC_LEVEL_THROTTLES: &[&str] = &[
    "leader.replication.throttled.replicas",
    "follower.replication.throttled.replicas",
];

/// How the tool fails, mirroring the two branches of `ReassignPartitionsCommand.main`'s catch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A `TerseException`: its message alone on stdout.
    Terse(String),
    /// Any other exception: `Error: <message>` and its stack trace, whose first line is
    /// `<class>: <message>`, on stdout.
    Exception { class: String, message: String },
}

impl Failure {
    pub fn exception(class: &str, message: impl Into<String>) -> Failure {
        Failure::Exception {
            class: class.to_string(),
            message: message.into(),
        }
    }

    /// An `ExecutionException` from an admin future, whose message is its cause's `toString`.
    fn execution(class: &str, message: &str) -> Failure {
        Failure::exception(
            "java.util.concurrent.ExecutionException",
            format!("{class}: {message}"),
        )
    }

    /// What `main` prints for it.
    pub fn render(&self) -> String {
        match self {
            Failure::Terse(m) => format!("{m}\n"),
            Failure::Exception { class, message } => {
                format!("Error: {message}\n{class}: {message}\n")
            }
        }
    }
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        Failure::execution(&cli::exception::exception_class(&e), &e.to_string())
    }
}

fn io_error(e: std::io::Error) -> Failure {
    Failure::exception("java.io.IOException", e.to_string())
}

type Out<'a> = &'a mut dyn Write;

/// A partition and its target replicas (`None` cancels), as AlterPartitionReassignments takes
/// them.
type Target = (TopicPartitionKey, Option<Vec<i32>>);

fn write(out: Out, text: &str) -> Result<(), Failure> {
    out.write_all(text.as_bytes()).map_err(io_error)
}

/// `Utils.readFileAsString`, failing as `Files.readAllBytes` does (`NoSuchFileException: <path>`).
fn read_file(path: &str) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|source| {
        let e = cli::PropertiesError::Io {
            path: path.to_string(),
            source,
        };
        Failure::exception(e.java_class(), e.java_message())
    })
}

fn join(ids: &[i32]) -> String {
    ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn join_partitions<'a>(parts: impl IntoIterator<Item = &'a Partition>, sep: &str) -> String {
    parts
        .into_iter()
        .map(Partition::to_string)
        .collect::<Vec<_>>()
        .join(sep)
}

/// Runs the action. Output goes to `out`; a failure is returned for `main` to print.
pub async fn run(admin: &Admin, opts: &ReassignOptions, out: Out<'_>) -> Result<(), Failure> {
    let file = |f: &Option<String>| read_file(f.as_deref().unwrap_or_default());
    match opts.action {
        Action::Verify => {
            let text = file(&opts.reassignment_json_file)?;
            verify(admin, &text, opts.preserve_throttles, out).await
        }
        Action::Generate => {
            let text = file(&opts.topics_to_move_json_file)?;
            let brokers = opts.broker_list.as_deref().unwrap_or_default();
            generate(admin, &text, brokers, out).await
        }
        Action::Execute => {
            let text = file(&opts.reassignment_json_file)?;
            execute(admin, opts, &text, out).await
        }
        Action::Cancel => {
            let text = file(&opts.reassignment_json_file)?;
            cancel(admin, &text, opts.preserve_throttles, out).await
        }
        Action::List => {
            let text = current_reassignments_text(admin).await?;
            write(out, &format!("{text}\n"))
        }
    }
}

/// The replicas of every partition of `topic` (Metadata), or `None` for a topic that does not
/// exist.
async fn topic_replicas(admin: &Admin, topic: &str) -> Result<Option<Vec<Vec<i32>>>, Failure> {
    match admin.describe_topics(&[topic.to_string()]).await {
        Ok(described) => Ok(described.into_iter().next().map(|t| {
            let mut partitions = t.partitions;
            partitions.sort_by_key(|p| p.partition);
            partitions.into_iter().map(|p| p.replicas).collect()
        })),
        Err(e) if e.code() == Some(UNKNOWN_TOPIC_CODE) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// `describeTopics` as the tool wraps it: a missing topic is `Topic <t> not found.`.
async fn describe_existing(admin: &Admin, topic: &str) -> Result<Vec<Vec<i32>>, Failure> {
    topic_replicas(admin, topic)
        .await?
        .ok_or_else(|| Failure::execution(UNKNOWN_TOPIC, &format!("Topic {topic} not found.")))
}

// ---- --generate -------------------------------------------------------------------------------

/// Kafka's `parseGenerateAssignmentArgs`: the broker ids (Java's `Integer.parseInt` of each
/// comma-separated item) and the topics, neither with duplicates.
fn parse_generate_args(
    topics_json: &str,
    broker_list: &str,
) -> Result<(Vec<i32>, Vec<String>), Failure> {
    let mut brokers = Vec::new();
    for item in broker_list.split(',') {
        let id = item.parse::<i32>().map_err(|_| {
            Failure::exception(
                "java.lang.NumberFormatException",
                format!("For input string: \"{item}\""),
            )
        })?;
        brokers.push(id);
    }
    let duplicate_brokers = duplicates(&brokers);
    if !duplicate_brokers.is_empty() {
        return Err(Failure::exception(
            ADMIN_COMMAND_FAILED,
            format!(
                "Broker list contains duplicate entries: {}",
                java_list(&duplicate_brokers)
            ),
        ));
    }
    let topics = parse_topics(topics_json)?;
    let duplicate_topics = duplicates(&topics);
    if !duplicate_topics.is_empty() {
        return Err(Failure::exception(
            ADMIN_COMMAND_FAILED,
            format!(
                "List of topics to reassign contains duplicate entries: {}",
                java_list(&duplicate_topics)
            ),
        ));
    }
    Ok((brokers, topics))
}

/// `ToolsUtils.duplicates`: each value that appears more than once, once, sorted.
fn duplicates<T: Ord + Clone>(items: &[T]) -> Vec<T> {
    let mut seen = BTreeSet::new();
    let mut dups = BTreeSet::new();
    for i in items {
        if !seen.insert(i) {
            dups.insert(i.clone());
        }
    }
    dups.into_iter().collect()
}

async fn generate(
    admin: &Admin,
    topics_json: &str,
    broker_list: &str,
    out: Out<'_>,
) -> Result<(), Failure> {
    let (brokers, topics) = parse_generate_args(topics_json, broker_list)?;
    let mut current = BTreeMap::new();
    for topic in &topics {
        for (partition, replicas) in describe_existing(admin, topic)
            .await?
            .into_iter()
            .enumerate()
        {
            let tp = Partition {
                topic: topic.clone(),
                partition: partition as i32,
            };
            current.insert(tp, replicas);
        }
    }
    // Brokers of the list that are not in the cluster are left out, as Kafka's
    // `getBrokerMetadata` leaves them out.
    let live: BTreeSet<i32> = admin.live_broker_ids().await?.into_iter().collect();
    let usable: Vec<i32> = live.into_iter().filter(|b| brokers.contains(b)).collect();
    let mut proposed = BTreeMap::new();
    for topic in &topics {
        let partitions: Vec<&Vec<i32>> = current
            .iter()
            .filter(|(tp, _)| &tp.topic == topic)
            .map(|(_, r)| r)
            .collect();
        let rf = partitions.first().map_or(0, |r| r.len());
        let placed = round_robin(&usable, partitions.len(), rf).map_err(|e| match e {
            PlacementError::Partitions(m) => Failure::exception(
                "org.apache.kafka.common.errors.InvalidPartitionsException",
                m,
            ),
            PlacementError::ReplicationFactor(m) => Failure::exception(
                "org.apache.kafka.common.errors.InvalidReplicationFactorException",
                m,
            ),
        })?;
        for (partition, replicas) in placed.into_iter().enumerate() {
            let tp = Partition {
                topic: topic.clone(),
                partition: partition as i32,
            };
            proposed.insert(tp, replicas);
        }
    }
    let none = BTreeMap::new();
    write(
        out,
        &format!(
            "Current partition replica assignment\n{}\n\nProposed partition reassignment configuration\n{}\n",
            format_reassignment(&current, &none),
            format_reassignment(&proposed, &none)
        ),
    )
}

// ---- --execute --------------------------------------------------------------------------------

/// Kafka's `parseExecuteAssignmentArgs`: a non-empty list, no empty replica list, no partition
/// twice, no broker twice in a partition.
fn parse_execute_args(text: &str) -> Result<(BTreeMap<Partition, Vec<i32>>, bool), Failure> {
    let data = parse_reassignment(text)?;
    let failed = |m: String| Failure::exception(ADMIN_COMMAND_FAILED, m);
    if data.partitions.is_empty() {
        return Err(failed("Partition reassignment list cannot be empty".into()));
    }
    if data.partitions.iter().any(|(_, r)| r.is_empty()) {
        return Err(failed("Partition replica list cannot be empty".into()));
    }
    let parts: Vec<Partition> = data.partitions.iter().map(|(tp, _)| tp.clone()).collect();
    let duplicate_parts = duplicates(&parts);
    if !duplicate_parts.is_empty() {
        return Err(failed(format!(
            "Partition reassignment contains duplicate topic partitions: {}",
            join_partitions(&duplicate_parts, ",")
        )));
    }
    let duplicate_replicas: Vec<String> = data
        .partitions
        .iter()
        .filter_map(|(tp, replicas)| {
            let d = duplicates(replicas);
            (!d.is_empty()).then(|| format!("{tp} contains multiple entries for {}", join(&d)))
        })
        .collect();
    if !duplicate_replicas.is_empty() {
        return Err(failed(format!(
            "Partition replica lists may not contain duplicate entries: {}",
            duplicate_replicas.join(". ")
        )));
    }
    let moves_log_dirs = !data.log_dirs.is_empty();
    Ok((data.partitions.into_iter().collect(), moves_log_dirs))
}

async fn execute(
    admin: &Admin,
    opts: &ReassignOptions,
    text: &str,
    out: Out<'_>,
) -> Result<(), Failure> {
    let (proposed, moves_log_dirs) = parse_execute_args(text)?;
    if opts.throttle >= 0 || opts.replica_alter_log_dirs_throttle >= 0 {
        return Err(Failure::Terse(
            "Replication throttles are not supported by this cluster: its brokers do not \
             throttle replication, so --throttle and --replica-alter-log-dirs-throttle would \
             have no effect. Run the reassignment without them."
                .into(),
        ));
    }
    if moves_log_dirs {
        return Err(Failure::Terse(
            "Moving replicas between log directories is not supported by this cluster: each \
             broker has one log directory. Use \"any\" (or leave out \"log_dirs\")."
                .into(),
        ));
    }
    let current_reassignments = admin.list_partition_reassignments(None).await?;
    if !opts.additional && !current_reassignments.is_empty() {
        return Err(Failure::Terse(EXISTING_REASSIGNMENT.into()));
    }
    // `verifyBrokerIds`: the first unknown broker of the (hash) set of them, which for broker
    // ids is the lowest.
    let live: BTreeSet<i32> = admin.live_broker_ids().await?.into_iter().collect();
    let named: BTreeSet<i32> = proposed.values().flatten().copied().collect();
    if let Some(unknown) = named.iter().find(|b| !live.contains(b)) {
        return Err(Failure::exception(
            ADMIN_COMMAND_FAILED,
            format!("Unknown broker id {unknown}"),
        ));
    }
    // `getReplicaAssignmentForPartitions`.
    let mut current = BTreeMap::new();
    let topics: BTreeSet<&str> = proposed.keys().map(|tp| tp.topic.as_str()).collect();
    for topic in topics {
        for (partition, replicas) in describe_existing(admin, topic)
            .await?
            .into_iter()
            .enumerate()
        {
            let tp = Partition {
                topic: topic.to_string(),
                partition: partition as i32,
            };
            if proposed.contains_key(&tp) {
                current.insert(tp, replicas);
            }
        }
    }
    let missing: Vec<&Partition> = proposed
        .keys()
        .filter(|tp| !current.contains_key(*tp))
        .collect();
    if !missing.is_empty() {
        return Err(Failure::execution(
            UNKNOWN_TOPIC,
            &format!(
                "Unable to find partition: {}",
                join_partitions(missing, ", ")
            ),
        ));
    }
    write(
        out,
        &format!(
            "Current partition replica assignment\n\n{}\n\nSave this to use as the \
             --reassignment-json-file option during rollback\n",
            format_reassignment(&current, &BTreeMap::new())
        ),
    )?;
    let request: Vec<Target> = proposed
        .iter()
        .map(|(tp, r)| ((tp.topic.clone(), tp.partition), Some(r.clone())))
        .collect();
    let errors = failed_partitions(admin.alter_partition_reassignments(&request).await?);
    if !errors.is_empty() {
        return Err(Failure::Terse(format!(
            "Error reassigning partition(s):\n{}",
            errors.join("\n")
        )));
    }
    write(
        out,
        &format!(
            "Successfully started partition reassignment{} for {}\n",
            plural(proposed.len()),
            join_partitions(proposed.keys(), ",")
        ),
    )
}

/// `t-0: <message>` for each partition that failed, sorted.
fn failed_partitions(results: Vec<(TopicPartitionKey, Result<(), ClientError>)>) -> Vec<String> {
    let mut failed: Vec<(Partition, String)> = results
        .into_iter()
        .filter_map(|((topic, partition), r)| {
            r.err()
                .map(|e| (Partition { topic, partition }, e.to_string()))
        })
        .collect();
    failed.sort();
    failed
        .into_iter()
        .map(|(tp, m)| format!("{tp}: {m}"))
        .collect()
}

// ---- --verify ---------------------------------------------------------------------------------

/// One partition's state for `--verify` (Kafka's `PartitionReassignmentState`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct PartitionState {
    current: Vec<i32>,
    target: Vec<i32>,
    done: bool,
}

/// Kafka's `partitionReassignmentStatesToString`.
fn states_text(states: &BTreeMap<Partition, PartitionState>) -> String {
    let mut lines = vec!["Status of partition reassignment:".to_string()];
    for (tp, s) in states {
        lines.push(if !s.done {
            format!("Reassignment of partition {tp} is still in progress.")
        } else if s.current == s.target {
            format!("Reassignment of partition {tp} is completed.")
        } else {
            format!(
                "There is no active reassignment of partition {tp}, but replica set is {} \
                 rather than {}.",
                join(&s.current),
                join(&s.target)
            )
        });
    }
    lines.join("\n")
}

/// Kafka's `findPartitionReassignmentStates`: running reassignments from
/// ListPartitionReassignments, the others from the topic's replicas (none for a missing topic or
/// partition). Also whether any reassignment at all is running.
async fn find_states(
    admin: &Admin,
    targets: &[(Partition, Vec<i32>)],
) -> Result<(BTreeMap<Partition, PartitionState>, bool), Failure> {
    let running = admin.list_partition_reassignments(None).await?;
    let mut states = BTreeMap::new();
    let mut described: BTreeMap<String, Option<Vec<Vec<i32>>>> = BTreeMap::new();
    for (tp, target) in targets {
        let state = match running.get(&(tp.topic.clone(), tp.partition)) {
            Some(r) => PartitionState {
                current: r.replicas.clone(),
                target: target.clone(),
                done: false,
            },
            None => {
                if !described.contains_key(&tp.topic) {
                    let replicas = topic_replicas(admin, &tp.topic).await?;
                    described.insert(tp.topic.clone(), replicas);
                }
                let current = described
                    .get(&tp.topic)
                    .and_then(Option::as_ref)
                    .and_then(|ps| usize::try_from(tp.partition).ok().and_then(|i| ps.get(i)))
                    .cloned()
                    .unwrap_or_default();
                PartitionState {
                    current,
                    target: target.clone(),
                    done: true,
                }
            }
        };
        states.insert(tp.clone(), state);
    }
    Ok((states, !running.is_empty()))
}

async fn verify(
    admin: &Admin,
    text: &str,
    preserve_throttles: bool,
    out: Out<'_>,
) -> Result<(), Failure> {
    let data = parse_reassignment(text)?;
    let (states, ongoing) = find_states(admin, &data.partitions).await?;
    // The second line is the (empty) status of log directory moves, which this cluster has none
    // of.
    write(out, &format!("{}\n\n", states_text(&states)))?;
    if !ongoing && !preserve_throttles {
        clear_all_throttles(admin, &data.partitions, out).await?;
    }
    Ok(())
}

/// Kafka's `clearAllThrottles`: every broker of the cluster and of the targets loses the
/// broker-level throttles, every topic of the targets the topic-level ones.
async fn clear_all_throttles(
    admin: &Admin,
    targets: &[(Partition, Vec<i32>)],
    out: Out<'_>,
) -> Result<(), Failure> {
    let mut brokers: BTreeSet<i32> = admin.live_broker_ids().await?.into_iter().collect();
    brokers.extend(targets.iter().flat_map(|(_, r)| r.iter().copied()));
    let ids: Vec<i32> = brokers.iter().copied().collect();
    write(
        out,
        &format!(
            "Clearing broker-level throttles on broker{} {}\n",
            plural(ids.len()),
            join(&ids)
        ),
    )?;
    let delete = |names: &[&str]| -> Vec<AlterConfigOp> {
        names
            .iter()
            .map(|n| AlterConfigOp {
                name: n.to_string(),
                op: AlterOpType::Delete,
                value: None,
            })
            .collect()
    };
    for b in &ids {
        admin
            .incremental_alter_configs(
                &ConfigResource::broker(&b.to_string()),
                &delete(BROKER_LEVEL_THROTTLES),
                false,
            )
            .await?;
    }
    let topics: BTreeSet<&str> = targets.iter().map(|(tp, _)| tp.topic.as_str()).collect();
    write(
        out,
        &format!(
            "Clearing topic-level throttles on topic{} {}\n",
            plural(topics.len()),
            topics.iter().copied().collect::<Vec<_>>().join(",")
        ),
    )?;
    for t in topics {
        admin
            .incremental_alter_configs(
                &ConfigResource::topic(t),
                &delete(TOPIC_LEVEL_THROTTLES),
                false,
            )
            .await?;
    }
    Ok(())
}

// ---- --cancel and --list ----------------------------------------------------------------------

async fn cancel(
    admin: &Admin,
    text: &str,
    preserve_throttles: bool,
    out: Out<'_>,
) -> Result<(), Failure> {
    let data = parse_reassignment(text)?;
    let asked: Vec<(String, i32)> = data
        .partitions
        .iter()
        .map(|(tp, _)| (tp.topic.clone(), tp.partition))
        .collect();
    // Kafka's filter, kept as it is: a reassignment that only adds replicas is not cancelled.
    let cancelling: BTreeSet<Partition> = admin
        .list_partition_reassignments(Some(&asked))
        .await?
        .into_iter()
        .filter(|(_, r)| r.adding_replicas.is_empty() || !r.removing_replicas.is_empty())
        .map(|((topic, partition), _)| Partition { topic, partition })
        .collect();
    if cancelling.is_empty() {
        write(
            out,
            "None of the specified partition reassignments are active.\n",
        )?;
    } else {
        let request: Vec<Target> = cancelling
            .iter()
            .map(|tp| ((tp.topic.clone(), tp.partition), None))
            .collect();
        let errors = failed_partitions(admin.alter_partition_reassignments(&request).await?);
        if !errors.is_empty() {
            return Err(Failure::Terse(format!(
                "Error cancelling partition reassignment{} for:\n{}",
                plural(errors.len()),
                errors.join("\n")
            )));
        }
        write(
            out,
            &format!(
                "Successfully cancelled partition reassignment{} for: {}\n",
                plural(cancelling.len()),
                join_partitions(&cancelling, ",")
            ),
        )?;
    }
    // Kafka prints this one with `print`, so what follows continues on the same line.
    write(out, "None of the specified partition moves are active.")?;
    if !preserve_throttles {
        clear_all_throttles(admin, &data.partitions, out).await?;
    }
    Ok(())
}

/// Kafka's `curReassignmentsToString`.
async fn current_reassignments_text(admin: &Admin) -> Result<String, Failure> {
    let running = admin.list_partition_reassignments(None).await?;
    if running.is_empty() {
        return Ok("No partition reassignments found.".into());
    }
    let lines: Vec<String> = running
        .iter()
        .map(|((topic, partition), r)| {
            let mut line = format!("{topic}-{partition}: replicas: {}.", join(&r.replicas));
            if !r.adding_replicas.is_empty() {
                line.push_str(&format!(" adding: {}.", join(&r.adding_replicas)));
            }
            if !r.removing_replicas.is_empty() {
                line.push_str(&format!(" removing: {}.", join(&r.removing_replicas)));
            }
            line
        })
        .collect();
    Ok(format!(
        "Current partition reassignments:\n{}",
        lines.join("\n")
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn tp(topic: &str, partition: i32) -> Partition {
        Partition {
            topic: topic.into(),
            partition,
        }
    }

    #[test]
    fn verify_says_completed_in_progress_or_where_the_replicas_are() {
        let states = BTreeMap::from([
            (
                tp("t", 1),
                PartitionState {
                    current: vec![0, 1, 2],
                    target: vec![0, 1],
                    done: false,
                },
            ),
            (
                tp("t", 0),
                PartitionState {
                    current: vec![0, 1],
                    target: vec![0, 1],
                    done: true,
                },
            ),
            (
                tp("a", 3),
                PartitionState {
                    current: vec![2, 0],
                    target: vec![0, 2],
                    done: true,
                },
            ),
        ]);
        assert_eq!(
            states_text(&states),
            "Status of partition reassignment:\n\
             There is no active reassignment of partition a-3, but replica set is 2,0 rather than 0,2.\n\
             Reassignment of partition t-0 is completed.\n\
             Reassignment of partition t-1 is still in progress."
        );
    }

    #[test]
    fn execute_refuses_what_kafka_refuses_before_sending_anything() {
        let err = |text: &str| match parse_execute_args(text).unwrap_err() {
            Failure::Exception { message, .. } => message,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            err(r#"{"version":1,"partitions":[]}"#),
            "Partition reassignment list cannot be empty"
        );
        assert_eq!(
            err(r#"{"partitions":[{"topic":"t","partition":0,"replicas":[]}]}"#),
            "Partition replica list cannot be empty"
        );
        assert_eq!(
            err(
                r#"{"partitions":[{"topic":"t","partition":0,"replicas":[1]},{"topic":"t","partition":0,"replicas":[2]}]}"#
            ),
            "Partition reassignment contains duplicate topic partitions: t-0"
        );
        assert_eq!(
            err(
                r#"{"partitions":[{"topic":"t","partition":0,"replicas":[1,2,1]},{"topic":"u","partition":1,"replicas":[3,3]}]}"#
            ),
            "Partition replica lists may not contain duplicate entries: t-0 contains multiple \
             entries for 1. u-1 contains multiple entries for 3"
        );
        let (parts, log_dirs) = parse_execute_args(
            r#"{"partitions":[{"topic":"t","partition":0,"replicas":[0,1],"log_dirs":["any","/data"]}]}"#,
        )
        .unwrap();
        assert_eq!(parts, BTreeMap::from([(tp("t", 0), vec![0, 1])]));
        assert!(log_dirs);
    }

    #[test]
    fn generate_arguments_follow_kafkas_checks() {
        let topics = r#"{"topics":[{"topic":"a"},{"topic":"b"}],"version":1}"#;
        assert_eq!(
            parse_generate_args(topics, "2,0,1").unwrap(),
            (vec![2, 0, 1], vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(
            parse_generate_args(topics, "1,2,1,2").unwrap_err(),
            Failure::exception(
                ADMIN_COMMAND_FAILED,
                "Broker list contains duplicate entries: [1, 2]"
            )
        );
        assert_eq!(
            parse_generate_args(topics, "1, 2").unwrap_err(),
            Failure::exception(
                "java.lang.NumberFormatException",
                "For input string: \" 2\""
            )
        );
        assert_eq!(
            parse_generate_args(r#"{"topics":[{"topic":"a"},{"topic":"a"}]}"#, "1").unwrap_err(),
            Failure::exception(
                ADMIN_COMMAND_FAILED,
                "List of topics to reassign contains duplicate entries: [a]"
            )
        );
    }

    #[test]
    fn failures_print_as_kafkas_main_prints_them() {
        assert_eq!(
            Failure::Terse("Cannot execute.".into()).render(),
            "Cannot execute.\n"
        );
        assert_eq!(
            Failure::exception(ADMIN_COMMAND_FAILED, "Unknown broker id 7").render(),
            "Error: Unknown broker id 7\n\
             org.apache.kafka.server.common.AdminCommandFailedException: Unknown broker id 7\n"
        );
        let e: Failure = ClientError::kafka(3, Some("Topic t not found.")).into();
        assert_eq!(
            e.render(),
            "Error: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: Topic t not found.\n\
             java.util.concurrent.ExecutionException: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: Topic t not found.\n"
        );
    }
}
