#!/usr/bin/env python3
"""Benchmark ``coinstall plan add 3.12 --from 3.11`` on Debian bookworm beside ``ben monitor``,
and compare their answers; ``plan add 3.14t`` (a free-threaded stack) is timed beside it.

This is a benchmark, not a test: it prints timings, ratios, memory peaks and the comparison
table, and asserts nothing about speed.  Run from the repository root::

    .venv/bin/python benchmarks/plan_bench.py [--repeat N] [--output PATH] [--no-ben]

Inputs: the pinned full bookworm amd64 ``Packages.xz`` and ``Sources.xz``
(``tests/plan_corpus.py``), also decompressed to plain files in a temporary directory because
``ben monitor`` reads plain ``Sources``/``Packages_amd64`` from its cache directory.

Measured (best of ``--repeat`` wall-clock runs, each a fresh process; CPU = user + system;
memory = peak resident set from GNU ``time -f %M``; needs the ``time`` package):

* parsers alone on the plain ``Packages``: python-debian ``deb822`` vs coinstall's own;
* ``ben monitor`` on the plain files with an equivalent tracker (``TRACKER`` below);
* ``coinstall plan`` cold (``--no-cache``) on the plain files and on the ``.xz`` files, and warm
  (parsed-index cache filled) on the ``.xz`` files.

The comparison sorts every source ben lists and every source coinstall tracks (``rebuild`` or
``blocked``) into agreement and difference classes, each with its reason.
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from plan_corpus import bookworm  # noqa: E402

#: What a Debian release manager would write for "add python3.12" (ben .ben syntax,
#: ben refman "monitor"): dh-python's generated upper bound is the marker.
TRACKER = """title = "python3.12-add";
architectures = [ "amd64" ];
is_affected = .depends ~ /python3 \\(<< 3\\.12\\)/ | .depends ~ /python3 \\(<< 3\\.13\\)/;
is_good = .depends ~ /python3 \\(<< 3\\.13\\)/;
is_bad = .depends ~ /python3 \\(<< 3\\.12\\)/;
"""

COINSTALL = str(REPO / ".venv" / "bin" / "coinstall")


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int, bytes]:
    """Wall seconds, CPU seconds (user + system), peak RSS (KiB) and stdout of one child.

    The peak comes from GNU time's ``%M`` (its own small child), not from ``wait4`` here: a
    child forked from this process would report this process's resident set as its peak.
    """
    t = time.perf_counter()
    p = subprocess.Popen(
        ["/usr/bin/time", "-f", "%M %U %S", *cmd],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    out, err = p.communicate()
    wall = time.perf_counter() - t
    rss, user, sys_ = err.decode().strip().splitlines()[-1].split()
    return wall, float(user) + float(sys_), int(rss), out


def best(
    cmd: list[str], repeat: int, env: dict[str, str] | None = None
) -> tuple[float, float, int, bytes]:
    """Best wall and best CPU time of ``repeat`` runs, the largest peak RSS, last stdout."""
    runs = [run(cmd, env) for _ in range(repeat)]
    return (min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs), runs[-1][3])


PARSE_SNIPPET = """
import sys, time
mode, path = sys.argv[1], sys.argv[2]
t = time.perf_counter()
if mode == "deb822":
    from debian import deb822
    n = 0
    with open(path, encoding="utf-8") as f:
        for p in deb822.Packages.iter_paragraphs(f, use_apt_pkg=False):
            n += 1
else:
    from coinstall.plan.indices import read_packages
    n = len(read_packages(path).binaries)
