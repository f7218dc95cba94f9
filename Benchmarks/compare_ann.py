#!/usr/bin/env python3
"""Approximate search side by side: Quiver (quiver-bench) with hnswlib, FAISS and usearch.

    pip install hnswlib==0.8.0 usearch==2.26.6 faiss-cpu==1.15.1 numpy
    python3 Benchmarks/compare_ann.py --dataset clustered-1m --threads 2
    python3 Benchmarks/compare_ann.py --base B.npy --queries Q.npy --metric cosine --libs quiver,hnswlib --quick

Every library sees the same .npy files, the same thread count and the same parameters:
HNSW with M and efConstruction (defaults 16 and 200), IVF with nlist (default 4·sqrt(N)).

  hnswlib 0.8.0    HNSW
  FAISS 1.15.1     IndexHNSWFlat, IndexIVFFlat, IndexIVFScalarQuantizer (QT_8bit)
  usearch 2.26.6   HNSW (f32)
  Quiver           HNSW, HNSW_SQ, IVF_FLAT, IVF_SQ8 through quiver-bench (the public API), all rows
                   in one segment (--quiver-segment-rows N to change; 'default' for the segments an
                   app gets with default settings)

Each build and each search sweep runs in a process of its own and reports that process's peak RSS
(VmHWM; ru_maxrss would include this driver's memory, which Linux carries across exec). A Python
library builds, saves its index (whose file size is the index size) and exits; another process
loads the index and sweeps ef (HNSW) or nprobe (IVF), each point passes over all queries one at a
time after 100 untimed warm-up queries, giving recall@k against the exact top k and queries per
second (the fastest of --passes passes, default 3, for every library alike), then all queries in one
batch call on --threads threads (fastest of --passes passes again). Quiver builds once
into a --db directory and every later point reuses it ("reused": true). With --rounds R the sweeps
run R times over the same indexes, the libraries taking turns (reversed every other round), and
each point's q/s is the median of its R values (all kept in the JSON): on a shared machine whose
speed drifts for minutes at a time, one library's sweep may otherwise fall in a slow spell alone.
Ground truth: FAISS IndexFlat (L2, or inner product on normalised vectors for cosine), cached
beside the base file. Prints Markdown tables (QPS at recall 0.90 / 0.95 / 0.99, build time, index
size, peak RSS, Quiver's ratios) and writes every point as JSON (--out).
Quiver chooses its kernels at run time from the CPU (no build flags); --swift-flags adds build flags.
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "datasets"))

EF_SWEEP = [10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512]
NPROBE_SWEEP = [1, 2, 4, 8, 16, 32, 64, 128]
EF_QUICK = [16, 64, 256]
NPROBE_QUICK = [2, 8, 32]
RECALL_TARGETS = [0.90, 0.95, 0.99]
WARMUP = 100

# (library, index kind) pairs, in table order. Kinds are quiver-bench's --index names.
CONFIGS = [("quiver", "hnsw"), ("hnswlib", "hnsw"), ("faiss", "hnsw"), ("usearch", "hnsw"),
           ("quiver", "hnsw_sq"),
           ("quiver", "ivf_flat"), ("faiss", "ivf_flat"),
           ("quiver", "ivf_sq8"), ("faiss", "ivf_sq8")]
VERSIONS = {"hnswlib": "0.8.0", "faiss": "1.15.1", "usearch": "2.26.6"}

# Prepared data sets: name -> (how to get the files, default metric).
DATASETS = {
    "clustered-1m": ("synthetic", dict(kind="clustered", n=1_000_000, d=128, nq=1000), "l2"),
    "clustered-50k": ("synthetic", dict(kind="clustered", n=50_000, d=128, nq=1000), "l2"),
    "normal-1m": ("synthetic", dict(kind="normal", n=1_000_000, d=128, nq=1000), "l2"),
    "text-100k": ("files", ("text_base.npy", "text_queries.npy"), "cosine"),
}


# ---------------------------------------------------------------------------------------------
# Workers: each runs in its own process (python3 compare_ann.py --worker JSON) and prints one
# JSON object as its last line.

def peak_rss_mb():
    """VmHWM of this process in MiB (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def normalized(x):
    return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-30)).astype(np.float32)


