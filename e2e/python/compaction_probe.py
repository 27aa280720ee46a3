"""Probes for the log compaction tests, one action per run, on partition 0 of a topic.

    compaction_probe.py <bootstrap> <topic> produce <updates> <keys> [<first key>]
        kafka-python: produces <updates> records round-robin over keys key-<first> ..
        key-<first + keys - 1> (value "value-<i>" for update i, small batches), and prints
        "LAST <json {key: [offset, value]}>" with each key's last write
    compaction_probe.py <bootstrap> <topic> tombstone <key>
        kafka-python: produces a null value for <key>; prints "TOMBSTONE <offset>"
    compaction_probe.py <bootstrap> <topic> read [read_committed]
        kafka-python: reads from the beginning up to the end offset (the last stable offset with
        read_committed); prints "RECORDS <json [[offset, key, value or null], ...]>"
    compaction_probe.py <bootstrap> <topic> txn
        confluent-kafka, transactional: commits {k1: c1, k2: c1}, aborts {k1: x, k3: x},
        commits {k2: c2}; prints "TXN DONE"
    compaction_probe.py <bootstrap> <topic> keyless
        confluent-kafka: produces one record without a key and prints "DELIVERY <error name>
        <error code>" (or "DELIVERY OK <offset>")
"""

import json
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from common import fail


def main():
    bootstrap, topic, action = sys.argv[1], sys.argv[2], sys.argv[3]
    tp = TopicPartition(topic, 0)
    if action == "produce":
        updates, keys = int(sys.argv[4]), int(sys.argv[5])
        first = int(sys.argv[6]) if len(sys.argv) > 6 else 0
        # Small batches so that each fits a small segment.bytes.
        p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", batch_size=512, linger_ms=2)
        futures = []
        for i in range(updates):
            key = f"key-{first + i % keys}"
            value = f"value-{i}"
            futures.append((key, value, p.send(topic, key=key.encode(), value=value.encode(), partition=0)))
        p.flush()
        last = {}
        for key, value, f in futures:
            last[key] = [f.get(timeout=30).offset, value]
        p.close()
        print("LAST " + json.dumps(last), flush=True)
    elif action == "tombstone":
        key = sys.argv[4]
        p = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
        meta = p.send(topic, key=key.encode(), value=None, partition=0).get(timeout=30)
        p.close()
        print(f"TOMBSTONE {meta.offset}", flush=True)
    elif action == "read":
        isolation = sys.argv[4] if len(sys.argv) > 4 else "read_uncommitted"
        c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                          auto_offset_reset="earliest", request_timeout_ms=30000,
                          isolation_level=isolation)
        c.assign([tp])
        c.seek_to_beginning(tp)
        end = c.end_offsets([tp])[tp]
        got = []
        deadline = time.time() + 30
        while c.position(tp) < end and time.time() < deadline:
            for records in c.poll(timeout_ms=500).values():
                for r in records:
                    got.append([r.offset, r.key.decode() if r.key is not None else None,
                                r.value.decode() if r.value is not None else None])
        c.close()
        print("RECORDS " + json.dumps(got), flush=True)
    elif action == "txn":
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"compaction-{topic}"})
        p.init_transactions(30)
        for records, commit in (
            ([("k1", "c1"), ("k2", "c1")], True),
            ([("k1", "x"), ("k3", "x")], False),
            ([("k2", "c2")], True),
        ):
            p.begin_transaction()
            for k, v in records:
                p.produce(topic, key=k.encode(), value=v.encode(), partition=0)
            p.flush(30)
            if commit:
                p.commit_transaction(30)
            else:
                p.abort_transaction(30)
        print("TXN DONE", flush=True)
    elif action == "keyless":
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "retries": 0})
        result = []

        def on_delivery(err, msg):
            if err is not None:
                result.append(f"{err.name()} {err.code()}")
            else:
                result.append(f"OK {msg.offset()}")

        p.produce(topic, value=b"no key", partition=0, on_delivery=on_delivery)
        p.flush(30)
        print("DELIVERY " + (result[0] if result else "NONE"), flush=True)
    else:
        fail(f"unknown action {action}")


if __name__ == "__main__":
    main()
