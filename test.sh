#!/usr/bin/env bash
# The whole test suite in one command: installs what the tests need (kcat, the Python clients
# in .venv), builds every binary (the end-to-end tests run target/debug/*), then runs every
# unit, integration and end-to-end test of the workspace.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-test-deps.sh
cargo build --workspace
cargo test --workspace
