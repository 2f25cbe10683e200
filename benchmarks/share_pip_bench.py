#!/usr/bin/env python3
"""Benchmark ``coinstall share``'s resolution: one pip run under each target against the
target's own pip (what ``share install`` did before).

"one pip" is measured two ways: ``COINSTALL_PYTHON -m pip --python TARGET`` (pip's option:
a first pip process re-executes pip under the target) and what ``share install`` runs,
``coinstall.share.resolve.pip_command`` (``TARGET .../pip/__pip-runner__.py``: that second
step alone).

This is a benchmark, not a test: it prints figures and ratios and asserts nothing.

Per interpreter (a fresh venv of pyenv's CPython 3.12 whose bundled pip is the same release as
coinstall's, so that only the way pip is started differs; Debian's python3.11 with its own
python3-pip where present), the same dry run, ``install --dry-run --quiet --report -
--only-binary=:all: -c CONSTRAINTS requests attrs six tomli``, is run ``--repeat`` times each
way, alternating, after one untimed warm-up of pip's HTTP cache (and of pip's bytecode for
the target's version, unless ``PYTHONDONTWRITEBYTECODE`` is set); the floor is the bare
interpreter start-up (``python -c pass``).  Whole-process wall time, median.

Run from the repository root::

    .venv/bin/python benchmarks/share_pip_bench.py [--repeat N]
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))
import corpus  # noqa: E402  (tests/corpus.py: the pinned versions)
from coinstall.share.resolve import pip_command  # noqa: E402

SET = ["requests", "attrs", "six", "tomli"]
DRY = [
    "install",
    "--dry-run",
    "--quiet",
    "--report",
    "-",
    "--only-binary=:all:",
    "--disable-pip-version-check",
    "--no-input",
]


def _pyenv(version: str) -> str | None:
    root = (
        os.environ.get("PYENV_ROOT")
        or subprocess.run(
            ["pyenv", "root"], capture_output=True, text=True, check=False
        ).stdout.strip()
        or os.path.expanduser("~/.pyenv")
    )
    found = sorted(
        glob.glob(os.path.join(root, "versions", f"{version}.*", "bin", f"python{version}"))
    )
    return found[-1] if found else None


def _wall(cmd: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if k != "_PIP_RUNNING_IN_SUBPROCESS"}
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return time.perf_counter() - t0


def _pip_version(cmd: list[str]) -> str:
    return subprocess.run(
        [*cmd, "--version"], capture_output=True, text=True, check=False
    ).stdout.split(" ")[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(
        f"load average before: {os.getloadavg()[0]:.2f}, cores: {os.cpu_count()}, "
        f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r} (set: "
        "coinstall's pip is compiled from source at every run under a target of another "
        "version)"
    )
    with tempfile.TemporaryDirectory(prefix="share-pip-bench-") as tmp:
        cons = Path(tmp, "constraints.txt")
        cons.write_text(corpus.SHARE_CONSTRAINTS)
        pythons = []
        py312 = _pyenv("3.12")
        if py312:
            venv = Path(tmp, "venv312")
            subprocess.run([py312, "-m", "venv", str(venv)], check=True, capture_output=True)
            pythons.append(("pyenv 3.12 venv", str(venv / "bin" / "python")))
        if (
            os.path.exists("/usr/bin/python3.11")
            and subprocess.run(
                ["/usr/bin/python3.11", "-m", "pip", "--version"], capture_output=True, check=False
            ).returncode
            == 0
        ):
            pythons.append(("Debian python3.11", "/usr/bin/python3.11"))
        print(
            f"{'target':<18} {'own pip':>9} {'--python':>9} {'coinstall':>9} "
            f"{'floor':>7} {'--python/own':>12} {'coinstall/own':>13}  pip (own, one)"
        )
        for label, py in pythons:
            own = [py, "-m", "pip"]
            one = [sys.executable, "-m", "pip", "--python", py]
            ours = pip_command(py)
            tail = [*DRY, "-c", str(cons), *SET]
            _wall([*own, *tail])  # warm pip's HTTP cache
            _wall([*ours, *tail])  # and coinstall's pip's bytecode for this target
            t_own, t_one, t_ours, t_floor = [], [], [], []
            for _ in range(args.repeat):
                t_own.append(_wall([*own, *tail]))
                t_one.append(_wall([*one, *tail]))
                t_ours.append(_wall([*ours, *tail]))
                t_floor.append(_wall([py, "-c", "pass"]))
            m_own, m_one = statistics.median(t_own), statistics.median(t_one)
            m_ours = statistics.median(t_ours)
            print(
                f"{label:<18} {m_own:>7.3f} s {m_one:>7.3f} s {m_ours:>7.3f} s "
                f"{statistics.median(t_floor):>5.3f} s {m_one / m_own:>12.2f} "
                f"{m_ours / m_own:>13.2f}  {_pip_version(own)}, {_pip_version(ours)}"
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
