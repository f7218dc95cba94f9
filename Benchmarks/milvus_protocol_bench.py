#!/usr/bin/env python3
"""The same pymilvus script against `quiver serve` and `milvus-lite server`, in one run on one
machine, plus Quiver's in-process search over the same vectors and index for what the server adds.

    bash scripts/test-pymilvus.sh -k nothing 2>/dev/null; # (or any way to get .venv-pymilvus)
    swift build -c release --product quiver
    swift build -c release --package-path Benchmarks --product quiver-bench
    .venv-pymilvus/bin/python Benchmarks/milvus_protocol_bench.py [--rows 100000] [--queries 1000] \
        [--repeat 3]

With --repeat N the servers run N times each, interleaved (quiver, milvus-lite, milvus-lite,
quiver, ...) so that a machine busy with other work weighs on both alike; every run is printed and
the table gives the median of each column. Each phase records wall time and CPU time: the
server's (user + system of its process, from /proc/PID/stat) and the client's (this Python
process), since on a shared machine wall time is noisy and CPU time much less so.

For each server (fresh data directory, free loopback port, started and stopped here):
1. create a collection: id INT64 primary, vector FLOAT_VECTOR(128), tag INT64, price DOUBLE, with
   an AUTOINDEX L2 index (what each server applies to AUTOINDEX is its own choice and is reported
   from describe_index and measured as recall@10 against numpy's exact answer);
2. insert ROWS rows in batches of 1,000 dicts (wall time of the insert calls: rows/s); with
   --insert-clients N, N forked pymilvus processes insert disjoint batches at once (the
   children's CPU is the client CPU);
3. flush, wait until describe_index reports every row indexed, and 2 s more (milvus-lite swaps
   its index in after reporting it done);
4. single-query search, top 10, no output fields: warm-up queries, then each query alone
   (p50, p99, queries/s), and the same number of `GetVersion` calls (an RPC that does nothing:
   the floor of pymilvus + gRPC + loopback, to tell the client's and transport's share);
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
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from pymilvus import DataType, MilvusClient
from pymilvus.grpc_gen import milvus_pb2

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "Tests" / "pymilvus"))
from servers import milvus_lite_command, quiver_binary, start_server  # noqa: E402

DIM, BATCH, K, COLLECTION = 128, 1000, 10, "bench"
TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid):
    """CPU seconds (user + system, every thread) that process `pid` and its children that it
    waited for have used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / TICKS


class Phase:
    """Wall seconds, server CPU seconds and client (this process) CPU seconds of a `with` block."""

    def __init__(self, pid):
        self.pid = pid

    def __enter__(self):
        self.wall0, self.server0 = time.perf_counter(), process_cpu(self.pid)
        self.client0 = time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall0
        self.server = process_cpu(self.pid) - self.server0
        self.client = time.process_time() - self.client0


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


def timed(calls, pid):
    """Runs each call alone; returns (latencies in seconds, the Phase, the results)."""
    latencies, results = [], []
    with Phase(pid) as phase:
        for call in calls:
            t0 = time.perf_counter()
            results.append(call())
            latencies.append(time.perf_counter() - t0)
    return latencies, phase, results


def make_batch(base, tags, prices, start):
    return [{"id": i, "vector": base[i].tolist(), "tag": int(tags[i]), "price": float(prices[i])}
            for i in range(start, min(start + BATCH, len(base)))]


def insert_worker(uri, base, tags, prices, starts, ready, go):
    """One client process: builds its batches, waits for the start, inserts them."""
    client = MilvusClient(uri=uri)
    batches = [make_batch(base, tags, prices, s) for s in starts]
    ready.release()
    go.wait()
    for batch in batches:
        client.insert(COLLECTION, batch)
    client.close()


def insert_concurrently(uri, pid, base, tags, prices, clients):
    """The batches dealt round-robin to `clients` forked processes, each with its own
    MilvusClient, inserting at once. Client CPU is the children's (user + system)."""
    import multiprocessing
    context = multiprocessing.get_context("fork")
    ready, go = context.Semaphore(0), context.Event()
    starts = list(range(0, len(base), BATCH))
    workers = [context.Process(target=insert_worker,
                               args=(uri, base, tags, prices, starts[w::clients], ready, go))
               for w in range(clients)]
    for w in workers:
        w.start()
    for _ in workers:
        ready.acquire()
    children0 = os.times()
    with Phase(pid) as insert:
        go.set()
        for w in workers:
            w.join()
    children = os.times()
    insert.client = (children.children_user - children0.children_user
                     + children.children_system - children0.children_system)
    if any(w.exitcode != 0 for w in workers):
        raise RuntimeError(f"an insert client failed: {[w.exitcode for w in workers]}")
    return insert


