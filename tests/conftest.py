"""Shared pytest configuration: makes tests/ importable, makes the set-up's extra real
interpreters visible to runtime discovery, provides the corpus fixtures, and fails the session
on any skip not listed in :data:`ALLOWED_SKIPS` (``scripts/setup.sh`` installs every tool and
interpreter the tests use and fetches every pinned package, so a skip is a broken set-up)."""

from __future__ import annotations

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


#: The longest test files, collected first: with ``--dist loadfile`` a file runs whole on one
#: worker, in collection order, and a long file that starts last keeps one worker busy while
#: the other is idle (longest first).  Measured: the sum of ``--durations=0`` per file of a
#: whole run (-n 2 --dist loadfile, 2026-12-07, machine load 7-25), longest first.
LONGEST_FIRST: tuple[str, ...] = (
    "test_share.py",  # 2402 s (with test_share_bare.py's tests, since split off)
    "test_spec_hostile.py",  # 1426 s
    "test_index_hostile.py",  # 741 s
    "test_platforms.py",  # 647 s
    "test_rules_extensions.py",  # 535 s
    "test_bad_input.py",  # 435 s
    "test_spec_port.py",  # 405 s
    "test_share_bare.py",
    "test_fix.py",  # 275 s
    "test_rules_bytecode.py",  # 230 s
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files of :data:`LONGEST_FIRST` first, in that order (a stable sort: every other
    file, and the tests within a file, keep their order)."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def pytest_configure(config: pytest.Config) -> None:
    """pytest-xdist's ``--dist loadfile`` keeps the collection order (:data:`LONGEST_FIRST`)
    rather than ordering the files by their number of tests (its default,
    ``--loadscope-reorder``), which starts a file with few but slow tests last."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Record every skip (at set-up or in the test) that is not an xfail and not allowed."""
    if report.skipped and not hasattr(report, "wasxfail") and report.nodeid not in ALLOWED_SKIPS:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _unexpected_skips.append(f"{report.nodeid}: {reason}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
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
