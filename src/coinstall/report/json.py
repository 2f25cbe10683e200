"""The JSON report: a documented contract (docs/json-format.md), ``schema_version`` 1."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from coinstall.check import ArtifactResult, CheckResult, matrix
from coinstall.runtimes.model import Runtime

SCHEMA_VERSION = 1


def artifact_to_json(a: ArtifactResult, runtimes: Sequence[Runtime]) -> dict[str, Any]:
    """One ``artifacts[]`` object (see docs/json-format.md)."""
    files = []
    for r in a.records:
        usable = a.judgement.usable.get(r.path)
        files.append({
            "path": r.path,
            "kind": r.kind,
            "usable_by": sorted(usable) if usable is not None else None,
        })
    return {
        "path": a.info.path,
        "format": a.info.format,
        "profile": a.profile.name,
        "name": a.info.name,
        "version": a.info.version,
        "arch": a.info.arch,
        "provides": a.info.provides,
        "requires": a.info.requires,
        "compatibility": {
            row.runtime.id: row.verdict for row in matrix(a, runtimes)
        },
        "files": files,
        "findings": [f.to_json() for f in a.findings],
    }


def to_json(result: CheckResult, stack: str | None = None) -> dict[str, Any]:
    """The report as one JSON-serialisable object (see docs/json-format.md)."""
    artifacts = [artifact_to_json(a, result.runtimes) for a in result.artifacts]
    return {
        "schema_version": SCHEMA_VERSION,
        "stack": stack,
        "runtimes": [rt.to_json() for rt in result.runtimes],
        "artifacts": artifacts,
        "errors": [{"path": e.path, "message": e.message} for e in result.errors],
    }


def dumps(result: CheckResult, stack: str | None = None) -> str:
    """The report as indented JSON text."""
    return json.dumps(to_json(result, stack), indent=2, sort_keys=False)
