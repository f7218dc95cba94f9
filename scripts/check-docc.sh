#!/usr/bin/env bash
# Builds every DocC catalog with the toolchain's `docc`, warnings as errors.
#
# Symbol graphs come from a build with `-emit-symbol-graph` (public symbols only, as DocC shows
# them to users). Pass the directory of an existing build's symbol graphs as $1 to skip the build;
# otherwise this script runs one (`swift build` with the flags, in .build, debug).
set -euo pipefail
cd "$(dirname "$0")/.."

graphs="${1:-}"
if [[ -z "$graphs" ]]; then
    graphs=".build/symbol-graphs"
    mkdir -p "$graphs"
    swift build -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$PWD/$graphs" >&2
fi

status=0
for catalog in Sources/*/*.docc; do
    module="$(basename "$(dirname "$catalog")")"
    work="$(mktemp -d)"
    # Only this module's graphs (and its extensions of other modules' types: Module@Other).
    cp "$graphs/$module.symbols.json" "$work/" 2>/dev/null || { echo "check-docc: no symbol graph for $module in $graphs" >&2; status=1; continue; }
    cp "$graphs/$module"@*.symbols.json "$work/" 2>/dev/null || true
    if docc convert "$catalog" --additional-symbol-graph-dir "$work" --output-dir "$work/out" \
        --fallback-display-name "$module" --fallback-bundle-identifier "org.quiver.$module" \
        --warnings-as-errors >"$work/log" 2>&1; then
        echo "check-docc: $module: no warnings"
    else
        echo "check-docc: $module:" >&2
        cat "$work/log" >&2
        status=1
    fi
    rm -rf "$work"
done
exit $status
