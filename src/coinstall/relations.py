"""Package relations (requires, provides, package names) parsed once and classified by the
Python implementation and stack they name.  Read by the naming, dependencies, scripts,
entry-point, extension and co-installability rules, by the engine (:func:`compares_content`:
which files to hash), by ``coinstall fix`` (:func:`stack_of`: which interpreter a repaired
shebang names) and by an archive run (:func:`remember`: a worker's answers kept for the
set-scope rules).

What a relation names (:class:`~coinstall.names.Target`, classified by
:func:`coinstall.names.classify_name`, the vocabulary shared with the planner):

* RPM (Fedora, EPEL, openSUSE) strings as the reader writes them, ``name [op version]``:
  ``python(abi) = 3.11`` (python-rpm-generators ``python.attr``), ``/usr/bin/python3.11``,
  ``pythonX.Ydist(foo)`` / ``python3dist(foo)`` (``pythondistdeps.py``), ``python3egg(foo)``,
  ``libpython3.11.so.1.0()(64bit)``, package names ``python3-foo`` (Fedora's default stack),
  ``python3.11-foo`` (Fedora/EPEL alternative stacks, ``%python3_pkgversion 3.11``),
  ``python311-foo`` / ``python39-foo`` (openSUSE flavors; EPEL 7 ``python36-``), ``python2-foo``,
  ``pypy3-foo``; unversioned ``python``, ``python-foo``, ``/usr/bin/python``.
* Debian relation fields (parsed with python-debian's ``PkgRelation``):
  ``python3 (<< 3.12), python3 (>= 3.11~)`` (dh_python3), ``python3:any | python3-minimal:any``
  (lintian's interpreter prerequisites), ``python3.11``, ``libpython3.11``.  In Debian a
  ``python-foo`` package and the ``python`` package were Python 2's (Debian Python Policy
  2.x, "Module package names"), so they count as Python 2 in the ``debian`` profile.
* Wheels' ``Requires-Dist`` are Python distributions, not system relations: a wheel has none.

The taskotron two_three check (fedora-python/taskotron-python-versions ``two_three.py``)
counts ``python(abi) = 2.*``, ``python2*``, ``/usr/bin/python2``, ``libpython2`` as Python 2 and
``python(abi) = 3.*``, ``python3*``, ``/usr/bin/python3``, ``libpython3``, ``system-python`` as
Python 3; the unversioned ``python``/``python-``/``/usr/bin/python`` it also counts as
Python 2.  Here unversioned names stay unversioned (what they mean changed in Fedora 31) and
are the subject of ``requires-unversioned-python`` instead.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from coinstall.artifacts.base import ArtifactInfo
from coinstall.files.verdict import FileRecord
from coinstall.names import Target, classify_name

if TYPE_CHECKING:
    from coinstall.rules import ArtifactContext


@dataclass(frozen=True)
class Relation:
    """One relation: ``name``, optional ``op`` and ``version``, Debian ``arch`` qualifier
    (``any`` in ``python3:any``), the ``raw`` text and its :class:`Target` (None: not
    Python)."""

    raw: str
    name: str
    op: str | None
    version: str | None
    arch: str | None
    target: Target | None


#: One requirement: its alternatives (Debian ``a | b``; one element for RPM).
Group = tuple[Relation, ...]


@dataclass(frozen=True)
class Relations:
    """An artifact's relations, parsed once.

    Attributes:
        flavor: ``rpm``, ``deb`` or ``none`` (wheels, trees).
        requires: hard requirements (RPM Requires; Debian Pre-Depends and Depends), as
            alternative groups.
        weak: Debian Recommends and Suggests (lintian counts them as prerequisites).
        provides: provides (Debian Provides; RPM Provides including the package itself).
        name: the package name's target (None: the name names no Python).
        names: the package's own name and every name it provides.
    """

    flavor: str
    requires: tuple[Group, ...] = ()
    weak: tuple[Group, ...] = ()
    provides: tuple[Relation, ...] = ()
    name: Target | None = None
    names: frozenset[str] = field(default_factory=frozenset)

    def required_targets(self) -> list[tuple[Target, str]]:
        """``(target, raw)`` of every hard requirement group whose alternatives all name one
        stack (``python3:any | python3-minimal:any`` counts once as ``python3``)."""
        out: list[tuple[Target, str]] = []
        for g in self.requires:
            ts = [r.target for r in g]
            if not ts or any(t is None for t in ts):
                continue
            first = ts[0]
            assert first is not None
            if all(t is not None and t.label == first.label for t in ts):
                out.append((first, " | ".join(r.raw for r in g)))
        return out

    def provided(self, name: str) -> bool:
        """Whether the package is or provides ``name`` (any version)."""
        return name in self.names


_RPM_REL = re.compile(r"^(?P<name>\S+)(?:\s+(?P<op>[<>=]{1,2})\s+(?P<ver>\S+))?$")


def _rpm_relation(text: str) -> Relation:
    m = _RPM_REL.match(text.strip())
    if not m:  # rich dependency "(a with b)" and the like: kept, not classified
        return Relation(text, text, None, None, None, None)
    return Relation(
        text, m["name"], m["op"], m["ver"], None, classify_name(m["name"], m["op"], m["ver"], "rpm")
    )


def _deb_groups(texts: Iterable[str]) -> tuple[Group, ...]:
    from debian.deb822 import PkgRelation  # python-debian: only for .debs

    groups: list[Group] = []
    for text in texts:
        if not text.strip():
            continue
        for alternatives in PkgRelation.parse_relations(text):
            rels = []
            for alt in alternatives:
                ver = alt.get("version")
                op, v = (ver[0], ver[1]) if ver else (None, None)
                raw = (
                    alt["name"]
                    + (f":{alt['archqual']}" if alt.get("archqual") else "")
                    + (f" ({op} {v})" if op else "")
                )
                rels.append(
                    Relation(
                        raw,
                        alt["name"],
                        op,
                        v,
                        alt.get("archqual"),
                        classify_name(alt["name"], op, v, "deb"),
                    )
                )
            if rels:
                groups.append(tuple(rels))
    return tuple(groups)


def parse(info: ArtifactInfo) -> Relations:
    """Parse an artifact's relations (see the module docstring for what is recognised)."""
    reqs: tuple[Group, ...]
    if info.format == "rpm":
        reqs = tuple((_rpm_relation(t),) for t in info.requires if not t.startswith("rpmlib("))
        provs = tuple(_rpm_relation(t) for t in info.provides)
        flavor = "rpm"
    elif info.format == "deb":
        reqs = _deb_groups(info.requires)
        provs = tuple(r for g in _deb_groups(info.provides) for r in g)
        flavor = "deb"
    else:
        return Relations("none")
    weak = (
        _deb_groups(info.fields.get(k, "") for k in ("Recommends", "Suggests"))
        if flavor == "deb"
        else ()
    )
    name = classify_name(info.name, flavor=flavor) if info.name else None
    names = frozenset([*(p.name for p in provs), *([info.name] if info.name else [])])
    return Relations(flavor, reqs, weak, provs, name, names)


