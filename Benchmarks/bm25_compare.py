#!/usr/bin/env python3
"""BM25 top-10 side by side: tantivy and bm25s against an exact BM25 computed here in numpy.

    python3 -m venv /tmp/bm25 && /tmp/bm25/bin/pip install numpy scipy tantivy==0.27.0 bm25s==0.3.16
    /tmp/bm25/bin/python Benchmarks/bm25_compare.py --json bm25.json

Two corpora, both from ../shared/data/milvus-docs-en (224 Markdown files):

  chunks      the documents split at blank lines into chunks of at most 1,500 characters (as a
              RAG ingest would); queries: the 64 questions of Benchmarks/rag-eval/questions.jsonl
              and every Markdown heading of the documents (deduplicated).
  synthetic   --docs short documents (default 100,000) drawn from the documents' own unigram
              distribution: each document's length is a line length of the corpus (lines of 3-40
              tokens), its tokens are sampled by corpus frequency (seeded, numpy); queries: 2-4
              tokens drawn the same way from tokens of document frequency 0.01%-10%, so that
              each query matches a few hundred to a few thousand documents.

Tokenization is the same everywhere: Unicode alphanumeric runs ([^\\W_]+), lower-cased, tokens
longer than 40 bytes dropped — what tantivy's `default` tokenizer does; the texts are handed to
tantivy as these tokens joined by spaces and to bm25s as token lists, so both index the same terms.
A query is a disjunction of its distinct terms.

BM25 is Lucene's, k1 = 1.2, b = 0.75: idf = ln(1 + (N − df + 0.5) / (df + 0.5)), tf·(k1 + 1) /
(tf + k1·(1 − b + b·len/avglen)). The reference (numpy + scipy.sparse) scores every document of
every query with exact lengths; its top 10 (ties by the smaller document number) is the truth.
tantivy stores document lengths in one byte (Lucene's lossy field norms), so its scores differ
slightly and a top 10 can differ at the boundary; bm25s (method "lucene") keeps exact lengths.

Quiver runs through Benchmarks/Sources/bm25-bench (build it first, release:
`swift build -c release --package-path Benchmarks --product bm25-bench`; --bm25-bench PATH names
another binary, and Quiver is left out when it is missing). It gets the documents and each
query's distinct tokens as lines of space-joined tokens, in a collection whose text field has the
analyzer {"tokenizer": "whitespace"} (it checks with Database.analyze that the tokens come back
unchanged), a BM25 function into a sparse field, default DatabaseOptions, inserted in batches of
10,000, flushed, then SPARSE_INVERTED_INDEX (bm25_k1 1.2, bm25_b 0.75) built and waited for.
Quiver stores exact lengths, so its top 10 must equal the reference's up to ties.

Reported per engine and corpus: index build time (Quiver: insert + flush + index + its first
search, which inverts each segment's column once), size on disk (Quiver: the whole database
directory, the stored texts and the WAL included), queries per second on 1 and on 2 threads
(tantivy: one query per call, a thread pool of 1 or 2; bm25s: its batch retrieve with n_threads 1
or 2; Quiver: one query per `Database.search` call, on one thread or on two threads taking the
next query from a shared counter), and agreement with the exact top 10 (queries whose top-10 set
equals the reference's; queries whose top 10 is correct up to ties, every document scoring at
least the reference's 10th score; and the mean overlap of the sets). Each timing is the best of
--passes passes.

Hybrid latency (--hybrid, the chunks by default): bm25-bench --hybrid 384 adds a 384-dimensional
dense field of seeded random unit vectors (COSINE, no index: exact) and times, per query, one
query per call, one thread: the dense search alone, the BM25 search alone, both as two calls,
and hybridSearch of the two fused by RRF (limit 10 each), 15 rounds in rotating order; medians of
wall and CPU time, and hybrid / (dense + BM25).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import scipy.sparse as sp

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO.parent / "shared" / "data" / "milvus-docs-en"
QUESTIONS = REPO / "Benchmarks" / "rag-eval" / "questions.jsonl"
K1, B, TOP = 1.2, 0.75, 10
TOKEN = re.compile(r"[^\W_]+")


def tokenize(text: str) -> list[str]:
    return [t for t in (m.lower() for m in TOKEN.findall(text)) if len(t.encode()) <= 40]


# MARK: - Corpora

def chunk_corpus(docs: Path) -> tuple[list[str], list[str]]:
    chunks, headings = [], set()
    for path in sorted(docs.rglob("*.md")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for line in text.splitlines():
            if line.startswith("#"):
                h = line.lstrip("#").strip()
                if tokenize(h):
                    headings.add(h)
        current = ""
        for paragraph in re.split(r"\n\s*\n", text):
            if current and len(current) + len(paragraph) + 2 > 1500:
                chunks.append(current)
                current = ""
            while len(paragraph) > 1500:
                chunks.append(paragraph[:1500])
                paragraph = paragraph[1500:]
            current = current + "\n\n" + paragraph if current else paragraph
        if current.strip():
            chunks.append(current)
    questions = [json.loads(line)["question"] for line in open(QUESTIONS) if line.strip()]
    return chunks, questions + sorted(headings)


def synthetic_corpus(docs: Path, count: int, queries: int, seed: int) -> tuple[list[list[str]], list[list[str]]]:
    lines = []
    for path in sorted(docs.rglob("*.md")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            toks = tokenize(line)
            if 3 <= len(toks) <= 40:
                lines.append(toks)
    vocab, counts = np.unique(np.array([t for l in lines for t in l], dtype=object), return_counts=True)
    p = counts / counts.sum()
    rng = np.random.default_rng(seed)
    lengths = rng.choice(np.array([len(l) for l in lines]), size=count)
    flat = rng.choice(len(vocab), size=int(lengths.sum()), p=p)
    corpus, at = [], 0
    for n in lengths:
        corpus.append([vocab[i] for i in flat[at:at + n]])
        at += n
    df = {}
    for d in corpus:
        for t in set(d):
            df[t] = df.get(t, 0) + 1
    mid = np.array([t for t, n in df.items() if count * 1e-4 <= n <= count * 0.1], dtype=object)
    out = []
    for _ in range(queries):
        out.append(list(rng.choice(mid, size=int(rng.integers(2, 5)), replace=False)))
    return corpus, out


# MARK: - The exact reference

class ExactBM25:
    def __init__(self, corpus: list[list[str]]):
        self.terms: dict[str, int] = {}
        rows, cols, vals = [], [], []
        for d, toks in enumerate(corpus):
            tf: dict[int, int] = {}
            for t in toks:
                j = self.terms.setdefault(t, len(self.terms))
                tf[j] = tf.get(j, 0) + 1
            for j, n in tf.items():
                rows.append(d)
                cols.append(j)
                vals.append(n)
        n_docs = len(corpus)
        self.tf = sp.csc_matrix((np.array(vals, dtype=np.float64), (rows, cols)), shape=(n_docs, len(self.terms)))
        lengths = np.array([len(t) for t in corpus], dtype=np.float64)
        self.norm = K1 * (1 - B + B * lengths / lengths.mean())
        df = np.diff(self.tf.indptr)
        self.idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5))
        self.n = n_docs

    def top(self, query: list[str], k: int = TOP) -> list[int]:
        scores = self.scores(query)
        matched = np.flatnonzero(scores > 0)
        order = matched[np.lexsort((matched, -scores[matched]))]
        return [int(d) for d in order[:k]]

    def equivalent(self, query: list[str], ids: list[int], k: int = TOP) -> bool:
        """Whether `ids` is a correct top k up to ties: as many documents as the reference has,
        none twice, each scoring at least the reference's k-th score (1e-6 relative slack)."""
        scores = self.scores(query)
        truth = self.top(query, k)
        if len(ids) != len(truth) or len(set(ids)) != len(ids):
            return False
        if not truth:
            return True
        kth = scores[truth[-1]]
        return all(scores[d] >= kth - 1e-6 * max(1.0, kth) for d in ids)

    def scores(self, query: list[str]) -> np.ndarray:
        scores = np.zeros(self.n)
        for t in set(query):
            j = self.terms.get(t)
            if j is None:
                continue
            start, end = self.tf.indptr[j], self.tf.indptr[j + 1]
            docs, tf = self.tf.indices[start:end], self.tf.data[start:end]
            scores[docs] += self.idf[j] * tf * (K1 + 1) / (tf + self.norm[docs])
        return scores


