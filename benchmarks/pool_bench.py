#!/usr/bin/env python3
"""When does the process pool pay?  ``coinstall check`` default vs ``--jobs 1`` vs ``--jobs 2``
on the benchmark corpus' inputs, and the sweep behind ``coinstall.archive.POOL_MIN_BYTES``.

This is a benchmark, not a test: it prints medians and ratios and asserts nothing.

Inputs (every file pinned by sha256; the archive samples are fixed slices):

* the 11 RPMs of ``tests/data/rpm``;
* the test corpus' .debs (``tests/corpus.py``) and the benchmark corpus' wheels and .debs
  (``benchmarks/bench_corpus.py``), each set as one input;
* fixed samples of the bookworm ``python3-*`` archive (``benchmarks/archive_bench.py``; every
  42nd package, the first 10, 20, 50 and 100 of them), when it has been fetched.

Each input runs ``coinstall check --no-installed --format json --no-cache`` (default jobs),
with ``--jobs 1`` and with ``--jobs 2``, ``--runs`` times each (default 3, interleaved, so that
a change of the machine's load hits every variant alike); the median wall time and the median
CPU time of the whole process tree (sampled every 50 ms with psutil, as
``benchmarks/archive_bench.py`` measures: the pool's workers included) are printed, with the bytes
the default decision estimates (:func:`coinstall.archive.estimated_bytes`) and the jobs it
picks (:func:`coinstall.archive.default_jobs`).  The goal (issue 22, item 2): the default is
never slower than ``--jobs 1`` on any input.  The load average is printed before each input:
on a machine shared with other work a pool buys a larger share of the cores, so its wall-time
gain depends on the load.

``--fixed-cost`` measures instead the two numbers ``POOL_MIN_BYTES`` is derived from (see its
comment in ``coinstall/archive/__init__.py``): the pool's fixed CPU cost (``--jobs 2`` minus
``--jobs 1`` over one small .deb: the fork server's start and preload, the workers' forks) and
the CPU per MiB of package (``--jobs 1`` over the first 20 packages of the every-42nd archive
sample), as CPU of the whole process tree (user + system from ``os.wait4``, this process being
the tree's child subreaper so that the fork server is reaped here too), paired and
interleaved, medians.

Run from the repository root::

    .venv/bin/python benchmarks/pool_bench.py [--runs 3] [--only rpm,debs,wheels,archive]
    .venv/bin/python benchmarks/pool_bench.py --fixed-cost [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))
from coinstall.archive import POOL_MIN_BYTES, default_jobs, estimated_bytes  # noqa: E402

COINSTALL = str(REPO / ".venv" / "bin" / "coinstall")


def inputs(only: set[str]) -> list[tuple[str, list[str]]]:
    """``(label, paths)`` of every input that is present."""
    out: list[tuple[str, list[str]]] = []
    if "rpm" in only:
        out.append(
            (
                "tests/data/rpm (11 RPMs)",
                sorted(str(p) for p in (REPO / "tests" / "data" / "rpm").glob("*.rpm")),
            )
        )
    if only & {"debs", "wheels"}:
        import bench_corpus

        import corpus

        if "debs" in only:
            test_debs = sorted(str(p) for p in corpus.fetch_debs().values())
            out.append((f"test corpus .debs ({len(test_debs)})", test_debs))
        wheels, debs = bench_corpus.fetch()
        if "debs" in only:
            out.append((f"bench corpus .debs ({len(debs)})", sorted(map(str, debs.values()))))
        if "wheels" in only:
            out.append((f"bench corpus wheels ({len(wheels)})", sorted(map(str, wheels.values()))))
    if "archive" in only:
        from archive_bench import CACHE, listed

        from plan_corpus import bookworm

        mirror = CACHE / "mirror"
        if (mirror / ".verified").exists():
            every = [str(mirror / p["Filename"]) for p in listed(bookworm("Packages.xz"))][::42]
            for n in (10, 20, 50, 100):
                out.append((f"archive sample: every 42nd, first {n}", every[:n]))
    return out


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds of the process tree (archive_bench's psutil sampling)."""
    from archive_bench import measure

    m = measure(cmd, env)
    return m["wall"], m["cpu"]


def tree_cpu(cmd: list[str], env: dict[str, str]) -> float:
    """CPU seconds (user + system) of ``cmd`` and every process it starts, from ``os.wait4``:
    this process is made the tree's child subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``), so
    that processes nobody waits for (the fork server) are reaped, and counted, here."""
    import ctypes
    import subprocess

    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER (linux/prctl.h)
    subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    total = 0.0
    while True:
        try:
            _, _, ru = os.wait4(-1, 0)
        except ChildProcessError:
            return total
        total += ru.ru_utime + ru.ru_stime


