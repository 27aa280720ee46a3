@echo off
rem Windows counterpart of scripts/kafka-server-stop.sh: stops running brokers.
taskkill /IM broker.exe >NUL 2>&1
IF %ERRORLEVEL% NEQ 0 (
  echo No kafka server to stop
  EXIT /B 1
)
