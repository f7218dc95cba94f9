"""query_iterator and search_iterator: every row once, in order, past the 16,384 limit."""

import random


def fill(client, name, n, metric="L2"):
    client.create_collection(name, dimension=2, metric_type=metric, consistency_level="Strong")
    ids = list(range(0, 3 * n, 3))
    random.Random(5).shuffle(ids)
    for start in range(0, n, 5000):
        part = ids[start:start + 5000]
        client.insert(name, [{"id": i, "vector": [float(i % 101), float(i % 7)],
                              "color": ["red", "green", "blue"][i // 3 % 3]} for i in part])
    return sorted(ids)


def drain(it):
    """Every row of a query iterator's batches, in order; closes it."""
    rows = []
    while True:
        batch = it.next()
        if not batch:
            it.close()
            return rows
        rows += batch


def test_query_iterator_walks_every_row_once_in_key_order(client, name):
    ids = fill(client, name, 20_000)
    it = client.query_iterator(name, batch_size=3000, output_fields=["color"])
    seen, batches = [], 0
    while True:
        batch = it.next()
        if not batch:
            it.close()
            break
        assert len(batch) <= 3000
        batches += 1
        for row in batch:
            seen.append(row["id"])
            assert row["color"] == ["red", "green", "blue"][row["id"] // 3 % 3]
    assert seen == ids
    assert batches == 7


def test_query_iterator_filter_and_limit(client, name):
    ids = fill(client, name, 20_000)
    it = client.query_iterator(name, batch_size=1000, limit=2500, filter='color == "green"',
                               output_fields=["color"])
    seen = [row["id"] for row in drain(it)]
    assert seen == [i for i in ids if i // 3 % 3 == 1][:2500]


def test_search_iterator_walks_past_the_top_k_limit(client, name):
    n = 18_000
    fill(client, name, n)
    it = client.search_iterator(name, data=[[3.0, 1.0]], batch_size=2000, limit=n,
                                output_fields=["color"])
    seen, last = [], None
    while True:
        batch = it.next()
        if not batch:
            it.close()
            break
        for hit in batch:
            seen.append(hit["id"])
            assert last is None or hit["distance"] >= last - 1e-4
            last = hit["distance"]
    assert len(seen) == len(set(seen))
    assert len(seen) == n


def test_query_iterator_in_a_partition(client, name):
    client.create_collection(name, dimension=2, metric_type="L2", consistency_level="Strong")
    client.create_partition(name, "p")
    client.insert(name, [{"id": i, "vector": [float(i), 0.0]} for i in range(0, 6000, 2)], partition_name="p")
    client.insert(name, [{"id": i, "vector": [float(i), 0.0]} for i in range(1, 6000, 2)])
    it = client.query_iterator(name, batch_size=1000, partition_names=["p"], filter="id >= 1000")
    seen = [row["id"] for row in drain(it)]
    assert seen == list(range(1000, 6000, 2))
