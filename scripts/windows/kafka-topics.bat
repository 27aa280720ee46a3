@echo off
rem Windows counterpart of scripts/kafka-topics.sh: runs kafka-topics through cargo (release build).
rem Run from anywhere; the workspace is found relative to this file.
cargo run --release -q --manifest-path "%~dp0..\..\Cargo.toml" -p kafka-topics -- %*
EXIT /B %ERRORLEVEL%
