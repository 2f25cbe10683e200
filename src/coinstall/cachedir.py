"""Where coinstall keeps its caches: one directory for every command's cache.

``$COINSTALL_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/coinstall``, else
``~/.cache/coinstall`` (XDG Base Directory Specification: ``$XDG_CACHE_HOME`` defaults to
``~/.cache``).  ``check``'s result cache (:mod:`coinstall.archive.cache`) is the SQLite file
there; ``plan``'s parsed-index cache (:mod:`coinstall.plan.load`) is its ``plan/``
subdirectory; ``coinstall cache info``/``clear`` report and empty both.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """The cache directory (not created)."""
    env = os.environ.get("COINSTALL_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg if xdg else Path.home() / ".cache") / "coinstall"
