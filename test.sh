#!/usr/bin/env bash
# The whole test suite in one command: installs what the tests need (kcat, the Python clients
# in .venv, Chromium and the npm packages), builds every binary (the end-to-end tests run
# target/debug/*), then runs every unit, integration and end-to-end test of the workspace, and
# prints the totals.
#
# With cargo-nextest (on this project's machines), the test binaries run side by side, two
# tests at a time as `cargo test` runs them within one binary, so librdkafka's long suite no
# longer holds up every other file; without it, `cargo test` runs them one after another.
set -euo pipefail
cd "$(dirname "$0")"
# One clean build needs no incremental caches, and they are most of a debug target's size;
# export CARGO_INCREMENTAL=1 to keep them.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
scripts/install-test-deps.sh
echo "==> disk before the build: $(df -h . | awk 'NR == 2 { print $4 " free of " $2 }')"
# The binaries and the test targets in one build, so that both see the same features (the
# dev-dependencies' ones): built apart, every crate under tokio was compiled twice.
cargo build --workspace --bins --tests --examples
echo "==> disk after the build: $(df -h . | awk 'NR == 2 { print $4 " free of " $2 }'), target/ $(du -sh target | cut -f1)"

log="$(mktemp "${TMPDIR:-/tmp}/kafka-tests.XXXXXX")"
trap 'rm -f "$log"' EXIT
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast 2>&1 | tee "$log"
  cargo test --workspace --doc 2>&1 | tee -a "$log"
else
  cargo test --workspace 2>&1 | tee "$log"
fi

# One closing line for the whole run: nextest's summary ("N tests run: N passed, K skipped")
# and cargo's per-binary lines (doc tests, or every binary without nextest).
awk '/tests run:/ {
       for (i = 1; i <= NF; i++) {
         if ($(i+1) ~ /^passed/) p += $i
         if ($(i+1) ~ /^failed/) f += $i
         if ($(i+1) ~ /^skipped/) s += $i
       }
     }
     /^test result:/ {
       for (i = 1; i <= NF; i++) {
         if ($(i+1) ~ /^passed/) p += $i
         if ($(i+1) ~ /^failed/) f += $i
         if ($(i+1) ~ /^ignored/) s += $i
       }
     }
     END { printf "total: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
