#!/usr/bin/env bash
# Runs kafka-log-dirs with the arguments given (same options and output as Kafka 3.9's LogDirsCommand).
base_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$base_dir/kafka-run-class.sh" kafka-log-dirs "$@"
