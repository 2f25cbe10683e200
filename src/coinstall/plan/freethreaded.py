"""``plan add 3.14t``: what a free-threaded stack beside its GIL twin costs a repository.

Every source whose binaries ship Python is put in one class, from its binaries' contents (file
lists: RPM ``filelists``, artifact members; else the Debian relations alone):

* ``version-specific``: an extension module tagged for a GIL build (``.cpython-314-...so``,
  PEP 3149) or, without a file list, a binary whose modules dh-python/RPM tie to versions
  (``python3 (<< 3.12)``, ``python(abi) = 3.11``): a rebuild for the free-threaded runtime,
  whose SOABI carries the ``t`` flag (``cpython-314t``; CPython ``configure.ac`` ABI_THREAD).
* ``abi3``: stable-ABI modules only (``.abi3.so``).  A free-threaded 3.13/3.14 lists
  ``.abi3.so`` among its suffixes but cannot load such a module (it crashes: PEP 803,
  ``files.extension.stable_abi_build_mismatch``); it needs a version-specific ``t`` build, or
  an ``abi3t`` build from 3.15 (PEP 803).  Listed apart, rebuilt in the same waves.
* ``untagged``: a ``NAME.so`` module in a Python directory: every CPython tries it; its
  imported symbols decide (``files.extension.untagged_mismatch``) when the artifact was read;
  a definite "cannot load" is a rebuild, an open verdict is ``cannot-tell`` with the evidence.
* ``pure``: Python files only.  Where the free-threaded runtime shares the GIL build's module
  directory this costs nothing; where it has its own, the package is rebuilt (installed
  again) there too.  The layout is the target distribution's (:data:`LAYOUTS`).
* ``ready``: already built for the free-threaded runtime (``.cpython-314t-...so``, an
  ``abi3t`` module on 3.15t, a ``python3.14t/`` directory); ``program``: no module, only
  programs using an interpreter (``python3.11``, ``/usr/bin/python3``): they keep running on
  the GIL build.
* ``unknown``: an architecture-dependent Debian binary with no version range and no file
  list: stable-ABI, untagged or no modules; the index alone cannot tell (give the artifacts).

Build order, bootstrap groups and statuses reuse :mod:`coinstall.plan.engine`.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from coinstall.files.extension import (
    CannotTell,
    ext_name,
    read_elf,
    stable_abi_build_mismatch,
    untagged_mismatch,
)
from coinstall.files.location import scope_of
from coinstall.names import Version
from coinstall.plan.engine import (
    _RUNTIME_SOURCE,
    BinaryPlan,
    LayoutJSON,
    Plan,
    SourcePlan,
    _built_for,
    has_source_index,
    python_evidence,
    vstr,
)
from coinstall.plan.evidence import BinaryEvidence, Classifier
from coinstall.plan.indices import BinaryRecord, Index
from coinstall.runtimes.catalogue import Catalogue
from coinstall.runtimes.model import Runtime

#: Classes, most costly first: a source takes the first class one of its binaries has.
CLASSES = ("version-specific", "abi3", "untagged", "unknown", "pure", "ready", "program", "runtime")

#: Where the free-threaded runtime finds packaged pure-Python modules, per index syntax.
#: Debian: dh-python installs public modules in ``/usr/lib/python3/dist-packages`` (Debian
#: Python Policy 1.5; ``dhpython/fs.py`` ``share_files``); the proposal for a ``python3.14t``
#: variant shares that directory, so only extension modules need a ``t`` build.  Fedora: the
#: free-threaded interpreter's site directories are its own, ``/usr/lib/python3.14t/
#: site-packages`` (purelib) and ``/usr/lib64/python3.14t/site-packages`` (platlib): CPython
#: ``Lib/sysconfig`` ``posix_prefix`` scheme ``python{py_version_short}{abi_thread}``, and
#: ``configure`` ``LIBDEST=.../python$(VERSION)$(ABI_THREAD)``; the ``python(abi)`` generator
#: does not match ``python3.14t`` directories (python-rpm-generators ``python.attr``).
LAYOUTS: dict[str, LayoutJSON] = {
    "deb": {
        "name": "debian-shared-dist-packages",
        "shared": True,
        "directory": "/usr/lib/python3/dist-packages",
        "note": "Debian: the proposed python3.Xt variant shares /usr/lib/python3/"
        "dist-packages with the GIL build: pure-Python packages need no build; "
        "only extension modules need a t build",
    },
    "rpm": {
        "name": "fedora-separate-site-packages",
        "shared": False,
        "directory": "/usr/lib64/python{v}t/site-packages",
        "note": "Fedora: python{v}t has its own /usr/lib/python{v}t/site-packages and "
        "/usr/lib64/python{v}t/site-packages: every Python package, pure ones "
        "included, is built (installed) there again",
    },
}

_ARTIFACT = (".deb", ".rpm", ".whl")
_SO = re.compile(r"\.so$")
#: A Debian ``python3`` relation without ``:any``.  dh-python (``dhpython/depends.py``; Debian
#: Python Policy; ../reference/debian.md "dh_python3 dependencies") writes ``python3:any`` for
#: byte-compiled ``.py`` files and shebangs, and the same-architecture ``python3`` only for
#: extension modules: version-specific ones get a ``<<`` bound, the others (stable-ABI,
#: untagged: ``ext_no_version``) a bare ``python3 (>= 3~)``.
_NON_ANY = re.compile(r"(?:^|[,|])\s*python3\s*(?:\([^)]*\)\s*)?(?=[,|]|$)")


def ft_runtime(catalogue: Catalogue, v: Version) -> Runtime | None:
    """The catalogue's free-threaded, non-debug CPython ``v`` (``cpython-3.14t``), or None."""
    for rt in catalogue.known():
        if (
            rt.implementation == "cpython"
            and rt.free_threaded
            and not rt.debug
            and (rt.version[0], rt.version[1]) == v
        ):
            return rt
    return None


