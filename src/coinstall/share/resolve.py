"""pip interplay: what pip would install for each target runtime, unified into one set.

Resolution is pip's, not ours.  One pip -- coinstall's own -- is run once per target with
pip's ``--python`` option (pip >= 22.3)::

    COINSTALL_PYTHON -m pip --python TARGET install --dry-run --quiet --report - \
        --only-binary=:all: REQ... [-c FILE]

``--python`` makes pip re-execute its own code under the target interpreter (pip's
``cli/main_parser.py``: ``TARGET .../pip/__pip-runner__.py ARGS``); coinstall starts that
second step itself when the runner file is there (:func:`pip_command`), so a target needs no
pip of its own (a venv
made ``--without-pip``, Debian's ``python3.11`` without ``python3-pip``) and environment
markers, Requires-Python, wheel tags and the installed distributions are still those of that
runtime itself (JSON format of ``--report``: pip's docs "Installation Report").  The target
must be a Python pip supports (pip 23.2: 3.7 and later).  No ``--ignore-installed``: what the
runtime already has (its own site-packages, and the shared site through the hook) is not
asked for again.

The runtimes may pick different versions of one project (the newest release that still
supports 3.8 is older than the newest for 3.13).  :func:`resolve` then pins the project to the
lowest version picked and asks every pip again (a constraints file), up to
:data:`MAX_ROUNDS` times; this only narrows pip's own choices and adds no resolution logic.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name
from packaging.version import Version

from coinstall.share.site import ShareError, Target, _pause

#: Rounds of "pin to the lowest version picked, ask again" before giving up.
MAX_ROUNDS = 3
#: Seconds one pip run may take.
PIP_TIMEOUT = 600.0
_PIP_BASE = ("--disable-pip-version-check", "--no-input")
#: pip sets this in the child it starts for ``--python``; inherited, it would stop our pip
#: from re-executing itself under the target.
_PIP_SUBPROCESS_ENV = "_PIP_RUNNING_IN_SUBPROCESS"


def _pip_runner() -> str | None:
    """coinstall's pip's ``__pip-runner__.py`` (pip >= 22.3), or None.

    It is the file ``pip --python TARGET`` hands to the target interpreter, and the one pip
    runs its own build-environment pips with (``pip._internal.build_env.get_runnable_pip``):
    it puts exactly this copy of pip on the target's import path and runs it there.  Found
    without importing pip (``importlib.util.find_spec`` of a top-level package)."""
    spec = importlib.util.find_spec("pip")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(next(iter(spec.submodule_search_locations)), "__pip-runner__.py")
    return path if os.path.isfile(path) else None


def pip_command(python: str | None) -> list[str]:
    """coinstall's own pip, run under interpreter ``python``, or under coinstall's
    interpreter when ``python`` is None.

    ``TARGET __pip-runner__.py`` is what ``pip --python TARGET`` itself executes; starting it
    directly saves a first pip process that only re-executes (measured:
    ``benchmarks/share_pip_bench.py``; benchmarks/MEASUREMENTS.md, 'pip runner').  Without
    the runner file, pip's documented
    ``--python`` option is used.
    """
    if python is None:
        return [sys.executable, "-m", "pip"]
    runner = _pip_runner()
    if runner is not None:
        return [python, runner]
    return [sys.executable, "-m", "pip", "--python", python]


def _pip_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != _PIP_SUBPROCESS_ENV}


@dataclass(frozen=True)
class Pick:
    """One distribution one runtime's pip would install.

    Attributes:
        name: canonical project name (PEP 503); display: the name as in METADATA.
        version: the version string; url: where pip would get the wheel;
        filename: the wheel's file name; sha256: its hash if the index gave one.
        requested: named on the command line (pip's ``requested``).
        requires_python: the Requires-Python text of its metadata ('' if none).
    """

    name: str
    display: str
    version: str
    url: str
    filename: str
    sha256: str | None
    requested: bool
    requires_python: str = ""


@dataclass
class Resolution:
    """The unified outcome: ``picks[name][target id]`` and the pins :func:`resolve` added."""

    picks: dict[str, dict[str, Pick]]
    pins: dict[str, str] = field(default_factory=dict)


def _pip_error(target: Target, proc: subprocess.CompletedProcess[str]) -> ShareError:
    lines = [
        ln.strip() for ln in proc.stderr.splitlines() if ln.strip() and "Location 'file:" not in ln
    ]
    errors = [ln for ln in lines if ln.startswith("ERROR")] or lines[-2:] or ["no output"]
    return ShareError(f"{target.id} (pip --python {target.python}): " + " / ".join(errors[:3]))


def pip_report(
    target: Target,
    requirements: Sequence[str],
    constraint_files: Sequence[str],
    upgrade: bool = False,
) -> list[Pick]:
    """What pip, run under ``target``'s interpreter, would install for ``requirements``
    (strings or wheel paths); with ``upgrade``, pip's ``--upgrade`` (strategy
    ``only-if-needed``: the requested projects to their newest allowed version).

    Raises:
        ShareError: pip cannot run under the target (its Python is too old for coinstall's
            pip), or cannot resolve (its ERROR lines are quoted).
    """
    cmd = [
        *pip_command(target.python),
        "install",
        "--dry-run",
        "--quiet",
        "--report",
        "-",
        "--only-binary=:all:",
        *_PIP_BASE,
    ]
    if upgrade:
        cmd.append("--upgrade")
    for c in constraint_files:
        cmd += ["-c", c]
    cmd += list(requirements)
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT, check=False, env=_pip_env()
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ShareError(f"{target.id}: cannot run pip: {exc}") from None
    if proc.returncode != 0:
        raise _pip_error(target, proc)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        raise ShareError(f"{target.id}: pip gave no JSON report (pip >= 22.2 needed)") from None
    picks = []
    for item in report.get("install", []):
        meta = item["metadata"]
        url = item["download_info"]["url"]
        hashes = item["download_info"].get("archive_info", {}).get("hashes", {})
        picks.append(
            Pick(
                name=canonicalize_name(meta["name"]),
                display=meta["name"],
                version=meta["version"],
                url=url,
                filename=url.rsplit("/", 1)[-1].split("#")[0],
                sha256=hashes.get("sha256"),
                requested=bool(item.get("requested")),
                requires_python=meta.get("requires_python") or "",
            )
        )
    return picks


def resolve(
    targets: Sequence[Target],
    requirements: Sequence[str],
    constraint_files: Sequence[str],
    work_dir: str,
    upgrade: bool = False,
) -> Resolution:
    """Ask pip for every target (in parallel) and unify versions (see module docs).

    ``work_dir``: where the pins file goes -- the transaction's work directory inside the
    shared site, so that a killed process leaves nothing in ``/tmp`` and the next command
    removes it with the rest of the staging (:meth:`SharedSite.sweep`).

    Returns a :class:`Resolution` in which every project has one version across runtimes
    (runtimes may still pick different wheel files of it: version-specific builds).

    Raises:
        ShareError: a pip run failed, or versions still differ after :data:`MAX_ROUNDS`.
    """
    pins: dict[str, str] = {}
    pin_file = os.path.join(work_dir, "pins.txt")
    for _ in range(MAX_ROUNDS):
        with open(pin_file, "w", encoding="utf-8") as fh:
            fh.writelines(f"{n}=={v}\n" for n, v in sorted(pins.items()))
        _pause("resolving")
        files = [*constraint_files, pin_file]
        # pip's run is partly waiting for the index (it revalidates every project page,
        # ``Cache-Control: max-age=0``): four at a time, as compile and verify run.
        with ThreadPoolExecutor(max_workers=min(4, max(1, len(targets)))) as pool:
            reports = list(
                pool.map(
                    pip_report,
                    targets,
                    [requirements] * len(targets),
                    [files] * len(targets),
                    [upgrade] * len(targets),
                )
            )
        picks: dict[str, dict[str, Pick]] = {}
        for t, rep in zip(targets, reports, strict=True):
            for p in rep:
                picks.setdefault(p.name, {})[t.id] = p
        differing = {n: by for n, by in picks.items() if len({p.version for p in by.values()}) > 1}
        if not differing:
            return Resolution(picks, pins)
        for n, by in differing.items():
            pins[n] = str(min(Version(p.version) for p in by.values()))
    detail = "; ".join(
        f"{n}: " + ", ".join(f"{t} {p.version}" for t, p in by.items())
        for n, by in sorted(differing.items())
    )
    raise ShareError(f"runtimes keep picking different versions: {detail}")


def pip_download(
    items: Sequence[str],
    dest: str,
    cross: Sequence[str] = (),
    python: str | None = None,
    missing_ok: bool = False,
) -> list[str]:
    """Download wheels ``items`` (URLs or requirements) in one ``pip download --no-deps
    --only-binary=:all:`` run of coinstall's pip under ``python`` (a target that picked the
    files: pip refuses a file its runtime cannot use; default coinstall's own), optionally with
    cross-target options ``cross`` (``--python-version``, ``--implementation``, ``--abi``,
    ``--platform``).  With ``missing_ok``, items pip finds no wheel for are skipped (one run
    per item then).  A ``file:`` URL of an existing wheel is not downloaded: its own path is
    returned (:func:`_local_wheel`), and no pip runs when every item is one.

    Returns the paths of the wheels for the items (those of ``file:`` URLs first, then those
    now in ``dest``).  Raises ShareError when pip fails or a local wheel changed.
    """
    if missing_ok and len(items) > 1:
        return [p for it in items for p in pip_download([it], dest, cross, python, True)]
    local = [(it, _local_wheel(it)) for it in items]
    items = [it for it, path in local if path is None]
    found = [path for _, path in local if path is not None]
    if not items:
        return found
    os.makedirs(dest, exist_ok=True)
    before = set(os.listdir(dest))
    cmd = [
        *pip_command(python),
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        *_PIP_BASE,
        *cross,
        "-d",
        dest,
        *items,
    ]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT, check=False, env=_pip_env()
    )
    if proc.returncode != 0:
        if missing_ok:
            return []
        tail = [ln for ln in proc.stderr.splitlines() if ln.startswith("ERROR")][:2]
        raise ShareError(f"pip download {' '.join(items)}: " + (" / ".join(tail) or "failed"))
    new = set(os.listdir(dest)) - before
    # pip does not download again what is already in dest: name those from their URLs
    new |= {it.rsplit("/", 1)[-1].split("#")[0] for it in items if "/" in it} & before
    return found + [os.path.join(dest, n) for n in sorted(new) if n.endswith(".whl")]


def _local_wheel(item: str) -> str | None:
    """The path of ``item`` when it is a ``file:`` URL of an existing wheel (a wheel given
    by path, as pip's report names it), else None.

    Such a wheel is used where it is, not copied by a ``pip download`` run (about a second
    of CPU each: pip's start-up): pip's resolution under the target already took the file
    (its tags and Requires-Python for that runtime), and :func:`coinstall.share.install.
    acceptance` checks it next as it does a downloaded one.  The ``#sha256=`` fragment
    :func:`coinstall.share.install._choose_all` adds from pip's report is checked here, as
    ``pip download`` checks it (pip's ``Hashes``).

    Raises:
        ShareError: the file's SHA-256 is not the one pip resolved.
    """
    if not item.startswith("file:"):
        return None
    parsed = urllib.parse.urlsplit(item)
    path = urllib.request.url2pathname(parsed.path)
    if not path.endswith(".whl") or not os.path.isfile(path):
        return None
    want = parsed.fragment.removeprefix("sha256=") if parsed.fragment.startswith("sha256=") else ""
    if want:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != want:
            raise ShareError(f"{path}: changed since pip resolved it (sha256 differs)")
    return path
