"""Pinned real repository indices for the plan tests and benchmarks.

Debian bookworm's full amd64 ``Packages.xz`` and ``Sources.xz`` of the point release whose
``InRelease`` is dated 2026-07-11 (sha256 values below are the ones that ``InRelease`` lists),
fetched once from deb.debian.org into ``<repo>/.cache/plan`` (or ``$COINSTALL_TEST_CACHE/plan``)
and checked by sha256 on every use.  When a later point release replaces these files on the
mirror, the download no longer matches and the fetch fails loudly: update the pins from the new
``InRelease`` then.

Run ``python tests/plan_corpus.py`` to pre-fetch.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MIRROR = "https://deb.debian.org/debian/dists/bookworm/"

BOOKWORM: dict[str, tuple[str, str, int]] = {
    "Packages.xz": (
        "main/binary-amd64/Packages.xz",
        "9e0b5aabb2465b3d2e7a7fe27f9913846277833f7a2826e7767acccff5b588c5",
        8790396,
    ),
    "Sources.xz": (
        "main/source/Sources.xz",
        "92d11a035571df011f06f28c61cb9825130ef1d92abb2f2e0525e8674dc44af8",
        9491888,
    ),
}


def cache_dir() -> Path:
    base = os.environ.get("COINSTALL_TEST_CACHE")
    return (Path(base) if base else REPO_ROOT / ".cache") / "plan"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def bookworm(name: str) -> Path:
    """The pinned file ``Packages.xz`` or ``Sources.xz``, downloaded if missing.

    Raises:
        RuntimeError: the download does not match the pinned sha256.
    """
    rel, sha, size = BOOKWORM[name]
    d = cache_dir()
    d.mkdir(parents=True, exist_ok=True)
    path = d / name
    if path.exists() and path.stat().st_size == size and _sha256(path) == sha:
        return path
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    os.close(fd)
    urllib.request.urlretrieve(MIRROR + rel, tmp)
    got = _sha256(Path(tmp))
    if got != sha:
        os.unlink(tmp)
        raise RuntimeError(f"{MIRROR}{rel}: sha256 {got}, pinned {sha} (new point release?)")
    os.replace(tmp, path)
    return path


if __name__ == "__main__":
    for n in BOOKWORM:
        print(bookworm(n))
    sys.exit(0)
