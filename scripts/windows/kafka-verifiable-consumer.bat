@echo off
rem Windows counterpart of scripts/kafka-verifiable-consumer.sh: runs kafka-verifiable-consumer through cargo (release build).
rem Run from anywhere; the workspace is found relative to this file.
cargo run --release -q --manifest-path "%~dp0..\..\Cargo.toml" -p kafka-verifiable-consumer -- %*
EXIT /B %ERRORLEVEL%
