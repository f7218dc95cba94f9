#!/usr/bin/env bash
# Long crash soak: SIGKILL the random writer N times (default 10000) and check every reopen.
#   scripts/crash-soak.sh [KILLS]
# About 0.2 s a kill on 2 cores: 10,000 kills take roughly 35 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
QUIVER_CRASH_KILLS="${1:-10000}" swift test --filter CrashHarnessTests
