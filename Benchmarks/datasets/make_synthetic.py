#!/usr/bin/env python3
"""Synthetic ANN data sets with a fixed seed, written to Benchmarks/data/ (ignored by git).

    python3 Benchmarks/datasets/make_synthetic.py --n 1000000 --d 128 --nq 1000            # clustered
    python3 Benchmarks/datasets/make_synthetic.py --n 1000000 --d 128 --nq 1000 --kind normal

clustered (the default): `--clusters` centres drawn from N(0, I_d); each vector (base and query
alike) picks a centre uniformly and adds N(0, spread² I_d) noise. With d = 128, spread 0.5, the
centres are ≈ 16 apart and a cluster's radius is ≈ 5.7, so the clusters are well separated and
the neighbours of a query lie in its own cluster: the shape of real embeddings that IVF and HNSW
are built for. normal: every vector is N(0, I_d), as Benchmarks/compare_faiss.py uses for exact
search; nearly uniform in 128 dimensions, so it is the hardest case for an approximate index.

Queries come from the same distribution but another random stream, so they are not base vectors.
Prints the two paths; an existing file is kept.
"""
import argparse
import os
import sys

import numpy as np

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")


def paths(kind, n, d, nq, clusters, spread, seed):
    tag = f"clustered{clusters}sd{spread:g}" if kind == "clustered" else "normal"
    return (os.path.join(DATA, f"{tag}_base_{n}x{d}_s{seed}.npy"),
            os.path.join(DATA, f"{tag}_queries_{nq}x{d}_s{seed}.npy"))


def generate(kind="clustered", n=1_000_000, d=128, nq=1000, clusters=1000, spread=0.5, seed=1):
    """Writes the base and query files unless present; returns their paths."""
    os.makedirs(DATA, exist_ok=True)
    base_path, query_path = paths(kind, n, d, nq, clusters, spread, seed)
    centres = np.random.default_rng(seed).standard_normal((clusters, d), dtype=np.float32)
    for path, count, stream in ((base_path, n, 1), (query_path, nq, 2)):
        if os.path.exists(path):
            continue
        rng = np.random.default_rng([seed, stream])
        out = np.empty((count, d), dtype=np.float32)
        for start in range(0, count, 100_000):  # in blocks: 1M × 128 needs no temporary copies
            block = out[start:start + 100_000]
            block[:] = rng.standard_normal(block.shape, dtype=np.float32)
            if kind == "clustered":
                block *= spread
                block += centres[rng.integers(0, clusters, len(block))]
        np.save(path + ".tmp.npy", out)
        os.replace(path + ".tmp.npy", path)
    return base_path, query_path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", choices=["clustered", "normal"], default="clustered")
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--nq", type=int, default=1000)
    ap.add_argument("--clusters", type=int, default=1000)
    ap.add_argument("--spread", type=float, default=0.5, help="noise standard deviation around a centre")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    for p in generate(args.kind, args.n, args.d, args.nq, args.clusters, args.spread, args.seed):
        print(p)


if __name__ == "__main__":
    sys.exit(main())
