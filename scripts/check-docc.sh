#!/usr/bin/env bash
# Checks the documentation of every library module (every Swift target under Sources/ that is not
# an executable, from `swift package dump-package`; a module of generated code only, such as
# QuiverMilvusProtocol, is skipped): two checks, both must pass.
#
# 1. Coverage (scripts/docc-coverage.py): every public symbol has a doc comment of its own, except
#    - members that implement a protocol requirement or inherit a protocol extension's member: the
#      symbol graph records the protocol's symbol as the `sourceOrigin` of their `memberOf`
#      relationship, and DocC shows that symbol's documentation (our own protocols' requirements
#      are checked where they are declared, so an undocumented requirement is still reported);
#    - compiler-synthesized members (derived `==`, `hash(into:)`, `init(rawValue:)`, `Codable`):
#      they have no source `location` in the graph;
#    - generated code: symbols declared in a file whose first lines say `DO NOT EDIT`
#      (swift-protobuf and grpc-swift output).
#    A function that throws (not `rethrows`) needs a `- Throws:` line in its doc comment too.
#    Each problem is listed as `path:line: error: Type.member has no doc comment` (or `throws, …`).
# 2. DocC: each module is built with the toolchain's `docc`, warnings as errors (unresolved or
#    ambiguous links, undocumented parameters), with its catalog `Sources/M/M.docc` if it has one,
#    and no page may link to itself (DocC resolves an overloaded name such as ``close()``, written
#    in the docs of one of its overloads, to that overload without a warning).
#
# Modules in REPORT_ONLY are still being documented: both checks run and print what they find,
# but do not fail. At present: none.
#
# Symbol graphs come from a build with `-emit-symbol-graph` (public symbols only, as DocC shows
# them to users). Pass the directory of an existing build's symbol graphs as $1 to skip the build
# (scripts/test.sh leaves them in .build/symbol-graphs); otherwise this script runs one
# (`swift build` with the flags, in .build, debug).
set -euo pipefail
cd "$(dirname "$0")/.."

REPORT_ONLY=()

graphs="${1:-}"
if [[ -z "$graphs" ]]; then
    graphs=".build/symbol-graphs"
    mkdir -p "$graphs"
    swift build -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$PWD/$graphs" >&2
fi

modules=()
while IFS= read -r module; do modules+=("$module"); done < <(
    swift package dump-package | python3 -c '
import glob, json, sys
package = json.load(sys.stdin)
for t in sorted(package["targets"], key=lambda t: t["name"]):
    path = t.get("path") or "Sources/" + t["name"]
    files = glob.glob(path + "/**/*.swift", recursive=True)
    if t["type"] != "regular" or not path.startswith("Sources/") or not files:
        continue  # executables, tests, test support, C targets
    if all("DO NOT EDIT" in "".join(open(f, encoding="utf-8", errors="replace").readlines()[:10]) for f in files):
        print("check-docc: " + t["name"] + ": generated code, not checked", file=sys.stderr)
        continue
    print(t["name"])')

status=0
report_only=()
for module in "${REPORT_ONLY[@]}"; do report_only+=(--report-only "$module"); done
python3 scripts/docc-coverage.py "$graphs" "${report_only[@]}" "${modules[@]}" || status=1

for module in "${modules[@]}"; do
    catalog="Sources/$module/$module.docc"
    [[ -d "$catalog" ]] || catalog=""
    work="$(mktemp -d)"
    # Only this module's graphs (and its extensions of other modules' types: Module@Other).
    cp "$graphs/$module.symbols.json" "$work/" 2>/dev/null || { echo "check-docc: no symbol graph for $module in $graphs" >&2; status=1; rm -rf "$work"; continue; }
    cp "$graphs/$module"@*.symbols.json "$work/" 2>/dev/null || true
    if docc convert ${catalog:+"$catalog"} --additional-symbol-graph-dir "$work" --output-dir "$work/out" \
        --fallback-display-name "$module" --fallback-bundle-identifier "org.quiver.$module" \
        --warnings-as-errors >"$work/log" 2>&1 && python3 scripts/docc-coverage.py --self-links "$work/out" 2>"$work/log"; then
        echo "check-docc: $module: docc, no warnings${catalog:+ ($catalog)}"
    elif [[ " ${REPORT_ONLY[*]} " == *" $module "* ]]; then
        echo "check-docc: $module: docc${catalog:+ ($catalog)} [report only, not yet required]:"
        cat "$work/log"
    else
        echo "check-docc: $module: docc${catalog:+ ($catalog)}:" >&2
        cat "$work/log" >&2
        status=1
    fi
    rm -rf "$work"
done
exit $status
