"""The documents' examples are what the code prints: docs/json-format.md against a real run of
``coinstall check --format json`` (docs/plan-format.md is checked in test_plan_bookworm.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

DOCS = Path(__file__).parent.parent / "docs"


def _check_json(cwd: Path, *targets: str) -> dict[str, Any]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "coinstall",
            "check",
            "--format",
            "json",
            "--no-installed",
            *targets,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def _table_fields(doc: str, heading: str) -> set[str]:
    """The backquoted field names of the first column of the table under ``## heading``."""
    section = doc.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        m = re.match(r"^\| ((?:`[^`]+`(?:, )?)+) \|", line)
        if m:
            names |= set(re.findall(r"`([^`]+)`", m[1]))
    return names


def test_json_format_example_and_fields(tmp_path: Path) -> None:
    doc = (DOCS / "json-format.md").read_text()
    (tmp_path / "bad.whl").write_bytes(b"not a zip file at all")
    pkg = sorted(Path(__file__).parent.joinpath("data").rglob("*.rpm"))[0]
    out = _check_json(tmp_path, "bad.whl", str(pkg))
    # The top-level example: the same keys, and the error line the code prints for bad.whl.
    example = doc.split("```json\n", 1)[1].split("```", 1)[0]
    keys = re.findall(r'^  "([a-z_]+)":', example, re.M)
    assert keys == list(out)
    shown = json.loads(re.search(r'"errors": (\[.*\])', example)[1])  # type: ignore[index]
    assert shown == out["errors"]
    # The tables list exactly the fields an artifact and a runtime carry.
    assert _table_fields(doc, "ARTIFACT") == set(out["artifacts"][0])
    assert _table_fields(doc, "RUNTIME") == set(out["runtimes"][0])
    assert set(out["artifacts"][0]["files"][0]) == {"path", "kind", "usable_by"}
