#!/usr/bin/env bash
# Fails when a Swift source would not compile on one of the C libraries Quiver builds against
# (Glibc and Musl on Linux, Darwin on Apple's systems), as far as a text check can tell:
#
#   1. `import Glibc` / `Glibc.name` (and Musl, Darwin) outside an `#if` branch whose own condition
#      is `canImport(Glibc)` (Musl, Darwin).
#   2. A Linux-only symbol (MADV_HUGEPAGE, MAP_ANONYMOUS, fdatasync, __rusage_who_t, …) outside a
#      branch whose condition is `canImport(Glibc)`, `canImport(Musl)` or `os(Linux)`; a Darwin-only
#      one (F_FULLFSYNC, mach_absolute_time, …) outside `canImport(Darwin)` or `os(macOS)` etc.
#   3. An `#if … #endif` chain that tests the C library or the OS and has no branch for one of
#      the three (and no `#else`).
#
# A branch counts by its own condition, read positively (`!canImport(Darwin)` is no guard), and
# guards nest. Comments are ignored. Quiver keeps such calls in one place,
# Sources/Quiver/Storage/Platform.swift. Usage: scripts/check-platform-guards.sh [ROOT]
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

python3 - <<'PY'
import os, re, sys

ROOTS = ["Package.swift", "Sources", "Tests", "Benchmarks", "scripts"]
LINUX_ONLY = r"""MADV_HUGEPAGE MADV_NOHUGEPAGE MADV_POPULATE_READ MADV_POPULATE_WRITE MADV_REMOVE
    MAP_ANONYMOUS MAP_HUGETLB MAP_POPULATE MAP_LOCKED O_DIRECT O_TMPFILE O_NOATIME O_PATH
    fdatasync sync_file_range syncfs fallocate posix_fallocate posix_fadvise mremap memfd_create
    sched_getaffinity sched_setaffinity cpu_set_t CPU_SET get_nprocs get_nprocs_conf sysinfo prctl
    gettid epoll_create epoll_create1 epoll_ctl epoll_wait eventfd inotify_init inotify_init1
    inotify_add_watch pipe2 accept4 dup3 SOCK_CLOEXEC SOCK_NONBLOCK malloc_usable_size malloc_trim
    mallinfo mallinfo2 memalign pvalloc getauxval AT_HWCAP splice copy_file_range renameat2
    RENAME_NOREPLACE CLOCK_BOOTTIME""".split()
DARWIN_ONLY = r"""F_FULLFSYNC F_BARRIERFSYNC F_NOCACHE F_PREALLOCATE mach_absolute_time
    mach_timebase_info mach_task_self_ task_info os_unfair_lock malloc_size kqueue kevent
    vm_page_size clonefile copyfile getattrlist""".split()
symbol = lambda names: re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
linux_re, darwin_re = symbol(LINUX_ONLY), symbol(DARWIN_ONLY)
# Glibc's spellings: its internal typedefs (__rusage_who_t) and the C enums it imports as structs
# (RUSAGE_SELF.rawValue), which Musl and Darwin declare as plain integers.
glibc_internal_re = re.compile(r"\b__[a-z0-9_]+_t\b|\b(?:RUSAGE|SOCK|IPPROTO|PRIO|RLIMIT)_\w+\.rawValue\b")
module_re = re.compile(r"\b(Glibc|Musl|Darwin)\s*\.\s*[A-Za-z_]\w*|^\s*(?:@_exported\s+)?import\s+(Glibc|Musl|Darwin)\b")
directive_re = re.compile(r"^\s*#\s*(if|elseif|else|endif)\b(.*)$")

LINUX_OS = {"Linux", "Android"}
DARWIN_OS = {"macOS", "iOS", "tvOS", "watchOS", "visionOS"}

def guards(condition):
    """The C libraries a branch's own condition selects, read positively."""
    found = set()
    for neg, kind, name in re.findall(r"(!?)\s*(canImport|os)\(\s*(\w+)\s*\)", condition):
        if neg:
            continue
        if kind == "canImport" and name in ("Glibc", "Musl", "Darwin"):
            found.add(name)
        elif kind == "os" and name in LINUX_OS:
            found |= {"Glibc", "Musl", "Linux"}
        elif kind == "os" and name in DARWIN_OS:
            found.add("Darwin")
    return found

def platform_test(condition):
    return bool(re.search(r"\b(canImport\(\s*(Glibc|Musl|Darwin)\s*\)|os\(\s*\w+\s*\))", condition))

def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return [re.sub(r"//.*$", "", line) for line in text.split("\n")]

def files():
    for root in ROOTS:
        if os.path.isfile(root):
            yield root
            continue
        for d, dirs, names in os.walk(root):
            dirs[:] = sorted(x for x in dirs if not x.startswith(".build") and x != "checkouts")
            yield from (os.path.join(d, n) for n in sorted(names) if n.endswith(".swift"))

problems = []
for path in files():
    # stack of chains: [chain conditions so far, this branch's guards, has #else, platform test, line]
    stack = []
    for number, line in enumerate(strip_comments(open(path, encoding="utf-8").read()), 1):
        where = f"{path}:{number}"
        d = directive_re.match(line)
        if d:
            kind, cond = d.group(1), d.group(2)
            if kind == "if":
                stack.append({"covered": guards(cond), "branch": guards(cond), "else": False,
                              "platform": platform_test(cond), "line": where})
            elif not stack:
                problems.append(f"{where}: #{kind} without #if")
            elif kind == "elseif":
                top = stack[-1]
                top["branch"] = guards(cond)
                top["covered"] |= top["branch"]
                top["platform"] |= platform_test(cond)
            elif kind == "else":
                stack[-1].update({"branch": set(), "else": True})
            else:
                top = stack.pop()
                missing = {"Glibc", "Musl", "Darwin"} - top["covered"]
                if top["platform"] and top["covered"] and missing and not top["else"]:
                    problems.append(f"{top['line']}: this #if has no branch for {', '.join(sorted(missing))} (add it, or an #else)")
            continue
        active = set().union(*(frame["branch"] for frame in stack)) if stack else set()
        for m in module_re.finditer(line):
            module = m.group(1) or m.group(2)
            if module not in active:
                problems.append(f"{where}: '{m.group(0).strip()}' outside #if canImport({module})")
        if not active & {"Glibc", "Musl", "Linux"}:
            for m in linux_re.finditer(line):
                problems.append(f"{where}: Linux-only '{m.group(1)}' outside #if canImport(Glibc)/canImport(Musl)/os(Linux)")
        if "Glibc" not in active:
            for m in glibc_internal_re.finditer(line):
                problems.append(f"{where}: Glibc's spelling '{m.group(0)}' outside #if canImport(Glibc)")
        if "Darwin" not in active:
            for m in darwin_re.finditer(line):
                problems.append(f"{where}: Darwin-only '{m.group(1)}' outside #if canImport(Darwin)")
    for frame in stack:
        problems.append(f"{frame['line']}: #if without #endif")

if problems:
    print("check-platform-guards: platform calls outside their guards "
          "(put them in Sources/Quiver/Storage/Platform.swift or behind #if canImport(…)):", file=sys.stderr)
    print("\n".join("  " + p for p in problems), file=sys.stderr)
    sys.exit(1)
print("check-platform-guards: ok")
PY
