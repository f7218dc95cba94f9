#!/usr/bin/env bash
# The pymilvus suite (Tests/pymilvus) against `quiver serve` and `milvus-lite server`:
# creates or updates the virtual environment .venv-pymilvus from PyPI (Tests/pymilvus/requirements.txt,
# every version pinned), builds `quiver`, and runs pytest once with both servers. Fails when a test
# fails, and when pytest collects no test (its exit code 5).
# Arguments are passed to pytest (e.g. `-k search`, `-x`). QUIVER_PYTEST_SERVERS picks the servers
# (a comma list; default both); QUIVER_BIN uses a given binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-pymilvus
bash scripts/pymilvus-venv.sh

servers=${QUIVER_PYTEST_SERVERS:-quiver,milvus-lite}
server_args=()
IFS=, read -ra names <<< "$servers"
for n in "${names[@]}"; do server_args+=(--server "$n"); done

if [[ ",$servers," == *",quiver,"* ]] && [ -z "${QUIVER_BIN:-}" ]; then
    swift build --product quiver
    QUIVER_BIN="$(swift build --show-bin-path)/quiver"
    export QUIVER_BIN
fi

status=0
"$venv/bin/python" -m pytest Tests/pymilvus -p no:cacheprovider -q -rfExs "${server_args[@]}" "$@" \
    || status=$?
if [ "$status" -eq 5 ]; then
    echo "test-pymilvus.sh: pytest collected no test" >&2
    exit 1
fi
exit "$status"
