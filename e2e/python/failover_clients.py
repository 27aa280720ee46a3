"""A producer and a group consumer of one real client that keep going while the test kills
partition leaders (and perhaps the group coordinator) under them (e2e/tests/python_failover.rs).

usage: failover_clients.py <kafka-python|confluent-kafka> <bootstrap> <topic> <group> <control-file>

The producer (acks=all, idempotent, retries until delivery.timeout.ms) sends the unique values
"v-<n>" round the topic's partitions (partition n % PARTITIONS), about RATE a second. The group
consumer subscribes (group id, range assignor, auto.offset.reset=earliest, auto commit off, the
client's default session timeout: 10 s for kafka-python, 45 s for librdkafka) and commits the
positions it has consumed synchronously about once a second, remembering what the coordinator
accepted.

Lines on stdout, each flushed:
  ASSIGNED <p,p,...>       whenever the consumer is given an assignment
  RESUMED partition p at offset o (committed c, consumed up to u)
                           the first record of a partition after an assignment
  PROGRESS sent=.. acked=.. failed=.. consumed=.. commits=ok/failed assigned=..   once a second
  CLIENT_ERROR <text>      an error the client reported (librdkafka's error_cb; not fatal unless
                           FATAL follows)
  FATAL <text>             a fatal producer error (an idempotent producer gave up)
  COMMIT_FAILED <error>    a commit the coordinator refused or that timed out (allowed: a moved
                           coordinator answers NOT_COORDINATOR, ILLEGAL_GENERATION or
                           UNKNOWN_MEMBER_ID and the consumer rejoins); printed when it changes
  DELIVERY_FAILED <value> <error>
  FINISHING                once <control-file> exists: production stops, the producer flushes
  ACKED n CONSUMED m MISSING k
  DETAIL redelivered=.. redelivered_committed=.. log_duplicates=.. failed=.. fatal=.. ...
  FAIL: <what>             one line per broken promise, before a non-zero exit

A record the consumer sees twice at the same (partition, offset) is a redelivery: allowed after a
rebalance when the offset had not been committed yet (at-least-once), counted as
redelivered_committed (an error) when it sits below an offset the coordinator had accepted. The
same value at two different offsets is a log duplicate: an idempotent producer must never make
one. An acknowledged value must be read at the offset its acknowledgement named. Exit status 1
when an acknowledged value was never consumed, or on any fatal producer error, failed delivery,
log duplicate, misplaced value or redelivery of committed records; 0 otherwise.

FAILOVER_OFFSET_RESET (default "earliest") sets the consumer's auto.offset.reset, and
FAILOVER_SESSION_TIMEOUT_MS its session timeout (default: the client's own).

FAILOVER_DEBUG=1 turns on the client's own debug logging (kafka-python's loggers; librdkafka's
"debug" contexts for the consumer group and the producer's idempotence) on stderr.
"""

import logging
import os
import sys
import threading
import time

PARTITIONS = 3
RATE = 200  # records a second, in bursts of BURST
BURST = 10
MAX_IN_FLIGHT = 2000  # sent but not yet acknowledged or failed
FLUSH_TIMEOUT_S = 130  # beyond the producer's delivery.timeout.ms (120 s)
DRAIN_TIMEOUT_S = 90  # for the consumer to see every acknowledged value after FINISHING
OFFSET_RESET = os.environ.get("FAILOVER_OFFSET_RESET", "earliest")
SESSION_TIMEOUT_MS = int(os.environ.get("FAILOVER_SESSION_TIMEOUT_MS", "0"))


def say(line):
    print(line, flush=True)


def stamp():
    """Wall-clock time as the brokers' logs show it, to line events up with them."""
    now = time.time()
    return time.strftime("%H:%M:%S", time.localtime(now)) + f",{int(now * 1000) % 1000:03d}"


