@echo off
rem Windows counterpart of scripts/zookeeper-server-stop.sh: stops running zookeeper-lite servers.
taskkill /IM zookeeper-lite.exe >NUL 2>&1
IF %ERRORLEVEL% NEQ 0 (
  echo No zookeeper server to stop
  EXIT /B 1
)
