#!/usr/bin/env python3
"""kafka-python pinned to old broker versions, so it speaks the request versions and message
formats of those releases: api_version (0, 9) produces with Produce v0-1 and magic 0 messages and
fetches with Fetch v0-1; (0, 10, 0) produces with Produce v2 and magic 1 messages (with
timestamps) and fetches with Fetch v2. Each round sends plain and compressed records with keys;
then each pinned consumer reads every record back at its acknowledged offset (the broker stores
v2 batches and down-converts), end_offsets answers with ListOffsets v0, and a group commit at
(0, 9) (OffsetCommit v2, OffsetFetch v1) is read back.

Usage: kafka_python_old_versions.py <bootstrap host:port> <topic>
Exits 0 and prints `RECORDS <n>` on success; exits 1 with a message on any mismatch."""

import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from common import deadline, fail

ROUNDS = [
    ((0, 9), ["none", "gzip", "snappy"]),
    ((0, 10, 0), ["none", "gzip", "lz4"]),
]
PER_CODEC = 8
BASE_TS = 1_700_000_000_000


def produce(bootstrap, topic):
    acked = {}
    for api_version, codecs in ROUNDS:
        for codec in codecs:
            producer = KafkaProducer(
                bootstrap_servers=bootstrap,
                api_version=api_version,
                client_id=f"e2e-old-{codec}",
                compression_type=None if codec == "none" else codec,
                linger_ms=20,
            )
            futures = []
            for i in range(PER_CODEC):
                key = f"{api_version}-{codec}-key-{i}".encode() if i % 3 else None
                value = f"{api_version}-{codec}-value-{i}-".encode() + b"y" * (i * 11)
                ts = BASE_TS + i
                fut = producer.send(topic, key=key, value=value, partition=0, timestamp_ms=ts)
                futures.append(((key, value, ts, api_version), fut))
            producer.flush(timeout=30)
            for record, fut in futures:
                try:
                    md = fut.get(timeout=30)
                except Exception as e:  # noqa: BLE001 - any failure is a test failure
                    fail(f"{api_version} {codec}: send failed: {e!r}")
                acked[md.offset] = record
            producer.close(timeout=10)
            print(f"produced {len(futures)} with {api_version} {codec}", flush=True)
    return acked


def consume(bootstrap, topic, acked, api_version):
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        api_version=api_version,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    got = {}
    end = deadline()
    while len(got) < len(acked):
        if time.monotonic() > end:
            fail(f"{api_version} consumer read {len(got)} of {len(acked)} in time")
        for records in consumer.poll(timeout_ms=500).values():
            for r in records:
                got[r.offset] = r
    for offset, (key, value, ts, produced_with) in acked.items():
        r = got.get(offset)
        if r is None:
            fail(f"{api_version}: offset {offset} not read back")
        if (r.key, r.value) != (key, value):
            fail(f"{api_version}: offset {offset} is {(r.key, r.value)}, want {(key, value)}")
        # Magic 1 carries the producer's timestamp through; magic 0 has none.
        if api_version >= (0, 10) and produced_with >= (0, 10) and r.timestamp != ts:
            fail(f"{api_version}: offset {offset} timestamp {r.timestamp}, want {ts}")
    # ListOffsets v0 at (0, 9): the log end offset.
    ends = consumer.end_offsets([tp])
    if ends[tp] != len(acked):
        fail(f"{api_version}: end_offsets {ends[tp]}, want {len(acked)}")
    consumer.close()
    print(f"consumed {len(got)} with {api_version}", flush=True)


def group_commit(bootstrap, topic):
    tp = TopicPartition(topic, 0)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        api_version=(0, 9),
        group_id="e2e-old-group",
        enable_auto_commit=False,
    )
    consumer.assign([tp])
    consumer.commit({tp: OffsetAndMetadata(5, "old-meta", -1)})
    committed = consumer.committed(tp)
    if committed != 5:
        fail(f"(0, 9) group commit read back as {committed}, want 5")
    consumer.close()


def main():
    bootstrap, topic = sys.argv[1], sys.argv[2]
    acked = produce(bootstrap, topic)
    if sorted(acked) != list(range(len(acked))):
        fail(f"acknowledged offsets are not 0..{len(acked) - 1}: {sorted(acked)}")
    for api_version, _ in ROUNDS:
        consume(bootstrap, topic, acked, api_version)
    group_commit(bootstrap, topic)
    print(f"RECORDS {len(acked)}", flush=True)


if __name__ == "__main__":
    main()
