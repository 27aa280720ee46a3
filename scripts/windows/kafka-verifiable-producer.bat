@echo off
rem Windows counterpart of scripts/kafka-verifiable-producer.sh: runs kafka-verifiable-producer through cargo (release build).
rem Run from anywhere; the workspace is found relative to this file.
cargo run --release -q --manifest-path "%~dp0..\..\Cargo.toml" -p kafka-verifiable-producer -- %*
EXIT /B %ERRORLEVEL%
