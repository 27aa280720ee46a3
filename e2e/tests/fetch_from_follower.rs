//! Fetch from the closest replica (KIP-392, librdkafka's 0101_fetch_from_follower): three brokers
//! in racks RACK0..RACK2 with Kafka's `RackAwareReplicaSelector`, a topic with replication factor
//! 3. A leader sends a consumer whose `rack_id` is a follower's rack to that follower
//! (`preferred_read_replica`, no records); the follower serves the consumer's Fetch v11+ up to its
//! high watermark and refuses an older Fetch as Kafka does (NOT_LEADER_OR_FOLLOWER); and a real
//! client (confluent-kafka with `client.rack`) reads every record from the follower, which its
//! per-broker statistics show.

// Helpers outside `#[test]` functions fail the test they serve.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::fetch_response::PartitionData;
use kafka_protocol::messages::{
    BrokerId, FetchRequest, MetadataRequest, RequestKind, ResponseKind, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use e2e::raw::Conn;
use e2e::{python, run_command, run_tool, wait_until, Broker, ZooKeeper, TOOL_TIMEOUT};

const TOPIC: &str = "closest";
const RECORDS: usize = 300;
const RACK_AWARE: &str = "org.apache.kafka.common.replica.RackAwareReplicaSelector";

struct RackedCluster {
    // Field order is drop order: the brokers go before their coordinator.
    brokers: Vec<Broker>,
    _zk: ZooKeeper,
}

impl RackedCluster {
    /// Brokers 0..2 in racks RACK0..RACK2, with `replica.selector.class` when `selector`.
    fn start(selector: bool) -> RackedCluster {
        let zk = ZooKeeper::start();
        let brokers = (0..3)
            .map(|id| {
                let rack = format!("RACK{id}");
                let mut extra = vec![("broker.rack", rack.as_str())];
                if selector {
                    extra.push(("replica.selector.class", RACK_AWARE));
                }
                Broker::start(&zk, id, &extra)
            })
            .collect();
        RackedCluster { brokers, _zk: zk }
    }

    fn bootstrap(&self) -> String {
        let all: Vec<String> = self.brokers.iter().map(Broker::bootstrap).collect();
        all.join(",")
    }

    fn broker(&self, id: i32) -> &Broker {
        self.brokers.iter().find(|b| b.id() == id).unwrap()
    }

    /// Creates `TOPIC` (one partition, replication factor 3), writes `RECORDS` values
    /// `record-<i>` with acks=all and waits until every replica is in sync; returns the leader.
    fn topic_with_records(&self) -> i32 {
        let bootstrap = self.bootstrap();
        run_tool(
            "kafka-topics",
            &[
                "--bootstrap-server",
                &bootstrap,
                "--create",
                "--topic",
                TOPIC,
                "--partitions",
                "1",
                "--replication-factor",
                "3",
            ],
            b"",
            TOOL_TIMEOUT,
        )
        .assert_success("create the topic");
        let lines: String = (0..RECORDS).map(|i| format!("record-{i}\n")).collect();
        run_tool(
            "kafka-console-producer",
            &[
                "--bootstrap-server",
                &bootstrap,
                "--topic",
                TOPIC,
                "--producer-property",
                "acks=all",
            ],
            lines.as_bytes(),
            TOOL_TIMEOUT,
        )
        .assert_success("produce the records");
        let first = self.brokers[0].bootstrap();
        wait_until("every replica in sync", Duration::from_secs(60), || {
            let (leader, isr) = leader_and_isr(&first);
            (isr.len() == 3).then_some(leader)
        })
    }
}

/// The leader and ISR of partition 0 of `TOPIC` from a Metadata request to one broker.
fn leader_and_isr(bootstrap: &str) -> (i32, Vec<i32>) {
    let request = MetadataRequest::default().with_topics(None);
    let ResponseKind::Metadata(md) = Conn::open(bootstrap).call(9, RequestKind::Metadata(request))
    else {
        panic!("not a Metadata response")
    };
    let topic = md
        .topics
        .iter()
        .find(|t| t.name.as_ref().map(|n| n.0.as_str()) == Some(TOPIC))
        .unwrap();
    let p = &topic.partitions[0];
    (p.leader_id.0, p.isr_nodes.iter().map(|b| b.0).collect())
}

/// A consumer's Fetch of partition 0 of `TOPIC` from offset 0 at `version`, from `rack`.
fn fetch(broker: &Broker, version: i16, rack: &str) -> PartitionData {
    let request = FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_wait_ms(0)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_rack_id(StrBytes::from_string(rack.to_string()))
        .with_topics(vec![FetchTopic::default()
            .with_topic(TopicName(StrBytes::from_static_str(TOPIC)))
            .with_partitions(vec![FetchPartition::default()
                .with_partition(0)
                .with_fetch_offset(0)
                .with_current_leader_epoch(-1)
                .with_log_start_offset(-1)
                .with_partition_max_bytes(1 << 20)])]);
    let ResponseKind::Fetch(response) =
        Conn::open(&broker.bootstrap()).call(version, RequestKind::Fetch(request))
    else {
        panic!("not a Fetch response")
    };
    response.responses[0].partitions[0].clone()
}

fn records(p: &PartitionData) -> usize {
    p.records.as_ref().map_or(0, Bytes::len)
}

#[test]
fn the_leader_sends_a_consumer_to_the_follower_in_its_rack_which_serves_it() {
    let cluster = RackedCluster::start(true);
    let leader_id = cluster.topic_with_records();
    let follower_id = (0..3).find(|&id| id != leader_id).unwrap();
    let leader = cluster.broker(leader_id);
    let follower = cluster.broker(follower_id);
    let follower_rack = format!("RACK{follower_id}");

    // The leader names the follower in the consumer's rack and returns no records.
    let answer = fetch(leader, 11, &follower_rack);
    assert_eq!(answer.error_code, 0, "{answer:?}");
    assert_eq!(answer.preferred_read_replica.0, follower_id, "{answer:?}");
    assert_eq!(records(&answer), 0, "{answer:?}");
    assert_eq!(answer.high_watermark, RECORDS as i64);
    // A consumer in the leader's rack, in no broker's rack, or without a rack reads from it.
    for rack in [
        format!("RACK{leader_id}"),
        "elsewhere".to_string(),
        String::new(),
    ] {
        let answer = fetch(leader, 11, &rack);
        assert_eq!(answer.preferred_read_replica.0, -1, "{rack}: {answer:?}");
        assert!(records(&answer) > 0, "{rack}: {answer:?}");
    }
    // Fetch v10 has no rack: the leader serves it.
    let answer = fetch(leader, 10, &follower_rack);
    assert!(records(&answer) > 0, "{answer:?}");

    // The follower serves the consumer's Fetch v11 up to its high watermark...
    let served = wait_until(
        "the follower's high watermark",
        Duration::from_secs(30),
        || {
            let answer = fetch(follower, 11, &follower_rack);
            (answer.error_code == 0 && answer.high_watermark == RECORDS as i64).then_some(answer)
        },
    );
    assert!(records(&served) > 0, "{served:?}");
    assert_eq!(
        served.preferred_read_replica.0, -1,
        "only a leader redirects"
    );
    // ...but not an older one, which may only read from the leader (Kafka's
    // `fetchOnlyFromLeader` for a consumer without client metadata).
    let refused = fetch(follower, 10, &follower_rack);
    assert_eq!(refused.error_code, 6, "NOT_LEADER_OR_FOLLOWER: {refused:?}");

    // A real client: confluent-kafka with client.rack reads every record from the follower.
    let Some(python) = python() else { return };
    let mut cmd = std::process::Command::new(python);
    cmd.arg(e2e::repo_root().join("e2e/python/fetch_from_follower.py"))
        .arg(cluster.bootstrap())
        .arg(TOPIC)
        .arg(&follower_rack)
        .arg(RECORDS.to_string());
    let out = run_command(cmd, b"", Duration::from_secs(120));
    out.assert_success("confluent-kafka consumer with client.rack");
    let report: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(report["consumed"], RECORDS, "{report}");
    assert_eq!(
        report["values_ok"], true,
        "records in order, unchanged: {report}"
    );
    let rx = |id: i32| report["rxbytes"][id.to_string()].as_u64().unwrap_or(0);
    let payload = (0..RECORDS)
        .map(|i| format!("record-{i}").len())
        .sum::<usize>() as u64;
    assert!(
        rx(follower_id) > payload && rx(follower_id) > rx(leader_id),
        "the follower in the client's rack served the records: {report}"
    );
}

#[test]
fn without_a_replica_selector_the_leader_serves_every_consumer() {
    let cluster = RackedCluster::start(false);
    let leader_id = cluster.topic_with_records();
    let follower_id = (0..3).find(|&id| id != leader_id).unwrap();
    let answer = fetch(cluster.broker(leader_id), 12, &format!("RACK{follower_id}"));
    assert_eq!(answer.preferred_read_replica.0, -1, "{answer:?}");
    assert!(records(&answer) > 0, "{answer:?}");
}
