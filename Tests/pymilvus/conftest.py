"""Fixtures for the pymilvus suite: each test runs once per Milvus-protocol server.

Servers: option `--server quiver|milvus-lite` (repeatable) or the env var QUIVER_PYTEST_SERVERS (a
comma list). Without either, every server available here is used; a server named explicitly must
start, or its tests fail. Each is started once per session by `servers.start_server` on a free
loopback port with a fresh data directory, and stopped with SIGTERM at the end.

A case that one server is known to get wrong is marked
`@pytest.mark.known_issue(server, reason)`: a strict xfail there (it must keep failing), or a skip
with `skip=True` when the server lacks the feature entirely.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

from servers import ALL_SERVERS, REPO, available_servers, start_server

SHARED_EMBEDDINGS = REPO.parent / "shared" / "data" / "embeddings"


def pytest_addoption(parser):
    parser.addoption("--server", action="append", choices=ALL_SERVERS,
                     help="server to test against (repeatable); default: every available one")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "known_issue(server, reason, skip=False): the named server answers this case wrongly "
        "(strict xfail) or lacks the feature (skip=True)",
    )
    names = config.getoption("--server")
    if not names and os.environ.get("QUIVER_PYTEST_SERVERS"):
        names = [n.strip() for n in os.environ["QUIVER_PYTEST_SERVERS"].split(",") if n.strip()]
        unknown = set(names) - set(ALL_SERVERS)
        if unknown:
            raise pytest.UsageError(f"QUIVER_PYTEST_SERVERS names unknown servers: "
                                    f"{sorted(unknown)}")
    config.milvus_servers = list(dict.fromkeys(names)) if names else available_servers()


def pytest_generate_tests(metafunc):
    if "server" in metafunc.fixturenames:
        metafunc.parametrize("server", metafunc.config.milvus_servers, indirect=True,
                             scope="session")


def pytest_collection_modifyitems(config, items):
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or "server" not in callspec.params:
            continue
        for mark in item.iter_markers("known_issue"):
            server, reason = mark.args
            if server != callspec.params["server"]:
                continue
            if mark.kwargs.get("skip", False):
                item.add_marker(pytest.mark.skip(reason=f"{server}: {reason}"))
            else:
                item.add_marker(pytest.mark.xfail(strict=True, reason=f"{server}: {reason}"))


@pytest.fixture(scope="session")
def server_root():
    root = Path(tempfile.mkdtemp(prefix="quiver-pymilvus-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def server(request, server_root):
    """One running server of each kind for the whole session."""
    running = start_server(request.param, server_root)
    yield running
    running.stop()


@pytest.fixture
def client(server):
    from pymilvus import MilvusClient

    c = MilvusClient(uri=server.uri)
    yield c
    c.close()


@pytest.fixture
def name():
    """A collection name unique to the test (the server is shared by the session)."""
    return "c_" + uuid.uuid4().hex[:12]


@pytest.fixture(scope="session")
def shared_embeddings():
    if not (SHARED_EMBEDDINGS / "faq_chunks.f32.npy").exists():
        pytest.skip(f"needs ../shared/data/embeddings beside the repository (absent: "
                    f"{SHARED_EMBEDDINGS})")
    return SHARED_EMBEDDINGS
