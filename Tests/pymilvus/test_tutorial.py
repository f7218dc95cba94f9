"""The "Build RAG with Milvus" tutorial's database calls, unchanged except for the URI."""

import json

import numpy as np

from reference import assert_hits, deterministic_vectors, rank, scores


def tutorial_flow(client, name, vectors, texts, query):
    """The tutorial's calls: drop if present, quick create (IP, Strong), insert dicts, search top 3."""
    if client.has_collection(name):
        client.drop_collection(name)
    client.create_collection(
        collection_name=name, dimension=vectors.shape[1], metric_type="IP",
        consistency_level="Strong",
    )
    data = [{"id": i, "vector": vectors[i].tolist(), "text": texts[i]} for i in range(len(texts))]
    inserted = client.insert(collection_name=name, data=data)
    assert inserted["insert_count"] == len(texts)
    assert list(inserted["ids"]) == list(range(len(texts)))
    result = client.search(
        collection_name=name, data=[query.tolist()], limit=3,
        search_params={"metric_type": "IP", "params": {}}, output_fields=["text"],
    )
    assert len(result) == 1
    return result[0]


def test_tutorial_deterministic_vectors(client, name):
    vectors = deterministic_vectors(72, 384, seed=14)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = [f"chunk {i}" for i in range(72)]
    query = vectors[5] + 0.5 * vectors[9]
    hits = tutorial_flow(client, name, vectors, texts, query)
    expected = rank(list(range(72)), scores("IP", vectors, query), "IP", 3)
    assert_hits(hits, expected)
    assert [h["entity"] for h in hits] == [{"text": texts[i]} for i, _ in expected]


def test_tutorial_minilm_faq(client, name, shared_embeddings):
    chunks = json.loads((shared_embeddings / "faq_chunks.json").read_text())["chunks"]
    vectors = np.load(shared_embeddings / "faq_chunks.f32.npy")
    query = np.load(shared_embeddings / "faq_query.f32.npy")[0]
    texts = [c["text"] for c in chunks]
    hits = tutorial_flow(client, name, vectors, texts, query)
    expected = rank(list(range(len(texts))), scores("IP", vectors, query), "IP", 3)
    # The reference data's README names these three for the tutorial's question.
    assert [i for i, _ in expected] == [31, 42, 30]
    assert_hits(hits, expected)
    assert [h["entity"] for h in hits] == [{"text": texts[i]} for i, _ in expected]
    assert texts[31].strip().startswith("Where does Milvus store data?")
