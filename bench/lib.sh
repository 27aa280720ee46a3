# shellcheck shell=bash
# Cluster start-up on loopback for the bench/ scripts (and e2e/librdkafka/run.sh): the one place
# that knows how to start zookeeper-lite and brokers with ports chosen by the kernel, wait for
# them, and stop them again. Source it from a script that runs under `set -euo pipefail`:
#
#   bin=...                       optional, before sourcing: where broker, zookeeper-lite and
#                                 kafka-topics are (default target/release of this workspace)
#   . "$(dirname "$0")/lib.sh"
#   bench_init NAME               a temporary work directory $work (${TMPDIR:-/tmp}/NAME.XXXXXX)
#                                 and the cleanup trap; $cluster_dir (where the next cluster's logs
#                                 and data go) starts as $work
#   start_zookeeper               zookeeper-lite on 127.0.0.1, clientPort=0: sets $zk_port, $zk_pid
#   start_broker ID [--override k=v ...]
#                                 broker ID from the shipped config/server.properties
#                                 ($broker_config to use another file),
#                                 listeners=PLAINTEXT://127.0.0.1:0, log.dirs $cluster_dir/brokerID,
#                                 log $cluster_dir/brokerID.log, then the caller's overrides (later
#                                 ones win); waits for "[KafkaServer id=ID] started". Records the
#                                 broker in the parallel arrays broker_ids, broker_pids,
#                                 broker_ports and rebuilds $bootstrap (host:port,...).
#                                 launch_broker + await_brokers do the same in two steps, so
#                                 several brokers start side by side.
#   wait_replicated TOPIC RF PARTITIONS
#                                 until TOPIC has PARTITIONS partitions, each with a leader and an
#                                 ISR of RF replicas (60 s at most)
#   topics ARGS...                kafka-topics --bootstrap-server $bootstrap ARGS...
#   stop_cluster                  stops the brokers (each a controlled shutdown, which needs
#                                 zookeeper-lite), then zookeeper-lite, and forgets them
#   new_cluster NAME              stop_cluster, then $cluster_dir=$work/NAME (fresh; the previous
#                                 one's data is deleted unless BENCH_KEEP=1)
#   wait_for_line FILE REGEX PID, port_of LINE, require_python: see below.
#
# On exit (also on Ctrl-C or SIGTERM) the trap calls the caller's `on_cleanup` function if one is
# defined, stops the cluster and deletes $work; BENCH_KEEP=1 keeps it (and says where).

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${bin:-$bench_root/target/release}
broker_config=${broker_config:-$bench_root/config/server.properties}

work=
cluster_dir=
zk_pid=
zk_port=
broker_ids=()
broker_pids=()
broker_ports=()
awaited=0
bootstrap=

bench_init() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    cluster_dir=$work
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

bench_cleanup() {
    if declare -F on_cleanup >/dev/null; then
        on_cleanup || true
    fi
    stop_cluster
    if [ -n "$work" ]; then
        if [ "${BENCH_KEEP:-0}" = 1 ]; then
            echo "kept $work"
        else
            rm -rf "$work"
        fi
    fi
}

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

# The port of a "listening on HOST:PORT" log line.
port_of() { sed -E 's/.*listening on [^ ]*:([0-9]+).*/\1/' <<<"$1"; }

# Sets $python to the interpreter with confluent-kafka ($KAFKA_E2E_PYTHON, default .venv/bin/python,
# made by scripts/install-test-deps.sh), or exits 2 saying how to get one.
require_python() {
    python=${KAFKA_E2E_PYTHON:-$bench_root/.venv/bin/python}
    if ! [ -x "$python" ] || ! "$python" -c 'import confluent_kafka' 2>/dev/null; then
        echo "no Python with confluent-kafka at $python: run scripts/install-test-deps.sh or set" \
            "KAFKA_E2E_PYTHON" >&2
        exit 2
    fi
}

start_zookeeper() {
    mkdir -p "$cluster_dir/zk"
    cat >"$cluster_dir/zookeeper.properties" <<EOF
dataDir=$cluster_dir/zk
clientPort=0
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
EOF
    "$bin/zookeeper-lite" "$cluster_dir/zookeeper.properties" >"$cluster_dir/zookeeper.log" 2>&1 &
    zk_pid=$!
    zk_port=$(port_of "$(wait_for_line "$cluster_dir/zookeeper.log" 'listening on ' "$zk_pid")")
}

# Starts broker ID without waiting for it (await_brokers does).
launch_broker() {
    local id=$1
    shift
    "$bin/broker" "$broker_config" \
        --override "broker.id=$id" \
        --override "listeners=PLAINTEXT://127.0.0.1:0" \
        --override "metrics.http.listener=http://127.0.0.1:0" \
        --override "log.dirs=$cluster_dir/broker$id" \
        --override "zookeeper.connect=127.0.0.1:$zk_port" \
        "$@" >"$cluster_dir/broker$id.log" 2>&1 &
    broker_ids+=("$id")
    broker_pids+=($!)
}

# Waits for every launched broker not yet waited for to log its port and "started", in launch
# order; then $bootstrap lists every broker.
await_brokers() {
    local i id line
    for ((i = awaited; i < ${#broker_ids[@]}; i++)); do
        id=${broker_ids[$i]}
        line=$(wait_for_line "$cluster_dir/broker$id.log" 'listening on ' "${broker_pids[$i]}")
        wait_for_line "$cluster_dir/broker$id.log" "\\[KafkaServer id=$id\\] started" \
            "${broker_pids[$i]}" >/dev/null
        broker_ports[i]=$(port_of "$line")
    done
    awaited=${#broker_ids[@]}
    bootstrap=
    for i in "${!broker_ports[@]}"; do
        bootstrap+=${bootstrap:+,}127.0.0.1:${broker_ports[$i]}
    done
}

start_broker() {
    launch_broker "$@"
    await_brokers
}

topics() { "$bin/kafka-topics" --bootstrap-server "$bootstrap" "$@"; }

# Waits until every partition of TOPIC has a leader and an ISR of RF replicas.
wait_replicated() {
    local topic=$1 rf=$2 partitions=$3 deadline=$((SECONDS + 60)) out
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

stop_cluster() {
    local pid
    for pid in "${broker_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${broker_pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ -n "$zk_pid" ]; then
        kill "$zk_pid" 2>/dev/null || true
        wait "$zk_pid" 2>/dev/null || true
    fi
    zk_pid=
    zk_port=
    broker_ids=()
    broker_pids=()
    broker_ports=()
    awaited=0
    bootstrap=
}

new_cluster() {
    stop_cluster
    if [ "$cluster_dir" != "$work" ] && [ "${BENCH_KEEP:-0}" != 1 ]; then
        rm -rf "$cluster_dir"
    fi
    cluster_dir=$work/$1
    rm -rf "$cluster_dir"
    mkdir -p "$cluster_dir"
}
