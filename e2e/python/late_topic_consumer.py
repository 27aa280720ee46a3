"""A kafka-python consumer subscribed to a topic that does not exist yet (e2e/tests/late_topics.rs).

usage: late_topic_consumer.py <bootstrap> <topic> <group> <seconds>

Subscribes through the group protocol with metadata_max_age_ms=500, prints "POLLING" after its
first poll and "RECORD <partition> <value>" for each record, flushing each line, until <seconds>
have passed.

After the first poll every poll waits until records arrive or <seconds> have passed (kafka-python's
poll returns as soon as it has records). A short poll timeout is not safe here: when the topic
appears, the leader's metadata snapshot changes and it rejoins (JoinGroup + SyncGroup). If a poll
times out while that round is in flight, kafka-python 3.0.12 leaves the round running in the
background, and the round itself (the leader's assignment) records the new metadata snapshot, so
need_rejoin() turns False. Its ConsumerCoordinator.poll only calls ensure_active_group() when
need_rejoin() is True, so the finished round is never collected: the member stays REBALANCING with
heartbeats disabled and no partitions, sends no more requests, and the coordinator expires it after
session_timeout_ms. (Kafka's Java consumer asks rejoinNeededOrPending(), which is also True while a
join future is pending, so it always completes the round.) A poll long enough to outlast the round
always collects it.
"""

import sys
import time


def main():
    bootstrap, topic, group, seconds = sys.argv[1:5]
    deadline = time.time() + float(seconds)
    from kafka import KafkaConsumer

    c = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        client_id="kafka-python-late",
        auto_offset_reset="earliest",
        metadata_max_age_ms=500,
        session_timeout_ms=15000,
        heartbeat_interval_ms=500,
    )
    # The test creates the topic only once this first poll has returned. A rejoin this short poll
    # cuts off (the leader's snapshot going from no metadata to "no such topic") is collected all
    # the same: the topic's creation changes the snapshot again, and a long poll then runs a new
    # round to its end.
    batches = c.poll(timeout_ms=200)
    print("POLLING", flush=True)
    while True:
        for tp, records in batches.items():
            for r in records:
                print("RECORD %d %s" % (tp.partition, r.value.decode()), flush=True)
        left_ms = int((deadline - time.time()) * 1000)
        if left_ms <= 0:
            break
        batches = c.poll(timeout_ms=left_ms)
    c.close()


if __name__ == "__main__":
    main()
