#!/usr/bin/env bash
# Runs one of this repository's binaries, as Kafka's bin/kafka-run-class.sh runs a
# Java class: kafka-run-class.sh [-daemon] [-name <logname>] <binary> [args...]
#
# Where the binary comes from, first match wins:
#   1. $KAFKA_BIN_DIR/<binary>            (the end-to-end tests set it to target/debug)
#   2. <repo>/target/release/<binary>     (what quickstart.sh and `cargo build --release` make)
#   3. <repo>/target/debug/<binary>
#   4. otherwise: cargo build --release -q -p <binary>, then 2.
# $CARGO_TARGET_DIR replaces <repo>/target when set.
#
# A Java class name instead of a binary (dotted, or starting with a capital letter, e.g.
# TransactionProducerCli or org.example.Tool) runs on a JVM as Kafka's script runs it: on
# $CLASSPATH followed by every jar of <base>/libs (where <base> is the directory above this
# script's bin/, e.g. a Kafka-style installation whose bin/ links to these scripts), with
# $KAFKA_HEAP_OPTS and $KAFKA_OPTS. librdkafka's test suite runs its Java helpers this way.
#
# -daemon: run in the background with nohup, output to $LOG_DIR/<logname>.out
# (LOG_DIR defaults to <repo>/logs), like Kafka's -daemon.
set -euo pipefail

base_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$base_dir/target}"

daemon=0
daemon_name=""
while [ $# -gt 0 ]; do
  case "$1" in
    -daemon) daemon=1; shift ;;
    -name) daemon_name="$2"; shift 2 ;;
    *) break ;;
  esac
done
if [ $# -lt 1 ]; then
  echo "USAGE: $0 [-daemon] [-name logname] binary [args...]" >&2
  exit 1
fi
name="$1"
shift

resolve_binary() {
  if [ -n "${KAFKA_BIN_DIR:-}" ]; then
    if [ -x "$KAFKA_BIN_DIR/$name" ]; then
      echo "$KAFKA_BIN_DIR/$name"
      return 0
    fi
    echo "$0: KAFKA_BIN_DIR=$KAFKA_BIN_DIR has no executable '$name' (build it with: cargo build -p $name)" >&2
    return 1
  fi
  if [ -x "$target_dir/release/$name" ]; then
    echo "$target_dir/release/$name"
  elif [ -x "$target_dir/debug/$name" ]; then
    echo "$target_dir/debug/$name"
  else
    # First use on a fresh checkout: build just this binary. Its output goes to
    # stderr so that it never mixes with what the tool prints on stdout.
    echo "Building $name (cargo build --release -p $name); this happens once." >&2
    cargo build --release -q -p "$name" --manifest-path "$base_dir/Cargo.toml" >&2
    echo "$target_dir/release/$name"
  fi
}

if [[ "$name" =~ ^([A-Za-z_][A-Za-z0-9_]*\.)*[A-Z][A-Za-z0-9_$]*$ ]]; then
  if ! command -v java >/dev/null 2>&1; then
    echo "$0: $name is a Java class, and java is not installed" >&2
    exit 1
  fi
  classpath="${CLASSPATH:-}"
  jars=0
  for jar in "$base_dir"/libs/*.jar; do
    [ -e "$jar" ] && classpath="${classpath:+$classpath:}$jar" && jars=$((jars + 1))
  done
  if [ "$jars" = 0 ]; then
    echo "$0: note: no jars in $base_dir/libs; $name must be on \$CLASSPATH" >&2
  fi
  # shellcheck disable=SC2206 # the options are word lists, as in Kafka's script
  cmd=(java ${KAFKA_HEAP_OPTS:-} ${KAFKA_OPTS:-} -cp "$classpath" "$name")
else
  cmd=("$(resolve_binary)")
fi

if [ "$daemon" = 1 ]; then
  log_dir="${LOG_DIR:-$base_dir/logs}"
  mkdir -p "$log_dir"
  out="$log_dir/${daemon_name:-$name}.out"
  nohup "${cmd[@]}" "$@" >"$out" 2>&1 </dev/null &
  echo "Started $name in the background (pid $!); output in $out" >&2
  exit 0
fi
exec "${cmd[@]}" "$@"
