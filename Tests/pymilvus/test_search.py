"""Search against a brute-force model: several queries, metrics, index params (ef, nprobe), range
search, group by, offset, round_decimal, filters and output fields."""

import time

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient

from reference import assert_hits, deterministic_vectors, rank, scores

DIM, COUNT = 16, 200


@pytest.fixture(scope="module")
def data():
    vectors = deterministic_vectors(COUNT, DIM, seed=2026)
    queries = deterministic_vectors(3, DIM, seed=12)
    return vectors, queries


def make_collection(client, name, vectors, metric, index_type="FLAT", **index):
    s = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=True)
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("g", DataType.INT64)
    s.add_field("vec", DataType.FLOAT_VECTOR, dim=DIM)
    ip = client.prepare_index_params()
    ip.add_index("vec", index_type=index_type, metric_type=metric, params=index)
    client.create_collection(name, schema=s, index_params=ip, consistency_level="Strong")
    client.insert(name, [{"id": i, "g": i % 7, "vec": v.tolist(), "tag": f"t{i}"}
                         for i, v in enumerate(vectors)])


@pytest.mark.parametrize("metric", ["L2", "IP", "COSINE"])
def test_several_queries_each_metric(client, name, data, metric):
    vectors, queries = data
    make_collection(client, name, vectors, metric)
    result = client.search(name, [q.tolist() for q in queries], limit=10)
    assert len(result) == len(queries)
    for q, hits in zip(queries, result):
        assert_hits(hits, rank(list(range(COUNT)), scores(metric, vectors, q), metric, 10))


def wait_until_indexed(client, name, timeout=30.0):
    """Waits until describe_index reports every row indexed, then 1 s more: milvus-lite says
    Finished at once but swaps its index in for the brute-force scan about 0.5 s after flush, and
    the case must exercise the index."""
    deadline = time.monotonic() + timeout
    while True:
        index = client.describe_index(name, "vec")
        if index["state"] == "Finished" and index.get("indexed_rows") == COUNT:
            break
        assert time.monotonic() < deadline, f"index not built in {timeout} s: {index}"
        time.sleep(0.1)
    time.sleep(1.0)


@pytest.mark.parametrize("index_type, index, params", [
    ("HNSW", {"M": 16, "efConstruction": 200}, {"ef": 200}),
    pytest.param("IVF_FLAT", {"nlist": 4}, {"nprobe": 4}, marks=pytest.mark.known_issue(
        "milvus-lite",
        "milvus-lite 3.2.2 does not build the nlist=4 lists asked for: once its index replaces "
        "the brute-force scan (about 0.5 s after flush), nprobe=4 misses true top-5 neighbours "
        "and nprobe=1 returns fewer than 5 hits; nprobe=100 is exact")),
    ("AUTOINDEX", {}, {}),
])
def test_index_search_params(client, name, data, index_type, index, params):
    """With ef ≥ the row count or every list probed, the approximate index answers exactly."""
    vectors, queries = data
    make_collection(client, name, vectors, "L2", index_type, **index)
    client.flush(name)
    wait_until_indexed(client, name)
    for q in queries:
        hits = client.search(name, [q.tolist()], limit=5, search_params={"params": params})[0]
        assert_hits(hits, rank(list(range(COUNT)), scores("L2", vectors, q), "L2", 5))


@pytest.mark.parametrize("metric, radius, range_filter", [
    ("L2", 14.0, 9.0),      # keeps 9.0 <= d < 14.0
    ("IP", 3.0, 5.0),       # keeps 3.0 < s <= 5.0
])
def test_range_search(client, name, data, metric, radius, range_filter):
    vectors, queries = data
    make_collection(client, name, vectors, metric)
    q = queries[0]
    if metric == "L2":
        keep = lambda d: range_filter <= d < radius  # noqa: E731
    else:
        keep = lambda s: radius < s <= range_filter  # noqa: E731
    expected = rank(list(range(COUNT)), scores(metric, vectors, q), metric, 50, keep=keep)
    assert 3 <= len(expected) < 50, "the range should cut the result"
    hits = client.search(name, [q.tolist()], limit=50,
                         search_params={"params": {"radius": radius,
                                                   "range_filter": range_filter}})[0]
    assert_hits(hits, expected)


