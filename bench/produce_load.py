"""Producer load for bench/replication.sh and bench/run.sh: one confluent-kafka (librdkafka)
producer sends COUNT records of SIZE bytes to TOPIC as fast as the cluster acknowledges them (or at
--rate records/s), then prints one line:

  RESULT topic=<t> records=<n> bytes=<b> seconds=<s> mib_per_s=<x> records_per_s=<y>
         p50_ms=<l> p99_ms=<l> errors=<e> avg_us=<l> p50_us=<l> p95_us=<l> p99_us=<l>
         p999_us=<l> max_us=<l>

usage: produce_load.py <bootstrap> <topic> <count> <size> [--acks A] [--no-idempotence]
                       [--linger-ms L] [--batch-size B] [--rate R] [--warmup W]

The defaults are bench/replication.sh's: acks=all and enable.idempotence=true (the Java client's
defaults since Kafka 3.0), linger.ms=5 and librdkafka's default batching (batch.size 1 000 000
bytes), no compression. --no-idempotence is needed with --acks 1 or 0. --rate R paces the sends
at R records/s (for background load; 0, the default, is as fast as possible); with COUNT 0 and a
rate it runs until SIGTERM or SIGINT, then reports what was acknowledged.

A warm-up of W records (default 2 000: connections, metadata, producer id) runs before the clock
starts. The clock stops when flush() returns, so every record counted was acknowledged. Latency is
librdkafka's own, in microseconds: from produce() to its delivery report.
"""

import argparse
import os
import signal
import sys
import time

from confluent_kafka import Producer


def main():
    parser = argparse.ArgumentParser(usage=__doc__.split("\n\n")[2].split("usage: ")[1])
    parser.add_argument("bootstrap")
    parser.add_argument("topic")
    parser.add_argument("count", type=int)
    parser.add_argument("size", type=int)
    parser.add_argument("--acks", default="all")
    parser.add_argument("--no-idempotence", dest="idempotence", action="store_false")
    parser.add_argument("--linger-ms", type=float, default=5)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--rate", type=float, default=0)
    parser.add_argument("--warmup", type=int, default=2000)
    args = parser.parse_args()
    topic, size = args.topic, args.size

    config = {
        "bootstrap.servers": args.bootstrap,
        "client.id": "bench-replication",
        "acks": args.acks,
        "enable.idempotence": args.idempotence,
        "linger.ms": args.linger_ms,
        "queue.buffering.max.messages": 200000,
        "queue.buffering.max.kbytes": 1048576,
    }
    if args.batch_size:
        config["batch.size"] = args.batch_size
    producer = Producer(config)
    # 1024 distinct payloads (a counter in front of random bytes), made once and sent in turn, so
    # nothing is accidentally uniform and no payload is built in the sending loop.
    body = os.urandom(size)
    payloads = [(i.to_bytes(8, "big") + body[8:])[:size] for i in range(1024)]
    errors = []
    latencies = []
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))

    def delivered(err, msg):
        if err is not None:
            errors.append(str(err))
        else:
            latencies.append(msg.latency())

    def send(n, rate=0):
        i = 0
        start = time.perf_counter()
        while (n == 0 or i < n) and not stopping:
            if rate:
                due = int((time.perf_counter() - start) * rate) + 1
                if i >= due:
                    producer.poll(0.0005)
                    continue
            try:
                producer.produce(topic, value=payloads[i & 1023], on_delivery=delivered)
                i += 1
            except BufferError:
                producer.poll(0.01)  # the local queue is full: serve delivery reports
            producer.poll(0)
        return i

    if args.warmup:
        send(args.warmup)
        producer.flush(60)
        if errors:
            print(f"warm-up failed: {errors[:3]}", file=sys.stderr)
            sys.exit(1)
    latencies.clear()

    start = time.perf_counter()
    send(args.count, args.rate)
    left = producer.flush(120)
    seconds = time.perf_counter() - start
    acked = len(latencies)
    mean = sum(latencies) / acked if acked else 0
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else 0

    def us(s):
        return f"{s * 1e6:.0f}"

    total = acked * size
    print(
        f"RESULT topic={topic} records={acked} bytes={total} seconds={seconds:.2f} "
        f"mib_per_s={total / seconds / 1048576:.1f} records_per_s={acked / seconds:.0f} "
        f"p50_ms={pct(0.5) * 1000:.1f} p99_ms={pct(0.99) * 1000:.1f} errors={len(errors) + left} "
        f"avg_us={us(mean)} p50_us={us(pct(0.5))} p95_us={us(pct(0.95))} p99_us={us(pct(0.99))} "
        f"p999_us={us(pct(0.999))} max_us={us(latencies[-1] if latencies else 0)}",
        flush=True,
    )
    if errors or left:
        print(f"errors: {errors[:5]}, {left} undelivered", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