class Tally:
    """What the producer and the consumer have seen; the producer callbacks run on other
    threads, hence the lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sent = 0
        self.acked = {}  # value -> (partition, offset)
        self.failed = []  # (value, error text)
        self.fatal = []  # error texts
        self.consumed = {}  # value -> (partition, offset) first seen
        self.seen_at = set()  # (partition, offset) consumed
        self.redelivered = 0
        self.redelivered_committed = []  # (partition, offset, committed offset then)
        self.log_duplicates = []  # (value, first (p, o), second (p, o))
        self.committed = {}  # partition -> offset the coordinator accepted
        self.commits_ok = 0
        self.commits_failed = 0
        self.last_commit_error = None
        self.high = {}  # partition -> highest offset consumed + 1
        self.awaiting_first = set()  # partitions assigned whose first record is still to come

    def on_ack(self, value, partition, offset):
        with self.lock:
            self.acked[value] = (partition, offset)

    def on_failure(self, value, error):
        with self.lock:
            self.failed.append((value, error))
        say(f"DELIVERY_FAILED {value} {error} at={stamp()}")

    def on_fatal(self, error):
        with self.lock:
            self.fatal.append(error)
        say(f"FATAL {error}")

    def in_flight(self):
        with self.lock:
            return self.sent - len(self.acked) - len(self.failed)

    def on_assigned(self, partitions):
        self.awaiting_first = set(partitions)
        say("ASSIGNED " + ",".join(map(str, sorted(partitions))))

    def on_record(self, partition, offset, value):
        at = (partition, offset)
        if partition in self.awaiting_first:
            self.awaiting_first.discard(partition)
            say(
                f"RESUMED partition {partition} at offset {offset} (committed "
                f"{self.committed.get(partition, -1)}, consumed up to {self.high.get(partition, 0)})"
            )
        self.high[partition] = max(offset + 1, self.high.get(partition, 0))
        if at in self.seen_at:
            self.redelivered += 1
            committed = self.committed.get(partition, -1)
            if offset < committed:
                self.redelivered_committed.append((partition, offset, committed))
            return
        self.seen_at.add(at)
        first = self.consumed.get(value)
        if first is None:
            self.consumed[value] = at
        else:
            self.log_duplicates.append((value, first, at))

    def on_commit(self, offsets):
        """offsets: partition -> next offset to consume, as accepted by the coordinator."""
        self.commits_ok += 1
        for p, o in offsets.items():
            self.committed[p] = max(o, self.committed.get(p, -1))

    def on_commit_failure(self, error):
        self.commits_failed += 1
        if error != self.last_commit_error:
            self.last_commit_error = error
            say(f"COMMIT_FAILED {error} at={stamp()}")

    def progress(self, assigned):
        with self.lock:
            acked, failed = len(self.acked), len(self.failed)
        say(
            f"PROGRESS sent={self.sent} acked={acked} failed={failed} "
            f"consumed={len(self.consumed)} commits={self.commits_ok}/{self.commits_failed} "
            f"assigned={assigned} at={stamp()}"
        )

    def summary(self):
        with self.lock:
            acked = dict(self.acked)
        missing = sorted(v for v in acked if v not in self.consumed)
        say(f"ACKED {len(acked)} CONSUMED {len(self.consumed)} MISSING {len(missing)}")
        say(
            f"DETAIL redelivered={self.redelivered} "
            f"redelivered_committed={len(self.redelivered_committed)} "
            f"log_duplicates={len(self.log_duplicates)} failed={len(self.failed)} "
            f"fatal={len(self.fatal)} commits_ok={self.commits_ok} "
            f"commits_failed={self.commits_failed} sent={self.sent} "
            f"acked_without_offset={sum(1 for _, o in acked.values() if o is None)}"
        )
        problems = []
        if missing:
            problems.append(f"{len(missing)} acknowledged values never consumed, e.g. {missing[:10]}")
        if self.fatal:
            problems.append(f"fatal producer errors: {self.fatal[:5]}")
        if self.failed:
            problems.append(f"{len(self.failed)} failed deliveries, e.g. {self.failed[:5]}")
        if self.log_duplicates:
            problems.append(
                f"{len(self.log_duplicates)} values written twice by an idempotent producer, "
                f"e.g. {self.log_duplicates[:5]}"
            )
        if self.redelivered_committed:
            problems.append(
                f"{len(self.redelivered_committed)} records redelivered below a committed offset "
                f"(partition, offset, committed), e.g. {self.redelivered_committed[:5]}"
            )
        # An acknowledged value must sit where the acknowledgement said (librdkafka acknowledges
        # a batch whose own answer was lost without an offset when a later batch of the same
        # idempotent producer succeeds: "implicitly acked by subsequent batch success").
        misplaced = [(v, at, self.consumed[v]) for v, at in acked.items()
                     if at[1] is not None and v in self.consumed and self.consumed[v] != at]
        if misplaced:
            problems.append(
                f"{len(misplaced)} values read at another offset than acknowledged "
                f"(value, acked, read), e.g. {misplaced[:5]}"
            )
        for p in problems:
            say(f"FAIL: {p}")
        return not problems


class Clock:
    """Paces the producer at RATE records a second."""

    def __init__(self):
        self.start = time.monotonic()

    def due(self, sent):
        return int((time.monotonic() - self.start) * RATE) > sent


def value_of(n):
    return f"v-{n}"


# ---------------------------------------------------------------- kafka-python

def kafka_python_producer(bootstrap, topic, tally, stop):
    from kafka import KafkaProducer

    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="failover-kafka-python-producer",
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        request_timeout_ms=5000,
        delivery_timeout_ms=120000,
        retry_backoff_ms=100,
    )
    clock = Clock()
    while not stop.is_set():
        if not clock.due(tally.sent) or tally.in_flight() >= MAX_IN_FLIGHT:
            time.sleep(BURST / RATE)
            continue
        for _ in range(BURST):
            n = tally.sent
            value = value_of(n)
            try:
                future = producer.send(topic, value=value.encode(), partition=n % PARTITIONS)
            except Exception as e:  # the producer refuses all further sends
                tally.on_fatal(f"send of {value} raised {e!r}")
                stop.set()
                break
            future.add_callback(lambda md, v=value: tally.on_ack(v, md.partition, md.offset))
            future.add_errback(lambda e, v=value: tally.on_failure(v, repr(e)))
            tally.sent += 1
    say("FINISHING")
    producer.flush(timeout=FLUSH_TIMEOUT_S)
    producer.close(timeout=10)


def kafka_python_consumer(bootstrap, topic, group, tally, finished, producer_done):
    from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    from kafka.structs import OffsetAndMetadata

    positions = {}  # partition -> next offset, consumed but maybe not committed
    assigned = []

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            for tp in revoked:
                positions.pop(tp.partition, None)

        def on_partitions_assigned(self, new):
            assigned[:] = sorted(tp.partition for tp in new)
            tally.on_assigned(assigned)

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id="failover-kafka-python-consumer",
        group_id=group,
        auto_offset_reset=OFFSET_RESET,
        enable_auto_commit=False,
        partition_assignment_strategy=[RangePartitionAssignor],
        **({"session_timeout_ms": SESSION_TIMEOUT_MS} if SESSION_TIMEOUT_MS else {}),
    )
    consumer.subscribe([topic], listener=Listener())

    def commit():
        if not positions:
            return
        offsets = dict(positions)
        try:
            consumer.commit(
                {TopicPartition(topic, p): OffsetAndMetadata(o, "", -1) for p, o in offsets.items()},
                timeout_ms=5000,
            )
        except Exception as e:
            tally.on_commit_failure(repr(e))
        else:
            tally.on_commit(offsets)

    drive(
        tally,
        finished,
        producer_done,
        poll=lambda: poll_kafka_python(consumer, tally, positions),
        commit=commit,
        assigned=lambda: ",".join(map(str, assigned)),
    )
    commit()
    consumer.close()


def poll_kafka_python(consumer, tally, positions):
    # kafka-python's poll returns as soon as records arrive; the timeout only bounds a quiet
    # spell. It keeps an unfinished join round in flight across polls (ensure_active_group).
    batches = consumer.poll(timeout_ms=500)
    for tp, records in batches.items():
        for r in records:
            tally.on_record(tp.partition, r.offset, r.value.decode())
            positions[tp.partition] = r.offset + 1


# ---------------------------------------------------------------- confluent-kafka

def confluent_producer(bootstrap, topic, tally, stop, debug):
    from confluent_kafka import KafkaException, Producer

    def on_error(err):
        if err.fatal():
            tally.on_fatal(str(err))
            stop.set()
        else:
            say(f"CLIENT_ERROR producer {err}")

    config = {
        "bootstrap.servers": bootstrap,
        "client.id": "failover-confluent-producer",
        "acks": "all",
        "enable.idempotence": True,
        "linger.ms": 5,
        "request.timeout.ms": 5000,
        "delivery.timeout.ms": 120000,
        "retry.backoff.ms": 100,
        "error_cb": on_error,
    }
    if debug:
        config["debug"] = "broker,topic,msg,eos"
    producer = Producer(config)

    def delivered(err, msg, value):
        if err is not None:
            tally.on_failure(value, str(err))
        else:
            tally.on_ack(value, msg.partition(), msg.offset())

    clock = Clock()
    while not stop.is_set():
        producer.poll(0)
        if not clock.due(tally.sent) or tally.in_flight() >= MAX_IN_FLIGHT:
            producer.poll(BURST / RATE)
            continue
        for _ in range(BURST):
            n = tally.sent
            value = value_of(n)
            try:
                producer.produce(
                    topic,
                    value=value.encode(),
                    partition=n % PARTITIONS,
                    on_delivery=lambda err, msg, v=value: delivered(err, msg, v),
                )
            except BufferError:
                break  # the local queue is full: wait for deliveries
            except KafkaException as e:
                tally.on_fatal(f"produce of {value} raised {e}")
                stop.set()
                break
            tally.sent += 1
    say("FINISHING")
    left = producer.flush(FLUSH_TIMEOUT_S)
    if left:
        tally.on_fatal(f"{left} records still undelivered after flush({FLUSH_TIMEOUT_S})")


def confluent_consumer(bootstrap, topic, group, tally, finished, producer_done, debug):
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    positions = {}
    assigned = []

    def on_assign(_consumer, partitions):
        assigned[:] = sorted(tp.partition for tp in partitions)
        tally.on_assigned(assigned)

    def on_revoke(_consumer, partitions):
        for tp in partitions:
            positions.pop(tp.partition, None)

    def on_error(err):
        say(f"CLIENT_ERROR consumer {err}")

    config = {
        "bootstrap.servers": bootstrap,
        "client.id": "failover-confluent-consumer",
        "group.id": group,
        "auto.offset.reset": OFFSET_RESET,
        "enable.auto.commit": False,
        "partition.assignment.strategy": "range",
        "error_cb": on_error,
    }
    if SESSION_TIMEOUT_MS:
        config["session.timeout.ms"] = SESSION_TIMEOUT_MS
    if debug:
        config["debug"] = "cgrp,broker,protocol,fetch"
    consumer = Consumer(config)
    consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)

    def poll():
        msg = consumer.poll(0.5)
        if msg is None:
            return
        if msg.error():
            say(f"CLIENT_ERROR consumer message {msg.error()}")
            return
        tally.on_record(msg.partition(), msg.offset(), msg.value().decode())
        positions[msg.partition()] = msg.offset() + 1

    def commit():
        if not positions:
            return
        offsets = dict(positions)
        try:
            result = consumer.commit(
                offsets=[TopicPartition(topic, p, o) for p, o in offsets.items()],
                asynchronous=False,
            )
        except KafkaException as e:
            tally.on_commit_failure(str(e))
            return
        errors = [tp for tp in result or [] if tp.error is not None]
        if errors:
            tally.on_commit_failure(str(errors[0].error))
        else:
            tally.on_commit(offsets)

    drive(
        tally,
        finished,
        producer_done,
        poll=poll,
        commit=commit,
        assigned=lambda: ",".join(map(str, assigned)),
    )
    commit()
    consumer.close()


# ---------------------------------------------------------------- the common loop

def drive(tally, finished, producer_done, poll, commit, assigned):
    """Consumes until the control file has appeared, the producer has flushed and every
    acknowledged value has been consumed (or DRAIN_TIMEOUT_S has passed since the flush);
    commits and reports progress about once a second."""
    next_commit = next_report = time.monotonic() + 1
    drain_deadline = None
    while True:
        poll()
        now = time.monotonic()
        if now >= next_commit:
            commit()
            next_commit = now + 1
        if now >= next_report:
            tally.progress(assigned())
            next_report = now + 1
        if producer_done.is_set():
            if drain_deadline is None:
                drain_deadline = now + DRAIN_TIMEOUT_S
            with tally.lock:
                acked = list(tally.acked)
            if all(v in tally.consumed for v in acked) or now >= drain_deadline:
                return
        if not finished.is_set() and finished_requested():
            finished.set()


CONTROL = None


def finished_requested():
    return os.path.exists(CONTROL)


def main():
    global CONTROL
    client, bootstrap, topic, group, CONTROL = sys.argv[1:6]
    debug = os.environ.get("FAILOVER_DEBUG") == "1"
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(threadName)s: %(message)s",
    )
    tally = Tally()
    finished = threading.Event()  # the control file appeared: stop producing
    producer_done = threading.Event()  # the producer has flushed (or given up)

    def produce():
        try:
            if client == "kafka-python":
                kafka_python_producer(bootstrap, topic, tally, finished)
            else:
                confluent_producer(bootstrap, topic, tally, finished, debug)
        except Exception as e:
            tally.on_fatal(f"producer thread died: {e!r}")
        finally:
            producer_done.set()

    producer = threading.Thread(target=produce, name="producer", daemon=True)
    producer.start()
    if client == "kafka-python":
        kafka_python_consumer(bootstrap, topic, group, tally, finished, producer_done)
    elif client == "confluent-kafka":
        confluent_consumer(bootstrap, topic, group, tally, finished, producer_done, debug)
    else:
        say(f"FAIL: unknown client {client!r}")
        sys.exit(2)
    producer.join(timeout=10)
    tally.progress("closed")
    sys.exit(0 if tally.summary() else 1)


if __name__ == "__main__":
    main()
