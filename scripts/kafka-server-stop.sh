#!/usr/bin/env bash
# Stops the brokers of this checkout with SIGTERM (a clean shutdown: the broker
# flushes its logs and unregisters from zookeeper-lite), as Kafka's script does.
base_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$base_dir/stop-common.sh" broker "No kafka server to stop"
