"""Shared by the round-trip scripts: the records each codec sends and the comparison."""

import sys
import time

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
PER_CODEC = 25
DEADLINE_S = 60


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def records_for(codec):
    """(key, value, headers) triples: keyed and unkeyed records, a null value, empty and
    repeated headers, values long enough for compression to matter."""
    out = []
    for i in range(PER_CODEC):
        key = f"{codec}-key-{i % 7}".encode() if i % 5 != 4 else None
        if i == 3:
            value = None
        else:
            value = (f"{codec}-value-{i}-" + "x" * (i * 13)).encode()
        headers = [("codec", codec.encode()), ("i", str(i).encode())]
        if i % 3 == 0:
            headers.append(("empty", b""))
            headers.append(("codec", b"again"))
        out.append((key, value, headers))
    return out


def compare(expected, got, label):
    """expected, got: dict (partition, offset) -> (key, value, headers)."""
    missing = [po for po in expected if po not in got]
    if missing:
        fail(f"{label}: {len(missing)} acknowledged records not read back, e.g. {missing[:5]}")
    for po, want in expected.items():
        if got[po] != want:
            fail(f"{label}: record at partition {po[0]} offset {po[1]}: wrote {want!r}, read {got[po]!r}")


def deadline():
    return time.monotonic() + DEADLINE_S
