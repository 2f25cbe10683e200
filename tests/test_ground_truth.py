"""Ground truth: every extension-module verdict equals what the real interpreter does.

For each extension module in the pinned wheels and .debs and each interpreter on this machine,
the interpreter itself is asked (in a subprocess) whether its own path finder picks the file
(``importlib.machinery.FileFinder`` with the interpreter's loaders; ``imp.find_module`` on 2.7),
whether the dynamic loader accepts it (``ctypes.CDLL`` with the interpreter's own
``sys.getdlopenflags()``, ``RTLD_NOW`` by default, as its import uses) and whether it exports
the init function that interpreter looks up.  The sibling
extension files of the same directory are copied too, so shadowing is real.  Each file the
interpreter picks and loads is then imported for real (its init function run), in a child
process: one killed by a signal (the segfault of an abi3 module on a free-threaded build, PEP
803) does not use it.  coinstall's verdict for the file and that runtime must equal the answer,
for every pair.

The interpreters: every one discovery finds, which in the tests includes Debian's 3.13 and
3.14 and the free-threaded 3.13t of ``scripts/interpreters.sh`` (see ``tests/interpreters.py``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import posixpath
import re
import subprocess
from pathlib import Path

import pytest

from coinstall.artifacts import open_artifact
from coinstall.files.location import Scope
from coinstall.files.verdict import classify, judge, wants_content
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes import discovery
from coinstall.runtimes.model import Runtime
from interpreters import EXPECTED_RUNTIMES, runtime_ids

# Runs unchanged on Python 2.7 and every 3.x: asks the interpreter's own finder and loader.
PROBE = r"""
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
"""


# Imports each module for real (2.7 and 3.x), announcing each index before and after: the
# driver tells the module that killed the process from the last index without its "ok".
IMPORT = r"""
import sys, json
req = json.loads(sys.stdin.read())
for i, (name, path) in enumerate(req):
    sys.stdout.write("start %d\n" % i)
    sys.stdout.flush()
    try:
        if sys.version_info[0] >= 3:
            import importlib.util
            importlib.util.module_from_spec(importlib.util.spec_from_file_location(name, path))
        else:
            import imp
            imp.load_dynamic(name, path)
    except BaseException:
        pass  # an exception raised by the module's init: it was loaded and run
    sys.stdout.write("ok %d\n" % i)
    sys.stdout.flush()
