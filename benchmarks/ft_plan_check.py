#!/usr/bin/env python3
"""Check ``coinstall plan add 3.14t`` against the real contents of the bookworm archive.

This is a check, not a test of speed: it runs the plan once, as users run it, and compares
each binary's class with what ``dpkg-deb -c`` (dpkg's own reader, not coinstall's) lists in
that binary.  Run from the repository root, once ``benchmarks/archive_bench.py --only fetch``
has filled ``.cache/archive-bench`` (its ``mirror/`` pool, or the flat ``debs/`` directory)::

    nice .venv/bin/python benchmarks/ft_plan_check.py [--mirror DIR] [--plan PLAN.json]
        [--seed 20] [--sample 30] [--output benchmarks/results/ft_plan_check.json]

Inputs: the pinned bookworm ``Packages.xz`` and ``Sources.xz`` (``tests/plan_corpus.py``) and
the 4,250 ``python3-*`` binaries of that ``Packages.xz`` (``benchmarks/archive_bench.py``).

The truth of one binary, from its ``dpkg-deb -c`` member paths (symbolic links included: the
import system finds a module by its name whatever the entry is):

* ``version-specific``: a ``NAME.cpython-3NN[d]-TRIPLET.so`` anywhere (PEP 3149; CPython
  ``configure.ac`` SOABI; a debug build's ``cpython-3NNd`` ones included);
* ``untagged``: a ``NAME.so`` (file or link) under a directory named ``python3*``
  (``usr/lib/python3/dist-packages``, ``usr/lib/llvm-13/lib/python3/…``, a private
  ``usr/lib/python3-escript``): tried by every CPython (importlib ``EXTENSION_SUFFIXES`` ends
  with ``.so``);
* ``abi3``: a ``NAME.abi3.so`` (PEP 384 suffix) and neither of the above;
* ``none``: no extension module.

Agreement per binary (the plan's ``binaries[].verdict`` is its class, docs/plan-format.md):
``version-specific`` needs a version-specific module, or an untagged one the plan judged from
its symbols or dh-python tied to versions (``python3 (<< 3.12)``; the evidence is printed),
or ``.py`` files in a GIL version's own directory
(``usr/lib/python3.N/``, not the shared one); ``abi3`` needs abi3 modules and nothing
version-specific; ``untagged`` needs an untagged module (listed with the plan's evidence);
``pure``, ``program``, ``ready``, ``runtime`` need no GIL extension module; a binary the plan
leaves out (no Python relation) needs no extension module.  The reverse is checked too:
every binary with a version-specific module is classed ``version-specific``.  Per source: each
source classed ``version-specific`` or ``abi3`` is decided either by an archive binary
(checked above) or by a binary outside the archive (counted: the index alone decided it).

Then ``--sample`` sources with at least one binary in the archive are drawn with
``random.Random(seed).sample`` from the sorted names, and for each the modules that decide
its class are printed (the table of docs/plan-format.md "Checked by hand").  Exit status: 0
when everything agrees, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from plan_corpus import bookworm  # noqa: E402

COINSTALL = str(REPO / ".venv" / "bin" / "coinstall")
CACHE = Path(os.environ.get("COINSTALL_TEST_CACHE", REPO / ".cache")) / "archive-bench"

#: Written here, apart from coinstall's parser, so the check does not grade itself.
PYDIR = re.compile(r"(?:^|/)python3[^/]*/")
TAGGED = re.compile(r"\.cpython-3(\d+)([a-z]*)-[^/]+\.so$")
ABI3 = re.compile(r"\.abi3\.so$")
OWN_DIR_PY = re.compile(r"^usr/lib/python3\.\d+/.*\.py$")
NO_EXT = ("pure", "program", "ready", "runtime", None)


def members(deb: Path) -> list[str]:
    """Member paths of ``deb`` from ``dpkg-deb -c`` (``./usr/x`` -> ``usr/x``)."""
    out = subprocess.run(
        ["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True
    ).stdout
    paths = []
    for line in out.splitlines():
        parts = line.split(None, 5)
        if len(parts) < 6:
            continue
        path = parts[5]
        if line.startswith("l") and " -> " in path:
            path = path.split(" -> ", 1)[0]
        path = path[2:] if path.startswith("./") else path
        if path and not path.endswith("/"):
            paths.append(path)
    return paths


def truth(paths: list[str]) -> dict[str, Any]:
    """The ground-truth class of one binary and the modules behind it."""
    tagged, debug, ft, untagged, abi3, own = [], [], [], [], [], []
    for p in paths:
        m = TAGGED.search(p)
        if m:
            (ft if "t" in m[2] else tagged).append(p)
            if "d" in m[2]:
                debug.append(p)
        elif ABI3.search(p):
            abi3.append(p)
        elif p.endswith(".so") and PYDIR.search(p):
            untagged.append(p)
        elif OWN_DIR_PY.match(p):
            own.append(p)
    cls = "version-specific" if tagged else "untagged" if untagged else "abi3" if abi3 else "none"
    return {
        "class": cls,
        "tagged": tagged,
        "debug": debug,
        "untagged": untagged,
        "abi3": abi3,
        "own_dir_py": own,
        "free_threaded": ft,
    }


def agrees(plan_cls: str | None, t: dict[str, Any], reasons: list[str]) -> bool:
    """Whether the plan's class of one binary is what its contents say."""
    if t["class"] == "version-specific":
        return plan_cls == "version-specific"
    if plan_cls == "version-specific":
        if t["untagged"]:  # judged from the symbols, or dh-python tied them to versions
            return any("untagged module" in r or "tied to versions" in r for r in reasons)
        return bool(t["own_dir_py"]) and any("own directory" in r for r in reasons)
    if plan_cls == "abi3":
        return t["class"] == "abi3" or (t["untagged"] != [] and bool(t["abi3"]))
    if plan_cls == "untagged":
        return t["class"] == "untagged"
    if plan_cls in NO_EXT:
        return t["class"] == "none" or (
            t["class"] == "untagged" and any("loads on" in r for r in reasons)
        )
    return False  # unknown: an archive binary's file list was read


