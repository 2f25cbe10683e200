"""Where the tests find the real interpreters beyond the system's own.

* pyenv's: ``$PYENV_ROOT/versions`` (``~/.pyenv`` when ``PYENV_ROOT`` is unset, which is also
  what ``pyenv root`` prints then), the same directory runtime discovery searches
  (:func:`coinstall.runtimes.discovery.find_candidates`).
* Debian trixie's CPython 3.13, sid's 3.14 and a free-threaded 3.13t built from trixie's
  python3.13 source, installed by ``scripts/interpreters.sh`` (called by ``scripts/setup.sh``)
  into a cache outside the clone: :data:`EXTRA_PYTHONS`.  They are wrapper scripts, which
  discovery does not pick up by scanning a directory, so ``tests/conftest.py`` names each of
  them in ``COINSTALL_PYTHONS`` (the variable :func:`~coinstall.runtimes.discovery.
  find_candidates` reads) for the whole test session.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

#: ``$PYENV_ROOT`` or ``~/.pyenv``.
PYENV_ROOT = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
#: Where pyenv keeps one directory per installed version (``3.12.7/``).
PYENV_VERSIONS = PYENV_ROOT / "versions"

#: ``scripts/interpreters.sh``'s cache: ``$COINSTALL_TEST_CACHE/interpreters``.
INTERPRETERS_CACHE = (
    Path(os.environ.get("COINSTALL_TEST_CACHE") or Path.home() / ".cache" / "coinstall-test")
    / "interpreters"
)
#: ``X.Y`` or ``X.Yt`` -> the ``#!/bin/sh`` wrapper that starts it (``exec ROOT/.../python3.X``):
#: Debian trixie's 3.13.5, sid's 3.14.10, 3.13.5t built with ``--disable-gil``.
EXTRA_PYTHONS: dict[str, Path] = {
    v: INTERPRETERS_CACHE / "bin" / f"python{v}" for v in ("3.13", "3.14", "3.13t")
}


def pyenv_python(version: str) -> Path | None:
    """The newest pyenv interpreter ``pythonX.Y`` of ``version`` (``"3.12"``), None if none
    is installed."""
    found = sorted(PYENV_VERSIONS.glob(f"{version}.*/bin/python{version}"))
    return found[-1] if found else None


def extra_python(version: str) -> str:
    """The wrapper of one of :data:`EXTRA_PYTHONS` (``"3.13t"``) as a str; fails the test
    (AssertionError) when ``scripts/setup.sh`` has not installed it."""
    path = EXTRA_PYTHONS[version]
    assert os.access(path, os.X_OK), f"{path} missing: run scripts/setup.sh"
    return str(path)


#: The runtime ids (without discovery's ``@X.Y.Z`` for shared ids) that discovery finds on a
#: machine set up by ``scripts/setup.sh``: pyenv's 2.7 and 3.6-3.13, Debian's 3.11 and its
#: debug build, Debian's PyPy, and the three of :data:`EXTRA_PYTHONS`.
EXPECTED_RUNTIMES = frozenset(
    {f"cpython-{v}" for v in ("3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14")}
    | {"cpython-2.7u", "cpython-3.11d", "cpython-3.13t", "pypy-3.9-pp73"}
)  # 2.7u: UCS-4


def runtime_ids(ids: Iterable[str]) -> set[str]:
    """Runtime ids without discovery's ``@X.Y.Z`` (``cpython-3.13@3.13.5`` -> ``cpython-3.13``)."""
    return {i.split("@")[0] for i in ids}
