"""``coinstall check``: read artifacts, judge every file for every runtime, run the rules.

The engine knows no screen: it returns :class:`CheckResult`, which ``report/`` renders.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NotRequired, TypedDict

from coinstall.artifacts import ArtifactError, ArtifactInfo, open_artifact
from coinstall.artifacts.base import Member, exc_line
from coinstall.config import Config
from coinstall.files.extension import DEB_ARCH_TRIPLET, RPM_ARCH_TRIPLET, WHEEL_ARCH_TRIPLET
from coinstall.files.verdict import (
    FileKind,
    FileRecord,
    Judgement,
    classify,
    judge,
    wants_content,
    wants_content_for_kind,
    wants_head_for_kind,
)
from coinstall.relations import compares_content
from coinstall.rules import (
    ArtifactContext,
    Finding,
    FindingJSON,
    heads_only,
    run_rules,
    run_set_rules,
    wanted_contents,
    wants_digests,
)
from coinstall.rules.profiles import PROFILES, Profile, choose_profile
from coinstall.runtimes.catalogue import HOST_TRIPLET, Catalogue
from coinstall.runtimes.model import Runtime
from coinstall.runtimes.platforms import runtimes_for_wheel

#: ``schema_version`` of the JSON report of a check (docs/json-format.md).
SCHEMA_VERSION = 1


class FileJSON(TypedDict):
    """A ``files[]`` object of the JSON report (docs/json-format.md)."""

    path: str
    kind: FileKind
    usable_by: list[str] | None
    cannot_tell: NotRequired[list[str]]  # extension modules only


class ArtifactJSON(TypedDict):
    """An ``artifacts[]`` object of the JSON report (docs/json-format.md)."""

    path: str
    format: str
    profile: str
    name: str | None
    version: str | None
    arch: str | None
    provides: list[str]
    requires: list[str]
    compatibility: dict[str, str]  # runtime id -> MatrixRow.verdict
    files: list[FileJSON]
    findings: list[FindingJSON]


@dataclass
class ArtifactResult:
    """One artifact's outcome: header data, files, verdicts, findings, and the problems met
    while reading (unsafe member names, unreadable entries)."""

    info: ArtifactInfo
    records: list[FileRecord]
    judgement: Judgement
    findings: list[Finding]
    problems: list[str] = field(default_factory=list)
    profile: Profile = PROFILES["wheel"]
    context: ArtifactContext | None = None
    #: the runtimes this artifact was judged against (for a wheel of another platform those
    #: of its platforms: runtimes_for_wheel); None: the run's.
    runtimes: list[Runtime] | None = None

    def to_json(self, runtimes: Sequence[Runtime]) -> ArtifactJSON:
        """One ``artifacts[]`` object of the JSON report (see docs/json-format.md), its
        ``compatibility`` from :func:`matrix` over ``runtimes``."""
        files: list[FileJSON] = []
        # Files share verdict sets (coinstall.files.verdict.judge): one sorted list per set.
        lists: dict[frozenset[str], list[str]] = {}
        for r in self.records:
            usable = self.judgement.usable.get(r.path)
            if usable is not None and usable not in lists:
                lists[usable] = sorted(usable)
            entry: FileJSON = {
                "path": r.path,
                "kind": r.kind,
                "usable_by": lists[usable] if usable is not None else None,
            }
            if r.kind == "extension":
                # the third state: runtimes whose verdict the module's bytes leave open
                entry["cannot_tell"] = sorted(self.judgement.cannot_tell.get(r.path, ()))
            files.append(entry)
        return {
            "path": self.info.path,
            "format": self.info.format,
            "profile": self.profile.name,
            "name": self.info.name,
            "version": self.info.version,
            "arch": self.info.arch,
            "provides": self.info.provides,
            "requires": self.info.requires,
            "compatibility": {row.runtime.id: row.verdict for row in matrix(self, runtimes)},
            "files": files,
            "findings": [f.to_json() for f in self.findings],
        }


@dataclass(frozen=True)
class TargetError:
    """A target that could not be checked (or could only partly be): ``path`` and a
    ``message``.  Both keep names as the archive wrote them (a member name may hold a newline
    or an ESC); renderers for a terminal escape them (:func:`coinstall.report.escape.printable`),
    so each error is one line there."""

    path: str
    message: str


@dataclass
class CheckResult:
    """Everything a check run produced."""

    runtimes: list[Runtime]
    artifacts: list[ArtifactResult]
    errors: list[TargetError]

    @property
    def exit_status(self) -> int:
        """2 if a target could not be read, 1 if any error-severity finding, else 0."""
        if self.errors:
            return 2
        if any(f.severity == "error" for a in self.artifacts for f in a.findings):
            return 1
        return 0


def _triplet(info: ArtifactInfo) -> str:
    arch = info.arch or ""
    if info.format == "deb":
        return DEB_ARCH_TRIPLET.get(arch, HOST_TRIPLET)
    if info.format == "rpm":
        return RPM_ARCH_TRIPLET.get(arch, HOST_TRIPLET)
    if info.format == "wheel":
        for part in arch.split("."):
            for key, triplet in WHEEL_ARCH_TRIPLET.items():
                if part.endswith("_" + key):
                    return triplet
    return HOST_TRIPLET


def _no_head(_path: str, _mode: int) -> bool:
    return False


def _read_members(path: str, wanted: set[str]) -> dict[str, bytes]:
    """The content of some members, in a second streaming pass.  Which sources are needed is
    known only once every pyc header has been seen, and a stream cannot go back; packages
    with hash-based pycs are the only ones that pay for it."""
    out: dict[str, bytes] = {}
    # no other head is needed: a directory opens only the wanted files
    for m in open_artifact(path).members(lambda p, _size: p in wanted, False, _no_head):
        if m.path in wanted and m.content is not None:
            out[m.path] = m.content
    return out


def check_artifact(
    path: str,
    runtimes: Sequence[Runtime],
    catalogue: Catalogue,
    config: Config | None = None,
    *,
    digests: bool = False,
    verdicts: bool = True,
    own_platforms: bool = False,
) -> ArtifactResult:
    """Read one artifact in one pass, judge its files and run the rules of its profile
    (``config.profile`` if set, else :func:`~coinstall.rules.profiles.choose_profile`).

    With ``own_platforms`` a wheel for another platform than this machine's (macOS, Windows,
    another CPU or C library, from its platform tags) is judged against that platform's
    catalogue runtimes and the installed ones that run there
    (:func:`~coinstall.runtimes.platforms.runtimes_for_wheel`) instead of ``runtimes``;
    without it (``share``, which installs for exactly its targets) against ``runtimes``.

    With ``digests`` every regular file's content is hashed as it streams and its SHA-256
    kept in :attr:`FileRecord.sha256`, for rules that compare files across artifacts
    (:attr:`~coinstall.rules.Rule.digests`).

    With ``verdicts=False`` the per-file, per-runtime verdicts (the matrix) are not computed:
    no rule reads them, and ``coinstall fix`` needs only the findings.  If moreover every rule
    of ``config`` reads only file heads (:func:`~coinstall.rules.heads_only`: ``fix --select``
    of the shebang rules), no file is read whole but an untagged extension name (its kind
    needs its init symbol) and no ELF or metadata is parsed.  In a directory no file is
    opened but those read whole and those whose first bytes can change their kind
    (:func:`~coinstall.files.verdict.wants_head_for_kind`: executables, program directories,
    bytecode).

    Raises:
        ArtifactError: the artifact cannot be opened, its payload is corrupt, or it goes past
            a limit (:mod:`coinstall.artifacts.limits`).  Other exceptions from damaged input
            are possible: :func:`check_target` is the call that never raises for one target.
    """
    reader = open_artifact(path)
    info = reader.info
    if own_platforms and info.format == "wheel" and info.arch:
        # judged against the runtimes of the wheel's own platforms (macOS, Windows, another
        # CPU), not this machine's alone
        runtimes = runtimes_for_wheel(info.arch.split("."), runtimes, catalogue)
    own = list(runtimes)
    root = os.path.abspath(path) if info.format == "tree" else None
    records: list[FileRecord] = []
    links: list[Member] = []
    cfg = config or Config()
    # the profile first: only its rule modules are imported (coinstall.rules.AREAS)
    profile = PROFILES[cfg.profile] if cfg.profile else choose_profile(info, cfg.stack)
    analyse = verdicts or not heads_only(cfg)
    want = wants_content if analyse else wants_content_for_kind
    # a tree opens only the files whose first bytes classification reads (and those wanted
    # whole): any other file's kind, scope and verdicts follow from its path and mode
    heads = wants_head_for_kind
    # only what may be compared across artifacts is hashed (a .deb only if Multi-Arch: same)
    for m in reader.members(want, digests and compares_content(info), heads):
        if m.type in ("symlink", "hardlink"):
            links.append(m)
            continue
        if m.type != "file":
            continue
        rec = classify(
            path=m.path,
            fmt=info.format,
            head=m.head,
            content=m.content,
            size=m.size,
            mode=m.mode,
            mtime=m.mtime,
            catalogue=catalogue,
            root=root,
            spool=m.spool,
            analyse=analyse,
        )
        rec.sha256 = m.sha256
        records.append(rec)
    wanted = wanted_contents(records, cfg, profile.name)
    contents = _read_members(path, wanted) if wanted else {}
    judgement = judge(records, runtimes) if verdicts else Judgement()
    owners = {}
    if root is not None:
        for rt in runtimes:
            for d in (rt.purelib, rt.platlib, rt.stdlib):
                if d and (root == d or root.startswith(d.rstrip("/") + "/")):
                    owners[rt.id] = rt
    ctx = ArtifactContext(
        info=info,
        records=records,
        judgement=judgement,
        runtimes={r.id: r for r in runtimes},
        catalogue=catalogue,
        vendor="debian" if info.format == "deb" else "upstream",
        triplet=_triplet(info),
        owners=owners,
        profile=profile,
        stack=cfg.stack,
        links=links,
        contents=contents,
    )
    findings = list(run_rules(ctx, cfg))
    return ArtifactResult(
        info, records, judgement, findings, list(reader.problems), profile, ctx, own
    )


def check_target(
    path: str,
    runtimes: Sequence[Runtime],
    catalogue: Catalogue,
    config: Config | None = None,
    *,
    digests: bool = False,
    verdicts: bool = True,
    own_platforms: bool = False,
) -> ArtifactResult | TargetError:
    """:func:`check_artifact` for one target, isolated: whatever reading or judging this one
    target raises becomes its :class:`TargetError` (one line naming the problem), so a run
    over many targets goes on.  The call for anything that checks targets one by one (the
    ``check`` command, parallel archive runs).

    Only ``KeyboardInterrupt``/``SystemExit`` (``BaseException``) pass through.
    """
    try:
        return check_artifact(
            path,
            runtimes,
            catalogue,
            config,
            digests=digests,
            verdicts=verdicts,
            own_platforms=own_platforms,
        )
    except ArtifactError as exc:
        return TargetError(path, str(exc))
    except MemoryError:
        return TargetError(path, "out of memory while reading")
    except RecursionError:
        return TargetError(path, "cannot be read: nested too deeply")
    except Exception as exc:  # damaged input reaching a library's unforeseen error
        return TargetError(path, f"cannot be read: {exc_line(exc, typed=True)}")


def check(
    targets: Sequence[str],
    runtimes: Sequence[Runtime],
    catalogue: Catalogue,
    config: Config | None = None,
) -> CheckResult:
    """Check every target, then run the rules over the artifacts checked together
    (``scope="set"``); a target that cannot be read becomes a :class:`TargetError` and the
    others are still checked."""
    artifacts: list[ArtifactResult] = []
    errors: list[TargetError] = []
    # a rule may compare content across package files (installed trees are not compared);
    # the digests cost a read of every member, so only when such a rule runs.
    packages = [t for t in targets if not os.path.isdir(t)]
    digests = len(packages) > 1 and wants_digests(config)
    for t in targets:
        result = check_target(
            t, runtimes, catalogue, config, digests=digests and t in packages, own_platforms=True
        )
        if isinstance(result, TargetError):
            errors.append(result)
            continue
        artifacts.append(result)
        errors.extend(TargetError(t, p) for p in result.problems)
    run_rts = run_runtimes(targets, runtimes, catalogue)
    by_ctx = {id(a.context): a for a in artifacts}
    ctxs = [a.context for a in artifacts if a.context is not None]
    for ctx, finding in run_set_rules(ctxs, config):
        by_ctx[id(ctx)].findings.append(finding)
    return CheckResult(run_rts, artifacts, errors)


def run_runtimes(
    targets: Sequence[str], runtimes: Sequence[Runtime], catalogue: Catalogue
) -> list[Runtime]:
    """The run's runtime list (the JSON report's ``runtimes[]``): ``runtimes``, then the
    catalogue runtimes of each foreign platform a wheel target's file name names, in target
    order (:func:`~coinstall.runtimes.platforms.runtimes_for_wheel`).  Decided from the file
    names alone, before anything is read, so a streamed report (``--jobs``, JSON Lines) can
    write it first and say the same as the serial run."""
    run_rts = list(runtimes)
    ids = {rt.id for rt in run_rts}
    for t in targets:
        base = os.path.basename(t)
        if not base.endswith(".whl"):
            continue
        # packaging.utils imports packaging.tags (subprocess, logging, sysconfig): wheels only
        from packaging.utils import InvalidWheelFilename, parse_wheel_filename

        try:
            tags = parse_wheel_filename(base)[3]
        except InvalidWheelFilename:
            continue
        for rt in runtimes_for_wheel(sorted({tag.platform for tag in tags}), runtimes, catalogue):
            if rt.id not in ids:
                ids.add(rt.id)
                run_rts.append(rt)
    return run_rts


def default_targets(installed: Sequence[Runtime]) -> list[str]:
    """The site directories of every installed runtime (``purelib``, ``platlib`` and the
    ``site-packages``/``dist-packages`` entries of ``sys.path``) that exist, de-duplicated."""
    seen: list[str] = []
    for rt in installed:
        cands = [rt.purelib, rt.platlib] + [
            p for p in rt.sys_path if p.endswith(("site-packages", "dist-packages"))
        ]
        for c in cands:
            if c and os.path.isdir(c):
                real = os.path.realpath(c)
                if real not in seen:
                    seen.append(real)
    return seen


@dataclass(frozen=True)
class MatrixRow:
    """How one runtime fares with one artifact.

    Attributes:
        runtime: the runtime.
        usable: files it can use; total: files judged (every kind but ``other``).
        verdict: ``"full"``, ``"partial"`` or ``"none"`` (``"n/a"`` when nothing was judged).
        reason: why not, for the first file it cannot use (None when full).
        example: that file's path.
    """

    runtime: Runtime
    usable: int
    total: int
    verdict: str
    reason: str | None
    example: str | None


def matrix(result: ArtifactResult, runtimes: Sequence[Runtime]) -> list[MatrixRow]:
    """The runtime compatibility matrix of one artifact, in the order of ``runtimes`` (the
    artifact's own runtimes instead when it was judged against another platform's)."""
    if result.runtimes is not None:
        runtimes = result.runtimes
    judged = result.judgement.usable
    # Files share verdict sets (see judge()): count per distinct set, not per file x runtime.
    count: dict[frozenset[str], int] = {}
    first: dict[frozenset[str], str] = {}
    for p, ok in judged.items():
        if ok in count:
            count[ok] += 1
        else:
            count[ok], first[ok] = 1, p
    order = {p: i for i, p in enumerate(first.values())}
    total = len(judged)
    rows = []
    for rt in runtimes:
        n = sum(c for ok, c in count.items() if rt.id in ok)
        reason = example = None
        misses = [first[ok] for ok in count if rt.id not in ok]
        if misses:
            example = min(misses, key=order.__getitem__)
            reason = result.judgement.reasons[example][rt.id]
        verdict = "n/a" if total == 0 else "full" if n == total else "none" if n == 0 else "partial"
        rows.append(MatrixRow(rt, n, total, verdict, reason, example))
    return rows
