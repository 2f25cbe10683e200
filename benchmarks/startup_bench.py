#!/usr/bin/env python3
"""Start-up benchmark: whole-process wall time of ``coinstall check`` on the 11 RPMs of
``tests/data/rpm``, before and after a change, next to the floors.

This is a benchmark, not a test: it prints medians and ratios and asserts nothing.

Each command runs ``--runs`` times (default 9) after one warm-up run; the median wall time and
the median CPU time (user + sys of the child, from ``os.wait4``) are printed.  CPU time moves
less than wall time when other processes share the machine.

* **before**: the source tree of ``--before REV`` (default: the merge base with ``main``, or
  ``HEAD~1``), exported with ``git archive`` into a temporary directory and run with
  ``PYTHONPATH`` pointing at it, in this venv: same interpreter, same libraries;
* **after**: this checkout's ``src/``;
* floors: ``rpm2cpio`` over the same files (decompressing the payloads, what any reader of
  these packages pays), ``python -c pass`` (the interpreter's own start-up, site included).

Each variant gets its own ``XDG_CACHE_HOME`` (the runtime-discovery cache lives there), warmed
by the warm-up run, so the warm path is what is timed; ``PYTHONDONTWRITEBYTECODE`` is removed
so both run from bytecode, as an installed package does (without it every module is compiled
from source on every run: about 0.1 s of CPU more, whatever the code does).

What remains (``check one.rpm``, warm discovery cache, stdout not a terminal): about 180
modules (240 before the plain report); the benchmark prints where their import time goes by
package (``python -X importtime`` of the after variant, one run, so under load only the shape
counts).  What is left is what the path uses:

* click and what it imports (typing, inspect with ast/dis/tokenize, uuid with platform,
  datetime, gettext with locale): the command line.  ``python -c 'import click'`` is printed
  as a floor; ``--help`` is that floor plus click's help formatter (shutil, textwrap) and
  nothing of coinstall's but the group (the command list comes from stored summaries, the
  readers are not imported for ``--limit``'s help), so the 0.05 s goal for ``--help`` is
  below click's own import on this machine (0.063 s idle) and out of reach while click
  formats the help.  Answering ``--help`` from a rendered copy cached per version was
  considered and judged unsound: click's help depends on more than the version: the
  terminal's width (``shutil.get_terminal_size``, ``COLUMNS``), the program name
  (``coinstall`` or ``python -m coinstall``), the click version, gettext's catalogue for
  "Usage:"/"Options:" under the user's locale, and where in the command line ``--help`` stands
  (``coinstall --debug check --help``, an option value that happens to be ``--help``), which
  only click's parser decides; and an editable or git install changes the help without
  changing ``__version__``.  A key covering all of that is a second parser and a second
  source of the help text, for a command people run by hand.  ``--version`` is answered
  before click is imported
  (``coinstall/__main__.py``, from ``coinstall.__version__``, which the build writes into
  the metadata): the interpreter's start-up and, for the console script pip writes, its
  ``import re``;
* rich, only on a terminal: piped (a build log, ``| cat``, this benchmark's ``/dev/null``)
  the text report is written by ``coinstall.report.plain`` as rich lays it out, byte for byte
  (tests/test_plain_output.py), without importing rich's console and table (rich.style pulled
  random and pickle, rich.table fractions and decimal: about 30 ms idle).  rich still renders
  a piped report whose layout it alone knows: a name that is not printable ASCII in a table
  or a rule (rich's cell widths are its own table, and ``rich.cells`` alone costs what it
  saves), ``:name:`` (rich turns emoji codes into emoji even in escaped text), a matrix rich
  narrows in more than its last column (a very wide runtime label, ``-v`` on some binary
  wheels), ``FORCE_COLOR``/``TTY_COMPATIBLE=1``; and the other reports (``--summary``, the
  machine view, ``rules``, ``explain``).  ``--format json``/``jsonl``/``sarif`` never import
  rich;
* coinstall's module bodies themselves, mostly two things (measured with hooks on
  ``dataclasses._process_class`` and ``re._compile``, process CPU, ``check one.rpm``, load
  average 14, so inflated about 1.5x): the 36 dataclasses the path defines, 47-77 ms of a
  284-424 ms process (Python 3.11's dataclasses ``exec`` each generated method separately,
  about 1.3 ms a class here; 3.13 batches them), and 73 regular expressions compiled at
  import, 20 ms, 12 ms of them coinstall's (about 30 patterns, none over 1 ms: compiling
  them lazily would save a few ms for an edit of every policy module).  The dataclasses are
  the largest piece of coinstall's own start-up left: writing the hot ones (ObjectInfo,
  Runtime, Rule, the relations and file records) as plain classes or defining them only in
  the paths that use them is the next step; not done here (every area's models);
* coinstall's engine: the classifier in files/ and the rule modules of the artifact's profile
  only (``coinstall.rules.AREAS``: an RPM or a .deb loads no spec-file rules and not the
  spec-text tables, a wheel none of the distributions' naming, dependency, entry-point and
  runtime-package rules); configuration rule names are checked against that index without
  importing a rule module;
* json (the discovery cache), hashlib (the cache's key: the probe script's SHA-256), pathlib
  (discovery's cache path, configuration search), tomllib (the catalogue, parsed on every
  run: a parsed-data cache would need its own invalidation for a few milliseconds);
  rpmfile with gzip, bz2 and lzma, which read the RPM.

``check one.deb`` and ``check one.whl`` cost 0.2-0.25 s more than ``check one.rpm``: the
control file and relation fields go through python-debian's deb822 module (email.utils,
logging, subprocess, debian.changelog, charset_normalizer, apt_pkg), a METADATA's two
requirement fields through packaging.metadata (requirements, markers, licences,
email.policy), the extension module's header and symbols through pyelftools (its ELFFile
module imports the DWARF and EH-ABI readers), a wheel's file name through packaging.tags.
Parsers of our own for the control file, the relation fields and the two metadata fields
were written and measured (paired CPU medians, 11 runs, load 1.3: a .deb 0.52 -> 0.41 s, a
wheel 0.35 -> 0.31 s) and not taken: they would replace python-debian and packaging, the
well-kept readers of those formats, for about 0.1 s of start-up, and a hostile control file
or METADATA would then meet a parser no one else uses.

Taken out because the path does not use them: the archive machinery (process pool, result
cache, index reader, rich's progress), packaging.tags with subprocess, logging and sysconfig
(wheels only), packaging.specifiers and packaging.version (a Requires-Python only; pyserial
has none), importlib.metadata (the version), importlib.resources with tempfile, random and
zipfile (the catalogue is read with pkgutil.get_data), subprocess in discovery (only a cache
miss starts a probe).  The interpreter and click alone are printed as floors (``python -c
pass``, ``import click``).

Run from the repository root::

    .venv/bin/python benchmarks/startup_bench.py
    .venv/bin/python benchmarks/startup_bench.py --before bdbf661 --runs 15
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RPMS = sorted(str(p) for p in (REPO / "tests" / "data" / "rpm").glob("*.rpm"))
#: One package of each kind, as a build system checks it (OBS/Koji/mock run rpmlint once per
#: build, CI pipelines lintian once per package): the pinned corpus' smallest of each.
ONE_RPM = str(REPO / "tests" / "data" / "rpm" / "pyserial-2.7-6.fc25.noarch.rpm")
CORPUS = REPO / ".cache" / "corpus"


def _smallest(pattern: str) -> str | None:
    found = sorted(CORPUS.glob(pattern), key=lambda p: p.stat().st_size)
    return str(found[0]) if found else None


def run_once(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(wall seconds, child CPU seconds, exit status) of one run, output discarded."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, proc.returncode


def measure(cmd: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds over ``runs`` runs after one warm-up run."""
    run_once(cmd, env)
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu, _rc = run_once(cmd, env)
        walls.append(wall)
        cpus.append(cpu)
    return statistics.median(walls), statistics.median(cpus)