# MARK: - Engines

def dir_size(path: str) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def run_tantivy(corpus, queries, work, passes):
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("doc", stored=True, fast=True)
    builder.add_text_field("body", stored=False, tokenizer_name="default", index_option="freq")
    schema = builder.build()
    path = os.path.join(work, "tantivy")
    os.makedirs(path)
    start = time.perf_counter()
    index = tantivy.Index(schema, path=path)
    writer = index.writer(heap_size=256_000_000, num_threads=1)
    for i, toks in enumerate(corpus):
        writer.add_document(tantivy.Document(doc=i, body=" ".join(toks)))
    writer.commit()
    writer.wait_merging_threads()
    build = time.perf_counter() - start
    index.reload()
    searcher = index.searcher()
    built = [tantivy.Query.boolean_query([
        (tantivy.Occur.Should, tantivy.Query.term_query(schema, "body", t)) for t in dict.fromkeys(q)]) for q in queries]

    def one(query):
        return [searcher.doc(addr)["doc"][0] for _, addr in searcher.search(query, TOP).hits]

    tops = [one(q) for q in built]
    qps = {}
    for threads in (1, 2):
        best = float("inf")
        for _ in range(passes):
            start = time.perf_counter()
            if threads == 1:
                for q in built:
                    searcher.search(q, TOP)
            else:
                with ThreadPoolExecutor(threads) as pool:
                    list(pool.map(lambda q: searcher.search(q, TOP), built))
            best = min(best, time.perf_counter() - start)
        qps[threads] = len(built) / best
    return {"build_s": build, "size_bytes": dir_size(path), "qps": qps}, tops


