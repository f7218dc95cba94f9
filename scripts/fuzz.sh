#!/usr/bin/env bash
# Builds and runs a libFuzzer target for SECONDS (default 600).
#   scripts/fuzz.sh wal|replay|segment|manifest|filter [SECONDS]
# (replay: checksum-valid WAL records with hostile content, applied by WAL replay)
# Crashes land in Fuzz/crashes/TARGET/; turn each into a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: scripts/fuzz.sh wal|replay|segment|manifest|filter [SECONDS]}"
seconds="${2:-600}"
case "$target" in
    wal) file=FuzzWAL ;; replay) file=FuzzReplay ;; segment) file=FuzzSegment ;; manifest) file=FuzzManifest ;; filter) file=FuzzFilter ;;
    *) echo "unknown target $target" >&2; exit 2 ;;
esac
out=.build-fuzz
mkdir -p "$out" "Fuzz/crashes/$target" "$out/corpus-$target"
# One module: the engine's sources plus the target, so internal readers are reachable.
# Compiled from a copy, so editing the sources meanwhile does not break the build.
src="$out/src-$target"
rm -rf "$src" && mkdir -p "$src" && cp -R Sources/Quiver Sources/CLZ4 Sources/CQuiverSupport "Fuzz/$file.swift" "$src/"
# SwiftPM writes the C target's module map itself; swiftc needs one spelled out.
printf 'module CQuiverSupport {\n    header "QuiverSupport.h"\n    export *\n}\n' > "$src/CQuiverSupport/include/module.modulemap"
swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name QuiverFuzz \
    -I "$src/CLZ4" -I "$src/CQuiverSupport/include" -llz4 \
    $(find "$src/Quiver" -name '*.swift') "$src/$file.swift" -o "$out/fuzz-$target"
seeds="Fuzz/seeds/$target"
"$out/fuzz-$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix="Fuzz/crashes/$target/" "$out/corpus-$target" $( [ -d "$seeds" ] && echo "$seeds" )
