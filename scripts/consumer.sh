#!/usr/bin/env bash
# Builds and runs scripts/consumer/, a small app that depends on Quiver the way apps do: by a
# versioned URL. The URL is a file URL of a temporary clone of this repository's committed HEAD,
# tagged 0.1.0 (uncommitted changes are not in it); the app resolves it with `from: "0.1.0"`, so
# SwiftPM treats Quiver as a remote package (no unsafe flags allowed, built as a checkout).
#
#   scripts/consumer.sh smoke            search checked against brute force; MiniLM embeddings
#                                        checked against ../shared/data/embeddings when present
#   scripts/consumer.sh bench [--rows N] issue 16's table: insert N (1M) × 128 rows, 100 single
#                                        queries, one batch of 200, 128 sentences embedded
#   options: --path   depend on this repository by path instead (its working tree, as Benchmarks/ do)
#            --debug  build the app in debug instead of release
#            --keep   keep the temporary folder (the clone, the app and its build) to run it again
#
# Quiver's own dependencies (github.com URLs) resolve through git's url.<mirror>.insteadOf
# configuration like any other package. The all-MiniLM-L6-v2 weights are installed first
# (scripts/fetch-model.sh, idempotent). Prints the build time, then the app's output.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

usage() { echo "usage: scripts/consumer.sh smoke|bench [--rows N] [--path] [--debug] [--keep]" >&2; exit 2; }
[ $# -ge 1 ] || usage
mode="$1"; shift
case "$mode" in smoke|bench) ;; *) usage ;; esac
by=url config=release keep=no app_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --path) by=path ;;
        --debug) config=debug ;;
        --keep) keep=yes ;;
        --rows) [ $# -ge 2 ] || usage; app_args+=(--rows "$2"); shift ;;
        *) usage ;;
    esac
    shift
done

work="$(mktemp -d "${TMPDIR:-/tmp}/quiver-consumer.XXXXXX")"
if [ "$keep" = yes ]; then echo "consumer: keeping $work"; else trap 'rm -rf "$work"' EXIT; fi
cp -R "$repo/scripts/consumer" "$work/app"
rm -rf "$work/app/.build"

if [ "$by" = url ]; then
    if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
        echo "consumer: note: uncommitted changes in $repo are not in the URL build (it uses the committed HEAD)" >&2
    fi
    git init -q "$work/quiver"
    git -C "$work/quiver" fetch -q "$repo" HEAD
    git -C "$work/quiver" -c advice.detachedHead=false checkout -q FETCH_HEAD
    git -C "$work/quiver" tag 0.1.0
    dependency=".package(url: \"file://$work/quiver\", from: \"0.1.0\")"
    identity=quiver
    echo "consumer: Quiver $(git -C "$work/quiver" rev-parse --short HEAD) by URL file://$work/quiver (tag 0.1.0), $config build"
else
    dependency=".package(path: \"$repo\")"
    identity="$(basename "$repo" | tr 'A-Z' 'a-z')"
    echo "consumer: Quiver by path $repo (working tree), $config build"
fi
sed -i.orig \
    -e "s|^let quiver: Package.Dependency = .*// QUIVER-DEPENDENCY\$|let quiver: Package.Dependency = $dependency|" \
    -e "s|^let quiverPackage = .*// QUIVER-PACKAGE\$|let quiverPackage = \"$identity\"|" \
    "$work/app/Package.swift"
grep -q "^let quiver: Package.Dependency = $dependency\$" "$work/app/Package.swift" \
    || { echo "consumer: could not set the dependency in Package.swift" >&2; exit 1; }

bash "$repo/scripts/fetch-model.sh" >/dev/null

start=$(date +%s)
if ! swift build --package-path "$work/app" -c "$config" --product quiver-consumer >"$work/build.log" 2>&1; then
    tail -60 "$work/build.log" >&2
    echo "consumer: the build failed" >&2
    exit 1
fi
echo "consumer: build took $(( $(date +%s) - start )) s"
binary="$(swift build --package-path "$work/app" -c "$config" --show-bin-path)/quiver-consumer"
[ "$keep" = no ] || echo "consumer: the app is $binary"

reference="$repo/../shared/data/embeddings"
if [ "$mode" = smoke ] && [ -f "$reference/reference_sentences.json" ]; then
    app_args+=(--reference "$reference")
fi
"$binary" "$mode" "${app_args[@]}"