"""


@dataclasses.dataclass
class Case:
    artifact: str
    path: str  # member path
    local: str  # copied file on disk
    module: str  # module name the file would define for the runtime asked
    verdicts: dict[str, bool]
    dotted: str  # the module's full name (``yaml._yaml``)


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


def _cases(
    paths: list[Path],
    runtimes: list[Runtime],
    tmp: Path,
    cannot_tell: dict[int, frozenset[str]] | None = None,
) -> list[Case]:
    """Every extension module of ``paths`` written under ``tmp`` with coinstall's verdict per
    runtime; ``cannot_tell`` (when given) gets, per case index, the runtimes the verdict leaves
    open (test_newer_truth)."""
    cat = catalogue_mod.load()
    cases: list[Case] = []
    for art in paths:
        reader = open_artifact(str(art))
        records = []
        contents: dict[str, bytes] = {}
        for m in reader.members(wants_content):
            if m.type != "file":
                continue
            rec = classify(
                path=m.path,
                fmt=reader.info.format,
                head=m.head,
                content=m.content,
                size=m.size,
                mode=m.mode,
                mtime=m.mtime,
                catalogue=cat,
            )
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
            dotted = posixpath.join(posixpath.dirname(rec.import_path), stem).replace("/", ".")
            if cannot_tell is not None:
                cannot_tell[len(cases)] = j.cannot_tell.get(rec.path, frozenset())
            cases.append(
                Case(
                    str(art),
                    rec.path,
                    str(local),
                    stem,
                    {rt.id: rt.id in j.usable[rec.path] for rt in runtimes},
                    dotted,
                )
            )
    return cases


def _ask(rt: Runtime, cases: list[Case]) -> list[tuple[str | None, str | None]]:
    assert rt.executable is not None
    req = [[os.path.dirname(c.local), c.module, os.path.basename(c.local)] for c in cases]
    proc = subprocess.run(
        [rt.executable, "-E", "-s", "-c", PROBE],
        input=json.dumps(req),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return [tuple(x) for x in json.loads(proc.stdout)]  # type: ignore[misc]


def _import_crashes(rt: Runtime, cases: list[Case]) -> dict[int, str]:
    """Import each case's file for real in ``rt``, in child processes: index in ``cases`` ->
    how the process died (``signal 11``, ``exit 1``) for each module whose import killed it.
    After a crash the rest are imported in a new process."""
    assert rt.executable is not None
    crashes: dict[int, str] = {}
    start = 0
    while start < len(cases):
        req = [[c.dotted, c.local] for c in cases[start:]]
        proc = subprocess.run(
            [rt.executable, "-E", "-s", "-c", IMPORT],
            input=json.dumps(req),
            capture_output=True,
            text=True,
            timeout=300,
            cwd="/",
        )
        marks = re.findall(r"^(start|ok) (\d+)$", proc.stdout, re.MULTILINE)
        done = {int(n) for w, n in marks if w == "ok"}
        if proc.returncode == 0 and len(done) == len(req):
            break
        started = [int(n) for w, n in marks if w == "start"]
        assert started and started[-1] not in done, (rt.id, proc.returncode, proc.stderr[-2000:])
        how = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit {proc.returncode}"
        crashes[start + started[-1]] = how
        start += started[-1] + 1
    return crashes


@dataclasses.dataclass(frozen=True)
class Outcome:
    """Every (runtime, module) pair where the interpreter and coinstall disagree, split into
    the known cases of issue 18 and the rest; plus counts that show the corpus exercised
    both answers."""

    disagreements: list[str]
    abi3_on_free_threaded: list[str]
    usable_pairs: int
    crashes: int
    #: abi3 modules a free-threaded build before 3.15 imported without crashing, which
    #: coinstall calls not usable: CPython does not support the stable ABI on free-threaded
    #: builds (PEP 703 "Limited C API and Stable ABI"; PEP 803 gives them abi3t from 3.15):
    #: the object header differs, so the module's inlined reference counting writes the wrong
    #: fields; that the import survived says nothing of what the module does next.
    unsupported_but_imported: list[str] = dataclasses.field(default_factory=list)


def _is_abi3_on_free_threaded(rt: Runtime, case: Case) -> bool:
    """Issue 18: an abi3 module on a free-threaded build before 3.15, picked by its
    ``.abi3.so`` suffix although the build does not support the stable ABI."""
    return rt.free_threaded and ".abi3." in posixpath.basename(case.path) and rt.version < (3, 15)


@pytest.fixture(scope="module")
def outcome(
    corpus_wheels: dict[str, Path],
    corpus_debs: dict[str, Path],
    runtimes: list[Runtime],
    tmp_path_factory: pytest.TempPathFactory,
) -> Outcome:
    tmp_path = tmp_path_factory.mktemp("ground-truth")
    cases = _cases(
        sorted(corpus_wheels.values()) + sorted(corpus_debs.values()), runtimes, tmp_path
    )
    assert len(cases) > 50
    disagreements: list[str] = []
    known: list[str] = []
    imported: list[str] = []
    usable_pairs = crashes = 0
    for rt in runtimes:
        answers = _ask(rt, cases)
        picked = [
            i
            for i, (c, (found, loaded)) in enumerate(zip(cases, answers, strict=True))
            if found == c.local and _loads(loaded, c.local)
        ]
        died = _import_crashes(rt, [cases[i] for i in picked])
        crashed = {picked[i]: how for i, how in died.items()}
        crashes += len(crashed)
        for i, (case, (found, loaded)) in enumerate(zip(cases, answers, strict=True)):
            truth = i in picked and i not in crashed
            ours = case.verdicts[rt.id]
            usable_pairs += truth
            if truth != ours:
                line = (
                    f"{rt.id}: {case.path} ({case.artifact}): interpreter "
                    f"{'uses' if truth else 'does not use'} it (found={found}, "
                    f"dlopen={loaded}, import={crashed.get(i, 'ok')}); coinstall says "
                    f"{'usable' if ours else 'not usable'}"
                )
                if _is_abi3_on_free_threaded(rt, case):
                    (known if ours else imported).append(line)
                else:
                    disagreements.append(line)
    return Outcome(disagreements, known, usable_pairs, crashes, imported)


@pytest.mark.network
def test_extension_verdicts_equal_real_interpreters(
    outcome: Outcome, runtimes: list[Runtime]
) -> None:
    assert not outcome.disagreements, "\n".join(outcome.disagreements)
    # The corpus must exercise both answers for the interpreters here.
    assert outcome.usable_pairs > 0
    # The real imports are run and tell: abi3 modules crash the free-threaded 3.13t.
    assert outcome.crashes > 0
    kinds = {rt.implementation for rt in runtimes}
    assert {"cpython", "pypy"} <= kinds
    # Among them the set-up's Debian 3.13 and 3.14 and the free-threaded 3.13t.
    missing = EXPECTED_RUNTIMES - runtime_ids(rt.id for rt in runtimes)
    assert not missing, f"not found: {sorted(missing)} (run scripts/setup.sh)"


@pytest.mark.network
def test_abi3_modules_on_free_threaded_builds_agree(outcome: Outcome) -> None:
    """No abi3 module is called usable by a free-threaded build before 3.15: most crash it on
    import (the corpus' Rust and C modules: signal 11); the cffi ones that survive the import
    are still outside what the build supports (:attr:`Outcome.unsupported_but_imported`)."""
    assert not outcome.abi3_on_free_threaded, "\n".join(outcome.abi3_on_free_threaded)
    assert outcome.crashes > 0
    for line in outcome.unsupported_but_imported:
        assert line.startswith("cpython-3.13t") and ".abi3.so" in line, line
