@echo off
rem Windows counterpart of scripts/kafka-console-consumer.sh: runs kafka-console-consumer through cargo (release build).
rem Run from anywhere; the workspace is found relative to this file.
cargo run --release -q --manifest-path "%~dp0..\..\Cargo.toml" -p kafka-console-consumer -- %*
EXIT /B %ERRORLEVEL%
