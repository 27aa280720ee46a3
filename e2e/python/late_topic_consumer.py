"""A kafka-python consumer subscribed to a topic that does not exist yet (e2e/tests/late_topics.rs).

usage: late_topic_consumer.py <bootstrap> <topic> <group> <seconds>

Subscribes through the group protocol with metadata_max_age_ms=500, prints "POLLING" after its
first poll and "RECORD <partition> <value>" for each record, flushing each line, until <seconds>
have passed.
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
    first = True
    while time.time() < deadline:
        batches = c.poll(timeout_ms=200)
        if first:
            print("POLLING", flush=True)
            first = False
        for tp, records in batches.items():
            for r in records:
                print("RECORD %d %s" % (tp.partition, r.value.decode()), flush=True)
    c.close()


if __name__ == "__main__":
    main()
