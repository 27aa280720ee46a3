#![allow(clippy::unwrap_used)]
//! A fenced static member against the real broker: two console consumers with the same
//! `group.instance.id`; the coordinator answers the first one's heartbeat FENCED_INSTANCE_ID
//! once the second has joined, and the first stops as Kafka's console consumer does (its poll
//! raises `FencedInstanceIdException`: "Error processing message, terminating consumer
//! process", then exit code 0, as Kafka's `ConsoleConsumer.process` returns) instead of going on consuming partitions it no longer owns.

use std::time::Duration;

use e2e::{binary, Cluster, Process};

const DEADLINE: Duration = Duration::from_secs(60);

fn static_member(name: &str, bootstrap: &str) -> Process {
    let args: Vec<String> = [
        "--bootstrap-server",
        bootstrap,
        "--topic",
        "fenced",
        "--group",
        "fencing-group",
        "--consumer-property",
        "group.instance.id=instance-1",
        "--consumer-property",
        "session.timeout.ms=6000",
        "--consumer-property",
        "heartbeat.interval.ms=300",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    Process::spawn(
        name,
        binary("kafka-console-consumer"),
        args,
        vec![("RUST_LOG".to_string(), "client::consumer=info".to_string())],
    )
}

#[test]
fn a_consumer_fenced_by_its_group_instance_id_stops_with_kafkas_error() {
    let cluster = Cluster::start_with(&[
        ("group.initial.rebalance.delay.ms", "0"),
        ("group.min.session.timeout.ms", "6000"),
    ]);
    cluster.create_topic("fenced", 1);
    let bootstrap = cluster.bootstrap();
    let mut old = static_member("old member", &bootstrap);
    old.wait_for_line("the old member to join", DEADLINE, |l| {
        l.contains("Successfully joined group with generation")
    });
    let mut new = static_member("new member", &bootstrap);
    new.wait_for_line("the new member to join", DEADLINE, |l| {
        l.contains("Successfully joined group with generation")
    });
    let status = old.wait_exit(DEADLINE);
    // Kafka's `ConsoleConsumer.process` logs the poll's exception and returns normally.
    assert_eq!(status.code(), Some(0), "{}", old.log());
    let log = old.log();
    assert!(
        log.contains(
            "Caught fenced group.instance.id Optional[instance-1] error in heartbeat thread"
        ),
        "{log}"
    );
    assert!(
        log.contains("Error processing message, terminating consumer process: "),
        "{log}"
    );
    assert!(
        log.contains(
            "org.apache.kafka.common.errors.FencedInstanceIdException: The broker rejected this \
             static consumer since another consumer with the same group.instance.id has \
             registered with a different member.id."
        ),
        "{log}"
    );
    // The member that took the instance id carries on.
    assert!(new.is_running(), "{}", new.log());
}
