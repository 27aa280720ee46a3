"""Consumer load for bench/run.sh: one confluent-kafka (librdkafka) consumer reads COUNT records
of TOPIC from the beginning of every partition, then prints one line:

  RESULT topic=<t> records=<n> bytes=<b> seconds=<s> mib_per_s=<x> records_per_s=<y>
         total_seconds=<s>

usage: consume_load.py <bootstrap> <topic> <count> [--timeout S]

The partitions are assigned directly (no group membership, so no rebalance in the figure) at
their earliest offsets, with no offset commits and librdkafka's default fetch sizes (CRC checks
off, as in librdkafka by default and in kafka-consumer-perf-test), fetch.queue.backoff.ms=10. `seconds` runs from the first
records received to the COUNT-th, like kafka-consumer-perf-test's fetch.time.ms, and the rates
count the records after that first batch; `total_seconds` runs from assign() on, connection and
first fetch included. Bytes are the record values' lengths (the records have no keys here).
Exits 1 if COUNT records did not arrive, each wait for more at most --timeout seconds (default
10).
"""

import argparse
import sys
import time
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bootstrap")
    parser.add_argument("topic")
    parser.add_argument("count", type=int)
    parser.add_argument("--timeout", type=float, default=10)
    args = parser.parse_args()

    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap,
            "client.id": "bench-consume",
            "group.id": f"bench-consume-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            # librdkafka stops fetching while a million records wait in its local queue, and
            # then for fetch.queue.backoff.ms (1 s by default): short here, so a consumer that
            # drains the queue in bursts is not left idle for a second each time.
            "queued.min.messages": 1000000,
            "fetch.queue.backoff.ms": 10,
        }
    )
    metadata = consumer.list_topics(args.topic, timeout=30)
    partitions = metadata.topics[args.topic].partitions
    if not partitions:
        print(f"topic {args.topic} has no partitions", file=sys.stderr)
        sys.exit(1)
    start = time.perf_counter()
    consumer.assign([TopicPartition(args.topic, p, OFFSET_BEGINNING) for p in partitions])

    records = 0
    total = 0
    first = None
    last_progress = time.perf_counter()
    while records < args.count:
        batch = consumer.consume(num_messages=10000, timeout=0.5)
        now = time.perf_counter()
        if not batch:
            if now - last_progress > args.timeout:
                break
            continue
        errors = [m.error() for m in batch if m.error() is not None]
        if errors:
            print(f"consume errors: {errors[:3]}", file=sys.stderr)
            sys.exit(1)
        size = sum(map(len, batch))
        records += len(batch)
        total += size
        if first is None:
            # The clock starts when the first records are in hand; they are not counted in the
            # rate, the rest are.
            first = now
            first_records, first_bytes = len(batch), size
        last_progress = now
    end = time.perf_counter()
    consumer.close()
    if first is None or end - first <= 0:
        first, first_records, first_bytes = start, 0, 0
    seconds = end - first
    rate_records, rate_bytes = records - first_records, total - first_bytes
    print(
        f"RESULT topic={args.topic} records={records} bytes={total} seconds={seconds:.3f} "
        f"mib_per_s={rate_bytes / seconds / 1048576:.1f} "
        f"records_per_s={rate_records / seconds:.0f} "
        f"total_seconds={end - start:.3f}",
        flush=True,
    )
    if records < args.count:
        print(f"only {records} of {args.count} records arrived", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
