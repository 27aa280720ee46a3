"""Offset commits a second through the two stores a broker has: OffsetCommit v2 (the group's
coordinator appends to `__consumer_offsets`, acks=all, many commits grouped per fsync) and
OffsetCommit v0 (zookeeper-lite's journal, one fsync per commit: the path every commit took before
`__consumer_offsets`, and the one Kafka 3.9 still takes for v0, in ZooKeeper).

usage: python3 bench/offset_commits.py <bootstrap host:port> [connections=16] [seconds=10]

Each connection is one "consumer" of its own group committing 3 partitions of topic
`bench-commits` (created beforehand: kafka-topics --create --topic bench-commits --partitions 3)
in a request/response loop. Prints commits/s per version. Raw sockets, no client library.
"""

import socket
import struct
import sys
import threading
import time

TOPIC = "bench-commits"


def string(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def request(api_key, version, correlation, body):
    header = struct.pack(">hhi", api_key, version, correlation) + string("bench")
    frame = header + body
    return struct.pack(">i", len(frame)) + frame


def read_frame(sock):
    size = b""
    while len(size) < 4:
        chunk = sock.recv(4 - len(size))
        if not chunk:
            raise ConnectionError("closed")
        size += chunk
    (n,) = struct.unpack(">i", size)
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def commit_body(version, group, offset):
    parts = struct.pack(">i", 3) + b"".join(
        struct.pack(">iq", p, offset) + string("") for p in range(3))
    topics = struct.pack(">i", 1) + string(TOPIC) + parts
    if version == 0:
        return string(group) + topics
    # v2: generation -1, no member (a "simple" commit), retention -1.
    return string(group) + struct.pack(">i", -1) + string("") + struct.pack(">q", -1) + topics


def errors_of(frame):
    # correlation id, [topic [partition error]]
    pos = 4
    (topics,) = struct.unpack_from(">i", frame, pos)
    pos += 4
    errors = []
    for _ in range(topics):
        (n,) = struct.unpack_from(">h", frame, pos)
        pos += 2 + n
        (parts,) = struct.unpack_from(">i", frame, pos)
        pos += 4
        for _ in range(parts):
            _, err = struct.unpack_from(">ih", frame, pos)
            pos += 6
            errors.append(err)
    return errors


def coordinator(bootstrap, group):
    host, port = bootstrap.rsplit(":", 1)
    deadline = time.time() + 30
    while True:
        with socket.create_connection((host, int(port))) as s:
            s.sendall(request(10, 0, 1, string(group)))
            frame = read_frame(s)
        err, node, n = struct.unpack_from(">hih", frame, 4)
        if err == 0:
            h = frame[12:12 + n].decode()
            (p,) = struct.unpack_from(">i", frame, 12 + n)
            return h, p
        if time.time() > deadline:
            raise RuntimeError(f"no coordinator for {group}: error {err}")
        time.sleep(0.2)


def run(bootstrap, version, connections, seconds):
    counts = [0] * connections
    failures = [0] * connections
    stop = time.time() + seconds

    def worker(i):
        group = f"bench-v{version}-{i}"
        addr = coordinator(bootstrap, group) if version > 0 else tuple(bootstrap.rsplit(":", 1))
        with socket.create_connection((addr[0], int(addr[1]))) as s:
            correlation = 0
            warm = False  # until the first commit lands (the group's partition may be loading)
            while time.time() < stop:
                correlation += 1
                s.sendall(request(8, version, correlation, commit_body(version, group, correlation)))
                errors = errors_of(read_frame(s))
                if not any(errors):
                    warm = True
                    counts[i] += 1
                elif warm:
                    failures[i] += 1
                else:
                    time.sleep(0.05)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    started = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - started
    return sum(counts) / elapsed, sum(failures)


def main():
    bootstrap = sys.argv[1]
    connections = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 10
    for version, store in ((2, "__consumer_offsets"), (0, "zookeeper-lite")):
        rate, failed = run(bootstrap, version, connections, seconds)
        print(f"OffsetCommit v{version} ({store}): {rate:.0f} commits/s "
              f"({connections} connections, {failed} failed)", flush=True)


if __name__ == "__main__":
    main()
