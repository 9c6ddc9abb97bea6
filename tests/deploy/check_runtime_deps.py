#!/usr/bin/python3
"""Checks that the Dockerfile's runtime stage installs every shared library
the binaries need, without a Docker engine.

    tests/deploy/check_runtime_deps.py [--dockerfile Dockerfile] BINARY [BINARY ...]

For each BINARY (built on this Debian bookworm machine, as the builder stage
does), `ldd` lists the shared libraries it loads and `dpkg -S` names the
Debian package of each. Every such package must be one the runtime stage
installs, a dependency (recursively, by dpkg's Depends/Pre-Depends) of one it
installs, or an Essential/required package that debian:bookworm-slim ships.
Each package the runtime stage names must also exist in this machine's apt
sources (a typo would fail `docker build`).

Prints one line per check and "N passed, N failed"; exit status 1 on any
failure.
"""

import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def runtime_packages(dockerfile):
    """Packages of the `apt-get install` in the last stage of the Dockerfile."""
    text = open(dockerfile).read().replace("\\\n", " ")
    stages = re.split(r"^FROM\s", text, flags=re.M)
    last = stages[-1]
    pkgs = []
    for m in re.finditer(r"apt-get install([^&;\n]*)", last):
        pkgs += [t for t in m.group(1).split() if not t.startswith("-")]
    return pkgs


def ldd_packages(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    libs, missing = [], []
    for line in out.splitlines():
        m = re.search(r"=>\s+(\S+)\s+\(", line) or re.match(r"\s*(/\S+)\s+\(", line)
        if "not found" in line:
            missing.append(line.strip())
        elif m:
            libs.append(m.group(1))
    owners = owners_of(libs)
    pkgs = {}
    for lib in libs:
        pkgs.setdefault(owners.get(lib, f"<no package owns {lib}>"), []).append(os.path.basename(lib))
    return pkgs, missing


def candidates(path):
    """The names dpkg may know a library by: as given, resolved, and on the
    other side of the /lib -> /usr/lib merge."""
    out = []
    for p in (path, os.path.realpath(path)):
        for c in (p, re.sub(r"^/lib/", "/usr/lib/", p), re.sub(r"^/usr/lib/", "/lib/", p)):
            if c not in out:
                out.append(c)
    return out


def owners_of(libs):
    """{library path: package}, from one `dpkg -S` call."""
    allc = sorted({c for lib in libs for c in candidates(lib)})
    r = subprocess.run(["dpkg", "-S"] + allc, capture_output=True, text=True)
    found = {}
    for line in r.stdout.splitlines():
        pkg, _, path = line.partition(": ")
        found[path.strip()] = pkg.split(",")[0].split(":")[0].strip()
    return {lib: next((found[c] for c in candidates(lib) if c in found), None) for lib in libs
            if any(c in found for c in candidates(lib))}


def installed_graph():
    """{package: (deps, essential_or_required)} for every installed package,
    from one dpkg-query call."""
    r = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package}\t${Essential}\t${Priority}\t${Depends}, ${Pre-Depends}\n"],
        capture_output=True, text=True, check=True)
    graph = {}
    for line in r.stdout.splitlines():
        name, essential, priority, deps = (line.split("\t") + ["", "", ""])[:4]
        names = set()
        for dep in deps.split(","):
            for alt in dep.split("|"):
                n = alt.strip().split(" ")[0].split(":")[0]
                if n:
                    names.add(n)
        graph[name] = (names, essential == "yes" or priority == "required")
    return graph


def depends_closure(pkgs, graph):
    seen, todo = set(), list(pkgs)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        todo.extend(graph.get(p, (set(), False))[0])
    return seen


def base_image_packages(graph):
    """Essential and required packages: what debian:bookworm-slim contains."""
    return depends_closure([p for p, (_, base) in graph.items() if base], graph)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dockerfile", default=os.path.join(ROOT, "Dockerfile"))
    ap.add_argument("binaries", nargs="+")
    a = ap.parse_args()

    passed = failed = 0

    def check(ok, what, detail=""):
        nonlocal passed, failed
        print(("ok      " if ok else "FAIL    ") + what + ("" if ok or not detail else f": {detail}"))
        if ok:
            passed += 1
        else:
            failed += 1

    declared = runtime_packages(a.dockerfile)
    check(bool(declared), f"{a.dockerfile}: runtime stage installs packages", "no apt-get install found")
    r = subprocess.run(["apt-cache", "policy"] + declared, capture_output=True, text=True)
    candidate = dict(re.findall(r"^(\S+):\n\s+Installed: .*\n\s+Candidate: (\S+)", r.stdout, re.M))
    for p in declared:
        check(candidate.get(p, "(none)") != "(none)", f"runtime package {p} exists in apt",
              "apt-cache policy has no candidate (run apt-get update, or fix the name)")
    graph = installed_graph()
    provided = depends_closure(declared, graph) | base_image_packages(graph)
    for b in a.binaries:
        if not os.access(b, os.X_OK):
            check(False, f"{b} is an executable file")
            continue
        pkgs, missing = ldd_packages(b)
        check(not missing, f"{os.path.basename(b)}: every shared library resolves here", "; ".join(missing))
        for pkg, libs in sorted(pkgs.items()):
            check(pkg in provided, f"{os.path.basename(b)}: {pkg} ({', '.join(libs[:3])}) is in the runtime image",
                  "add it to the Dockerfile's runtime apt-get install")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
