#!/usr/bin/env bash
# Runs kafka-broker-api-versions with the arguments given (same options and output as Kafka 3.9's BrokerApiVersionsCommand).
base_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$base_dir/kafka-run-class.sh" kafka-broker-api-versions "$@"
