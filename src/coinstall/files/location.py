"""Which runtimes have a file's directory on their import path.

A wheel's paths are relative to the site directory the installer picks, so every runtime is in
scope.  A system package's or a directory's absolute paths are on a runtime's path when:

* the runtime is installed and a ``sys.path`` entry of its contains the file (it told us);
* the runtime is a catalogue entry and the path follows the layout CPython and the
  distributions use: ``lib[64]/pythonX.Y[t]/`` (CPython ``configure.ac`` LIBDEST, with
  ``ABI_THREAD`` for free-threaded builds; debug builds share the directory), Debian's shared
  ``/usr/lib/python3/dist-packages`` (Debian Python Policy, "Module Path") for every CPython 3,
  ``lib/pypyX.Y/`` and Debian's ``/usr/lib/pypy3/dist-packages`` for PyPy.

Paths outside any Python directory (``/usr/share/foo``, ``/usr/bin``) restrict nothing.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

from coinstall.runtimes.model import Runtime

_VERSIONED = re.compile(r"(?:^|/)lib(?:64)?/(?P<impl>python|pypy)(?P<v>\d)\.(?P<m>\d+)(?P<t>t?)/")
_DEBIAN_PY3 = re.compile(r"(?:^|/)lib/python3/dist-packages/")
_DEBIAN_PYPY3 = re.compile(r"(?:^|/)lib/pypy3/dist-packages/")
_DEBIAN_PY2 = re.compile(r"(?:^|/)lib/python2/dist-packages/")


#: The kind of Python directory a path lies in (:attr:`Scope.kind`).
ScopeKind = Literal["any", "versioned", "shared"]


@dataclass(frozen=True)
class Scope:
    """The Python directory a path lies in.

    Attributes:
        kind: ``"any"`` (no Python directory: no restriction), ``"versioned"``
            (``lib/pythonX.Y``), ``"shared"`` (Debian's ``python3/dist-packages``).
        implementation: ``"cpython"`` or ``"pypy"`` for versioned and shared scopes.
        version: ``(X, Y)`` for a versioned scope; ``(X, -1)`` for a shared one.
        free_threaded: the directory is a free-threaded build's (``python3.13t``).
        root: the directory prefix (``usr/lib/python3.11/``), "" for ``any``.
        site: True if the file is below a ``site-packages``/``dist-packages`` directory.
    """

    kind: ScopeKind
    implementation: str | None = None
    version: tuple[int, int] | None = None
    free_threaded: bool = False
    root: str = ""
    site: bool = False

    def describe(self) -> str:
        """``"/usr/lib/python3.11/"`` or ``"any directory"``."""
        return f"/{self.root}" if self.root else "any directory"


def scope_of(path: str) -> Scope:
    """The :class:`Scope` of a relative installed path (no leading slash).

    Every pattern ends in ``/``, so the scope is that of the path's directory (the prefix up
    to its last ``/``): decided once per directory and shared (frozen) by the files in it.
    """
    return _scope_of_dir(path[: path.rfind("/") + 1])


@functools.lru_cache(maxsize=1024)  # a package's files sit in a few hundred directories
def _scope_of_dir(path: str) -> Scope:
    site = "/site-packages/" in f"/{path}" or "/dist-packages/" in f"/{path}"
    m = _VERSIONED.search(path)
    if m:
        impl = "cpython" if m["impl"] == "python" else "pypy"
        return Scope(
            "versioned", impl, (int(m["v"]), int(m["m"])), bool(m["t"]), path[: m.end()], site
        )
    for rx, impl, major in (
        (_DEBIAN_PY3, "cpython", 3),
        (_DEBIAN_PYPY3, "pypy", 3),
        (_DEBIAN_PY2, "cpython", 2),
    ):
        m = rx.search(path)
        if m:
            return Scope("shared", impl, (major, -1), False, path[: m.end()], True)
    return Scope("any", site=site)


@functools.lru_cache(maxsize=64)  # one per installed runtime: asked for every file of a tree
def _entry_prefixes(sys_path: tuple[str, ...]) -> tuple[str, ...]:
    """``sys.path`` entries as directory prefixes (``/usr/lib/python3.11/``), empty ones left
    out (the current directory: no installed file lies under it by that name)."""
    return tuple(entry.rstrip("/") + "/" for entry in sys_path if entry)


def in_scope(scope: Scope, runtime: Runtime, abs_path: str | None) -> str | None:
    """Whether ``runtime`` has the file on its import path: None if so, else the reason.

    Args:
        scope: from :func:`scope_of`.
        runtime: the runtime asked about.
        abs_path: the file's absolute path on this machine when the artifact is an installed
            tree (installed runtimes then answer from their ``sys.path``); None for files in a
            package, which are not installed here.
    """
    if runtime.installed and abs_path is not None and runtime.sys_path:
        if abs_path.startswith(_entry_prefixes(runtime.sys_path)):
            return None
        if scope.kind == "any":
            return None
        return f"{scope.describe()} is not on {runtime.id}'s sys.path"
    if scope.kind == "any":
        return None
    if runtime.installed and "/" + scope.root.rstrip("/") in runtime.sys_path:
        return None  # e.g. Debian's pypy3 has /usr/lib/python3/dist-packages on its path
    if runtime.implementation != scope.implementation:
        return f"{scope.describe()} belongs to {scope.implementation}, not {runtime.id}"
    assert scope.version is not None
    if scope.kind == "shared":
        if runtime.version[0] != scope.version[0]:
            return f"{scope.describe()} is for Python {scope.version[0]}, not {runtime.id}"
        return None
    if runtime.version != scope.version:
        return f"{scope.describe()} is not {runtime.id}'s directory"
    if runtime.free_threaded != scope.free_threaded:
        kind = "a free-threaded" if scope.free_threaded else "a GIL"
        return f"{scope.describe()} is {kind} build's directory, not {runtime.id}'s"
    return None