def source_package(info: ArtifactInfo) -> str | None:
    """The source package an artifact was built from: RPM ``sourcerpm`` without version and
    release, Debian ``Source`` without its version (the package itself when absent); None
    for wheels and trees."""
    f = info.fields
    if info.format == "rpm" and f.get("sourcerpm"):
        return f["sourcerpm"].rsplit("-", 2)[0]
    if info.format == "deb":
        return (f.get("Source") or info.name or "").split(" ")[0] or None
    return None


_T = TypeVar("_T")
_V = TypeVar("_V")


class _Memo(Generic[_T, _V]):
    """Values computed once per live object (by identity: the objects are unhashable
    dataclasses).  An entry goes when its object does (a weak reference's callback), so the
    memo holds exactly the artifacts still in use: all of a run's when the set-scope rules
    read 4,000 contexts (a bound of 512 made each of them parse every artifact's relations
    again: 25,500 parses for 4,250 packages), none once they are gone."""

    def __init__(self) -> None:
        self._table: dict[int, tuple[weakref.ref[_T], _V]] = {}

    def get(self, obj: _T, make: Callable[[_T], _V]) -> _V:
        key = id(obj)
        hit = self._table.get(key)
        if hit is not None and hit[0]() is obj:
            return hit[1]
        value = make(obj)
        self.put(obj, value)
        return value

    def put(self, obj: _T, value: _V) -> None:
        """Remember ``value`` for ``obj`` (computed elsewhere: in the process that read the
        artifact)."""
        key = id(obj)
        table = self._table

        def forget(_ref: weakref.ref[_T]) -> None:
            entry = table.get(key)
            if entry is not None and entry[0] is _ref:
                del table[key]

        self._table[key] = (weakref.ref(obj, forget), value)


_RELATIONS: _Memo[ArtifactInfo, Relations] = _Memo()


def relations(info: ArtifactInfo) -> Relations:
    """:func:`parse`, memoised per :class:`ArtifactInfo` object, so that every rule shares
    one parse of an artifact's header."""
    return _RELATIONS.get(info, parse)


@dataclass(frozen=True)
class PackageStack:
    """Which implementation and stack one package is for, from its name, its ``python(abi)``
    requires (RPM) and the Python directories of its files.

    Attributes:
        name: the package name's target (``python3.11-foo`` -> python3.11), None if none.
        abi: the versions of its ``python(abi) = X.Y`` requires.
        files: ``(implementation, (X, Y)) -> first path`` of files in versioned directories
            (``/usr/lib/python3.11/``, ``/usr/lib/pypy3.9/``).
        shared: ``(implementation, major) -> first path`` of files in Debian's shared
            directories (``/usr/lib/python3/dist-packages``).
        modules: ``(implementation, major) -> first path`` of importable modules in a
            site directory (``site-packages``/``dist-packages``).
    """

    name: Target | None
    abi: tuple[tuple[int, int], ...]
    files: dict[tuple[str, tuple[int, int]], str]
    shared: dict[tuple[str, int], str]
    modules: dict[tuple[str, int], str]

    @property
    def exact(self) -> tuple[str, tuple[int, int]] | None:
        """The one ``(implementation, (X, Y))`` the package is built for, when its files,
        ``python(abi)`` requires and name agree on exactly one; else None."""
        found = set(self.files) | {("cpython", v) for v in self.abi}
        if self.name is not None and self.name.version and not found:
            found.add((self.name.implementation, self.name.version))
        return next(iter(found)) if len(found) == 1 else None

    @property
    def python(self) -> bool:
        """True when the package ships or needs Python files for some runtime."""
        return bool(self.files or self.shared or self.abi)


