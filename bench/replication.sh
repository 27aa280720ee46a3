#!/usr/bin/env bash
# What replication costs a producer: starts zookeeper-lite and three brokers from the release
# build (loopback, ports chosen by the kernel, temporary data directories), creates one topic with
# replication factor 1 and one with replication factor 3 and min.insync.replicas=2, drives the same
# confluent-kafka producer (acks=all, idempotent; bench/produce_load.py) through each, prints
# MiB/s, records/s and delivery latency per topic, then stops everything. A benchmark, not a
# test: it asserts nothing about speed. Not run by CI.
#
#   bench/replication.sh [RECORDS] [RECORD_BYTES] [PARTITIONS]
#
# Defaults: 200000 records of 1024 bytes, 3 partitions per topic (one led by each broker). The
# brokers run the shipped config/server.properties (log.flush.interval.messages=1: an fsync per
# append, followers included) with overrides only for ids, ports, directories and
# zookeeper.connect. Environment:
#   KAFKA_E2E_PYTHON  the Python with confluent-kafka (default: .venv/bin/python, made by
#                     scripts/install-test-deps.sh)
#   BENCH_KEEP=1      keep the temporary directory (server logs, data) for a look afterwards
#
# Builds the release binaries first (`cargo build --release --workspace`; a no-op when current).
set -euo pipefail

records=${1:-200000}
size=${2:-1024}
partitions=${3:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
require_python
(cd "$root" && cargo build --release --workspace)

bench_init bench-replication
start_zookeeper
for id in 0 1 2; do
    start_broker "$id"
done
echo "zookeeper-lite on 127.0.0.1:$zk_port, brokers on $bootstrap; work dir $work"

topics --create --topic bench-rf1 --partitions "$partitions" --replication-factor 1
topics --create --topic bench-rf3 --partitions "$partitions" --replication-factor 3 \
    --config min.insync.replicas=2
wait_replicated bench-rf1 1 "$partitions"
wait_replicated bench-rf3 3 "$partitions"

echo "producing $records records of $size bytes to each topic (acks=all, idempotent)"
results=()
for topic in bench-rf1 bench-rf3; do
    line=$("$python" "$root/bench/produce_load.py" "$bootstrap" "$topic" "$records" "$size")
    echo "$line"
    results+=("$line")
done

echo
printf '%-10s %10s %10s %12s %9s %9s\n' topic seconds MiB/s records/s p50_ms p99_ms
for line in "${results[@]}"; do
    field() { sed -E "s/.* $1=([^ ]*).*/\1/" <<<"$line"; }
    printf '%-10s %10s %10s %12s %9s %9s\n' "$(field topic)" "$(field seconds)" \
        "$(field mib_per_s)" "$(field records_per_s)" "$(field p50_ms)" "$(field p99_ms)"
done
