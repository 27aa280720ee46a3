#!/usr/bin/env bash
# The performance suite of issue 12: one command that builds the release binaries, measures this
# machine's own limits (bench/limits.py), runs every scenario below on loopback, each on a fresh
# cluster (bench/lib.sh) and each figure the median of N runs, and writes the results with the
# machine, the revision, the limits, and per target the limit that bounds it, the ratio to it and
# whether it was met. A benchmark, not a test: it reports and exits 0 whatever the figures are
# (non-zero only when it could not run at all). Not run by CI.
#
#   bench/run.sh [--runs N] [--quick] [--only a,b,...] [--records N] [--no-build]
#
#   --runs N      runs per scenario, the median reported (default 3; 1 with --quick)
#   --quick       a smoke run of a couple of minutes: 50 000 records per 1 KiB scenario, one run,
#                 limits measured for 1 s each, no 1 GiB recovery
#   --only LIST   only these scenarios (names below, comma-separated)
#   --records N   records per 1 KiB scenario (default 500 000; 100 B scenarios 4 N, linger.ms=0
#                 N/10, latency probes N/50)
#   --no-build    use target/release as it is (the results say so)
#
# Scenarios (acks=1, 1 partition, replication factor 1, linger.ms=5 and batch.size=1000000 unless
# named; "page cache" = log.flush.interval.messages=9223372036854775807 (Kafka's default, no
# fsync); "durable" = config/server.properties as shipped: an fsync per append, group commit):
#   produce-1k-pagecache     1 KiB records, page cache
#   produce-1k-durable       1 KiB records, durable
#   produce-1k-3p-pagecache  1 KiB records, 3 partitions, page cache
#   produce-1k-3p-durable    1 KiB records, 3 partitions, durable
#   produce-100b-pagecache   100 B records, page cache
#   produce-linger0-durable  1 KiB records, linger.ms=0, one producer, durable
#   produce-1k-rf3-durable   1 KiB, acks=all, three brokers, replication factor 3,
#                            min.insync.replicas=2, 3 partitions (one led by each broker), durable
#   consume                  consume-1k and consume-100b: 1 KiB and 100 B records read from the
#                            page cache (written just before by a producer, not measured)
#   latency-rf3-durable      end-to-end latency, one record in flight, acks=all, replication
#                            factor 3, durable, under a background producer of 10 240 records/s
#                            of 1 KiB (10 MiB/s) to another topic of the same cluster
#   startup                  broker spawn to its first ApiVersions answer, empty data directory
#   recovery                 restart after kill -9 with one 1 GiB segment, against reading and
#                            checksumming that segment (skipped with --quick)
# Each produce, consume and latency scenario runs twice per run, once with each load generator:
# our target/release/kafka-producer-perf-test, kafka-consumer-perf-test and kafka-e2e-latency
# (Kafka 3.9's tools; a row says "tool not built" when the binary is missing), and librdkafka
# through confluent-kafka (bench/produce_load.py, consume_load.py, latency_load.py). The broker's CPU
# time (utime+stime of its /proc/<pid>/stat, summed over the brokers) is read before and after
# each measured phase; its VmRSS once started and idle, its VmHWM after producing.
#
# Output: bench/results/<UTC yyyy-mm-ddTHHMM>-<git short rev>.md and .json, copied to
# bench/results/latest.md and latest.json (bench/report.py writes them). Environment:
# KAFKA_E2E_PYTHON (the Python with confluent-kafka; default .venv/bin/python), BENCH_KEEP=1 keeps
# the work directory (logs; the data of each cluster is deleted once its scenario is done).
set -euo pipefail

runs=
quick=0
only=
records=
no_build=0
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
        --runs)
            runs=${2:-}
            shift
            ;;
        --quick) quick=1 ;;
        --no-build) no_build=1 ;;
        --only)
            only=${2:-}
            shift
            ;;
        --records)
            records=${2:-}
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            echo "unknown argument $1 (see --help)" >&2
            exit 2
            ;;
    esac
    shift
