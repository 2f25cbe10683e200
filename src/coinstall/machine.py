"""The machine view of ``coinstall check`` with no target: the Pythons found, then only what
crosses runtimes or is wrong.

Built from a :class:`~coinstall.check.CheckResult` over the installed runtimes' site
directories (:func:`~coinstall.check.default_targets`) and the runtimes themselves; reads the
site directories' listings and the ``.pth`` files' bytes, runs nothing.  What it reports:

* one row per installed Python: id, executable, whether ``/usr/bin/python3`` starts it, its
  site directories, and how many distributions (``*.dist-info``, ``*.egg-info``) they hold;
* **shared trees**: a site directory on more than one installed runtime's ``sys.path``
  (Debian's ``/usr/lib/python3/dist-packages`` is on the path of the system python3.11, its
  debug build and Debian's pypy3), with what each of them can use there;
* **.pth hooks**: path lines of a ``.pth`` file (``site.addpackage``: a line that is not a
  comment and does not start with ``import`` is a directory appended to ``sys.path`` when it
  exists) that name another runtime's directory — one runtime importing modules installed for
  another;
* **foreign modules**: extension modules and bytecode in a tree that none of the runtimes whose
  path has the tree can use (built for, or compiled by, another runtime);
* the rules' findings on the trees.

Only :mod:`coinstall.report` renders it; :func:`to_json` is the ``machine`` object of the JSON
report (docs/json-format.md).
"""

from __future__ import annotations

import os
import posixpath
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypedDict

from coinstall.check import CheckResult
from coinstall.files.location import scope_of
from coinstall.rules import Finding, FindingJSON
from coinstall.runtimes.model import Runtime

#: The most bytes of one ``.pth`` file read (site.py reads it whole; a larger one is not a
#: path list anyone wrote by hand and is reported as such).
PTH_LIMIT = 1 << 20


def site_dirs(rt: Runtime) -> list[str]:
    """A runtime's site directories that exist, as real paths, in order: ``purelib``,
    ``platlib``, then the ``site-packages``/``dist-packages`` entries of its ``sys.path`` (the
    same candidates as :func:`coinstall.check.default_targets`)."""
    out: list[str] = []
    for c in [
        rt.purelib,
        rt.platlib,
        *(p for p in rt.sys_path if p.endswith(("site-packages", "dist-packages"))),
    ]:
        if c and os.path.isdir(c):
            real = os.path.realpath(c)
            if real not in out:
                out.append(real)
    return out


def _on_path(rt: Runtime) -> set[str]:
    """The real paths of a runtime's ``sys.path`` entries and site directories."""
    return {os.path.realpath(p) for p in rt.sys_path if p} | set(site_dirs(rt))


def _distributions(dirs: Sequence[str]) -> int:
    n = 0
    for d in dirs:
        try:
            with os.scandir(d) as it:
                n += sum(1 for e in it if e.name.endswith((".dist-info", ".egg-info")))
        except OSError:
            continue
    return n


@dataclass(frozen=True)
class PythonRow:
    """One installed Python: ``id``, ``executable``, ``default`` (``/usr/bin/python3`` starts
    it), its ``site_dirs`` (real paths) and the number of ``distributions`` installed there."""

    id: str
    executable: str
    default: bool
    site_dirs: tuple[str, ...]
    distributions: int


@dataclass(frozen=True)
class SharedTree:
    """A site directory on several installed runtimes' paths: ``path``; ``usable``: runtime id
    -> (files it can use, files judged); ``missing``: runtime id -> file kind -> how many of
    that kind it cannot use; ``example``: runtime id -> (file, why not) for the first file a
    runtime cannot use."""

    path: str
    usable: dict[str, tuple[int, int]]
    missing: dict[str, dict[str, int]]
    example: dict[str, tuple[str, str]]
    #: runtime id -> every extension module of the tree it cannot load, ``(file, why not)``,
    #: sorted: what a free-threaded build beside its GIL twin (a shared ``dist-packages``)
    #: cannot import there (abi3 modules, GIL builds' ``cpython-3XY`` modules), and the reverse.
    cannot_load: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class PthHook:
    """A ``.pth`` path line that puts another runtime's directory on a runtime's path.

    Attributes:
        pth: the ``.pth`` file's absolute path; line: the line as written.
        added: the directory it appends to ``sys.path`` (absolute, normalised).
        runtimes: the installed runtimes that process the ``.pth`` (its directory is one of
            their site directories).
        belongs_to: what the added directory is: the ids of the installed runtimes whose
            ``sys.path`` has it, or the versioned tree it lies in (``python3.12``).
    """

    pth: str
    line: str
    added: str
    runtimes: tuple[str, ...]
    belongs_to: tuple[str, ...]


