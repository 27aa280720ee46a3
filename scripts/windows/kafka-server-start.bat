@echo off
rem Windows counterpart of scripts/kafka-server-start.sh: runs broker through cargo (release build).
rem Run from anywhere; the workspace is found relative to this file.
IF [%1] EQU [] (
  echo USAGE: %0 server.properties [--override property=value]*
  EXIT /B 1
)
cargo run --release -q --manifest-path "%~dp0..\..\Cargo.toml" -p broker -- %*
EXIT /B %ERRORLEVEL%
