"""Where the tests find pyenv's real interpreters: ``$PYENV_ROOT/versions`` (``~/.pyenv`` when
``PYENV_ROOT`` is unset, which is also what ``pyenv root`` prints then), the same directory
runtime discovery searches (:func:`coinstall.runtimes.discovery.find_candidates`)."""

from __future__ import annotations

import os
from pathlib import Path

#: ``$PYENV_ROOT`` or ``~/.pyenv``.
PYENV_ROOT = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
#: Where pyenv keeps one directory per installed version (``3.12.7/``).
PYENV_VERSIONS = PYENV_ROOT / "versions"


def pyenv_python(version: str) -> Path | None:
    """The newest pyenv interpreter ``pythonX.Y`` of ``version`` (``"3.12"``), None if none
    is installed."""
    found = sorted(PYENV_VERSIONS.glob(f"{version}.*/bin/python{version}"))
    return found[-1] if found else None
