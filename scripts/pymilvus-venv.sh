#!/usr/bin/env bash
# Creates or updates the virtual environment .venv-pymilvus from PyPI (Tests/pymilvus/requirements.txt,
# every version pinned): pymilvus and milvus-lite, for the pymilvus suite (scripts/test-pymilvus.sh)
# and the Swift tests of QuiverRemote, which start `.venv-pymilvus/bin/milvus-lite server`.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-pymilvus
requirements=Tests/pymilvus/requirements.txt
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! cmp -s "$requirements" "$venv/.installed-requirements"; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/.installed-requirements"
fi
