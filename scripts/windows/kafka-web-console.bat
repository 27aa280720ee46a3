@echo off
rem Windows counterpart of scripts/kafka-web-console.sh: runs kafka-web-console through cargo (release build).
rem Run from anywhere; the workspace is found relative to this file.
cargo run --release -q --manifest-path "%~dp0..\..\Cargo.toml" -p kafka-web-console -- %*
EXIT /B %ERRORLEVEL%
