"""Reads every record of __consumer_offsets with kafka-python (no group: all partitions assigned,
from the beginning to the end offsets) and decodes it with a decoder written from Kafka's schema
files, not from the broker's code: group-coordinator/src/main/resources/common/message/
{OffsetCommitKey,OffsetCommitValue,GroupMetadataKey,GroupMetadataValue}.json of Kafka 3.9, the
layouts Burrow and Kafka's GroupMetadataMessageFormatter read.

usage: offsets_topic_reader.py <bootstrap>

One JSON object per record on stdout:
  {"partition": p, "offset": o, "key": {...}, "value": {...} | null}
A key is {"type": "offset", "version": v, "group", "topic", "partition"} or
{"type": "group", "version": 2, "group"}. A value follows its schema; bytes fields (subscription,
assignment) are hex. A record that does not decode exits 1 with the reason on stderr.
"""

import json
import struct
import sys
import time

from kafka import KafkaConsumer, TopicPartition

TOPIC = "__consumer_offsets"


class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError(f"truncated at byte {self.pos} (wanted {n} of {len(self.data)})")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def int16(self):
        return struct.unpack(">h", self.take(2))[0]

    def int32(self):
        return struct.unpack(">i", self.take(4))[0]

    def int64(self):
        return struct.unpack(">q", self.take(8))[0]

    def string(self, nullable=False):
        n = self.int16()
        if n < 0:
            if not nullable:
                raise ValueError("null string where the schema forbids it")
            return None
        return self.take(n).decode("utf-8")

    def bytes_(self):
        n = self.int32()
        return "" if n < 0 else self.take(n).hex()

    def done(self):
        if self.pos != len(self.data):
            raise ValueError(f"{len(self.data) - self.pos} bytes left over")


def decode_key(raw):
    r = Reader(raw)
    version = r.int16()
    if version in (0, 1):
        key = {"type": "offset", "version": version, "group": r.string(),
               "topic": r.string(), "partition": r.int32()}
    elif version == 2:
        key = {"type": "group", "version": version, "group": r.string()}
    else:
        raise ValueError(f"unknown key version {version}")
    r.done()
    return key


def decode_offset_value(raw):
    r = Reader(raw)
    version = r.int16()
    if version > 3:
        raise ValueError(f"offset commit value version {version} is flexible; not expected")
    value = {"version": version, "offset": r.int64()}
    if version >= 3:
        value["leaderEpoch"] = r.int32()
    value["metadata"] = r.string()
    value["commitTimestamp"] = r.int64()
    if version == 1:
        value["expireTimestamp"] = r.int64()
    r.done()
    return value


def decode_group_value(raw):
    r = Reader(raw)
    version = r.int16()
    if version > 3:
        raise ValueError(f"group metadata value version {version} is flexible; not expected")
    value = {"version": version, "protocolType": r.string(), "generation": r.int32(),
             "protocol": r.string(nullable=True), "leader": r.string(nullable=True)}
    if version >= 2:
        value["currentStateTimestamp"] = r.int64()
    members = []
    for _ in range(r.int32()):
        m = {"memberId": r.string()}
        if version >= 3:
            m["groupInstanceId"] = r.string(nullable=True)
        m["clientId"] = r.string()
        m["clientHost"] = r.string()
        if version >= 1:
            m["rebalanceTimeout"] = r.int32()
        m["sessionTimeout"] = r.int32()
        m["subscription"] = r.bytes_()
        m["assignment"] = r.bytes_()
        members.append(m)
    value["members"] = members
    r.done()
    return value


def main():
    bootstrap = sys.argv[1]
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             client_id="offsets-topic-reader")
    partitions = consumer.partitions_for_topic(TOPIC)
    if not partitions:
        print(f"{TOPIC} does not exist", file=sys.stderr)
        sys.exit(1)
    tps = [TopicPartition(TOPIC, p) for p in sorted(partitions)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    ends = consumer.end_offsets(tps)
    deadline = time.time() + 60
    out = []
    while any(consumer.position(tp) < ends[tp] for tp in tps):
        if time.time() > deadline:
            print("did not reach the end offsets in time", file=sys.stderr)
            sys.exit(1)
        for tp, records in consumer.poll(timeout_ms=500).items():
            for rec in records:
                try:
                    key = decode_key(rec.key)
                    if rec.value is None:
                        value = None
                    elif key["type"] == "offset":
                        value = decode_offset_value(rec.value)
                    else:
                        value = decode_group_value(rec.value)
                except ValueError as e:
                    print(f"{tp.partition}@{rec.offset}: {e}: key={rec.key!r} "
                          f"value={rec.value!r}", file=sys.stderr)
                    sys.exit(1)
                out.append({"partition": tp.partition, "offset": rec.offset, "key": key,
                            "value": value})
    consumer.close()
    for o in sorted(out, key=lambda o: (o["partition"], o["offset"])):
        print(json.dumps(o), flush=True)


if __name__ == "__main__":
    main()
