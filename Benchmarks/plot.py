#!/usr/bin/env python3
"""Draws the benchmark scripts' results as PNG and SVG (matplotlib) for Documentation/.

    pip install matplotlib==3.11.2        # in the venv you run this with (e.g. .venv-pymilvus)
    python Benchmarks/plot.py ann      RESULT.json  OUT_STEM [--title T]   # compare_ann.py --out
    python Benchmarks/plot.py faiss    RESULT.json  OUT_STEM [--title T]   # compare_faiss.py's stdout
    python Benchmarks/plot.py protocol RESULT.txt   OUT_STEM [--title T]   # milvus_protocol_bench.py --json stdout
    python Benchmarks/plot.py remote   RESULT.txt   OUT_STEM [--title T]   # remote_client_bench.py --json stdout
    python Benchmarks/plot.py open     RESULT.jsonl OUT_STEM [--title T]   # open-bench lines, labelled (see below)

Each command writes OUT_STEM.png and OUT_STEM.svg.

- ann: recall@k against queries per second, one curve per library and index (the ef or nprobe
  sweep), log-scaled QPS: the usual ANN-benchmarks picture.
- faiss: exact search, Quiver against FAISS: queries/s single and batched, p50 latency.
- protocol: `quiver serve` against `milvus-lite server` through pymilvus: insert rows/s, search
  queries/s, server CPU ms per search (medians over the runs).
- remote: the Swift RemoteDatabase against pymilvus on each server: insert rows/s, search p50 ms.
- open: open-bench `measure` results, one JSON object a line with an added "label" field
  (e.g. "before, warm"): seconds to open and to the first result.

The scripts print their tables first and the JSON last; this reads the last JSON value of the file.
"""
import argparse
import json
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# SVGs that do not change from run to run (no date, fixed ids), and small files.
plt.rcParams.update({"svg.hashsalt": "quiver", "svg.fonttype": "none", "figure.dpi": 100,
                     "font.size": 9, "axes.grid": True, "grid.alpha": 0.3})
METADATA = {"svg": {"Date": None}, "png": {"Software": None}}


def last_json(path):
    """The last JSON value in the file: the whole file, or from the last line that starts one."""
    text = open(path).read()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    lines = text.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if lines[i][:1] in "{[":
            try:
                return json.loads("\n".join(lines[i:]))
            except json.JSONDecodeError:
                continue
    sys.exit(f"{path}: no JSON value found")


def save(fig, stem):
    fig.tight_layout()
    for ext in ("png", "svg"):
        fig.savefig(f"{stem}.{ext}", metadata=METADATA[ext])
    plt.close(fig)
    print(f"wrote {stem}.png and {stem}.svg")


def bars(ax, labels, values, fmt="{:,.0f}"):
    rects = ax.bar(range(len(values)), values, color=[f"C{i}" for i in range(len(values))])
    ax.set_xticks(range(len(labels)), labels, rotation=0)
    for r, v in zip(rects, values):
        ax.annotate(fmt.format(v), (r.get_x() + r.get_width() / 2, r.get_height()), ha="center", va="bottom", fontsize=8)
    ax.grid(axis="x", visible=False)
    ax.margins(y=0.15)


def plot_ann(data, stem, title):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, r in enumerate(data["results"]):
        points = sorted(r["points"], key=lambda p: p["recall"])
        style = "-" if r["lib"] == "quiver" else "--"
        ax.plot([p["recall"] for p in points], [p["qps"] for p in points], style, marker="o", markersize=3,
                label=f"{r['lib']} {r['kind'].upper()}", color=f"C{i}")
    ax.set_yscale("log")
    ax.set_xlabel(f"recall@{data['k']}")
    ax.set_ylabel("queries/s (single queries, log scale)")
    ax.set_title(title or f"{data['n']:,} × {data['d']} {data['metric']}, {data['nq']} queries, "
                          f"{data['threads']} threads")
    ax.legend(fontsize=8, ncol=2)
    save(fig, stem)


def plot_faiss(data, stem, title):
    fig, axes = plt.subplots(1, 3, figsize=(8, 3))
    names = ["Quiver", "FAISS"]
    q, f = data["quiver"], data["faiss"]
    bars(axes[0], names, [q["qps_single"], f["qps_single"]])
    axes[0].set_title("single queries/s")
    bars(axes[1], names, [q["qps_batch"], f["qps_batch"]])
    axes[1].set_title("batched queries/s")
    bars(axes[2], names, [q["p50_ms"], f["p50_ms"]], "{:.2f}")
    axes[2].set_title("p50 ms (single)")
    fig.suptitle(title or f"exact search {data['n']:,} × {data['d']} {data['metric']}, {data['threads']} threads")
    save(fig, stem)


def plot_protocol(data, stem, title):
    servers = data["servers"]
    names = [s for s in servers if servers[s]]
    med = lambda s, key: statistics.median(r[key] for r in servers[s])  # noqa: E731
    fig, axes = plt.subplots(1, 3, figsize=(8, 3))
    bars(axes[0], names, [med(s, "insert_rows_per_s") for s in names])
    axes[0].set_title("insert rows/s")
    bars(axes[1], names, [med(s, "search_qps") for s in names])
    axes[1].set_title("search queries/s")
    bars(axes[2], names, [med(s, "search_server_cpu_ms") for s in names], "{:.2f}")
    axes[2].set_title("server CPU ms per search")
    fig.suptitle(title or "through pymilvus")
    save(fig, stem)


def plot_remote(data, stem, title):
    labels = [f"{r['client']}\n→ {r['server']}" for r in data]
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    bars(axes[0], labels, [r["insert_rows_per_s"] for r in data])
    axes[0].set_title("insert rows/s")
    bars(axes[1], labels, [r["search_p50_ms"] for r in data], "{:.3f}")
    axes[1].set_title("search p50 ms")
    for ax in axes:
        ax.tick_params(axis="x", labelsize=7)
    fig.suptitle(title or "Swift RemoteDatabase and pymilvus on the same servers")
    save(fig, stem)


def plot_open(path, stem, title):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    labels = [r["label"] for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    bars(axes[0], labels, [r["open_s"] for r in rows], "{:.3f}")
    axes[0].set_title("Database.open, s")
    bars(axes[1], labels, [r["open_to_first_result_s"] for r in rows], "{:.2f}")
    axes[1].set_title("open to first search result, s")
    for ax in axes:
        ax.tick_params(axis="x", labelsize=7)
    fig.suptitle(title or f"{rows[0]['collections']} collections")
    save(fig, stem)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["ann", "faiss", "protocol", "remote", "open"])
    ap.add_argument("result")
    ap.add_argument("out_stem", help="output path without extension; .png and .svg are written")
    ap.add_argument("--title")
    args = ap.parse_args()
    if args.kind == "open":
        plot_open(args.result, args.out_stem, args.title)
        return
    data = last_json(args.result)
    {"ann": plot_ann, "faiss": plot_faiss, "protocol": plot_protocol, "remote": plot_remote}[args.kind](
        data, args.out_stem, args.title)


if __name__ == "__main__":
    main()