def run_bm25s(corpus, queries, work, passes):
    import bm25s

    start = time.perf_counter()
    retriever = bm25s.BM25(method="lucene", k1=K1, b=B)
    retriever.index(corpus, show_progress=False)
    build = time.perf_counter() - start
    path = os.path.join(work, "bm25s")
    retriever.save(path)
    qs = [list(dict.fromkeys(q)) for q in queries]
    # bm25s needs every query token in its vocabulary
    known = [[t for t in q if t in retriever.vocab_dict] or [next(iter(retriever.vocab_dict))] for q in qs]
    docs, scores = retriever.retrieve(known, k=TOP, show_progress=False, n_threads=1)
    # bm25s fills a short list up to k with documents of score 0; they do not match
    tops = [[int(d) for d, s in zip(row, srow) if s > 0] for row, srow in zip(docs, scores)]
    qps = {}
    for threads in (1, 2):
        best = float("inf")
        for _ in range(passes):
            start = time.perf_counter()
            retriever.retrieve(known, k=TOP, show_progress=False, n_threads=threads)
            best = min(best, time.perf_counter() - start)
        qps[threads] = len(qs) / best
    return {"build_s": build, "size_bytes": dir_size(path), "qps": qps}, tops


def run_quiver(corpus, queries, work, passes, binary, hybrid=None):
    """Quiver through Benchmarks/Sources/bm25-bench (release): the documents and the queries'
    distinct tokens, joined by spaces, one a line; its JSON has build, size, QPS and top 10s
    (or, with `hybrid` = a dimension, the hybrid latency run instead)."""
    path = os.path.join(work, "quiver-hybrid" if hybrid else "quiver")
    os.makedirs(path)
    docs, qs, out = (os.path.join(path, n) for n in ("docs.txt", "queries.txt", "out.json"))
    Path(docs).write_text("".join(" ".join(d) + "\n" for d in corpus), encoding="utf-8")
    Path(qs).write_text("".join(" ".join(dict.fromkeys(q)) + "\n" for q in queries), encoding="utf-8")
    command = [binary, "--docs", docs, "--queries", qs, "--out", out, "--passes", str(passes), "--db", os.path.join(path, "db")]
    if hybrid:
        command += ["--hybrid", str(hybrid)]
    if hybrid:
        command += ["--rounds", "15"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    stats = json.loads(Path(out).read_text())
    if hybrid:
        return stats["hybrid"] | {"size_bytes": stats["size_bytes"]}, None
    tops = stats.pop("tops")
    stats["qps"] = {int(t): v for t, v in stats["qps"].items()}
    return stats, tops


def agreement(tops, truth, exact, queries):
    same = sum(1 for a, b in zip(tops, truth) if set(a) == set(b))
    correct = sum(1 for a, q in zip(tops, queries) if exact.equivalent(q, a))
    overlap = np.mean([len(set(a) & set(b)) / max(1, len(b)) for a, b in zip(tops, truth)])
    return {"identical_top10": same, "correct_top10": correct, "queries": len(truth), "mean_overlap": float(overlap)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=100_000, help="synthetic documents")
    parser.add_argument("--queries", type=int, default=1000, help="synthetic queries")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--corpora", default="chunks,synthetic")
    parser.add_argument("--json")
    parser.add_argument("--bm25-bench", default=str(REPO / "Benchmarks" / ".build" / "release" / "bm25-bench"),
                        help="Quiver's side (swift build -c release --package-path Benchmarks --product bm25-bench)")
    parser.add_argument("--hybrid", default="chunks", help="corpora on which to time Quiver's hybrid search (comma-separated, or none)")
    parser.add_argument("--hybrid-dim", type=int, default=384)
    args = parser.parse_args()
    engines = [("tantivy", run_tantivy), ("bm25s", run_bm25s)]
    if os.path.exists(args.bm25_bench):
        engines.append(("quiver", lambda c, q, w, p: run_quiver(c, q, w, p, args.bm25_bench)))
    else:
        print(f"no {args.bm25_bench}: Quiver left out")

    results = {}
    for name in args.corpora.split(","):
        if name == "chunks":
            texts, qtexts = chunk_corpus(DOCS)
            corpus, queries = [tokenize(t) for t in texts], [tokenize(q) for q in qtexts]
        else:
            corpus, queries = synthetic_corpus(DOCS, args.docs, args.queries, args.seed)
        queries = [q for q in queries if q]
        exact = ExactBM25(corpus)
        start = time.perf_counter()
        truth = [exact.top(q) for q in queries]
        exact_s = time.perf_counter() - start
        row = {"documents": len(corpus), "queries": len(queries),
               "tokens": int(sum(len(d) for d in corpus)), "exact_qps": len(queries) / exact_s}
        work = tempfile.mkdtemp(prefix="bm25-compare-")
        try:
            for engine, run in engines:
                stats, tops = run(corpus, queries, work, args.passes)
                stats["agreement"] = agreement(tops, truth, exact, queries)
                row[engine] = stats
            if name in args.hybrid.split(",") and os.path.exists(args.bm25_bench):
                row["quiver_hybrid"], _ = run_quiver(corpus, queries, work, args.passes, args.bm25_bench, hybrid=args.hybrid_dim)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        results[name] = row

    print(f"{'corpus':10} {'engine':8} {'docs':>8} {'queries':>7} {'build s':>8} {'size MB':>8} "
          f"{'QPS 1t':>8} {'QPS 2t':>8} {'same top10':>10} {'correct':>10} {'overlap':>7}")
    for name, row in results.items():
        for engine in ("tantivy", "bm25s", "quiver"):
            if engine not in row:
                continue
            s = row[engine]
            a = s["agreement"]
            print(f"{name:10} {engine:8} {row['documents']:8} {row['queries']:7} {s['build_s']:8.2f} "
                  f"{s['size_bytes'] / 1e6:8.2f} {s['qps'][1]:8.0f} {s['qps'][2]:8.0f} "
                  f"{a['identical_top10']:>5}/{a['queries']:<4} {a['correct_top10']:>5}/{a['queries']:<4} {a['mean_overlap']:7.4f}")
        print(f"{name:10} {'exact':8} {row['documents']:8} {row['queries']:7} {'':8} {'':8} {row['exact_qps']:8.0f}")
    for name, row in results.items():
        if "quiver_hybrid" in row:
            h = row["quiver_hybrid"]
            m = h["median_ms"]
            print(f"{name:10} hybrid latency (ms/query, median of {h['rounds']} rounds, dense d={h['dimension']} FLAT): "
                  f"dense {m['dense']:.3f}  bm25 {m['bm25']:.3f}  hybrid RRF {m['hybrid']:.3f}  "
                  f"hybrid / (dense + bm25) = {h['ratio']:.3f}; CPU time: "
                  f"{h['median_cpu_ms']['dense']:.3f} {h['median_cpu_ms']['bm25']:.3f} {h['median_cpu_ms']['hybrid']:.3f}, ratio {h['cpu_ratio']:.3f}; "
                  f"both searches as two calls {m['both']:.3f}, hybrid / both {h['ratio_to_both']:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
