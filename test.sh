#!/usr/bin/env bash
# The whole test suite in one command: installs what the tests need (kcat, the Python clients
# in .venv), builds every binary (the end-to-end tests run target/debug/*), then runs every
# unit, integration and end-to-end test of the workspace, and prints the totals.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-test-deps.sh
cargo build --workspace

log="$(mktemp "${TMPDIR:-/tmp}/kafka-tests.XXXXXX")"
trap 'rm -f "$log"' EXIT
cargo test --workspace 2>&1 | tee "$log"

# One closing line for the whole run (cargo prints one per test binary, the last of which is
# often an empty doc-test run).
awk '/^test result:/ {
       for (i = 1; i <= NF; i++) {
         if ($(i+1) ~ /^passed/) p += $i
         if ($(i+1) ~ /^failed/) f += $i
         if ($(i+1) ~ /^ignored/) s += $i
       }
     }
     END { printf "total: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