def blocks(base, metric, size=100_000):
    """The base in blocks of rows (normalised for cosine where the library needs it)."""
    for s in range(0, base.shape[0], size):
        block = np.ascontiguousarray(base[s:s + size], dtype=np.float32)
        yield s, normalized(block) if metric == "cosine" else block


def faiss_metric(faiss, metric):
    return faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT


def worker_ground_truth(spec):
    import faiss
    faiss.omp_set_num_threads(spec["threads"])
    base = np.load(spec["base"], mmap_mode="r")
    queries = np.load(spec["queries"])
    index = faiss.IndexFlatL2(base.shape[1]) if spec["metric"] == "l2" else faiss.IndexFlatIP(base.shape[1])
    for _, block in blocks(base, spec["metric"]):
        index.add(block)
    _, ids = index.search(normalized(queries) if spec["metric"] == "cosine" else queries, spec["k"])
    np.save(spec["out"], ids.astype(np.int64))
    return {"peak_rss_mb": peak_rss_mb()}


def worker_build(spec):
    """Builds one library's index from the base, saves it to spec["index_file"]."""
    lib, kind, metric, threads, p = spec["lib"], spec["kind"], spec["metric"], spec["threads"], spec["params"]
    base = np.load(spec["base"], mmap_mode="r")
    n, d = base.shape
    t0 = time.perf_counter()
    if lib == "hnswlib":
        import hnswlib
        index = hnswlib.Index(space={"l2": "l2", "ip": "ip", "cosine": "cosine"}[metric], dim=d)
        index.init_index(max_elements=n, ef_construction=p["efConstruction"], M=p["M"], random_seed=1)
        index.set_num_threads(threads)
        for s, block in blocks(base, "raw"):
            index.add_items(block, np.arange(s, s + len(block)), num_threads=threads)
        build_s = time.perf_counter() - t0
        index.save_index(spec["index_file"])
    elif lib == "usearch":
        from usearch.index import Index
        index = Index(ndim=d, metric={"l2": "l2sq", "ip": "ip", "cosine": "cos"}[metric], dtype="f32",
                      connectivity=p["M"], expansion_add=p["efConstruction"])
        for s, block in blocks(base, "raw"):
            index.add(np.arange(s, s + len(block)), block, threads=threads)
        build_s = time.perf_counter() - t0
        index.save(spec["index_file"])
    elif lib == "faiss":
        import faiss
        faiss.omp_set_num_threads(threads)
        fm = faiss_metric(faiss, metric)
        if kind == "hnsw":
            index = faiss.IndexHNSWFlat(d, p["M"], fm)
            index.hnsw.efConstruction = p["efConstruction"]
        else:
            quantizer = faiss.IndexFlatL2(d) if fm == faiss.METRIC_L2 else faiss.IndexFlatIP(d)
            if kind == "ivf_flat":
                index = faiss.IndexIVFFlat(quantizer, d, p["nlist"], fm)
            else:
                index = faiss.IndexIVFScalarQuantizer(quantizer, d, p["nlist"], faiss.ScalarQuantizer.QT_8bit, fm)
            # FAISS trains on at most 256 points per list (it samples the rest away itself).
            sample = np.random.default_rng(1).choice(n, min(n, 256 * p["nlist"]), replace=False)
            train = np.ascontiguousarray(base[np.sort(sample)], dtype=np.float32)
            index.train(normalized(train) if metric == "cosine" else train)
            del train
        for _, block in blocks(base, metric):
            index.add(block)
        build_s = time.perf_counter() - t0
        faiss.write_index(index, spec["index_file"])
    else:
        raise ValueError(lib)
    return {"build_s": build_s, "index_size_mb": os.path.getsize(spec["index_file"]) / 2**20,
            "peak_rss_mb": peak_rss_mb()}


