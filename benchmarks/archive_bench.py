#!/usr/bin/env python3
"""Benchmark whole-archive checking on every ``python3-*`` binary package of Debian bookworm amd64.

This is a benchmark, not a test: it prints timings and ratios and asserts nothing about speed.
Run from the repository root (after ``apt-get update``, so that apt knows bookworm)::

    .venv/bin/python benchmarks/archive_bench.py [--only fetch] [--limit N] [--skip serial,lintian]

Input: the pinned bookworm ``main/binary-amd64/Packages.xz`` (``tests/plan_corpus.py``, sha256
from the 2026-07-11 ``InRelease``); its ``python3-*`` paragraphs (4,250 packages, ~1.4 GB) are
fetched with ``apt-get download NAME=VERSION`` into ``.cache/archive-bench/debs`` and laid out
as a mirror (``.cache/archive-bench/mirror/pool/...``, hard links) where every file is checked
against the index's SHA256 once.

Runs, each a fresh process of ``coinstall check --repo Packages.xz --mirror ... --select-packages
'python3-*' --format jsonl --no-installed``:

* cold, ``--jobs 2``, empty result cache: wall; CPU of every process of the run (psutil,
  sampled every 50 ms over the process tree: the parent, the forkserver, the workers; each
  process's own user + system time, never its reaped children's, which would count the
  workers twice); peak RSS of all those processes together;
* warm: the same again over the filled cache;
* ``--jobs 1 --no-cache`` and ``--jobs 2 --no-cache``: the speedup of the pool;
* the decompression floor: ``dpkg-deb --fsys-tarfile`` over every file, one process at a time
  (CPU of the children), beside coinstall's CPU per package;
* lintian (``--no-tag-display-limit``, default profile) and ``coinstall check --jobs 1`` on a
  fixed sample of 100 of the packages (every 42nd): seconds per package;
* ``coinstall report --format json`` over the cold run's results: the headline numbers.

The load average before each run is printed: other users of the machine slow every figure.

What remains of the warm run (the goal is 2 s): the cache answers every package, so no
process starts and what is left is the parent's.  Its imports are the largest fixed part;
the pool's modules (multiprocessing, concurrent.futures), rich's progress bar (off when
stderr is not a terminal), the RPM index's XML parser, importlib.metadata and
importlib.resources (the code digest reads coinstall's files directly) are no longer among
them (tests/test_archive_warm.py), 0.53 -> 0.37 s of CPU over every 20th package (213,
paired medians, load 12).  Still there: click, the rule modules with their regular
expressions compiled at import (the run key names every rule), the catalogue's TOML parse,
and per package a ``stat``, an SQLite row, zlib and JSON of the outcome, the artifact's zstd
text and writing it.  Each cached artifact is decompressed twice, once when its row is read
(:meth:`coinstall.archive.cache.ResultCache.get`: a row that does not decompress counts as a
miss and is checked again) and once after the set-rule spool, which keeps the compressed
bytes (174 MB of text otherwise); the second pass is about 5% of that run's CPU (426
``decompress`` calls, 0.018 s of 0.37 s under cProfile).  Keeping the first would need the
text in memory; skipping it would turn a damaged row into a failed report instead of a
re-check, so it stays.

``--profile-parent DIR`` instead profiles the coinstall process itself (not its workers) with
cProfile on its CPU clock (``time.process_time``: all of its threads, never time spent waiting),
on a cold and then a warm ``--jobs 2`` run; ``--every N`` keeps every Nth python3-* package
(``--every 10``: 425 packages).  ``DIR/cold.prof`` and ``DIR/warm.prof`` are written
(``python -m pstats``) and the functions with the most own time printed::

    .venv/bin/python benchmarks/archive_bench.py --profile-parent /tmp/prof --every 10
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "src"))
from coinstall.plan import indices  # noqa: E402
from plan_corpus import bookworm  # noqa: E402

COINSTALL = str(REPO / ".venv" / "bin" / "coinstall")
CACHE = Path(os.environ.get("COINSTALL_TEST_CACHE", REPO / ".cache")) / "archive-bench"
SELECT = "python3-*"


def listed(index: Path) -> list[dict[str, str]]:
    """The python3-* paragraphs of the index (Package, Version, Architecture, Filename,
    SHA256, Size)."""
    data = indices.read_bytes(str(index))
    problems: list[indices.IndexProblem] = []
    fields = ("Package", "Version", "Architecture", "Filename", "SHA256", "Size")
    return [
        f
        for _, f in indices.paragraphs(data, str(index), fields, problems)
        if f.get("Package", "").startswith("python3-")
    ]


def fetch(index: Path) -> Path:
    """Download what is missing, lay out the mirror, verify every file once; the mirror root."""
    debs = CACHE / "debs"
    mirror = CACHE / "mirror"
    debs.mkdir(parents=True, exist_ok=True)
    pkgs = listed(index)

    def flat(p: dict[str, str]) -> Path:  # apt-get download's file name
        return debs / f"{p['Package']}_{p['Version'].replace(':', '%3a')}_{p['Architecture']}.deb"

    missing = [p for p in pkgs if not flat(p).exists()]
    for i in range(0, len(missing), 100):
        batch = [f"{p['Package']}={p['Version']}" for p in missing[i : i + 100]]
        subprocess.run(["apt-get", "download", "-q", *batch], cwd=debs, check=False)
    stamp = mirror / ".verified"
    sha = hashlib.sha256(index.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == sha:
        return mirror
    bad = 0
    for p in pkgs:
        src, dst = flat(p), mirror / p["Filename"]
        if not src.exists():
            print(f"  missing: {src.name}")
            bad += 1
            continue
        with open(src, "rb") as f:
            if hashlib.file_digest(f, "sha256").hexdigest() != p["SHA256"]:
                print(f"  sha256 mismatch: {src.name}")
                bad += 1
                continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists():
            os.link(src, dst)
    if not bad:
        stamp.write_text(sha)
    print(f"mirror: {len(pkgs) - bad} of {len(pkgs)} packages verified in {mirror}")
    return mirror


def measure(
    cmd: list[str], env: dict[str, str] | None = None, stdout: Any = subprocess.DEVNULL
) -> dict[str, float]:
    """Wall seconds, CPU seconds of the whole process tree, peak RSS (MB) of the tree summed."""
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=stdout, stderr=subprocess.PIPE)
    top = psutil.Process(proc.pid)
    cpu: dict[int, float] = {}
    peak = 0
    while proc.poll() is None:
        try:
            procs = [top, *top.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        rss = 0
        for p in procs:
            try:
                t = p.cpu_times()
                # not children_*: the forkserver reaps the workers, whose time is counted
                # from their own samples already
                cpu[p.pid] = t.user + t.system
                rss += p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        peak = max(peak, rss)
        time.sleep(0.05)
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.wait()
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1, 2):
        print(err[-2000:])
        raise SystemExit(f"{cmd[:3]}: exit {proc.returncode}")
    return {"wall": wall, "cpu": sum(cpu.values()), "rss_mb": peak / 1e6, "load": load}


def check_cmd(index: Path, mirror: Path, *extra: str) -> list[str]:
    return [
        COINSTALL,
        "check",
        "--no-installed",
        "--format",
        "jsonl",
        "--repo",
        str(index),
        "--mirror",
        str(mirror),
        "--select-packages",
        SELECT,
        *extra,
    ]


#: The coinstall command line under cProfile on the CPU clock; ``-c`` leaves the pool's fork
#: server no main module to import again.
PROFILED = """
import cProfile, sys, time
out = sys.argv[1]
sys.argv = ["coinstall", *sys.argv[2:]]
from coinstall.cli import main
prof = cProfile.Profile(time.process_time)
prof.enable()
try:
    main()
