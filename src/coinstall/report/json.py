"""The JSON report: a documented contract (docs/json-format.md), ``schema_version`` 1."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import IO, Any

from coinstall.check import ArtifactResult, CheckResult, matrix
from coinstall.runtimes.model import Runtime

SCHEMA_VERSION = 1


def artifact_to_json(a: ArtifactResult, runtimes: Sequence[Runtime]) -> dict[str, Any]:
    """One ``artifacts[]`` object (see docs/json-format.md)."""
    files = []
    # Files share verdict sets (coinstall.files.verdict.judge): one sorted list per set.
    lists: dict[frozenset[str], list[str]] = {}
    for r in a.records:
        usable = a.judgement.usable.get(r.path)
        if usable is not None and usable not in lists:
            lists[usable] = sorted(usable)
        entry: dict[str, Any] = {
            "path": r.path,
            "kind": r.kind,
            "usable_by": lists[usable] if usable is not None else None,
        }
        if r.kind == "extension":
            # the third state: runtimes whose verdict the module's bytes leave open
            entry["cannot_tell"] = sorted(a.judgement.cannot_tell.get(r.path, ()))
        files.append(entry)
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


def dump(result: CheckResult, out: IO[str], stack: str | None = None) -> None:
    """:func:`dumps` written to ``out`` piece by piece (:func:`dump_doc`)."""
    dump_doc(to_json(result, stack), out)


def dump_doc(doc: dict[str, Any], out: IO[str]) -> None:
    """``doc`` as indented JSON written to ``out`` in pieces, then a newline: a report of
    100,000 files is hundreds of MB of text, never held whole (same text as
    ``json.dumps(doc, indent=2)``)."""
    buf: list[str] = []
    for piece in json.JSONEncoder(indent=2).iterencode(doc):
        buf.append(piece)
        if len(buf) >= 65536:
            out.write("".join(buf))
            buf.clear()
    buf.append("\n")
    out.write("".join(buf))
