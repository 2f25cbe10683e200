"""Write a run's outcomes as JSON, JSON Lines, SARIF or text — the serial run's bytes.

JSON and JSON Lines are streamed: an artifact's object is written when its outcome arrives (in
target order) and not kept.  JSON is the document of docs/json-format.md written piece by piece
so that it is byte-identical to :func:`coinstall.report.json.dumps` of the same run.  JSON Lines
(docs/json-format.md, "JSON Lines"): one object per line, ``{"header": ...}`` first, then
``{"artifact": ...}`` and ``{"error": ...}`` lines in target order, ``{"end": ...}`` last.

Text and SARIF are rendered by :mod:`coinstall.report.text` and :mod:`coinstall.report.sarif`
from results rebuilt from the outcomes (:func:`artifact_result`), so they too equal the serial
run's; they are collected first (a SARIF log is one object; the text tables align columns).

When a set-scope rule runs, :func:`with_set_findings` spools the outcomes to a temporary file,
keeps only the compact indexes, runs the rule once all are read and then replays the spool with
the extra findings: memory holds the indexes, not the results.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator, Sequence
from json.encoder import encode_basestring_ascii
from typing import IO, Any

from coinstall.archive.cache import ResultCache, unpack_text
from coinstall.archive.setrules import set_findings
from coinstall.archive.worker import Outcome
from coinstall.artifacts.base import ArtifactInfo
from coinstall.check import SCHEMA_VERSION, ArtifactResult, CheckResult, TargetError
from coinstall.config import Config
from coinstall.files.location import Scope
from coinstall.files.verdict import FileRecord, Judgement
from coinstall.rules import Finding, FindingJSON
from coinstall.rules.profiles import PROFILES
from coinstall.runtimes.catalogue import Catalogue
from coinstall.runtimes.model import Runtime

_ANY = Scope("any")
#: In the compact JSON of an artifact, ``"severity":"error"`` occurs only as a finding's key and
#: value: a member path containing it would have its quotes escaped.
_ERROR_MARK = '"severity":"error"'


def with_set_findings(
    outcomes: Iterator[Outcome],
    runtimes: Sequence[Runtime],
    catalogue: Catalogue,
    config: Config | None,
    cache: ResultCache | None = None,
    key: str = "",
) -> Iterator[Outcome]:
    """The outcomes again, each artifact's findings extended by the set-scope rules' (see the
    module docstring); they come out once every outcome has come in.

    With a ``cache``, the extra findings are kept under the digest of ``key`` and every
    artifact's path and SHA-256: a re-run over the same files reuses them without rebuilding
    a single context."""
    indexes: list[bytes] = []
    where: list[int] = []
    group = hashlib.sha256(key.encode())
    cacheable = cache is not None
    # the spool is binary: per outcome one line of JSON (the small part, and the byte length
    # of the artifact's compact JSON text), then that text's bytes, read back in one call.
    # A text spool read back with readline() decoded and joined each 20 MB artifact 8 KiB at
    # a time: over the 4,250 bookworm python3-* .debs (174 MB of artifacts), warm, the spool
    # was about a fifth of the run's CPU
    with tempfile.TemporaryFile() as spool:
        for count, o in enumerate(outcomes):
            if o.index is not None and o.artifact is not None:
                indexes.append(o.index)
                where.append(count)
                if o.sha256 is None:
                    cacheable = False
                group.update(f"{o.path}\0{o.sha256}\n".encode())
            # an outcome from (or stored in) the result cache is spooled as the cache keeps it
            # (zstd: a thirtieth of the JSON's bytes, and no second compression)
            packed = o.packed is not None and o.artifact is not None
            text = o.packed if packed else o.artifact.encode() if o.artifact is not None else None
            head = [o.path, o.sha256, o.matrix, o.errors, o.runtimes, _len(text), packed]
            spool.write(json.dumps(head, separators=(",", ":")).encode() + b"\n")
            if text is not None:
                spool.write(text)
            del text
        extra: dict[int, list[FindingJSON]] | None = None
        if cacheable and cache is not None:
            extra = cache.get_set(group.hexdigest())
        if extra is None:
            found = set_findings(indexes, runtimes, catalogue, config)
            extra = {where[k]: v for k, v in found.items()}
            if cacheable and cache is not None:
                cache.put_set(group.hexdigest(), extra)
        del indexes, where
        spool.seek(0)
        n = 0
        while True:
            line = spool.readline()
            if not line:
                break
            path, sha, rows, errors, own, size, packed = json.loads(line)
            artifact = None
            if size is not None:
                data = spool.read(size)
                artifact = unpack_text(data) if packed else data.decode()
            if n in extra and artifact is not None:
                artifact = add_findings(artifact, extra[n])
            yield Outcome(path, sha, artifact, rows, errors, runtimes=own)
            n += 1


def _len(data: bytes | None) -> int | None:
    return None if data is None else len(data)


_FINDINGS = ',"findings":'


def add_findings(artifact: str, more: list[FindingJSON]) -> str:
    """``artifact`` (compact JSON text of an artifact object, ``"findings"`` its last key, as
    :func:`coinstall.report.json.to_json` writes it) with ``more`` findings appended.  Only
    the findings array is parsed: an artifact of 20,000 files is 20 MB of JSON.  In compact
    JSON ``,"findings":`` occurs unescaped only as a key, and the last one is the top-level
    key."""
    at = artifact.rfind(_FINDINGS)
    if at >= 0 and artifact.endswith("]}"):
        try:
            found = json.loads(artifact[at + len(_FINDINGS) : -1])
        except ValueError:
            found = None
        if isinstance(found, list):
            return (
                artifact[: at + len(_FINDINGS)]
                + json.dumps(found + more, separators=(",", ":"))
                + "}"
            )
    obj = json.loads(artifact)  # another layout: parse it all
    obj["findings"].extend(more)
    return json.dumps(obj, separators=(",", ":"))


def artifact_result(
    o: Outcome, runtimes: Sequence[Runtime], base: Sequence[Runtime] | None = None
) -> ArtifactResult:
    """An :class:`ArtifactResult` holding what the text and SARIF reports read (header, file
    kinds, verdicts, the first reason per runtime — when the outcome has its matrix rows —,
    findings, profile), rebuilt from an outcome.  ``runtimes``: the report's (the run's and
    foreign platforms'); ``base``: the runtimes every artifact was judged against unless its
    outcome names its own (default: ``runtimes``)."""
    a = o.artifact_json()
    assert a is not None
    info = ArtifactInfo(
        path=a["path"],
        format=a["format"],
        name=a["name"],
        version=a["version"],
        arch=a["arch"],
        provides=a["provides"],
        requires=a["requires"],
    )
    records = [FileRecord(f["path"], f["path"], f["kind"], _ANY) for f in a["files"]]
    # one frozenset per distinct list, as judge() shares them: thousands of files carry the
    # same list of runtime ids, and a frozenset of 64 ids is 4 KB (measured:
    # benchmarks/MEASUREMENTS.md, 'shared runtime sets')
    sets: dict[tuple[str, ...], frozenset[str]] = {}
    usable: dict[str, frozenset[str]] = {}
    for f in a["files"]:
        ids = f["usable_by"]
        if ids is not None:
            key = tuple(ids)
            found = sets.get(key)
            if found is None:
                found = sets[key] = frozenset(ids)
            usable[f["path"]] = found
    own = list(base if base is not None else runtimes)
    if o.runtimes is not None:  # a wheel of another platform: its own runtimes, in order
        by_id = {rt.id: rt for rt in runtimes}
        own = [by_id[i] for i in o.runtimes if i in by_id]
    reasons: dict[str, dict[str, str]] = {}
    for rt, row in zip(own, o.matrix or [], strict=o.matrix is not None):
        if row[3] is not None and row[4] is not None:
            reasons.setdefault(row[4], {})[rt.id] = row[3]
    findings = [Finding(f["rule"], f["severity"], f["path"], f["message"]) for f in a["findings"]]
    return ArtifactResult(
        info,
        records,
        Judgement(usable, reasons),
        findings,
        [],
        PROFILES[a["profile"]],
        runtimes=own,
    )


class Tally:
    """Counts for the exit status and the closing line."""

    def __init__(self) -> None:
        self.artifacts = 0
        self.errors = 0
        self.error_findings = 0

    def add(self, o: Outcome) -> None:
        if o.artifact is not None:
            self.artifacts += 1
            if _ERROR_MARK in o.artifact:
                self.error_findings += 1
        self.errors += len(o.errors)

    @property
    def exit_status(self) -> int:
        """As :attr:`coinstall.check.CheckResult.exit_status`."""
        return 2 if self.errors else 1 if self.error_findings else 0


def _indent(text: str, by: str) -> str:
    return text.replace("\n", "\n" + by)


def _indented(value: Any, nl: str, lists: dict[tuple[str, tuple[str, ...]], str]) -> str:
    """``_indent(json.dumps(value, indent=2), nl[1:])`` for a value ``json.loads`` made, with
    each list of strings already written under the same indentation written once (``lists``).

    Glue over the json module: with ``indent`` it encodes in Python, item by item (its C
    encoder has no indentation before 3.13), and an artifact repeats the same ``usable_by``
    list of runtime ids for thousands of files.  Strings are encoded by the module's own
    ``encode_basestring_ascii``; other scalars by ``json.dumps``; the layout is json's
    (``", "``-less item separator ``","`` then newline and indentation, ``": "`` after keys,
    ``[]``/``{}`` when empty).  Glue, because ``json.dumps(indent=2)`` is the slow
    pure-Python encoder (measured: benchmarks/MEASUREMENTS.md, 'indented JSON');
    tests/test_archive.py compares the bytes with the serial report's.
    """
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = nl + "  "
        return (
            "{"
            + inner
            + ("," + inner).join(
                [
                    encode_basestring_ascii(k)
                    + ": "
                    + (
                        encode_basestring_ascii(v)
                        if isinstance(v, str)
                        else _indented(v, inner, lists)
                    )
                    for k, v in value.items()
                ]
            )
            + nl
            + "}"
        )
    if isinstance(value, list):
        if not value:
            return "[]"
        key: tuple[str, tuple[str, ...]] | None = None
        if isinstance(value[0], str):
            try:
                key = (nl, tuple(value))
                known = lists.get(key)
            except TypeError:  # an unhashable item
                key = known = None
            if known is not None:  # equal to a list of str: a list of the same str
                return known
        inner = nl + "  "
        text = (
            "["
            + inner
            + ("," + inner).join(
                [
                    encode_basestring_ascii(v) if isinstance(v, str) else _indented(v, inner, lists)
                    for v in value
                ]
            )
            + nl
            + "]"
        )
        # only lists of str are kept: 1 == 1.0 == True would mix up other scalars' keys
        if key is not None and len(lists) < 4096 and all(type(v) is str for v in value):
            lists[key] = text
        return text
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return json.dumps(value)


def write_json(
    outcomes: Iterator[Outcome],
    out: IO[str],
    runtimes: Sequence[Runtime],
    stack: str | None,
    late_errors: Sequence[TargetError] = (),
) -> Tally:
    """The JSON document, streamed (byte-identical to :func:`coinstall.report.json.dumps`)."""
    tally = Tally()
    head = json.dumps(
        {
            "schema_version": SCHEMA_VERSION,
            "stack": stack,
            "runtimes": [rt.to_json() for rt in runtimes],
        },
        indent=2,
    )
    out.write(head[:-2] + ',\n  "artifacts": [')
    errors: list[dict[str, str]] = []
    first = True
    for o in outcomes:
        tally.add(o)
        obj = o.artifact_json()
        if obj is not None:
            out.write(("\n    " if first else ",\n    ") + _indented(obj, "\n    ", {}))
            first = False
        errors += [{"path": o.path, "message": m} for m in o.errors]
    errors += [{"path": e.path, "message": e.message} for e in late_errors]
    tally.errors += len(late_errors)
    out.write(
        ("]" if first else "\n  ]")
        + ',\n  "errors": '
        + _indent(json.dumps(errors, indent=2), "  ")
        + "\n}\n"
    )
    return tally


def write_jsonl(
    outcomes: Iterator[Outcome],
    out: IO[str],
    runtimes: Sequence[Runtime],
    stack: str | None,
    late_errors: Sequence[TargetError] = (),
) -> Tally:
    """JSON Lines, one object per line, flushed as each target finishes."""
    tally = Tally()
    out.write(
        json.dumps(
            {
                "header": {
                    "schema_version": SCHEMA_VERSION,
                    "stack": stack,
                    "runtimes": [rt.to_json() for rt in runtimes],
                }
            },
            separators=(",", ":"),
        )
        + "\n"
    )
    for o in outcomes:
        tally.add(o)
        if o.artifact is not None:  # written in pieces: one artifact can be 20 MB of JSON
            out.write('{"artifact":{"path":' + json.dumps(o.path))
            if o.artifact != "{}":
                out.write(",")
                out.write(o.artifact[1:])
            else:
                out.write("}")
            out.write("}\n")
        for m in o.errors:
            out.write(
                json.dumps({"error": {"path": o.path, "message": m}}, separators=(",", ":")) + "\n"
            )
        out.flush()
    for e in late_errors:
        out.write(
            json.dumps({"error": {"path": e.path, "message": e.message}}, separators=(",", ":"))
            + "\n"
        )
    tally.errors += len(late_errors)
    out.write(
        json.dumps(
            {
                "end": {
                    "artifacts": tally.artifacts,
                    "errors": tally.errors,
                    "exit_status": tally.exit_status,
                }
            },
            separators=(",", ":"),
        )
        + "\n"
    )
    return tally


def collect(
    outcomes: Iterator[Outcome],
    runtimes: Sequence[Runtime],
    late_errors: Sequence[TargetError] = (),
    base: Sequence[Runtime] | None = None,
) -> CheckResult:
    """A :class:`CheckResult` for the text and SARIF reports (``runtimes``, ``base``: as
    :func:`artifact_result`)."""
    artifacts: list[ArtifactResult] = []
    errors: list[TargetError] = []
    for o in outcomes:
        if o.artifact is not None:
            artifacts.append(artifact_result(o, runtimes, base))
        errors += [TargetError(o.path, m) for m in o.errors]
    return CheckResult(list(runtimes), artifacts, errors + list(late_errors))
