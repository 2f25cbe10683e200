"""The JSON report: a documented contract (docs/json-format.md), ``schema_version`` 1."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any, NotRequired, TypedDict

from coinstall.check import SCHEMA_VERSION, ArtifactJSON, CheckResult
from coinstall.runtimes.model import RuntimeJSON

if TYPE_CHECKING:  # the machine view is only imported by check --machine
    from coinstall.machine import MachineJSON

__all__ = ["SCHEMA_VERSION", "ErrorJSON", "ReportJSON", "dump", "dump_doc", "dumps", "to_json"]


class ErrorJSON(TypedDict):
    """An ``errors[]`` object: a target that could not be checked."""

    path: str
    message: str


class ReportJSON(TypedDict):
    """The whole JSON report (docs/json-format.md)."""

    schema_version: int
    stack: str | None
    runtimes: list[RuntimeJSON]
    artifacts: list[ArtifactJSON]
    errors: list[ErrorJSON]
    machine: NotRequired[MachineJSON]  # check --machine: coinstall.machine.to_json


def to_json(result: CheckResult, stack: str | None = None) -> ReportJSON:
    """The report as one JSON-serialisable object (see docs/json-format.md)."""
    artifacts = [a.to_json(result.runtimes) for a in result.artifacts]
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


def dump_doc(doc: Mapping[str, Any], out: IO[str]) -> None:
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