def worker_search(spec):
    """Loads one library's index and runs the sweep: every query alone, per sweep value."""
    lib, kind, metric, threads, k = spec["lib"], spec["kind"], spec["metric"], spec["threads"], spec["k"]
    queries = np.load(spec["queries"])
    if metric == "cosine" and lib == "faiss":
        queries = normalized(queries)
    gt = np.load(spec["gt"])
    if lib == "hnswlib":
        import hnswlib
        index = hnswlib.Index(space={"l2": "l2", "ip": "ip", "cosine": "cosine"}[metric], dim=queries.shape[1])
        index.load_index(spec["index_file"])
        index.set_num_threads(threads)

        def set_param(v): index.set_ef(v)

        def one(q): return index.knn_query(q, k=k)[0][0]

        def batch(qs): return index.knn_query(qs, k=k, num_threads=threads)[0]
    elif lib == "usearch":
        from usearch.index import Index
        index = Index.restore(spec["index_file"])

        def set_param(v): index.expansion_search = v

        def one(q): return index.search(q, k, threads=threads).keys

        def batch(qs): return index.search(qs, k, threads=threads).keys
    else:
        import faiss
        faiss.omp_set_num_threads(threads)
        index = faiss.read_index(spec["index_file"])

        def set_param(v):
            if kind == "hnsw":
                index.hnsw.efSearch = v
            else:
                index.nprobe = v

        def one(q): return index.search(q[None, :], k)[1][0]

        def batch(qs): return index.search(qs, k)[1]
    points = []
    for v in spec["sweep"]:
        set_param(v)
        for q in queries[:WARMUP]:
            one(q)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        seconds, lat = math.inf, None
        for _ in range(spec["passes"]):  # the fastest pass counts, as in quiver-bench --passes
            pass_lat = np.empty(len(queries))
            t_all = time.perf_counter()
            for i, q in enumerate(queries):
                t0 = time.perf_counter()
                found = one(q)
                pass_lat[i] = time.perf_counter() - t0
                ids[i, :len(found)] = found
            elapsed = time.perf_counter() - t_all
            if elapsed < seconds:
                seconds, lat = elapsed, pass_lat
        batch_seconds = math.inf
        for _ in range(spec["passes"]):  # all queries in one call on `threads` threads, fastest pass
            t0 = time.perf_counter()
            batch(queries)
            batch_seconds = min(batch_seconds, time.perf_counter() - t0)
        points.append({"param": v, "recall": recall(ids, gt, k), "qps": len(queries) / seconds,
                       "qps_batch": len(queries) / batch_seconds, "p50_ms": float(np.percentile(lat, 50) * 1000)})
        print(f"  {lib} {kind} {spec['param_name']}={v}: recall {points[-1]['recall']:.4f}, "
              f"{points[-1]['qps']:.0f} q/s, batch {points[-1]['qps_batch']:.0f} q/s", file=sys.stderr, flush=True)
    return {"points": points, "peak_rss_mb": peak_rss_mb()}


def recall(ids, gt, k):
    return float(np.mean([len(set(a[a >= 0]) & set(b[:k])) / k for a, b in zip(ids, gt)]))


# ---------------------------------------------------------------------------------------------
# Driver: stays small (never loads the base) so that it does not distort the workers' memory.

def run_worker(spec):
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", json.dumps(spec)],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def ground_truth(base, queries, metric, k, threads):
    stem = lambda p: os.path.splitext(os.path.basename(p))[0]  # noqa: E731
    path = os.path.join(os.path.dirname(base), f"{stem(base)}.{stem(queries)}.{metric}.top{k}.gt.npy")
    if not (os.path.exists(path) and os.path.getmtime(path) >= max(os.path.getmtime(base), os.path.getmtime(queries))):
        t0 = time.time()
        run_worker({"op": "ground_truth", "base": base, "queries": queries, "metric": metric, "k": k,
                    "threads": threads, "out": path})
        print(f"ground truth: {path} ({time.time() - t0:.0f} s)", file=sys.stderr)
    return path


