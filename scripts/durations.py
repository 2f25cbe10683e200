"""Write tests/durations.json (seconds per test file) from pytest's junit XML, for the order in
which tests/conftest.py schedules the files (longest first).

Usage::

    .venv/bin/python -m pytest -n auto --dist loadfile --junitxml=/tmp/junit.xml
    .venv/bin/python scripts/durations.py /tmp/junit.xml [more.xml ...]

The files in the XML replace their entries; the other entries are kept (so a run of one new
test file, ``pytest tests/test_new.py --junitxml=/tmp/new.xml``, adds that file alone), and
entries for files that no longer exist are dropped.  A testcase's ``time`` is its set-up, call
and tear-down (pytest's default ``junit_duration_report = total``), so a module fixture's cost
counts for the file.  The seconds are those of the machine and load of the run: only their
proportions matter for the order.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
OUT = TESTS / "durations.json"


def per_file(xml_path: Path) -> dict[str, float]:
    """Seconds per test file name (``test_x.py``) summed over the testcases of ``xml_path``.

    A testcase's ``classname`` is the dotted module path (``tests.test_x`` or
    ``tests.test_x.TestClass``); its first ``test_*`` component names the file.
    """
    totals: dict[str, float] = defaultdict(float)
    for case in ET.parse(xml_path).iter("testcase"):
        parts = (case.get("classname") or "").split(".")
        module = next((p for p in parts if p.startswith("test_")), None)
        if module is None:
            continue
        totals[f"{module}.py"] += float(case.get("time") or 0.0)
    return dict(totals)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    current: dict[str, float] = json.loads(OUT.read_text()) if OUT.exists() else {}
    measured: dict[str, float] = defaultdict(float)
    for arg in argv:
        for name, seconds in per_file(Path(arg)).items():
            measured[name] += seconds
    current.update(measured)
    kept = {n: round(s, 1) for n, s in current.items() if (TESTS / n).is_file()}
    ordered = dict(sorted(kept.items(), key=lambda kv: (-kv[1], kv[0])))
    OUT.write_text(json.dumps(ordered, indent=1) + "\n")
    missing = sorted(p.name for p in TESTS.glob("test_*.py") if p.name not in ordered)
    print(f"{OUT.relative_to(ROOT)}: {len(ordered)} files, {sum(ordered.values()):.0f} s")
    if missing:
        print("not measured (scheduled first): " + ", ".join(missing))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