def bench_server(kind, root, base, tags, prices, queries, exact, warmup, quiver, insert_clients=1):
    server = start_server(kind, root, quiver=quiver)
    pid = server.process.pid
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
        if insert_clients == 1:
            batches = [make_batch(base, tags, prices, s) for s in range(0, rows, BATCH)]
            with Phase(pid) as insert:
                for batch in batches:
                    client.insert(COLLECTION, batch)
        else:
            insert = insert_concurrently(server.uri, pid, base, tags, prices, insert_clients)

        with Phase(pid) as build:
            client.flush(COLLECTION)
            deadline = time.monotonic() + 1800
            while True:
                described = client.describe_index(COLLECTION, "vector")
                if described["state"] == "Finished" and described.get("indexed_rows") == rows:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{kind}: index not built in 30 min: {described}")
                time.sleep(0.2)
        time.sleep(2.0)

        vectors = [q.tolist() for q in queries]
        for vector in vectors[:warmup]:
            client.search(COLLECTION, [vector], limit=K)
        latencies, search, hits = timed(
            [lambda v=v: client.search(COLLECTION, [v], limit=K)[0] for v in vectors], pid)
        found = [[h["id"] for h in hit] for hit in hits]

        # The floor: an RPC that does nothing, through the same client's channel.
        stub = client._get_connection()._stub
        request = milvus_pb2.GetVersionRequest()
        empty_lat, empty, _ = timed([lambda: stub.GetVersion(request, timeout=10)] * len(vectors), pid)

        query_lat, filtered_query, results = timed(
            [lambda t=t: client.query(COLLECTION, filter=f"tag == {t} and price < 50.0",
                                      output_fields=["id", "price"]) for t in range(100)], pid)
        query_rows = sum(len(r) for r in results)
        filtered_search_lat, filtered_search, _ = timed(
            [lambda v=v: client.search(COLLECTION, [v], limit=K, filter="tag < 10")
             for v in vectors[:200]], pid)
        count = client.query(COLLECTION, filter="", output_fields=["count(*)"])[0]["count(*)"]
        client.close()
    finally:
        server.stop()
    return {
        "server": kind, "rows": rows, "count": count,
        "index_type": described["index_type"],
        "insert_rows_per_s": rows / insert.wall, "insert_s": insert.wall,
        "insert_server_cpu_s": insert.server, "insert_client_cpu_s": insert.client,
        "insert_rows_per_server_cpu_s": rows / max(insert.server, 1e-9),
        "flush_and_index_s": build.wall, "flush_and_index_server_cpu_s": build.server,
        "search_p50_ms": percentile(latencies, 0.5) * 1e3,
        "search_p99_ms": percentile(latencies, 0.99) * 1e3,
        "search_qps": len(queries) / search.wall,
        "search_server_cpu_ms": search.server / len(queries) * 1e3,
        "search_client_cpu_ms": search.client / len(queries) * 1e3,
        "search_per_server_cpu_s": len(queries) / max(search.server, 1e-9),
        "empty_rpc_p50_ms": percentile(empty_lat, 0.5) * 1e3,
        "empty_rpc_server_cpu_ms": empty.server / len(empty_lat) * 1e3,
        "empty_rpc_client_cpu_ms": empty.client / len(empty_lat) * 1e3,
        "recall_at_10": recall(found, exact),
        "query_p50_ms": percentile(query_lat, 0.5) * 1e3,
        "query_p99_ms": percentile(query_lat, 0.99) * 1e3,
        "query_server_cpu_ms": filtered_query.server / len(query_lat) * 1e3,
        "query_rows_avg": query_rows / len(query_lat),
        "filtered_search_p50_ms": percentile(filtered_search_lat, 0.5) * 1e3,
        "filtered_search_p99_ms": percentile(filtered_search_lat, 0.99) * 1e3,
        "filtered_search_server_cpu_ms": filtered_search.server / len(filtered_search_lat) * 1e3,
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


def median_run(runs):
    """Each numeric field's median over `runs` (the other fields from the first run)."""
    merged = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            merged[key] = statistics.median(r[key] for r in runs)
    merged["runs"] = len(runs)
    return merged


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=1, help="runs per server, interleaved")
    parser.add_argument("--servers", default="quiver,milvus-lite")
    parser.add_argument("--quiver-bench", help="quiver-bench binary (default: Benchmarks' "
                        "release build); 'none' skips the in-process measurement")
    parser.add_argument("--insert-clients", type=int, default=1,
                        help="pymilvus processes inserting at once (the batches dealt among them)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    rng = np.random.default_rng(128)
    base = rng.standard_normal((args.rows, DIM)).astype(np.float32)
    queries = rng.standard_normal((args.queries, DIM)).astype(np.float32)
    tags = rng.integers(0, 100, size=args.rows)
    prices = rng.uniform(0, 100, size=args.rows)
    exact = exact_top_k(base, queries, K)

    kinds = [s for s in args.servers.split(",") if s]
    if "milvus-lite" in kinds and milvus_lite_command() is None:
        sys.exit("milvus-lite is not installed here")
    quiver = quiver_binary("release")
    binary = None
    if args.quiver_bench != "none":
        binary = Path(args.quiver_bench) if args.quiver_bench else Path(subprocess.run(
            ["swift", "build", "-c", "release", "--package-path", str(HERE),
             "--show-bin-path"], check=True, capture_output=True, text=True,
        ).stdout.strip()) / "quiver-bench"
    runs = {kind: [] for kind in kinds}
    in_process_runs = []
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="milvus-protocol-bench-") as tmp:
        root = Path(tmp)
        for repetition in range(args.repeat):
            order = kinds if repetition % 2 == 0 else list(reversed(kinds))
            for kind in order:
                result = bench_server(kind, root, base, tags, prices, queries, exact,
                                      args.warmup, quiver, args.insert_clients)
                result["insert_clients"] = args.insert_clients
                result["load_1min"] = os.getloadavg()[0]
                loads.append(result["load_1min"])
                runs[kind].append(result)
                print(json.dumps(result), file=sys.stderr, flush=True)
            if binary is not None:
                result = bench_in_process(binary, root, base, queries, exact, args.warmup)
                loads.append(os.getloadavg()[0])
                in_process_runs.append(result)
                print(json.dumps(result), file=sys.stderr, flush=True)

    results = [median_run(runs[kind]) for kind in kinds]
    in_process = median_run(in_process_runs) if in_process_runs else None
    print(f"{args.rows} rows × {DIM}, {args.queries} single queries (top {K}, L2), inserts in "
          f"batches of {BATCH}; started {started}, {args.repeat} run(s) per server, interleaved, "
          f"medians; 1-min load {min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} CPUs\n")
    print("| | insert rows/s | rows per server CPU-s | index | search p50 ms | p99 ms | queries/s "
          "| server CPU ms per search | recall@10 | empty RPC p50 ms | filtered query p50 / p99 ms "
          "(rows) | filtered search p50 / p99 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['server']} | {r['insert_rows_per_s']:,.0f} | "
              f"{r['insert_rows_per_server_cpu_s']:,.0f} | {r['index_type']} "
              f"| {r['search_p50_ms']:.3f} | {r['search_p99_ms']:.3f} | {r['search_qps']:,.0f} "
              f"| {r['search_server_cpu_ms']:.3f} | {r['recall_at_10']:.4f} "
              f"| {r['empty_rpc_p50_ms']:.3f} "
              f"| {r['query_p50_ms']:.2f} / {r['query_p99_ms']:.2f} ({r['query_rows_avg']:.0f}) "
              f"| {r['filtered_search_p50_ms']:.2f} / {r['filtered_search_p99_ms']:.2f} |")
    if in_process is not None:
        print(f"| in-process (quiver-bench) | | | {in_process['index']} "
              f"| {in_process['p50_ms']:.3f} | {in_process['p99_ms']:.3f} "
              f"| {in_process['qps_single']:,.0f} | | {in_process['recall_at_10']:.4f} | | | |")
    by = {r["server"]: r for r in results}
    if "quiver" in by and "milvus-lite" in by:
        q, m = by["quiver"], by["milvus-lite"]
        print(f"\nquiver / milvus-lite: insert {q['insert_rows_per_s'] / m['insert_rows_per_s']:.1f}× "
              f"(wall), {q['insert_rows_per_server_cpu_s'] / m['insert_rows_per_server_cpu_s']:.1f}× "
              f"(server CPU); search {q['search_qps'] / m['search_qps']:.1f}× (queries/s), "
              f"{m['search_server_cpu_ms'] / q['search_server_cpu_ms']:.1f}× (server CPU); "
              f"filtered query {m['query_p50_ms'] / q['query_p50_ms']:.1f}× (p50)")
    if "quiver" in by and in_process is not None:
        q = by["quiver"]
        print(f"server adds {q['search_p50_ms'] - in_process['p50_ms']:.3f} ms to a search at p50 "
              f"({q['search_p50_ms']:.3f} through pymilvus vs {in_process['p50_ms']:.3f} in-process); "
              f"an empty RPC takes {q['empty_rpc_p50_ms']:.3f} ms; pymilvus spends "
              f"{q['search_client_cpu_ms']:.3f} ms CPU per search call")
    if args.json:
        print(json.dumps({"servers": runs, "in_process": in_process_runs}, indent=1))


if __name__ == "__main__":
    main()