done
for n in "${runs:-1}" "${records:-1}"; do
    if ! [[ "$n" =~ ^[1-9][0-9]*$ ]]; then
        echo "--runs and --records need a positive number, not '$n'" >&2
        exit 2
    fi
done
if [ "$quick" = 1 ]; then
    runs=${runs:-1}
    records=${records:-50000}
else
    runs=${runs:-3}
    records=${records:-500000}
fi
all_scenarios=(produce-1k-pagecache produce-1k-durable produce-1k-3p-pagecache
    produce-1k-3p-durable produce-100b-pagecache produce-linger0-durable produce-1k-rf3-durable
    consume latency-rf3-durable startup recovery)
selected=()
if [ -n "$only" ]; then
    IFS=',' read -r -a wanted <<<"$only"
    for s in "${wanted[@]}"; do
        if [[ " ${all_scenarios[*]} " != *" $s "* ]]; then
            echo "no scenario '$s'; there are: ${all_scenarios[*]}" >&2
            exit 2
        fi
        selected+=("$s")
    done
else
    selected=("${all_scenarios[@]}")
fi

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
require_python

stamp=$(date -u +%Y-%m-%dT%H%M)
loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)
rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=false
if [ -n "$(git -C "$root" status --porcelain 2>/dev/null)" ]; then
    dirty=true
fi

# A build already running (another shell's cargo) holds cargo's lock: this waits for it and is
# then a no-op. A failed build leaves the previous binaries, which are used if present (the
# results say so).
build=ok
if [ "$no_build" = 1 ]; then
    build="not run (--no-build)"
else
    echo "building the release binaries (cargo build --release --workspace; log in target/bench-build.log)"
    mkdir -p "$root/target"
    if ! (cd "$root" && cargo build --release --workspace) >"$root/target/bench-build.log" 2>&1; then
        build=failed
        echo "WARNING: the release build failed (target/bench-build.log); using the binaries present" >&2
    fi
fi
for b in broker zookeeper-lite kafka-topics; do
    if ! [ -x "$bin/$b" ]; then
        echo "missing $bin/$b: the release build has not produced it" >&2
        exit 2
    fi
done

bench_init bench-run
raw=$work/raw.jsonl
: >"$raw"
clk_tck=$(getconf CLK_TCK)
pagecache=(--override log.flush.interval.messages=9223372036854775807)
failed_any=0
bg_pids=()

############################# Helpers #############################