@dataclass(frozen=True)
class ForeignFiles:
    """Files of one kind in one tree that no runtime with the tree on its path can use.

    Attributes:
        tree: the site directory; kind: ``extension`` or ``bytecode``.
        owners: the installed runtimes whose path has the tree.
        paths: the files (absolute), sorted.
        usable_by: for the first file, the runtimes (installed and known) that could use it.
        reason: why the first owner cannot use the first file.
    """

    tree: str
    kind: str
    owners: tuple[str, ...]
    paths: tuple[str, ...]
    usable_by: tuple[str, ...]
    reason: str


@dataclass
class MachineView:
    """Everything the machine view shows; see the module docstring."""

    pythons: list[PythonRow] = field(default_factory=list)
    shared: list[SharedTree] = field(default_factory=list)
    pth_hooks: list[PthHook] = field(default_factory=list)
    foreign: list[ForeignFiles] = field(default_factory=list)
    findings: list[tuple[str, Finding]] = field(default_factory=list)
    trees: int = 0


def _versioned_label(path: str) -> str | None:
    sc = scope_of(path.lstrip("/"))
    if sc.kind != "versioned" or sc.version is None:
        return None
    head = "python" if sc.implementation == "cpython" else "pypy"
    return f"{head}{sc.version[0]}.{sc.version[1]}{'t' if sc.free_threaded else ''}"


def _pth_hooks(pth: str, owners: list[Runtime], installed: Sequence[Runtime]) -> list[PthHook]:
    """The path lines of one ``.pth`` that reach a directory of another runtime than the ones
    processing it (CPython ``Lib/site.py`` ``addpackage``: ``#`` lines are comments, lines
    starting with ``import`` are executed, other lines are directories, relative to the
    ``.pth``'s directory, appended when they exist)."""
    try:
        with open(pth, "rb") as f:
            data = f.read(PTH_LIMIT)
    except OSError:
        return []
    sitedir = posixpath.dirname(pth)
    own_ids = {rt.id for rt in owners}
    own_versions = {(rt.implementation, rt.version) for rt in owners}
    out: list[PthHook] = []
    for raw in data.decode("utf-8", "replace").splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#") or line.startswith(("import ", "import\t")):
            continue
        added = posixpath.normpath(posixpath.join(sitedir, line))
        if not os.path.isdir(added):
            continue
        real = os.path.realpath(added)
        others = tuple(rt.id for rt in installed if rt.id not in own_ids and real in _on_path(rt))
        label = _versioned_label(real)
        sc = scope_of(real.lstrip("/"))
        foreign_tree = (
            sc.kind == "versioned"
            and sc.version is not None
            and (sc.implementation, sc.version) not in own_versions
        )
        if others or foreign_tree:
            belongs = others or ((label,) if label else ())
            out.append(PthHook(pth, line, real, tuple(sorted(own_ids)), belongs))
    return out


