#!/usr/bin/env bash
# Starts a broker. Usage as Kafka's bin/kafka-server-start.sh; every
# `--override property=value` is passed to the broker, which applies it over the file.
if [ $# -lt 1 ]; then
  echo "USAGE: $0 [-daemon] server.properties [--override property=value]*"
  exit 1
fi
base_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
extra=()
if [ "$1" = "-daemon" ]; then
  extra=(-daemon -name kafkaServer)
  shift
fi
exec "$base_dir/kafka-run-class.sh" "${extra[@]}" broker "$@"