def fixed_cost(runs: int) -> int:
    """Print the pool's fixed CPU cost, the CPU per MiB and the threshold they give."""
    from archive_bench import CACHE, listed

    import corpus
    from plan_corpus import bookworm

    small = [str(corpus.fetch_debs()["python3-six"])]
    sample = [
        str(CACHE / "mirror" / p["Filename"]) for p in listed(bookworm("Packages.xz"))[::42][:20]
    ]
    mib = (estimated_bytes(sample) or 0) / 2**20
    base = [COINSTALL, "check", "--no-installed", "--format", "json", "--no-cache"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "XDG_CACHE_HOME": tmp}
        tree_cpu([*base, *small], env)  # the discovery cache, the page cache
        fixed: list[float] = []
        per_mib: list[float] = []
        load = os.getloadavg()
        for _ in range(runs):
            one = tree_cpu([*base, "--jobs", "1", *small], env)
            two = tree_cpu([*base, "--jobs", "2", *small], env)
            fixed.append(two - one)
            per_mib.append((tree_cpu([*base, "--jobs", "1", *sample], env) - one) / mib)
    f, c = statistics.median(fixed), statistics.median(per_mib)
    print(
        f"load average {load[0]:.1f} -> {os.getloadavg()[0]:.1f}; medians of {runs}\n"
        f"pool fixed cost: {f:.3f} s CPU (--jobs 2 - --jobs 1 over {Path(small[0]).name}; "
        f"runs {', '.join(f'{x:.2f}' for x in fixed)})\n"
        f"CPU per MiB of package: {c:.4f} s ({len(sample)} archive packages, {mib:.1f} MiB; "
        f"runs {', '.join(f'{x:.3f}' for x in per_mib)})\n"
        f"break-even: {f / c:.1f} MiB of work that runs beside the rest "
        f"(POOL_MIN_BYTES now {POOL_MIN_BYTES / 2**20:.1f} MiB)"
    )
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="rpm,debs,wheels,archive")
    ap.add_argument("--fixed-cost", action="store_true", help="measure the pool's fixed cost")
    args = ap.parse_args()
    if args.fixed_cost:
        return fixed_cost(args.runs)
    only = set(args.only.split(","))
    variants = {"default": [], "--jobs 1": ["--jobs", "1"], "--jobs 2": ["--jobs", "2"]}
    print(
        f"POOL_MIN_BYTES = {POOL_MIN_BYTES / 2**20:.1f} MiB; {os.cpu_count()} cores; "
        f"median of {args.runs} runs; command: {COINSTALL} check --no-installed "
        "--format json --no-cache [--jobs N] FILES"
    )
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "XDG_CACHE_HOME": tmp}
        for label, paths in inputs(only):
            size = estimated_bytes(paths) or 0
            base = [COINSTALL, "check", "--no-installed", "--format", "json", "--no-cache"]
            run([*base, *paths[:1]], env)  # warm the page cache and the discovery cache
            times: dict[str, list[tuple[float, float]]] = {v: [] for v in variants}
            load = os.getloadavg()[0]
            for _ in range(args.runs):
                for v, extra in variants.items():
                    times[v].append(run([*base, *extra, *paths], env))
            med = {
                v: (statistics.median(w for w, _ in t), statistics.median(c for _, c in t))
                for v, t in times.items()
            }
            ratio = med["default"][0] / med["--jobs 1"][0]
            pool = med["--jobs 2"][0] / med["--jobs 1"][0]
            worst = max(worst, ratio)
            print(
                f"\n{label}: {len(paths)} files, {size / 2**20:.1f} MiB, default picks "
                f"--jobs {default_jobs(paths)} (load {load:.1f})"
            )
            for v, (w, c) in med.items():
                print(f"  {v:9s} {w:6.2f} s wall {c:6.2f} s CPU")
            print(
                f"  default / --jobs 1: {ratio:.2f}x wall; --jobs 2 / --jobs 1: {pool:.2f}x "
                f"wall ({'pool pays' if pool < 1 else 'pool does not pay'})"
            )
    print(
        f"\nworst default / --jobs 1 over the inputs: {worst:.2f}x (goal: <= 1.0, within "
        "the noise of the run)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
