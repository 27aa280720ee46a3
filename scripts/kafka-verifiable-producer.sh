#!/usr/bin/env bash
# Runs kafka-verifiable-producer with the arguments given (same arguments and JSON event lines as Kafka 3.9's VerifiableProducer).
base_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$base_dir/kafka-run-class.sh" kafka-verifiable-producer "$@"