def build_quiver_bench(flags):
    flags = flags.split()
    subprocess.run(["swift", "build", "-c", "release", "--package-path", HERE, "--product", "quiver-bench"] + flags,
                   check=True, stdout=subprocess.DEVNULL)
    bin_path = subprocess.run(["swift", "build", "-c", "release", "--package-path", HERE, "--show-bin-path"] + flags,
                              check=True, capture_output=True, text=True).stdout.strip()
    return os.path.join(bin_path, "quiver-bench")


def run_quiver(binary, kind, params, sweep, param_name, args, gt_path, work):
    """One build into a --db directory (or a reused one), then one quiver-bench run per sweep value."""
    data = os.path.splitext(os.path.basename(args.base))[0]
    db = os.path.join(work, f"quiver-{data}-{args.metric}-{kind}-" + "-".join(f"{k}{v}" for k, v in sorted(params.items())))
    gt = np.load(gt_path)
    ids_path = os.path.join(work, "quiver_ids.npy")
    points, build, search_rss, reused_flags = [], None, 0.0, []
    for v in sweep:
        cmd = [binary, "search", "--base", args.base, "--queries", args.queries, "--metric", args.metric,
               "--k", str(args.k), "--threads", str(args.threads), "--build-threads", str(args.threads),
               "--batch", str(args.nq), "--warmup", str(WARMUP),
               "--passes", str(args.passes),
               "--index", kind, "--index-params", json.dumps(params), "--search-params", json.dumps({param_name: v}),
               "--db", db, "--result-ids", ids_path]
        if args.quiver_segment_rows != "default":
            cmd += ["--segment-rows", args.quiver_segment_rows]
        out = json.loads(subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1])
        reused_flags.append(out["reused"])
        if build is None:
            if out["reused"]:  # built by an earlier compare_ann run with the same --work: take its numbers
                with open(os.path.join(db, "quiver-bench.json")) as f:
                    marker = json.load(f)
                build = {"build_s": marker["indexBuildSeconds"], "insert_rows_per_s": marker["insertRowsPerSecond"],
                         "flush_s": marker["flushSeconds"], "peak_rss_mb": None, "from_marker": True}
            else:
                build = {"build_s": out["index_build_s"], "insert_rows_per_s": out["insert_rows_per_s"],
                         "flush_s": out["flush_s"], "peak_rss_mb": out["peak_rss_mb"]}
            build.update(index_size_mb=out["index_size_mb"], db_size_mb=out["db_size_mb"], segments=out["segments"])
        if out["reused"]:
            search_rss = max(search_rss, out["peak_rss_mb"])
        points.append({"param": v, "recall": recall(np.load(ids_path), gt, args.k), "qps": out["qps_single"],
                       "qps_batch": out["qps_batch"], "p50_ms": out["p50_ms"], "reused": out["reused"]})
        print(f"  quiver {kind} {param_name}={v}: recall {points[-1]['recall']:.4f}, {out['qps_single']:.0f} q/s, "
              f"batch {out['qps_batch']:.0f} q/s"
              f"{' (reused)' if out['reused'] else ' (built in ' + format(out['index_build_s'], '.1f') + ' s)'}",
              file=sys.stderr, flush=True)
    if not all(reused_flags[1:]):
        raise RuntimeError(f"quiver-bench did not reuse {db}")
    return {**build, "search_peak_rss_mb": search_rss or None, "points": points}


def best_qps(points, target, key="qps"):
    ok = [p for p in points if p["recall"] >= target and p.get(key) is not None]
    return max(ok, key=lambda p: p[key]) if ok else None


