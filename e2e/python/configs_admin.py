#!/usr/bin/env python3
"""Topic configs changed and read through real admin clients, and their live effect.

kafka-python's KafkaAdminClient alters a topic with AlterConfigs (the whole set) and describes it
with synonyms; confluent-kafka's AdminClient alters it with IncrementalAlterConfigs (SET and
APPEND), sees a bad value refused with INVALID_CONFIG and Kafka's text, and describes it; then a
librdkafka producer finds max.message.bytes in force without a broker restart.

Usage: configs_admin.py <bootstrap host:port> <topic>
Exits 0 and prints `CONFIGS OK` on success; exits 1 with a message on any mismatch."""

import sys

from common import fail


def kafka_python(bootstrap, topic):
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="e2e-configs-kafka-python")
    try:
        result = admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, configs={"retention.ms": "86400000"})],
            incremental=False,
        )
        print(f"kafka-python alter_configs: {result}", flush=True)
        described = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)],
            include_synonyms=True,
            config_filter="all",
        )
        print(f"kafka-python describe_configs: {described}", flush=True)
        configs = described["topic"][topic]
        retention = configs.get("retention.ms")
        if retention is None:
            fail(f"retention.ms missing from {sorted(configs)}")
        text = str(retention)
        for want in ("86400000", "DYNAMIC_TOPIC_CONFIG"):
            if want not in text and want.lower() not in text.lower():
                fail(f"retention.ms entry lacks {want}: {retention}")
        segment = str(configs.get("segment.bytes"))
        if "1073741824" not in segment or "DEFAULT_CONFIG" not in segment.upper():
            fail(f"segment.bytes is not the default: {segment}")
        if len(configs) < 36:
            fail(f"only {len(configs)} topic configs described")
    finally:
        admin.close()


def confluent(bootstrap, topic):
    from confluent_kafka import KafkaError, KafkaException, Producer
    from confluent_kafka.admin import (
        AdminClient,
        AlterConfigOpType,
        ConfigEntry,
        ConfigResource,
        ConfigSource,
        ResourceType,
    )

    admin = AdminClient({"bootstrap.servers": bootstrap})

    def incremental(entries):
        resource = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=entries)
        for _, future in admin.incremental_alter_configs([resource]).items():
            future.result(timeout=30)

    incremental(
        [
            ConfigEntry(
                "leader.replication.throttled.replicas",
                "0:0",
                incremental_operation=AlterConfigOpType.APPEND,
            ),
            ConfigEntry("max.message.bytes", "200", incremental_operation=AlterConfigOpType.SET),
        ]
    )
    try:
        incremental(
            [ConfigEntry("retention.ms", "abc", incremental_operation=AlterConfigOpType.SET)]
        )
        fail("retention.ms=abc was accepted")
    except KafkaException as e:
        err = e.args[0]
        print(f"confluent-kafka bad value: {err}", flush=True)
        if err.code() != KafkaError.INVALID_CONFIG:
            fail(f"retention.ms=abc: expected INVALID_CONFIG, got {err}")
        if "Invalid value abc for configuration retention.ms: Not a number of type LONG" not in err.str():
            fail(f"retention.ms=abc: not Kafka's text: {err.str()}")

    # validate_only: checked and answered, not stored.
    checked = ConfigResource(
        ResourceType.TOPIC,
        topic,
        incremental_configs=[
            ConfigEntry("segment.ms", "1000", incremental_operation=AlterConfigOpType.SET)
        ],
    )
    for _, future in admin.incremental_alter_configs([checked], validate_only=True).items():
        future.result(timeout=30)

    resource = ConfigResource(ResourceType.TOPIC, topic)
    configs = admin.describe_configs([resource], request_timeout=30)[resource].result(timeout=30)
    if configs["segment.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value:
        fail(f"validate_only stored segment.ms: {configs['segment.ms'].value}")
    policy = configs["leader.replication.throttled.replicas"]
    print(f"confluent-kafka leader.replication.throttled.replicas: {policy} source={policy.source}", flush=True)
    if policy.value != "0:0" or policy.source != ConfigSource.DYNAMIC_TOPIC_CONFIG.value:
        fail(f"leader.replication.throttled.replicas after APPEND: {policy.value} source {policy.source}")
    if configs["retention.ms"].value != "86400000":
        fail(f"retention.ms lost by the incremental change: {configs['retention.ms'].value}")
    if policy.is_read_only or policy.is_sensitive:
        fail("a topic config is neither read-only nor sensitive")

    # max.message.bytes=200 is in force at once: a 1000-byte record is refused by the broker,
    # a small one is stored.
    outcomes = {}

    def report(err, msg):
        outcomes[len(msg.value())] = err

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "retries": 0})
    producer.produce(topic, b"x" * 1000, on_delivery=report)
    producer.flush(30)
    producer.produce(topic, b"small", on_delivery=report)
    producer.flush(30)
    print(f"confluent-kafka deliveries: {outcomes}", flush=True)
    big = outcomes.get(1000)
    if big is None or big.code() != KafkaError.MSG_SIZE_TOO_LARGE:
        fail(f"a 1000-byte record with max.message.bytes=200: {big}")
    if outcomes.get(5) is not None:
        fail(f"a small record was refused: {outcomes.get(5)}")


def main():
    bootstrap, topic = sys.argv[1], sys.argv[2]
    kafka_python(bootstrap, topic)
    confluent(bootstrap, topic)
    print("CONFIGS OK", flush=True)


if __name__ == "__main__":
    main()
