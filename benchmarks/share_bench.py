#!/usr/bin/env python3
"""Benchmark ``coinstall share``: one shared site versus one virtual environment per runtime.

This is a benchmark, not a test: it prints figures and ratios and asserts nothing.

For each package set and each approach, on pyenv's CPython 3.8-3.13 (those present):

* **venvs**: per runtime, ``python -m venv`` (timed apart, both approaches need it), then that
  venv's own ``pip install --only-binary=:all: -c CONSTRAINTS SET``: what people do today.
* **shared**: the same fresh venvs as targets; the version-specific part of the set (cffi for
  cryptography) installed by each venv's pip as above; then ``coinstall share init`` and
  ``coinstall share install -c CONSTRAINTS SET --into DIR`` (subprocesses, start-up included).

Measured: wall time of the installs (best of ``--repeat``), and the disk the set takes: the
growth of each venv's site-packages plus, for shared, the shared directory (its
``.coinstall-share`` state included).  Disk is counted twice: allocated blocks
(``st_blocks * 512``, what ``du`` reports) and apparent bytes (``st_size``), hard links once.
pip's HTTP cache is warmed by a first, untimed round so that both approaches pay no network.

Run from the repository root::

    .venv/bin/python benchmarks/share_bench.py [--repeat N]
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
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))
import corpus  # noqa: E402  (tests/corpus.py: the pinned versions)

VERSIONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]
#: name -> (the set, the version-specific part each runtime must have itself)
SETS: dict[str, tuple[list[str], list[str]]] = {
    "pure (requests, attrs, six, tomli)": (["requests", "attrs", "six", "tomli"], []),
    "with abi3 (+ cryptography)": (
        ["requests", "attrs", "six", "tomli", "cryptography"],
        ["cffi", "pycparser"],
    ),
}
PIP = ["-m", "pip", "install", "-q", "--disable-pip-version-check", "--only-binary=:all:"]
COINSTALL = [sys.executable, "-m", "coinstall"]


@dataclass
class Disk:
    blocks: int = 0
    apparent: int = 0

    def __add__(self, other: Disk) -> Disk:
        return Disk(self.blocks + other.blocks, self.apparent + other.apparent)

    def __sub__(self, other: Disk) -> Disk:
        return Disk(self.blocks - other.blocks, self.apparent - other.apparent)


def disk(path: str) -> Disk:
    seen: set[tuple[int, int]] = set()
    out = Disk()
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            st = os.lstat(os.path.join(root, name))
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            out.blocks += st.st_blocks * 512
            out.apparent += st.st_size
    return out


def run(cmd: Sequence[str]) -> None:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")


def site_packages(venv: str) -> str:
    return glob.glob(os.path.join(venv, "lib", "python3.*", "site-packages"))[0]


def make_venvs(base: str, pythons: dict[str, str]) -> dict[str, str]:
    def one(v: str) -> tuple[str, str]:
        d = os.path.join(base, f"venv{v}")
        run([pythons[v], "-m", "venv", d])
        return v, d

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(one, pythons))


def venv_round(
    base: str, pythons: dict[str, str], cons: str, reqs: list[str]
) -> tuple[float, Disk]:
    venvs = make_venvs(base, pythons)
    before = {v: disk(site_packages(d)) for v, d in venvs.items()}
    t0 = time.perf_counter()
    for d in venvs.values():
        run([os.path.join(d, "bin", "python"), *PIP, "-c", cons, *reqs])
    elapsed = time.perf_counter() - t0
    used = Disk()
    for v, d in venvs.items():
        used = used + (disk(site_packages(d)) - before[v])
    return elapsed, used


def shared_round(
    base: str, pythons: dict[str, str], cons: str, reqs: list[str], own: list[str]
) -> tuple[float, Disk]:
    venvs = make_venvs(base, pythons)
    before = {v: disk(site_packages(d)) for v, d in venvs.items()}
    site = os.path.join(base, "shared")
    t0 = time.perf_counter()
    if own:
        for d in venvs.values():
            run([os.path.join(d, "bin", "python"), *PIP, "-c", cons, *own])
    run(
        [
            *COINSTALL,
            "share",
            "init",
            site,
            *[a for d in venvs.values() for a in ("--python", os.path.join(d, "bin", "python"))],
        ]
    )
    run([*COINSTALL, "share", "install", "-c", cons, *reqs, "--into", site])
    elapsed = time.perf_counter() - t0
    used = disk(site)
    for v, d in venvs.items():
        used = used + (disk(site_packages(d)) - before[v])
    return elapsed, used


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=2, help="timed rounds; the best counts")
    args = ap.parse_args()
    pythons = {}
    for v in VERSIONS:
        root = (
            os.environ.get("PYENV_ROOT")
            or subprocess.run(
                ["pyenv", "root"], capture_output=True, text=True, check=False
            ).stdout.strip()
            or os.path.expanduser("~/.pyenv")
        )
        found = sorted(
            glob.glob(os.path.join(glob.escape(root), "versions", f"{v}.*", "bin", f"python{v}"))
        )
        if found:
            pythons[v] = found[-1]
    print(
        f"runtimes: {', '.join(pythons)}  (best of {args.repeat}; "
        "pip cache warmed by an untimed round)"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="share-bench-") as tmp:
        cons = os.path.join(tmp, "constraints.txt")
        Path(cons).write_text(corpus.SHARE_CONSTRAINTS)
        for label, (reqs, own) in SETS.items():
            best_v = best_s = float("inf")
            disk_v = disk_s = Disk()
            for i in range(args.repeat + 1):
                vb = os.path.join(tmp, f"v{i}")
                sb = os.path.join(tmp, f"s{i}")
                tv, disk_v = venv_round(vb, pythons, cons, reqs)
                ts, disk_s = shared_round(sb, pythons, cons, reqs, own)
                shutil.rmtree(vb)
                shutil.rmtree(sb)
                if i > 0:  # round 0 warms pip's cache
                    best_v, best_s = min(best_v, tv), min(best_s, ts)
            rows.append((label, best_v, best_s, disk_v, disk_s))
    mb = 1e6
    print(
        f"{'set':38} {'venvs s':>8} {'shared s':>9} {'time':>6} "
        f"{'venvs MB':>9} {'shared MB':>10} {'disk':>6} {'apparent':>9}"
    )
    for label, tv, ts, dv, ds in rows:
        print(
            f"{label:38} {tv:8.2f} {ts:9.2f} {ts / tv:6.2f} {dv.blocks / mb:9.2f} "
            f"{ds.blocks / mb:10.2f} {ds.blocks / dv.blocks:6.2f} "
            f"{ds.apparent / dv.apparent:9.2f}"
        )
    print(
        "time, disk, apparent: shared / venvs (below 1: the shared site is cheaper); "
        "disk = allocated blocks, apparent = file sizes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
