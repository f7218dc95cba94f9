"""Full-text search (a BM25 function): a collection whose `sparse` field is the BM25 output of its
analyzed `text` field, created with pymilvus's `Function`, described back, filled with texts
only (the server computes the output field), and searched with query texts. Scores are checked
against an exact BM25 computed here in plain Python (Lucene's formula, k1 1.2, b 0.75, over every
live row of the collection: the standard analyzer keeps the lower-case ASCII words of these
texts as they are), with a filter, after deletes and after a flush, and in a hybrid search with
a dense request (RRF)."""

import math

import numpy as np
import pytest
from pymilvus import AnnSearchRequest, DataType, Function, FunctionType, MilvusClient, RRFRanker

from reference import fuse, rank, scores

COUNT = 150
DIM = 4
K1, B = 1.2, 0.75
WORDS = ["alpha", "beta", "gamma", "delta", "river", "stone", "cloud", "index", "segment",
         "quick", "brown", "fox", "lazy", "dog", "search", "vector", "text", "score"]
QUERIES = ["fox", "river stone", "index segment search", "alpha omega", "cloud dog vector"]

NEGATED_PER_SEGMENT = (
    "milvus-lite 3.2.2 returns BM25 scores negated (best first still: -0.65 for a score of "
    "0.65), and their magnitudes are not Lucene's BM25 over the collection's live rows, even "
    "for rows inserted at once and never flushed (2.615 where the formula gives 2.509 for the "
    "best hit of 'river stone' among these 150 rows; measured): its BM25 statistics are per "
    "segment index (milvus_lite/engine/collection.py: 'each segment currently uses its own IDF "
    "statistics'), where Milvus scores with collection-wide statistics")


@pytest.fixture(scope="module")
def docs():
    """Seeded texts of 2–12 words each (never empty), skewed toward the first words."""
    rng = np.random.default_rng(25)
    rows = []
    for i in range(COUNT):
        n = int(rng.integers(2, 13))
        words = [WORDS[min(int(rng.exponential(5)), len(WORDS) - 1)] for _ in range(n)]
        vector = [float(x) for x in rng.standard_normal(DIM).astype(np.float32)]
        rows.append({"id": i, "g": i % 3, "text": " ".join(words), "dense": vector})
    return rows


def bm25(query: str, live: list[dict], keep=lambda r: True) -> dict:
    """Exact BM25 of `query` for each row of `live` that `keep` passes and that holds a query
    word: statistics (N, df, average length) over all of `live`, whatever `keep` says."""
    tokens = {r["id"]: r["text"].split() for r in live}
    n = len(live)
    avg = sum(len(t) for t in tokens.values()) / n
    out = {}
    for r in live:
        if not keep(r):
            continue
        words = tokens[r["id"]]
        total, matched = 0.0, False
        for term in dict.fromkeys(query.split()):
            tf = words.count(term)
            if tf == 0:
                continue
            matched = True
            df = sum(1 for t in tokens.values() if term in t)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            total += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * len(words) / avg))
        if matched:
            out[r["id"]] = total
    return out


def assert_bm25_hits(hits: list[dict], model: dict, limit: int):
    """The hits are the model's best `limit` scores in order (ties in either order), and each
    hit's distance is its row's model score."""
    best = sorted(model.values(), reverse=True)[:limit]
    got = [h["distance"] for h in hits]
    assert len(got) == len(best), f"{len(got)} hits, model has {len(best)}: {hits}"
    for h, want in zip(hits, best):
        assert h["distance"] == pytest.approx(want, rel=1e-4, abs=1e-5), f"hits {got} != model {best}"
        assert model[h["id"]] == pytest.approx(h["distance"], rel=1e-4, abs=1e-5), f"id {h['id']}"


def make(client, name, rows, flush_half=False):
    s = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("g", DataType.INT64)
    s.add_field("text", DataType.VARCHAR, max_length=1000, enable_analyzer=True)
    s.add_field("dense", DataType.FLOAT_VECTOR, dim=DIM)
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_function(Function(name="text_bm25", function_type=FunctionType.BM25,
                            input_field_names=["text"], output_field_names=["sparse"]))
    params = client.prepare_index_params()
    params.add_index("dense", index_type="FLAT", metric_type="L2")
    params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    client.create_collection(name, schema=s, index_params=params, consistency_level="Strong")
    half = len(rows) // 2 if flush_half else len(rows)
    client.insert(name, rows[:half])  # no "sparse": the server computes it
    if flush_half:
        client.flush(name)
        client.insert(name, rows[half:])


def text_search(client, name, queries, limit=10, **kwargs):
    return client.search(name, data=queries, anns_field="sparse", limit=limit,
                         search_params={"metric_type": "BM25"}, **kwargs)


def test_describe_shows_the_function(client, name, docs):
    make(client, name, docs[:5])
    d = client.describe_collection(name)
    functions = d["functions"]
    assert len(functions) == 1
    f = functions[0]
    assert f["name"] == "text_bm25"
    assert f["type"] == FunctionType.BM25
    assert list(f["input_field_names"]) == ["text"] and list(f["output_field_names"]) == ["sparse"]
    fields = {x["name"]: x for x in d["fields"]}
    assert fields["sparse"].get("is_function_output") is True
    assert not fields["text"].get("is_function_output", False)
    assert str(fields["text"]["params"].get("enable_analyzer")).lower() == "true"
    assert client.describe_index(name, "sparse")["metric_type"] == "BM25"


