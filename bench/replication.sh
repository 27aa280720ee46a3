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
bin=$root/target/release
python=${KAFKA_E2E_PYTHON:-$root/.venv/bin/python}

if ! [ -x "$python" ] || ! "$python" -c 'import confluent_kafka' 2>/dev/null; then
    echo "no Python with confluent-kafka at $python: run scripts/install-test-deps.sh or set" \
        "KAFKA_E2E_PYTHON" >&2
    exit 2
fi
(cd "$root" && cargo build --release --workspace)

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-replication.XXXXXX")
pids=()
cleanup() {
    # The brokers first, each a controlled shutdown that needs zookeeper-lite, then zookeeper-lite
    # (pids[0]).
    local pid
    for pid in "${pids[@]:1}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]:1}"; do
        wait "$pid" 2>/dev/null || true
    done
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

# Waits until FILE has a line matching REGEX (grep -E) and prints the first match; gives up after
# 60 s or when PID has died, showing the file.
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
cat >"$work/zookeeper.properties" <<EOF
dataDir=$work/zk
clientPort=0
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
EOF
"$bin/zookeeper-lite" "$work/zookeeper.properties" >"$work/zookeeper.log" 2>&1 &
pids+=($!)
zk_port=$(port_of "$(wait_for_line "$work/zookeeper.log" 'listening on ' "${pids[0]}")")

bootstrap=
for id in 0 1 2; do
    "$bin/broker" "$root/config/server.properties" \
        --override "broker.id=$id" \
        --override "listeners=PLAINTEXT://127.0.0.1:0" \
        --override "log.dirs=$work/broker$id" \
        --override "zookeeper.connect=127.0.0.1:$zk_port" \
        >"$work/broker$id.log" 2>&1 &
    pids+=($!)
    port=$(port_of "$(wait_for_line "$work/broker$id.log" 'listening on ' "$!")")
    wait_for_line "$work/broker$id.log" "\[KafkaServer id=$id\] started" "$!" >/dev/null
    bootstrap+=${bootstrap:+,}127.0.0.1:$port
done
echo "zookeeper-lite on 127.0.0.1:$zk_port, brokers on $bootstrap; work dir $work"

topics() { "$bin/kafka-topics" --bootstrap-server "$bootstrap" "$@"; }

# Waits until every partition of TOPIC has a leader and an ISR of RF replicas.
wait_replicated() {
    local topic=$1 rf=$2 deadline=$((SECONDS + 60)) out
    while :; do
        out=$(topics --describe --topic "$topic" 2>/dev/null || true)
        if [ "$(grep -c 'Partition: ' <<<"$out")" -eq "$partitions" ] &&
            ! grep 'Partition: ' <<<"$out" | grep -q 'Leader: none' &&
            [ "$(grep 'Partition: ' <<<"$out" |
                sed -E 's/.*Isr: ([0-9,]*).*/\1/' | awk -F, -v rf="$rf" 'NF != rf' | wc -l)" -eq 0 ]; then
            return 0
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "topic $topic not fully replicated after 60 s:" >&2
            printf '%s\n' "$out" >&2
            return 1
        fi
        sleep 0.2
    done
}

topics --create --topic bench-rf1 --partitions "$partitions" --replication-factor 1
topics --create --topic bench-rf3 --partitions "$partitions" --replication-factor 3 \
    --config min.insync.replicas=2
wait_replicated bench-rf1 1
wait_replicated bench-rf3 3

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
