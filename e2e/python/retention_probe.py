"""kafka-python probes for the retention tests, one action per run, on partition 0 of a topic.

    retention_probe.py <bootstrap> <topic> offsets
        prints "OFFSETS <earliest> <latest>" (ListOffsets -2 and -1)
    retention_probe.py <bootstrap> <topic> produce <n> [<step ms>]
        produces n records (acks=all), record i timestamped now + i * step (default 0), and
        prints "PRODUCED <offset>,<offset>,..."
    retention_probe.py <bootstrap> <topic> fetch <offset>
        fetches from <offset> with auto_offset_reset=none and prints "OUT_OF_RANGE <offset>" when
        the broker answers OFFSET_OUT_OF_RANGE, else "RECORDS <first offset>,..." (may be empty)
"""

import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import OffsetOutOfRangeError

from common import fail


def consumer(bootstrap, reset):
    return KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset=reset,
        request_timeout_ms=30000,
    )


def main():
    bootstrap, topic, action = sys.argv[1], sys.argv[2], sys.argv[3]
    tp = TopicPartition(topic, 0)
    if action == "offsets":
        c = consumer(bootstrap, "earliest")
        earliest = c.beginning_offsets([tp])[tp]
        latest = c.end_offsets([tp])[tp]
        c.close()
        print(f"OFFSETS {earliest} {latest}", flush=True)
    elif action == "produce":
        n = int(sys.argv[4])
        step = int(sys.argv[5]) if len(sys.argv) > 5 else 0
        now = int(time.time() * 1000)
        p = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
        offsets = []
        for i in range(n):
            value = f"record-{i}".encode()
            sent = p.send(topic, value=value, partition=0, timestamp_ms=now + i * step)
            meta = sent.get(timeout=30)
            offsets.append(meta.offset)
        p.close()
        print("PRODUCED " + ",".join(str(o) for o in offsets), flush=True)
    elif action == "fetch":
        offset = int(sys.argv[4])
        c = consumer(bootstrap, "none")
        c.assign([tp])
        c.seek(tp, offset)
        deadline = time.time() + 10
        got = []
        try:
            while time.time() < deadline and not got:
                for records in c.poll(timeout_ms=500).values():
                    got.extend(r.offset for r in records)
        except OffsetOutOfRangeError:
            print(f"OUT_OF_RANGE {offset}", flush=True)
            return
        finally:
            c.close()
        print("RECORDS " + ",".join(str(o) for o in got), flush=True)
    else:
        fail(f"unknown action {action}")


if __name__ == "__main__":
    main()
