"""Transactions with real Python clients (kafka-python, confluent-kafka) against our broker.

Usage: txn_clients.py <mode> <client> <bootstrap> <topic> [args...]

Modes:
  basic      commit 10 records, abort 10, commit 1; then a read_committed consumer must see
             exactly the 11 committed values and a read_uncommitted one all 21 (never a control
             record). Prints `COMMITTED 11 UNCOMMITTED 21`.
  fence      two producers with one transactional id: once the second initialises, the first is
             fenced (its commit fails with a fencing error). Prints `FENCED <error name>`.
  hang       opens a transaction with <txn_id> (args[0]), writes 5 records, flushes, prints
             `OPEN` and waits to be killed (the test kills it with SIGKILL).
  count      reads the topic from the beginning with read_committed (args[0] = expected count,
             args[1] = seconds to wait) and prints `READ <n> <values...>`; exits 1 when fewer
             arrived before the deadline.
  ctp        consume-transform-produce: group <group> (args[0]) reads <topic>, writes each value
             upper-cased to <output> (args[1]) in transactions of 10 records with
             send_offsets_to_transaction, transactional id args[2], until <expected> (args[3])
             input records are done, printing `DONE <n>` after each commit.

Each mode exits non-zero with `FAIL: ...` on stderr when something is wrong.
"""

import sys
import time

from common import fail

DEADLINE_S = 60


def kp_producer(bootstrap, txn_id, timeout_ms=60000):
    from kafka import KafkaProducer

    p = KafkaProducer(
        bootstrap_servers=bootstrap,
        transactional_id=txn_id,
        transaction_timeout_ms=timeout_ms,
        request_timeout_ms=30000,
    )
    p.init_transactions()
    return p


def ck_producer(bootstrap, txn_id, timeout_ms=60000):
    from confluent_kafka import Producer

    p = Producer(
        {
            "bootstrap.servers": bootstrap,
            "transactional.id": txn_id,
            "transaction.timeout.ms": timeout_ms,
        }
    )
    p.init_transactions(30)
    return p


class Txn:
    """One transactional producer behind a common face."""

    def __init__(self, client, bootstrap, txn_id, timeout_ms=60000):
        self.client = client
        if client == "kafka-python":
            self.p = kp_producer(bootstrap, txn_id, timeout_ms)
        elif client == "confluent-kafka":
            self.p = ck_producer(bootstrap, txn_id, timeout_ms)
        else:
            fail(f"unknown client {client}")

    def begin(self):
        self.p.begin_transaction()

    def send(self, topic, value, partition=None):
        if self.client == "kafka-python":
            self.p.send(topic, value=value, partition=partition)
        else:
            if partition is None:
                self.p.produce(topic, value=value)
            else:
                self.p.produce(topic, value=value, partition=partition)
            self.p.poll(0)

    def flush(self):
        self.p.flush(30)

    def commit(self):
        if self.client == "kafka-python":
            self.p.commit_transaction()
        else:
            self.p.commit_transaction(30)

    def abort(self):
        if self.client == "kafka-python":
            self.p.abort_transaction()
        else:
            self.p.abort_transaction(30)

    def send_offsets(self, offsets, consumer):
        """offsets: {(topic, partition): next offset}."""
        if self.client == "kafka-python":
            from kafka import OffsetAndMetadata, TopicPartition

            self.p.send_offsets_to_transaction(
                {TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in offsets.items()},
                consumer.config["group_id"],
            )
        else:
            from confluent_kafka import TopicPartition

            self.p.send_offsets_to_transaction(
                [TopicPartition(t, p, o) for (t, p), o in offsets.items()],
                consumer.consumer_group_metadata(),
                30,
            )

    def close(self):
        if self.client == "kafka-python":
            self.p.close(timeout=10)


def read_all(bootstrap, topic, isolation, want, wait_s):
    """Values of `topic` (every partition, from the beginning) read with `isolation` until
    `want` values arrived or `wait_s` passed; then `settle` more seconds to catch extras."""
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{time.monotonic_ns()}",
            "enable.auto.commit": False,
            "isolation.level": isolation,
            "auto.offset.reset": "earliest",
        }
    )
    md = c.list_topics(topic, timeout=30)
    parts = sorted(md.topics[topic].partitions)
    c.assign([TopicPartition(topic, p, 0) for p in parts])
    values = []
    end = time.monotonic() + wait_s
    settle_until = None
    while time.monotonic() < end:
        m = c.poll(0.5)
        if m is None:
            if settle_until is not None and time.monotonic() >= settle_until:
                break
            continue
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                continue
            fail(f"consumer error: {m.error()}")
        values.append(m.value())
        if len(values) >= want and settle_until is None:
            settle_until = time.monotonic() + 2
    c.close()
    return values


def basic(client, bootstrap, topic):
    t = Txn(client, bootstrap, f"basic-{client}")
    t.begin()
    for i in range(10):
        t.send(topic, f"committed-{i}".encode())
    t.commit()
    t.begin()
    for i in range(10):
        t.send(topic, f"aborted-{i}".encode())
    t.flush()
    t.abort()
    t.begin()
    t.send(topic, b"committed-last")
    t.commit()
    t.close()

    committed = read_all(bootstrap, topic, "read_committed", 11, DEADLINE_S)
    want = sorted([f"committed-{i}".encode() for i in range(10)] + [b"committed-last"])
    if sorted(committed) != want:
        fail(f"read_committed read {len(committed)} values: {sorted(committed)!r}, want {want!r}")
    uncommitted = read_all(bootstrap, topic, "read_uncommitted", 21, DEADLINE_S)
    want_all = sorted(want + [f"aborted-{i}".encode() for i in range(10)])
    if sorted(uncommitted) != want_all:
        fail(f"read_uncommitted read {len(uncommitted)} values: {sorted(uncommitted)!r}")
    print(f"COMMITTED {len(committed)} UNCOMMITTED {len(uncommitted)}", flush=True)


