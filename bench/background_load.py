"""The background load of issue 12's goals, one process per kind, until killed:

    .venv/bin/python bench/background_load.py cpu|memory|disk [--scratch DIR]

- cpu: one core busy hashing (SHA-256), as a CPU-bound job would be;
- memory: copying a 256 MiB buffer over and over, well past the last-level cache (memory bandwidth taken away);
- disk: 1 MiB direct-I/O (O_DIRECT) writes over a 256 MiB file in --scratch, fsynced every 64 MiB, as a backup or a
  database flushing would (the file is removed when the process is stopped with SIGTERM or SIGINT).

bench/detection.sh starts the three beside `manage.py measure_detection` and stops them by their process ids.
"""
from __future__ import annotations

import argparse
import hashlib
import mmap
import os
import signal
import sys
import tempfile

MiB = 1024 * 1024


def cpu() -> None:
    block = os.urandom(64 * 1024)
    while True:
        hashlib.sha256(block).digest()


def memory() -> None:
    src, dst = bytearray(os.urandom(MiB) * 256), bytearray(256 * MiB)
    while True:
        dst[:] = src


def disk(scratch: str) -> None:
    os.makedirs(scratch, exist_ok=True)
    fd, path = tempfile.mkstemp(prefix="dam-background-", dir=scratch)
    os.close(fd)

    def stop(*_):
        os.unlink(path)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    flags = os.O_WRONLY | getattr(os, "O_DIRECT", 0)
    fd = os.open(path, flags)
    block = mmap.mmap(-1, MiB)  # page-aligned, as O_DIRECT needs
    block.write(os.urandom(MiB))
    size, offset = 256 * MiB, 0
    while True:
        os.pwrite(fd, block, offset)
        offset = (offset + MiB) % size
        if offset % (64 * MiB) == 0:
            os.fsync(fd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("cpu", "memory", "disk"))
    parser.add_argument("--scratch", default=tempfile.gettempdir())
    args = parser.parse_args()
    if args.kind == "disk":
        disk(args.scratch)
    else:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        {"cpu": cpu, "memory": memory}[args.kind]()


if __name__ == "__main__":
    main()
