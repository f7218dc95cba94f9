#!/usr/bin/env python3
"""Quiver's Swift remote client (`RemoteDatabase`, Benchmarks/Sources/remote-bench) against pymilvus
on the same Milvus-protocol server and the same data, in one run, interleaved.

    bash scripts/pymilvus-venv.sh
    swift build -c release --product quiver
    swift build -c release --package-path Benchmarks --product remote-bench
    .venv-pymilvus/bin/python Benchmarks/remote_client_bench.py [--rows 100000] [--queries 1000] \
        [--servers quiver,milvus-lite] [--json]

For each server (`quiver serve` and `milvus-lite server`, each client on a fresh server: fresh data
directory, free loopback port, started and stopped here), each client in turn (the order
alternates from server to server: swift then pymilvus, then pymilvus then swift):
1. a collection of `id` INT64 primary and `vector` FLOAT_VECTOR(128), dynamic field on, L2, an
   exact FLAT index, Strong consistency (what RemoteDatabase's quick `createCollection` makes;
   pymilvus is given the same schema and index);
2. insert ROWS rows in batches of BATCH (rows built before the clock starts, as lists of dicts
   for pymilvus and `[Row]` for Swift): rows/s;
3. flush, WARMUP searches, then each query alone (top 10, no output fields): p50, p99, queries/s.
Client CPU (the client process) and server CPU (/proc/PID/stat) are recorded per phase; on a
shared machine wall time is noisy and CPU time less so. The top-1 ids of both clients must agree.

The data: a seeded Gaussian (numpy), float32, the same for every client and server.
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
sys.path.insert(0, str(HERE))
from milvus_protocol_bench import Phase, percentile  # noqa: E402
from servers import milvus_lite_command, quiver_binary, start_server  # noqa: E402

DIM, K, COLLECTION = 128, 10, "py_bench"


def bench_pymilvus(server, base, queries, batch, warmup):
    pid = server.process.pid
    client = MilvusClient(uri=server.uri)
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=True)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=DIM)
    index = client.prepare_index_params()
    index.add_index("vector", index_type="FLAT", metric_type="L2")
    client.create_collection(COLLECTION, schema=schema, index_params=index, consistency_level="Strong")

    rows = len(base)
    batches = [[{"id": i, "vector": base[i].tolist()} for i in range(s, min(s + batch, rows))]
               for s in range(0, rows, batch)]
    with Phase(pid) as insert:
        for b in batches:
            client.insert(COLLECTION, b)
    client.flush(COLLECTION)
    vectors = [q.tolist() for q in queries]
    for v in vectors[:warmup]:
        client.search(COLLECTION, [v], limit=K)
    latencies, top1 = [], []
    with Phase(pid) as search:
        for v in vectors:
            t0 = time.perf_counter()
            hits = client.search(COLLECTION, [v], limit=K)[0]
            latencies.append(time.perf_counter() - t0)
            top1.append(hits[0]["id"] if hits else -1)
    count = client.query(COLLECTION, filter="", output_fields=["count(*)"])[0]["count(*)"]
    client.drop_collection(COLLECTION)
    client.close()
    n = len(vectors)
    return {
        "client": "pymilvus", "rows": rows, "count": count, "batch": batch, "queries": n,
        "insert_rows_per_s": rows / insert.wall, "insert_s": insert.wall,
        "insert_client_cpu_s": insert.client, "insert_server_cpu_s": insert.server,
        "search_p50_ms": percentile(latencies, 0.5) * 1e3,
        "search_p99_ms": percentile(latencies, 0.99) * 1e3,
        "search_qps": n / search.wall,
        "search_client_cpu_ms": search.client / n * 1e3,
        "search_server_cpu_ms": search.server / n * 1e3,
        "top1": top1,
    }


def bench_swift(binary, server, base_path, query_path, batch, warmup):
    out = subprocess.run(
        [str(binary), server.uri, str(base_path), str(query_path), str(DIM), str(batch), str(warmup),
         str(server.process.pid)],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--servers", default="quiver,milvus-lite")
    parser.add_argument("--remote-bench", help="remote-bench binary (default: Benchmarks' release build)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    rng = np.random.default_rng(128)
    base = rng.standard_normal((args.rows, DIM)).astype(np.float32)
    queries = rng.standard_normal((args.queries, DIM)).astype(np.float32)

    kinds = [s for s in args.servers.split(",") if s]
    if "milvus-lite" in kinds and milvus_lite_command() is None:
        sys.exit("milvus-lite is not installed here")
    quiver = quiver_binary("release")
    binary = Path(args.remote_bench) if args.remote_bench else Path(subprocess.run(
        ["swift", "build", "-c", "release", "--package-path", str(HERE), "--show-bin-path"],
        check=True, capture_output=True, text=True).stdout.strip()) / "remote-bench"

    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    loads, results = [os.getloadavg()[0]], []
    with tempfile.TemporaryDirectory(prefix="remote-client-bench-") as tmp:
        root = Path(tmp)
        base_path, query_path = root / "base.f32", root / "queries.f32"
        base.astype("<f4").tofile(base_path)
        queries.astype("<f4").tofile(query_path)
        for n, kind in enumerate(kinds):
            order = ["swift", "pymilvus"] if n % 2 == 0 else ["pymilvus", "swift"]
            for client in order:
                server = start_server(kind, root, quiver=quiver)
                try:
                    if client == "swift":
                        result = bench_swift(binary, server, base_path, query_path, args.batch, args.warmup)
                    else:
                        result = bench_pymilvus(server, base, queries, args.batch, args.warmup)
                finally:
                    server.stop()
                result["server"] = kind
                result["load_1min"] = os.getloadavg()[0]
                loads.append(result["load_1min"])
                results.append(result)
                print(json.dumps({k: v for k, v in result.items() if k != "top1"}), file=sys.stderr, flush=True)

    print(f"{args.rows} rows × {DIM}, inserts in batches of {args.batch}; {args.queries} single queries "
          f"(top {K}, L2, FLAT); started {started}, one run per client and server, interleaved; "
          f"1-min load {min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} CPUs\n")
    print("| server | client | insert rows/s | client CPU s | server CPU s | search p50 ms | p99 ms "
          "| queries/s | client CPU ms per search | server CPU ms per search |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['server']} | {r['client']} | {r['insert_rows_per_s']:,.0f} | {r['insert_client_cpu_s']:.2f} "
              f"| {r['insert_server_cpu_s']:.2f} | {r['search_p50_ms']:.3f} | {r['search_p99_ms']:.3f} "
              f"| {r['search_qps']:,.0f} | {r['search_client_cpu_ms']:.3f} | {r['search_server_cpu_ms']:.3f} |")
    for kind in kinds:
        by = {r["client"]: r for r in results if r["server"] == kind}
        s, p = by["swift"], by["pymilvus"]
        agree = sum(a == b for a, b in zip(s["top1"], p["top1"])) / len(s["top1"])
        print(f"\n{kind}: swift / pymilvus: insert {s['insert_rows_per_s'] / p['insert_rows_per_s']:.2f}× (rows/s), "
              f"client CPU {p['insert_client_cpu_s'] / max(s['insert_client_cpu_s'], 1e-9):.1f}× less; "
              f"search p50 {p['search_p50_ms'] / s['search_p50_ms']:.2f}× faster, client CPU per search "
              f"{p['search_client_cpu_ms'] / max(s['search_client_cpu_ms'], 1e-9):.1f}× less; "
              f"counts {s['count']} / {p['count']}; top-1 ids agree on {agree:.1%} of queries")
    if args.json:
        print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
