"""Server lifecycle: what survives a restart (index names), and stopping with SIGTERM while an
index builds and a client writes (`quiver serve` only: exit within a bound, every acknowledged
row there after the restart).

These tests start their own servers (a restart needs the same data directory), so they do not
use the session's shared server.
"""

from __future__ import annotations

import signal
import threading
import time

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient

from servers import start_server


def pytest_generate_tests(metafunc):
    """`kind`: each server under test, by name (these tests start their own). A
    `known_issue(server, reason)` mark is a strict xfail for that server, as in conftest.py."""
    if "kind" in metafunc.fixturenames:
        issues = {m.args[0]: m.args[1] for m in metafunc.definition.iter_markers("known_issue")}
        metafunc.parametrize("kind", [
            pytest.param(k, marks=[pytest.mark.xfail(strict=True, reason=f"{k}: {issues[k]}")]
                         if k in issues else [])
            for k in metafunc.config.milvus_servers])


def schema(dim):
    s = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    return s


@pytest.mark.known_issue("milvus-lite", "milvus-lite 3.2.2 ignores index_name: list_indexes "
                         "answers the field's name")
def test_index_name_survives_restart(kind, server_root):
    server = start_server(kind, server_root)
    try:
        client = MilvusClient(uri=server.uri)
        index = client.prepare_index_params()
        index.add_index("vector", index_type="AUTOINDEX", metric_type="L2", index_name="vec_idx")
        client.create_collection("named", schema=schema(4), index_params=index,
                                 consistency_level="Strong")
        client.insert("named", [{"id": i, "vector": [float(i), 0.0, 0.0, 0.0]} for i in range(10)])
        client.flush("named")
        assert client.list_indexes("named") == ["vec_idx"]
        client.close()
    finally:
        server.stop()
    assert server.process.returncode == 0, server.log.read_text()

    server = start_server(kind, server_root, data_dir=server.data_dir)
    try:
        client = MilvusClient(uri=server.uri)
        assert client.list_indexes("named") == ["vec_idx"]
        described = client.describe_index("named", "vec_idx")
        assert (described["index_name"], described["field_name"]) == ("vec_idx", "vector")
        # The field's name is not the index's name: IndexNotFound, which pymilvus answers as None.
        assert client.describe_index("named", "vector") is None
        client.load_collection("named")
        hits = client.search("named", [[3.2, 0.0, 0.0, 0.0]], limit=2)[0]
        assert [h["id"] for h in hits] == [3, 4]
        client.release_collection("named")
        client.drop_index("named", "vec_idx")
        assert client.list_indexes("named") == []
        client.close()
    finally:
        server.stop()


@pytest.mark.skipif("config.milvus_servers.count('quiver') == 0",
                    reason="quiver serve is not among the servers under test")
def test_sigterm_during_index_build_and_writes(server_root):
    """SIGTERM while an HNSW build runs (efConstruction 1000 over 20,000 × 64 rows: minutes on
    one core of a debug build) and a client inserts: the server stops within the bound
    (--shutdown-grace 5 s plus closing), and after a restart every acknowledged row is there."""
    dim, rows, batch = 64, 20_000, 1_000
    grace, bound = 5, 30.0
    rng = np.random.default_rng(14)
    server = start_server("quiver", server_root, extra_args=("--shutdown-grace", str(grace)))
    try:
        client = MilvusClient(uri=server.uri)
        client.create_collection("big", schema=schema(dim), consistency_level="Strong")
        vectors = rng.standard_normal((rows, dim)).astype(np.float32)
        for start in range(0, rows, batch):
            client.insert("big", [{"id": i, "vector": vectors[i].tolist()}
                                  for i in range(start, start + batch)])
        client.flush("big")
        index = client.prepare_index_params()
        index.add_index("vector", index_type="HNSW", metric_type="L2",
                        params={"M": 16, "efConstruction": 1000})
        client.create_index("big", index, sync=False)
        described = client.describe_index("big", "vector")
        assert described["state"] != "Finished", f"the build must be running: {described}"

        # A writer keeps inserting new rows (ids from `rows` on) until the server refuses.
        acknowledged = []
        stop_writing = threading.Event()

        def write():
            writer = MilvusClient(uri=server.uri)
            next_id = rows
            while not stop_writing.is_set():
                data = [{"id": next_id + i, "vector": [0.5] * dim} for i in range(100)]
                try:
                    writer.insert("big", data, timeout=20)
                except Exception:  # the server is going away: this batch is not acknowledged
                    break
                acknowledged.append((next_id, next_id + 100))
                next_id += 100

        thread = threading.Thread(target=write)
        thread.start()
        time.sleep(1.0)
        client.close()
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=bound)
        except Exception:
            pytest.fail(f"quiver serve did not stop within {bound} s of SIGTERM:\n"
                        f"{server.log.read_text()}")
        stopped = time.monotonic() - started
        stop_writing.set()
        thread.join(timeout=60)
        assert server.process.returncode == 0, server.log.read_text()
        assert "stopped; database closed" in server.log.read_text()
        assert acknowledged, "the writer never got an insert acknowledged"
    finally:
        server.stop()
    print(f"stopped {stopped:.2f} s after SIGTERM; {len(acknowledged)} batches acknowledged "
          "while it ran")

    last = acknowledged[-1][1]
    server = start_server("quiver", server_root, data_dir=server.data_dir)
    try:
        client = MilvusClient(uri=server.uri)
        counted = client.query("big", filter=f"id < {last}", output_fields=["count(*)"])
        assert counted[0]["count(*)"] == last, "an acknowledged row is missing after the restart"
        total = client.query("big", filter="", output_fields=["count(*)"])[0]["count(*)"]
        assert last <= total <= last + 100, "at most the batch in flight may be there unacknowledged"
        described = client.describe_index("big", "vector")
        assert described["index_type"] == "HNSW" and described["total_rows"] == total
        client.close()
    finally:
        server.stop()
    assert server.process.returncode == 0, server.log.read_text()


def test_alias_switch_survives_sigkill(kind, server_root):
    """The blue/green switch is durable when `alter_alias` returns: the server killed with
    SIGKILL right after it (no shutdown, no flush) restarts with the alias on the new collection."""
    server = start_server(kind, server_root)
    try:
        client = MilvusClient(uri=server.uri)
        for name, first in (("blue", 0), ("green", 10)):
            client.create_collection(name, schema=schema(2), consistency_level="Strong")
            index = client.prepare_index_params()
            index.add_index("vector", index_type="AUTOINDEX", metric_type="L2")
            client.create_index(name, index)
            client.insert(name, [{"id": first + i, "vector": [float(first + i), 0.0]} for i in range(3)])
            client.flush(name)
        client.create_alias("blue", "live")
        client.create_alias("green", "next")
        client.alter_alias("green", "live")
        client.drop_alias("next")
        client.close()
    finally:
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()

    server = start_server(kind, server_root, data_dir=server.data_dir)
    try:
        client = MilvusClient(uri=server.uri)
        assert client.describe_alias("live")["collection_name"] == "green"
        assert client.list_aliases("green")["aliases"] == ["live"]
        assert client.list_aliases("blue")["aliases"] == []
        client.load_collection("green")
        hits = client.search("live", [[0.0, 0.0]], limit=5)[0]
        assert sorted(h["id"] for h in hits) == [10, 11, 12]
        client.close()
    finally:
        server.stop()
