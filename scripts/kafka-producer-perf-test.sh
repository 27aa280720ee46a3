#!/usr/bin/env bash
# Runs kafka-producer-perf-test with the arguments given (same arguments and output as Kafka 3.9's ProducerPerformance).
base_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$base_dir/kafka-run-class.sh" kafka-producer-perf-test "$@"
