"""Benchmark of ``coinstall spec``: read + lint + port (to alt, epel and suse) of every real spec
of tests/data/spec/, in specs per second, next to

* ``rpmlint`` on the same specs (its spec checks: rpmlint reads a .spec with librpm and runs
  SpecCheck), one process for all of them, as a packager runs it;
* ``rpmspec --parse`` alone with coinstall's macros loaded, one process per spec (rpmspec takes
  the specs one by one): the floor, since every coinstall read is a librpm parse too.

Prints the figures and the ratios; asserts nothing (a timing is not a test).  Run from the
repository root::

    .venv/bin/python benchmarks/spec_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from coinstall.config import Config  # noqa: E402
from coinstall.runtimes.stack import Stack  # noqa: E402
from coinstall.spec.lint import MacroFiles, lint_doc, read_for  # noqa: E402
from coinstall.spec.port import port  # noqa: E402
from coinstall.spec.read import SpecError  # noqa: E402

STACK = Stack.parse("default=3.12,other=3.11")


def coinstall_pass(specs: list[str], files: MacroFiles) -> tuple[float, int, int]:
    """Read, lint and port every spec in process; returns (seconds, read, unreadable)."""
    t = time.perf_counter()
    ok = bad = 0
    for s in specs:
        try:
            doc, layout = read_for(s, files)
        except SpecError:
            bad += 1
            continue
        lint_doc(doc, layout, Config(stack=STACK))
        for target in ("alt", "epel", "suse"):
            port(doc, target)
        ok += 1
    return time.perf_counter() - t, ok, bad


def rpmlint_pass(specs: list[str]) -> float | None:
    exe = shutil.which("rpmlint")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        subprocess.run([exe, *specs], cwd=d, capture_output=True)
        return time.perf_counter() - t


def rpmspec_pass(specs: list[str], macros: str) -> float | None:
    exe = shutil.which("rpmspec")
    if exe is None:
        return None
    t = time.perf_counter()
    for s in specs:
        subprocess.run([exe, "--load", macros, "--parse", s], capture_output=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    args = ap.parse_args()
    specs = sorted(glob.glob(str(ROOT / "tests" / "data" / "spec" / "*" / "*.spec")))
    files = MacroFiles(STACK)
    best: dict[str, float] = {}
    counts = (0, 0)
    for _ in range(args.repeat):
        sec, ok, bad = coinstall_pass(specs, files)
        counts = (ok, bad)
        best["coinstall"] = min(best.get("coinstall", sec), sec)
        r = rpmlint_pass(specs)
        if r is not None:
            best["rpmlint"] = min(best.get("rpmlint", r), r)
        f = rpmspec_pass(specs, files.path("epel"))
        if f is not None:
            best["rpmspec"] = min(best.get("rpmspec", f), f)
    n = len(specs)
    print(
        f"{n} specs ({counts[0]} read, {counts[1]} unreadable), best of {args.repeat}, "
        f"load {os.getloadavg()[0]:.2f}"
    )
    print(f"{'tool':<40} {'seconds':>8} {'specs/s':>8}")
    rows = [
        ("coinstall read+lint+port x3 (in process)", "coinstall"),
        ("rpmlint (spec checks, one process)", "rpmlint"),
        ("rpmspec --parse (floor, per spec)", "rpmspec"),
    ]
    for label, key in rows:
        if key in best:
            print(f"{label:<40} {best[key]:>8.2f} {n / best[key]:>8.1f}")
        else:
            print(f"{label:<40} {'n/a':>8} {'n/a':>8}")
    c = best["coinstall"]
    if "rpmlint" in best:
        print(f"coinstall / rpmlint time ratio: {c / best['rpmlint']:.2f}")
    if "rpmspec" in best:
        print(f"coinstall / rpmspec --parse (floor) time ratio: {c / best['rpmspec']:.2f}")


if __name__ == "__main__":
    main()
