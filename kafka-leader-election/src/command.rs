//! What kafka-leader-election does once its options are valid: Kafka 3.9's
//! `LeaderElectionCommand.electLeaders` over the admin client. The outcome is printed on stdout
//! in three groups, each in the iteration order of Kafka's `HashSet`s: the partitions whose
//! leader was elected, those that already had it ("Valid replica already elected"), and one line
//! per failed partition, after which the command fails with "N replica(s) could not be elected".

use std::io::Write;

use cli::exception::java_exception;
use client::admin::{ElectionResult, ElectionType};
use client::{Admin, ClientError};
use common::errors::codes::ELECTION_NOT_NEEDED;

use crate::options::Partitions;
use java_compat::order::{hash_order, topic_partition_hash, Capacity};
use java_compat::JavaException;

type Out<'a> = &'a mut dyn Write;

fn io_error(e: std::io::Error) -> JavaException {
    JavaException::new("java.io.IOException", e.to_string())
}

/// The election's answer sorted as Kafka's tool sorts it, and printed; `Err` is the exception
/// the tool ends with (after its lines on stdout).
pub async fn elect_leaders(
    admin: &Admin,
    election: ElectionType,
    partitions: &Partitions,
    out: Out<'_>,
) -> Result<(), JavaException> {
    let listed = match partitions {
        Partitions::All => None,
        Partitions::Listed(ps) => Some(ps.clone()),
    };
    let results = match admin.elect_leaders(election, listed).await {
        Ok(results) => results,
        Err(e @ ClientError::Timeout(_)) => {
            let message = "Timeout waiting for election results";
            writeln!(out, "{message}").map_err(io_error)?;
            return Err(JavaException::admin_command_failed(message).caused_by(java_exception(&e)));
        }
        // `ExecutionException` wrapped in a `RuntimeException`.
        Err(e) => {
            let execution = JavaException::new(
                "java.util.concurrent.ExecutionException",
                java_exception(&e).to_string(),
            )
            .caused_by(java_exception(&e));
            return Err(JavaException::runtime(execution));
        }
    };
    print_results(election, results, out)
}

/// Kafka's grouping and printing of `electionResults`.
fn print_results(
    election: ElectionType,
    results: Vec<ElectionResult>,
    out: Out<'_>,
) -> Result<(), JavaException> {
    let hash = |r: &ElectionResult| topic_partition_hash(&r.topic, r.partition);
    // `electLeadersResult` fills a HashMap in response order; the tool walks it.
    let results = hash_order(results, Capacity::Default, hash);
    let mut succeeded = Vec::new();
    let mut noop = Vec::new();
    let mut failed = Vec::new();
    for r in results {
        match &r.error {
            None => succeeded.push(r),
            Some(e) if e.code() == Some(ELECTION_NOT_NEEDED) => noop.push(r),
            Some(_) => failed.push(r),
        }
    }
    let names = |rs: Vec<ElectionResult>| -> String {
        hash_order(rs, Capacity::Default, hash)
            .iter()
            .map(|r| format!("{}-{}", r.topic, r.partition))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !succeeded.is_empty() {
        writeln!(
            out,
            "Successfully completed leader election ({election}) for partitions {}",
            names(succeeded)
        )
        .map_err(io_error)?;
    }
    if !noop.is_empty() {
        writeln!(
            out,
            "Valid replica already elected for partitions {}",
            names(noop)
        )
        .map_err(io_error)?;
    }
    if failed.is_empty() {
        return Ok(());
    }
    let mut root = JavaException::admin_command_failed(format!(
        "{} replica(s) could not be elected",
        failed.len()
    ));
    for r in hash_order(failed, Capacity::Default, hash) {
        let Some(e) = &r.error else { continue };
        let exception = java_exception(e);
        writeln!(
            out,
            "Error completing leader election ({election}) for partition: {}-{}: {exception}",
            r.topic, r.partition
        )
        .map_err(io_error)?;
        root.suppressed.push(exception);
    }
    Err(root)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn result(topic: &str, partition: i32, code: i16, message: Option<&str>) -> ElectionResult {
        ElectionResult {
            topic: topic.into(),
            partition,
            error: ClientError::check(code, message).err(),
        }
    }

    #[test]
    fn elected_not_needed_and_failed_partitions_are_printed_as_kafka_prints_them() {
        let results = vec![
            result("t", 0, 0, None),
            result("t", 1, 0, None),
            result("u", 0, 84, None),
            result(
                "v",
                0,
                80,
                Some("Failed to elect leader for partition v-0 under strategy PreferredReplicaPartitionLeaderElectionStrategy"),
            ),
            result("w", 3, 3, Some("The partition does not exist.")),
        ];
        let mut out = Vec::new();
        let e = print_results(ElectionType::Preferred, results, &mut out).unwrap_err();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Successfully completed leader election (PREFERRED) for partitions t-1, t-0\n\
             Valid replica already elected for partitions u-0\n\
             Error completing leader election (PREFERRED) for partition: w-3: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: The partition does not exist.\n\
             Error completing leader election (PREFERRED) for partition: v-0: org.apache.kafka.common.errors.PreferredLeaderNotAvailableException: Failed to elect leader for partition v-0 under strategy PreferredReplicaPartitionLeaderElectionStrategy\n"
        );
        assert_eq!(
            e.report().lines().take(2).collect::<Vec<_>>(),
            vec![
                "2 replica(s) could not be elected",
                "org.apache.kafka.server.common.AdminCommandFailedException: 2 replica(s) could not be elected"
            ]
        );
        assert_eq!(e.suppressed.len(), 2);
    }

    #[test]
    fn nothing_to_report_prints_nothing() {
        let mut out = Vec::new();
        print_results(ElectionType::Unclean, vec![], &mut out).unwrap();
        assert!(out.is_empty());
    }
}