except SystemExit:
    pass
prof.disable()
prof.dump_stats(out)
"""


def profile_parent(index: Path, mirror: Path, every: int, outdir: Path) -> int:
    """Profile the parent process on a cold and a warm run (see the module docstring)."""
    import pstats

    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(tmp) / "Packages"
        paras = indices.read_bytes(str(index)).split(b"\n\n")
        kept = [p for p in paras if p.startswith(b"Package: python3-")][::every]
        sample.write_bytes(b"\n\n".join(kept) + b"\n")
        env = {**os.environ, "COINSTALL_CACHE_DIR": str(Path(tmp) / "cache")}
        args = check_cmd(sample, mirror, "--jobs", "2")[1:]
        for run in ("cold", "warm"):
            prof = outdir / f"{run}.prof"
            load = os.getloadavg()[0]
            m = measure([sys.executable, "-c", PROFILED, str(prof), *args], env)
            print(
                f"{run}: {len(kept)} packages, {m['wall']:.1f} s wall, {m['cpu']:.1f} s CPU of "
                f"the tree (load {load:.1f}); {prof}"
            )
            pstats.Stats(str(prof)).sort_stats("tottime").print_stats(15)
    return 0


def floor(paths: list[str]) -> float:
    """CPU seconds of ``dpkg-deb --fsys-tarfile`` over every file, one at a time."""
    before = os.times()
    for p in paths:
        subprocess.run(["dpkg-deb", "--fsys-tarfile", p], stdout=subprocess.DEVNULL, check=True)
    after = os.times()
    return (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=["fetch"], help="only fetch and verify the packages")
    ap.add_argument("--skip", default="", help="comma-separated: serial, lintian, floor")
    ap.add_argument("--output", default=str(REPO / "benchmarks" / "results" / "archive.json"))
    ap.add_argument("--profile-parent", metavar="DIR", help="profile the parent (see above)")
    ap.add_argument("--every", type=int, default=1, help="with --profile-parent: every Nth")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    index = bookworm("Packages.xz")
    mirror = fetch(index)
    if args.only == "fetch":
        return 0
    if args.profile_parent:
        return profile_parent(index, mirror, args.every, Path(args.profile_parent))
    pkgs = listed(index)
    paths = [str(mirror / p["Filename"]) for p in pkgs]
    n = len(paths)
    size = sum(int(p["Size"]) for p in pkgs)
    print(
        f"{n} python3-* packages, {size / 1e9:.2f} GB, index {index.name} "
        f"(sha256 {hashlib.sha256(index.read_bytes()).hexdigest()[:16]}…)"
    )
    out: dict[str, Any] = {"packages": n, "bytes": size, "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "COINSTALL_CACHE_DIR": str(Path(tmp) / "cache")}
        results = Path(tmp) / "results.jsonl"
        with open(results, "w") as f:
            out["cold"] = measure(check_cmd(index, mirror, "--jobs", "2"), env, f)
        print(
            f"cold  --jobs 2: {out['cold']['wall']:.1f} s wall, {out['cold']['cpu']:.1f} s CPU,"
            f" peak RSS {out['cold']['rss_mb']:.0f} MB (load {out['cold']['load']:.1f})"
        )
        out["warm"] = measure(check_cmd(index, mirror, "--jobs", "2"), env)
        print(
            f"warm  --jobs 2: {out['warm']['wall']:.1f} s wall, {out['warm']['cpu']:.1f} s CPU,"
            f" peak RSS {out['warm']['rss_mb']:.0f} MB (load {out['warm']['load']:.1f})"
        )
        if "serial" not in skip:
            for jobs in ("2", "1"):
                m = measure(check_cmd(index, mirror, "--jobs", jobs, "--no-cache"), env)
                out[f"nocache_jobs{jobs}"] = m
                print(
                    f"no cache --jobs {jobs}: {m['wall']:.1f} s wall, {m['cpu']:.1f} s CPU "
                    f"(load {m['load']:.1f})"
                )
            out["speedup"] = out["nocache_jobs1"]["wall"] / out["nocache_jobs2"]["wall"]
            print(f"speedup --jobs 2 vs 1: {out['speedup']:.2f}x")
        if "floor" not in skip:
            out["floor_cpu"] = floor(paths)
            per_c = out["cold"]["cpu"] / n
            print(
                f"floor (dpkg-deb --fsys-tarfile, serial): {out['floor_cpu']:.1f} s CPU = "
                f"{1000 * out['floor_cpu'] / n:.1f} ms/package; coinstall cold "
                f"{1000 * per_c:.1f} ms/package = {per_c * n / out['floor_cpu']:.2f}x the floor"
            )
        if "lintian" not in skip and shutil.which("lintian"):
            sample = paths[::42][:100]
            lin = measure(["lintian", "--no-tag-display-limit", *sample])
            co = measure(
                [
                    COINSTALL,
                    "check",
                    "--no-installed",
                    "--format",
                    "jsonl",
                    "--jobs",
                    "1",
                    "--no-cache",
                    *sample,
                ],
                env,
            )
            out["lintian_sample"] = {
                "packages": len(sample),
                "lintian": lin,
                "coinstall": co,
                "ratio": lin["wall"] / co["wall"],
            }
            print(
                f"lintian on {len(sample)}: {lin['wall']:.1f} s wall "
                f"({1000 * lin['wall'] / len(sample):.0f} ms/package); coinstall --jobs 1: "
                f"{co['wall']:.1f} s ({1000 * co['wall'] / len(sample):.0f} ms/package): "
                f"lintian/coinstall {out['lintian_sample']['ratio']:.1f}x"
            )
        rep = subprocess.run(
            [COINSTALL, "report", "--format", "json", str(results)],
            capture_output=True,
            text=True,
            check=True,
        )
        summary = json.loads(rep.stdout)
        out["report"] = {
            k: summary[k]
            for k in ("artifacts", "unreadable", "findings", "by_severity", "by_rule", "headlines")
        }
        print(
            f"report: {summary['artifacts']} artifacts, {summary['unreadable']} unreadable, "
            f"{summary['findings']} findings {summary['by_severity']}"
        )
        for h in summary["headlines"]:
            print(f"  {h['artifacts']:5d} ({h['percent']:5.1f}%) {h['label']}")
        for r in summary["by_rule"][:12]:
            print(f"  rule {r['rule']}: {r['findings']} findings in {r['artifacts']} packages")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(out, indent=2) + "\n")
    print(f"written {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
