#!/usr/bin/env python3
"""Benchmark ``coinstall fix`` on a build root of the 36 benchmark .debs, against the peers.

The build root is every .deb of ``benchmarks/bench_corpus.py`` unpacked with ``dpkg-deb -x``
into one directory (as a packager's ``debian/tmp`` or an image's root looks), plus one
bytecode problem per site package so the bytecode stage has work: each top-level package's
``__init__.py`` gets a ``__pycache__/__init__.cpython-311.pyc`` compiled by 3.12 (another
runtime's magic under 3.11's cache tag), which ``fix`` recompiles with a real 3.11.  Every
tool runs on its own fresh copy (the copy is not timed), in one run:

* ``coinstall fix --stack default=3.11 ROOT`` — every rule, every fixer (the engine
  in-process, runtimes discovered once beforehand as the CLI does);
* ``coinstall fix --select <shebang rules>`` against ``pathfix.py -pni /usr/bin/python3 -kas
  ROOT`` (Fedora's ``%py3_shebang_fix``; Debian's python3.11-examples ships it) — shebangs only;
* ``coinstall fix --select bytecode-stale,...`` against ``python3.11 -m compileall -q ROOT``
  (recompiles every source; the ``compileall`` floor of bytecode work);
* the floor: walking the tree and reading every file's first 512 bytes.

Then, as users run it, the command ``coinstall fix --select <shebang rules>`` (a process:
start-up and imports included, as pathfix.py's are) against pathfix.py: ``--pairs`` runs
interleaved (coinstall, pathfix, coinstall, ...), each on a fresh copy, and the CPU time
(user+sys of the child, from ``getrusage(RUSAGE_CHILDREN)``) is compared by medians, which a
loaded machine disturbs less than wall time; the load average is printed beside it.

Where the shebang-only command's CPU goes (issue 22 goal 4, no slower than pathfix.py: not
met).  Paired medians of 7 runs on a copy of this build root (9,835 files) after one fix,
load average 15, so only the shares count: the whole command 0.72 s, pathfix.py 0.38 s;
start-up and imports (``import coinstall.cli, coinstall.fix.engine, coinstall.check``)
0.20 s; the directory reader's walk opening no file 0.25 s (a bare ``os.scandir`` + ``lstat``
walk 0.14 s; importing the reader 0.08 s), with the heads the run needs
(:func:`coinstall.files.verdict.wants_head_for_kind`: 70 files opened) 0.38 s.  The rest,
about 0.15 s, is classifying every member and the rules.  A run of shebang rules already
opens only executables, program directories and bytecode; what is left to cut is
classifying members no selected rule can act on (the package's stack,
:func:`coinstall.relations.package_stack`, is read from every file's directory, so the
records cannot simply be filtered) and coinstall's own import time (dataclasses and regular
expressions built at import, see benchmarks/startup_bench.py).

Files per second = regular files in the tree / wall time (best of ``--repeat``).  Prints a
table and the ratios; asserts nothing.  ``--quick`` runs each once.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "src"))

import bench_corpus  # noqa: E402

from coinstall.config import Config  # noqa: E402
from coinstall.fix.engine import fix_target  # noqa: E402
from coinstall.fix.model import FixOptions  # noqa: E402
from coinstall.runtimes import catalogue as catalogue_mod  # noqa: E402
from coinstall.runtimes import discovery  # noqa: E402
from coinstall.runtimes.inventory import combine  # noqa: E402
from coinstall.runtimes.stack import Stack  # noqa: E402

PATHFIX = "/usr/share/doc/python3.11/examples/scripts/pathfix.py"
PYTHON311 = shutil.which("python3.11") or "/usr/bin/python3.11"
#: compiles the misplaced bytecode (pyenv's 3.12, or any other 3.12)
OTHER_PYTHON = str(
    Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    / "versions"
    / "3.12.1"
    / "bin"
    / "python"
)
if not os.path.exists(OTHER_PYTHON):
    OTHER_PYTHON = shutil.which("python3.12") or PYTHON311
SHEBANG_RULES = {"shebang-env", "shebang-unversioned", "shebang-implementation-mismatch"}
BYTECODE_RULES = {
    "bytecode-stale",
    "bytecode-magic-mismatch",
    "bytecode-cache-tag-mismatch",
    "bytecode-legacy-pyo",
}


def build_root(dest: Path) -> int:
    """Unpack every benchmark .deb into ``dest``; add stale pycs; return the file count."""
    tc = bench_corpus.tests_corpus()
    for filename, sha in bench_corpus.all_debs().values():
        deb = bench_corpus._verified(tc.fetch_deb)((filename, sha))
        subprocess.run(["dpkg-deb", "-x", str(deb), str(dest)], check=True)
    site = dest / "usr/lib/python3/dist-packages"
    inits = sorted(site.glob("*/__init__.py"))
    # another runtime's bytecode under 3.11's cache tag (bytecode-cache-tag-mismatch, which
    # every profile runs): compiled by 3.12, named cpython-311
    subprocess.run(
        [
            OTHER_PYTHON,
            "-c",
            "import py_compile, sys\nfor p in sys.argv[1:]:\n"
            "    py_compile.compile(p, cfile=p.rpartition('/')[0] + "
            "'/__pycache__/__init__.cpython-311.pyc', doraise=False)",
            *map(str, inits),
        ],
        check=True,
    )
    return sum(len(files) for _d, _s, files in os.walk(dest))


def _floor(root: Path) -> None:
    for d, _sub, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            if os.path.isfile(p) and not os.path.islink(p):
                with open(p, "rb") as fh:
                    fh.read(512)


def timed(master: Path, run: Callable[[Path], object], repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="fixbench-") as tmp:
            root = Path(tmp) / "root"
            subprocess.run(["cp", "-a", str(master), str(root)], check=True)
            t0 = time.perf_counter()
            out = run(root)
            best = min(best, time.perf_counter() - t0)
    return best, out


def child_cpu(argv: list[str]) -> float:
    """Run ``argv`` to its end (output discarded); its CPU seconds, user + system."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def paired(master: Path, commands: dict[str, list[str]], pairs: int) -> dict[str, list[float]]:
    """CPU seconds of each command (the tree appended) over ``pairs`` interleaved rounds,
    each on a fresh copy of ``master`` (the copy is not timed)."""
    out: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(pairs):
        for label, argv in commands.items():
            with tempfile.TemporaryDirectory(prefix="fixbench-") as tmp:
                root = Path(tmp) / "root"
                subprocess.run(["cp", "-a", str(master), str(root)], check=True)
                out[label].append(child_cpu([*argv, str(root)]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument(
        "--pairs", type=int, default=7, help="interleaved command runs (coinstall, pathfix)"
    )
    args = ap.parse_args()
    repeat = 1 if args.quick else args.repeat
    installed, _errors = discovery.discover()
    cat = catalogue_mod.load()
    runtimes = combine(installed, cat)

    def coinstall(select: set[str] | None) -> Callable[[Path], object]:
        def run(root: Path) -> object:
            cfg = Config()
            cfg.profile = "debian"
            cfg.stack = Stack.parse("default=3.11")
            if select is not None:
                cfg.select = frozenset(select)
            r = fix_target(str(root), runtimes, cat, cfg, FixOptions(), installed)
            return len(r.fixed), len(r.left)

        return run

    def command(argv: list[str]) -> Callable[[Path], object]:
        def run(root: Path) -> object:
            done = subprocess.run([*argv, str(root)], capture_output=True)
            return done.returncode

        return run

    with tempfile.TemporaryDirectory(prefix="fixbench-master-") as tmp:
        master = Path(tmp) / "root"
        master.mkdir()
        files = build_root(master)
        rows: list[tuple[str, float, object]] = []
        for label, fn in (
            ("floor: walk + read 512 B of every file", lambda r: _floor(r)),
            ("coinstall fix (every rule)", coinstall(None)),
            ("coinstall fix --select shebang rules", coinstall(SHEBANG_RULES)),
            (
                "pathfix.py -pni /usr/bin/python3 -kas",
                command([PYTHON311, PATHFIX, "-pni", "/usr/bin/python3", "-kas"])
                if os.path.exists(PATHFIX)
                else None,
            ),
            ("coinstall fix --select bytecode rules", coinstall(BYTECODE_RULES)),
            ("python3.11 -m compileall -q", command([PYTHON311, "-m", "compileall", "-q"])),
        ):
            if fn is None:
                print(f"{label}: n/a (not installed)", file=sys.stderr)
                continue
            secs, out = timed(master, fn, repeat)
            rows.append((label, secs, out))
        exe = os.path.join(os.path.dirname(sys.executable), "coinstall")
        commands = {
            "coinstall fix --select shebang rules (command)": [
                exe,
                "fix",
                "--profile",
                "debian",
                "--stack",
                "default=3.11",
                "--select",
                ",".join(sorted(SHEBANG_RULES)),
            ],
            "pathfix.py -pni /usr/bin/python3 -kas": [
                PYTHON311,
                PATHFIX,
                "-pni",
                "/usr/bin/python3",
                "-kas",
            ],
        }
        cpu = (
            paired(master, commands, 1 if args.quick else args.pairs)
            if os.path.exists(PATHFIX) and os.path.exists(exe)
            else {}
        )
    print(
        f"build root: {len(bench_corpus.all_debs())} .debs unpacked, {files} files, best of "
        f"{repeat}\n"
    )
    print(f"| {'tool':44} | {'seconds':>8} | {'files/s':>9} | result |")
    print(f"|{'-' * 46}|{'-' * 10}|{'-' * 11}|--------|")
    for label, secs, out in rows:
        print(f"| {label:44} | {secs:8.2f} | {files / secs:9.0f} | {out} |")
    t = {label: secs for label, secs, _ in rows}

    def ratio(a: str, b: str) -> None:
        if a in t and b in t:
            print(f"{a} / {b}: {t[a] / t[b]:.2f}x the time")

    print()
    ratio("coinstall fix --select shebang rules", "pathfix.py -pni /usr/bin/python3 -kas")
    ratio("coinstall fix --select bytecode rules", "python3.11 -m compileall -q")
    ratio("coinstall fix (every rule)", "floor: walk + read 512 B of every file")
    ratio("coinstall fix (every rule)", "python3.11 -m compileall -q")
    print(
        "(compileall recompiles every source; coinstall recompiles only the bad pycs, "
        "in one python3.11 subprocess)"
    )
    if cpu:
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        n = len(next(iter(cpu.values())))
        print(
            f"\nas commands, CPU seconds (user+sys), median of {n} interleaved runs, load {load}:"
        )
        med = {label: statistics.median(v) for label, v in cpu.items()}
        for label, v in cpu.items():
            print(f"  {label:48} {med[label]:6.3f}  ({' '.join(f'{x:.3f}' for x in v)})")
        a, b = commands
        print(f"{a} / pathfix.py: {med[a] / med[b]:.2f}x the CPU time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