def machine_view(result: CheckResult, installed: Sequence[Runtime]) -> MachineView:
    """Build the :class:`MachineView` of a check of the installed runtimes' site directories.

    Args:
        result: the check of :func:`~coinstall.check.default_targets` (trees).
        installed: the installed runtimes, in discovery order.
    """
    view = MachineView()
    paths = {rt.id: _on_path(rt) for rt in installed}
    for rt in installed:
        dirs = site_dirs(rt)
        view.pythons.append(
            PythonRow(rt.id, rt.executable or "", rt.default, tuple(dirs), _distributions(dirs))
        )
    for a in result.artifacts:
        if a.info.format != "tree":
            continue
        view.trees += 1
        tree = os.path.realpath(a.info.path)
        owners = [rt for rt in installed if tree in paths[rt.id]]
        owner_ids = {rt.id for rt in owners}
        judged = a.judgement.usable
        if len(owners) > 1:
            usable = {
                rt.id: (sum(1 for ok in judged.values() if rt.id in ok), len(judged))
                for rt in owners
            }
            example: dict[str, tuple[str, str]] = {}
            missing: dict[str, dict[str, int]] = {}
            kinds: dict[str, str] = {r.path: r.kind for r in a.records}
            for rt in owners:
                lacking = Counter(kinds[p] for p, ok in judged.items() if rt.id not in ok)
                missing[rt.id] = dict(lacking)
                for p, ok in judged.items():
                    if rt.id not in ok:
                        example[rt.id] = (posixpath.join(tree, p), a.judgement.reasons[p][rt.id])
                        break
            cannot = {
                rt.id: tuple(
                    (posixpath.join(tree, p), a.judgement.reasons[p][rt.id])
                    for p in sorted(judged)
                    if kinds[p] == "extension" and rt.id not in judged[p]
                )
                for rt in owners
            }
            view.shared.append(
                SharedTree(tree, usable, missing, example, {k: v for k, v in cannot.items() if v})
            )
        for r in a.records:
            # site.addsitedir reads the .pth files at the top of a site directory only.
            if owners and r.path.endswith(".pth") and "/" not in r.path:
                view.pth_hooks += _pth_hooks(posixpath.join(tree, r.path), owners, installed)
        for kind in ("extension", "bytecode"):
            bad = sorted(
                r.path
                for r in a.records
                if r.kind == kind and owners and not judged.get(r.path, frozenset()) & owner_ids
            )
            if bad:
                first = bad[0]
                view.foreign.append(
                    ForeignFiles(
                        tree,
                        kind,
                        tuple(sorted(owner_ids)),
                        tuple(posixpath.join(tree, p) for p in bad),
                        tuple(sorted(judged.get(first, frozenset()))),
                        a.judgement.reasons[first][owners[0].id],
                    )
                )
        view.findings += [(tree, f) for f in a.findings]
    return view


class PythonJSON(TypedDict):
    """A ``machine.pythons[]`` object."""

    id: str
    executable: str
    default: bool
    site_dirs: list[str]
    distributions: int


class UsableJSON(TypedDict):
    """How many of a shared tree's files one runtime can use."""

    usable: int
    total: int


class FileReasonJSON(TypedDict):
    """A file and why a runtime cannot use it."""

    path: str
    reason: str


class SharedJSON(TypedDict):
    """A ``machine.shared[]`` object: a tree several runtimes have on their path."""

    path: str
    usable: dict[str, UsableJSON]  # runtime id ->
    missing: dict[str, dict[str, int]]
    example: dict[str, FileReasonJSON]  # runtime id -> its first unusable file
    cannot_load: dict[str, list[FileReasonJSON]]


class PthHookJSON(TypedDict):
    """A ``machine.pth_hooks[]`` object."""

    pth: str
    line: str
    added: str
    runtimes: list[str]
    belongs_to: list[str]


class ForeignJSON(TypedDict):
    """A ``machine.foreign[]`` object."""

    tree: str
    kind: str
    owners: list[str]
    paths: list[str]
    usable_by: list[str]
    reason: str


class MachineFindingJSON(FindingJSON):
    """A ``machine.findings[]`` object: a finding and the tree it is in."""

    tree: str


class MachineJSON(TypedDict):
    """The ``machine`` object of the JSON report (docs/json-format.md, "machine")."""

    pythons: list[PythonJSON]
    shared: list[SharedJSON]
    pth_hooks: list[PthHookJSON]
    foreign: list[ForeignJSON]
    findings: list[MachineFindingJSON]


def to_json(view: MachineView) -> MachineJSON:
    """The ``machine`` object of the JSON report (docs/json-format.md, "machine")."""
    return {
        "pythons": [
            {
                "id": p.id,
                "executable": p.executable,
                "default": p.default,
                "site_dirs": list(p.site_dirs),
                "distributions": p.distributions,
            }
            for p in view.pythons
        ],
        "shared": [
            {
                "path": s.path,
                "usable": {k: {"usable": u, "total": t} for k, (u, t) in s.usable.items()},
                "missing": s.missing,
                "example": {k: {"path": p, "reason": why} for k, (p, why) in s.example.items()},
                "cannot_load": {
                    k: [{"path": p, "reason": why} for p, why in v]
                    for k, v in s.cannot_load.items()
                },
            }
            for s in view.shared
        ],
        "pth_hooks": [
            {
                "pth": h.pth,
                "line": h.line,
                "added": h.added,
                "runtimes": list(h.runtimes),
                "belongs_to": list(h.belongs_to),
            }
            for h in view.pth_hooks
        ],
        "foreign": [
            {
                "tree": f.tree,
                "kind": f.kind,
                "owners": list(f.owners),
                "paths": list(f.paths),
                "usable_by": list(f.usable_by),
                "reason": f.reason,
            }
            for f in view.foreign
        ],
        "findings": [{"tree": t, **f.to_json()} for t, f in view.findings],
    }
