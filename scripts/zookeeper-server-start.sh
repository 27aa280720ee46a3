#!/usr/bin/env bash
# Starts zookeeper-lite, the coordinator that stands in for ZooKeeper.
# Usage as Kafka's bin/zookeeper-server-start.sh.
if [ $# -lt 1 ]; then
  echo "USAGE: $0 [-daemon] zookeeper.properties"
  exit 1
fi
base_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
extra=()
if [ "$1" = "-daemon" ]; then
  extra=(-daemon -name zookeeper)
  shift
fi
exec "$base_dir/kafka-run-class.sh" "${extra[@]}" zookeeper-lite "$@"
