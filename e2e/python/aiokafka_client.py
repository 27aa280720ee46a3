"""aiokafka (asyncio) against our broker, one scenario per argument:

  roundtrip BOOTSTRAP TOPIC  produce keys, headers, a null value and every codec (none, gzip,
                             snappy, lz4, zstd), then read it all back with assigned partitions
  group BOOTSTRAP TOPIC      a group of two: one member owns every partition, a second joins and
                             the partitions are split between them, the second leaves and the
                             first owns them all again
  resume BOOTSTRAP TOPIC     a group member reads part, commits and closes; a new member of the
                             group resumes at the committed offsets and reads only the rest
  admin BOOTSTRAP TOPIC      create (3 partitions), list, describe, describe_cluster, delete
  txn BOOTSTRAP TOPIC        transactions (KIP-98): a transactional producer commits 10 records,
                             aborts 10, commits 1 (value i on partition i % 3); a read_committed
                             consumer reads exactly the 11 committed values in order per
                             partition, a read_uncommitted one all 21, neither a marker

Prints `OK <scenario> ...` on success; any mismatch exits 1 with `FAIL: ...` on stderr.
"""

import asyncio
import sys
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from common import CODECS, compare, fail, records_for

DEADLINE_S = 60
PARTITIONS = 3


async def wait_for(what, check, timeout=DEADLINE_S):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = await check()
        if v:
            return v
        await asyncio.sleep(0.1)
    fail(f"timed out waiting for {what}")


async def produce_all(bs, topic, codecs):
    """Sends every codec's records; returns (partition, offset) -> (key, value, headers)."""
    expected = {}
    for codec in codecs:
        producer = AIOKafkaProducer(
            bootstrap_servers=bs,
            compression_type=None if codec == "none" else codec,
            enable_idempotence=(codec == "zstd"),
            acks="all",
            linger_ms=5,
        )
        await producer.start()
        try:
            futures = []
            for key, value, headers in records_for(codec):
                fut = await producer.send(topic, value=value, key=key, headers=headers)
                futures.append((fut, (key, value, headers)))
            for fut, rec in futures:
                md = await fut
                expected[(md.partition, md.offset)] = rec
        finally:
            await producer.stop()
    return expected


async def read_all(bs, topic, n):
    consumer = AIOKafkaConsumer(bootstrap_servers=bs, auto_offset_reset="earliest")
    await consumer.start()
    try:
        # The test creates every topic with PARTITIONS partitions.
        consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
        got = {}
        end = time.monotonic() + DEADLINE_S
        while len(got) < n and time.monotonic() < end:
            batches = await consumer.getmany(timeout_ms=500)
            for tp, msgs in batches.items():
                for m in msgs:
                    got[(tp.partition, m.offset)] = (m.key, m.value, list(m.headers))
        return got
    finally:
        await consumer.stop()


async def roundtrip(bs, topic):
    expected = await produce_all(bs, topic, CODECS)
    got = await read_all(bs, topic, len(expected))
    compare(expected, got, "aiokafka")
    # Headers keep their order and repeats; a null value stays null.
    if not any(v is None for (_, v, _) in got.values()):
        fail("the null value did not come back as None")
    print(f"OK roundtrip {len(expected)} records, codecs {','.join(CODECS)}")
    print(f"RECORDS {len(expected)}")


