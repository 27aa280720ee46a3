#!/usr/bin/env bash
# The quickstart, start to finish: builds the release binaries, starts zookeeper-lite and one
# broker from the shipped config/ files (data in a fresh temporary directory, ports 2181 and 9092
# as shipped), runs the workflow of Kafka's quickstart with the scripts/ wrappers, prints
# everything, and stops both servers whatever happens.
set -euo pipefail

cd "$(dirname "$0")"
root="$(pwd)"

if [ -t 1 ]; then
  say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
else
  say() { printf '\n==> %s\n' "$*"; }
fi
run() {
  printf '$ %s\n' "$*"
  "$@"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in 2181 9092; do
  if port_busy "$port"; then
    echo "Port $port is already in use: stop whatever listens there (scripts/kafka-server-stop.sh, scripts/zookeeper-server-stop.sh) and try again." >&2
    exit 1
  fi
done

say "Building release binaries (cargo build --release)"
cargo build --release -q -p zookeeper-lite -p broker -p kafka-topics -p kafka-console-producer -p kafka-console-consumer
export KAFKA_BIN_DIR="${CARGO_TARGET_DIR:-$root/target}/release"

work="$(mktemp -d "${TMPDIR:-/tmp}/kafka-quickstart.XXXXXX")"
zk_pid=""
broker_pid=""

stop_server() { # pid name
  local pid="$1" name="$2"
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  echo "$name did not stop within 15 s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  say "Stopping the broker and zookeeper-lite"
  stop_server "$broker_pid" broker
  stop_server "$zk_pid" zookeeper-lite
  if [ "$status" -ne 0 ]; then
    echo "Something failed (exit $status). Server logs:" >&2
    for f in "$work"/*.log; do
      [ -f "$f" ] && { echo "---- $f" >&2; tail -n 40 "$f" >&2; }
    done
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for <log file> <text> <seconds> <pid> <name>
wait_for() {
  local file="$1" text="$2" secs="$3" pid="$4" name="$5"
  local deadline=$((SECONDS + secs))
  until grep -qF "$text" "$file" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name exited during startup" >&2
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "$name did not log '$text' within $secs s" >&2
      return 1
    fi
    sleep 0.1
  done
}

# The shipped zookeeper.properties, with its dataDir moved into our temporary directory so the
# run does not depend on (or leave) state in /tmp/zookeeper.
sed "s|^dataDir=.*|dataDir=$work/zookeeper|" config/zookeeper.properties >"$work/zookeeper.properties"

say "Terminal 1: scripts/zookeeper-server-start.sh config/zookeeper.properties"
scripts/zookeeper-server-start.sh "$work/zookeeper.properties" >"$work/zookeeper.log" 2>&1 &
zk_pid=$!
wait_for "$work/zookeeper.log" "listening on" 30 "$zk_pid" zookeeper-lite
grep -F "listening on" "$work/zookeeper.log"

say "Terminal 2: scripts/kafka-server-start.sh config/server.properties"
scripts/kafka-server-start.sh config/server.properties --override "log.dirs=$work/kafka-logs" >"$work/server.log" 2>&1 &
broker_pid=$!
wait_for "$work/server.log" "[KafkaServer id=0] started" 60 "$broker_pid" broker
grep -F "[KafkaServer id=0] started" "$work/server.log"

say "Create a topic with 3 partitions"
run scripts/kafka-topics.sh --bootstrap-server localhost:9092 --create --topic vmc-topic -partitions 3 --replication-factor 1

say "List topics"
run scripts/kafka-topics.sh --bootstrap-server localhost:9092 --list

say "Describe it"
run scripts/kafka-topics.sh --bootstrap-server localhost:9092 --describe --topic vmc-topic

say "Produce three records"
printf '$ %s\n' "printf 'a\\nb\\nc\\n' | scripts/kafka-console-producer.sh --broker-list localhost:9092 --topic vmc-topic"
printf 'a\nb\nc\n' | scripts/kafka-console-producer.sh --broker-list localhost:9092 --topic vmc-topic

say "Consume them from the beginning (stops after 3 records; interactively you would press Ctrl-C)"
run scripts/kafka-console-consumer.sh --bootstrap-server localhost:9092 --topic vmc-topic --from-beginning --max-messages 3 --timeout-ms 30000

say "Quickstart completed"