def default_before() -> str:
    base = subprocess.run(
        ["git", "-C", str(REPO), "merge-base", "HEAD", "main"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    head = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return base if base and base != head else "HEAD~1"


def export(rev: str, dest: Path) -> Path:
    """``git archive REV src`` unpacked under ``dest``; returns its ``src``."""
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev, "src"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / "src"


#: Import-time groups of :func:`what_remains`, by top-level package.
GROUPS = {
    "click": "click (the command line)",
    "rich": "rich (text output)",
    "coinstall": "coinstall (engine, rules, readers)",
    "packaging": "packaging",
    "rpmfile": "RPM reading (rpmfile, zstandard)",
    "zstandard": "RPM reading (rpmfile, zstandard)",
}


def what_remains(py: str, env: dict[str, str]) -> str:
    """Where ``check one.rpm``'s import time goes: ``-X importtime`` of the after variant,
    self times summed by top-level package (the standard library is "stdlib")."""
    err = subprocess.run(
        [py, "-X", "importtime", "-m", "coinstall", "check", ONE_RPM],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    ).stderr
    groups: dict[str, int] = {}
    count = 0
    for line in err.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cum, name = line[len("import time:") :].split("|")
        count += 1
        top = name.strip().split(".")[0]
        key = GROUPS.get(top, "stdlib and the rest")
        groups[key] = groups.get(key, 0) + int(self_us)
    total = sum(groups.values()) or 1
    parts = ", ".join(
        f"{k} {v / 1000:.0f} ms ({100 * v / total:.0f}%)"
        for k, v in sorted(groups.items(), key=lambda kv: -kv[1])
    )
    return (
        f"what remains in check one.rpm: {count} modules imported, {total / 1000:.0f} ms "
        f"importing (one run, -X importtime): {parts}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", help="git revision to compare with (default: merge base)")
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    if len(RPMS) == 0:
        print("no RPMs in tests/data/rpm", file=sys.stderr)
        return 1
    before_rev = args.before or default_before()
    py = sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="coinstall-startup-"))
    try:
        variants = {"before": export(before_rev, tmp / "before"), "after": REPO / "src"}
        envs = {}
        for name, src in variants.items():
            env = dict(os.environ, PYTHONPATH=str(src), XDG_CACHE_HOME=str(tmp / f"{name}-cache"))
            env.pop("COINSTALL_PYTHONS", None)
            # as installed (pip compiles at install): the warm-up run writes the bytecode
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            envs[name] = env
        one_deb, one_whl = _smallest("debs/*.deb"), _smallest("wheels/*.whl")
        cases = [
            ("--version", ["--version"]),
            ("--help", ["--help"]),
            ("check one.rpm", ["check", ONE_RPM]),
            *([("check one.deb", ["check", one_deb])] if one_deb else []),
            *([("check one.whl", ["check", one_whl])] if one_whl else []),
            ("check (text)", ["check", *RPMS]),
            ("check --no-installed", ["check", "--no-installed", *RPMS]),
            ("check --format json", ["check", "--format", "json", *RPMS]),
            ("check --summary", ["check", "--summary", *RPMS]),
            ("runtimes", ["runtimes"]),
        ]
        floor_rpm = (
            measure(
                ["sh", "-c", 'for f in "$@"; do rpm2cpio "$f"; done', "sh", *RPMS],
                dict(os.environ),
                args.runs,
            )
            if shutil.which("rpm2cpio")
            else None
        )
        floor_py = measure([py, "-c", "pass"], dict(os.environ), args.runs)
        floor_click = measure([py, "-c", "import click"], dict(os.environ), args.runs)
        # the peer a build system runs on one package, on the same package
        rpmlint = (
            measure(["rpmlint", ONE_RPM], dict(os.environ), args.runs)
            if shutil.which("rpmlint")
            else None
        )
        print(
            f"{len(RPMS)} RPMs; median of {args.runs} runs; before = {before_rev}, after = "
            f"this checkout; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f} at start"
        )
        print()
        head = (
            f"{'command':<24} {'before s':>9} {'after s':>9} {'after/before':>13} "
            f"{'CPU before':>11} {'CPU after':>10}"
        )
        if floor_rpm:
            head += f" {'after/rpm2cpio':>15}"
        print(head)
        rows = [
            ("import coinstall.cli", ["-c", "import coinstall.cli"]),
            (
                "discovery, warm cache",
                ["-c", "from coinstall.runtimes import discovery; discovery.discover([])"],
            ),
        ]
        rows += [(label, ["-m", "coinstall", *argv]) for label, argv in cases]
        for label, argv in rows:
            b = measure([py, *argv], envs["before"], args.runs)
            a = measure([py, *argv], envs["after"], args.runs)
            line = (
                f"{label:<24} {b[0]:>9.3f} {a[0]:>9.3f} {a[0] / b[0]:>13.2f} "
                f"{b[1]:>11.3f} {a[1]:>10.3f}"
            )
            if floor_rpm:
                line += f" {a[0] / floor_rpm[0]:>15.2f}"
            print(line)
        print()
        if floor_rpm:
            print(
                f"floor: rpm2cpio over the same files {floor_rpm[0]:.3f} s wall "
                f"({floor_rpm[1]:.3f} s CPU)"
            )
        if rpmlint:
            one = measure([py, "-m", "coinstall", "check", ONE_RPM], envs["after"], args.runs)
            print(
                f"peer: rpmlint {Path(ONE_RPM).name} {rpmlint[0]:.3f} s wall; coinstall check "
                f"{one[0]:.3f} s: {one[0] / rpmlint[0]:.2f}x rpmlint (goal <= 0.5x)"
            )
        print(
            f"floor: python -c pass {floor_py[0]:.3f} s wall ({floor_py[1]:.3f} s CPU); "
            f"python -c 'import click' {floor_click[0]:.3f} s wall ({floor_click[1]:.3f} s "
            f"CPU); load {os.getloadavg()[0]:.2f} at end"
        )
        print()
        print(what_remains(py, envs["after"]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