@pytest.mark.known_issue("milvus-lite", NEGATED_PER_SEGMENT)
@pytest.mark.parametrize("flushed", [False, True])
def test_search_matches_exact_bm25(client, name, docs, flushed):
    make(client, name, docs, flush_half=flushed)
    results = text_search(client, name, QUERIES, limit=10, output_fields=["text"])
    assert len(results) == len(QUERIES)
    for query, hits in zip(QUERIES, results):
        assert_bm25_hits(hits, bm25(query, docs), 10)
        for h in hits:
            assert h["entity"]["text"] == docs[h["id"]]["text"]
    assert results[3] and all("alpha" in docs[h["id"]]["text"].split() for h in results[3])


@pytest.mark.known_issue("milvus-lite", NEGATED_PER_SEGMENT)
def test_a_filter_keeps_collection_wide_statistics(client, name, docs):
    make(client, name, docs)
    hits = client.search(name, data=["fox dog"], anns_field="sparse", limit=8, filter="g == 1",
                         search_params={"metric_type": "BM25", "params": {"drop_ratio_search": 0.0}})[0]
    assert hits and all(h["id"] % 3 == 1 for h in hits)
    assert_bm25_hits(hits, bm25("fox dog", docs, keep=lambda r: r["g"] == 1), 8)


@pytest.mark.known_issue("milvus-lite", NEGATED_PER_SEGMENT)
def test_deleted_rows_leave_the_statistics(client, name, docs):
    make(client, name, docs, flush_half=True)
    gone = {r["id"] for r in docs if "fox" in r["text"].split()}
    gone = set(sorted(gone)[: len(gone) // 2])
    client.delete(name, ids=sorted(gone))
    live = [r for r in docs if r["id"] not in gone]
    for query in ["fox", "river stone"]:
        hits = text_search(client, name, [query], limit=10)[0]
        assert not {h["id"] for h in hits} & gone
        assert_bm25_hits(hits, bm25(query, live), 10)


@pytest.mark.known_issue(
    "milvus-lite",
    "milvus-lite 3.2.2 returns a BM25 function's output field: output_fields=['sparse'] gives "
    "its term-frequency vectors and ['*'] includes them (measured), where Milvus refuses the "
    "first ('not allowed to retrieve raw data of field sparse') and leaves the field out of '*'")
def test_the_output_field_is_not_returned(client, name, docs):
    make(client, name, docs[:10])
    rows = client.query(name, filter="id >= 0", output_fields=["*"])
    assert len(rows) == 10 and all("sparse" not in r and "text" in r for r in rows)
    hits = text_search(client, name, ["fox"], limit=3, output_fields=["*"])[0]
    assert hits and all("sparse" not in h["entity"] for h in hits)
    with pytest.raises(Exception, match="not allowed to retrieve raw data"):
        client.query(name, filter="id >= 0", output_fields=["sparse"])
    with pytest.raises(Exception, match="not allowed to retrieve raw data"):
        text_search(client, name, ["fox"], limit=3, output_fields=["sparse"])


def test_bad_text_searches_are_refused(client, name, docs):
    make(client, name, docs[:10])
    with pytest.raises(Exception):  # texts on a dense field
        client.search(name, data=["fox"], anns_field="dense", limit=3)
    with pytest.raises(Exception):  # IP on the BM25 field
        client.search(name, data=["fox"], anns_field="sparse", limit=3, search_params={"metric_type": "IP"})
    with pytest.raises(Exception):  # the output field is computed, never sent
        client.insert(name, [{**docs[0], "id": 1000, "sparse": {1: 0.5}}])
    # Nothing was written by the refused insert.
    assert client.query(name, filter="id == 1000", output_fields=["id"]) == []


def test_hybrid_dense_and_bm25_with_rrf(client, name, docs):
    make(client, name, docs)
    query_vector = [0.3, -0.2, 0.5, 0.1]
    text = "river stone"
    dense = rank([r["id"] for r in docs], scores("L2", np.array([r["dense"] for r in docs], dtype=np.float32),
                                                   np.array(query_vector, dtype=np.float32)), "L2", 10)
    # The BM25 list in the server's own order (rows with equal scores may come in either order;
    # the scores themselves are checked by the cases above): RRF uses ranks only.
    texts = text_search(client, name, [text], limit=10)[0]
    assert len(texts) == 10 and all(set(text.split()) & set(docs[h["id"]]["text"].split()) for h in texts)
    fused = dict(fuse([dense, [(h["id"], 0.0) for h in texts]], "rrf", "L2", limit=len(docs)))
    best = sorted(fused.values(), reverse=True)[:5]
    hits = client.hybrid_search(name, [
        AnnSearchRequest(data=[query_vector], anns_field="dense", param={"metric_type": "L2"}, limit=10),
        AnnSearchRequest(data=[text], anns_field="sparse", param={"metric_type": "BM25"}, limit=10),
    ], RRFRanker(), limit=5, output_fields=["g"])[0]
    assert [h["distance"] for h in hits] == pytest.approx(best, rel=1e-5)
    for h in hits:
        assert fused[h["id"]] == pytest.approx(h["distance"], rel=1e-5)
        assert h["entity"]["g"] == h["id"] % 3
