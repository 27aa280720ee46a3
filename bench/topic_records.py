"""How many records TOPIC holds: the sum over its partitions of high watermark minus log start
offset, read with a confluent-kafka consumer (ListOffsets; no group join). Prints the number.

usage: topic_records.py <bootstrap> <topic>

bench/run.sh uses it to tell the rate a background producer kept up, whatever the producer.
"""

import sys

from confluent_kafka import Consumer, TopicPartition


def main():
    bootstrap, topic = sys.argv[1], sys.argv[2]
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-topic-records"})
    partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
    total = 0
    for p in partitions:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
        total += high - low
    consumer.close()
    print(total)


if __name__ == "__main__":
    main()
