@echo off
rem Windows counterpart of scripts/kafka-transactions.sh: runs kafka-transactions through cargo (release build).
rem Run from anywhere; the workspace is found relative to this file.
cargo run --release -q --manifest-path "%~dp0..\..\Cargo.toml" -p kafka-transactions -- %*
EXIT /B %ERRORLEVEL%
