"""The per-file shortcuts of classification decide as the plain code did: the scope is decided
once per directory (location.scope_of), bytecode names are recognised by their ending before
the regular expression runs (pyc.locate), and the members a reader must keep whole are told
from their base name first (verdict.wants_content).  Paths: every member of the pinned
bookworm .debs and of the RPM corpus, plus names a hostile archive may hold."""

from __future__ import annotations

import posixpath
from pathlib import Path

from coinstall.artifacts import open_artifact
from coinstall.files import extension as ext
from coinstall.files import pyc
from coinstall.files.location import _scope_of_dir, scope_of
from coinstall.files.verdict import wants_content
from corpus import RPM_DIR

HOSTILE = [
    "",
    "x",
    "/",
    "//",
    "a//b",
    "usr/lib/python3.11/",
    "usr/lib/python3.11",
    "lib/python3.11/x",
    "usr/lib/python3/dist-packages/__pycache__/m.cpython-311.pyc\n",
    "usr/lib/python3/dist-packages/m.pyc\n",
    "__pycache__/m.cpython-311.opt-1.pyc",
    "a/__pycache__/m.pyc",
    "a/site-packages/x/lib/python3.12t/site-packages/y.py",
    "usr/lib/pypy3/dist-packages/lib/python2/dist-packages/z.py",
    "m.pyo",
    "a/b.pyo\n\n",
    "x.dist-info/METADATA",
    "a/x.dist-info/RECORD",
    "a/x.egg-info/PKG-INFO",
    "a/x.egg-info",
    "a/x.dist-info//METADATA",
    "a/x.egg-info/",
    "METADATA",
    "a/b/c.so",
    "a/x.dist-info/RECORD\n",
]


def _paths(corpus_debs: dict[str, Path]) -> list[str]:
    paths = list(HOSTILE)
    for pkg in [*corpus_debs.values(), *sorted(RPM_DIR.glob("*.rpm"))]:
        paths += [m.path for m in open_artifact(str(pkg)).members(lambda p, s: False)]
    return paths


def _wants_content_plain(path: str, size: int) -> bool:
    """wants_content as it was written before its shortcut."""
    if ext.is_extension_name(path):
        return True
    base = posixpath.basename(path)
    parent = posixpath.basename(posixpath.dirname(path))
    if parent.endswith(".dist-info") and base in ("METADATA", "RECORD"):
        return True
    return (parent.endswith(".egg-info") and base == "PKG-INFO") or (
        path.endswith(".egg-info") and size < 1 << 20
    )


def test_shortcuts_decide_as_the_plain_code(corpus_debs: dict[str, Path]) -> None:
    paths = _paths(corpus_debs)
    assert len(paths) > 2000
    for p in paths:
        # _scope_of_dir is the whole computation; scope_of runs it on the directory only
        assert scope_of(p) == _scope_of_dir(p), p
        assert pyc.locate(p) == _locate_plain(p), p
        for size in (0, 1 << 20):
            assert wants_content(p, size) == _wants_content_plain(p, size), p


def _locate_plain(path: str) -> pyc.PycLocation | None:
    """pyc.locate without its ending check."""
    m = pyc._PYCACHE_RE.match(path)
    if m:
        e = m["ext"]
        opt = int(m["opt"]) if m["opt"] else (1 if e == "pyo" else 0)
        return pyc.PycLocation(True, f"{m['dir']}{m['name']}.py", m["tag"], opt, e)
    if path.endswith((".pyc", ".pyo")):
        if "/__pycache__/" in f"/{path}":
            return None
        return pyc.PycLocation(False, path[:-1], None, 1 if path.endswith(".pyo") else 0, path[-3:])
    return None


def test_bytecode_name_ending_in_newline_still_recognised() -> None:
    loc = pyc.locate("usr/lib/python3/dist-packages/__pycache__/m.cpython-311.pyc\n")
    assert loc is not None and loc.pycache and loc.cache_tag == "cpython-311"
