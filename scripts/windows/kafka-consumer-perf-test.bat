@echo off
rem Windows counterpart of scripts/kafka-consumer-perf-test.sh: runs kafka-consumer-perf-test through cargo (release build).
rem Run from anywhere; the workspace is found relative to this file.
cargo run --release -q --manifest-path "%~dp0..\..\Cargo.toml" -p kafka-perf-tools --bin kafka-consumer-perf-test -- %*
EXIT /B %ERRORLEVEL%
