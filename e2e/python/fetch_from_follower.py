#!/usr/bin/env python3
"""Fetch from the closest replica (KIP-392) as librdkafka does it: a confluent-kafka consumer with
`client.rack` reads partition 0 of a topic from the beginning, and its statistics tell which
broker the record bytes came from.

Usage: fetch_from_follower.py <bootstrap> <topic> <client.rack> <records>
Prints one JSON line: {"consumed": n, "values_ok": bool, "rxbytes": {"<node id>": bytes}} where
rxbytes is what the consumer received from each broker (librdkafka's per-broker `rxbytes`).
Exits 1 with a message when it cannot read every record within its deadline."""

import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from common import fail


def main():
    bootstrap, topic, rack, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    stats = {}

    def on_stats(raw):
        stats["last"] = json.loads(raw)

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "e2e-fetch-from-follower",
            "client.rack": rack,
            "enable.auto.commit": False,
            "statistics.interval.ms": 100,
            "stats_cb": on_stats,
            # Small fetches, so that the bytes come in several responses.
            "max.partition.fetch.bytes": 4096,
        }
    )
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    values = []
    end = time.monotonic() + 60
    while len(values) < count and time.monotonic() < end:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            fail(f"consumer error: {msg.error()}")
        values.append(msg.value())
    if len(values) < count:
        fail(f"consumed {len(values)} of {count} records within 60 s")
    # One more statistics interval, so the last responses are counted.
    seen = stats.get("last", {}).get("ts")
    end = time.monotonic() + 10
    while time.monotonic() < end and stats.get("last", {}).get("ts") == seen:
        consumer.poll(0.1)
    consumer.close()
    rxbytes = {
        str(b["nodeid"]): b["rxbytes"]
        for b in stats.get("last", {}).get("brokers", {}).values()
        if b.get("nodeid", -1) >= 0
    }
    expected = [f"record-{i}".encode() for i in range(count)]
    print(
        json.dumps({"consumed": len(values), "values_ok": values == expected, "rxbytes": rxbytes}),
        flush=True,
    )


if __name__ == "__main__":
    main()
