"""What reading a file and checksumming it costs here, the floor for recovering a log segment:
reads FILE in 1 MiB chunks into one buffer and runs CRC-32 (zlib's, table- or carry-less-multiply
based; the broker's CRC-32C uses the SSE4.2 instruction, the same order of speed) over every
byte. Prints one JSON object:

  {"ms": <elapsed>, "bytes": <file size>, "mib_s": <rate>, "crc32": <value>}

usage: read_crc.py FILE

Run it when the file is in the same cache state as for the recovery it is compared with (here:
just written, so in the page cache, as the restarted broker finds it).
"""

import json
import sys
import time
import zlib

CHUNK = 1 << 20


def main():
    path = sys.argv[1]
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    crc = 0
    total = 0
    start = time.perf_counter()
    with open(path, "rb", buffering=0) as f:
        while True:
            n = f.readinto(view)
            if not n:
                break
            crc = zlib.crc32(view[:n], crc)
            total += n
    elapsed = time.perf_counter() - start
    print(
        json.dumps(
            {
                "ms": round(elapsed * 1000, 1),
                "bytes": total,
                "mib_s": round(total / (1 << 20) / elapsed, 1),
                "crc32": crc,
            }
        )
    )


if __name__ == "__main__":
    main()
