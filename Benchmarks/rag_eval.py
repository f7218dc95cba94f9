#!/usr/bin/env python3
"""Retrieval quality of `quiver retrieve` on the evaluation set Benchmarks/rag-eval/questions.jsonl.

The set: 64 questions over ../shared/data/milvus-docs-en/ (34 with exact technical terms — API,
parameter and configuration names, error strings — and 30 natural ones), each with the files
that answer it (paths relative to that folder). Written for this project from the documents'
contents; no document text is copied.

For each question and retrieval mode the script runs
`quiver retrieve DB QUESTION --json --limit K --mode MODE` and reads the chunks' `source` paths. A chunk is relevant when its source is one of the
question's answer files. Reported per mode, overall and per kind (term / natural):
hit@1, hit@3, hit@5 (a relevant chunk among the first 1, 3, 5) and MRR@K (1 / the rank of the
first relevant chunk, 0 when none is among the first K).

    python3 Benchmarks/rag_eval.py                       # ingests the docs into a temporary database
    python3 Benchmarks/rag_eval.py --db ./eval.quiver    # reuses (or creates) that database
    python3 Benchmarks/rag_eval.py --modes dense,bm25,hybrid --json results.json
    python3 Benchmarks/rag_eval.py --modes hybrid --retrieve-args=--candidates=10   # other settings

`--modes` other than `dense` need a `quiver retrieve` with `--mode` (BM25 and hybrid retrieval);
a mode the binary does not know is reported as unavailable, not as zero. Both shapes of
`retrieve --json` are read: a list of chunks (before `--mode`) and `{"mode", "chunks"}`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO.parent / "shared" / "data" / "milvus-docs-en"
QUESTIONS = REPO / "Benchmarks" / "rag-eval" / "questions.jsonl"


def default_quiver() -> str:
    for config in ("release", "debug"):
        path = REPO / ".build" / config / "quiver"
        if path.exists():
            return str(path)
    found = shutil.which("quiver")
    if not found:
        sys.exit("rag_eval.py: no quiver binary; build one (swift build -c release --product quiver) or pass --quiver")
    return found


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True)


def ingest(quiver: str, db: str, docs: Path) -> float:
    files = sorted(str(p) for p in docs.rglob("*.md"))
    start = time.monotonic()
    r = run([quiver, "ingest", db, *files])
    if r.returncode != 0:
        sys.exit(f"rag_eval.py: quiver ingest failed:\n{r.stderr}")
    return time.monotonic() - start


def relative(source: str, docs: Path) -> str:
    try:
        return str(Path(source).resolve().relative_to(docs.resolve()))
    except ValueError:
        return source


def retrieve(quiver: str, db: str, question: str, mode: str, k: int, docs: Path, extra: list[str]) -> list[str] | None:
    cmd = [quiver, "retrieve", db, question, "--json", "--limit", str(k), "--mode", mode, *extra]
    r = run(cmd)
    if r.returncode != 0:
        if "Unknown option '--mode'" in r.stderr:
            if mode == "dense" and not extra:  # a quiver before --mode: dense is all it does
                r = run(cmd[:-2])
            if r.returncode != 0:
                return None
        else:
            sys.exit(f"rag_eval.py: quiver retrieve failed for {question!r}:\n{r.stderr}")
    out = json.loads(r.stdout)
    if isinstance(out, dict):
        if out.get("mode") != mode:
            sys.exit(f"rag_eval.py: asked for mode {mode}, quiver retrieve used {out.get('mode')}")
        out = out["chunks"]
    return [relative(chunk["source"], docs) for chunk in out]


def scores(ranked: list[list[str]], answers: list[list[str]], k: int) -> dict[str, float]:
    n = len(ranked)
    first = []
    for sources, good in zip(ranked, answers):
        rank = next((i + 1 for i, s in enumerate(sources[:k]) if s in good), None)
        first.append(rank)
    return {
        "hit@1": sum(1 for r in first if r is not None and r <= 1) / n,
        "hit@3": sum(1 for r in first if r is not None and r <= 3) / n,
        "hit@5": sum(1 for r in first if r is not None and r <= 5) / n,
        f"mrr@{k}": sum(1.0 / r for r in first if r is not None) / n,
        "questions": n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="database directory (created and ingested when it has no docs collection)")
    parser.add_argument("--docs", default=str(DOCS))
    parser.add_argument("--questions", default=str(QUESTIONS))
    parser.add_argument("--quiver", default=None)
    parser.add_argument("--modes", default="dense")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--json", help="write the results here too")
    parser.add_argument("--retrieve-args", default="", help="more arguments for quiver retrieve, space-separated")
    args = parser.parse_args()

    docs = Path(args.docs)
    if not docs.is_dir():
        sys.exit(f"rag_eval.py: {docs} is missing (../shared/data/milvus-docs-en beside the repository)")
    quiver = args.quiver or default_quiver()
    questions = [json.loads(line) for line in open(args.questions) if line.strip()]

    temporary = None
    db = args.db
    if db is None:
        temporary = tempfile.mkdtemp(prefix="quiver-rag-eval-")
        db = os.path.join(temporary, "eval.quiver")
    result: dict = {"quiver": quiver, "questions": len(questions), "k": args.k,
                    "retrieve_args": args.retrieve_args, "modes": {}}
    try:
        listed = run([quiver, "list", db])
        if listed.returncode != 0 or "docs" not in json.loads(listed.stdout or "[]"):
            result["ingest_seconds"] = round(ingest(quiver, db, docs), 1)
            print(f"ingested {docs} in {result['ingest_seconds']} s", file=sys.stderr)
        for mode in args.modes.split(","):
            start = time.monotonic()
            ranked = []
            for q in questions:
                sources = retrieve(quiver, db, q["question"], mode, args.k, docs, args.retrieve_args.split())
                if sources is None:
                    ranked = None
                    break
                ranked.append(sources)
            if ranked is None:
                result["modes"][mode] = "unavailable: this quiver has no `retrieve --mode`"
                continue
            per = {"all": scores(ranked, [q["answers"] for q in questions], args.k)}
            for kind in ("term", "natural"):
                idx = [i for i, q in enumerate(questions) if q["kind"] == kind]
                per[kind] = scores([ranked[i] for i in idx], [questions[i]["answers"] for i in idx], args.k)
            per["seconds"] = round(time.monotonic() - start, 1)
            per["misses@5"] = [q["id"] for q, r in zip(questions, ranked)
                               if not any(s in q["answers"] for s in r[:5])]
            result["modes"][mode] = per
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)

    print(f"{'mode':8} {'subset':8} {'hit@1':>6} {'hit@3':>6} {'hit@5':>6} {'MRR@' + str(args.k):>7}  n")
    for mode, per in result["modes"].items():
        if isinstance(per, str):
            print(f"{mode:8} {per}")
            continue
        for subset in ("all", "term", "natural"):
            s = per[subset]
            print(f"{mode:8} {subset:8} {s['hit@1']:6.3f} {s['hit@3']:6.3f} {s['hit@5']:6.3f} "
                  f"{s['mrr@' + str(args.k)]:7.3f}  {s['questions']}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
