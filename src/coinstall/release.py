"""``coinstall check --release``: the coverage grid of one release's wheels.

For every runtime line (CPython 3.8 ... 3.15, the free-threaded 3.13t-3.15t, PyPy 3.9-3.11)
and every platform (:data:`coinstall.runtimes.platforms.DEFAULT_GRID` plus any other platform a
wheel names), the grid says which wheel an installer picks and what kind it is: version-specific
(``cp312-cp312``), stable ABI (``cp39-abi3``), pure (``py3-none-any``) or an interpreter-generic
binary (``py3-none-win_amd64``); or that no wheel serves the cell (a source build would be
needed), or that Requires-Python excludes the runtime.  The installer's choice is modelled
as pip makes it (pip ``models/wheel.py``: a wheel is supported if one of its tags is in the
runtime's ordered tag list; the earliest position wins), with the tag lists made by
:mod:`packaging.tags` (``cpython_tags``/``generic_tags`` + ``compatible_tags``) for each
platform's tags: ``manylinux_2_Y``/legacy aliases and ``linux_<arch>`` (PEP 600, PEP 599),
``musllinux_1_Y`` (PEP 656), ``packaging.tags.mac_platforms`` (universal2 included), the one
Windows tag.

Each cell also carries the check engine's verdict for the serving wheel on that runtime of that
platform (its files judged by the catalogue's suffix lists, Mach-O/PE/ELF headers and
stable-ABI symbols), so a wheel whose tags promise more than its files hold shows.

Inconsistencies reported: a free-threaded wheel (``cp313t``) for a platform with no wheel for
the GIL build of that version; a free-threaded cell left to a source build where its GIL twin has
a wheel (an ``abi3`` wheel is never picked for a ``t`` build: the cell's reason says so — the
wheel is not broken; ``cp315-abi3.abi3t``, PEP 803, serves both builds of 3.15+); an interpreter
tag no installer accepts (``cp315t-abi3t``, ``cp314t-abi3t``); an abi3 wheel whose modules use
stable-ABI symbols newer than its ``cpXY`` tag (CPython ``Misc/stable_abi.toml`` via abi3info,
as abi3audit checks); a cell a wheel serves by its tags whose files that runtime cannot use;
several projects or versions given as one release; a ``linux_<arch>`` wheel (installers accept
it, PyPI refuses to upload it).

The engine knows no screen: :func:`grid` returns a :class:`Release`; ``report/release_*``
render it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags, generic_tags, mac_platforms
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from coinstall.check import CheckResult, check, matrix
from coinstall.config import Config
from coinstall.files.extension import parse_ext_name
from coinstall.runtimes.catalogue import Catalogue
from coinstall.runtimes.model import Runtime
from coinstall.runtimes.platforms import DEFAULT_GRID, Platform, platforms_of_tag, qualify
from coinstall.stable_abi import stable_abi_baseline

#: Newest glibc minor and musl minor tried for the Linux cells (a current distribution; a
#: wheel tagged for an older one is accepted too, PEP 600/656).
GLIBC_NEWEST = 45
MUSL_NEWEST = 9
#: The macOS version whose tag list is used (every older macosx tag is accepted;
#: packaging.tags.mac_platforms).
MACOS_NEWEST = (26, 0)
_LEGACY = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}

#: Cell statuses, in the order a legend lists them.
STATUSES = ("version-specific", "abi3", "generic", "pure", "excluded", "none")


@dataclass(frozen=True)
class GridRuntime:
    """One row of the grid: a runtime line.

    Attributes:
        key: ``cp312``, ``cp313t``, ``pp310``.
        label: ``CPython 3.12``, ``CPython 3.13t (free-threaded)``, ``PyPy 3.10``.
        implementation: ``cpython`` or ``pypy``.
        version: ``(3, 12)``.
        free_threaded: True for ``t`` builds.
        runtime_id: the catalogue runtime id it corresponds to (``cpython-3.13t``,
            ``pypy-3.10-pp73``), before platform qualification.
    """

    key: str
    label: str
    implementation: str
    version: tuple[int, int]
    free_threaded: bool
    runtime_id: str

    def tags(self, platforms: Sequence[str]) -> list[Tag]:
        """The ordered tags this runtime accepts on ``platforms`` (packaging.tags)."""
        xy = f"{self.version[0]}{self.version[1]}"
        if self.implementation == "pypy":
            interp = f"pp{xy}"
            return [
                *generic_tags(interp, [f"pypy{xy}_pp73"], platforms),
                *compatible_tags(self.version, interp, platforms),
            ]
        abi = f"cp{xy}{'t' if self.free_threaded else ''}"
        return [
            *cpython_tags(self.version, [abi], platforms),
            *compatible_tags(self.version, f"cp{xy}", platforms),
        ]


def _cp(minor: int, ft: bool = False) -> GridRuntime:
    t = "t" if ft else ""
    label = f"CPython 3.{minor}{t}" + (" (free-threaded)" if ft else "")
    return GridRuntime(f"cp3{minor}{t}", label, "cpython", (3, minor), ft, f"cpython-3.{minor}{t}")


def _pp(minor: int) -> GridRuntime:
    return GridRuntime(
        f"pp3{minor}", f"PyPy 3.{minor}", "pypy", (3, minor), False, f"pypy-3.{minor}-pp73"
    )


#: The rows: CPython 3.8-3.15, free-threaded 3.13t-3.15t (PEP 703; 3.15t with the abi3t
#: stable ABI, PEP 803), PyPy 7.3 for 3.9-3.11.
GRID_RUNTIMES: tuple[GridRuntime, ...] = (
    *(_cp(m) for m in range(8, 16)),
    _cp(13, True),
    _cp(14, True),
    _cp(15, True),
    _pp(9),
    _pp(10),
    _pp(11),
)

#: A wheel's interpreter tag naming a free-threaded build (``cp315t``, ``cp314t``): no installer
#: generates it — the interpreter tag is ``cpXY`` for both builds, the ABI tag tells the build
#: (``cp315-cp315t``, ``cp315-abi3.abi3t``; packaging.tags.cpython_tags, PEP 803 "Wheel tags";
#: the mistake shipped by scikit-build-core, issues #1378/#1380/#1556).
_FT_INTERPRETER = re.compile(r"cp\d+t")


def platform_tags(p: Platform) -> list[str]:
    """The platform tags a current machine of ``p`` accepts, most preferred first."""
    if p.system == "win32":
        return [p.arch]
    if p.system == "darwin":
        return list(mac_platforms(MACOS_NEWEST, p.arch))
    arch = p.arch
    # packaging.tags._linux_platforms (packaging 26): linux_<arch> first, then the manylinux
    # tags (glibc) and the musllinux tags (musl) — on either libc, so a musl machine accepts a
    # linux_x86_64 wheel as a glibc one does
    if p.key.startswith("musllinux"):
        return [f"linux_{arch}", *(f"musllinux_1_{m}_{arch}" for m in range(MUSL_NEWEST, -1, -1))]
    out = [f"linux_{arch}"]
    floor = 5 if arch in ("x86_64", "i686") else 17
    for m in range(GLIBC_NEWEST, floor - 1, -1):
        out.append(f"manylinux_2_{m}_{arch}")
        if m in _LEGACY:
            out.append(f"{_LEGACY[m]}_{arch}")
    return out


@dataclass(frozen=True)
class WheelEntry:
    """One wheel of the release.

    Attributes:
        path: as given; filename: its base name; project, version: from the file name.
        tags: its expanded tags (``cp312-cp312-win_amd64``), sorted.
        requires_python: METADATA's Requires-Python text, None if absent.
        baseline: for an abi3 wheel, the newest stable-ABI version its modules need
            (``(3, 10)``), with the module that needs it; None otherwise or when unknown.
    """

    path: str
    filename: str
    project: str
    version: str
    tags: tuple[str, ...]
    requires_python: str | None = None
    baseline: tuple[tuple[int, int], str] | None = None


class CellJSON(TypedDict):
    """A ``cells[]`` object of the ``release`` JSON (:meth:`Cell.to_json`)."""

    runtime: str
    platform: str
    status: str
    wheel: str | None
    tag: str | None
    verdict: str | None
    reason: str | None


class InconsistencyJSON(TypedDict):
    """An ``inconsistencies[]`` object of the ``release`` JSON."""

    kind: str
    wheel: str | None
    message: str
    severity: str


class ReleaseWheelJSON(TypedDict):
    """A ``wheels[]`` object of the ``release`` JSON."""

    file: str
    path: str
    tags: list[str]
    requires_python: str | None
    abi3_baseline: str | None  # "3.9"


class KeyLabelJSON(TypedDict):
    """A ``runtimes[]`` or ``platforms[]`` object of the ``release`` JSON."""

    key: str
    label: str


class ReleaseErrorJSON(TypedDict):
    """An ``errors[]`` object: a file that could not be read."""

    path: str
    message: str


class ReleaseJSON(TypedDict):
    """The ``release`` object of the JSON report (docs/json-format.md)."""

    project: str
    versions: list[str]
    wheels: list[ReleaseWheelJSON]
    runtimes: list[KeyLabelJSON]
    platforms: list[KeyLabelJSON]
    cells: list[CellJSON]
    counts: dict[str, int]
    inconsistencies: list[InconsistencyJSON]
    sdists: list[str]
    errors: list[ReleaseErrorJSON]


@dataclass(frozen=True)
class Cell:
    """One (runtime, platform) cell.

    Attributes:
        runtime, platform: the row and column keys.
        status: one of :data:`STATUSES`: ``version-specific``, ``abi3``, ``generic``
            (``py3-none-<platform>``), ``pure``, ``excluded`` (only wheels whose
            Requires-Python excludes the runtime match) or ``none`` (no wheel: a source build).
        wheel: the serving wheel's file name (for ``excluded``: the excluded one), else None.
        tag: the tag by which it is chosen (``cp39-abi3-win_amd64``).
        verdict: the check engine's verdict for that wheel on this runtime: ``full``,
            ``partial``, ``none``; None when not judged.
        reason: why not full (the first file the runtime cannot use), or why excluded.
    """

    runtime: str
    platform: str
    status: str
    wheel: str | None = None
    tag: str | None = None
    verdict: str | None = None
    reason: str | None = None

    def to_json(self) -> CellJSON:
        return {
            "runtime": self.runtime,
            "platform": self.platform,
            "status": self.status,
            "wheel": self.wheel,
            "tag": self.tag,
            "verdict": self.verdict,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Inconsistency:
    """Something in the release that contradicts itself.

    Attributes:
        kind: ``free-threaded-without-gil``, ``free-threaded-source-only`` (a ``t`` cell
            with no wheel where its GIL twin has a binary one), ``tag-no-installer-accepts``
            (an interpreter tag ``cp315t``/``cp314t``), ``abi3-baseline-newer-than-tag``,
            ``tag-files-disagree``, ``mixed-release``, ``platform-tag-not-on-pypi`` (a
            ``linux_<arch>`` wheel: PyPI refuses the upload, warehouse
            ``forklift/legacy.py``).
        wheel: the wheel concerned (None for the release as a whole).
        message: one line.
        severity: ``"error"`` (the release contradicts itself: exit status 1) or ``"note"``
            (a gap users meet, not a contradiction: ``free-threaded-source-only`` — pip
            builds those cells from the sdist, as for any platform without a wheel).
    """

    kind: str
    wheel: str | None
    message: str
    severity: str = "error"

    def to_json(self) -> InconsistencyJSON:
        return {
            "kind": self.kind,
            "wheel": self.wheel,
            "message": self.message,
            "severity": self.severity,
        }


@dataclass
class Release:
    """The grid of one release.  ``cells[(runtime key, platform key)]``."""

    project: str
    versions: list[str]
    wheels: list[WheelEntry]
    runtimes: list[GridRuntime]
    platforms: list[Platform]
    cells: dict[tuple[str, str], Cell]
    inconsistencies: list[Inconsistency]
    errors: list[tuple[str, str]] = field(default_factory=list)
    #: the sdists given with the wheels (file names): what the ``none`` cells would build from
    sdists: list[str] = field(default_factory=list)

    def cell(self, runtime: str, platform: str) -> Cell:
        """The cell of a runtime key and a platform key (KeyError when the release has no
        wheels: then there is no grid)."""
        return self.cells[(runtime, platform)]

    def counts(self) -> dict[str, int]:
        """Cells per status."""
        out = dict.fromkeys(STATUSES, 0)
        for c in self.cells.values():
            out[c.status] += 1
        return out

    def to_json(self) -> ReleaseJSON:
        """The ``release`` object of the JSON report (docs/json-format.md)."""
        return {
            "project": self.project,
            "versions": self.versions,
            "wheels": [
                {
                    "file": w.filename,
                    "path": w.path,
                    "tags": list(w.tags),
                    "requires_python": w.requires_python,
                    "abi3_baseline": (
                        f"{w.baseline[0][0]}.{w.baseline[0][1]}" if w.baseline else None
                    ),
                }
                for w in self.wheels
            ],
            "runtimes": [{"key": r.key, "label": r.label} for r in self.runtimes],
            "platforms": [{"key": p.key, "label": p.label} for p in self.platforms],
            "cells": [
                self.cells[(r.key, p.key)].to_json()  # none without wheels
                for r in self.runtimes
                for p in self.platforms
                if self.cells
            ],
            "counts": self.counts(),
            "inconsistencies": [i.to_json() for i in self.inconsistencies],
            "sdists": self.sdists,
            "errors": [{"path": p, "message": m} for p, m in self.errors],
        }


_SDIST_ENDINGS = (".tar.gz", ".zip")


def expand_targets(targets: Iterable[str]) -> list[str]:
    """Wheel and sdist paths from files and directories (a directory's ``*.whl``,
    ``*.tar.gz`` and ``*.zip``, sorted)."""
    out: list[str] = []
    for t in targets:
        if os.path.isdir(t):
            out += sorted(
                os.path.join(t, n) for n in os.listdir(t) if n.endswith((".whl", *_SDIST_ENDINGS))
            )
        else:
            out.append(t)
    return out


def _kind(tag: Tag) -> str:
    if tag.abi in ("abi3", "abi3t"):
        return "abi3"
    if tag.abi == "none":
        return "pure" if tag.platform == "any" else "generic"
    return "version-specific"


def _admits(spec: str | None, version: tuple[int, int]) -> bool:
    if not spec:
        return True
    try:
        s = SpecifierSet(spec)
    except InvalidSpecifier:
        return True
    return any(
        s.contains(f"{version[0]}.{version[1]}.{micro}", prereleases=True) for micro in (0, 999)
    )


def _baseline(result_records: Iterable[Any]) -> tuple[tuple[int, int], str] | None:
    best: tuple[tuple[int, int], str] | None = None
    for r in result_records:
        if r.kind != "extension":
            continue
        obj = r.elf if r.elf is not None else r.binary
        if obj is None or not obj.symbols_read:
            continue
        # a version-specific module is read for its own verdict; its symbols say nothing of
        # the stable-ABI baseline (wheel-tag-module-mismatch reports it in an abi3 wheel)
        name = parse_ext_name(r.path.rsplit("/", 1)[-1])
        if name is not None and name.kind == "soabi":
            continue
        if r.binary is not None and r.binary.format == "pe" and not r.binary.stable_abi:
            continue
        base = stable_abi_baseline(obj.python_imports)
        if base is not None and (best is None or base > best[0]):
            best = (base, r.path)
    return best


def _rows(result: CheckResult) -> dict[str, dict[str, tuple[str, str | None]]]:
    """wheel path -> runtime id -> (verdict, reason)."""
    out: dict[str, dict[str, tuple[str, str | None]]] = {}
    for a in result.artifacts:
        rows: dict[str, tuple[str, str | None]] = {}
        for row in matrix(a, result.runtimes):
            reason = f"{row.example}: {row.reason}" if row.reason and row.example else None
            rows.setdefault(row.runtime.id.split("@", 1)[0], (row.verdict, reason))
        out[a.info.path] = rows
    return out


def grid(
    targets: Sequence[str],
    runtimes: Sequence[Runtime],
    catalogue: Catalogue,
    config: Config | None = None,
) -> Release:
    """Build the coverage grid of the wheels in ``targets`` (files or directories).

    The wheels are checked with :func:`coinstall.check.check` (each against its own
    platforms' runtimes) for the verdicts and the abi3 baselines; a target that is not a
    readable wheel is listed in :attr:`Release.errors` and left out of the grid.
    """
    paths = expand_targets(targets)
    errors: list[tuple[str, str]] = []
    parsed: list[tuple[str, str, str, frozenset[Tag]]] = []
    sdists: list[str] = []
    for p in paths:
        base = os.path.basename(p)
        if base.endswith(_SDIST_ENDINGS):
            try:  # PEP 625 names; only the name is read (a source build is never run)
                parse_sdist_filename(base)
            except InvalidSdistFilename as exc:
                errors.append((p, f"not a valid sdist file name: {exc}"))
                continue
            sdists.append(base)
            continue
        if not base.endswith(".whl"):
            errors.append((p, "not a wheel (a release grid reads .whl files)"))
            continue
        try:
            wname, wversion, _build, tags = parse_wheel_filename(base)
        except InvalidWheelFilename as exc:
            errors.append((p, f"not a valid wheel file name: {exc}"))
            continue
        parsed.append((p, str(wname), str(wversion), tags))
    result = check([p for p, *_ in parsed], runtimes, catalogue, config)
    errors += [(e.path, e.message) for e in result.errors]
    by_path = {a.info.path: a for a in result.artifacts}
    wheels: list[WheelEntry] = []
    for p, name, version, tags in parsed:
        a = by_path.get(p)
        if a is None:
            continue
        abi3 = any(t.abi in ("abi3", "abi3t") for t in tags)
        wheels.append(
            WheelEntry(
                p,
                os.path.basename(p),
                name,
                version,
                tuple(sorted(str(t) for t in tags)),
                a.info.fields.get("Requires-Python"),
                _baseline(a.records) if abi3 else None,
            )
        )
    platforms = list(DEFAULT_GRID)
    for w in wheels:
        for t in w.tags:
            for plat in platforms_of_tag(t.rsplit("-", 1)[1]):
                if plat not in platforms:
                    platforms.append(plat)
    verdicts = _rows(result)
    cells: dict[tuple[str, str], Cell] = {}
    tag_index: dict[str, list[WheelEntry]] = {}
    for w in wheels:
        for t in w.tags:
            tag_index.setdefault(t, []).append(w)
    for rt in GRID_RUNTIMES if wheels else ():  # no wheels: no grid (not a grid of "source")
        for plat in platforms:
            cells[(rt.key, plat.key)] = _cell(rt, plat, tag_index, verdicts, wheels)
    _explain_free_threaded_sources(cells, platforms)
    projects = sorted({w.project for w in wheels})
    versions = sorted({w.version for w in wheels})
    release = Release(
        projects[0] if len(projects) == 1 else ", ".join(projects),
        versions,
        wheels,
        list(GRID_RUNTIMES),
        platforms,
        cells,
        [],
        errors,
        sdists,
    )
    release.inconsistencies = list(_inconsistencies(release, projects))
    return release


def _cell(
    rt: GridRuntime,
    plat: Platform,
    tag_index: dict[str, list[WheelEntry]],
    verdicts: dict[str, dict[str, tuple[str, str | None]]],
    wheels: Sequence[WheelEntry],
) -> Cell:
    excluded: tuple[WheelEntry, Tag] | None = None
    for tag in rt.tags(platform_tags(plat)):
        for w in tag_index.get(str(tag), ()):
            if not _admits(w.requires_python, rt.version):
                excluded = excluded or (w, tag)
                continue
            rows = verdicts.get(w.path, {})
            # a pure wheel was judged by this machine's runtimes: its files do not depend on
            # the platform
            found = rows.get(qualify(rt.runtime_id, plat)) or rows.get(rt.runtime_id)
            verdict, reason = found if found else (None, None)
            return Cell(rt.key, plat.key, _kind(tag), w.filename, str(tag), verdict, reason)
    if excluded is not None:
        w, tag = excluded
        return Cell(
            rt.key,
            plat.key,
            "excluded",
            w.filename,
            str(tag),
            None,
            f"Requires-Python {w.requires_python} excludes {rt.label}",
        )
    specs = {w.requires_python for w in wheels}
    if wheels and None not in specs and not any(_admits(s, rt.version) for s in specs):
        # no wheel, but a source build would be refused as well
        return Cell(
            rt.key,
            plat.key,
            "excluded",
            None,
            None,
            None,
            f"Requires-Python {', '.join(sorted(s for s in specs if s))} excludes {rt.label}",
        )
    return Cell(rt.key, plat.key, "none")


def _explain_free_threaded_sources(
    cells: dict[tuple[str, str], Cell], platforms: Sequence[Platform]
) -> None:
    """Give a free-threaded ``none`` cell whose GIL twin has a binary wheel the reason: an
    ``abi3`` wheel is never picked for a ``t`` build (packaging.tags: ``abi3`` tags are not
    generated for a free-threaded ABI; PEP 703 — the build does not support the stable ABI; its
    own stable ABI, ``abi3t``, starts with 3.15, PEP 803), a version-specific one is of the other
    build.  The wheel is not broken: it is simply not for that runtime."""
    for rt in GRID_RUNTIMES:
        if not rt.free_threaded:
            continue
        gil = rt.key[:-1]
        for plat in platforms:
            cell, twin = cells.get((rt.key, plat.key)), cells.get((gil, plat.key))
            if (
                cell is None
                or twin is None
                or cell.status != "none"
                or twin.wheel is None
                or twin.status not in ("version-specific", "abi3", "generic")
            ):
                continue
            why = (
                f"pip would never pick {twin.wheel} for {rt.key}: an abi3 wheel is not for "
                "the free-threaded build (abi3t from 3.15, PEP 803)"
                if twin.status == "abi3"
                else f"{twin.wheel} is for the GIL build {gil} only"
            )
            cells[(rt.key, plat.key)] = Cell(rt.key, plat.key, "none", reason=why)


def _inconsistencies(release: Release, projects: list[str]) -> Iterator[Inconsistency]:
    if len(projects) > 1 or len(release.versions) > 1:
        yield Inconsistency(
            "mixed-release",
            None,
            f"the wheels are of {len(projects)} project(s) and "
            f"{len(release.versions)} version(s): "
            f"{', '.join(projects)} {', '.join(release.versions)}",
        )
    # free-threaded wheel without a wheel for the GIL build of the same version and platform
    told: set[tuple[str, str, str]] = set()
    for w in release.wheels:
        for text in w.tags:
            _interp, abi, plat_tag = text.split("-")
            if not (abi.startswith("cp") and abi.endswith("t")):
                continue
            gil = abi[:-1]
            for plat in platforms_of_tag(plat_tag):
                cell = release.cells.get((gil, plat.key))
                if (w.filename, abi, plat.key) in told:
                    continue
                told.add((w.filename, abi, plat.key))
                if cell is not None and cell.status in ("none", "excluded"):
                    yield Inconsistency(
                        "free-threaded-without-gil",
                        w.filename,
                        f"{w.filename} serves {abi} on {plat.label} but no wheel serves "
                        f"the GIL build {gil} there",
                    )
    for w in release.wheels:
        bad = sorted(
            {t.split("-")[0] for t in w.tags if _FT_INTERPRETER.fullmatch(t.split("-")[0])}
        )
        if bad:
            yield Inconsistency(
                "tag-no-installer-accepts",
                w.filename,
                f"{w.filename} has the interpreter tag {', '.join(bad)}: no installer accepts "
                "it (the interpreter tag is cpXY for both builds, the ABI tag names the "
                "free-threaded one: cpXY-cpXYt, or cp315-abi3.abi3t for the stable ABI of "
                "3.15+, PEP 803; packaging.tags.cpython_tags): it serves no cell",
            )
    for rt in release.runtimes:
        if not rt.free_threaded:
            continue
        lost = [
            p.label
            for p in release.platforms
            if (c := release.cells.get((rt.key, p.key))) is not None
            and c.status == "none"
            and c.reason
        ]
        if lost:
            yield Inconsistency(
                "free-threaded-source-only",
                None,
                f"{rt.label} needs a source build on {', '.join(lost)} where the GIL build "
                f"{rt.key[:-1]} has a wheel",
                severity="note",
            )
    for w in release.wheels:
        if w.baseline is None:
            continue
        tagged = [t.split("-")[0] for t in w.tags if t.split("-")[1] in ("abi3", "abi3t")]
        vs = [(int(t[2]), int(t[3:])) for t in tagged if t[2:].isdigit() and len(t) >= 4]
        if not vs:
            continue
        tag_v = max(vs)
        (need, module) = w.baseline
        if need > tag_v:
            yield Inconsistency(
                "abi3-baseline-newer-than-tag",
                w.filename,
                f"{module} uses the {need[0]}.{need[1]} stable ABI but the wheel is tagged "
                f"cp{tag_v[0]}{tag_v[1]}-abi3: CPython {tag_v[0]}.{tag_v[1]} installs it",
            )
    for w in release.wheels:
        local = sorted(
            {t.rsplit("-", 1)[1] for t in w.tags if t.rsplit("-", 1)[1].startswith("linux_")}
        )
        if local:
            yield Inconsistency(
                "platform-tag-not-on-pypi",
                w.filename,
                f"{w.filename} is tagged {', '.join(local)}: installers on glibc and musl "
                "machines accept it, but PyPI refuses to upload it (only manylinux/musllinux "
                "Linux tags, warehouse forklift/legacy.py; PEP 513): it can only be served "
                "from another index or a --find-links directory",
            )
    seen: set[tuple[str, str]] = set()
    for cell in release.cells.values():
        if cell.wheel and cell.verdict in ("partial", "none") and cell.status != "excluded":
            key = (cell.wheel, cell.runtime)
            if key in seen:
                continue
            seen.add(key)
            yield Inconsistency(
                "tag-files-disagree",
                cell.wheel,
                f"{cell.wheel} is chosen for {cell.runtime} by tag {cell.tag}, but its files "
                f"say {cell.verdict}: {cell.reason}",
            )
