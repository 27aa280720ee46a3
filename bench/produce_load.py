"""Producer load for bench/replication.sh: one confluent-kafka (librdkafka) producer sends COUNT
records of SIZE bytes to TOPIC as fast as the cluster acknowledges them, then prints one line:

  RESULT topic=<t> records=<n> bytes=<b> seconds=<s> mib_per_s=<x> records_per_s=<y>
         p50_ms=<l> p99_ms=<l> errors=<e>

usage: produce_load.py <bootstrap> <topic> <count> <size>

The producer uses acks=all and enable.idempotence=true (the Java client's defaults since Kafka
3.0), linger.ms=5 and librdkafka's default batching (batch.size 1 000 000 bytes), no compression.
A warm-up of 2 000 records (connections, metadata, producer id) runs before the clock starts.
The clock stops when flush() returns, so every record counted was acknowledged by the ISR.
Latency is librdkafka's own: from produce() to its delivery report.
"""

import os
import sys
import time

from confluent_kafka import Producer

WARMUP = 2000


def main():
    bootstrap, topic, count, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "client.id": "bench-replication",
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 5,
            "queue.buffering.max.messages": 200000,
            "queue.buffering.max.kbytes": 1048576,
        }
    )
    # Distinct payloads (a counter in front of random bytes) so nothing is accidentally uniform.
    body = os.urandom(size)
    errors = []
    latencies = []

    def delivered(err, msg):
        if err is not None:
            errors.append(str(err))
        else:
            latencies.append(msg.latency())

    def send(n):
        i = 0
        while i < n:
            value = i.to_bytes(8, "big") + body[8:]
            try:
                producer.produce(topic, value=value, on_delivery=delivered)
                i += 1
            except BufferError:
                producer.poll(0.01)  # the local queue is full: serve delivery reports
            producer.poll(0)

    send(WARMUP)
    producer.flush(60)
    if errors:
        print(f"warm-up failed: {errors[:3]}", file=sys.stderr)
        sys.exit(1)
    latencies.clear()

    start = time.monotonic()
    send(count)
    left = producer.flush(120)
    seconds = time.monotonic() - start
    acked = len(latencies)
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0

    total = acked * size
    print(
        f"RESULT topic={topic} records={acked} bytes={total} seconds={seconds:.2f} "
        f"mib_per_s={total / seconds / 1048576:.1f} records_per_s={acked / seconds:.0f} "
        f"p50_ms={pct(0.5):.1f} p99_ms={pct(0.99):.1f} errors={len(errors) + left}",
        flush=True,
    )
    if errors or left:
        print(f"errors: {errors[:5]}, {left} undelivered", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
