"""Shared pytest configuration: makes tests/ importable and provides the corpus fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus


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
