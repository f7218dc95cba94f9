#!/usr/bin/env python3
"""Side-by-side throughput of QuiverMiniLM (Swift) and onnxruntime on the same inputs.

Usage (see Documentation/Benchmarks.md for the environment):
    python Benchmarks/embeddings/bench.py --onnx /path/minilm_pool.onnx [--seconds 8] [--threads 1 2]

Inputs are built at run time from ../shared/data/embeddings/faq_chunks.json (not copied into the
repository) and written to Benchmarks/data/ (ignored by git):
  short.jsonl  128 texts of 25..35 tokens (sentences of the FAQ chunks, joined when too short)
  long.jsonl    64 texts of >= 300 tokens (consecutive chunks joined), truncated to 256 tokens
Both sides go from text to normalised vectors (tokenization included) in batches of 64, and
alternate run by run, so load from other processes hits them alike.
"""
import argparse, json, os, pathlib, re, subprocess, sys, time

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

ROOT = pathlib.Path(__file__).resolve().parents[2]


def find_data():
    for d in [ROOT, *ROOT.parents]:
        p = d / "shared/data/embeddings"
        if (p / "faq_chunks.json").exists():
            return p
    sys.exit("shared/data/embeddings not found above the repository")


def build_inputs(data, tok, out):
    chunks = [c["text"] for c in json.load(open(data / "faq_chunks.json"))["chunks"]]
    n_tok = lambda t: len(tok.encode(t).ids)
    sentences = [s.strip() for c in chunks for s in re.split(r"(?<=[.?!])\s+|\n+", c) if s.strip()]
    short, cur = [], ""
    for s in sentences:
        cand = (cur + " " + s).strip()
        n = n_tok(cand)
        if n > 35:
            cur = s if n_tok(s) <= 35 else ""
            continue
        cur = cand
        if n >= 25:
            short.append(cur)
            cur = ""
    short = (short * 4)[:128]
    long, i = [], 0
    while len(long) < 64:
        text = ""
        while n_tok(text) < 300:
            text += chunks[i % len(chunks)] + "\n"
            i += 1
        long.append(text)
    out.mkdir(parents=True, exist_ok=True)
    for name, texts in [("short", short), ("long", long)]:
        with open(out / f"{name}.jsonl", "w") as f:
            for t in texts:
                f.write(json.dumps(t) + "\n")
    return {"short": short, "long": long}


def bench_ort(sess, tok, texts, batch, seconds):
    def one_pass():
        for i in range(0, len(texts), batch):
            enc = tok.encode_batch(texts[i:i + batch])
            L = max(len(e.ids) for e in enc)
            ids = np.zeros((len(enc), L), dtype=np.int64)
            mask = np.zeros((len(enc), L), dtype=np.int64)
            for r, e in enumerate(enc):
                ids[r, :len(e.ids)] = e.ids
                mask[r, :len(e.ids)] = 1
            out = sess.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            assert out.shape == (len(enc), 384)
    one_pass()  # warm-up
    passes, t0, c0 = 0, time.perf_counter(), time.process_time()
    while True:
        one_pass()
        passes += 1
        if time.perf_counter() - t0 >= seconds:
            break
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    return passes * len(texts) / dt, passes * len(texts) / dc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--swift-bin", default=str(ROOT / "Benchmarks/.build/release/embed-bench"))
    args = ap.parse_args()

    data = find_data()
    tok = Tokenizer.from_file(str(data / "model/tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    inputs = build_inputs(data, tok, ROOT / "Benchmarks/data")
    tok.enable_truncation(256)
    rows = []
    for kind in ["short", "long"]:
        texts = inputs[kind]
        mean_tokens = sum(len(e.ids) for e in tok.encode_batch(texts)) / len(texts)
        for threads in args.threads:
            so = ort.SessionOptions()
            so.intra_op_num_threads = threads
            so.inter_op_num_threads = 1
            so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            sess = ort.InferenceSession(args.onnx, so, providers=["CPUExecutionProvider"])
            ort_sps, ort_cps = bench_ort(sess, tok, texts, args.batch, args.seconds)
            del sess
            res = json.loads(subprocess.check_output([
                args.swift_bin, "--file", str(ROOT / f"Benchmarks/data/{kind}.jsonl"),
                "--threads", str(threads), "--batch", str(args.batch), "--seconds", str(args.seconds)]))
            rows.append((kind, mean_tokens, threads, res["sentences_per_sec"], ort_sps,
                         res["sentences_per_cpu_sec"], ort_cps, res["peak_rss_mb"]))
            print(f"{kind:5s} {mean_tokens:6.1f} tok  {threads} thr  swift {res['sentences_per_sec']:8.1f}/s"
                  f" ({res['sentences_per_cpu_sec']:.1f}/cpu-s)  onnxruntime {ort_sps:8.1f}/s ({ort_cps:.1f}/cpu-s)"
                  f"  swift peak RSS {res['peak_rss_mb']:.0f} MB", file=sys.stderr, flush=True)
    print("| input | mean tokens | threads | Quiver sent/s (wall) | onnxruntime sent/s (wall) | Quiver / ORT (wall)"
          " | Quiver sent/CPU-s | onnxruntime sent/CPU-s | Quiver / ORT (CPU) | Quiver peak RSS |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kind, mt, th, s, o, sc, oc, rss in rows:
        print(f"| {kind} | {mt:.1f} | {th} | {s:.1f} | {o:.1f} | {s / o:.2f} | {sc:.1f} | {oc:.1f} | {sc / oc:.2f} | {rss:.0f} MB |")
    print(f"\nonnxruntime {ort.__version__}, batch {args.batch}, {args.seconds:g} s per measurement")


if __name__ == "__main__":
    main()