def _judge(whole: Any, rt: Runtime) -> str | None:
    """The verdict of one untagged module's bytes for ``rt`` (None: loads)."""
    try:
        elf = read_elf(whole, symbols=True)
    except ValueError as e:
        return CannotTell(f"unreadable ELF ({e})")
    if elf is None:
        return CannotTell("not an ELF object")
    if not elf.python_imports:
        return CannotTell("imports no Python symbol: nothing tells its build")
    return untagged_mismatch(elf, rt)


def _untagged_verdicts(rec: BinaryRecord, paths: list[str], rt: Runtime) -> dict[str, str | None]:
    """``path -> reason`` (None: loads) for untagged modules, from the artifact's bytes.

    Only when ``rec`` was read from an artifact; a path whose bytes cannot be read gets a
    :class:`CannotTell`.  A module that is a symbolic (or hard) link is judged by its target
    when the target is in the same artifact (a second pass over it); a target outside it
    (another package's library) leaves the verdict open, saying so.  Never raises (any
    failure is the module's open verdict)."""
    from coinstall.artifacts import open_artifact

    out: dict[str, str | None] = {
        p: CannotTell("no artifact read: an index lists names, not symbols") for p in paths
    }
    if not (rec.origin.endswith(_ARTIFACT) and os.path.isfile(rec.origin)):
        return out
    want = {p.lstrip("/"): p for p in paths}
    links: dict[str, list[str]] = defaultdict(list)  # target (archive path) -> modules
    try:
        for m in open_artifact(rec.origin).members(lambda p, s: p.lstrip("/") in want):
            key = want.get(m.path.lstrip("/"))
            if key is None:
                continue
            if m.type in ("symlink", "hardlink") and m.link_target:
                t = m.link_target
                target = (
                    posixpath.normpath(posixpath.join(posixpath.dirname(m.path.lstrip("/")), t))
                    if m.type == "symlink" and not t.startswith("/")
                    else posixpath.normpath(t.lstrip("/").removeprefix("./"))
                )
                links[target].append(key)
                out[key] = CannotTell(
                    f"a link to /{target}, which is not in this package: "
                    "the file it points to decides"
                )
                continue
            whole = m.content if m.content is not None else m.spool
            if whole is not None:
                out[key] = _judge(whole, rt)
        if links:
            for m in open_artifact(rec.origin).members(lambda p, s: p.lstrip("/") in links):
                for key in links.get(m.path.lstrip("/"), []):
                    whole = m.content if m.content is not None else m.spool
                    if m.type == "file" and whole is not None:
                        out[key] = _judge(whole, rt)
    except Exception as e:  # one artifact's failure leaves its verdicts open
        for p in paths:
            if isinstance(out[p], CannotTell):
                out[p] = CannotTell(f"artifact unreadable ({type(e).__name__})")
    return out


