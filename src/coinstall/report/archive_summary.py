"""The archive view of check results: counts per rule, severity, profile; the packages with the
most findings; headline numbers.

Input: what ``coinstall check --format json`` or ``--format jsonl`` wrote (docs/json-format.md),
read one artifact at a time (JSON Lines are streamed; a JSON document is parsed whole).  Output:
one JSON-able summary (docs/json-format.md, "Archive summary"), rendered as text, JSON or a
self-contained HTML page (:mod:`coinstall.report.archive_html`).

Headlines count *artifacts*: those that ship a file kind (bytecode, extension modules) or have
at least one finding of a rule.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import IO, Any

from coinstall.config import SEVERITIES
from coinstall.rules import headline_rules

SUMMARY_VERSION = 1
#: Artifacts listed in ``top``.
TOP = 25

#: The summary's own headlines, ``(rank, key, label, test)``: ``("kind", k)`` — ships a file
#: of kind ``k``; ``("severity", s)`` — has a finding of severity ``s``.  The rules add theirs
#: (:attr:`coinstall.rules.Rule.headline`: ``("rule", name)`` — has a finding of the rule);
#: all are listed by rank.
OWN_HEADLINES: tuple[tuple[int, str, str, tuple[str, str]], ...] = (
    (10, "bytecode", "ship bytecode (.pyc/.pyo)", ("kind", "bytecode")),
    (30, "extensions", "ship extension modules", ("kind", "extension")),
    (100, "with-errors", "have at least one error finding", ("severity", "error")),
)


def headlines() -> list[tuple[str, str, tuple[str, str]]]:
    """``(key, label, test)`` of every headline, by rank: :data:`OWN_HEADLINES` and each
    rule's (key and test its name, label its :attr:`~coinstall.rules.Rule.headline` and
    name)."""
    rows = [(rank, key, label, test) for rank, key, label, test in OWN_HEADLINES]
    rows += [
        (r.headline_rank, r.name, f"{r.headline} ({r.name})", ("rule", r.name))
        for r in headline_rules()
    ]
    return [(key, label, test) for _, key, label, test in sorted(rows, key=lambda x: x[0])]


#: The longest line of JSON Lines read (one artifact's object: python3-azure's 24,000 files
#: make about 6 MB).
MAX_LINE = 64 << 20


class ResultsError(ValueError):
    """The input is not coinstall check results; ``str()`` says where."""


def _str(obj: dict[str, Any], key: str) -> bool:
    return obj.get(key) is None or isinstance(obj.get(key), str)


def _shape_error(kind: str, obj: object) -> str | None:
    """Why ``obj`` is not the ``kind`` object of docs/json-format.md, as far as the summary
    reads it, or None."""
    if not isinstance(obj, dict):
        return f"{kind} is not an object"
    if kind == "error":
        return None
    for key in ("path", "name", "version", "arch", "profile", "format"):
        if not _str(obj, key):
            return f"artifact {key} is not a string"
    for key in ("findings", "files"):
        items = obj.get(key, [])
        if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
            return f"artifact {key} is not a list of objects"
    for f in obj.get("findings", []):
        if not isinstance(f.get("rule"), str) or not isinstance(f.get("severity"), str):
            return "a finding without a rule and severity"
    if not all(_str(f, "kind") for f in obj.get("files", [])):
        return "a file kind is not a string"
    return None


def read_results(
    stream: IO[str], name: str, max_bytes: int = 1 << 30
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``("artifact", obj)`` and ``("error", obj)`` from JSON Lines or a JSON document, each
    object checked for the shape the summary reads (docs/json-format.md).

    Args:
        max_bytes: the largest JSON document (parsed whole), in characters.  A line of JSON
            Lines is at most :data:`MAX_LINE` characters; the input is never read in larger
            pieces.

    Raises:
        ResultsError: neither format, a line that is not JSON, an object of the wrong shape,
            or a line or document longer than its bound.
    """

    def line_of(n: int) -> str:
        line = stream.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE and n > 1:
            raise ResultsError(f"{name}:{n}: a line longer than {MAX_LINE >> 20} MB")
        return line

    def checked(kind: str, obj: object, where: str) -> tuple[str, dict[str, Any]]:
        why = _shape_error(kind, obj)
        if why is not None:
            raise ResultsError(f"{where}: not coinstall check results ({why})")
        assert isinstance(obj, dict)
        return kind, obj

    first = line_of(1)  # longer than MAX_LINE: not JSON Lines, whose header line is short
    try:
        head = json.loads(first) if first.strip() and len(first) <= MAX_LINE else None
    except ValueError:
        head = None
    if isinstance(head, dict) and "header" in head:  # JSON Lines
        n = 1
        while line := line_of(n + 1):
            n += 1
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                raise ResultsError(f"{name}:{n}: not JSON ({exc})") from None
            if not isinstance(obj, dict):
                raise ResultsError(
                    f"{name}:{n}: not coinstall check results (a line that is not an object)"
                )
            for kind in ("artifact", "error"):
                if kind in obj:
                    yield checked(kind, obj[kind], f"{name}:{n}")
        return
    rest = stream.read(max_bytes + 1 - len(first))
    if len(first) + len(rest) > max_bytes:
        raise ResultsError(
            f"{name}: a JSON document longer than {max_bytes >> 20} MB (limit index-mb)"
        )
    try:
        doc = json.loads(first + rest)
    except ValueError as exc:
        raise ResultsError(f"{name}: neither JSON Lines nor a JSON document ({exc})") from None
    if not isinstance(doc, dict) or "artifacts" not in doc:
        raise ResultsError(f'{name}: not coinstall check results (no "artifacts")')
    arts, errs = doc["artifacts"], doc.get("errors", [])
    if not isinstance(arts, list) or not isinstance(errs, list):
        raise ResultsError(
            f"{name}: not coinstall check results (artifacts or errors is not a list)"
        )
    for a in arts:
        yield checked("artifact", a, name)
    for e in errs:
        yield checked("error", e, name)


