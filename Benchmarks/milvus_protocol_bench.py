#!/usr/bin/env python3
"""The same pymilvus script against `quiver serve` and `milvus-lite server`, in one run on one
machine, plus Quiver's in-process search over the same vectors and index for what the server adds.

    bash scripts/test-pymilvus.sh -k nothing 2>/dev/null; # (or any way to get .venv-pymilvus)
    swift build -c release --product quiver
    swift build -c release --package-path Benchmarks --product quiver-bench
    .venv-pymilvus/bin/python Benchmarks/milvus_protocol_bench.py [--rows 100000] [--queries 1000]

For each server (fresh data directory, free loopback port, started and stopped here):
1. create a collection: id INT64 primary, vector FLOAT_VECTOR(128), tag INT64, price DOUBLE, with
   an AUTOINDEX L2 index (what each server applies to AUTOINDEX is its own choice and is reported
   from describe_index and measured as recall@10 against numpy's exact answer);
2. insert ROWS rows in batches of 1,000 dicts (wall time of the insert calls: rows/s);
3. flush, wait until describe_index reports every row indexed, and 2 s more (milvus-lite swaps
   its index in after reporting it done);
4. single-query search, top 10, no output fields: warm-up queries, then each query alone
   (p50, p99, queries/s);
5. filtered query `tag == T and price < 50.0` returning id and price (p50, p99), and a filtered
   search (`tag < 10`, top 10; p50, p99).
Then Quiver's in-process search: `quiver-bench search` over the same base and query vectors with
the same layout (one sealed segment, AUTOINDEX, L2, top 10, one query at a time).

The data: a seeded Gaussian (numpy), float32. Prints a Markdown table and, with --json, the raw
numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from pymilvus import DataType, MilvusClient

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "Tests" / "pymilvus"))
from servers import milvus_lite_command, quiver_binary, start_server  # noqa: E402

DIM, BATCH, K, COLLECTION = 128, 1000, 10, "bench"


def percentile(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, int(np.ceil(len(ordered) * p)) - 1))]


def exact_top_k(base, queries, k):
    """Exact L2 neighbours (squared distances), in blocks to bound memory."""
    norms = (base.astype(np.float64) ** 2).sum(axis=1)
    ids = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), 100):
        q = queries[start:start + 100].astype(np.float64)
        d = norms[None, :] - 2 * q @ base.T.astype(np.float64)
        part = np.argpartition(d, k, axis=1)[:, :k]
        order = np.take_along_axis(d, part, axis=1).argsort(axis=1)
        ids[start:start + 100] = np.take_along_axis(part, order, axis=1)
    return ids


def recall(found, exact):
    return float(np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact)]))


def bench_server(kind, root, base, tags, prices, queries, exact, warmup, quiver):
    server = start_server(kind, root, quiver=quiver)
    try:
        client = MilvusClient(uri=server.uri)
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=DIM)
        schema.add_field("tag", DataType.INT64)
        schema.add_field("price", DataType.DOUBLE)
        index = client.prepare_index_params()
        index.add_index("vector", index_type="AUTOINDEX", metric_type="L2")
        client.create_collection(COLLECTION, schema=schema, index_params=index,
                                 consistency_level="Strong")

        rows = len(base)
        batches = [[{"id": i, "vector": base[i].tolist(), "tag": int(tags[i]),
                     "price": float(prices[i])} for i in range(s, min(s + BATCH, rows))]
                   for s in range(0, rows, BATCH)]
        t0 = time.perf_counter()
        for batch in batches:
            client.insert(COLLECTION, batch)
        insert_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        client.flush(COLLECTION)
        deadline = time.monotonic() + 1800
        while True:
            described = client.describe_index(COLLECTION, "vector")
            if described["state"] == "Finished" and described.get("indexed_rows") == rows:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{kind}: index not built in 30 min: {described}")
            time.sleep(0.2)
        index_s = time.perf_counter() - t0
        time.sleep(2.0)

        for q in queries[:warmup]:
            client.search(COLLECTION, [q.tolist()], limit=K)
        latencies, found = [], []
        t_all = time.perf_counter()
        for q in queries:
            vector = q.tolist()
            t0 = time.perf_counter()
            hits = client.search(COLLECTION, [vector], limit=K)[0]
            latencies.append(time.perf_counter() - t0)
            found.append([h["id"] for h in hits])
        search_s = time.perf_counter() - t_all

        query_lat, query_rows = [], 0
        for t in range(100):
            t0 = time.perf_counter()
            result = client.query(COLLECTION, filter=f"tag == {t} and price < 50.0",
                                  output_fields=["id", "price"])
            query_lat.append(time.perf_counter() - t0)
            query_rows += len(result)
        filtered_search_lat = []
        for q in queries[:200]:
            vector = q.tolist()
            t0 = time.perf_counter()
            client.search(COLLECTION, [vector], limit=K, filter="tag < 10")
            filtered_search_lat.append(time.perf_counter() - t0)
        count = client.query(COLLECTION, filter="", output_fields=["count(*)"])[0]["count(*)"]
        client.close()
    finally:
        server.stop()
    return {
        "server": kind, "rows": rows, "count": count,
        "index_type": described["index_type"],
        "insert_rows_per_s": rows / insert_s, "insert_s": insert_s,
        "flush_and_index_s": index_s,
        "search_p50_ms": percentile(latencies, 0.5) * 1e3,
        "search_p99_ms": percentile(latencies, 0.99) * 1e3,
        "search_qps": len(queries) / search_s,
        "recall_at_10": recall(found, exact),
        "query_p50_ms": percentile(query_lat, 0.5) * 1e3,
        "query_p99_ms": percentile(query_lat, 0.99) * 1e3,
        "query_rows_avg": query_rows / len(query_lat),
        "filtered_search_p50_ms": percentile(filtered_search_lat, 0.5) * 1e3,
        "filtered_search_p99_ms": percentile(filtered_search_lat, 0.99) * 1e3,
    }


def bench_in_process(bench_binary, root, base, queries, exact, warmup):
    """`quiver-bench search` over the same vectors: one sealed segment, AUTOINDEX, L2, top 10."""
    base_path, query_path, ids_path = root / "base.npy", root / "queries.npy", root / "ids.npy"
    np.save(base_path, base)
    np.save(query_path, queries)
    out = subprocess.run(
        [str(bench_binary), "search", "--base", str(base_path), "--queries", str(query_path),
         "--metric", "l2", "--k", str(K), "--index", "autoindex", "--segment-rows", "0",
         "--batch", "0", "--warmup", str(warmup), "--result-ids", str(ids_path)],
        check=True, capture_output=True, text=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["recall_at_10"] = recall(np.load(ids_path).tolist(), exact)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--servers", default="quiver,milvus-lite")
    parser.add_argument("--quiver-bench", help="quiver-bench binary (default: Benchmarks' "
                        "release build); 'none' skips the in-process measurement")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    rng = np.random.default_rng(128)
    base = rng.standard_normal((args.rows, DIM)).astype(np.float32)
    queries = rng.standard_normal((args.queries, DIM)).astype(np.float32)
    tags = rng.integers(0, 100, size=args.rows)
    prices = rng.uniform(0, 100, size=args.rows)
    exact = exact_top_k(base, queries, K)

    quiver = quiver_binary("release")
    results = []
    with tempfile.TemporaryDirectory(prefix="milvus-protocol-bench-") as tmp:
        root = Path(tmp)
        for kind in [s for s in args.servers.split(",") if s]:
            if kind == "milvus-lite" and milvus_lite_command() is None:
                sys.exit("milvus-lite is not installed here")
            results.append(bench_server(kind, root, base, tags, prices, queries, exact,
                                        args.warmup, quiver))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
        in_process = None
        if args.quiver_bench != "none":
            binary = Path(args.quiver_bench) if args.quiver_bench else Path(subprocess.run(
                ["swift", "build", "-c", "release", "--package-path", str(HERE),
                 "--show-bin-path"], check=True, capture_output=True, text=True,
            ).stdout.strip()) / "quiver-bench"
            in_process = bench_in_process(binary, root, base, queries, exact, args.warmup)
            print(json.dumps(in_process), file=sys.stderr, flush=True)

    print(f"{args.rows} rows × {DIM}, {args.queries} single queries (top {K}, L2), "
          f"inserts in batches of {BATCH}\n")
    print("| | insert rows/s | index | search p50 ms | p99 ms | queries/s | recall@10 | "
          "filtered query p50 / p99 ms (rows) | filtered search p50 / p99 ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['server']} | {r['insert_rows_per_s']:,.0f} | {r['index_type']} "
              f"| {r['search_p50_ms']:.3f} | {r['search_p99_ms']:.3f} | {r['search_qps']:,.0f} "
              f"| {r['recall_at_10']:.4f} | {r['query_p50_ms']:.2f} / {r['query_p99_ms']:.2f} "
              f"({r['query_rows_avg']:.0f}) | {r['filtered_search_p50_ms']:.2f} / "
              f"{r['filtered_search_p99_ms']:.2f} |")
    if in_process is not None:
        print(f"| in-process (quiver-bench) | "
              f"| {in_process['index']} | {in_process['p50_ms']:.3f} | {in_process['p99_ms']:.3f} "
              f"| {in_process['qps_single']:,.0f} | {in_process['recall_at_10']:.4f} | | |")
    by = {r["server"]: r for r in results}
    if "quiver" in by and "milvus-lite" in by:
        q, m = by["quiver"], by["milvus-lite"]
        print(f"\nquiver / milvus-lite: insert {q['insert_rows_per_s'] / m['insert_rows_per_s']:.1f}×, "
              f"search {q['search_qps'] / m['search_qps']:.1f}× (queries/s), "
              f"filtered query {m['query_p50_ms'] / q['query_p50_ms']:.1f}× (p50)")
    if "quiver" in by and in_process is not None:
        print(f"server adds {by['quiver']['search_p50_ms'] - in_process['p50_ms']:.3f} ms to a "
              f"search at p50 ({by['quiver']['search_p50_ms']:.3f} vs {in_process['p50_ms']:.3f})")
    if args.json:
        print(json.dumps({"servers": results, "in_process": in_process}, indent=1))


if __name__ == "__main__":
    main()
