"""Install, remove and verify distributions in a shared site.

Acceptance (:func:`acceptance`): a wheel is installed only if every target runtime can use it.
Two checks, both per runtime:

* its wheel tags (PEP 425, the file name) against the tags that runtime accepts on this
  machine, generated with ``packaging.tags`` (``cpython_tags`` + ``compatible_tags`` for the
  runtime's version and ABI, ``platform_tags()`` of this host): a ``cp312-cp312`` wheel is not
  for 3.8, a ``cp39-abi3`` wheel is not for 3.8 (stable-ABI baseline above it), any ``abi3``
  wheel is not for a free-threaded build (PEP 703);
* coinstall's own file verdicts (:func:`coinstall.check.check_artifact`): Requires-Python of
  the metadata, extension-module suffixes, ELF machine and the stable-ABI symbols each
  runtime exports.

Stable-ABI files carry no architecture in their name (``_rust.abi3.so``, PEP 3149/384), so two
architectures' builds would collide in one directory: a shared site is bound to the
architecture (multiarch triplet) of its first target, and a wheel for another one is refused.

Installation (:func:`install`) stages every accepted wheel with pypa ``installer`` into a work
directory inside the site, has every target runtime compile the staged sources itself
(``py_compile`` in a subprocess: each writes its own ``__pycache__/*.<cache tag>.pyc``), checks
that no staged path exists in the site, and moves everything into place in one transaction
(:meth:`coinstall.share.site.SharedSite.commit`).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import installer
from installer.destinations import SchemeDictionaryDestination
from installer.records import RecordEntry
from installer.sources import WheelFile
from installer.utils import Scheme
from packaging import tags as ptags
from packaging.metadata import parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from coinstall.artifacts import ArtifactError
from coinstall.check import check_artifact, matrix
from coinstall.files.extension import WHEEL_ARCH_TRIPLET
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes import run
from coinstall.runtimes.model import Runtime
from coinstall.share import resolve as resolve_mod
from coinstall.share.site import (
    DistRecord,
    SharedSite,
    ShareError,
    State,
    Target,
    _pause,
    owned_paths,
    plan_removal,
    runtimes_of,
)

#: Seconds one runtime may take to compile or import.
RUN_TIMEOUT = 600.0

# --------------------------------------------------------------------------------------------
# Acceptance


@functools.cache
def supported_tags(rt: Runtime) -> frozenset[ptags.Tag]:
    """The wheel tags runtime ``rt`` (CPython or PyPy) accepts on this host
    (``packaging.tags``, as ``packaging.tags.sys_tags()`` would run inside it).

    CPython: ABI ``cp{XY}{flags}`` with the runtime's ``d``/``t`` flags (``m`` is gone from
    3.8 on); ``abi3`` from ``cpython_tags`` is dropped for free-threaded builds, which cannot
    load stable-ABI extensions (PEP 703, PEP 803).  PyPy: ``generic_tags`` with interpreter
    ``pp{XY}`` and the ABI from its SOABI (``pypy39-pp73`` -> ``pypy39_pp73``, packaging's
    ``_generic_abi``), no ``abi3`` (PyPy's ``EXTENSION_SUFFIXES`` has no ``.abi3.so``).  Both
    add ``compatible_tags`` (``py3-none-any`` ...).  Platforms: ``platform_tags()`` of this
    host, where every target runs.
    """
    ver = rt.version
    platforms = list(ptags.platform_tags())
    if rt.implementation == "pypy":
        pp = f"pp{ver[0]}{ver[1]}"
        abis = ["_".join((rt.soabi or "").split("-")[:2])] if rt.soabi else []
        return frozenset(
            [*ptags.generic_tags(pp, abis, platforms), *ptags.compatible_tags(ver, pp, platforms)]
        )
    interp = f"cp{ver[0]}{ver[1]}"
    flags = rt.abiflags.replace("m", "")
    out = set(ptags.cpython_tags(ver, abis=[interp + flags], platforms=platforms))
    if rt.free_threaded:
        out = {t for t in out if t.abi != "abi3"}
    out |= set(ptags.compatible_tags(ver, interp, platforms))
    return frozenset(out)


def _wheel_arch(wheel_tags: frozenset[ptags.Tag]) -> str | None:
    for t in wheel_tags:
        if t.platform == "any":
            return None
        for key, triplet in WHEEL_ARCH_TRIPLET.items():
            if t.platform.endswith("_" + key):
                return triplet
    return None


def tag_reasons(fname: str, runtimes: Sequence[Runtime], arch: str | None) -> dict[str, str]:
    """Why runtimes cannot use a wheel, from its file name alone (tags, architecture):
    ``runtime id -> reason``.  Raises ShareError for a name that is no wheel file name."""
    try:
        _, _, _, wtags = parse_wheel_filename(fname)
    except InvalidWheelFilename as exc:
        raise ShareError(f"{fname}: {exc}") from None
    reasons: dict[str, str] = {}
    tag_text = ".".join(sorted({str(t) for t in wtags}))
    warch = _wheel_arch(wtags)
    for rt in runtimes:
        if not wtags & supported_tags(rt):
            reasons[rt.id] = _tag_reason(wtags, tag_text, rt)
        elif arch and warch and warch != arch:
            reasons[rt.id] = (
                f"built for {warch}; this shared site holds {arch} files "
                "(abi3 file names carry no architecture)"
            )
    return reasons


def acceptance(path: str, runtimes: Sequence[Runtime], arch: str | None) -> dict[str, str]:
    """Why runtimes cannot use wheel ``path``: ``runtime id -> reason`` (empty: all can);
    :func:`tag_reasons` and then the first file each runtime cannot use, by coinstall's file
    verdicts (:func:`coinstall.check.matrix`).

    Raises:
        ShareError: the file is not a readable wheel.
    """
    reasons = tag_reasons(os.path.basename(path), runtimes, arch)
    try:
        result = check_artifact(path, runtimes, catalogue_mod.load())
    except ArtifactError as exc:
        raise ShareError(f"{path}: {exc}") from None
    for row in matrix(result, runtimes):
        if row.verdict in ("none", "partial"):
            why = f"{row.example}: {row.reason}"
            reasons[row.runtime.id] = (
                f"{reasons[row.runtime.id]}; {why}" if row.runtime.id in reasons else why
            )
    return reasons


def _tag_reason(wtags: frozenset[ptags.Tag], tag_text: str, rt: Runtime) -> str:
    """Why no tag of a wheel is one ``rt`` accepts, in the wheel's own terms."""
    abis = {t.abi for t in wtags}
    if "abi3" in abis:
        if rt.implementation == "pypy":
            return (
                f"stable-ABI (abi3) wheel; {rt.id} imports no .abi3.so (its extension "
                f"suffixes: {', '.join(rt.extension_suffixes)})"
            )
        if rt.free_threaded:
            return f"stable-ABI (abi3) wheel; free-threaded {rt.id} cannot load abi3 (PEP 703)"
        base = min(
            (
                int(t.interpreter[3:])
                for t in wtags
                if t.interpreter.startswith("cp3") and t.interpreter[3:].isdigit()
            ),
            default=None,
        )
        if base is not None and (3, base) > rt.version:
            return f"stable-ABI baseline 3.{base} is above {rt.version_str}"
    specific = sorted(a for a in abis if a.startswith(("cp", "pypy")))
    if specific:
        return (
            f"built for the version-specific ABI {', '.join(specific)} only (wheel tag {tag_text})"
        )
    return f"wheel tag {tag_text} does not match {rt.id} on this platform"


def _preference(fname: str) -> tuple[int, str]:
    """Order of candidate files of one version: pure first, then stable ABI, then others."""
    _, _, _, wtags = parse_wheel_filename(fname)
    if all(t.abi == "none" and t.platform == "any" for t in wtags):
        return (0, fname)
    if any(t.abi == "abi3" for t in wtags):
        return (1, fname)
    return (2, fname)


# --------------------------------------------------------------------------------------------
# Staging with installer


class _StageDestination(SchemeDictionaryDestination):
    """``installer`` destination that writes a wheel's ``purelib``/``platlib`` files into the
    staging root and records them; ``scripts``, ``headers`` and ``data`` are skipped (no single
    interpreter or prefix owns a shared site) and left out of ``RECORD``."""

    written: list[str]
    skipped: list[str]

    def write_to_fs(
        self, scheme: Scheme, path: str, stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        entry = super().write_to_fs(scheme, path, stream, is_executable)
        self.written.append(path)
        return entry

    def write_file(
        self, scheme: Scheme, path: str | os.PathLike[str], stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        if scheme not in ("purelib", "platlib"):
            self.skipped.append(f"{scheme}/{os.fspath(path)}")
            return RecordEntry(os.fspath(path), None, None)
        return super().write_file(scheme, path, stream, is_executable)

    def write_script(self, name: str, module: str, attr: str, section: str) -> RecordEntry:
        self.skipped.append(f"scripts/{name} ({section} entry point {module}:{attr})")
        return RecordEntry(name, None, None)

    def finalize_installation(self, scheme: Scheme, record_file_path: str, records: object) -> None:
        kept = [
            (s, r)
            for s, r in records  # type: ignore[attr-defined]
            if s in ("purelib", "platlib")
        ]
        super().finalize_installation(scheme, record_file_path, kept)


def stage_wheel(wheel: str, root: str) -> tuple[list[str], list[str]]:
    """Install ``wheel`` into staging directory ``root`` with pypa ``installer`` (RECORD
    hashes validated).  Returns ``(written paths relative to root, skipped members)``.

    Raises:
        ShareError: the wheel is invalid or a file it ships is already staged.
    """
    dest = _StageDestination(
        scheme_dict={
            "purelib": root,
            "platlib": root,
            "headers": os.path.join(root, ".skip"),
            "scripts": os.path.join(root, ".skip"),
            "data": os.path.join(root, ".skip"),
        },
        interpreter="/usr/bin/python3",
        script_kind="posix",
    )
    dest.written = []
    dest.skipped = []
    try:
        with WheelFile.open(Path(wheel)) as source:
            source.validate_record()
            installer.install(source, dest, {"INSTALLER": b"coinstall-share\n"})
    except FileExistsError as exc:
        raise ShareError(f"{os.path.basename(wheel)}: {exc} (two wheels ship it)") from None
    except Exception as exc:  # installer raises plain Exception subclasses for bad wheels
        raise ShareError(f"{os.path.basename(wheel)}: cannot install: {exc}") from None
    return dest.written, dest.skipped


_COMPILE = r"""
import json, py_compile, sys
out = {"written": [], "failed": []}
for src, dfile in json.load(sys.stdin):
    try:
        out["written"].append(py_compile.compile(src, dfile=dfile, doraise=True))
    except Exception as exc:
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        out["failed"].append([src, lines[-1]])
print(json.dumps(out))
"""


def compile_with(
    target: Target, pairs: Sequence[tuple[str, str]]
) -> tuple[list[str], list[tuple[str, str]]]:
    """Have ``target``'s interpreter byte-compile sources ``pairs`` of ``(staged path, final
    path)``, the final path embedded as ``co_filename`` (``py_compile.compile(dfile=)``).

    Returns ``(pyc paths written, [(source, error)])``: a source that runtime cannot compile
    is reported, not fatal (pip does the same).  Run by :func:`coinstall.runtimes.run.
    run_script` (no ``site``).  Raises ShareError if the interpreter fails.
    """
    try:
        proc = run.run_script(
            target.python, _COMPILE, stdin=json.dumps(list(pairs)), timeout=RUN_TIMEOUT
        )
        data = json.loads(proc.last_line())
        return ([str(p) for p in data["written"]], [(str(a), str(b)) for a, b in data["failed"]])
    except run.RunError as exc:
        raise ShareError(f"{target.id}: bytecode compilation failed: {exc.reason}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ShareError(f"{target.id}: bytecode compilation failed: no answer ({exc})") from None


# --------------------------------------------------------------------------------------------
# install


@dataclass
class Refusal:
    """A distribution that cannot be shared: ``reasons`` is ``runtime id -> why``;
    ``excluded``: not that a runtime cannot use the wheel, but that a distribution staying in
    the site requires a version range without this one (``install --upgrade``)."""

    name: str
    version: str
    wheel: str
    reasons: dict[str, str]
    excluded: bool = False


@dataclass
class InstallResult:
    """What ``share install`` did (or would not do).

    Attributes:
        installed: the new distributions (empty when anything was refused: all or nothing).
        present: ``name version`` strings already in the site.
        refused: the distributions no wheel of which every target can use.
        upgraded: ``(name, old version, new version)`` of the replaced distributions (they
            are in ``installed`` too).
        notes: choices worth telling (a pure build taken over version-specific ones, pins).
        compile_failures: ``target id -> [(path, error)]``.
        targets: the site's targets.
    """

    installed: list[DistRecord] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    upgraded: list[tuple[str, str, str]] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    compile_failures: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)


def _pure_cross_args(targets: Sequence[Target]) -> list[str]:
    low = min(t.version for t in targets)
    return [
        "--python-version",
        f"{low[0]}.{low[1]}",
        "--implementation",
        "py",
        "--abi",
        "none",
        "--platform",
        "any",
    ]


def _choose_all(
    picks: dict[str, dict[str, resolve_mod.Pick]],
    targets: Sequence[Target],
    runtimes: Sequence[Runtime],
    arch: str | None,
    dl: str,
    notes: list[str],
) -> tuple[list[tuple[str, dict[str, resolve_mod.Pick]]], list[Refusal]]:
    """For every project in ``picks``, the one wheel file every target can use.

    Per project: the files the runtimes picked, pure first, then stable ABI; the first whose
    tags every target accepts is downloaded.  If none is, the project's pure build is looked
    for (coinstall's pip, cross-target ``--implementation py --abi none --platform any``).
    Downloads are batched (one pip run per interpreter).  Every downloaded file then passes
    :func:`acceptance` or the project is refused.

    Returns ``([(wheel path, picks of it)], refusals)``.
    """
    python_of = {t.id: t.python for t in targets}
    by_url: dict[str, list[str]] = {}  # picker python -> urls
    want: dict[str, str] = {}  # project -> wheel file name (or "" for the pure fallback)
    first_reasons: dict[str, tuple[str, dict[str, str]]] = {}
    pure: list[str] = []
    refused: list[Refusal] = []
    for name, by_target in sorted(picks.items()):
        files: dict[str, tuple[resolve_mod.Pick, str]] = {}
        for tid, p in by_target.items():
            files.setdefault(p.filename, (p, python_of[tid]))
        for fname in sorted(files, key=_preference):
            reasons = tag_reasons(fname, runtimes, arch)
            if not reasons:
                p, py = files[fname]
                url = p.url if p.sha256 is None or "#" in p.url else f"{p.url}#sha256={p.sha256}"
                by_url.setdefault(py, []).append(url)
                want[name] = fname
                if len(files) > 1:
                    notes.append(
                        f"{p.display} {p.version}: runtimes picked {len(files)} "
                        f"different wheels; installing {fname}, which every target "
                        "can use"
                    )
                break
            first_reasons.setdefault(name, (fname, reasons))
        else:
            p0 = next(iter(by_target.values()))
            pure.append(f"{p0.display}=={p0.version}")
            want[name] = ""
    got: dict[str, str] = {}
    for py, urls in by_url.items():
        for path in resolve_mod.pip_download(urls, dl, python=py):
            got[str(parse_wheel_filename(os.path.basename(path))[0])] = path
    if pure:
        for path in resolve_mod.pip_download(pure, dl, _pure_cross_args(targets), missing_ok=True):
            got.setdefault(str(parse_wheel_filename(os.path.basename(path))[0]), path)
    chosen: list[tuple[str, dict[str, resolve_mod.Pick]]] = []
    for name, fname in want.items():
        by_target = picks[name]
        p0 = next(iter(by_target.values()))
        wheel = got.get(name)
        if fname == "" and (wheel is None or not wheel.endswith("-none-any.whl")):
            f, why = first_reasons[name]
            refused.append(Refusal(p0.display, p0.version, f, why))
            continue
        if wheel is None:
            raise ShareError(f"pip did not download {fname}")
        reasons = acceptance(wheel, runtimes, arch)
        if reasons:
            refused.append(Refusal(p0.display, p0.version, os.path.basename(wheel), reasons))
            continue
        if fname == "":
            kinds = sorted(
                {
                    "-".join(p.filename.removesuffix(".whl").split("-")[-3:-1])
                    for p in by_target.values()
                }
            )
            notes.append(
                f"{p0.display} {p0.version}: runtimes picked version-specific "
                f"wheels ({', '.join(kinds)}); installing its pure build "
                f"{os.path.basename(wheel)} for all (slower where the build was "
                "compiled, but one copy serves every runtime)"
            )
        chosen.append((wheel, by_target))
    return chosen, refused


def install(
    directory: str,
    requirements: Sequence[str],
    constraint_files: Sequence[str] = (),
    timeout: float = 60.0,
    progress: Callable[[str], None] | None = None,
    upgrade: bool = False,
) -> InstallResult:
    """Install ``requirements`` (requirement strings or wheel paths) into shared site
    ``directory`` for all its targets (see module docs).  All or nothing: if anything is
    refused, nothing is installed.

    ``upgrade``: pip resolves with ``--upgrade``, and a distribution already in the site at
    another version is replaced in the same transaction as the rest (its files and every
    runtime's bytecode of them move out, the new ones move in, then the state is committed;
    killed half-way, the next command rolls back to the old version).  A replacement is
    refused when a distribution staying in the site requires the project at a version that
    excludes the new one (:func:`excluded_by`).

    Phases, under the site's lock: local wheels' acceptance, resolution (pip, per runtime),
    what is new or replaced (:func:`_sort_picks`), exclusions by the distributions staying,
    choice and download (:func:`_choose_all`), staging (:func:`_stage_all`), every runtime's
    bytecode (:func:`_compile_all`), the moves (:func:`_plan_commit`), the commit.

    Raises:
        ShareError: not a shared site, lock timeout, pip failure, a distribution is installed
            at another version and ``upgrade`` is false, a staged path exists in the site
            (names its owner), an interpreter failure.
    """
    say = progress or (lambda _m: None)
    site = SharedSite(directory)
    result = InstallResult()
    with site.locked(timeout, waiting=say):
        state = site.load()
        targets = state.targets
        result.targets = list(targets)
        if not targets:
            raise ShareError(f"{site.dir}: no targets (run `coinstall share init`)")
        runtimes = runtimes_of([t.python for t in targets])
        reqs = _local_wheels(requirements, runtimes, state.arch, result)
        if result.refused:
            return result
        # The work directory holds the pins file too: a killed process leaves nothing in
        # /tmp, and the next command's sweep removes it (SharedSite.locked).
        txn, work = site.new_workdir()
        say(f"asking pip for {len(targets)} runtimes")
        res = resolve_mod.resolve(targets, reqs, constraint_files, work, upgrade=upgrade)
        for n, v in sorted(res.pins.items()):
            result.notes.append(f"{n} pinned to {v}, the version every runtime can take")
        todo, replacing = _sort_picks(res.picks, state, upgrade, result)
        if replacing:
            _refuse_excluded(site.dir, state, todo, replacing, result)
            if result.refused:
                return result
        say(f"choosing and downloading wheels of {len(todo)} distributions")
        chosen, refused = _choose_all(
            todo, targets, runtimes, state.arch, os.path.join(work, "download"), result.notes
        )
        result.refused.extend(refused)
        if result.refused or not chosen:
            return result
        stage = os.path.join(work, "stage")
        records = _stage_all(chosen, stage, say)
        _compile_all(targets, records, stage, site.dir, result, say)
        _pause("staged")
        moves, new_state = _plan_commit(site.dir, state, records, replacing, work, stage, result)
        say(f"moving {len(moves)} entries into place")
        site.commit(txn, moves, new_state)
        result.installed = records
    return result


def _local_wheels(
    requirements: Sequence[str],
    runtimes: Sequence[Runtime],
    arch: str | None,
    result: InstallResult,
) -> list[str]:
    """The requirements for pip: wheel files given by path made absolute, after their
    :func:`acceptance` (a refusal goes to ``result.refused``); other strings as given."""
    reqs: list[str] = []
    for r in requirements:
        if r.endswith(".whl") and os.path.exists(r):
            reasons = acceptance(r, runtimes, arch)
            if reasons:
                wname, wver, _, _ = parse_wheel_filename(os.path.basename(r))
                result.refused.append(Refusal(str(wname), str(wver), os.path.basename(r), reasons))
            reqs.append(os.path.abspath(r))
        else:
            reqs.append(r)
    return reqs


def _sort_picks(
    picks: dict[str, dict[str, resolve_mod.Pick]],
    state: State,
    upgrade: bool,
    result: InstallResult,
) -> tuple[dict[str, dict[str, resolve_mod.Pick]], dict[str, DistRecord]]:
    """``(to install, installed records they replace)`` of pip's ``picks`` (canonical name ->
    target id -> pick); those already in the site at the picked version go to
    ``result.present``.

    Raises:
        ShareError: one is installed at another version and ``upgrade`` is false.
    """
    todo: dict[str, dict[str, resolve_mod.Pick]] = {}
    replacing: dict[str, DistRecord] = {}
    for name, by_target in sorted(picks.items()):
        p0 = next(iter(by_target.values()))
        have = state.dists.get(name)
        if have is not None:
            if have.version == p0.version:
                result.present.append(f"{have.name} {have.version}")
                continue
            if not upgrade:
                raise ShareError(
                    f"{have.name} {have.version} is installed and "
                    f"{p0.version} is wanted: pass --upgrade to replace it"
                )
            replacing[name] = have
        todo[name] = by_target
    return todo, replacing


def _refuse_excluded(
    site_dir: str,
    state: State,
    todo: dict[str, dict[str, resolve_mod.Pick]],
    replacing: dict[str, DistRecord],
    result: InstallResult,
) -> None:
    """Refuse (``excluded``, in ``result.refused``) every replacement a distribution staying
    in the site excludes (:func:`excluded_by`)."""
    new_versions = {n: next(iter(todo[n].values())).version for n in replacing}
    for n, lines in excluded_by(
        site_dir, state, new_versions, staying=set(state.dists) - set(todo)
    ).items():
        p0 = next(iter(todo[n].values()))
        why: dict[str, str] = {}
        for tid, line in lines:
            why[tid] = f"{why[tid]}; {line}" if tid in why else line
        result.refused.append(Refusal(p0.display, p0.version, p0.filename, why, excluded=True))


def _stage_all(
    chosen: Sequence[tuple[str, dict[str, resolve_mod.Pick]]],
    stage: str,
    say: Callable[[str], None],
) -> list[DistRecord]:
    """Stage every chosen wheel (:func:`stage_wheel`) into ``stage``; one record each, with
    no bytecode yet."""
    records: list[DistRecord] = []
    for path, by_target in chosen:
        say(f"staging {os.path.basename(path)}")
        written, skipped = stage_wheel(path, stage)
        _, ver, _, _ = parse_wheel_filename(os.path.basename(path))
        p0 = next(iter(by_target.values()))
        records.append(
            DistRecord(
                name=p0.display,
                version=str(ver),
                wheel=os.path.basename(path),
                files=sorted(set(written)),
                skipped=skipped,
                needed_by=sorted(by_target),
            )
        )
    return records


def _compile_all(
    targets: Sequence[Target],
    records: list[DistRecord],
    stage: str,
    site_dir: str,
    result: InstallResult,
    say: Callable[[str], None],
) -> None:
    """Each runtime compiles the staged sources itself (:func:`compile_with`, four at a
    time); the pycs go to their distribution's ``bytecode[target id]``, sources a runtime
    cannot compile to ``result.compile_failures``."""
    pairs = [
        (os.path.join(stage, f), os.path.join(site_dir, f))
        for d in records
        for f in d.files
        if f.endswith(".py")
    ]
    say(f"compiling {len(pairs)} sources with {len(targets)} runtimes")
    with ThreadPoolExecutor(max_workers=min(4, len(targets))) as pool:
        compiled = list(pool.map(lambda t: compile_with(t, pairs), targets))
    src_owner = {f: i for i, d in enumerate(records) for f in d.files}
    for t, (pycs, failed) in zip(targets, compiled, strict=True):
        if failed:
            result.compile_failures[t.id] = [(os.path.relpath(s, stage), e) for s, e in failed]
        for pyc in pycs:
            rel = os.path.relpath(pyc, stage)
            src = _source_of(rel)
            owner = src_owner.get(src) if src else None
            if owner is not None:
                records[owner].bytecode.setdefault(t.id, []).append(rel)


def _plan_commit(
    site_dir: str,
    state: State,
    records: list[DistRecord],
    replacing: dict[str, DistRecord],
    work: str,
    stage: str,
    result: InstallResult,
) -> tuple[list[tuple[str, str]], State]:
    """The renames of the transaction (what a replacement takes away to the work directory's
    trash first, then the staged entries into the site) and the new state; replacements go
    to ``result.upgraded``.

    Raises:
        ShareError: a staged path exists in the site and is not going away (never
            overwritten; names its owner).
    """
    old_owned: set[str] = set()
    for have in replacing.values():
        old_owned |= owned_paths(site_dir, have)
    tops = plan_removal(site_dir, old_owned)

    def gone(rel: str) -> bool:
        return any(rel == t or rel.startswith(t + "/") for t in tops)

    # Never overwrite: every staged file must be new to the site (or be going away).
    owners = state.owners()
    clashes = []
    for d in records:
        for rel in d.all_paths():
            if os.path.lexists(os.path.join(site_dir, rel)) and not gone(rel):
                who = owners.get(rel)
                clashes.append(f"{rel} ({'owned by ' + who if who else 'not recorded'})")
    if clashes:
        raise ShareError(
            f"{len(clashes)} file(s) of the new set exist in the site, not "
            f"overwritten: {', '.join(clashes[:5])}"
            f"{' ...' if len(clashes) > 5 else ''}"
        )
    trash = os.path.join(work, "trash")
    moves = [(os.path.join(site_dir, t), os.path.join(trash, t)) for t in tops]
    moves += [
        (os.path.join(stage, rel), os.path.join(site_dir, rel))
        for rel in _plan_moves(stage, site_dir, "", gone)
    ]
    new_state = State(state.dir, state.arch, state.targets, dict(state.dists), state.txn)
    for n in replacing:
        del new_state.dists[n]
    for d in records:
        key = canonicalize_name(d.name)
        if key in replacing:
            result.upgraded.append((d.name, replacing[key].version, d.version))
        new_state.dists[key] = d
    return moves, new_state


def _source_of(pyc_rel: str) -> str | None:
    """``pkg/__pycache__/mod.cpython-312.pyc`` -> ``pkg/mod.py`` (PEP 3147 layout)."""
    d, base = os.path.split(pyc_rel)
    if os.path.basename(d) != "__pycache__":
        return None
    return os.path.join(os.path.dirname(d), base.split(".", 1)[0] + ".py")


def _plan_moves(
    stage: str, site: str, rel: str, gone: Callable[[str], bool] = lambda _r: False
) -> list[str]:
    """Top-most staged entries to rename into the site: an entry absent from the site (or
    ``gone``: moved away earlier in the same transaction) moves whole (one atomic rename for a
    new package directory); into an existing directory (``__pycache__``, a namespace package)
    its entries move one by one."""
    out: list[str] = []
    for name in sorted(os.listdir(os.path.join(stage, rel))):
        if not rel and name == ".skip":
            continue
        r = os.path.join(rel, name) if rel else name
        dst = os.path.join(site, r)
        if (
            os.path.isdir(dst)
            and not os.path.islink(dst)
            and not gone(r)
            and os.path.isdir(os.path.join(stage, r))
        ):
            out.extend(_plan_moves(stage, site, r, gone))
        else:
            out.append(r)
    return out


# --------------------------------------------------------------------------------------------
# remove


@dataclass
class RemoveResult:
    """``removed``: ``(name, version, number of paths taken away)`` per distribution."""

    removed: list[tuple[str, str, int]] = field(default_factory=list)


def _requirements_on(
    directory: str, state: State, names: set[str], staying: set[str]
) -> Iterator[tuple[DistRecord, Requirement, list[str]]]:
    """Every ``Requires-Dist`` of a distribution in ``staying`` (canonical names) that names
    one of ``names``, with the target ids for which its environment marker (PEP 508,
    ``packaging.markers``) holds in the target's own marker environment (empty list: for
    none).  Read from each distribution's installed ``METADATA``."""
    for key, d in sorted(state.dists.items()):
        if key not in staying:
            continue
        meta = [f for f in d.files if f.count("/") == 1 and f.endswith(".dist-info/METADATA")]
        if not meta:
            continue
        try:
            raw, _ = parse_email(Path(directory, meta[0]).read_bytes())
        except OSError:
            continue
        for text in raw.get("requires_dist", []):
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            if canonicalize_name(req.name) not in names:
                continue
            ids = [
                t.id
                for t in state.targets
                if req.marker is None
                or not t.markers
                or req.marker.evaluate({**t.markers, "extra": ""})
            ]
            yield d, req, ids


def dependents(directory: str, state: State, removing: set[str]) -> list[str]:
    """Which remaining distributions need one of ``removing`` (canonical names), and for
    which targets: each ``Requires-Dist`` of their ``METADATA`` whose environment marker
    (PEP 508, ``packaging.markers``) holds in a target's own marker environment.  Returns
    lines like ``"requests 2.32.3 requires idna<4,>=2.5 (cpython-3.8, ...)"``."""
    return [
        f"{d.name} {d.version} requires {req} ({', '.join(ids)})"
        for d, req, ids in _requirements_on(directory, state, removing, set(state.dists) - removing)
        if ids
    ]


def excluded_by(
    directory: str, state: State, new_versions: dict[str, str], staying: set[str]
) -> dict[str, list[tuple[str, str]]]:
    """Which replacements the distributions ``staying`` in the site exclude: ``canonical
    name -> [(target id, "requests 2.32.3 requires urllib3<3,>=1.21.1")]`` for every
    ``Requires-Dist`` on a project of ``new_versions`` (canonical name -> the version that
    would replace it) whose marker holds for the target and whose specifier does not contain
    the new version (PEP 440 ``SpecifierSet.contains``, pre-releases allowed as pip does for
    an explicitly requested pre-release).  Empty when nothing is excluded."""
    out: dict[str, list[tuple[str, str]]] = {}
    for d, req, ids in _requirements_on(directory, state, set(new_versions), staying):
        name = canonicalize_name(req.name)
        if req.specifier.contains(new_versions[name], prereleases=True):
            continue
        out.setdefault(name, []).extend(
            (tid, f"{d.name} {d.version} requires {req}") for tid in ids
        )
    return {n: lines for n, lines in out.items() if lines}


def remove(
    directory: str, names: Sequence[str], timeout: float = 60.0, force: bool = False
) -> RemoveResult:
    """Remove distributions ``names``: exactly their recorded files, the bytecode every runtime
    wrote for their sources, and the directories left holding nothing else; in one
    transaction (moved to the work directory, state saved, then deleted).

    Raises:
        ShareError: a name is not installed; a remaining distribution needs one for some
            target (:func:`dependents`) and ``force`` is false; lock timeout.
    """
    site = SharedSite(directory)
    out = RemoveResult()
    with site.locked(timeout):
        state = site.load()
        wanted = [canonicalize_name(n) for n in names]
        missing = [n for n, c in zip(names, wanted, strict=True) if c not in state.dists]
        if missing:
            raise ShareError(f"not installed in {site.dir}: {', '.join(missing)}")
        needed = dependents(site.dir, state, set(wanted))
        if needed and not force:
            raise ShareError(
                f"still needed: {'; '.join(needed)} (remove those too, or pass --force)"
            )
        owned: set[str] = set()
        for c in wanted:
            owned |= owned_paths(site.dir, state.dists[c])
        tops = plan_removal(site.dir, owned)
        txn, work = site.new_workdir()
        trash = os.path.join(work, "trash")
        moves = [(os.path.join(site.dir, t), os.path.join(trash, t)) for t in tops]
        new_state = State(state.dir, state.arch, state.targets, dict(state.dists), state.txn)
        for c in wanted:
            d = new_state.dists.pop(c)
            out.removed.append((d.name, d.version, len(owned_paths(site.dir, d))))
        site.commit(txn, moves, new_state)
    return out


# --------------------------------------------------------------------------------------------
# verify


def top_level_modules(dist: DistRecord) -> list[str]:
    """The importable top-level names of ``dist``, from its recorded files: packages
    (directories holding sources or extensions), modules (``.py``) and extension modules
    (``name.<tag>.so``); metadata, ``__pycache__`` and ``.pth`` files are not modules."""
    names: set[str] = set()
    for f in dist.files:
        top, _, rest = f.partition("/")
        if top.endswith((".dist-info", ".data")) or top == "__pycache__":
            continue
        if rest:
            if rest.endswith((".py", ".so")):
                names.add(top)
        elif top.endswith(".py"):
            names.add(top[:-3])
        elif top.endswith(".so"):
            names.add(top.split(".", 1)[0])
    return sorted(n for n in names if n.isidentifier())


_IMPORT = r"""
import importlib, json, sys
out = {}
for name in json.load(sys.stdin):
    try:
        m = importlib.import_module(name)
        f = getattr(m, "__file__", None) or (list(getattr(m, "__path__", [])) or [""])[0]
        out[name] = [True, f]
    except BaseException as exc:
        out[name] = [False, "%s: %s" % (type(exc).__name__, exc)]
print(json.dumps(out))
"""


@dataclass
class Cell:
    """One module under one runtime: ``ok``; ``origin`` (file imported, or the error);
    ``shared``: True when it came from the shared site (False: the runtime's own copy wins)."""

    ok: bool
    origin: str
    shared: bool


@dataclass
class VerifyResult:
    """``cells[module][target id]``; ``owner[module]``: its distribution."""

    targets: list[Target]
    cells: dict[str, dict[str, Cell]]
    owner: dict[str, str]

    @property
    def ok(self) -> bool:
        return all(c.ok for row in self.cells.values() for c in row.values())


def _import_with(target: Target, modules: Sequence[str], site_dir: str) -> dict[str, Cell]:
    """Import ``modules`` the way the runtime does for its users (``site`` and the user's
    site-packages on, :func:`coinstall.runtimes.run.run_script`: no bytecode written)."""
    try:
        proc = run.run_script(
            target.python,
            _IMPORT,
            stdin=json.dumps(list(modules)),
            timeout=RUN_TIMEOUT,
            site=True,
            user_site=True,
        )
        data = json.loads(proc.last_line())
    except run.RunError as exc:
        return {m: Cell(False, f"interpreter failed: {exc.reason}", False) for m in modules}
    except ValueError:
        return {m: Cell(False, "interpreter failed: no answer", False) for m in modules}
    prefix = os.path.realpath(site_dir) + os.sep
    return {
        m: Cell(
            bool(ok), str(origin), bool(ok) and os.path.realpath(str(origin)).startswith(prefix)
        )
        for m, (ok, origin) in data.items()
    }


def verify(directory: str, timeout: float = 60.0) -> VerifyResult:
    """Import every top-level module of every distribution with every target runtime, each in
    its own subprocess (no bytecode written: ``PYTHONDONTWRITEBYTECODE``).

    Raises:
        ShareError: not a shared site; lock timeout.
    """
    site = SharedSite(directory)
    with site.locked(timeout):
        state = site.load()
    owner = {m: d.name for d in state.dists.values() for m in top_level_modules(d)}
    modules = sorted(owner)
    with ThreadPoolExecutor(max_workers=min(4, max(1, len(state.targets)))) as pool:
        per = list(pool.map(lambda t: _import_with(t, modules, site.dir), state.targets))
    cells: dict[str, dict[str, Cell]] = {m: {} for m in modules}
    for t, res in zip(state.targets, per, strict=True):
        for m, c in res.items():
            cells[m][t.id] = c
    return VerifyResult(list(state.targets), cells, owner)
