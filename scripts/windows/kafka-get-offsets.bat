@echo off
rem Windows counterpart of scripts/kafka-get-offsets.sh: runs kafka-get-offsets through cargo (release build).
rem Run from anywhere; the workspace is found relative to this file.
cargo run --release -q --manifest-path "%~dp0..\..\Cargo.toml" -p kafka-get-offsets -- %*
EXIT /B %ERRORLEVEL%
