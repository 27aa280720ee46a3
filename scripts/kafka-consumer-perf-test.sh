#!/usr/bin/env bash
# Runs kafka-consumer-perf-test with the arguments given (same arguments and output as Kafka 3.9's ConsumerPerformance).
base_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$base_dir/kafka-run-class.sh" kafka-consumer-perf-test "$@"