def markdown(results, args, n, d):
    def num(x, digits=0):
        return "—" if x is None else f"{x:,.{digits}f}"

    segments = "one segment" if args.quiver_segment_rows == "0" else (
        "Quiver's default database settings" if args.quiver_segment_rows == "default"
        else f"segments of {args.quiver_segment_rows} rows")
    lines = [f"{n:,} × {d}, {args.metric}, k = {args.k}, {args.threads} thread(s), {args.nq} queries one at a time and in one "
             f"batch (fastest of {args.passes} passes each{f'; the median of {args.rounds} rounds' if args.rounds > 1 else ''}); HNSW M = {args.m}, efConstruction = {args.ef_construction}; "
             f"IVF nlist = {args.nlist}; Quiver: {segments}.", "",
             "| library | index | " + " | ".join(f"q/s @ recall {t:.2f}" for t in RECALL_TARGETS)
             + " | " + " | ".join(f"batch q/s @ {t:.2f}" for t in RECALL_TARGETS)
             + " | best recall | build s | index MB | peak RSS build / search MB |",
             "| --- | --- | " + " | ".join("---:" for _ in RECALL_TARGETS * 2) + " | ---: | ---: | ---: | ---: |"]
    for r in results:
        cells = []
        for key in ("qps", "qps_batch"):
            for t in RECALL_TARGETS:
                b = best_qps(r["points"], t, key)
                cells.append("—" if b is None else f"{b[key]:,.0f} ({r['param_name']} {b['param']})")
        label = r["lib"] if r["lib"] == "quiver" else f"{r['lib']} {VERSIONS[r['lib']]}"
        size = num(r["index_size_mb"], 1)
        if r["lib"] == "quiver":
            size += f" (+{r['db_size_mb'] - r['index_size_mb']:,.1f})"
        lines.append(f"| {label} | {r['kind']} | " + " | ".join(cells)
                     + f" | {max(p['recall'] for p in r['points']):.4f} | {num(r['build_s'], 1)} | {size}"
                     + f" | {num(r.get('peak_rss_mb'))} / {num(r.get('search_peak_rss_mb'))} |")
    pairs = [("hnsw", "hnswlib", "hnsw"), ("hnsw", "faiss", "hnsw"), ("hnsw", "usearch", "hnsw"),
             ("ivf_flat", "faiss", "ivf_flat"), ("ivf_sq8", "faiss", "ivf_sq8")]
    by = {(r["lib"], r["kind"]): r for r in results}
    ratio_lines = []
    for qkind, lib, kind in pairs:
        q, o = by.get(("quiver", qkind)), by.get((lib, kind))
        if not q or not o:
            continue
        cells = []
        for key in ("qps", "qps_batch"):
            for t in RECALL_TARGETS:
                a, b = best_qps(q["points"], t, key), best_qps(o["points"], t, key)
                cells.append("—" if a is None or b is None else f"{a[key] / b[key]:.2f}")
        build = "—" if q["build_s"] is None or not o["build_s"] else f"{q['build_s'] / o['build_s']:.2f}"
        ratio_lines.append(f"| Quiver {qkind} / {lib} {kind} | " + " | ".join(cells) + f" | {build} |")
    if ratio_lines:
        lines += ["", "| ratio | " + " | ".join(f"q/s @ {t:.2f}" for t in RECALL_TARGETS)
                  + " | " + " | ".join(f"batch @ {t:.2f}" for t in RECALL_TARGETS) + " | build time |",
                  "| --- | " + " | ".join("---:" for _ in RECALL_TARGETS * 2) + " | ---: |"] + ratio_lines
    lines += ["", "q/s @ recall r: the best single-query rate among the sweep points whose recall@k reaches r, with "
              "that point's parameter; — where none does. Batch: the same with all queries in one call on the "
              "threads given (recall is the single-query pass's; both walk the same graph per query). Ratios above 1 favour Quiver (build time: below 1). "
              "Index MB: the saved index, vectors included; for Quiver its `*.qidx` files (graph or lists, plus "
              "codes for the _SQ types) and, in parentheses, the segment files that hold the vectors. "
              "Build s: index construction (Quiver: createIndex to waitForIndexBuilds, after insert and flush; "
              "the others: train + add)."]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--dataset", choices=sorted(DATASETS), help="a prepared data set (instead of --base/--queries)")
    ap.add_argument("--base", help="base vectors, float32 .npy N×d")
    ap.add_argument("--queries", help="query vectors, float32 .npy nq×d")
    ap.add_argument("--metric", choices=["l2", "ip", "cosine"], help="default: the data set's, else l2")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--passes", type=int, default=3,
                    help="single-query passes per sweep point, every library; the fastest counts (default 3)")
    ap.add_argument("--libs", default="quiver,hnswlib,faiss,usearch",
                    help="comma-separated libraries or library:kind pairs, e.g. quiver,hnswlib or quiver:hnsw,faiss:ivf_flat")
    ap.add_argument("--m", type=int, default=16, help="HNSW M")
    ap.add_argument("--ef-construction", type=int, default=200, help="HNSW efConstruction")
    ap.add_argument("--nlist", type=int, help="IVF lists (default: 4·sqrt(N))")
    ap.add_argument("--quick", action="store_true", help=f"sweep ef {EF_QUICK} and nprobe {NPROBE_QUICK} only")
    ap.add_argument("--quiver-segment-rows", default="0",
                    help="quiver-bench --segment-rows (default 0: one segment, like the other libraries' one index; "
                         "'default': Quiver's default database settings, as an app gets them)")
    ap.add_argument("--work", help="directory for the indexes and Quiver's databases, kept afterwards so a rerun "
                                   "reuses Quiver's builds (default: a temporary directory under Benchmarks/data, removed)")
    ap.add_argument("--out", help="raw points as JSON (default: Benchmarks/data/ann_<data>_<metric>.json)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="search sweeps per library over the same indexes, the libraries in turn (reversed every "
                         "other round); each point's q/s is the median of the rounds (default 1)")
    ap.add_argument("--swift-flags", default="")
    args = ap.parse_args()

    if args.worker:
        spec = json.loads(args.worker)
        result = {"ground_truth": worker_ground_truth, "build": worker_build, "search": worker_search}[spec["op"]](spec)
        print(json.dumps(result))
        return 0

    if args.dataset:
        how, what, metric = DATASETS[args.dataset]
        if how == "synthetic":
            from make_synthetic import generate
            args.base, args.queries = generate(**what)
        else:
            args.base, args.queries = (os.path.join(DATA, f) for f in what)
            if not (os.path.exists(args.base) and os.path.exists(args.queries)):
                sys.exit(f"{args.base} or {args.queries} is missing: run python3 Benchmarks/datasets/make_text_dataset.py")
        args.metric = args.metric or metric
    elif not (args.base and args.queries):
        ap.error("give --dataset or both --base and --queries")
    args.base, args.queries = os.path.abspath(args.base), os.path.abspath(args.queries)
    args.metric = args.metric or "l2"
    n, d = np.load(args.base, mmap_mode="r").shape
    args.nq = np.load(args.queries, mmap_mode="r").shape[0]
    args.nlist = args.nlist or max(1, round(4 * math.sqrt(n)))
    wanted = [w.strip() for w in args.libs.split(",") if w.strip()]
    configs = [c for c in CONFIGS if c[0] in wanted or f"{c[0]}:{c[1]}" in wanted]
    unknown = [w for w in wanted if not any(w in (c[0], f"{c[0]}:{c[1]}") for c in CONFIGS)]
    if unknown or not configs:
        ap.error(f"unknown --libs entries {unknown}; choose from {sorted({c[0] for c in CONFIGS})} "
                 f"or {[f'{a}:{b}' for a, b in CONFIGS]}")
    ef_sweep = [e for e in (EF_QUICK if args.quick else EF_SWEEP) if e >= args.k]
    nprobe_sweep = [p for p in (NPROBE_QUICK if args.quick else NPROBE_SWEEP) if p <= args.nlist]

    gt_path = ground_truth(args.base, args.queries, args.metric, args.k, args.threads)
    binary = build_quiver_bench(args.swift_flags) if any(c[0] == "quiver" for c in configs) else None
    work = args.work or tempfile.mkdtemp(prefix="ann-work-", dir=DATA)
    os.makedirs(work, exist_ok=True)
    results = []

    def sweep_of(kind):
        hnsw = kind.startswith("hnsw")
        params = {"M": args.m, "efConstruction": args.ef_construction} if hnsw else {"nlist": args.nlist}
        return (params, *(("ef", ef_sweep) if hnsw else ("nprobe", nprobe_sweep)))

    def spec_of(lib, kind, params):
        return {"lib": lib, "kind": kind, "metric": args.metric, "threads": args.threads, "params": params,
                "base": args.base, "index_file": os.path.join(work, f"{lib}-{kind}.index")}

    def sweep_python(lib, kind):
        """A Python library's sweep over the index it saved (a worker process of its own)."""
        params, param_name, sweep = sweep_of(kind)
        return run_worker({"op": "search", **spec_of(lib, kind, params), "queries": args.queries, "gt": gt_path,
                           "k": args.k, "sweep": sweep, "param_name": param_name, "passes": args.passes})

    def search_again(lib, kind):
        """One more sweep over the index built in round 1 (Quiver reuses its database)."""
        if lib == "quiver":
            params, param_name, sweep = sweep_of(kind)
            return run_quiver(binary, kind, params, sweep, param_name, args, gt_path, work)["points"]
        return sweep_python(lib, kind)["points"]

    try:
        for lib, kind in configs:
            params, param_name, sweep = sweep_of(kind)
            t0 = time.time()
            print(f"{lib} {kind} {params}", file=sys.stderr, flush=True)
            if lib == "quiver":
                r = run_quiver(binary, kind, params, sweep, param_name, args, gt_path, work)
            else:
                r = run_worker({"op": "build", **spec_of(lib, kind, params)})
                print(f"  built in {r['build_s']:.1f} s, {r['index_size_mb']:.1f} MB", file=sys.stderr, flush=True)
                s = sweep_python(lib, kind)
                r.update(points=s["points"], search_peak_rss_mb=s["peak_rss_mb"])
            r.update(lib=lib, kind=kind, params=params, param_name=param_name, wall_s=time.time() - t0)
            results.append(r)
        # Later rounds take the libraries in turn, in reverse order every other round, so that a
        # slow spell of a shared machine falls on each alike; every point keeps the median.
        rates = ("qps", "qps_batch")
        samples = [[{key: [p[key]] for key in rates} for p in r["points"]] for r in results]
        for round_ in range(1, args.rounds):
            order = list(range(len(results)))[::-1 if round_ % 2 else 1]
            print(f"round {round_ + 1} of {args.rounds}: {[results[i]['lib'] for i in order]}", file=sys.stderr, flush=True)
            for i in order:
                for s, p in zip(samples[i], search_again(results[i]["lib"], results[i]["kind"])):
                    for key in rates:
                        s[key].append(p[key])
        if args.rounds > 1:
            for r, rs in zip(results, samples):
                for p, s in zip(r["points"], rs):
                    p.update({f"{key}_rounds": s[key] for key in rates})
                    p.update({key: float(np.median(s[key])) for key in rates})
        for r in results:
            if r["lib"] != "quiver":
                os.remove(spec_of(r["lib"], r["kind"], r["params"])["index_file"])
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)

    table = markdown(results, args, n, d)
    print(table)
    data_name = args.dataset or os.path.splitext(os.path.basename(args.base))[0]
    out = args.out or os.path.join(DATA, f"ann_{data_name}_{args.metric}{'_quick' if args.quick else ''}.json")
    with open(out, "w") as f:
        json.dump({"base": args.base, "queries": args.queries, "n": n, "d": d, "nq": args.nq, "metric": args.metric,
                   "k": args.k, "threads": args.threads, "m": args.m, "ef_construction": args.ef_construction,
                   "nlist": args.nlist, "quiver_segment_rows": args.quiver_segment_rows, "versions": VERSIONS,
                   "results": results, "markdown": table}, f, indent=1)
    print(f"\nraw points: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
