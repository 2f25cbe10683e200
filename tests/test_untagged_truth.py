"""Ground truth for untagged extension modules (``NAME.so``): every (module, real interpreter)
pair agrees with what the interpreter does when it imports the module, or coinstall says
"cannot tell".

The modules are untagged copies of real wheels' and a real Debian build's modules: each wheel
is unpacked whole (its Python code beside the module, as installed) and its module renamed from
``NAME.cpython-312-x86_64-linux-gnu.so`` / ``NAME.abi3.so`` to ``NAME.so``.  Kinds:
version-specific (msgpack cp310-cp313, PyYAML cp36m/cp37m/cp311), limited API (bcrypt's
abi3 module), free-threaded (MarkupSafe cp313t), PyPy (numpy pp39), Python 2 (PyYAML
cp27mu, whose module is untagged already), debug (Debian python3.11-dbg's ``_testbuffer``).
Each interpreter on this machine (pyenv 2.7 and 3.6-3.13, Debian 3.11 and 3.11-dbg, PyPy,
and ``~/.cache/coinstall-test/interpreters/bin``'s when scripts/setup.sh made them) imports
each module in its own subprocess: exit status 0 is "uses it"; an ImportError or a signal is
"does not".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from coinstall.files.location import Scope
from coinstall.files.verdict import classify, judge
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes import discovery
from coinstall.runtimes.model import Runtime

CAT = catalogue_mod.load()
EXTRA = Path.home() / ".cache" / "coinstall-test" / "interpreters" / "bin"
DBG_DYNLOAD = Path("/usr/lib/python3.11/lib-dynload")

#: corpus wheel -> the module (member path) made untagged, and the import that loads it
WHEEL_CASES = {
    "msgpack-cp310": ("msgpack/_cmsgpack", "msgpack._cmsgpack"),
    "msgpack-cp311": ("msgpack/_cmsgpack", "msgpack._cmsgpack"),
    "msgpack-cp312": ("msgpack/_cmsgpack", "msgpack._cmsgpack"),
    "msgpack-cp313": ("msgpack/_cmsgpack", "msgpack._cmsgpack"),
    "pyyaml-cp36m": ("yaml/_yaml", "yaml._yaml"),
    "pyyaml-cp37m": ("yaml/_yaml", "yaml._yaml"),
    "pyyaml-cp311": ("yaml/_yaml", "yaml._yaml"),
    "bcrypt-abi3": ("bcrypt/_bcrypt", "bcrypt._bcrypt"),
    "markupsafe-cp313t": ("markupsafe/_speedups", "markupsafe._speedups"),
    # alone, outside numpy (whose package needs its other PyPy modules first)
    "numpy-pypy39": ("numpy/core/_rational_tests", "_rational_tests"),
    "pyyaml-cp27mu": ("yaml/_yaml", "yaml._yaml"),
}


@dataclass
class Case:
    label: str
    root: Path  # the directory put first on sys.path
    module: Path  # the untagged file
    dotted: str  # what to import


def _untagged_wheel(wheel: Path, stem: str, tmp: Path, label: str) -> Case:
    root = tmp / label
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(root)
    found = [p for p in root.rglob("*.so") if str(p.relative_to(root)).split(".", 1)[0] == stem]
    assert len(found) == 1, (label, found)
    dotted = WHEEL_CASES[label][1]
    target = root / (f"{stem}.so" if "." in dotted else f"{dotted}.so")
    if found[0] != target:
        found[0].rename(target)
    return Case(label, root, target, dotted)


def _cases(corpus_wheels: dict[str, Path], tmp: Path) -> list[Case]:
    cases = [
        _untagged_wheel(corpus_wheels[k], stem, tmp, k)
        for k, (stem, _dotted) in WHEEL_CASES.items()
    ]
    src = DBG_DYNLOAD / "_testbuffer.cpython-311d-x86_64-linux-gnu.so"
    assert src.exists(), "python3.11-dbg is part of the set-up (scripts/setup.sh)"
    root = tmp / "debian-3.11d"
    root.mkdir()
    shutil.copy(src, root / "_testbuffer.so")
    cases.append(Case("debian-3.11d", root, root / "_testbuffer.so", "_testbuffer"))
    return cases


@pytest.fixture(scope="module")
def runtimes() -> list[Runtime]:
    extra = [str(p) for p in sorted(EXTRA.glob("python3*"))] if EXTRA.is_dir() else []
    found, _errors = discovery.discover(extra)
    assert found
    return found


def _imports(rt: Runtime, case: Case) -> tuple[bool, str]:
    assert rt.executable is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    proc = subprocess.run(
        [rt.executable, "-E", "-s", "-c", f"import {case.dotted}"],
        cwd=case.root,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    return proc.returncode == 0, (proc.stderr.strip().splitlines() or [f"rc {proc.returncode}"])[
        -1
    ][:200] + (f" (signal {-proc.returncode})" if proc.returncode < 0 else "")


def test_untagged_verdicts_equal_real_imports(
    corpus_wheels: dict[str, Path], runtimes: list[Runtime], tmp_path: Path
) -> None:
    cases = _cases(corpus_wheels, tmp_path)
    wrong: list[str] = []
    agreed = open_pairs = usable_pairs = 0
    verdicts: dict[str, dict[str, str]] = {}
    for case in cases:
        data = case.module.read_bytes()
        rec = classify(
            path=f"{case.label}/{case.module.name}",
            fmt="wheel",
            head=data[:4096],
            content=data,
            size=len(data),
            mode=0o644,
            mtime=0,
            catalogue=CAT,
        )
        assert rec.kind == "extension", case.label
        rec.scope = Scope("any")
        j = judge([rec], runtimes)
        open_ = j.cannot_tell.get(rec.path, frozenset())
        verdicts[case.label] = {}
        for rt in runtimes:
            truth, err = _imports(rt, case)
            ours = rt.id in j.usable[rec.path]
            verdicts[case.label][rt.id] = (
                "cannot tell" if rt.id in open_ else "usable" if ours else "unusable"
            )
            if rt.id in open_:
                assert not ours
                open_pairs += 1
                continue
            usable_pairs += truth
            if truth != ours:
                wrong.append(
                    f"{case.label} on {rt.id}: the interpreter "
                    f"{'imports it' if truth else 'fails: ' + err}; coinstall says "
                    f"{'usable' if ours else 'unusable: ' + j.reasons[rec.path][rt.id]}"
                )
            else:
                agreed += 1
    for label, row in verdicts.items():
        print(label, {v: sorted(i for i in row if row[i] == v) for v in set(row.values())})
    assert not wrong, "\n".join(wrong)
    assert usable_pairs >= 6 and agreed > 100
    # the issue's example: a cp312 module renamed _cmsgpack.so is 3.12's alone
    mp = verdicts["msgpack-cp312"]
    assert [i for i, v in mp.items() if v == "usable"] == [
        rt.id for rt in runtimes if rt.version == (3, 12) and rt.implementation == "cpython"
    ]
    assert all(
        v == "usable"
        for i, v in verdicts["bcrypt-abi3"].items()
        if i.startswith("cpython-3.1") and "t" not in i.split("-")[1]
    )
