"""End-to-end latency for bench/run.sh, the librdkafka twin of kafka-e2e-latency (Kafka's
EndToEndLatency): one confluent-kafka producer and one consumer on TOPIC (one partition); COUNT
times, one record of SIZE bytes is produced and the clock runs until the consumer has it, one
record in flight at a time. Prints one line, in milliseconds with microsecond resolution:

  RESULT topic=<t> records=<n> avg_ms=<l> p50_ms=<l> p99_ms=<l> p999_ms=<l> max_ms=<l>

usage: latency_load.py <bootstrap> <topic> <count> <size> [--acks A] [--warmup W]

The producer uses linger.ms=0 and the given acks (default all; idempotence off, as in
EndToEndLatency); the consumer is assigned partition 0 at its end offset, fetch.wait.max.ms=500 (the
broker answers a waiting fetch when the high watermark moves, so this is no floor), and commits
nothing. Since a consumer sees a record only once the high watermark passes it, the latency with
acks=all and replication factor 3 includes the followers' fetch and the fsyncs of the shipped
config. W warm-up round trips (default 50) run first and are not counted. Clock: perf_counter.
"""

import argparse
import os
import sys
import time
import uuid

from confluent_kafka import Consumer, Producer, TopicPartition


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bootstrap")
    parser.add_argument("topic")
    parser.add_argument("count", type=int)
    parser.add_argument("size", type=int)
    parser.add_argument("--acks", default="all")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=10)
    args = parser.parse_args()

    producer = Producer(
        {
            "bootstrap.servers": args.bootstrap,
            "client.id": "bench-latency-producer",
            "acks": args.acks,
            "enable.idempotence": False,
            "linger.ms": 0,
        }
    )
    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap,
            "client.id": "bench-latency-consumer",
            "group.id": f"bench-latency-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "fetch.wait.max.ms": 500,
            "fetch.min.bytes": 1,
        }
    )
    # Assigned at the partition's current end, read first, so no record produced from here on can
    # be skipped by a late offset reset.
    _, end = consumer.get_watermark_offsets(TopicPartition(args.topic, 0), timeout=30)
    consumer.assign([TopicPartition(args.topic, 0, end)])
    errors = []

    def delivered(err, _msg):
        if err is not None:
            errors.append(str(err))

    body = os.urandom(args.size)
    latencies = []

    def round_trip(i):
        value = i.to_bytes(8, "big") + body[8:]
        start = time.perf_counter()
        producer.produce(args.topic, value=value, partition=0, on_delivery=delivered)
        producer.poll(0)
        deadline = start + args.timeout
        while True:
            msg = consumer.poll(0.1)
            producer.poll(0)
            if msg is not None and msg.error() is None and msg.value() == value:
                return time.perf_counter() - start
            if msg is not None and msg.error() is not None:
                errors.append(str(msg.error()))
            if errors:
                print(f"errors: {errors[:3]}", file=sys.stderr)
                sys.exit(1)
            if time.perf_counter() > deadline:
                print(f"record {i} not consumed within {args.timeout} s", file=sys.stderr)
                sys.exit(1)

    for i in range(args.warmup):
        round_trip(args.count + i)
    for i in range(args.count):
        latencies.append(round_trip(i))
    producer.flush(10)
    consumer.close()

    n = len(latencies)
    mean = sum(latencies) / n
    latencies.sort()

    def ms(p):
        return f"{latencies[min(n - 1, int(p * n))] * 1000:.3f}"

    print(
        f"RESULT topic={args.topic} records={n} avg_ms={mean * 1000:.3f} p50_ms={ms(0.5)} "
        f"p99_ms={ms(0.99)} p999_ms={ms(0.999)} max_ms={latencies[-1] * 1000:.3f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
