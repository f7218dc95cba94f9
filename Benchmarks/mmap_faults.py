#!/usr/bin/env python3
"""What a page fault in a cold memory-mapped file reads, under each madvise advice.

    dd if=/dev/urandom of=/tmp/big.bin bs=1M count=1024
    for a in none huge huge+random random; do
        sync; echo 3 > /proc/sys/vm/drop_caches; python3 Benchmarks/mmap_faults.py /tmp/big.bin $a
    done

Maps FILE read-only, applies the advice (`none`, or any of `huge`, `random`, `nohuge` joined by
`+`), touches 500 random pages (seeded), and prints the time and how much of the file is now in
the page cache (`fincore`, util-linux). Linux only (Python 3.8+ for mmap.madvise).
"""
import mmap
import os
import random
import subprocess
import sys
import time

ADVICE = {"huge": "MADV_HUGEPAGE", "nohuge": "MADV_NOHUGEPAGE", "random": "MADV_RANDOM"}


def main():
    path, advice = sys.argv[1], sys.argv[2]
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
        for a in ([] if advice == "none" else advice.split("+")):
            m.madvise(getattr(mmap, ADVICE[a]))
        rng = random.Random(1)
        start = time.time()
        total = 0
        for _ in range(500):
            total += m[rng.randrange(0, size // 4096) * 4096]
        seconds = time.time() - start
    cached = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", path],
                            capture_output=True, text=True).stdout.strip()
    print(f"{advice}: 500 random faults in {seconds:.3f} s; {int(cached) / 1e6:.0f} MB of the file cached")


if __name__ == "__main__":
    main()
