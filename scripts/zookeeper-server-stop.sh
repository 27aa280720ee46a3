#!/usr/bin/env bash
# Stops the zookeeper-lite servers of this checkout with SIGTERM, as Kafka's script does.
base_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$base_dir/stop-common.sh" zookeeper-lite "No zookeeper server to stop"
