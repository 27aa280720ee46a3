@echo off
rem Windows counterpart of scripts/kafka-dump-log.sh: runs kafka-dump-log through cargo (release build).
rem Run from anywhere; the workspace is found relative to this file.
cargo run --release -q --manifest-path "%~dp0..\..\Cargo.toml" -p kafka-dump-log -- %*
EXIT /B %ERRORLEVEL%