async def group(bs, topic):
    group_id = f"{topic}-group"
    a = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bs,
        group_id=group_id,
        auto_offset_reset="earliest",
        session_timeout_ms=10000,
        heartbeat_interval_ms=300,
    )
    await a.start()
    try:

        async def poll_until(consumers, want):
            async def check():
                for c in consumers:
                    await c.getmany(timeout_ms=100)
                got = [frozenset(tp.partition for tp in c.assignment()) for c in consumers]
                return got if want(got) else None

            return await wait_for(f"assignment {want.__doc__}", check)

        def all_three(got):
            """one member owns all 3"""
            return got[0] == {0, 1, 2}

        await poll_until([a], all_three)
        b = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bs,
            group_id=group_id,
            auto_offset_reset="earliest",
            session_timeout_ms=10000,
            heartbeat_interval_ms=300,
        )
        await b.start()

        def split(got):
            """split between two members"""
            return got[0] and got[1] and not (got[0] & got[1]) and (got[0] | got[1]) == {0, 1, 2}

        got = await poll_until([a, b], split)
        await b.stop()
        got_after = await poll_until([a], all_three)
        print(
            f"OK group split {sorted(got[0])}+{sorted(got[1])} then {sorted(got_after[0])} after leave"
        )
    finally:
        await a.stop()


async def resume(bs, topic):
    expected = await produce_all(bs, topic, ["none", "gzip"])
    n = len(expected)
    group_id = f"{topic}-resume"
    first = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bs,
        group_id=group_id,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await first.start()
    seen = {}
    try:
        end = time.monotonic() + DEADLINE_S
        while len(seen) < n // 2 and time.monotonic() < end:
            batches = await first.getmany(timeout_ms=500, max_records=5)
            for tp, msgs in batches.items():
                for m in msgs:
                    seen[(tp.partition, m.offset)] = (m.key, m.value, list(m.headers))
        if len(seen) < n // 2:
            fail(f"first member read {len(seen)} of {n} records")
        await first.commit()
        committed = {tp.partition: await first.committed(tp) for tp in first.assignment()}
    finally:
        await first.stop()
    positions = {}
    for (p, o) in seen:
        positions[p] = max(positions.get(p, -1), o + 1)
    for p, pos in positions.items():
        if committed.get(p) != pos:
            fail(f"partition {p}: committed {committed.get(p)}, position was {pos}")
    rest = await read_group(bs, topic, n - len(seen), group_id)
    overlap = set(rest) & set(seen)
    if overlap:
        fail(f"the resumed member read again {sorted(overlap)[:5]}")
    both = dict(seen)
    both.update(rest)
    compare(expected, both, "aiokafka resume")
    print(f"OK resume {len(seen)} before commit, {len(rest)} after")


async def read_group(bs, topic, n, group_id):
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bs, group_id=group_id, auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        got = {}
        end = time.monotonic() + DEADLINE_S
        while len(got) < n and time.monotonic() < end:
            batches = await consumer.getmany(timeout_ms=500)
            for tp, msgs in batches.items():
                for m in msgs:
                    got[(tp.partition, m.offset)] = (m.key, m.value, list(m.headers))
        return got
    finally:
        await consumer.stop()


async def admin(bs, topic):
    client = AIOKafkaAdminClient(bootstrap_servers=bs, request_timeout_ms=20000)
    await client.start()
    try:
        await client.create_topics(
            [NewTopic(topic, num_partitions=3, replication_factor=1, topic_configs={"retention.ms": "3600000"})]
        )
        if topic not in await client.list_topics():
            fail(f"{topic} not listed after create")
        described = await client.describe_topics([topic])
        d = described[0]
        if d.get("error_code", 0) != 0 or len(d["partitions"]) != 3:
            fail(f"describe_topics: {d}")
        configs = await client.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        text = repr(configs)
        if "retention.ms" not in text or "3600000" not in text:
            fail(f"describe_configs lacks retention.ms=3600000: {text[:2000]}")
        cluster = await client.describe_cluster()
        if not cluster.get("cluster_id") or len(cluster["cluster_id"]) != 22:
            fail(f"describe_cluster: {cluster}")
        await client.delete_topics([topic])

        async def gone():
            return topic not in await client.list_topics()

        await wait_for(f"{topic} to disappear", gone)
        print(f"OK admin create/list/describe/configs/delete, cluster {cluster['cluster_id']}")
    finally:
        await client.close()


