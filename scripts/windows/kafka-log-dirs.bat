@echo off
rem Windows counterpart of scripts/kafka-log-dirs.sh: runs kafka-log-dirs through cargo (release build).
rem Run from anywhere; the workspace is found relative to this file.
cargo run --release -q --manifest-path "%~dp0..\..\Cargo.toml" -p kafka-log-dirs -- %*
EXIT /B %ERRORLEVEL%