def binary_class(ev: BinaryEvidence, rt: Runtime) -> tuple[str, list[str]]:
    """The class (:data:`CLASSES`) of one binary for free-threaded runtime ``rt``, and the
    evidence lines."""
    rec = ev.record
    v = (rt.version[0], rt.version[1])
    t = f"{vstr(v)}t"
    if rec.files:
        tagged: list[str] = []
        abi3: list[str] = []
        ready: list[str] = []
        untagged: list[str] = []
        own_dir: list[str] = []  # Debian: .py in a GIL version's own directory
        pure = False
        for path in rec.files:
            n = ext_name(path) if _SO.search(path) else None
            # A tagged name is a module wherever it lies (a private directory a program puts
            # on sys.path: /usr/lib/<triplet>/<pkg>/x.cpython-311-<triplet>.so); an untagged
            # one is a module only in a Python directory.
            tagged_name = n is not None and n.kind in ("soabi", "abi3", "abi3t")
            if "python" not in path and not tagged_name:
                continue
            sc = scope_of(path.lstrip("/"))
            if sc.implementation not in ("cpython", None) or (
                sc.kind == "any" and not sc.site and not tagged_name
            ):
                continue
            if sc.kind == "versioned" and sc.free_threaded and sc.version == v:
                ready.append(path)
                continue
            if _SO.search(path):
                if n is None:
                    continue
                if n.kind == "soabi" and n.implementation == "cpython":
                    if "t" in n.flags and n.version == v:
                        ready.append(path)
                    else:  # a debug build's (cpython-311d) too: version-specific
                        tagged.append(path)
                elif n.kind == "abi3":
                    abi3.append(path)
                elif n.kind == "abi3t":
                    (ready if v >= (3, 15) else abi3).append(path)
                elif n.kind == "untagged" and sc.kind != "any":
                    untagged.append(path)
            elif path.endswith((".py", ".pyc")) and sc.kind != "any":
                pure = True
                if (
                    rec.syntax == "deb"
                    and sc.kind == "versioned"
                    and not sc.free_threaded
                    and path.endswith(".py")
                ):
                    own_dir.append(path)
        if tagged:
            return "version-specific", [
                f"file {tagged[0]}: extension tagged for a GIL build ({len(tagged)} "
                f"module(s)); {t} loads only cpython-{v[0]}{v[1]}t modules"
            ]
        if untagged:
            verdicts = _untagged_verdicts(rec, untagged, rt)
            lines = [
                f"file {p}: untagged module: {why or f'loads on {t} by its symbols'}"
                for p, why in sorted(verdicts.items())
            ]
            if any(w is not None and not isinstance(w, CannotTell) for w in verdicts.values()):
                return "version-specific", lines
            if any(isinstance(w, CannotTell) for w in verdicts.values()):
                return "untagged", lines
        if abi3:
            why = (
                "an abi3t module needs a free-threaded 3.15 or later (PEP 803)"
                if ".abi3t" in abi3[0]
                else stable_abi_build_mismatch("abi3", rt) or f"{t} cannot load it"
            )
            return "abi3", [f"file {abi3[0]}: stable-ABI module ({len(abi3)}): {why}"]
        if own_dir:
            # dh-python installs public modules in /usr/lib/python3/dist-packages; a file in
            # /usr/lib/python3.11/ is on that runtime's path only (site.py, Debian layout).
            return "version-specific", [
                f"file {own_dir[0]}: in a GIL runtime's own directory, "
                f"not the shared one: installed again for {t}"
            ]
        if ready:
            return "ready", [f"file {ready[0]}: built for {t}"]
        if pure:
            return "pure", ["Python files only (no extension module in its file list)"]
    if ev.modules_tied:
        return "version-specific", [
            f"built for {_built_for(ev)}: its modules are tied to versions, so built per runtime",
            *ev.reasons[:2],
        ]
    if ev.uses and not rec.files:
        return "program", [
            f"uses python{vstr(min(ev.uses))} by name: runs on the GIL build",
            *ev.reasons[:1],
        ]
    if rec.files:
        return "program", [
            "no Python module in its file list (programs, data): they run on "
            "the interpreter they name"
        ]
    if rec.arch == "all" or rec.arch == "noarch":
        return "pure", [f"Architecture: {rec.arch}: no compiled module (no file list read)"]
    if rec.syntax == "deb":
        m = _NON_ANY.search(rec.depends)
        if m is None:
            return "pure", [
                "only python3:any relations (dh-python writes those for .py files "
                "and shebangs, never for extension modules); no file list read"
            ]
        return "unknown", [
            f"Depends: {m[0].strip(' ,|')}, not python3:any, and no version "
            "range: dh-python writes that for extension modules without a "
            "version tag (stable-ABI or untagged); no file list read: give "
            "the artifacts (--repo DIR of .debs) to tell"
        ]
    return "unknown", [
        f"Architecture: {rec.arch}, no version range and no file list: "
        "stable-ABI, untagged or no extension modules"
    ]


