@echo off
rem Windows counterpart of scripts/kafka-delete-records.sh: runs kafka-delete-records through cargo (release build).
rem Run from anywhere; the workspace is found relative to this file.
cargo run --release -q --manifest-path "%~dp0..\..\Cargo.toml" -p kafka-delete-records -- %*
EXIT /B %ERRORLEVEL%