def _label(a: dict[str, Any]) -> str:
    if a.get("name"):
        return " ".join(str(x) for x in (a["name"], a.get("version"), a.get("arch")) if x)
    return str(a.get("path", "?"))


def summarise(items: Iterable[tuple[str, dict[str, Any]]], sources: list[str]) -> dict[str, Any]:
    """The archive summary (see the module docstring); every artifact contributes one row."""
    sev: Counter[str] = Counter()
    rule_findings: Counter[str] = Counter()
    rule_artifacts: Counter[str] = Counter()
    rule_severity: dict[str, Counter[str]] = {}
    profiles: dict[str, Counter[str]] = {}
    formats: Counter[str] = Counter()
    heads: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    unreadable: set[str] = set()
    heading = headlines()
    for kind, obj in items:
        if kind == "error":
            errors.append({"path": str(obj.get("path")), "message": str(obj.get("message"))})
            unreadable.add(str(obj.get("path")))
            continue
        findings = obj.get("findings", [])
        kinds = {f.get("kind") for f in obj.get("files", [])}
        s = Counter(f["severity"] for f in findings)
        r = Counter(f["rule"] for f in findings)
        sev.update(s)
        rule_findings.update(r)
        rule_artifacts.update(r.keys())
        for f in findings:
            rule_severity.setdefault(f["rule"], Counter())[f["severity"]] += 1
        prof = profiles.setdefault(obj.get("profile", "?"), Counter())
        prof["artifacts"] += 1
        prof["findings"] += len(findings)
        prof.update({k: v for k, v in s.items()})
        formats[obj.get("format", "?")] += 1
        for key, _, (what, value) in heading:
            hit = (
                value in kinds if what == "kind" else value in r if what == "rule" else s[value] > 0
            )
            if hit:
                heads[key] += 1
        rows.append(
            {
                "artifact": _label(obj),
                "path": obj.get("path"),
                "profile": obj.get("profile"),
                "files": len(obj.get("files", [])),
                "error": s["error"],
                "warning": s["warning"],
                "info": s["info"],
                "findings": len(findings),
                "rules": sorted(r.items(), key=lambda kv: (-kv[1], kv[0])),
            }
        )
    n = len(rows)
    top = sorted(
        (x for x in rows if x["findings"]),
        key=lambda x: (-x["error"], -x["findings"], x["artifact"]),
    )[:TOP]
    return {
        "summary_version": SUMMARY_VERSION,
        "sources": sources,
        "artifacts": n,
        "unreadable": len(unreadable),
        "findings": sum(sev.values()),
        "by_severity": {k: sev[k] for k in SEVERITIES},
        "by_rule": [
            {
                "rule": rule,
                "severity": rule_severity[rule].most_common(1)[0][0],
                "findings": cnt,
                "artifacts": rule_artifacts[rule],
            }
            for rule, cnt in sorted(rule_findings.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "by_profile": {
            p: {
                "artifacts": c["artifacts"],
                "findings": c["findings"],
                "error": c["error"],
                "warning": c["warning"],
                "info": c["info"],
            }
            for p, c in sorted(profiles.items())
        },
        "by_format": dict(sorted(formats.items())),
        "headlines": [
            {
                "key": key,
                "label": label,
                "artifacts": heads[key],
                "percent": round(100 * heads[key] / n, 1) if n else 0.0,
            }
            for key, label, _ in heading
        ],
        "top": top,
        "rows": rows,
        "errors": errors,
    }
