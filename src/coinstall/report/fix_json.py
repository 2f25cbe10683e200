"""``coinstall fix --format json``: one object per target.

Shape: ``{"targets": [{"path", "format", "profile", "dry_run", "recovered", "written",
"fixed": [{"op", "path", "dest", "note", "findings": [finding]}], "left": [{"finding",
"reason"}], "notes": [str]}], "errors": [{"path", "message"}]}``; a finding is the object of
``check --format json`` (rule, severity, path, message).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from coinstall.fix.engine import FixResult


def to_json(result: FixResult) -> dict[str, Any]:
    """One target's outcome as JSON data."""
    return {
        "path": result.path,
        "format": result.format,
        "profile": result.profile,
        "dry_run": result.dry_run,
        "recovered": result.recovered,
        "written": result.written,
        "fixed": [
            {
                "op": e.op,
                "path": e.path,
                "dest": e.dest,
                "note": e.note,
                "findings": [f.to_json() for f in e.findings],
            }
            for e in result.edits
        ],
        "left": [{"finding": x.finding.to_json(), "reason": x.reason} for x in result.left],
        "notes": list(result.notes),
    }


def dumps(results: Sequence[FixResult], errors: Sequence[tuple[str, str]]) -> str:
    """The whole run as a JSON document."""
    return json.dumps(
        {
            "targets": [to_json(r) for r in results],
            "errors": [{"path": p, "message": m} for p, m in errors],
        },
        indent=2,
    )
