"""The expected answers: a brute-force model of Milvus's search in numpy, independent of both
servers. Scores follow Milvus's conventions: IP and COSINE are similarities (larger first), L2 is
the squared Euclidean distance (smaller first), HAMMING counts differing bits (smaller first)."""

from __future__ import annotations

import numpy as np

LARGER_IS_CLOSER = {"IP": True, "COSINE": True, "L2": False, "HAMMING": False}


def scores(metric: str, data: np.ndarray, query: np.ndarray) -> np.ndarray:
    data = np.asarray(data, dtype=np.float64)
    query = np.asarray(query, dtype=np.float64)
    if metric == "IP":
        return data @ query
    if metric == "COSINE":
        norms = np.linalg.norm(data, axis=1) * np.linalg.norm(query)
        return (data @ query) / np.where(norms == 0, 1, norms)
    if metric == "L2":
        return ((data - query) ** 2).sum(axis=1)
    raise ValueError(metric)


def hamming(data: list[bytes], query: bytes) -> np.ndarray:
    q = np.unpackbits(np.frombuffer(query, dtype=np.uint8))
    return np.array([int((np.unpackbits(np.frombuffer(row, dtype=np.uint8)) != q).sum())
                     for row in data], dtype=np.float64)


def rank(ids: list, values: np.ndarray, metric: str, limit: int, offset: int = 0,
         keep=None) -> list[tuple[object, float]]:
    """(id, score) of the best `limit` hits after `offset`, ties broken by position; `keep(score)`
    filters hits (range search)."""
    order = sorted(range(len(ids)),
                   key=lambda i: (-values[i] if LARGER_IS_CLOSER[metric] else values[i], i))
    hits = [(ids[i], float(values[i])) for i in order if keep is None or keep(float(values[i]))]
    return hits[offset:offset + limit]


def deterministic_vectors(count: int, dim: int, seed: int) -> np.ndarray:
    """Rows of a seeded Gaussian, float32, spread enough that near-ties are absent."""
    return np.random.default_rng(seed).standard_normal((count, dim)).astype(np.float32)


def assert_hits(hits: list[dict], expected: list[tuple[object, float]], rel: float = 1e-4,
                abs_tol: float = 1e-4):
    got = [(h["id"], h["distance"]) for h in hits]
    assert [g[0] for g in got] == [e[0] for e in expected], f"ids {got} != {expected}"
    for (gid, gd), (_, ed) in zip(got, expected):
        assert abs(gd - ed) <= abs_tol + rel * abs(ed), f"id {gid}: distance {gd} != {ed}"


def normalize(metric: str, score: float) -> float:
    """Milvus's WeightedRanker normalization into [0, 1], larger is closer."""
    if metric == "COSINE":
        return (1.0 + score) * 0.5
    if metric == "IP":
        return 0.5 + float(np.arctan(score)) / np.pi
    return 1.0 - 2.0 * float(np.arctan(score)) / np.pi


def fuse(lists: list[list[tuple[object, float]]], strategy: str, metric: str, limit: int,
         offset: int = 0, k: float = 60.0, weights=None, norm_score: bool = True
         ) -> list[tuple[object, float]]:
    """Milvus's hybrid-search rerank of one query: RRF Σ 1/(k + rank) (rank from 1) or the
    weighted sum of (normalized) scores; ties go to the smaller id."""
    fused: dict[object, float] = {}
    for i, hits in enumerate(lists):
        for r, (pk, s) in enumerate(hits):
            add = (1.0 / (k + r + 1) if strategy == "rrf"
                   else weights[i] * (normalize(metric, s) if norm_score else s))
            fused[pk] = fused.get(pk, 0.0) + add
    descending = strategy == "rrf" or norm_score or LARGER_IS_CLOSER[metric]
    order = sorted(fused.items(), key=lambda kv: ((-kv[1] if descending else kv[1]), kv[0]))
    return order[offset:offset + limit]
