@echo off
rem Windows counterpart of scripts/kafka-reassign-partitions.sh: runs kafka-reassign-partitions through cargo (release build).
rem Run from anywhere; the workspace is found relative to this file.
cargo run --release -q --manifest-path "%~dp0..\..\Cargo.toml" -p kafka-reassign-partitions -- %*
EXIT /B %ERRORLEVEL%
