@echo off
rem Windows counterpart of scripts/kafka-console-producer.sh: runs kafka-console-producer through cargo (release build).
rem Run from anywhere; the workspace is found relative to this file.
cargo run --release -q --manifest-path "%~dp0..\..\Cargo.toml" -p kafka-console-producer -- %*
EXIT /B %ERRORLEVEL%