def test_group_by(client, name, data):
    vectors, queries = data
    make_collection(client, name, vectors, "IP")
    q = queries[1]
    ranked = rank(list(range(COUNT)), scores("IP", vectors, q), "IP", COUNT)
    best_per_group = {}
    for i, s in ranked:
        best_per_group.setdefault(i % 7, (i, s))
    expected = sorted(best_per_group.values(), key=lambda h: -h[1])[:4]
    hits = client.search(name, [q.tolist()], limit=4, group_by_field="g", output_fields=["g"])[0]
    assert_hits(hits, expected)
    assert [h["entity"]["g"] for h in hits] == [i % 7 for i, _ in expected]


def test_offset_and_filter(client, name, data):
    vectors, queries = data
    make_collection(client, name, vectors, "L2")
    q = queries[2]
    values = scores("L2", vectors, q)
    hits = client.search(name, [q.tolist()], limit=5, offset=3)[0]
    assert_hits(hits, rank(list(range(COUNT)), values, "L2", 5, offset=3))
    kept = [i for i in range(COUNT) if i % 7 == 3]
    hits = client.search(name, [q.tolist()], limit=5, filter="g == 3 and id > 20")[0]
    kept = [i for i in kept if i > 20]
    assert_hits(hits, rank(kept, values[kept], "L2", 5))
    hits = client.search(name, [q.tolist()], limit=5, filter='tag in ["t1", "t8", "t15"]')[0]
    assert_hits(hits, rank([1, 8, 15], values[[1, 8, 15]], "L2", 5))


def test_round_decimal(client, name, data):
    vectors, queries = data
    make_collection(client, name, vectors, "L2")
    q = queries[0]
    expected = rank(list(range(COUNT)), scores("L2", vectors, q), "L2", 5)
    hits = client.search(name, [q.tolist()], limit=5, round_decimal=2)[0]
    assert [h["id"] for h in hits] == [i for i, _ in expected]
    for h, (_, d) in zip(hits, expected):
        assert abs(h["distance"] * 100 - round(h["distance"] * 100)) < 1e-3, h
        assert abs(h["distance"] - d) <= 0.005 + 1e-4, (h, d)


def test_output_fields_star_and_dynamic(client, name, data):
    vectors, queries = data
    make_collection(client, name, vectors, "IP")
    q = queries[0]
    top = rank(list(range(COUNT)), scores("IP", vectors, q), "IP", 3)
    hits = client.search(name, [q.tolist()], limit=3, output_fields=["*"])[0]
    assert_hits(hits, top)
    for h, (i, _) in zip(hits, top):
        assert set(h["entity"]) == {"id", "g", "vec", "tag"}
        assert h["entity"]["g"] == i % 7 and h["entity"]["tag"] == f"t{i}"
        assert np.allclose(h["entity"]["vec"], vectors[i])
    hits = client.search(name, [q.tolist()], limit=3, output_fields=["tag"])[0]
    assert [h["entity"] for h in hits] == [{"tag": f"t{i}"} for i, _ in top]


@pytest.mark.known_issue(
    "milvus-lite",
    "milvus-lite 3.2.2 returns every field (vector and dynamic keys included) in each hit when "
    "no output field is asked for; Milvus returns only the primary key and distance",
)
def test_no_output_fields_returns_only_ids(client, name, data):
    vectors, queries = data
    make_collection(client, name, vectors, "IP")
    hits = client.search(name, [queries[0].tolist()], limit=3)[0]
    assert [h["entity"] for h in hits] == [{}, {}, {}]
