#!/usr/bin/env python3
"""Real-text ANN data set: English sentences from Debian documentation packages, embedded with
all-MiniLM-L6-v2 by Quiver's own Swift implementation (QuiverMiniLM, through `embed-bench --out`).

    apt-get update && apt-get install -y python3.11-doc postgresql-doc-15 debian-handbook \
        debian-reference-en gnu-standards
    bash scripts/fetch-model.sh                 # weights into ~/.cache/quiver/models/all-MiniLM-L6-v2
    python3 Benchmarks/datasets/make_text_dataset.py --count 100000 --queries 1000

Reads the HTML of those packages (paragraphs, list items and definitions; code, tables and
navigation left out), splits the text into sentences, keeps sentences of 5–60 words, drops
duplicates (case- and space-insensitive), shuffles with a fixed seed and takes `--count` base
sentences and `--queries` held-out query sentences. Writes into Benchmarks/data/ (ignored by git):

    text_sentences.jsonl     every kept sentence, one JSON string a line, in the shuffled order
    text_base.jsonl          the first --count of them;  text_base.npy     float32 count × 384
    text_queries.jsonl       the next --queries;         text_queries.npy  float32 queries × 384

The vectors are L2-normalised (benchmark them with the cosine or ip metric). An existing .npy
whose row count matches is kept, so a rerun only redoes what is missing.
"""
import argparse
import glob
import html.parser
import json
import os
import random
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
DATA = os.path.join(BENCH, "data")
sys.path.insert(0, BENCH)

# Debian packages and the HTML files of theirs that are read.
SOURCES = {
    "python3.11-doc": "/usr/share/doc/python3.11/html/**/*.html",
    "postgresql-doc-15": "/usr/share/doc/postgresql-doc-15/html/*.html",
    "debian-handbook": "/usr/share/doc/debian-handbook/html/en-US/*.html",
    "debian-reference-en": "/usr/share/debian-reference/*.en.html",
    "gnu-standards": "/usr/share/doc/gnu-standards/*.html",
}
# Prose elements; DocBook output (debian-handbook) also wraps paragraphs in <div class="para">.
PROSE_TAGS = {"p", "li", "dd", "dt", "td", "blockquote"}
SKIP_TAGS = {"pre", "code", "script", "style", "nav", "head", "table", "tt", "kbd", "samp"}
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
WORD = re.compile(r"[A-Za-z]")


class ProseParser(html.parser.HTMLParser):
    """Collects the text of prose elements, leaving out code and navigation."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks, self.current, self.prose_depth, self.skip_depth = [], [], 0, 0
        self.open_divs = []  # per open <div>: whether it is a DocBook "para" (debian-handbook)

    def handle_starttag(self, tag, attrs):
        if tag in SKIP_TAGS:
            self.skip_depth += 1
        elif tag in PROSE_TAGS or (tag == "div" and "para" in (dict(attrs).get("class") or "").split()):
            self.flush()
            self.prose_depth += 1
            self.open_divs.append(tag == "div")
        elif tag == "div":
            self.open_divs.append(False)

    def handle_endtag(self, tag):
        if tag in SKIP_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in PROSE_TAGS or (tag == "div" and self.open_divs and self.open_divs.pop()):
            self.flush()
            self.prose_depth = max(0, self.prose_depth - 1)

    def handle_data(self, data):
        if self.prose_depth and not self.skip_depth:
            self.current.append(data)

    def flush(self):
        if self.current:
            self.blocks.append(" ".join("".join(self.current).split()))
            self.current = []


def sentences_of(path):
    parser = ProseParser()
    with open(path, encoding="utf-8", errors="replace") as f:
        parser.feed(f.read())
    parser.flush()
    for block in parser.blocks:
        for s in SENTENCE_END.split(block):
            s = s.strip()
            words = s.split()
            # 5–60 words, mostly words (not a stray code fragment), ending like a sentence.
            if 5 <= len(words) <= 60 and s[-1] in ".!?:" and sum(bool(WORD.search(w)) for w in words) >= 0.8 * len(words):
                yield s


def extract():
    missing = [pkg for pkg, pattern in SOURCES.items() if not glob.glob(pattern, recursive=True)]
    if missing:
        sys.exit(f"no files of {', '.join(missing)}: run  apt-get update && apt-get install -y {' '.join(SOURCES)}")
    seen, kept = set(), []
    for pkg, pattern in SOURCES.items():
        before = len(kept)
        for path in sorted(glob.glob(pattern, recursive=True)):
            for s in sentences_of(path):
                key = " ".join(s.lower().split())
                if key not in seen:
                    seen.add(key)
                    kept.append(s)
        print(f"{pkg}: {len(kept) - before} sentences", file=sys.stderr)
    return kept


def write_jsonl(path, texts):
    with open(path, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps(t, ensure_ascii=False) + "\n")


def rows_of(npy):
    import numpy as np
    return np.load(npy, mmap_mode="r").shape[0] if os.path.exists(npy) else -1


def embed(embed_bench, jsonl, npy, count, threads):
    if rows_of(npy) == count:
        print(f"{npy}: present, kept", file=sys.stderr)
        return
    t0 = time.time()
    subprocess.run([embed_bench, "--file", jsonl, "--out", npy, "--threads", str(threads)], check=True)
    print(f"{npy}: {count} vectors in {time.time() - t0:.0f} s", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=100_000, help="base sentences (default 100000)")
    ap.add_argument("--queries", type=int, default=1000, help="held-out query sentences (default 1000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--swift-flags", default="",
                    help="extra flags for building embed-bench (none needed: the kernels are chosen at run time)")
    ap.add_argument("--extract-only", action="store_true", help="write the JSONL files, do not embed")
    args = ap.parse_args()

    os.makedirs(DATA, exist_ok=True)
    t0 = time.time()
    sentences = extract()
    random.Random(args.seed).shuffle(sentences)
    need = args.count + args.queries
    if len(sentences) < need:
        sys.exit(f"only {len(sentences)} distinct sentences of 5–60 words; asked for {need}")
    paths = {name: os.path.join(DATA, f"text_{name}") for name in ("sentences.jsonl", "base.jsonl", "queries.jsonl",
                                                                  "base.npy", "queries.npy")}
    write_jsonl(paths["sentences.jsonl"], sentences)
    write_jsonl(paths["base.jsonl"], sentences[:args.count])
    write_jsonl(paths["queries.jsonl"], sentences[args.count:need])
    print(f"{len(sentences)} distinct sentences, {args.count} base + {args.queries} queries "
          f"({time.time() - t0:.0f} s)", file=sys.stderr)
    if args.extract_only:
        return
    flags = args.swift_flags.split()
    subprocess.run(["swift", "build", "-c", "release", "--package-path", BENCH, "--product", "embed-bench"] + flags,
                   check=True)
    bin_path = subprocess.run(["swift", "build", "-c", "release", "--package-path", BENCH, "--show-bin-path"] + flags,
                              check=True, capture_output=True, text=True).stdout.strip()
    embed_bench = os.path.join(bin_path, "embed-bench")
    # Queries first: a quick check that the model loads before the long run.
    embed(embed_bench, paths["queries.jsonl"], paths["queries.npy"], args.queries, args.threads)
    embed(embed_bench, paths["base.jsonl"], paths["base.npy"], args.count, args.threads)


if __name__ == "__main__":
    sys.exit(main())