_MODULE_KINDS = ("source", "bytecode", "extension")


def package_stack(
    name: Target | None, requires: Iterable[Group], records: Iterable[FileRecord]
) -> PackageStack:
    """Build a :class:`PackageStack` from a package's name target, requires and files."""
    abi: list[tuple[int, int]] = []
    for g in requires:
        for r in g:
            t = r.target
            if t is not None and t.kind == "abi" and t.version and t.version not in abi:
                abi.append(t.version)
    files: dict[tuple[str, tuple[int, int]], str] = {}
    shared: dict[tuple[str, int], str] = {}
    modules: dict[tuple[str, int], str] = {}
    for rec in records:
        scope, path = rec.scope, rec.path
        if scope.kind == "versioned" and scope.version is not None:
            files.setdefault((scope.implementation or "cpython", scope.version), path)
        elif scope.kind == "shared" and scope.version is not None:
            shared.setdefault((scope.implementation or "cpython", scope.version[0]), path)
        else:
            continue
        if scope.site and rec.kind in _MODULE_KINDS:
            modules.setdefault((scope.implementation or "cpython", scope.version[0]), path)
    return PackageStack(name, tuple(abi), files, shared, modules)


_STACKS: _Memo[ArtifactContext, PackageStack] = _Memo()


def _stack(ctx: ArtifactContext) -> PackageStack:
    rel = relations(ctx.info)
    return package_stack(rel.name, rel.requires, ctx.records)


def stack_of(ctx: ArtifactContext) -> PackageStack:
    """:func:`package_stack` of an :class:`~coinstall.rules.ArtifactContext`, memoised."""
    return _STACKS.get(ctx, _stack)


def remember(ctx: ArtifactContext, rel: Relations, stack: PackageStack) -> None:
    """Take ``ctx``'s :func:`relations` and :func:`stack_of` as already computed (by the
    worker that checked the artifact, for a context rebuilt from its index)."""
    _RELATIONS.put(ctx.info, rel)
    _STACKS.put(ctx, stack)


def alternative_stack(ctx: ArtifactContext, ver: tuple[int, int]) -> bool:
    """Whether a package for ``ver`` is known not to be for the default stack.

    ``--stack`` decides for its own major version (a stack of Python 3 versions says nothing
    about a python2.7 package, which was Python 2's only stack).  Without it the name decides
    where the naming is unambiguous: Fedora's default stack is always ``python3-foo``, so a
    minor-versioned prefix there (``python3.11-foo``) is an alternative stack; EPEL's dotted
    ``python3.11-foo`` (EPEL 8 and later) likewise.  A concatenated ``python3X-`` prefix is not
    by itself an alternative stack: EPEL 7's *default* stack was ``python36-foo``
    (``%python3_pkgversion 36``, ``%python3_other_pkgversion 34``; python-rpm-macros
    ``macros.python3`` in EPEL 7), so on EPEL it is unknown.  Unknown is False."""
    default = ctx.stack.default
    if default is not None:
        return ver[0] == default[0] and ver != default
    t = stack_of(ctx).name
    if t is None or t.kind != "module" or t.version is None:
        return False
    if ctx.profile.name == "fedora":
        return True
    return ctx.profile.name == "epel" and t.prefix.startswith(f"python{t.version[0]}.")


def compares_content(info: ArtifactInfo) -> bool:
    """Whether ``file-conflict`` (:mod:`coinstall.rules.coinstallability`) can ever compare the
    content of ``info``'s files, so whether the engine must hash them while reading.

    Not for a .deb that is not ``Multi-Arch: same``: dpkg refuses a path shared with another
    package whatever its content (dpkg(1), "trying to overwrite"), and the same package for
    another architecture replaces it (a cross-grade); only two ``Multi-Arch: same`` instances
    must ship identical files (wiki.debian.org/Multiarch/Implementation).  Every other format
    may be compared (RPM multilib pairs and distinct packages, wheels)."""
    return info.format != "deb" or multi_arch_same(info)


def multi_arch_same(info: ArtifactInfo) -> bool:
    """Whether a .deb is ``Multi-Arch: same`` (co-installable with itself for other
    architectures, its shared files byte-identical; Debian Policy 5.6.31 and
    wiki.debian.org/Multiarch/Implementation)."""
    return info.fields.get("Multi-Arch", "").strip().lower() == "same"
