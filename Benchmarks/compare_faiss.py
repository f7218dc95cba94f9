#!/usr/bin/env python3
"""Compare Quiver's exact search with FAISS (IndexFlat) on the same data and thread counts.

    pip install faiss-cpu==1.15.1 numpy
    python3 Benchmarks/compare_faiss.py --n 1000000 --d 128 --nq 1000 --metric ip --threads 2

Generates random float32 base and query vectors (fixed seed) into Benchmarks/data/, runs FAISS
(single queries for latency, then batches) and quiver-bench on the same files with the same
thread count, and prints both, the ratios, and whether the result ids agree.
Quiver's kernels are chosen at run time from the CPU's features (no build flags); set
`QUIVER_CPU=baseline` or `avx2` to cap the level. --swift-flags adds build flags to the
quiver-bench build (for example `-Xswiftc -Onone`).
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def generate(path_base, path_q, n, d, nq, seed):
    rng = np.random.default_rng(seed)
    if not os.path.exists(path_base):
        np.save(path_base, rng.standard_normal((n, d), dtype=np.float32))
    if not os.path.exists(path_q):
        np.save(path_q, rng.standard_normal((nq, d), dtype=np.float32))


def run_faiss(base, queries, metric, k, threads, batch):
    import faiss
    faiss.omp_set_num_threads(threads)
    d = base.shape[1]
    if metric == "l2":
        index = faiss.IndexFlatL2(d)
    else:
        index = faiss.IndexFlatIP(d)
        if metric == "cosine":
            base = base / np.maximum(np.linalg.norm(base, axis=1, keepdims=True), 1e-30)
            queries = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-30)
    index.add(base)
    lat = []
    ids = np.empty((len(queries), k), dtype=np.int64)
    dist = np.empty((len(queries), k), dtype=np.float32)
    t_single = time.perf_counter()
    for i in range(len(queries)):
        t0 = time.perf_counter()
        D, I = index.search(queries[i:i + 1], k)
        lat.append(time.perf_counter() - t0)
        ids[i] = I[0]
        dist[i] = D[0]
    t_single = time.perf_counter() - t_single
    t0 = time.perf_counter()
    for s in range(0, len(queries), batch):
        index.search(queries[s:s + batch], k)
    t_batch = time.perf_counter() - t0
    lat = np.sort(np.array(lat)) * 1000
    return {
        "qps_single": len(queries) / t_single,
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
        "qps_batch": len(queries) / t_batch,
    }, ids, dist


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--nq", type=int, default=1000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--metric", choices=["ip", "l2", "cosine"], default="ip")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--swift-flags", default="")
    args = ap.parse_args()

    data = os.path.join(HERE, "data")
    os.makedirs(data, exist_ok=True)
    base_path = os.path.join(data, f"base_{args.n}x{args.d}_s{args.seed}.npy")
    q_path = os.path.join(data, f"queries_{args.nq}x{args.d}_s{args.seed}.npy")
    generate(base_path, q_path, args.n, args.d, args.nq, args.seed)
    base, queries = np.load(base_path), np.load(q_path)

    faiss_stats, faiss_ids, faiss_dist = run_faiss(base, queries, args.metric, args.k, args.threads, args.batch)

    flags = args.swift_flags.split()
    subprocess.run(["swift", "build", "-c", "release", "--package-path", HERE, "--product", "quiver-bench"] + flags,
                   check=True, stdout=subprocess.DEVNULL)
    bin_path = subprocess.run(["swift", "build", "-c", "release", "--package-path", HERE, "--show-bin-path"] + flags,
                              check=True, capture_output=True, text=True).stdout.strip()
    ids_path = os.path.join(data, "quiver_ids.npy")
    dist_path = os.path.join(data, "quiver_distances.npy")
    out = subprocess.run(
        [os.path.join(bin_path, "quiver-bench"), "search", "--base", base_path, "--queries", q_path,
         "--metric", args.metric, "--k", str(args.k), "--threads", str(args.threads),
         "--batch", str(args.batch), "--result-ids", ids_path, "--result-distances", dist_path],
        check=True, capture_output=True, text=True).stdout
    quiver_stats = json.loads(out.strip().splitlines()[-1])
    quiver_ids = np.load(ids_path)
    quiver_dist = np.load(dist_path)

    same_rows = int((np.sort(quiver_ids, axis=1) == np.sort(faiss_ids, axis=1)).all(axis=1).sum())
    recall = float(np.mean([len(set(a) & set(b)) / args.k for a, b in zip(quiver_ids, faiss_ids)]))
    # Scores of the k-th best agree whatever ties did to the ids; FAISS's are squared L2 / inner products.
    rel = np.abs(quiver_dist.astype(np.float64) - faiss_dist) / np.maximum(np.abs(faiss_dist), 1e-30)
    report = {
        "n": args.n, "d": args.d, "nq": args.nq, "k": args.k, "metric": args.metric, "threads": args.threads,
        "faiss": faiss_stats, "quiver": quiver_stats,
        "ratio_qps_single": quiver_stats["qps_single"] / faiss_stats["qps_single"],
        "ratio_p50": quiver_stats["p50_ms"] / faiss_stats["p50_ms"],
        "ratio_qps_batch": quiver_stats["qps_batch"] / faiss_stats["qps_batch"],
        "ids_identical_queries": same_rows, "recall_vs_faiss": recall,
        "max_relative_distance_difference": float(rel.max()),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    sys.exit(main())
