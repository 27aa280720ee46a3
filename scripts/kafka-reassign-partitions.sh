#!/usr/bin/env bash
# Runs kafka-reassign-partitions with the arguments given (same options, JSON files and output as
# Kafka 3.9's ReassignPartitionsCommand).
base_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$base_dir/kafka-run-class.sh" kafka-reassign-partitions "$@"
