@echo off
rem Windows counterpart of scripts/zookeeper-server-start.sh: runs zookeeper-lite through cargo (release build).
rem Run from anywhere; the workspace is found relative to this file.
IF [%1] EQU [] (
  echo USAGE: %0 zookeeper.properties
  EXIT /B 1
)
cargo run --release -q --manifest-path "%~dp0..\..\Cargo.toml" -p zookeeper-lite -- %*
EXIT /B %ERRORLEVEL%
