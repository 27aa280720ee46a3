"""This machine's own limits, measured in the same run as the benchmarks they bound, printed as
one JSON object:

  tcp_loopback_mib_s     one TCP stream over 127.0.0.1: a sender process writes 1 MiB buffers,
                         a receiver process reads them (about 2 GiB or 3 s, whichever is first)
  write_fdatasync_mib_s  sequential 1 MiB writes to a new file, fdatasync after each
  write_buffered_mib_s   the same writes without any sync: what the page cache absorbs
  fsync_ops_s            4 KiB appended + fdatasync, one after the other (ops/s)

usage: limits.py [--dir DIR] [--seconds S] [--quick]

DIR (default $TMPDIR or /tmp) must be on the file system of the broker data directories; the
scratch files go in a temporary directory inside it and are deleted. The JSON also names the
device and mount point under DIR (from /proc/self/mountinfo) so a reader can check that.
--quick shortens every measurement to about a second.
"""

import argparse
import json
import os
import socket
import sys
import tempfile
import time
from multiprocessing import Process

MIB = 1 << 20


def tcp_loopback(seconds, max_bytes):
    """MiB/s of one TCP stream over loopback between two processes (so neither the GIL nor one
    core's share of both ends limits it more than the kernel does)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def send():
        s = socket.create_connection(("127.0.0.1", port))
        buf = os.urandom(MIB)
        deadline = time.perf_counter() + seconds
        sent = 0
        while sent < max_bytes and time.perf_counter() < deadline:
            s.sendall(buf)
            sent += MIB
        s.close()

    sender = Process(target=send)
    sender.start()
    conn, _ = server.accept()
    buf = bytearray(MIB)
    view = memoryview(buf)
    received = 0
    start = None
    while True:
        n = conn.recv_into(view)
        if n == 0:
            break
        if start is None:
            start = time.perf_counter()
        received += n
    elapsed = time.perf_counter() - start
    conn.close()
    server.close()
    sender.join()
    return received / MIB / elapsed, received, elapsed


def sequential_write(directory, seconds, max_bytes, sync):
    """MiB/s of 1 MiB sequential writes to a new file, with an fdatasync after each if `sync`."""
    buf = os.urandom(MIB)
    fd, path = tempfile.mkstemp(dir=directory, prefix="limits-write.")
    try:
        written = 0
        start = time.perf_counter()
        deadline = start + seconds
        while written < max_bytes and time.perf_counter() < deadline:
            os.write(fd, buf)
            if sync:
                os.fdatasync(fd)
            written += MIB
        elapsed = time.perf_counter() - start
    finally:
        os.close(fd)
        os.unlink(path)
    return written / MIB / elapsed, written, elapsed


def fsync_rate(directory, seconds, max_ops):
    """Appends of 4 KiB, each followed by fdatasync: what one fsync costs, as ops/s."""
    buf = os.urandom(4096)
    fd, path = tempfile.mkstemp(dir=directory, prefix="limits-fsync.")
    try:
        ops = 0
        start = time.perf_counter()
        deadline = start + seconds
        while ops < max_ops and time.perf_counter() < deadline:
            os.write(fd, buf)
            os.fdatasync(fd)
            ops += 1
        elapsed = time.perf_counter() - start
    finally:
        os.close(fd)
        os.unlink(path)
    return ops / elapsed, ops, elapsed


def mount_of(path):
    """(device, mount point, fs type) of the mount holding `path`."""
    path = os.path.realpath(path)
    best = ("?", "/", "?")
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            mount_point = fields[4]
            sep = fields.index("-")
            fstype, device = fields[sep + 1], fields[sep + 2]
            inside = path == mount_point or path.startswith(mount_point.rstrip("/") + "/")
            if inside and len(mount_point) >= len(best[1]):
                best = (device, mount_point, fstype)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default=os.environ.get("TMPDIR") or "/tmp")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seconds = 1.0 if args.quick else args.seconds
    scratch = tempfile.mkdtemp(dir=args.dir, prefix="bench-limits.")
    try:
        tcp, tcp_bytes, tcp_s = tcp_loopback(seconds, 2 << 30)
        synced, synced_bytes, synced_s = sequential_write(scratch, seconds, 1 << 30, True)
        buffered, buffered_bytes, buffered_s = sequential_write(scratch, seconds, 2 << 30, False)
        fsyncs, fsync_ops, fsync_s = fsync_rate(scratch, seconds, 100000)
    finally:
        os.rmdir(scratch)
    device, mount_point, fstype = mount_of(args.dir)
    print(
        json.dumps(
            {
                "tcp_loopback_mib_s": round(tcp, 1),
                "write_fdatasync_mib_s": round(synced, 1),
                "write_buffered_mib_s": round(buffered, 1),
                "fsync_ops_s": round(fsyncs, 1),
                "detail": {
                    "tcp": {"bytes": tcp_bytes, "seconds": round(tcp_s, 3)},
                    "write_fdatasync": {"bytes": synced_bytes, "seconds": round(synced_s, 3)},
                    "write_buffered": {"bytes": buffered_bytes, "seconds": round(buffered_s, 3)},
                    "fsync": {"ops": fsync_ops, "seconds": round(fsync_s, 3)},
                    "dir": os.path.realpath(args.dir),
                    "device": device,
                    "mount_point": mount_point,
                    "fs_type": fstype,
                },
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
