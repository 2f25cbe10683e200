"""Shared facts for the extension, co-installability and metadata rules: the architecture an
artifact declares and which CPython versions a package claims to support.  The stable ABI
manifest is :mod:`coinstall.stable_abi`, a wheel's tags
:func:`coinstall.artifacts.base.wheel_tags`.  What an extension module's file name says is
:func:`coinstall.files.extension.ext_name` (the classifier layer's grammar, shared with the
planner).

Private helper (not a policy area): :func:`coinstall.rules.load_all` does not import it as one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from coinstall.artifacts.base import wheel_tags
from coinstall.files.extension import (
    DEB_ARCH_TRIPLET,
    RPM_ARCH_TRIPLET,
    WHEEL_ARCH_TRIPLET,
    ext_name,
)
from coinstall.relations import stack_of
from coinstall.rules import ArtifactContext

if TYPE_CHECKING:
    # imported where a Requires-Python is parsed (most system packages have none)
    from packaging.specifiers import SpecifierSet


def declared_triplet(ctx: ArtifactContext) -> str | None:
    """The multiarch triplet the artifact declares by its architecture (RPM arch, Debian
    ``Architecture``, wheel platform tag), None when it declares none (``noarch``, ``all``,
    ``any``, directories) or one this catalogue does not map."""
    arch = ctx.info.arch or ""
    if ctx.info.format == "deb":
        return DEB_ARCH_TRIPLET.get(arch)
    if ctx.info.format == "rpm":
        return RPM_ARCH_TRIPLET.get(arch)
    if ctx.info.format == "wheel":
        found = {
            t
            for part in arch.split(".")
            for key, t in WHEEL_ARCH_TRIPLET.items()
            if part.startswith(("manylinux", "musllinux", "linux")) and part.endswith("_" + key)
        }
        if len(found) == 1:
            trip = found.pop()
            if "musllinux" in arch:
                trip = trip.replace("-gnu", "-musl")
            return trip
    return None


def arch_independent(ctx: ArtifactContext) -> bool:
    """True for ``Architecture: all`` .debs, ``noarch`` RPMs and ``*-none-any`` wheels."""
    arch = ctx.info.arch or ""
    return (
        (ctx.info.format == "deb" and arch == "all")
        or (ctx.info.format == "rpm" and arch == "noarch")
        or (ctx.info.format == "wheel" and arch == "any")
    )


def tag_version(interpreter: str) -> tuple[int, int] | None:
    """``cp311`` -> (3, 11), ``pp39`` -> (3, 9), ``py3``/``py2`` -> None (no minor)."""
    m = re.fullmatch(r"(?:cp|pp|py)(\d)(\d+)", interpreter)
    return (int(m[1]), int(m[2])) if m else None


def requires_python(ctx: ArtifactContext) -> tuple[SpecifierSet, str] | None:
    """The package's Requires-Python (wheel METADATA, or the single dist-info/egg-info of a
    system package) as ``(specifier, text)``; None if absent, ambiguous or invalid."""
    text = ctx.info.fields.get("Requires-Python")
    if text is None:
        texts = {
            r.requires_python_text
            for r in ctx.records
            if r.kind == "metadata" and r.requires_python_text
        }
        if len(texts) != 1:
            return None
        text = texts.pop()
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(text), text
    except InvalidSpecifier:
        return None


def _contains(spec: SpecifierSet, v: tuple[int, int]) -> bool:
    """Whether a specifier admits some release of the X.Y line (X.Y.0 .. X.Y.999)."""
    return any(spec.contains(f"{v[0]}.{v[1]}.{micro}", prereleases=True) for micro in (0, 999))


def excludes(spec: SpecifierSet, v: tuple[int, int]) -> bool:
    """True if a Requires-Python specifier admits no release of the X.Y line."""
    return not _contains(spec, v)


def cpython_lines(ctx: ArtifactContext) -> list[tuple[int, int]]:
    """Every CPython 3 language version the catalogue knows, ascending."""
    return sorted(
        {
            rt.version
            for rt in ctx.catalogue.known(vendors=("upstream",))
            if rt.implementation == "cpython" and rt.version[0] == 3
        }
    )


#: dh-python's generated lower bound on ``python3``: ``X.Y~`` (``dhpython/depends.py`` writes
#: ``python3 (>= %s~)`` with the lowest version it built for; Debian Python Policy §3.2).
_DH_LOWER = re.compile(r"^(\d+)\.(\d+)~$")


@dataclass(frozen=True)
class DebRange:
    """What a .deb's ``python3`` version relations say about the runtimes it is for.

    Attributes:
        low: the lowest runtime it was built for, from dh-python's generated lower bound
            ``python3 (>= 3.11~)``; None when there is none.
        release_low: the lowest default runtime it can be installed with, from any other
            lower bound (``python3 (>= 3.10.8-0~)``, ``python3 (>= 3.7)``): such a bound names
            the python3-defaults release the package needs (the package ``python3`` is
            python3-defaults, versioned after its default runtime), not the runtimes the
            package ships modules for; None when there is none.
        high: the first runtime it is not for (exclusive), from ``python3 (<< 3.13)``.
        text: the relations read, ``"python3 (>= 3.11~), python3 (<< 3.13)"``.
    """

    low: tuple[int, int] | None
    release_low: tuple[int, int] | None
    high: tuple[int, int] | None
    text: str


def deb_python3_range(ctx: ArtifactContext) -> DebRange:
    """Read ``python3 (>= 3.11~)``, ``python3 (<< 3.13)`` relations in ``Depends`` (the range
    dh_python3 generates for extensions and versioned byte-compilation, ``dhpython/depends.py``;
    Debian Python Policy §3.2; ``../reference/debian.md`` §1.6) into a :class:`DebRange`.

    Only dh-python's own spelling of a lower bound, ``X.Y~``, says the lowest runtime the
    package was built for; ``python3 (>= 3.10.8-0~)`` (python3-tk, python3-gdbm in bookworm:
    hand-written by python3-stdlib-extensions for a package built for 3.11 only) and
    ``python3 (>= 3.7)`` name a python3-defaults release.  ``python3 (>= 3~)`` claims
    nothing (the stable ABI starts at 3.2) and is dropped.  Alternatives (``a | python3 (>>
    3.10)``, environment markers translated by dh-python) are not read.
    """
    lo: tuple[int, int] | None = None
    rel_lo: tuple[int, int] | None = None
    hi: tuple[int, int] | None = None
    texts: list[str] = []
    from debian.deb822 import PkgRelation  # python-debian: only for .debs

    depends = ctx.info.fields.get("Depends") or ""
    groups: list[list[Any]] = PkgRelation.parse_relations(depends) if depends else []
    for group in groups:
        if len(group) != 1 or group[0].get("name") != "python3" or not group[0].get("version"):
            continue
        op, ver = group[0]["version"]
        m = re.match(r"(\d+)\.(\d+)", ver)
        if not m:
            continue
        v = (int(m[1]), int(m[2]))
        if op in (">=", ">>"):
            if v < (3, 2):
                continue
            if op == ">=" and _DH_LOWER.match(ver):
                lo = v if lo is None or v > lo else lo
            else:
                rel_lo = v if rel_lo is None or v > rel_lo else rel_lo
            texts.append(f"python3 ({op} {ver})")
        elif op in ("<<", "<="):
            # << 3.13 excludes 3.13; <= 3.12.x keeps 3.12
            upper = v if op == "<<" else (v[0], v[1] + 1)
            hi = upper if hi is None or upper < hi else hi
            texts.append(f"python3 ({op} {ver})")
    return DebRange(lo, rel_lo, hi, ", ".join(texts))


@dataclass(frozen=True)
class Support:
    """The CPython versions a package says it supports, with the evidence.

    Attributes:
        versions: the supported ``(X, Y)`` lines (may be empty: nothing said).
        lowest: the lowest runtime the package can be installed for, None if unknown.
        evidence: one phrase per source (``"Depends: python3 (>= 3.11~), python3 (<< 3.13)"``).
    """

    versions: frozenset[tuple[int, int]]
    lowest: tuple[int, int] | None
    evidence: tuple[str, ...]

    def describe(self) -> str:
        return " and ".join(self.evidence)


def _fmt(v: tuple[int, int]) -> str:
    return f"{v[0]}.{v[1]}"


def fmt_versions(vs: Iterable[tuple[int, int]]) -> str:
    """``"3.11, 3.12"``."""
    return ", ".join(_fmt(v) for v in sorted(vs))


def support(ctx: ArtifactContext) -> Support:
    """Which CPython 3 versions the package supports, from everything it says.

    Sources, each a claim the package (or its distribution) makes: versioned directories
    (``lib/python3.11/``) and version-specific extension tags it ships files for; Debian
    ``python3 (>= 3.11~), python3 (<< 3.13)`` (dh_python3, Debian Python Policy); RPM
    ``python(abi) = 3.11`` (Fedora Packaging Guidelines); the configured stack for system
    packages; a wheel's ``cpXY-abi3`` tag (PEP 384/425: that version and later).  Bounds
    narrow the lines the catalogue knows; the lowest runtime is the highest lower bound, to
    which a Debian lower bound naming a python3-defaults release (:class:`DebRange`) and, for
    wheels and trees, Requires-Python's lowest admitted version contribute (installers enforce
    them) without adding versions: ``requires-python-excludes-runtime`` compares
    Requires-Python against the files.
    """
    lines = cpython_lines(ctx)
    have: set[tuple[int, int]] = set()
    evidence: list[str] = []
    lows: list[tuple[int, int]] = []
    files: set[tuple[int, int]] = set()
    for r in ctx.records:
        if (
            r.scope.kind == "versioned"
            and r.scope.implementation == "cpython"
            and r.scope.version
            and r.scope.version[0] == 3
            and r.kind != "other"
        ):
            files.add(r.scope.version)
        if r.kind == "extension":
            n = ext_name(r.import_path)
            if (
                n
                and n.kind == "soabi"
                and n.implementation == "cpython"
                and n.version
                and n.version[0] == 3
            ):
                files.add(n.version)
    if files:
        have |= files
        evidence.append(f"ships files for {fmt_versions(files)}")
    if ctx.info.format == "deb":
        rng = deb_python3_range(ctx)
        if rng.high is not None and rng.low is not None:
            built = {v for v in lines if rng.low <= v < rng.high}
            if built:
                have |= built
        lows += [v for v in (rng.low, rng.release_low) if v is not None]
        if rng.text and (rng.low is not None or rng.release_low is not None):
            evidence.append(f"Depends: {rng.text}")
    if ctx.info.format == "rpm":
        pyabi = set(stack_of(ctx).abi)  # RPM python(abi) = 3.11 requires (Fedora)
        if pyabi:
            have |= pyabi
            lows.append(min(pyabi))
            evidence.append(f"Requires: python(abi) = {fmt_versions(pyabi)}")
    if ctx.info.format in ("deb", "rpm") and ctx.stack.known:
        stack = {v for v in ctx.stack.versions if v[0] == 3}
        if stack and not files:
            have |= stack
            evidence.append(f"stack {ctx.stack}")
    if ctx.info.format == "wheel":
        for interp, abi, _plat in wheel_tags(ctx.info):
            v = tag_version(interp)
            if v is not None and abi in ("abi3", "abi3t") and interp.startswith("cp"):
                lows.append(v)
                evidence.append(f"wheel tag {interp}-{abi}")
                break
    if files:
        lows.append(min(files))
    # dpkg and rpm do not read Requires-Python: in a system package it is upstream's claim,
    # not the runtimes the package can be installed for (its Depends/python(abi) say that).
    rp = requires_python(ctx) if ctx.info.format not in ("deb", "rpm") else None
    if rp is not None:
        # Installers refuse the package below Requires-Python's lowest admitted version.
        rp_low = lowest_allowed(rp[0], lines)
        if rp_low is not None and rp_low >= (3, 2):
            lows.append(rp_low)
            evidence.append(f"Requires-Python {rp[1]}")
    lowest = max(lows) if lows else (min(have) if have else None)
    return Support(frozenset(have), lowest, tuple(dict.fromkeys(evidence)))


def lowest_allowed(spec: SpecifierSet, lines: Iterable[tuple[int, int]]) -> tuple[int, int] | None:
    """The lowest of ``lines`` a Requires-Python specifier admits."""
    for v in sorted(lines):
        if _contains(spec, v):
            return v
    return None
