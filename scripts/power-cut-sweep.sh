#!/usr/bin/env bash
# The power-cut sweep at scale (Tests/QuiverTests/PowerCutTests.swift): the workload of every
# write path (insert/upsert/delete, explicit and insert-triggered flush, compaction, index build
# and drop, create/rename/drop collection, close) runs once through the recording file-system
# seam under each durability level; then the database is opened on what a power cut after each
# recorded system call leaves (fsynced bytes only, and unsynced bytes kept with the last write torn
# at a 512-byte sector) and checked against the model.
#   scripts/power-cut-sweep.sh [SCALE]
# SCALE (default 25) multiplies the workload's rows, so records and segments span many sectors
# and blocks; CI runs SCALE 1 as part of the tests. Prints the cut points tried per path.
set -euo pipefail
cd "$(dirname "$0")/.."
QUIVER_POWER_CUT_SCALE="${1:-25}" swift test --filter PowerCutTests 2>&1 | grep -E "power-cut sweep|✘|✔ Suite PowerCutTests|failures:|cut after call" | head -200