def debs_of(mirror: Path) -> dict[tuple[str, str], Path]:
    """``(package, architecture) -> file`` for every ``.deb`` under ``mirror``."""
    out = {}
    for dirpath, _, files in os.walk(mirror):
        for fn in files:
            if fn.endswith(".deb") and fn.count("_") == 2:
                name, _, arch = fn[:-4].split("_")
                out[(name, arch)] = Path(dirpath) / fn
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = CACHE / "mirror" if (CACHE / "mirror").is_dir() else CACHE / "debs"
    ap.add_argument("--mirror", default=str(default))
    ap.add_argument("--plan", help="an existing plan JSON of the same inputs (else run it)")
    ap.add_argument("--seed", type=int, default=20)
    ap.add_argument("--sample", type=int, default=30)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--output", default=str(REPO / "benchmarks" / "results" / "ft_plan_check.json"))
    args = ap.parse_args()
    mirror = Path(args.mirror)
    packages, sources = bookworm("Packages.xz"), bookworm("Sources.xz")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    debs = debs_of(mirror)
    print(f"{len(debs)} .deb files under {mirror}")
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "plan.json"
        proc = None
        if not args.plan:  # the plan runs while dpkg-deb lists the files
            cmd = [
                COINSTALL,
                "plan",
                "add",
                "3.14t",
                "--repo",
                str(packages),
                "--repo",
                str(sources),
                "--mirror",
                str(mirror),
                "--format",
                "json",
                "-o",
                str(out),
            ]
            print("$", " ".join(cmd))
            t0 = time.monotonic()
            proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        t1 = time.monotonic()
        with ThreadPoolExecutor(args.jobs) as pool:
            listed = dict(zip(debs, pool.map(members, debs.values()), strict=True))
        print(f"dpkg-deb -c of every file: {time.monotonic() - t1:.1f} s")
        if proc is not None:
            _, err = proc.communicate()
            print(f"plan: exit {proc.returncode}, {time.monotonic() - t0:.1f} s")
            if proc.returncode not in (0, 2):
                print(err[-2000:])
                return 1
            Path(args.output).parent.mkdir(parents=True, exist_ok=True)
            Path(args.output).with_suffix(".plan.json").write_text(out.read_text())
        plan = json.loads((Path(args.plan) if args.plan else out).read_text())

    by_bin: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {}
    for s in plan["sources"]:
        for b in s["binaries"]:
            by_bin[(b["name"], b["arch"])] = (s, b)
    rows = []
    for key, paths in sorted(listed.items()):
        t = truth(paths)
        s, b = by_bin.get(key, (None, None))
        cls = b["verdict"] if b else None
        reasons = b["reasons"] if b else []
        rows.append(
            {
                "package": key[0],
                "arch": key[1],
                "source": s["name"] if s else None,
                "plan": cls,
                "truth": t,
                "reasons": reasons,
                "agree": agrees(cls, t, reasons),
            }
        )
    pairs = Counter((r["plan"], r["truth"]["class"]) for r in rows)
    print("\nplan class x contents class (binaries in the archive):")
    for (p, t), n in sorted(pairs.items(), key=lambda x: (str(x[0][0]), x[0][1])):
        print(f"  {p!s:18} {t:18} {n:5}")
    bad = [r for r in rows if not r["agree"]]
    print(f"\ndisagreements: {len(bad)} of {len(rows)} binaries")
    for r in bad[:40]:
        t = r["truth"]
        print(
            f"  {r['package']} [{r['arch']}] plan={r['plan']} contents={t['class']} "
            f"{(t['tagged'] or t['untagged'] or t['abi3'] or t['own_dir_py'])[:1]} "
            f"{r['reasons'][:1]}"
        )
    unt = [r for r in rows if r["truth"]["untagged"]]
    print(f"\nuntagged modules: {len(unt)} binaries; the plan's evidence:")
    for r in unt:
        print(f"  {r['package']}: plan={r['plan']}: {r['reasons'][:2]}")

    # Sources: a rebuild class is decided by an archive binary or by the index alone.
    in_archive = {r["package"] for r in rows}
    decided: Counter[str] = Counter()
    for s in plan["sources"]:
        cls = s.get("class")
        if cls not in ("version-specific", "abi3"):
            continue
        deciders = [b for b in s["binaries"] if b["verdict"] == cls]
        decided["archive" if any(b["name"] in in_archive for b in deciders) else "index"] += 1
    classes = Counter(s.get("class") for s in plan["sources"])
    print(f"\nsource classes: {dict(classes)}")
    print(
        f"version-specific/abi3 sources decided by an archive binary: {decided['archive']},"
        f" by the index alone (no binary in the archive): {decided['index']}"
    )

    # The hand-check sample.
    src_rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r["source"]:
            src_rows[r["source"]].append(r)
    pick = random.Random(args.seed).sample(sorted(src_rows), args.sample)
    srcs = {s["name"]: s for s in plan["sources"]}
    print(
        f"\nsample: random.Random({args.seed}).sample(sorted(sources with a binary in the "
        f"archive: {len(src_rows)}), {args.sample})"
    )
    sample = []
    for name in sorted(pick):
        s = srcs[name]
        mods = []
        for r in src_rows[name]:
            t = r["truth"]
            for k in ("tagged", "untagged", "abi3"):
                mods += [f"{r['package']}: {p}" for p in t[k][:1]]
        others = [b["name"] for b in s["binaries"] if b["name"] not in in_archive]
        sample.append(
            {
                "source": name,
                "class": s.get("class"),
                "status": s["status"],
                "modules": mods,
                "outside_archive": others,
                "agree": all(r["agree"] for r in src_rows[name]),
            }
        )
        print(
            f"  {name}: {s.get('class')} ({s['status']}); "
            f"{mods[:2] or 'no extension module'}; outside the archive: {others}"
        )
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(
        json.dumps(
            {
                "mirror": str(mirror),
                "binaries": len(rows),
                "disagreements": bad,
                "pairs": {f"{p}/{t}": n for (p, t), n in pairs.items()},
                "sources": dict(classes),
                "decided": dict(decided),
                "seed": args.seed,
                "sample": sample,
            },
            indent=1,
        )
        + "\n"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
