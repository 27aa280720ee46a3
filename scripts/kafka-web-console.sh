#!/usr/bin/env bash
# Runs kafka-web-console with the arguments given: a web console (and JSON API) for a Kafka
# cluster, e.g. kafka-web-console.sh --bootstrap-server localhost:9092 --port 8080
base_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$base_dir/kafka-run-class.sh" kafka-web-console "$@"