def fence(client, bootstrap, topic):
    txn_id = f"fence-{client}"
    old = Txn(client, bootstrap, txn_id)
    old.begin()
    old.send(topic, b"zombie-1")
    old.flush()
    new = Txn(client, bootstrap, txn_id)
    try:
        old.send(topic, b"zombie-2")
        old.flush()
        old.commit()
    except Exception as e:  # noqa: BLE001 - any client's fencing error
        name = type(e).__name__
        text = str(e)
        if "fenc" not in (name + text).lower() and "epoch" not in (name + text).lower():
            fail(f"the zombie's commit failed, but not as fenced: {name}: {text}")
        print(f"FENCED {name}: {text}", flush=True)
    else:
        fail("the zombie producer committed after a new producer with its id initialised")
    new.begin()
    new.send(topic, b"new-1")
    new.commit()
    values = read_all(bootstrap, topic, "read_committed", 1, DEADLINE_S)
    if values != [b"new-1"]:
        fail(f"read_committed after fencing read {values!r}, want only the new producer's record")
    print("NEW COMMITTED 1", flush=True)


def hang(client, bootstrap, topic, txn_id, timeout_ms):
    t = Txn(client, bootstrap, txn_id, int(timeout_ms))
    t.begin()
    for i in range(5):
        t.send(topic, f"hanging-{i}".encode())
    t.flush()
    print("OPEN", flush=True)
    while True:
        time.sleep(60)


def commit1(client, bootstrap, topic, txn_id, value):
    t = Txn(client, bootstrap, txn_id)
    t.begin()
    t.send(topic, value.encode())
    t.commit()
    t.close()
    print("COMMITTED 1", flush=True)


def loop(client, bootstrap, topic, txn_id):
    """Commits transactions of 10 records `txn-<k>-<i>` to partitions 0-2 until killed or
    300 s passed; prints `COMMITTED <k>` after each commit and `ERROR <e>` on a failed one
    (then aborts it, or starts over with a new producer if it is fatal)."""
    t = Txn(client, bootstrap, txn_id)
    k = 0
    end = time.monotonic() + 300
    while time.monotonic() < end:
        try:
            t.begin()
            for i in range(10):
                t.send(topic, f"txn-{k}-{i}".encode(), partition=i % 3)
            t.commit()
            print(f"COMMITTED {k}", flush=True)
        except Exception as e:  # noqa: BLE001 - report and go on, as an application would
            print(f"ERROR {type(e).__name__}: {e}", flush=True)
            try:
                t.abort()
            except Exception:  # noqa: BLE001
                t = Txn(client, bootstrap, txn_id)
        k += 1


def count(bootstrap, topic, want, wait_s):
    values = read_all(bootstrap, topic, "read_committed", int(want), float(wait_s))
    print("READ", len(values), " ".join(v.decode() for v in values), flush=True)
    if len(values) < int(want):
        sys.exit(1)


def ctp(client, bootstrap, topic, group, output, txn_id, expected):
    expected = int(expected)
    t = Txn(client, bootstrap, txn_id)
    done = 0
    if client == "kafka-python":
        from kafka import KafkaConsumer

        c = KafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        end = time.monotonic() + 300
        while time.monotonic() < end:
            batch = c.poll(timeout_ms=500, max_records=10)
            records = [r for rs in batch.values() for r in rs]
            if not records:
                continue
            t.begin()
            offsets = {}
            for r in records:
                t.send(output, r.value.upper(), partition=r.partition)
                offsets[(r.topic, r.partition)] = r.offset + 1
            # Widen the window in which a kill lands mid-transaction.
            t.flush()
            time.sleep(0.05)
            t.send_offsets(offsets, c)
            t.commit()
            done += len(records)
            print(f"DONE {done}", flush=True)
        fail("kafka-python consume-transform-produce ran out of time")
    else:
        from confluent_kafka import Consumer

        c = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": group,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed",
            }
        )
        c.subscribe([topic])
        end = time.monotonic() + 300
        while time.monotonic() < end:
            records = c.consume(10, 0.5)
            records = [r for r in records if not r.error()]
            if not records:
                continue
            t.begin()
            offsets = {}
            for r in records:
                t.send(output, r.value().upper(), partition=r.partition())
                offsets[(r.topic(), r.partition())] = r.offset() + 1
            t.flush()
            time.sleep(0.05)
            t.send_offsets(offsets, c)
            t.commit()
            done += len(records)
            print(f"DONE {done}", flush=True)
        fail("confluent-kafka consume-transform-produce ran out of time")


def main():
    mode, client, bootstrap, topic, *args = sys.argv[1:]
    if mode == "basic":
        basic(client, bootstrap, topic)
    elif mode == "fence":
        fence(client, bootstrap, topic)
    elif mode == "hang":
        hang(client, bootstrap, topic, args[0], args[1] if len(args) > 1 else 60000)
    elif mode == "commit1":
        commit1(client, bootstrap, topic, args[0], args[1])
    elif mode == "loop":
        loop(client, bootstrap, topic, args[0])
    elif mode == "count":
        count(bootstrap, topic, args[0], args[1])
    elif mode == "ctp":
        ctp(client, bootstrap, topic, args[0], args[1], args[2], args[3])
    else:
        fail(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
