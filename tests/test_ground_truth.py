"""Ground truth: every extension-module verdict equals what the real interpreter does.

For each extension module in the pinned wheels and .debs and each interpreter on this machine,
the interpreter itself is asked (in a subprocess) whether its own path finder picks the file
(``importlib.machinery.FileFinder`` with the interpreter's loaders; ``imp.find_module`` on 2.7),
whether the dynamic loader accepts it (``ctypes.CDLL`` with the interpreter's own
``sys.getdlopenflags()``, ``RTLD_NOW`` by default, as its import uses) and whether it exports
the init function that interpreter looks up.  The sibling
extension files of the same directory are copied too, so shadowing is real.  coinstall's verdict
for the file and that runtime must equal the answer, for every pair.
"""

from __future__ import annotations

import dataclasses
import json
import os
import posixpath
import subprocess
from pathlib import Path

import pytest

from coinstall.artifacts import open_artifact
from coinstall.files.location import Scope
from coinstall.files.verdict import classify, judge, wants_content
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes import discovery
from coinstall.runtimes.model import Runtime

# Runs unchanged on Python 2.7 and every 3.x: asks the interpreter's own finder and loader.
PROBE = r'''
import sys, os, json, ctypes
req = json.loads(sys.stdin.read())
out = []
for d, name, fname in req:
    found = None
    try:
        import importlib.machinery as machinery
        import importlib._bootstrap_external as bootstrap
        finder = machinery.FileFinder(d, *bootstrap._get_supported_file_loaders())
        spec = finder.find_spec(name)
        found = spec.origin if spec is not None else None
    except ImportError:
        import imp
        try:
            fh, found, _ = imp.find_module(name, [d])
            if fh:
                fh.close()
        except ImportError:
            found = None
    loaded = None
    if found == os.path.join(d, fname):
        try:
            lib = ctypes.CDLL(found, sys.getdlopenflags())
            init = ("PyInit_" if sys.version_info[0] >= 3 else "init") + name
            loaded = "ok" if hasattr(lib, init) else found + ": no " + init
        except OSError as exc:
            loaded = str(exc)
    out.append([found, loaded])
sys.stdout.write(json.dumps(out))
'''


@dataclasses.dataclass
class Case:
    artifact: str
    path: str          # member path
    local: str         # copied file on disk
    module: str        # module name the file would define for the runtime asked
    verdicts: dict[str, bool]


def _loads(loaded: str | None, own_path: str) -> bool:
    """True if ``dlopen`` accepted the file itself.  A missing *dependency* (another library
    named in the error) is not about this file's tags or architecture and counts as loaded."""
    if loaded == "ok":
        return True
    if loaded is None:
        return False
    return not loaded.startswith(own_path)


@pytest.fixture(scope="module")
def runtimes() -> list[Runtime]:
    found, _errors = discovery.discover()
    assert found, "no interpreter found on this machine"
    return found


def _cases(paths: list[Path], runtimes: list[Runtime], tmp: Path) -> list[Case]:
    cat = catalogue_mod.load()
    cases: list[Case] = []
    for art in paths:
        reader = open_artifact(str(art))
        records = []
        contents: dict[str, bytes] = {}
        for m in reader.members(wants_content):
            if m.type != "file":
                continue
            rec = classify(path=m.path, fmt=reader.info.format, head=m.head, content=m.content,
                           size=m.size, mode=m.mode, mtime=m.mtime, catalogue=cat)
            if rec.kind == "extension":
                rec.scope = Scope("any")  # the question here is the file, not its directory
                records.append(rec)
                assert m.content is not None
                contents[m.path] = m.content
        j = judge(records, runtimes)
        for rec in records:
            local = tmp / art.name / rec.import_path
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(contents[rec.path])
            stem = posixpath.basename(rec.import_path).split(".", 1)[0]
            cases.append(Case(str(art), rec.path, str(local), stem,
                              {rt.id: rt.id in j.usable[rec.path] for rt in runtimes}))
    return cases


def _ask(rt: Runtime, cases: list[Case]) -> list[tuple[str | None, str | None]]:
    assert rt.executable is not None
    req = [[os.path.dirname(c.local), c.module, os.path.basename(c.local)] for c in cases]
    proc = subprocess.run([rt.executable, "-E", "-s", "-c", PROBE], input=json.dumps(req),
                          capture_output=True, text=True, timeout=300, check=True)
    return [tuple(x) for x in json.loads(proc.stdout)]  # type: ignore[misc]


@pytest.mark.network
def test_extension_verdicts_equal_real_interpreters(
    corpus_wheels: dict[str, Path], corpus_debs: dict[str, Path], runtimes: list[Runtime],
    tmp_path: Path,
) -> None:
    cases = _cases(sorted(corpus_wheels.values()) + sorted(corpus_debs.values()), runtimes,
                   tmp_path)
    assert len(cases) > 50
    disagreements = []
    usable_pairs = 0
    for rt in runtimes:
        answers = _ask(rt, cases)
        for case, (found, loaded) in zip(cases, answers, strict=True):
            truth = found == case.local and _loads(loaded, case.local)
            ours = case.verdicts[rt.id]
            usable_pairs += truth
            if truth != ours:
                disagreements.append(f"{rt.id}: {case.path} ({case.artifact}): interpreter "
                                     f"{'uses' if truth else 'does not use'} it "
                                     f"(found={found}, dlopen={loaded}); coinstall says "
                                     f"{'usable' if ours else 'not usable'}")
    assert not disagreements, "\n".join(disagreements)
    # The corpus must exercise both answers for the interpreters here.
    assert usable_pairs > 0
    kinds = {rt.implementation for rt in runtimes}
    assert {"cpython", "pypy"} <= kinds
