#!/usr/bin/env bash
# What transactions cost a producer: starts zookeeper-lite and one broker from the release build
# (loopback, ports chosen by the kernel, a temporary data directory, the shipped
# config/server.properties: an fsync per append), creates a topic, and drives one confluent-kafka
# producer through bench/txn_load.py: COUNT records idempotent (no transaction), the same records
# in transactions of PER_TXN records, then one-record transactions for SMALL_SECONDS (commits a
# second and commit latency). Prints its RESULT lines, then stops everything. A benchmark, not a
# test: it asserts nothing about speed. Not run by CI.
#
#   bench/transactions.sh [COUNT] [SIZE] [PER_TXN] [SMALL_SECONDS]
#
# Defaults: 200000 records of 1024 bytes, 1000 per transaction, 10 s of small transactions, to a
# topic of 3 partitions. Environment: KAFKA_E2E_PYTHON (the Python with confluent-kafka; default
# .venv/bin/python, made by scripts/install-test-deps.sh), BENCH_KEEP=1 keeps the work directory.
#
# Builds the release binaries first (`cargo build --release --workspace`; a no-op when current).
set -euo pipefail

count=${1:-200000}
size=${2:-1024}
per_txn=${3:-1000}
small_seconds=${4:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
require_python
(cd "$root" && cargo build --release --workspace)

bench_init bench-transactions
start_zookeeper
start_broker 0
echo "zookeeper-lite on 127.0.0.1:$zk_port, broker on $bootstrap; work dir $work"

"$bin/kafka-topics" --bootstrap-server "$bootstrap" --create --topic bench-txn --partitions 3 \
    --replication-factor 1
echo "$count records of $size bytes; transactions of $per_txn; ${small_seconds}s of 1-record transactions"
"$python" "$root/bench/txn_load.py" "$bootstrap" bench-txn "$count" "$size" "$per_txn" "$small_seconds"