_STATUS = {
    "version-specific": "rebuild",
    "abi3": "rebuild",
    "untagged": "cannot-tell",
    "unknown": "cannot-tell",
    "ready": "no-action",
    "program": "not-affected",
}


def plan_free_threaded(
    index: Index,
    classifier: Classifier,
    catalogue: Catalogue,
    new: Version,
    old: Version,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Plan:
    """Plan adding free-threaded CPython ``new`` (``(3, 14)`` for 3.14t) beside ``old``.

    Statuses: ``rebuild``/``blocked`` (wave order as :func:`engine.plan_transition`),
    ``cannot-tell``, ``no-action``, ``not-affected``.  Each source carries ``ft_class``.

    Raises:
        ValueError: the catalogue has no free-threaded CPython ``new``.
    """
    rt = ft_runtime(catalogue, new)
    if rt is None:
        raise ValueError(f"no free-threaded CPython {vstr(new)} in the runtime catalogue")
    by_source: dict[str, list[tuple[BinaryEvidence, str, list[str]]]] = defaultdict(list)
    syntaxes: dict[str, int] = defaultdict(int)
    for ev in python_evidence(index, classifier, progress):
        cls, why = binary_class(ev, rt)
        by_source[ev.record.source].append((ev, cls, why))
        syntaxes[ev.record.syntax] += 1
    syntax = max(syntaxes, key=lambda k: syntaxes[k]) if syntaxes else "deb"
    layout = LAYOUTS[syntax].copy()
    layout["directory"] = layout["directory"].format(v=vstr(new))
    layout["note"] = layout["note"].format(v=vstr(new))
    t = f"{vstr(new)}t"
    plans: dict[str, SourcePlan] = {}
    needed_bins: dict[str, str] = {}
    for src, evs in by_source.items():
        srec = index.sources.get(src)
        sp = SourcePlan(src, srec.version if srec else evs[0][0].record.version, "")
        seen: set[tuple[str, str]] = set()
        for ev, cls, why in evs:
            r = ev.record
            if (r.name, r.arch) in seen:
                continue
            seen.add((r.name, r.arch))
            sp.binaries.append(BinaryPlan(r.name, r.version, r.arch, cls, _built_for(ev), why))
        sp.binaries.sort(key=lambda b: (b.name, b.arch))
        classes = {b.verdict for b in sp.binaries}
        sp.ft_class = next(c for c in CLASSES if c in classes)
        if _RUNTIME_SOURCE.match(src):
            sp.status, sp.ft_class = "not-affected", "runtime"
            sp.reasons.append(
                "provides the runtimes or the default itself: the subject of the transition"
            )
            plans[src] = sp
            continue
        if sp.ft_class == "pure":
            sp.status = "no-action" if layout["shared"] else "rebuild"
        else:
            sp.status = _STATUS[sp.ft_class]
        for b in sp.binaries:
            if b.verdict == sp.ft_class:
                sp.reasons.append(f"{b.name} [{b.arch}]: {'; '.join(b.reasons[:2])}")
        if sp.ft_class == "abi3":
            sp.reasons.insert(
                0,
                f"stable-ABI (abi3) modules only: {t} cannot load them; "
                "needs a version-specific t build, or an abi3t build from "
                "3.15 (PEP 803)",
            )
        elif sp.ft_class == "pure":
            sp.reasons.insert(
                0,
                "pure Python only: "
                + (
                    f"shared {layout['directory']}, nothing to build"
                    if layout["shared"]
                    else f"{t} has its own {layout['directory']}: rebuild"
                ),
            )
        elif sp.ft_class in ("untagged", "unknown"):
            sp.reasons.insert(0, f"cannot tell whether {t} loads its modules")
        plans[src] = sp
        if sp.status == "rebuild":
            for ev, cls, _ in evs:
                if cls in ("version-specific", "abi3", "untagged", "pure"):
                    needed_bins[ev.record.name] = src
    warnings = []
    if plans and not has_source_index(index):
        warnings.append(
            "no source index (Sources, .src RPMs) given: no build dependencies, so one wave"
        )
    if syntax == "deb" and not any(b.files for b in index.binaries):
        warnings.append(
            "no file list (Debian Packages carry none): classes come from the "
            "relations; give the artifacts (--repo DIR of .debs) to read "
            "stable-ABI and untagged modules"
        )
    return Plan.of_index(
        "add",
        new,
        old,
        plans,
        needed_bins,
        index,
        warnings,
        free_threaded=True,
        layout=layout,
    )
