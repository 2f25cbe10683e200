"""tests/durations.json, the per-file seconds by which tests/conftest.py schedules the test
files longest first, names every test file and no file that is gone: a new file missing
from it is scheduled first (never last) and listed in the run's summary, and this test fails
until ``scripts/durations.py`` adds it."""

from __future__ import annotations

import json
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_durations_name_every_test_file() -> None:
    durations = json.loads((TESTS / "durations.json").read_text())
    files = {p.name for p in TESTS.glob("test_*.py")}
    assert not files - set(durations), "run scripts/durations.py on a junit XML of these files"
    assert not set(durations) - files, "entries for files that are gone"
    assert all(isinstance(s, (int, float)) and s >= 0 for s in durations.values())
