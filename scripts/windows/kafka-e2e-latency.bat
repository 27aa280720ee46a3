@echo off
rem Windows counterpart of scripts/kafka-e2e-latency.sh: runs kafka-e2e-latency through cargo (release build).
rem Run from anywhere; the workspace is found relative to this file.
cargo run --release -q --manifest-path "%~dp0..\..\Cargo.toml" -p kafka-perf-tools --bin kafka-e2e-latency -- %*
EXIT /B %ERRORLEVEL%
