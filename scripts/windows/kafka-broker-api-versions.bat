@echo off
rem Windows counterpart of scripts/kafka-broker-api-versions.sh: runs kafka-broker-api-versions through cargo (release build).
rem Run from anywhere; the workspace is found relative to this file.
cargo run --release -q --manifest-path "%~dp0..\..\Cargo.toml" -p kafka-broker-api-versions -- %*
EXIT /B %ERRORLEVEL%
