"""Transactional producer load for bench/transactions.sh: what transactions cost a producer.
One confluent-kafka (librdkafka) producer, three runs against TOPIC, each printing one line:

  RESULT run=idempotent records=<n> seconds=<s> mib_per_s=<x> records_per_s=<y>
  RESULT run=transactional records=<n> per_txn=<t> seconds=<s> mib_per_s=<x> records_per_s=<y>
         txn_per_s=<z>
  RESULT run=small-txns txns=<n> seconds=<s> txn_per_s=<z> commit_p50_ms=<l> commit_p99_ms=<l>

usage: txn_load.py <bootstrap> <topic> <count> <size> <per_txn> <small_seconds>

- idempotent: COUNT records of SIZE bytes, acks=all, enable.idempotence=true, linger.ms=5,
  clock stopped when flush() returns (every record acknowledged).
- transactional: the same records in transactions of PER_TXN records (begin, produce, commit);
  the clock stops when the last commit returns.
- small-txns: transactions of one record for SMALL_SECONDS, one after the other; the commit
  latency is the time commit_transaction() takes (EndTxn, answered once PrepareCommit is in the
  ISR; librdkafka first flushes the record).
A warm-up (connections, metadata, producer id, the coordinator) runs before each clock starts.
"""

import os
import sys
import time

from confluent_kafka import Producer


def config(extra=None):
    c = {
        "bootstrap.servers": sys.argv[1],
        "acks": "all",
        "enable.idempotence": True,
        "linger.ms": 5,
        "queue.buffering.max.messages": 200000,
        "queue.buffering.max.kbytes": 1048576,
    }
    c.update(extra or {})
    return c


def send(producer, topic, values, errors):
    def delivered(err, _msg):
        if err is not None:
            errors.append(str(err))

    for v in values:
        while True:
            try:
                producer.produce(topic, value=v, on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)


def main():
    _, bootstrap, topic, count, size, per_txn, small_seconds = sys.argv
    count, size, per_txn, small_seconds = int(count), int(size), int(per_txn), float(small_seconds)
    body = os.urandom(size)
    values = [i.to_bytes(8, "big") + body[8:] for i in range(count)]
    errors = []

    p = Producer(config())
    send(p, topic, values[:2000], errors)
    p.flush(60)
    start = time.monotonic()
    send(p, topic, values, errors)
    p.flush(600)
    s = time.monotonic() - start
    print(f"RESULT run=idempotent records={count} seconds={s:.2f} "
          f"mib_per_s={count * size / s / 2**20:.1f} records_per_s={count / s:.0f}", flush=True)

    p = Producer(config({"transactional.id": f"bench-{os.getpid()}"}))
    p.init_transactions(60)
    p.begin_transaction()
    send(p, topic, values[:2000], errors)
    p.commit_transaction(60)
    start = time.monotonic()
    for i in range(0, count, per_txn):
        p.begin_transaction()
        send(p, topic, values[i:i + per_txn], errors)
        p.commit_transaction(60)
    s = time.monotonic() - start
    txns = (count + per_txn - 1) // per_txn
    print(f"RESULT run=transactional records={count} per_txn={per_txn} seconds={s:.2f} "
          f"mib_per_s={count * size / s / 2**20:.1f} records_per_s={count / s:.0f} "
          f"txn_per_s={txns / s:.1f}", flush=True)

    latencies = []
    start = time.monotonic()
    while time.monotonic() - start < small_seconds:
        p.begin_transaction()
        send(p, topic, values[:1], errors)
        t = time.monotonic()
        p.commit_transaction(60)
        latencies.append((time.monotonic() - t) * 1000)
    s = time.monotonic() - start
    latencies.sort()
    pct = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    print(f"RESULT run=small-txns txns={len(latencies)} seconds={s:.2f} "
          f"txn_per_s={len(latencies) / s:.1f} commit_p50_ms={pct(0.5):.1f} "
          f"commit_p99_ms={pct(0.99):.1f}", flush=True)
    if errors:
        print(f"ERRORS {len(errors)}: {errors[:3]}", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
