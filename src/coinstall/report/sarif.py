"""The SARIF 2.1.0 report (OASIS Static Analysis Results Interchange Format, errata 01).

One ``run`` whose ``tool.driver.rules`` is the rule catalogue (``shortDescription``,
``fullDescription``, ``help``, ``defaultConfiguration.level``, and the peers and profiles as
``properties``).  Each checked artifact is an ``artifacts[]`` entry; a member of a package is a
nested artifact (``parentIndex`` points at the package, SARIF 2.1.0 §3.24.3), so a finding in
``python3-foo_1.0_all.deb`` at ``/usr/lib/python3/dist-packages/foo/x.so`` locates the member
inside the archive.  A system package's member is named by its installed path, an
absolute-path reference within the package (``/usr/bin/tracer``, as rpmlint and lintian name
it); an installed tree's file by its ``file://`` URI on this machine; a wheel's member by its
path inside the wheel (:mod:`coinstall.report.paths`).  Levels map
``error``/``warning``/``info`` to ``error``/``warning``/``note`` (§3.27.10).  Unreadable
targets are ``invocations[0].toolExecutionNotifications``.
"""

from __future__ import annotations

import json
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from coinstall.artifacts.base import ArtifactInfo
from coinstall.check import CheckResult
from coinstall.report.paths import shown_path
from coinstall.rules import Rule, all_rules

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _uri(path: str) -> str:
    """A URI reference for a path: ``file://`` for absolute paths, percent-encoded relative
    references otherwise (SARIF §3.10.2)."""
    if os.path.isabs(path):
        return PurePosixPath(path).as_uri()
    return quote(path.replace(os.sep, "/"))


def _member_uri(info: ArtifactInfo, member: str) -> str:
    """A member's URI: ``file:///…`` for an installed tree's file, ``/usr/bin/tracer`` (an
    absolute-path reference inside the package, RFC 3986 §4.2) for a .deb/.rpm member, the
    relative path inside a wheel."""
    path = shown_path(info, member)
    if info.format == "tree":
        return _uri(path)
    return quote(path)


def _rule(r: Rule) -> dict[str, Any]:
    return {
        "id": r.name,
        "name": "".join(w.capitalize() for w in r.name.split("-")),
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": r.why},
        "help": {
            "text": f"{r.summary}\n\nWhy: {r.why}\n\nExample: {r.example}\n\nFix: {r.fix}\n\n"
            f"Source: {r.source}",
            "markdown": f"{r.summary}\n\n**Why.** {r.why}\n\n**Example.** `{r.example}`\n\n"
            f"**Fix.** {r.fix}\n\n**Source.** {r.source}",
        },
        "defaultConfiguration": {"level": _LEVEL[r.severity]},
        "properties": {
            "area": r.area,
            "profiles": list(r.profiles),
            "peers": list(r.peers),
            "tags": [r.area],
        },
    }


def to_sarif(result: CheckResult) -> dict[str, Any]:
    """The report as one SARIF 2.1.0 log object."""
    rules = all_rules()
    index = {r.name: i for i, r in enumerate(rules)}
    artifacts: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for a in result.artifacts:
        top = len(artifacts)
        artifacts.append(
            {
                "location": {"uri": _uri(a.info.path)},
                "roles": ["analysisTarget"],
                "properties": {"format": a.info.format, "profile": a.profile.name},
            }
        )
        members: dict[str, int] = {}
        for f in a.findings:
            loc: dict[str, Any]
            if f.path is None:
                loc = {"artifactLocation": {"uri": _uri(a.info.path), "index": top}}
                if f.line is not None:  # a spec file: the line (SARIF 3.30 region)
                    loc["region"] = {"startLine": f.line}
            else:
                uri = _member_uri(a.info, f.path)
                if f.path not in members:
                    members[f.path] = len(artifacts)
                    artifacts.append({"location": {"uri": uri}, "parentIndex": top})
                loc = {"artifactLocation": {"uri": uri, "index": members[f.path]}}
            res: dict[str, Any] = {
                "ruleId": f.rule,
                "level": _LEVEL[f.severity],
                "message": {"text": f.message},
                "locations": [{"physicalLocation": loc}],
            }
            if f.rule in index:
                res["ruleIndex"] = index[f.rule]
            results.append(res)
    try:
        tool_version = version("coinstall")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        tool_version = "0"
    notes = [
        {
            "level": "error",
            "message": {"text": f"{e.path}: {e.message}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(e.path)}}}],
        }
        for e in result.errors
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "coinstall",
                        "version": tool_version,
                        "rules": [_rule(r) for r in rules],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not result.errors,
                        "exitCode": result.exit_status,
                        "toolExecutionNotifications": notes,
                    }
                ],
                "artifacts": artifacts,
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def dumps(result: CheckResult) -> str:
    """The SARIF log as indented JSON text."""
    return json.dumps(to_sarif(result), indent=2)
