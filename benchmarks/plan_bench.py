#!/usr/bin/env python3
"""Benchmark ``coinstall plan add 3.12 --from 3.11`` on Debian bookworm beside ``ben monitor``,
and compare their answers.

This is a benchmark, not a test: it prints timings, ratios, memory peaks and the comparison
table, and asserts nothing about speed.  Run from the repository root::

    .venv/bin/python benchmarks/plan_bench.py [--repeat N] [--output PATH] [--no-ben]

Inputs: the pinned full bookworm amd64 ``Packages.xz`` and ``Sources.xz``
(``tests/plan_corpus.py``), also decompressed to plain files in a temporary directory because
``ben monitor`` reads plain ``Sources``/``Packages_amd64`` from its cache directory.

Measured (best of ``--repeat`` wall-clock runs, each a fresh process; memory = the child's
``ru_maxrss`` from ``wait4``):

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


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, bytes]:
    """Wall seconds, peak RSS (KiB) and stdout of one child process."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    out = p.stdout.read() if p.stdout else b""
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - t, ru.ru_maxrss, out


def best(cmd: list[str], repeat: int, env: dict[str, str] | None = None
         ) -> tuple[float, int, bytes]:
    runs = [run(cmd, env) for _ in range(repeat)]
    return min(r[0] for r in runs), max(r[1] for r in runs), runs[-1][2]


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


def compare(ben: dict[str, tuple[int, str]], plan: dict[str, Any]) -> list[tuple[str, int, str]]:
    """Rows (class, count, example) of the agreement/difference table."""
    ours = {s["name"]: s for s in plan["sources"]}
    tracked = {n for n, s in ours.items() if s["status"] in ("rebuild", "blocked")}
    rows: Counter[str] = Counter()
    examples: dict[str, str] = {}

    def add(cls: str, name: str) -> None:
        rows[cls] += 1
        examples.setdefault(cls, name)

    for name, (level, status) in sorted(ben.items()):
        s = ours.get(name)
        if name in tracked:
            assert s is not None
            if s["wave"] is None:
                add("both; coinstall: cannot be built for 3.12 before the default switches "
                    "(default-only build or needs such a module)", name)
            elif s["wave"] == level + 1:
                add("both, same level (ben level L = coinstall wave L+1)", name)
            else:
                add("both, different level: coinstall orders on build-deps on binaries that "
                    "need a build (ben: on all binaries of affected sources), cycles collapsed",
                    name)
        elif s is not None and s["status"] == "not-affected":
            add("ben only: runtime/defaults source (subject of the transition)", name)
        elif status == "good":
            add("ben only, ben says good: already built for 3.12", name)
        else:
            add(f"ben only, coinstall {s['status'] if s else 'no python evidence'}", name)
    for name in sorted(tracked - set(ben)):
        s = ours[name]
        why = " / ".join(sorted({r.split("(", 1)[-1].split(";")[0].rstrip(")")
                                 for b in s["binaries"] if b["verdict"] == "needs-build"
                                 for r in b["reasons"][:1]}))[:90]
        add(f"coinstall only: evidence ben's regex does not match: {why}", name)
    return [(k, v, examples[k]) for k, v in rows.most_common()]


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
    try:
        (work / "Packages_amd64").write_bytes(lzma.decompress(pk.read_bytes()))
        (work / "Sources").write_bytes(lzma.decompress(sr.read_bytes()))
        (work / "py.ben").write_text(TRACKER)
        res: dict[str, Any] = {}
        for mode in ("deb822", "own"):
            t, rss, out = best([sys.executable, "-c", PARSE_SNIPPET, mode,
                                str(work / "Packages_amd64")], args.repeat)
            n, inner = out.split()
            res[f"parse-{mode}"] = {"wall": t, "inner": float(inner), "maxrss_kib": rss,
                                    "paragraphs": int(n)}
        plain = ["--repo", str(work / "Packages_amd64"), "--repo", str(work / "Sources")]
        xz = ["--repo", str(pk), "--repo", str(sr)]
        base = [COINSTALL, "plan", "add", "3.12", "--from", "3.11", "--format", "json"]
        t, rss, out = best(base + plain + ["--no-cache"], args.repeat, env)
        res["coinstall-cold-plain"] = {"wall": t, "maxrss_kib": rss}
        plan = json.loads(out)
        t, rss, _ = best(base + xz + ["--no-cache"], args.repeat, env)
        res["coinstall-cold-xz"] = {"wall": t, "maxrss_kib": rss}
        run(base + xz, env)  # fill the cache
        t, rss, _ = best(base + xz, args.repeat, env)
        res["coinstall-warm-xz"] = {"wall": t, "maxrss_kib": rss}
        ben: dict[str, tuple[int, str]] = {}
        if not args.no_ben and shutil.which("ben"):
            cmd = ["ben", "monitor", "--no-benrc", "--archs", "amd64", "--cache-dir",
                   str(work), "-f", "json", str(work / "py.ben")]
            t, rss, out = best(cmd, args.repeat)
            res["ben-monitor-plain"] = {"wall": t, "maxrss_kib": rss}
            ben = ben_sets(json.loads(out))
        print(f"{'command':28} {'wall s':>8} {'peak MiB':>9}  ratio to ben")
        ref = res.get("ben-monitor-plain", {}).get("wall")
        for k, v in res.items():
            ratio = f"{v['wall'] / ref:.2f}x" if ref else "-"
            print(f"{k:28} {v['wall']:8.3f} {v['maxrss_kib'] / 1024:9.1f}  {ratio}")
        d, o = res["parse-deb822"]["inner"], res["parse-own"]["inner"]
        print(f"parser: deb822 {d:.2f} s vs own {o:.2f} s on {res['parse-own']['paragraphs']}"
              f" paragraphs: own is {d / o:.1f}x faster")
        if ben:
            rows = compare(ben, plan)
            res["comparison"] = rows
            print(f"\nben lists {len(ben)} sources; coinstall tracks "
                  f"{plan['counts']['rebuild'] + plan['counts']['blocked']}")
            for cls, n, ex in rows:
                print(f"{n:5}  {cls}  (e.g. {ex})")
        if args.output:
            Path(args.output).write_text(json.dumps(res, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
