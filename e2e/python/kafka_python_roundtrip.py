#!/usr/bin/env python3
"""kafka-python round trip: its default producer (idempotent since 3.x) sends records with keys,
headers and each compression codec; a consumer with assigned partitions (no group) reads them
back, and every record must be at the offset the producer was acknowledged with, unchanged.

Usage: kafka_python_roundtrip.py <bootstrap host:port> <topic>
Exits 0 and prints `RECORDS <n>` on success; exits 1 with a message on any mismatch."""

import logging
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from common import CODECS, compare, deadline, fail, records_for


def produce(bootstrap, topic):
    acked = {}
    for codec in CODECS:
        producer = KafkaProducer(
            bootstrap_servers=bootstrap,
            client_id=f"e2e-kafka-python-{codec}",
            compression_type=None if codec == "none" else codec,
            linger_ms=20,
        )
        if not producer.config["enable_idempotence"]:
            fail("kafka-python's producer is expected to be idempotent by default")
        futures = []
        for key, value, headers in records_for(codec):
            futures.append(
                ((key, value, headers), producer.send(topic, key=key, value=value, headers=headers))
            )
        producer.flush(timeout=30)
        # The records went out under a producer id from InitProducerId (private attribute, but
        # the only way to see that idempotence really ran against this broker).
        tm = producer._transaction_manager
        if tm is None or tm.producer_id_and_epoch.producer_id < 0:
            fail(f"codec {codec}: the producer has no producer id; InitProducerId did not happen")
        for record, fut in futures:
            try:
                md = fut.get(timeout=30)
            except Exception as e:  # noqa: BLE001 - any failure is a test failure
                fail(f"codec {codec}: send failed: {e!r}")
            acked[(md.partition, md.offset)] = record
        producer.close(timeout=10)
        print(f"produced {len(futures)} records with codec {codec}", flush=True)
    return acked


def consume(bootstrap, topic, expected):
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id="e2e-kafka-python-consumer",
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        fail(f"no partitions known for {topic}")
    tps = [TopicPartition(topic, p) for p in sorted(partitions)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    got = {}
    end = deadline()
    while time.monotonic() < end and not all(po in got for po in expected):
        for tp, msgs in consumer.poll(timeout_ms=500).items():
            for m in msgs:
                headers = [(k, v) for k, v in (m.headers or [])]
                got[(tp.partition, m.offset)] = (m.key, m.value, headers)
    consumer.close()
    return got


def main():
    if len(sys.argv) != 3:
        fail(f"usage: {sys.argv[0]} <bootstrap> <topic>")
    logging.basicConfig(level=logging.WARNING)
    bootstrap, topic = sys.argv[1], sys.argv[2]
    acked = produce(bootstrap, topic)
    got = consume(bootstrap, topic, acked)
    compare(acked, got, "kafka-python")
    print(f"RECORDS {len(acked)}", flush=True)


if __name__ == "__main__":
    main()
