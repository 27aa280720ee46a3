#!/usr/bin/env bash
# Runs kafka-get-offsets with the arguments given (same options and output as Kafka 3.9's GetOffsetShell).
base_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$base_dir/kafka-run-class.sh" kafka-get-offsets "$@"
