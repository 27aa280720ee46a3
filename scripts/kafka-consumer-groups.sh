#!/usr/bin/env bash
# Runs kafka-consumer-groups with the arguments given (see kafka-facts: same options and output as Kafka 3.9's).
base_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$base_dir/kafka-run-class.sh" kafka-consumer-groups "$@"
