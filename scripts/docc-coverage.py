#!/usr/bin/env python3
"""Lists the public symbols of the given modules that have no doc comment of their own.

Usage: docc-coverage.py GRAPHS_DIR [--report-only MODULE]... MODULE...
       docc-coverage.py --self-links DOCC_OUTPUT_DIR

The second form lists the pages of a `docc convert` output whose documentation links to the page
itself: DocC resolves a link to an overloaded name (``close()`` with a sync and an async
variant) written in one of the overloads to that overload, without a warning.

Reads GRAPHS_DIR/MODULE.symbols.json and GRAPHS_DIR/MODULE@*.symbols.json (the module's
extensions of other modules' types). The rule for which symbols need a doc comment, and why, is
in scripts/check-docc.sh's header. Exits 1 when a module not named with --report-only has an
undocumented symbol; a --report-only module's symbols are listed but do not fail the check.
"""
import glob
import json
import os
import sys


def documented(symbol):
    lines = (symbol.get("docComment") or {}).get("lines") or []
    return any(line.get("text", "").strip() for line in lines)


def throws_undocumented(symbol):
    """A throwing function (not `rethrows`) whose doc comment has no `- Throws:` line."""
    # The function's own effects: a `throws` keyword outside the parameter list (closure
    # parameters may throw) and before the return type's `->`.
    depth, throws = 0, False
    for fragment in symbol.get("declarationFragments", []):
        spelling = fragment.get("spelling", "")
        if fragment.get("kind") == "keyword" and spelling == "throws" and depth == 0:
            throws = True
        elif fragment.get("kind") == "text":
            if depth == 0 and "->" in spelling:
                break
            depth += spelling.count("(") - spelling.count(")")
    if not throws:
        return False
    lines = (symbol.get("docComment") or {}).get("lines") or []
    return not any(line.get("text", "").lstrip().startswith("- Throws") for line in lines)


def source_path(symbol):
    uri = (symbol.get("location") or {}).get("uri", "")
    return uri[len("file://"):] if uri.startswith("file://") else uri


generated_cache = {}


def is_generated(path):
    """A file whose first lines say DO NOT EDIT (swift-protobuf, grpc-swift) is generated code."""
    if path not in generated_cache:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                head = "".join(f.readline() for _ in range(10))
        except OSError:
            head = ""
        generated_cache[path] = "DO NOT EDIT" in head
    return generated_cache[path]


def check(graphs, module):
    """Returns (problems [(path, line, name, problem)], public symbol count, exempt count)."""
    files = [os.path.join(graphs, module + ".symbols.json")]
    files += sorted(glob.glob(os.path.join(graphs, module + "@*.symbols.json")))
    if not os.path.exists(files[0]):
        raise SystemExit(f"check-docc: no symbol graph for {module} in {graphs}")
    missing, total, exempt = [], 0, 0
    for file in files:
        with open(file, encoding="utf-8") as f:
            graph = json.load(f)
        # Members that implement a protocol requirement or inherit a protocol extension's member:
        # the compiler records the protocol's symbol as the relationship's sourceOrigin.
        origin = {
            r["source"]: r["sourceOrigin"]["identifier"]
            for r in graph["relationships"]
            if r["kind"] == "memberOf" and "sourceOrigin" in r
        }
        for symbol in graph["symbols"]:
            if symbol.get("accessLevel") not in ("public", "open"):
                continue
            if symbol["kind"]["identifier"] == "swift.extension":
                continue
            path = source_path(symbol)
            if path and is_generated(path):
                continue
            total += 1
            if "location" not in symbol or symbol["identifier"]["precise"] in origin:
                exempt += not documented(symbol)
                continue
            if documented(symbol) and not throws_undocumented(symbol):
                continue
            problem = "throws, but its doc comment has no `- Throws:`" if documented(symbol) else "has no doc comment"
            line = symbol["location"]["position"]["line"] + 1
            missing.append((os.path.relpath(path), line, ".".join(symbol["pathComponents"]), problem))
    return sorted(missing), total, exempt


def self_links(output):
    """Returns the paths of pages (under output/data) that link to themselves."""
    found = []
    for path in sorted(glob.glob(os.path.join(output, "data", "**", "*.json"), recursive=True)):
        with open(path, encoding="utf-8") as f:
            page = json.load(f)
        url = (page.get("identifier") or {}).get("url")
        body = json.dumps([page.get("abstract"), page.get("primaryContentSections")])
        if url and f'"identifier": "{url}"' in body:
            found.append(url)
    return found


def main(argv):
    if argv[:1] == ["--self-links"]:
        pages = self_links(argv[1])
        for url in pages:
            print(f"  error: {url} links to itself; add the overload's disambiguation suffix "
                  f"(e.g. ``close()-1qu38``, as docc's 'ambiguous' suggestions show)", file=sys.stderr)
        return 1 if pages else 0
    graphs, modules, report_only = argv[0], [], set()
    rest = iter(argv[1:])
    for arg in rest:
        if arg == "--report-only":
            report_only.add(next(rest))
        else:
            modules.append(arg)
    failed = False
    for module in modules + sorted(report_only - set(modules)):
        missing, total, exempt = check(graphs, module)
        pending = module in report_only
        print(f"check-docc: {module}: {total - exempt - len(missing)} of {total - exempt} public symbols "
              f"documented ({exempt} inherit docs: protocol requirements, synthesized)"
              + (" [report only, not yet required]" if pending and missing else ""))
        for path, line, name, problem in missing:
            print(f"  {path}:{line}: {'note' if pending else 'error'}: {name} {problem}",
                  file=sys.stdout if pending else sys.stderr)
        failed |= bool(missing) and not pending
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
