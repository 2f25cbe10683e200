"""Shared pytest configuration: makes tests/ importable, makes the set-up's extra real
interpreters visible to runtime discovery, provides the corpus fixtures, and fails the session
on any skip not listed in :data:`ALLOWED_SKIPS` (``scripts/setup.sh`` installs every tool and
interpreter the tests use and fetches every pinned package, so a skip is a broken set-up)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from interpreters import EXTRA_PYTHONS

# Debian's 3.13 and 3.14 and the free-threaded 3.13t of scripts/interpreters.sh: named in
# COINSTALL_PYTHONS (discovery does not scan for wrapper scripts) before any test discovers.
os.environ["COINSTALL_PYTHONS"] = os.pathsep.join(
    [p for p in os.environ.get("COINSTALL_PYTHONS", "").split(os.pathsep) if p]
    + [str(p) for p in EXTRA_PYTHONS.values()]
)

#: Node ids of the tests allowed to be skipped (none: every test runs after scripts/setup.sh).
ALLOWED_SKIPS: frozenset[str] = frozenset()
_unexpected_skips: list[str] = []


#: coinstall's sources, byte-compiled before the tests start (see :func:`pytest_configure`).
SRC = Path(__file__).resolve().parent.parent / "src" / "coinstall"

#: Seconds per test file of a whole run (``scripts/durations.py`` writes it from the run's
#: junit XML).  With ``--dist loadfile`` a file runs whole on one worker, in collection order,
#: and a long file that starts last keeps one worker busy while the other idles: the files are
#: collected longest first.
DURATIONS_FILE = Path(__file__).resolve().parent / "durations.json"
DURATIONS: dict[str, float] = json.loads(DURATIONS_FILE.read_text())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files longest first by :data:`DURATIONS`; a file not in it (a new one, maybe slow)
    before all of them, so that it is never the one that starts last.  A stable sort: the
    tests within a file keep their order."""
    items.sort(key=lambda item: -DURATIONS.get(item.path.name, float("inf")))


def pytest_configure(config: pytest.Config) -> None:
    """pytest-xdist's ``--dist loadfile`` keeps the collection order (longest first,
    :data:`DURATIONS`) rather than ordering the files by their number of tests (its default,
    ``--loadscope-reorder``), which starts a file with few but slow tests last.

    And coinstall's sources are byte-compiled once, before any test starts ``coinstall`` as a
    process: with ``PYTHONDONTWRITEBYTECODE`` set (as in the set-up's shell) no process writes
    ``__pycache__``, so each of the suite's several hundred ``coinstall`` processes compiled
    every module it imports again (0.25 s of CPU of a 0.8 s ``spec lint``, measured with
    ``/usr/bin/time`` on a copy of ``src`` with and without its ``.pyc``).  ``compileall``
    writes whatever that variable says (into the ignored ``__pycache__`` directories, the
    files Python writes itself when the variable is unset); only the controller does it."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False
    if not hasattr(config, "workerinput"):
        import compileall

        compileall.compile_dir(SRC, quiet=1)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Record every skip (at set-up or in the test) that is not an xfail and not allowed."""
    if report.skipped and not hasattr(report, "wasxfail") and report.nodeid not in ALLOWED_SKIPS:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _unexpected_skips.append(f"{report.nodeid}: {reason}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # (read here, in pytest-xdist's controller: the workers collect, the controller reports)
    unmeasured = sorted(
        p.name for p in DURATIONS_FILE.parent.glob("test_*.py") if p.name not in DURATIONS
    )
    if unmeasured:
        terminalreporter.section("test files not in tests/durations.json (scheduled first)")
        terminalreporter.write_line(", ".join(unmeasured))
        terminalreporter.write_line("add them: scripts/durations.py (see its docstring)")
    if _unexpected_skips:
        terminalreporter.section("unexpected skips (a broken set-up: run scripts/setup.sh)")
        for line in _unexpected_skips:
            terminalreporter.write_line(line)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """An unexpected skip turns a passing session into a failing one (exit status 1)."""
    if _unexpected_skips and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def corpus_wheels() -> dict[str, Path]:
    """All pinned wheels (name -> cached path), downloaded on first use."""
    return corpus.fetch_wheels()


@pytest.fixture(scope="session")
def corpus_debs() -> dict[str, Path]:
    """All pinned bookworm .debs (name -> cached path), downloaded on first use."""
    return corpus.fetch_debs()


@pytest.fixture(scope="session")
def corpus_rpms() -> list[Path]:
    """The shared RPM corpus; skips the test if the shared directory has none."""
    paths = corpus.rpms()
    if not paths:
        pytest.skip(f"no RPMs in {corpus.RPM_DIR}")
    return paths


@pytest.fixture(autouse=True, scope="session")
def _private_result_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """`coinstall check` over many targets keeps a result cache (coinstall.archive.cache): the
    tests keep theirs in a temporary directory, never in the user's."""
    import os

    os.environ["COINSTALL_CACHE_DIR"] = str(tmp_path_factory.mktemp("coinstall-cache"))


@pytest.fixture(autouse=True, scope="session")
def _private_state_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """`coinstall fix` keeps its journals in a state directory (coinstall.fix.journal): the
    tests keep theirs in a temporary directory, never in the user's."""
    import os

    os.environ["COINSTALL_STATE_DIR"] = str(tmp_path_factory.mktemp("coinstall-state"))
