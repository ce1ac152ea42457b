"""CPU-bound work in Python threads: the CRC-32 of each file, sequential and in a ThreadPoolExecutor.

Run by `cargo run --release -p threads` for the Python rows of its checksum table; alone:
    python3 scripts/python/threads_cpu.py --threads 2 --runs 3 --file a.jpeg --file b.jpeg

Two kinds of work, the same numbers (zlib's CRC-32, which the Rust side computes too):

- "CRC-32 loop": the byte-at-a-time table loop in pure Python. Every step runs in the
  interpreter and holds the GIL, so N threads take turns: no speed-up.
- "zlib.crc32": the same checksum in C. CPython releases the GIL while zlib works on a large
  buffer (as Pillow does while it decodes and resizes), so threads do overlap.

A file that cannot be read gives 2**32, which no CRC-32 is (the Rust side's mark too).
"""

import argparse
import sys
import zlib
from concurrent.futures import ThreadPoolExecutor

from _measure import main

NO_CRC = 1 << 32


def make_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (0xEDB88320 ^ (c >> 1)) if c & 1 else (c >> 1)
        table.append(c)
    return table


TABLE = make_table()


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def crc_loop(path):
    data = read(path)
    if data is None:
        return NO_CRC
    table = TABLE
    crc = 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def crc_zlib(path):
    data = read(path)
    return NO_CRC if data is None else zlib.crc32(data)


def sequential(work, files):
    return lambda: [work(f) for f in files]


def thread_pool(work, files, workers):
    def run():
        with ThreadPoolExecutor(max_workers=workers) as executor:
            return list(executor.map(work, files))

    return run


def threads_label(n):
    return "1 thread" if n == 1 else f"{n} threads"


def approaches(max_threads):
    table = {}
    for kind, work in (("CRC-32 loop", crc_loop), ("zlib.crc32", crc_zlib)):
        table[f"{kind}, sequential"] = lambda a, work=work: sequential(work, a.file)
        for n in range(1, max_threads + 1):
            table[f"{kind}, {threads_label(n)}"] = lambda a, work=work, n=n: thread_pool(work, a.file, n)
    return table


def add_arguments(parser):
    parser.add_argument("--threads", type=int, default=2, help="thread counts 1..N")
    parser.add_argument("--file", action="append", default=[], help="an input file (repeatable, in order)")


if __name__ == "__main__":
    # The approaches' names depend on --threads: read it before the harness parses the rest.
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--threads", type=int, default=2)
    known, _ = early.parse_known_args(sys.argv[1:])
    main(__doc__.splitlines()[0], approaches(max(1, known.threads)), add_arguments)