async def transaction(producer, topic, values, commit):
    """One transaction of `values` (value i to partition i % PARTITIONS), committed or aborted
    once every send was acknowledged; returns {(partition, offset): value}."""
    await producer.begin_transaction()
    futures = [
        await producer.send(topic, value=v.encode(), partition=i % PARTITIONS)
        for i, v in enumerate(values)
    ]
    sent = {}
    for i, fut in enumerate(futures):
        md = await fut
        if md.partition != i % PARTITIONS or md.offset < 0:
            fail(f"{values[i]} acknowledged as {md}")
        sent[(md.partition, md.offset)] = values[i]
    if commit:
        await producer.commit_transaction()
    else:
        await producer.abort_transaction()
    return sent


async def read_to_end(bs, topic, isolation, want):
    """Every partition of `topic` read from the beginning with `isolation` until `want` records
    arrived and each position reached its end offset (the last stable offset for read_committed),
    so that nothing more can come. Returns ({(partition, offset): value}, [end offsets]). The end
    offsets are asked again once `want` records are in: a transaction's markers may be written
    after its commit returned, so a last stable offset asked for earlier can be behind."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bs, auto_offset_reset="earliest", isolation_level=isolation
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        got = {}
        twice = []

        async def at_end():
            return all([await consumer.position(tp) >= ends[tp] for tp in tps])

        end = time.monotonic() + DEADLINE_S
        while time.monotonic() < end:
            batches = await consumer.getmany(timeout_ms=200)
            for tp, msgs in batches.items():
                for m in msgs:
                    if (tp.partition, m.offset) in got:
                        twice.append((tp.partition, m.offset))
                    got[(tp.partition, m.offset)] = m.value.decode()
            if len(got) >= want:
                ends = await consumer.end_offsets(tps)
                if await at_end():
                    break
        positions = [await consumer.position(tp) for tp in tps]
        end_list = [ends[tp] for tp in tps]
        if twice:
            fail(f"{isolation} read {twice} twice")
        if len(got) != want or positions != end_list:
            fail(
                f"{isolation} read {len(got)} records (want {want}), positions {positions}, "
                f"end offsets {end_list}: {sorted(got.items())}"
            )
        return got, end_list
    finally:
        await consumer.stop()


def by_partition(records):
    out = {}
    for (p, _), v in sorted(records.items()):
        out.setdefault(p, []).append(v)
    return out


def check_read(label, got, sent):
    for po, v in got.items():
        if sent.get(po) != v:
            fail(f"{label} read {v!r} at {po}, which is no record sent there")
    if by_partition(got) != by_partition(sent):
        fail(f"{label} read {by_partition(got)}, want {by_partition(sent)}")


async def txn(bs, topic):
    producer = AIOKafkaProducer(bootstrap_servers=bs, transactional_id=f"{topic}-txn")
    await producer.start()
    try:
        committed = await transaction(
            producer, topic, [f"committed-{i}" for i in range(10)], True
        )
        aborted = await transaction(producer, topic, [f"aborted-{i}" for i in range(10)], False)
        committed.update(await transaction(producer, topic, ["committed-last"], True))
    finally:
        await producer.stop()
    everything = dict(aborted)
    everything.update(committed)
    rc, rc_ends = await read_to_end(bs, topic, "read_committed", len(committed))
    check_read("read_committed", rc, committed)
    ru, ends = await read_to_end(bs, topic, "read_uncommitted", len(everything))
    check_read("read_uncommitted", ru, everything)
    if rc_ends != ends:
        fail(f"last stable offsets {rc_ends} vs high watermarks {ends} with no transaction open")
    print(f"OK txn committed {len(rc)} uncommitted {len(ru)} ends {ends}")


def main():
    scenario, bs, topic = sys.argv[1], sys.argv[2], sys.argv[3]
    runs = {"roundtrip": roundtrip, "group": group, "resume": resume, "admin": admin, "txn": txn}
    if scenario not in runs:
        fail(f"unknown scenario {scenario}")
    asyncio.run(runs[scenario](bs, topic))


if __name__ == "__main__":
    main()
