@echo off
rem Windows counterpart of scripts/kafka-cluster.sh: runs kafka-cluster through cargo (release build).
rem Run from anywhere; the workspace is found relative to this file.
cargo run --release -q --manifest-path "%~dp0..\..\Cargo.toml" -p kafka-cluster -- %*
EXIT /B %ERRORLEVEL%
