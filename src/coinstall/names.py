"""What Python implementation and version a package name or relation name refers to.

The one vocabulary shared by package relations (:mod:`coinstall.relations`) and the transition
planner (:mod:`coinstall.plan.evidence`).  Policy-free: it says what a name names, not whether
that is a problem.  Imports nothing of coinstall's.

Names recognised, with their sources:

* Package names ``python3-foo`` (Fedora's default stack, Debian), ``python3.11-foo``
  (Fedora/EPEL alternative stacks: ``%python3_pkgversion 3.11``, python-rpm-macros),
  ``python311-foo`` / ``python39-foo`` (openSUSE flavors, python-rpm-macros ``%pythons``;
  EPEL 7 ``%python3_pkgversion 36``), ``python2-foo``, ``pypy3-foo``, unversioned ``python``
  and ``python-foo``; a runtime's own packages ``python3.11-minimal``, ``python3.11-libs``,
  ``python311-base`` (:data:`RUNTIME_PARTS`); a free-threaded interpreter's packages
  ``python3.14-freethreading``, ``python3.14-freethreading-libs`` (Fedora python3.14.spec,
  EPEL ``python3.13-freethreading``) and its executable ``/usr/bin/python3.14t``.  In Debian
  ``python`` and ``python-foo`` were Python 2's (Debian Python Policy 2.x, "Module package names").
* RPM relations: ``python(abi) = 3.11`` (python-rpm-generators ``python.attr``),
  ``/usr/bin/python3.11``, ``pythonX.Ydist(foo)`` / ``python3dist(foo)`` / ``python3egg(foo)``
  (``pythondistdeps.py``), ``libpython3.11.so.1.0()(64bit)`` (the soname provide).
* Debian relations: ``python3``, ``python3.11``, ``libpython3.11`` (dh-python
  ``dhpython/depends.py``), ``python-is-python3``.

Versions are ``(major, minor)`` tuples of ints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, NamedTuple, cast

Version = tuple[int, int]

#: Suffixes of a runtime's own packages (``python3.11-libs``, ``python311-base``,
#: ``python3-minimal``): they name the stack, not a module.
RUNTIME_PARTS = frozenset(
    {
        "minimal",
        "libs",
        "lib",
        "base",
        "devel",
        "dev",
        "dbg",
        "debug",
        "tk",
        "tkinter",
        "idle",
        "venv",
        "distutils",
        "lib2to3",
        "stdlib",
        "test",
        "tools",
        "doc",
        "full",
        "all",
        "all-dev",
        "all-dbg",
        "stdlib-extensions",
        "curses",
        "dbm",
        "gdbm",
        "testsuite",
    }
)
#: Names beginning ``python-`` that are not Python modules (taskotron ``NAME_NOTS``:
#: python-rpm-macros, python-srpm-macros, python-pip-wheel, python-sphinx-doc, …): macro
#: packages, implementation-independent wheels, documentation, and Debian's
#: version-independent ``-common``/``-data`` packages (python-apt-common) and test-data
#: packages (bookworm's python-pyresample-test and python-pysam-tests: Architecture: all, no
#: Depends, required by the python3- package).
_NOT_MODULE_SUFFIX = (
    "-rpm-macros",
    "-srpm-macros",
    "-rpm-generators",
    "-wheel",
    "-doc",
    "-docs",
    "-typeshed",
    "-common",
    "-data",
    "-l10n",
    "-localedata",
    "-examples",
    "-test",
    "-tests",
)
#: Debian's switch packages for /usr/bin/python.
_PYTHON_IS = {"python-is-python3": 3, "python-is-python2": 2}

# Package names: IMPL [MAJOR] ['.' MINOR | MINOR] ['-' REST].
_PKG = re.compile(
    r"^(?P<impl>python|pypy)(?P<major>[23])?(?:\.(?P<dot>\d{1,2})|(?P<cat>\d{1,2}))?"
    r"(?:-(?P<rest>.+))?$"
)
_SUFFIXED = re.compile(r"^(?P<base>.+)-(?P<impl>python|pypy)(?P<major>[23])?$")
_BIN = re.compile(
    r"^/usr/bin/(?P<impl>python|pypy)(?P<major>[23])?(?:\.(?P<minor>\d+))?"
    r"(?P<flags>[dmut]*)$"
)
#: The word Fedora and EPEL name a free-threaded (PEP 703) interpreter's packages with:
#: ``python3.14-freethreading`` (executable ``/usr/bin/python3.14t``), its ``-libs``, ``-devel``,
#: ``-idle``, ``-tkinter``, ``-test``, ``-debug`` (python3.14.spec, ``%bcond freethreading_build``,
#: ``%package -n python%{pybasever}-freethreading``; EPEL 9/10 ``python3.13-freethreading``).
FREETHREADING = "freethreading"
_DIST = re.compile(
    r"^(?P<impl>python|pypy)(?P<major>\d)?(?:\.(?P<minor>\d+))?"
    r"(?P<kind>dist|egg)\((?P<mod>[^)]*)\)"
)
_EGG3 = re.compile(r"^pythonegg\((?P<major>\d)\)\((?P<mod>[^)]*)\)")
_LIB = re.compile(r"^libpython(?P<major>[23])\.(?P<minor>\d+)")
#: What may follow ``libpython3.11`` in a library package or soname: ``-stdlib``, ``.so.1.0``,
#: ``.so.1.0()(64bit)``.
_LIB_TAIL = re.compile(r"(?:-[a-z0-9]+|\.so[.\w()]*)?$")
_WORD = re.compile(r"[a-z0-9]+$")
_ISA = re.compile(r"\([a-z0-9_-]+-(?:32|64)\)$")


def _impl(prefix: str) -> str:
    return "cpython" if prefix == "python" else "pypy"


class PackageName(NamedTuple):
    """A package name parsed as IMPL [MAJOR] ['.' MINOR | MINOR] ['-' REST].

    Attributes:
        implementation: ``"cpython"`` (``python…``) or ``"pypy"``.
        major: 2 or 3; None for ``python``/``python-foo``.
        minor: the minor version (``11`` in ``python3.11-foo`` and ``python311-foo``), or None.
        dotted: True for ``python3.11-`` (Fedora/EPEL), False for ``python311-`` (openSUSE).
        rest: what follows the first ``-`` (``foo``), None for a bare ``python3.11``.
        prefix: the implementation prefix including the ``-`` (``python3.11-``).
    """

    implementation: str
    major: int | None
    minor: int | None
    dotted: bool
    rest: str | None
    prefix: str


def package_name(name: str) -> PackageName | None:
    """Parse a package name that starts with ``python``/``pypy``; None for other names and
    for a minor version without a major one (``python5-foo``)."""
    m = _PKG.match(name)
    if m is None:
        return None
    minor = m["dot"] or m["cat"]
    if m["major"] is None and minor:
        return None
    rest = m["rest"]
    full = m.group(0)
    prefix = full[: len(full) - len(rest)] if rest else full + "-"
    return PackageName(
        _impl(m["impl"]),
        int(m["major"]) if m["major"] else None,
        int(minor) if minor else None,
        m["dot"] is not None,
        rest,
        prefix,
    )


def parallel_stack(name: str) -> tuple[Version, str] | None:
    """``(version, rest)`` of a CPython package of a parallel stack: ``python3.11-foo``
    (Fedora/EPEL ``%python3_pkgversion 3.11``) or ``python311-foo`` (openSUSE flavors, EPEL 7
    ``python36-``) -> ``((3, 11), "foo")``; None otherwise.  Concatenated names are read for
    3.6 to 3.19 only (``python34-``, EPEL 7's other stack, is not recognised here)."""
    # Fast path for the planner's hot loop: a minor version starts at name[7] either way.
    if not name.startswith("python") or not (name[7:8] == "." or name[7:8].isdigit()):
        return None
    p = package_name(name)
    if (
        p is None
        or p.implementation != "cpython"
        or p.rest is None
        or p.minor is None
        or p.major is None
    ):
        return None
    if not p.dotted and not (p.major == 3 and 6 <= p.minor <= 19):
        return None
    return (p.major, p.minor), p.rest


def libpython(name: str) -> Version | None:
    """The version of a ``libpython3.11…`` package, soname or provide (``libpython3.11``,
    ``libpython3.11-stdlib``, ``libpython3.11d.so.1.0()(64bit)``), None otherwise."""
    m = _LIB.match(name)
    return (int(m["major"]), int(m["minor"])) if m else None


def versioned_runtime(name: str) -> Version | None:
    """The version of an interpreter, library or stack package named after one CPython
    version, as dh-python writes them for programs that need that interpreter
    (``python3.11``, ``python3.11-minimal``, ``libpython3.11``, ``libpython3.11-stdlib``,
    RPM ``libpython3.11.so.1.0()(64bit)``, ``python3.11-foo``); None otherwise (also for
    ``libpython3.11d``, ``python311-foo`` and multi-word ``python3.11-foo-bar``)."""
    if name.startswith("lib"):
        m = _LIB.match(name)
        if m is None or not _LIB_TAIL.match(name, m.end()):
            return None
        return int(m["major"]), int(m["minor"])
    if name[7:8] != "." or not name.startswith("python"):  # fast path: not python3.X
        return None
    p = package_name(name)
    if (
        p is None
        or p.implementation != "cpython"
        or not p.dotted
        or p.major is None
        or p.minor is None
        or (p.rest is not None and not _WORD.match(p.rest))
    ):
        return None
    return p.major, p.minor


#: The generator's kind of an RPM relation name: ``python3dist(foo)`` or ``python3egg(foo)``
#: (python-rpm-generators ``pythondistdeps.py``).
DistKind = Literal["dist", "egg"]

#: What the Python side of a relation or package name is (:class:`Target`).
TargetKind = Literal["interpreter", "abi", "runtime", "module", "dist"]


class DistName(NamedTuple):
    """An RPM ``python3.11dist(foo)``-style relation name.

    Attributes:
        implementation: ``"cpython"`` or ``"pypy"``.
        major, minor: the version named (``python3dist``: 3 and None; ``pythondist``: None).
        kind: ``"dist"`` or ``"egg"``.
        module: the distribution name in parentheses.
    """

    implementation: str
    major: int | None
    minor: int | None
    kind: DistKind
    module: str


def dist_name(name: str) -> DistName | None:
    """Parse ``pythonX.Ydist(foo)``, ``python3dist(foo)``, ``python3egg(foo)``,
    ``pypy3.9dist(foo)`` (python-rpm-generators ``pythondistdeps.py``); None otherwise."""
    m = _DIST.match(name)
    if m is None:
        return None
    return DistName(
        _impl(m["impl"]),
        int(m["major"]) if m["major"] else None,
        int(m["minor"]) if m["minor"] else None,
        cast(DistKind, m["kind"]),
        m["mod"],
    )


@dataclass(frozen=True)
class Target:
    """The Python side of one relation or package name.

    Attributes:
        implementation: ``"cpython"`` or ``"pypy"``.
        major: 2 or 3; None for the unversioned ``python``/``python-foo``.
        version: ``(3, 11)`` when one minor version is named, else None.
        kind: ``interpreter`` (``python3``, ``/usr/bin/python3.11``), ``abi``
            (``python(abi) = 3.11``), ``runtime`` (a runtime's own package such as
            ``python3.11-libs``, ``libpython3.11``), ``module`` (``python3-foo``), ``dist``
            (``python3.11dist(foo)``).
        module: the module or distribution part (``foo``), None for interpreters.
        prefix: the implementation prefix of a package name (``python3.11-``), "" otherwise.
        free_threaded: a free-threaded (PEP 703) build's interpreter or runtime package
            (``python3.14-freethreading``, ``/usr/bin/python3.14t``).
    """

    implementation: str
    major: int | None
    version: Version | None
    kind: TargetKind
    module: str | None = None
    prefix: str = ""
    free_threaded: bool = False

    @property
    def label(self) -> str:
        """``python2``, ``python3``, ``python3.11``, ``python3.14t``, ``pypy3``, ``python``
        (unversioned)."""
        return stack_label(self.implementation, self.major, self.version) + (
            "t" if self.free_threaded else ""
        )

    @property
    def unversioned(self) -> bool:
        """True when no major version is named."""
        return self.major is None

    def compatible(self, other: Target) -> bool:
        """Whether one package may need both: same implementation and major, and not two
        different minor versions.  Unversioned targets are compatible with anything."""
        if self.unversioned or other.unversioned:
            return True
        if self.implementation != other.implementation or self.major != other.major:
            return False
        return self.version is None or other.version is None or self.version == other.version


def stack_label(
    implementation: str, major: int | None = None, version: Version | None = None
) -> str:
    """The command-style name of a stack: ``("cpython", 3, (3, 11))`` -> ``python3.11``,
    ``("pypy", 3)`` -> ``pypy3``, ``("cpython",)`` -> ``python``."""
    head = "python" if implementation == "cpython" else "pypy"
    if version:
        return f"{head}{version[0]}.{version[1]}"
    return f"{head}{major}" if major else head


def classify_name(
    name: str, op: str | None = None, version: str | None = None, flavor: str = "rpm"
) -> Target | None:
    """The :class:`Target` a relation or package name names, None when it names no Python.

    Args:
        name: the relation's name (``python(abi)``, ``/usr/bin/python3``, ``python3-foo``);
            an RPM ISA suffix (``(x86-64)``) is ignored.
        op, version: its version constraint (only ``python(abi)`` needs it).
        flavor: ``"rpm"`` or ``"deb"`` (Debian's ``python``/``python-foo`` are Python 2).
    """
    name = _ISA.sub("", name.strip())
    if name == "python(abi)":
        if version and op in ("=", "==") and re.match(r"^\d+\.\d+$", version):
            ma, mi = version.split(".")
            return Target("cpython", int(ma), (int(ma), int(mi)), "abi")
        return Target("cpython", None, None, "abi")
    if name in _PYTHON_IS:
        return Target("cpython", _PYTHON_IS[name], None, "interpreter")
    if name in ("system-python", "platform-python", "python3-unversioned-command"):
        return Target("cpython", 3, None, "interpreter")
    if name == "python-unversioned-command":
        return Target("cpython", None, None, "interpreter")
    m = _BIN.match(name)
    if m:
        major = int(m["major"]) if m["major"] else None
        ver = (major, int(m["minor"])) if major and m["minor"] else None
        return Target(
            _impl(m["impl"]),
            major,
            ver,
            "interpreter",
            free_threaded="t" in m["flags"] and ver is not None,
        )
    m = _EGG3.match(name)
    if m:
        return Target("cpython", int(m["major"]), None, "dist", m["mod"])
    d = dist_name(name)
    if d is not None:
        ver = (d.major, d.minor) if d.major and d.minor is not None else None
        return Target(d.implementation, d.major, ver, "dist", d.module)
    lib = libpython(name)
    if lib is not None:
        return Target("cpython", lib[0], lib, "runtime")
    p = package_name(name)
    if p is not None:
        return _package_target(p, flavor)
    m = _SUFFIXED.match(name)
    if m and flavor == "rpm":  # Fedora's old libxml2-python / libxml2-python3 style
        major = int(m["major"]) if m["major"] else None
        return Target(_impl(m["impl"]), major, None, "module", m["base"])
    return None


def _package_target(p: PackageName, flavor: str) -> Target | None:
    rest, major = p.rest, p.major
    if rest and ("-" + rest).endswith(_NOT_MODULE_SUFFIX) and major is None:
        return None
    ver = (major, p.minor) if major and p.minor is not None else None
    if major is None and flavor == "deb" and p.implementation == "cpython":
        major = 2  # Debian: python, python-foo were Python 2's
    if rest is None or rest in RUNTIME_PARTS:
        return Target(p.implementation, major, ver, "interpreter" if rest is None else "runtime")
    if (
        ver is not None
        and p.implementation == "cpython"
        and p.dotted
        and (
            rest == FREETHREADING
            or (
                rest.startswith(FREETHREADING + "-")
                and rest[len(FREETHREADING) + 1 :] in RUNTIME_PARTS
            )
        )
    ):
        # the free-threaded interpreter of that version, not a module called "freethreading"
        return Target(
            p.implementation,
            major,
            ver,
            "interpreter" if rest == FREETHREADING else "runtime",
            prefix=p.prefix,
            free_threaded=True,
        )
    return Target(p.implementation, major, ver, "module", rest, p.prefix)
