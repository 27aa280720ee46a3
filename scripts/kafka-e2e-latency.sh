#!/usr/bin/env bash
# Runs kafka-e2e-latency with the arguments given (same arguments and output as Kafka 3.9's EndToEndLatency).
base_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$base_dir/kafka-run-class.sh" kafka-e2e-latency "$@"
