@echo off
rem Windows counterpart of scripts/kafka-leader-election.sh: runs kafka-leader-election through cargo (release build).
rem Run from anywhere; the workspace is found relative to this file.
cargo run --release -q --manifest-path "%~dp0..\..\Cargo.toml" -p kafka-leader-election -- %*
EXIT /B %ERRORLEVEL%
