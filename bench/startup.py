"""Broker start to first answered request, for bench/run.sh: picks a free loopback port, spawns
the broker on it, and polls (connect, then an ApiVersions v0 request over a raw socket) until the
first answer with the request's correlation id. Prints one JSON object:

  {"ms": <spawn to first answer>, "port": <p>, "attempts": <connects tried>}

then stops the broker (SIGTERM, then SIGKILL after 30 s) and exits.

usage: startup.py --broker BIN --config FILE --log LOG [--timeout S] [--override k=v ...]

The overrides (broker.id, log.dirs, zookeeper.connect, ...) are passed on as the broker's own
--override arguments, after listeners=PLAINTEXT://127.0.0.1:<port>. The port is bound and released
just before the spawn (a tiny race with other programs picking ports, as any free-port helper
has). Each poll waits 1 ms after a refused connect. Clock: perf_counter, from just before the
spawn.
"""

import argparse
import json
import socket
import struct
import subprocess
import sys
import time

CORRELATION_ID = 0x0BE7C4


def api_versions_v0():
    """An ApiVersions v0 request: request header v1 (api key 18, version 0, correlation id,
    client id) and an empty body."""
    client_id = b"bench-startup"
    body = struct.pack(">hhih", 18, 0, CORRELATION_ID, len(client_id)) + client_id
    return struct.pack(">i", len(body)) + body


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def try_once(port):
    """True when the broker on `port` answered an ApiVersions request."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(api_versions_v0())
        size = struct.unpack(">i", recv_exact(sock, 4))[0]
        frame = recv_exact(sock, size)
        return struct.unpack(">i", frame[:4])[0] == CORRELATION_ID


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--broker", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--override", action="append", default=[])
    args = parser.parse_args()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [args.broker, args.config, "--override", f"listeners=PLAINTEXT://127.0.0.1:{port}"]
    for kv in args.override:
        command += ["--override", kv]
    with open(args.log, "wb") as log:
        start = time.perf_counter()
        broker = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    attempts = 0
    answered = None
    try:
        while time.perf_counter() - start < args.timeout:
            attempts += 1
            try:
                if try_once(port):
                    answered = time.perf_counter()
                    break
            except (ConnectionError, OSError):
                pass
            if broker.poll() is not None:
                print(f"the broker exited ({broker.returncode}); see {args.log}", file=sys.stderr)
                return 1
            time.sleep(0.001)
    finally:
        if broker.poll() is None:
            broker.terminate()
            try:
                broker.wait(30)
            except subprocess.TimeoutExpired:
                broker.kill()
                broker.wait()
    if answered is None:
        print(f"no answer within {args.timeout} s; see {args.log}", file=sys.stderr)
        return 1
    ms = round((answered - start) * 1000, 2)
    print(json.dumps({"ms": ms, "port": port, "attempts": attempts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
