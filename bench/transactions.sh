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
bin=$root/target/release
python=${KAFKA_E2E_PYTHON:-$root/.venv/bin/python}

if ! [ -x "$python" ] || ! "$python" -c 'import confluent_kafka' 2>/dev/null; then
    echo "no Python with confluent-kafka at $python: run scripts/install-test-deps.sh or set" \
        "KAFKA_E2E_PYTHON" >&2
    exit 2
fi
(cd "$root" && cargo build --release --workspace)

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-transactions.XXXXXX")
pids=()
cleanup() {
    if [ "${#pids[@]}" -gt 1 ]; then
        kill "${pids[1]}" 2>/dev/null || true
        wait "${pids[1]}" 2>/dev/null || true
    fi
    if [ "${#pids[@]}" -gt 0 ]; then
        kill "${pids[0]}" 2>/dev/null || true
        wait "${pids[0]}" 2>/dev/null || true
    fi
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "kept $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

# Waits until FILE has a line matching REGEX (grep -E) and prints it; gives up after 60 s or when
# PID has died, showing the file.
wait_for_line() {
    local file=$1 regex=$2 pid=$3 deadline=$((SECONDS + 60)) line
    while :; do
        line=$(grep -m1 -E "$regex" "$file" 2>/dev/null || true)
        if [ -n "$line" ]; then
            printf '%s\n' "$line"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
            echo "gave up waiting for /$regex/ in $file:" >&2
            cat "$file" >&2
            return 1
        fi
        sleep 0.1
    done
}

port_of() { sed -E 's/.*listening on [^ ]*:([0-9]+).*/\1/' <<<"$1"; }

mkdir -p "$work/zk"
cat >"$work/zookeeper.properties" <<ZK
dataDir=$work/zk
clientPort=0
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
ZK
"$bin/zookeeper-lite" "$work/zookeeper.properties" >"$work/zookeeper.log" 2>&1 &
pids+=($!)
zk_port=$(port_of "$(wait_for_line "$work/zookeeper.log" 'listening on ' "${pids[0]}")")
"$bin/broker" "$root/config/server.properties" \
    --override "listeners=PLAINTEXT://127.0.0.1:0" \
    --override "log.dirs=$work/broker" \
    --override "zookeeper.connect=127.0.0.1:$zk_port" \
    >"$work/broker.log" 2>&1 &
pids+=($!)
port=$(port_of "$(wait_for_line "$work/broker.log" 'listening on ' "${pids[1]}")")
wait_for_line "$work/broker.log" '\[KafkaServer id=0\] started' "${pids[1]}" >/dev/null
bootstrap=127.0.0.1:$port
echo "zookeeper-lite on 127.0.0.1:$zk_port, broker on $bootstrap; work dir $work"

"$bin/kafka-topics" --bootstrap-server "$bootstrap" --create --topic bench-txn --partitions 3 \
    --replication-factor 1
echo "$count records of $size bytes; transactions of $per_txn; ${small_seconds}s of 1-record transactions"
"$python" "$root/bench/txn_load.py" "$bootstrap" bench-txn "$count" "$size" "$per_txn" "$small_seconds"
