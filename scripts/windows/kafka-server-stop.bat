@echo off
rem Windows counterpart of scripts/kafka-server-stop.sh: stops running brokers.
rem Like Kafka's bin\windows stop scripts (wmic ... delete) this ends the process outright: Windows
rem has no SIGTERM. Acknowledged records are safe: they were fsynced (log.flush.interval.messages=1).
taskkill /F /IM broker.exe >NUL 2>&1
IF %ERRORLEVEL% NEQ 0 (
  echo No kafka server to stop
  EXIT /B 1
)
