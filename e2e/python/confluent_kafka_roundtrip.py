#!/usr/bin/env python3
"""confluent-kafka (librdkafka) round trip: a producer sends records with keys, headers and each
compression codec (plain and idempotent); a consumer with assign()ed partitions reads them back,
and every record must be at the offset its delivery report gave, unchanged.

Usage: confluent_kafka_roundtrip.py <bootstrap host:port> <topic>
Exits 0 and prints `RECORDS <n>` on success; exits 1 with a message on any mismatch."""

import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition

from common import CODECS, compare, deadline, fail, records_for


def produce(bootstrap, topic):
    acked = {}
    for codec in CODECS:
        for idempotent in (False, True):
            producer = Producer(
                {
                    "bootstrap.servers": bootstrap,
                    "client.id": f"e2e-confluent-{codec}",
                    "compression.type": codec,
                    "enable.idempotence": idempotent,
                    "linger.ms": 20,
                    # Java's placement, so keys land where the other clients put them.
                    "partitioner": "murmur2_random",
                }
            )
            errors = []

            def report(err, msg, record):
                if err is not None:
                    errors.append(f"codec {codec}: delivery failed: {err}")
                else:
                    acked[(msg.partition(), msg.offset())] = record

            records = records_for(codec + ("-idem" if idempotent else ""))
            for key, value, headers in records:
                producer.produce(
                    topic,
                    key=key,
                    value=value,
                    headers=headers,
                    on_delivery=lambda err, msg, r=(key, value, headers): report(err, msg, r),
                )
            left = producer.flush(30)
            if left:
                fail(f"codec {codec}: {left} records still undelivered after 30 s")
            if errors:
                fail("; ".join(errors[:5]))
            print(
                f"produced {len(records)} records with codec {codec}, idempotence={idempotent}",
                flush=True,
            )
    return acked


def consume(bootstrap, topic, expected):
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "client.id": "e2e-confluent-consumer",
            # Required by the client even for assign(); nothing is committed.
            "group.id": "e2e-confluent-assign",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
        }
    )
    md = consumer.list_topics(topic, timeout=10)
    t = md.topics.get(topic)
    if t is None or t.error is not None or not t.partitions:
        fail(f"no metadata for {topic}: {t and t.error}")
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in sorted(t.partitions)])
    got = {}
    end = deadline()
    while time.monotonic() < end and not all(po in got for po in expected):
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            # Partition EOF is informational; anything else is a failure.
            if msg.error().code() == -191:  # _PARTITION_EOF
                continue
            fail(f"consumer error: {msg.error()}")
        headers = [(k, v) for k, v in (msg.headers() or [])]
        got[(msg.partition(), msg.offset())] = (msg.key(), msg.value(), headers)
    consumer.close()
    return got


def main():
    if len(sys.argv) != 3:
        fail(f"usage: {sys.argv[0]} <bootstrap> <topic>")
    bootstrap, topic = sys.argv[1], sys.argv[2]
    try:
        acked = produce(bootstrap, topic)
        got = consume(bootstrap, topic, acked)
    except KafkaException as e:
        fail(f"client error: {e}")
    compare(acked, got, "confluent-kafka")
    print(f"RECORDS {len(acked)}", flush=True)


if __name__ == "__main__":
    main()
