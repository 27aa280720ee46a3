#!/usr/bin/env bash
# Runs kafka-verifiable-consumer with the arguments given (same arguments and JSON event lines as Kafka 3.9's VerifiableConsumer).
base_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$base_dir/kafka-run-class.sh" kafka-verifiable-consumer "$@"
