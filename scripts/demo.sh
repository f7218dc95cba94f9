#!/usr/bin/env bash
# The main job: ingest this repository's Documentation/ into ./quiver_demo.quiver with the
# built-in all-MiniLM-L6-v2 embedder (fetching its weights when missing) and answer
# "How does Quiver store data?" — streamed from the configured LLM (QUIVER_LLM_BASE_URL,
# DEEPSEEK_API_KEY, OPENROUTER_API_KEY, …), or the retrieved sources when none is configured.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! pkg-config --exists liblz4 2>/dev/null; then
    apt-get update
    apt-get install -y liblz4-dev pkg-config
fi
bash scripts/fetch-model.sh >&2
swift build --product quiver >&2
quiver=$(swift build --product quiver --show-bin-path)/quiver
"$quiver" ingest ./quiver_demo.quiver Documentation
question="${1:-How does Quiver store data?}"
status=0
"$quiver" ask ./quiver_demo.quiver "$question" --stream || status=$?
# `ask` exits 2 after printing the sources when no LLM is configured: that is the expected
# outcome of the demo on a machine without one.
if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then exit "$status"; fi
