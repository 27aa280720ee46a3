@echo off
rem Windows counterpart of scripts/kafka-consumer-groups.sh: runs kafka-consumer-groups through cargo (release build).
rem Run from anywhere; the workspace is found relative to this file.
cargo run --release -q --manifest-path "%~dp0..\..\Cargo.toml" -p kafka-consumer-groups -- %*
EXIT /B %ERRORLEVEL%