# Appends one measurement to $raw: SCENARIO GENERATOR RUN key=value... (numbers stay numbers).
record() {
    local json="{\"scenario\":\"$1\",\"generator\":\"$2\",\"run\":$3" kv k v
    shift 3
    for kv in "$@"; do
        k=${kv%%=*}
        v=${kv#*=}
        if [[ "$v" =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; then
            json+=",\"$k\":$v"
        else
            v=${v//\\/\\\\}
            json+=",\"$k\":\"${v//\"/\\\"}\""
        fi
    done
    printf '%s}\n' "$json" >>"$raw"
}

# utime+stime of every broker of the cluster, in clock ticks.
cpu_ticks() {
    local pid stat total=0
    for pid in "${broker_pids[@]}"; do
        stat=$(<"/proc/$pid/stat")
        # Fields after the command name (which may hold spaces): state is the 1st, utime the
        # 12th, stime the 13th.
        read -r -a f <<<"${stat##*) }"
        total=$((total + f[11] + f[12]))
    done
    echo "$total"
}

# A /proc/PID/status field in kB (VmRSS, VmHWM).
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

on_cleanup() {
    local pid
    for pid in "${bg_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

# Deletes the current cluster's data (its logs stay for BENCH_KEEP=1 or a failure).
drop_data() {
    if [ "${BENCH_KEEP:-0}" != 1 ] && [ "$cluster_dir" != "$work" ]; then
        rm -rf "$cluster_dir"/broker*/ "$cluster_dir/zk"
    fi
}

# Runs FUNC ARGS in a subshell that stops its cluster and background load whatever happens, so
# one failing scenario does not end the suite. IDS and GENS (comma lists) name the rows FUNC
# records; those it did not record for RUN are recorded as failed.
isolated() {
    local ids gens run=$3 rc id gen
    IFS=',' read -r -a ids <<<"$1"
    IFS=',' read -r -a gens <<<"$2"
    shift 3
    # Not `( ... ) || rc=$?`: bash ignores errexit inside a command whose status is tested.
    set +e
    (
        set -e
        trap 'on_cleanup; stop_cluster; drop_data' EXIT
        trap 'exit 130' INT TERM
        "$@"
    )
    rc=$?
    set -e
    if [ "$rc" = 130 ]; then
        exit 130
    fi
    for id in "${ids[@]}"; do
        for gen in "${gens[@]}"; do
            if ! grep -q "^{\"scenario\":\"$id\",\"generator\":\"$gen\",\"run\":$run[,}]" "$raw"; then
                record "$id" "$gen" "$run" status="failed (exit $rc; logs kept in $work)"
                failed_any=1
            fi
        done
    done
}

# Starts zookeeper-lite and COUNT brokers (ids 0..COUNT-1) with the given overrides.
cluster_up() {
    local count=$1 i
    shift
    start_zookeeper
    for ((i = 0; i < count; i++)); do
        launch_broker "$i" "$@"
    done
    await_brokers
}

create_topic() { # TOPIC PARTITIONS RF
    local extra=()
    if [ "$3" -gt 1 ]; then
        extra=(--config min.insync.replicas=2)
    fi
    topics --create --topic "$1" --partitions "$2" --replication-factor "$3" "${extra[@]}" >/dev/null
    wait_replicated "$1" "$3" "$2"
}

# Turns a RESULT line of the bench/*_load.py scripts into key=value words (RESULT and topic
# dropped, the rate keys renamed to the suite's).
result_words() {
    sed -E 's/^RESULT topic=[^ ]* //; s/mib_per_s=/mib_s=/; s/records_per_s=/records_s=/' <<<"$1"
}

############################# Load generators #############################
# Each prints key=value words on success (records, bytes, mib_s, records_s, latencies) and
# returns non-zero, showing the end of its output, on failure. Output goes to $cluster_dir.

producer_props() { # ACKS LINGER
    echo "bootstrap.servers=$bootstrap acks=$1 linger.ms=$2 batch.size=1000000"
}

produce_perf_test() { # TOPIC COUNT SIZE ACKS LINGER
    local log=$cluster_dir/producer-perf-test.$1.log line props words
    read -r -a props <<<"$(producer_props "$4" "$5")"
    if ! "$bin/kafka-producer-perf-test" --topic "$1" --num-records "$2" --record-size "$3" \
        --throughput -1 --producer-props "${props[@]}" >"$log" 2>&1; then
        tail -n 5 "$log" >&2
        return 1
    fi
    line=$(grep -E '^[0-9]+ records sent, .* 99\.9th\.$' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        echo "no final line from kafka-producer-perf-test:" >&2
        tail -n 5 "$log" >&2
        return 1
    fi
    words=$(sed -nE 's/^([0-9]+) records sent, ([0-9.]+) records\/sec \(([0-9.]+) MB\/sec\), ([0-9.]+) ms avg latency, ([0-9.]+) ms max latency, ([0-9]+) ms 50th, ([0-9]+) ms 95th, ([0-9]+) ms 99th, ([0-9]+) ms 99\.9th\.$/records=\1 records_s=\2 mib_s=\3 avg_ms=\4 max_ms=\5 p50_ms=\6 p95_ms=\7 p99_ms=\8 p999_ms=\9/p' <<<"$line")
    if [ -z "$words" ]; then
        echo "kafka-producer-perf-test's final line is not Kafka's: $line" >&2
        return 1
    fi
    echo "$words bytes=$(($(sed -E 's/ .*//' <<<"$line") * $3))"
}

produce_librdkafka() { # TOPIC COUNT SIZE ACKS LINGER
    local log=$cluster_dir/produce_load.$1.log line idem=()
    if [ "$4" != all ]; then
        idem=(--no-idempotence)
    fi
    if ! "$python" "$root/bench/produce_load.py" "$bootstrap" "$1" "$2" "$3" --acks "$4" \
        "${idem[@]}" --linger-ms "$5" --batch-size 1000000 >"$log" 2>&1; then
        tail -n 5 "$log" >&2
        return 1
    fi
    line=$(grep '^RESULT ' "$log" | tail -n 1)
    result_words "$line"
}

consume_perf_test() { # TOPIC COUNT SIZE
    local log=$cluster_dir/consumer-perf-test.$1.log line f
    if ! "$bin/kafka-consumer-perf-test" --bootstrap-server "$bootstrap" --topic "$1" \
        --messages "$2" --timeout 30000 >"$log" 2>&1; then
        tail -n 5 "$log" >&2
        return 1
    fi
    line=$(grep -A1 '^start.time, end.time' "$log" | tail -n 1)
    IFS=',' read -r -a f <<<"${line// /}"
    if [ "${#f[@]}" -ne 10 ] || [ "${f[4]}" -lt "$2" ]; then
        echo "kafka-consumer-perf-test did not read $2 records:" >&2
        tail -n 5 "$log" >&2
        return 1
    fi
    # The fetch.* rates leave out the group join (rebalance.time.ms), as consume_load.py's
    # figures leave out its connection and first fetch.
    echo "records=${f[4]} bytes=$((f[4] * $3)) mib_s=${f[8]} records_s=${f[9]}" \
        "total_mib_s=${f[3]} total_records_s=${f[5]} rebalance_ms=${f[6]} fetch_ms=${f[7]}"
}

consume_librdkafka() { # TOPIC COUNT SIZE
    local log=$cluster_dir/consume_load.$1.log
    if ! "$python" "$root/bench/consume_load.py" "$bootstrap" "$1" "$2" --timeout 30 >"$log" 2>&1; then
        tail -n 5 "$log" >&2
        return 1
    fi
    result_words "$(grep '^RESULT ' "$log" | tail -n 1)"
}

latency_perf_test() { # TOPIC COUNT SIZE
    local log=$cluster_dir/e2e-latency.log avg pct
    if ! "$bin/kafka-e2e-latency" "$bootstrap" "$1" "$2" all "$3" >"$log" 2>&1; then
        tail -n 5 "$log" >&2
        return 1
    fi
    avg=$(sed -nE 's/^Avg latency: ([0-9.]+) ms.*/\1/p' "$log" | tail -n 1)
    pct=$(sed -nE 's/^Percentiles: 50th = ([0-9]+), 99th = ([0-9]+), 99\.9th = ([0-9]+).*/p50_ms=\1 p99_ms=\2 p999_ms=\3/p' "$log" | tail -n 1)
    if [ -z "$avg" ] || [ -z "$pct" ]; then
        echo "no latency lines from kafka-e2e-latency:" >&2
        tail -n 5 "$log" >&2
        return 1
    fi
    echo "records=$2 avg_ms=$avg $pct"
}

latency_librdkafka() { # TOPIC COUNT SIZE
    local log=$cluster_dir/latency_load.log
    if ! "$python" "$root/bench/latency_load.py" "$bootstrap" "$1" "$2" "$3" --acks all >"$log" 2>&1; then
        tail -n 5 "$log" >&2
        return 1
    fi
    result_words "$(grep '^RESULT ' "$log" | tail -n 1)"
}

# Background load at RATE records/s of SIZE bytes to TOPIC with acks=all, until stopped.
background_perf_test() { # TOPIC RATE SIZE
    local props
    read -r -a props <<<"$(producer_props all 5)"
    "$bin/kafka-producer-perf-test" --topic "$1" --num-records $(($2 * 3600)) --record-size "$3" \
        --throughput "$2" --producer-props "${props[@]}" >"$cluster_dir/background.log" 2>&1 &
    bg_pids+=($!)
}

background_librdkafka() { # TOPIC RATE SIZE
    "$python" "$root/bench/produce_load.py" "$bootstrap" "$1" 0 "$3" --rate "$2" --warmup 0 \
        >"$cluster_dir/background.log" 2>&1 &
    bg_pids+=($!)
}

tool_of() { # GENERATOR KIND -> the binary a perf-test generator needs
    case "$2" in
        produce) echo kafka-producer-perf-test ;;
        consume) echo kafka-consumer-perf-test ;;
        latency) echo kafka-e2e-latency ;;
    esac
}

# True when generator GEN can run KIND (produce/consume/latency); else records "tool not built"
# for SCENARIO/RUN.
available() { # GEN KIND SCENARIO RUN
    if [ "$1" = perf-test ] && ! [ -x "$bin/$(tool_of "$1" "$2")" ]; then
        record "$3" "$1" "$4" status="tool not built" tool="$(tool_of "$1" "$2")"
        return 1
    fi
}

############################# Scenarios #############################

# One produce run: ID GEN RUN BROKERS PARTITIONS RF SIZE COUNT ACKS LINGER [BROKER OVERRIDES...]
produce_run() {
    local id=$1 gen=$2 run=$3 brokers=$4 partitions=$5 rf=$6 size=$7 count=$8 acks=$9
    local linger=${10} rss_idle before words after hwm
    shift 10
    new_cluster "$id.$gen.$run"
    cluster_up "$brokers" "$@"
    sleep 0.5
    rss_idle=$(status_kb "${broker_pids[0]}" VmRSS)
    create_topic bench "$partitions" "$rf"
    before=$(cpu_ticks)
    words=$("produce_${gen//-/_}" bench "$count" "$size" "$acks" "$linger")
    after=$(cpu_ticks)
    hwm=$(status_kb "${broker_pids[0]}" VmHWM)
    # shellcheck disable=SC2086 # words is a list of key=value words
    record "$id" "$gen" "$run" status=ok $words cpu_ticks=$((after - before)) \
        rss_idle_kb="$rss_idle" hwm_kb="$hwm" brokers="$brokers"
}

produce_scenario() { # ID BROKERS PARTITIONS RF SIZE COUNT ACKS LINGER [BROKER OVERRIDES...]
    local id=$1 run gen
    shift
    for ((run = 1; run <= runs; run++)); do
        for gen in perf-test librdkafka; do
            echo "  $id, run $run, $gen"
            if available "$gen" produce "$id" "$run"; then
                isolated "$id" "$gen" "$run" produce_run "$id" "$gen" "$run" "$@"
            fi
        done
    done
}

# Fills bench-1k and bench-100b, then reads each with both generators.
consume_run() { # RUN
    local run=$1 gen fill before words after topic size count id
    new_cluster "consume.$run"
    cluster_up 1 "${pagecache[@]}"
    create_topic bench-1k 1 1
    create_topic bench-100b 1 1
    fill=librdkafka
    if [ -x "$bin/kafka-producer-perf-test" ]; then
        fill=perf-test
    fi
    "produce_${fill//-/_}" bench-1k "$records" 1024 1 5 >/dev/null
    "produce_${fill//-/_}" bench-100b $((records * 4)) 100 1 5 >/dev/null
    # A first consumer group creates __consumer_offsets (50 partitions): done here, so that its
    # cost is in no measured phase.
    if [ -x "$bin/kafka-consumer-perf-test" ]; then
        "$bin/kafka-consumer-perf-test" --bootstrap-server "$bootstrap" --topic bench-100b \
            --messages 1 --timeout 30000 >"$cluster_dir/consumer-warmup.log" 2>&1
    fi
    for spec in "consume-1k bench-1k 1024 $records" "consume-100b bench-100b 100 $((records * 4))"; do
        read -r id topic size count <<<"$spec"
        for gen in perf-test librdkafka; do
            echo "  $id, run $run, $gen"
            available "$gen" consume "$id" "$run" || continue
            before=$(cpu_ticks)
            if words=$("consume_${gen//-/_}" "$topic" "$count" "$size"); then
                after=$(cpu_ticks)
                # shellcheck disable=SC2086 # words is a list of key=value words
                record "$id" "$gen" "$run" status=ok $words cpu_ticks=$((after - before))
            fi
        done
    done
}

latency_run() { # GEN RUN COUNT
    local gen=$1 run=$2 count=$3 words t0 t1 sent
    new_cluster "latency.$gen.$run"
    cluster_up 3
    create_topic bench-latency 1 3
    create_topic bench-background 3 3
    t0=$(date +%s.%N)
    "background_${gen//-/_}" bench-background 10240 1024
    sleep 2
    words=$("latency_${gen//-/_}" bench-latency "$count" 1024)
    kill "${bg_pids[0]}" 2>/dev/null || true
    wait "${bg_pids[0]}" 2>/dev/null || true
    t1=$(date +%s.%N)
    bg_pids=()
    # The rate the background load kept, from what reached its topic (either generator).
    sent=$("$python" "$root/bench/topic_records.py" "$bootstrap" bench-background)
    # shellcheck disable=SC2086 # words is a list of key=value words
    record latency-rf3-durable "$gen" "$run" status=ok $words \
        background_records_s="$(awk -v n="$sent" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')"
}

startup_run() { # RUN
    local run=$1 out
    new_cluster "startup.$run"
    start_zookeeper
    out=$("$python" "$root/bench/startup.py" --broker "$bin/broker" --config "$broker_config" \
        --log "$cluster_dir/broker0.log" --override broker.id=0 \
        --override "log.dirs=$cluster_dir/broker0" --override "zookeeper.connect=127.0.0.1:$zk_port")
    record startup - "$run" status=ok ms="$(sed -E 's/.*"ms": ([0-9.]+).*/\1/' <<<"$out")"
}

recovery_run() { # RUN
    local run=$1 session_ms=2000 dir logs size crc killed out session_wait=0 avail
    avail=$(df --output=avail -B1 "$work" | tail -n 1)
    if [ "$avail" -lt $((4 << 30)) ]; then
        record recovery - "$run" status="skipped: $((avail >> 20)) MiB free, 4 GiB needed"
        return 0
    fi
    new_cluster "recovery.$run"
    local overrides=("${pagecache[@]}" --override "zookeeper.session.timeout.ms=$session_ms")
    cluster_up 1 "${overrides[@]}"
    topics --create --topic bench-recovery --partitions 1 --replication-factor 1 \
        --config segment.bytes=1610612736 >/dev/null
    wait_replicated bench-recovery 1 1
    # 1 GiB of 8 KiB records (page cache mode: no fsync, so nothing moves the recovery point and
    # the restart scans the whole segment).
    "$python" "$root/bench/produce_load.py" "$bootstrap" bench-recovery 131072 8192 --acks 1 \
        --no-idempotence --warmup 0 >"$cluster_dir/recovery-produce.log" 2>&1
    dir=$cluster_dir/broker0/bench-recovery-0
    logs=("$dir"/*.log)
    size=$(stat -c %s "${logs[0]}")
    if [ "${#logs[@]}" -ne 1 ] || [ "$size" -lt $((1 << 30)) ]; then
        echo "expected one segment of 1 GiB or more in $dir, found ${#logs[@]} (${size} bytes)" >&2
        return 1
    fi
    kill -9 "${broker_pids[0]}"
    wait "${broker_pids[0]}" 2>/dev/null || true
    killed=$SECONDS
    crc=$("$python" "$root/bench/read_crc.py" "${logs[0]}")
    # The restart must not wait for the killed broker's session to expire in zookeeper-lite.
    while [ $((SECONDS - killed)) -lt $((2 * session_ms / 1000 + 1)) ]; do
        sleep 0.2
    done
    out=$("$python" "$root/bench/startup.py" --broker "$bin/broker" --config "$broker_config" \
        --log "$cluster_dir/broker0.restart.log" --override broker.id=0 \
        --override "log.dirs=$cluster_dir/broker0" --override "zookeeper.connect=127.0.0.1:$zk_port" \
        "${overrides[@]}")
    if grep -q 'Waiting up to zookeeper.session.timeout.ms' "$cluster_dir/broker0.restart.log"; then
        session_wait=1
    fi
    record recovery - "$run" status=ok segment_bytes="$size" \
        restart_ms="$(sed -E 's/.*"ms": ([0-9.]+).*/\1/' <<<"$out")" \
        read_crc_ms="$(sed -E 's/.*"ms": ([0-9.]+).*/\1/' <<<"$crc")" session_wait=$session_wait
}

############################# Run #############################

echo "measuring this machine's limits (bench/limits.py in $work)"
limits_args=(--dir "$work")
if [ "$quick" = 1 ]; then
    limits_args+=(--quick)
fi
"$python" "$root/bench/limits.py" "${limits_args[@]}" >"$work/limits.json"
cat "$work/limits.json"

started=$SECONDS
for s in "${selected[@]}"; do
    echo "== $s"
    case "$s" in
        produce-1k-pagecache) produce_scenario "$s" 1 1 1 1024 "$records" 1 5 "${pagecache[@]}" ;;
        produce-1k-durable) produce_scenario "$s" 1 1 1 1024 "$records" 1 5 ;;
        produce-1k-3p-pagecache) produce_scenario "$s" 1 3 1 1024 "$records" 1 5 "${pagecache[@]}" ;;
        produce-1k-3p-durable) produce_scenario "$s" 1 3 1 1024 "$records" 1 5 ;;
        produce-100b-pagecache)
            produce_scenario "$s" 1 1 1 100 $((records * 4)) 1 5 "${pagecache[@]}"
            ;;
        produce-linger0-durable) produce_scenario "$s" 1 1 1 1024 $((records / 10)) 1 0 ;;
        produce-1k-rf3-durable) produce_scenario "$s" 3 3 3 1024 "$records" all 5 ;;
        consume)
            for ((run = 1; run <= runs; run++)); do
                isolated consume-1k,consume-100b perf-test,librdkafka "$run" consume_run "$run"
            done
            ;;
        latency-rf3-durable)
            for ((run = 1; run <= runs; run++)); do
                for gen in perf-test librdkafka; do
                    echo "  $s, run $run, $gen"
                    if available "$gen" latency "$s" "$run"; then
                        isolated "$s" "$gen" "$run" latency_run "$gen" "$run" $((records / 50))
                    fi
                done
            done
            ;;
        startup)
            for ((run = 1; run <= runs; run++)); do
                isolated startup - "$run" startup_run "$run"
            done
            ;;
        recovery)
            if [ "$quick" = 1 ]; then
                record recovery - 1 status="skipped (--quick)"
                continue
            fi
            for ((run = 1; run <= runs; run++)); do
                echo "  recovery, run $run"
                isolated recovery - "$run" recovery_run "$run"
            done
            ;;
    esac
done
elapsed=$((SECONDS - started))

mkdir -p "$root/bench/results"
out=$root/bench/results/$stamp-$rev
"$python" "$root/bench/report.py" --raw "$raw" --limits "$work/limits.json" --out "$out" \
    --rev "$rev" --dirty "$dirty" --build "$build" --loadavg "$loadavg_before" \
    --runs "$runs" --records "$records" --quick "$quick" --clk-tck "$clk_tck" \
    --elapsed "$elapsed" --scenarios "$(IFS=,; echo "${selected[*]}")"
cp "$out.md" "$root/bench/results/latest.md"
cp "$out.json" "$root/bench/results/latest.json"
echo
cat "$out.md"
echo
echo "results in ${out#"$root"/}.md and .json (and bench/results/latest.*)"
if [ "$failed_any" = 1 ]; then
    BENCH_KEEP=1
    echo "some runs failed: their logs are kept"
fi
