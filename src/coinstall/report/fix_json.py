"""``coinstall fix --format json``: one object per target.

Shape: ``{"targets": [{"path", "format", "profile", "dry_run", "recovered", "written",
"fixed": [{"op", "path", "dest", "note", "findings": [finding]}], "left": [{"finding",
"reason"}], "notes": [str]}], "errors": [{"path", "message"}]}``; a finding is the object of
``check --format json`` (rule, severity, path, message).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TypedDict

from coinstall.fix.engine import FixResult
from coinstall.fix.model import FixOp
from coinstall.rules import FindingJSON


class FixedJSON(TypedDict):
    """A ``fixed[]`` object: one edit made (or, for a dry run, that would be made)."""

    op: FixOp
    path: str
    dest: str | None
    note: str
    findings: list[FindingJSON]


class LeftJSON(TypedDict):
    """A ``left[]`` object: a finding not repaired, and why."""

    finding: FindingJSON
    reason: str


class TargetJSON(TypedDict):
    """A ``targets[]`` object: one target's outcome."""

    path: str
    format: str  # tree, wheel, deb, rpm
    profile: str
    dry_run: bool
    recovered: str | None
    written: str | None
    fixed: list[FixedJSON]
    left: list[LeftJSON]
    notes: list[str]


class ErrorJSON(TypedDict):
    """An ``errors[]`` object: a target that could not be fixed."""

    path: str
    message: str


class FixReportJSON(TypedDict):
    """The whole ``coinstall fix --format json`` document."""

    targets: list[TargetJSON]
    errors: list[ErrorJSON]


def to_json(result: FixResult) -> TargetJSON:
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
    doc: FixReportJSON = {
        "targets": [to_json(r) for r in results],
        "errors": [{"path": p, "message": m} for p, m in errors],
    }
    return json.dumps(doc, indent=2)