print(n, time.perf_counter() - t)
"""


def ben_sets(ben_json: dict[str, Any]) -> dict[str, tuple[int, str]]:
    """source -> (ben level, amd64 status) from ``ben monitor -f json``."""
    out = {}
    for level, sources in ben_json.items():
        for src, arches in sources.items():
            out[src] = (int(level), arches.get("amd64", "?"))
    return out


def model_levels(
    nodes: set[str],
    packages: Any,
    sources: Any,
    *,
    strip: bool,
    provides: bool,
    needed: dict[str, set[str]] | None,
) -> dict[str, int]:
    """0-based dependency levels over ``nodes``, cycles collapsed (ben's model when all
    switches are off: edges through every binary of an affected source, names as written).

    Args:
        strip: drop ``:native``/``:any`` qualifiers from Build-Depends names.
        provides: resolve virtual names through the binaries' ``Provides``.
        needed: source -> binary names that count (None: every binary of the source).
    """
    from coinstall.plan import engine

    bin2src: dict[str, str] = {}
    for b in packages.binaries:
        if b.source in nodes and (needed is None or b.name in needed.get(b.source, ())):
            bin2src[b.name] = b.source
            if provides:
                for v in engine._bd_names(b.provides):
                    bin2src.setdefault(v, b.source)
    edges: dict[str, set[str]] = {}
    for src in nodes:
        names = set()
        for group in sources.sources[src].build_depends.split(","):
            for alt in group.split("|"):
                word = alt.split()[0] if alt.split() else ""
                names.add(word.split(":")[0] if strip else word)
        edges[src] = {bin2src[n] for n in names if n in bin2src} - {src}
    comps = engine._sccs(nodes, edges)
    comp_of = {m: i for i, c in enumerate(comps) for m in c}
    level: dict[int, int] = {}
    for i, comp in enumerate(comps):
        deps = {comp_of[d] for m in comp for d in edges[m]} - {i}
        level[i] = 1 + max((level[d] for d in deps), default=-1)
    return {m: level[comp_of[m]] for m in nodes}


def compare(
    ben: dict[str, tuple[int, str]], plan: dict[str, Any], packages: Any, sources: Any
) -> tuple[list[tuple[str, int, str]], list[tuple[str, int, int]]]:
    """Set agreement rows (class, count, example) and the level attribution: starting from a
    re-implementation of ben's levels, apply coinstall's rules one at a time and count the
    sources whose level differs from ben's after each step."""
    ours = {s["name"]: s for s in plan["sources"]}
    tracked = {n for n, s in ours.items() if s["status"] in ("rebuild", "blocked")}
    rows: Counter[str] = Counter()
    examples: dict[str, str] = {}

    def add(cls: str, name: str) -> None:
        rows[cls] += 1
        examples.setdefault(cls, name)

    for name in sorted(set(ben) | tracked):
        s = ours.get(name)
        if name in tracked and name in ben:
            add("both track it", name)
        elif name in ben:
            add(f"ben only (coinstall: {s['status'] if s else 'no Python evidence'})", name)
        else:
            add("coinstall only", name)
    affected = set(ben)
    from coinstall.plan import engine

    needed = {
        n: {b["name"] for b in ours[n]["binaries"] if b["verdict"] in ("needs-build", "pinned")}
        for n in affected
        if n in ours
    }
    python_bins = {b["name"] for n in affected if n in ours for b in ours[n]["binaries"]}
    for b in packages.binaries:  # same-source packages pulling a rebuilt one in (engine rule)
        if (
            b.source in needed
            and b.name in python_bins
            and needed[b.source] & engine._bd_names(b.depends)
        ):
            needed[b.source].add(b.name)
    buildable = {n for n in affected if n in ours and ours[n]["wave"] is not None}
    steps = [
        (
            "ben's model re-implemented (every binary of an affected source, names as written)",
            affected,
            {"strip": False, "provides": False, "needed": None},
        ),
        (
            "+ strip :native/:any from Build-Depends names (ben skips qualified names)",
            affected,
            {"strip": True, "provides": False, "needed": None},
        ),
        (
            "+ resolve Provides (dh-sequence-numpy3 -> python3-numpy)",
            affected,
            {"strip": True, "provides": True, "needed": None},
        ),
        (
            "+ edges only through binaries that need a build (not -dev libraries, tools, docs)",
            affected,
            {"strip": True, "provides": True, "needed": needed},
        ),
        (
            "+ default-only sources (and those needing their modules) out of the order",
            buildable,
            {"strip": True, "provides": True, "needed": needed},
        ),
    ]
    attribution = []
    for label, nodes, kw in steps:
        lv = model_levels(nodes, packages, sources, **kw)
        differ = sum(1 for n in affected if lv.get(n) != ben[n][0])
        attribution.append((label, len(affected) - differ, differ))
    final = model_levels(buildable, packages, sources, strip=True, provides=True, needed=needed)
    mismatch = sum(1 for n in buildable if final[n] + 1 != ours[n]["wave"])
    attribution.append(
        (
            "check: last model == coinstall's waves - 1 (mismatches)",
            len(buildable) - mismatch,
            mismatch,
        )
    )
    return [(k, v, examples[k]) for k, v in rows.most_common()], attribution


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--output", help="write the figures as JSON here")
    ap.add_argument("--no-ben", action="store_true", help="skip ben (not installed)")
    args = ap.parse_args()
    pk, sr = bookworm("Packages.xz"), bookworm("Sources.xz")
    work = Path(tempfile.mkdtemp(prefix="plan-bench-"))
    cache = work / "xdg"
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    load_before = os.getloadavg()[0]  # before any timed run: the machine's own load
    try:
        (work / "Packages_amd64").write_bytes(lzma.decompress(pk.read_bytes()))
        (work / "Sources").write_bytes(lzma.decompress(sr.read_bytes()))
        (work / "py.ben").write_text(TRACKER)
        res: dict[str, Any] = {}
        for mode in ("deb822", "own"):
            t, cpu, rss, out = best(
                [sys.executable, "-c", PARSE_SNIPPET, mode, str(work / "Packages_amd64")],
                args.repeat,
            )
            n, inner = out.split()
            res[f"parse-{mode}"] = {
                "wall": t,
                "cpu": cpu,
                "inner": float(inner),
                "maxrss_kib": rss,
                "paragraphs": int(n),
            }
        plain = ["--repo", str(work / "Packages_amd64"), "--repo", str(work / "Sources")]
        xz = ["--repo", str(pk), "--repo", str(sr)]
        base = [COINSTALL, "plan", "add", "3.12", "--from", "3.11", "--format", "json"]
        t, cpu, rss, out = best(base + plain + ["--no-cache"], args.repeat, env)
        res["coinstall-cold-plain"] = {"wall": t, "cpu": cpu, "maxrss_kib": rss}
        plan = json.loads(out)
        t, cpu, rss, _ = best(base + xz + ["--no-cache"], args.repeat, env)
        res["coinstall-cold-xz"] = {"wall": t, "cpu": cpu, "maxrss_kib": rss}
        run(base + xz, env)  # fill the cache
        t, cpu, rss, _ = best(base + xz, args.repeat, env)
        res["coinstall-warm-xz"] = {"wall": t, "cpu": cpu, "maxrss_kib": rss}
        t, cpu, rss, _ = best([*base[:-2], "--format", "text", *xz], args.repeat, env)
        res["coinstall-warm-xz-text"] = {"wall": t, "cpu": cpu, "maxrss_kib": rss}
        # The free-threaded stack (issue 20): plan add 3.14t beside 3.14 on the same indices.
        ft = [COINSTALL, "plan", "add", "3.14t", "--format", "json"]
        t, cpu, rss, out = best(ft + xz + ["--no-cache"], args.repeat, env)
        res["coinstall-3.14t-cold-xz"] = {"wall": t, "cpu": cpu, "maxrss_kib": rss}
        ft_classes = json.loads(out)["free_threading"]["classes"]
        t, cpu, rss, _ = best(ft + xz, args.repeat, env)
        res["coinstall-3.14t-warm-xz"] = {"wall": t, "cpu": cpu, "maxrss_kib": rss}
        ben: dict[str, tuple[int, str]] = {}
        if not args.no_ben and shutil.which("ben"):
            cmd = [
                "ben",
                "monitor",
                "--no-benrc",
                "--archs",
                "amd64",
                "--cache-dir",
                str(work),
                "-f",
                "json",
                str(work / "py.ben"),
            ]
            t, cpu, rss, out = best(cmd, args.repeat)
            res["ben-monitor-plain"] = {"wall": t, "cpu": cpu, "maxrss_kib": rss}
            ben = ben_sets(json.loads(out))
        cores = len(os.sched_getaffinity(0))
        print(
            f"load average (1 min) before the runs: {load_before:.2f}, after: "
            f"{os.getloadavg()[0]:.2f}; {cores} cores usable (others' jobs inflate wall "
            "time, CPU time less so)"
        )
        print(f"{'command':28} {'wall s':>8} {'cpu s':>7} {'peak MiB':>9}  wall/ben  cpu/ben")
        ref = res.get("ben-monitor-plain")
        for k, v in res.items():
            rw = f"{v['wall'] / ref['wall']:.2f}x" if ref else "-"
            rc = f"{v['cpu'] / ref['cpu']:.2f}x" if ref else "-"
            if k.startswith("ratio-"):
                continue
            print(
                f"{k:28} {v['wall']:8.3f} {v['cpu']:7.3f} {v['maxrss_kib'] / 1024:9.1f}"
                f"  {rw:>8} {rc:>8}"
            )
        print(f"plan add 3.14t classes: {ft_classes}")
        for mode in ("cold-xz", "warm-xz"):  # issue 20: the same order of time as a GIL plan
            a, b = res[f"coinstall-3.14t-{mode}"], res[f"coinstall-{mode}"]
            res[f"ratio-3.14t-{mode}"] = {"wall": a["wall"] / b["wall"], "cpu": a["cpu"] / b["cpu"]}
            print(
                f"plan add 3.14t / plan add 3.12, {mode}: wall {a['wall'] / b['wall']:.2f}x,"
                f" cpu {a['cpu'] / b['cpu']:.2f}x"
            )
        d, o = res["parse-deb822"]["inner"], res["parse-own"]["inner"]
        print(
            f"parser: deb822 {d:.2f} s vs own {o:.2f} s on {res['parse-own']['paragraphs']}"
            f" paragraphs: own is {d / o:.1f}x faster"
        )
        if ben:
            from coinstall.plan import indices

            pk_idx = indices.read_packages(str(work / "Packages_amd64"))
            src_idx = indices.read_sources(str(work / "Sources"))
            rows, attribution = compare(ben, plan, pk_idx, src_idx)
            res["comparison"] = {"sets": rows, "levels": attribution}
            print(
                f"\nben lists {len(ben)} sources; coinstall tracks "
                f"{plan['counts']['rebuild'] + plan['counts']['blocked']}"
            )
            for cls, n, ex in rows:
                print(f"{n:5}  {cls}  (e.g. {ex})")
            print("\nlevels: sources whose level equals ben's / differs, rule by rule")
            for label, same, differ in attribution:
                print(f"{same:5} {differ:5}  {label}")
        if args.output:
            Path(args.output).write_text(json.dumps(res, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
