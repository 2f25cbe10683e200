"""The per-file shortcuts of classification decide as the plain code did: the scope is decided
once per directory (location.scope_of), bytecode names are recognised by their ending before
the regular expression runs (pyc.locate), and the members a reader must keep whole are told
from their base name first (verdict.wants_content).  Paths: every member of the pinned
bookworm .debs and of the RPM corpus, plus names a hostile archive may hold."""

from __future__ import annotations

import compileall
import dataclasses
import posixpath
from pathlib import Path

from coinstall.artifacts import open_artifact
from coinstall.artifacts.tree import TreeReader
from coinstall.check import check_artifact
from coinstall.files import extension as ext
from coinstall.files import pyc
from coinstall.files.location import _scope_of_dir, in_scope, scope_of
from coinstall.files.verdict import classify, wants_content
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes.discovery import discover
from coinstall.runtimes.inventory import combine
from corpus import RPM_DIR

CAT = catalogue_mod.load()

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


def test_a_trees_verdicts_per_directory_are_the_per_file_ones(
    corpus_debs: dict[str, Path], tmp_path: Path
) -> None:
    """A directory's reader opens only the files whose bytes classification reads, and the
    import-path verdicts are decided once per directory (verdict.judge): the records are those
    of a walk that reads every file's head, and every runtime's verdict on every file is what
    location.in_scope says of that file (then pyc.usable for bytecode).  The tree: the real
    files of four bookworm .debs (python3-minimal's scripts), bytecode written by this
    interpreter, and an installed runtime whose sys.path holds one package directory of the
    shared dist-packages only."""
    root = tmp_path / "root"
    for name in ("python3-yaml", "python3-six", "python3-minimal", "libpython3.11-stdlib"):
        for m in open_artifact(str(corpus_debs[name])).members(lambda p, s: True):
            if m.type == "file" and m.content is not None:
                dest = root / m.path
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(m.content)
                dest.chmod(m.mode if m.mode is not None else 0o644)
    shared = root / "usr/lib/python3/dist-packages"
    assert compileall.compile_dir(str(shared), quiet=1, legacy=False)
    assert compileall.compile_file(str(shared / "six.py"), quiet=1, legacy=True)
    installed, _ = discover()
    base = next(rt for rt in installed if rt.sys_path)
    partial = dataclasses.replace(base, sys_path=(*base.sys_path, str(shared / "yaml")))
    rts = combine([partial, *(rt for rt in installed if rt is not base)], CAT)
    assert sum(rt.installed for rt in rts) >= 2 and len(rts) > 20

    res = check_artifact(str(root), rts, CAT)
    reader = TreeReader(str(root))
    plain = [
        classify(
            path=m.path,
            fmt="tree",
            head=m.head,
            content=m.content,
            size=m.size,
            mode=m.mode,
            mtime=m.mtime,
            catalogue=CAT,
            root=reader.root,
        )
        for m in reader.members(wants_content)  # every file opened, its head read
        if m.type == "file"
    ]
    assert res.records == plain and len(plain) > 300
    kinds = {r.kind for r in plain}
    assert {"bytecode", "extension", "source", "script"} <= kinds, kinds

    paths = {r.import_path for r in plain}
    decided = {rt.id: set() for rt in rts}
    for r in res.records:
        if r.kind in ("other", "script"):
            continue
        for rt in rts:
            said = res.judgement.reasons[r.path].get(rt.id)
            why = in_scope(r.scope, rt, r.abs_path)
            if why is not None:
                assert said == why, (r.path, rt.id)
            elif r.kind == "bytecode":
                assert r.pyc_header is not None and r.pyc_location is not None
                has_source = r.pyc_location.source in paths
                assert said == pyc.usable(r.pyc_header, r.pyc_location, rt, has_source)
            decided[rt.id].add(why is None)
    # the runtime with one package directory on its path: some directories are, some not
    assert decided[partial.id] == {True, False}
