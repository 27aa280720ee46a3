#!/usr/bin/env bash
# Shared by kafka-server-stop.sh and zookeeper-server-stop.sh: sends SIGTERM to the
# running processes of one of this checkout's binaries, the way Kafka's stop
# scripts signal every `kafka.Kafka` JVM. A process matches when its executable
# is this checkout's binary (target/release, target/debug, or $KAFKA_BIN_DIR when
# set), so servers of another checkout are left alone.
# Usage: stop-common.sh <binary> <message when none runs>
set -uo pipefail
name="$1"
none_msg="$2"
base_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$base_dir/target}"

candidates=()
if [ -n "${KAFKA_BIN_DIR:-}" ]; then
  candidates+=("$(cd "$KAFKA_BIN_DIR" 2>/dev/null && pwd)/$name")
else
  candidates+=("$target_dir/release/$name" "$target_dir/debug/$name")
fi

pids=()
for proc in /proc/[0-9]*; do
  exe="$(readlink "$proc/exe" 2>/dev/null)" || continue
  # A binary rebuilt while running shows as "<path> (deleted)".
  exe="${exe% (deleted)}"
  for c in "${candidates[@]}"; do
    if [ "$exe" = "$c" ]; then
      pids+=("${proc#/proc/}")
    fi
  done
done

if [ ${#pids[@]} -eq 0 ]; then
  echo "$none_msg"
  exit 1
fi
kill -s TERM "${pids[@]}"
