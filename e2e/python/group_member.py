"""One consumer group member for the mixed-group e2e test (e2e/tests/groups_consumer.rs).

usage: group_member.py <bootstrap> <topic> <group> kafka-python|confluent <seconds>

Subscribes through the group protocol with the range assignor (which every client has), auto
commits, and prints "ASSIGNED <p,p,...>" whenever its assignment changes and
"RECORD <partition> <value>" for each record, flushing each line, until <seconds> have passed.

The kafka-python member reports its assignment from its rebalance listener and polls until
records arrive or <seconds> have passed: with a short poll timeout, kafka-python 3.0.12 can drop
a leader's rejoin for changed metadata (see late_topic_consumer.py), which here happens whenever
its first assignment was made before the topic's metadata arrived.
"""

import sys
import time


def main():
    bootstrap, topic, group, client, seconds = sys.argv[1:6]
    deadline = time.time() + float(seconds)
    last = None

    def report(partitions):
        nonlocal last
        now = ",".join(str(p) for p in sorted(partitions))
        if now != last:
            last = now
            print("ASSIGNED " + now, flush=True)

    if client == "kafka-python":
        from kafka import ConsumerRebalanceListener, KafkaConsumer
        from kafka.coordinator.assignors.range import RangePartitionAssignor

        class Report(ConsumerRebalanceListener):
            def on_partitions_revoked(self, revoked):
                pass

            def on_partitions_assigned(self, assigned):
                report(tp.partition for tp in assigned)

        c = KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group,
            client_id="kafka-python-member",
            auto_offset_reset="earliest",
            enable_auto_commit=True,
            auto_commit_interval_ms=500,
            session_timeout_ms=15000,
            heartbeat_interval_ms=500,
            partition_assignment_strategy=[RangePartitionAssignor],
        )
        c.subscribe([topic], listener=Report())
        while True:
            left_ms = int((deadline - time.time()) * 1000)
            if left_ms <= 0:
                break
            batches = c.poll(timeout_ms=left_ms)
            for tp, records in batches.items():
                for r in records:
                    print("RECORD %d %s" % (tp.partition, r.value.decode()), flush=True)
        c.close()
    else:
        from confluent_kafka import Consumer

        c = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": group,
                "client.id": "confluent-member",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": True,
                "auto.commit.interval.ms": 500,
                "session.timeout.ms": 15000,
                "heartbeat.interval.ms": 500,
                "partition.assignment.strategy": "range",
            }
        )
        c.subscribe([topic])
        while time.time() < deadline:
            m = c.poll(0.2)
            report(tp.partition for tp in c.assignment())
            if m is None or m.error():
                continue
            print("RECORD %d %s" % (m.partition(), m.value().decode()), flush=True)
        c.close()


if __name__ == "__main__":
    main()
