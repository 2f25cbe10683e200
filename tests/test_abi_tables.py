"""The ABI tables (src/coinstall/runtimes/data/abi_symbols.json) against the real interpreters
they were read from, and against CPython's stable-ABI manifest."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from coinstall.runtimes import abi
from coinstall.stable_abi import stable_abi_baseline

REPO = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location(
    "gen_abi_symbols", REPO / "scripts" / "gen_abi_symbols.py"
)
assert spec is not None and spec.loader is not None
gen = importlib.util.module_from_spec(spec)
sys.modules["gen_abi_symbols"] = gen
spec.loader.exec_module(gen)


def test_complete_tables_equal_what_the_interpreters_export() -> None:
    data = abi.load()
    seen = 0
    for rid, exe, label in gen._interpreters():
        exports, _files = gen._read(exe)
        if rid == "cpython-2.7" and any(s.startswith("PyUnicodeUCS4_") for s in exports):
            rid = "cpython-2.7u"
        t = data.tables.get(rid)
        assert t is not None and t.complete, f"{label}: no table {rid} (regenerate)"
        assert t.symbols <= exports, (label, sorted(t.symbols - exports)[:5])
        assert exports - t.symbols <= t.varies, (label, sorted(exports - t.symbols)[:5])
        seen += 1
    assert seen >= 11  # pyenv 2.7, 3.6-3.13, Debian 3.11 and 3.11-dbg


def test_markers_and_stable_abi() -> None:
    data = abi.load()
    t = data.tables
    assert {"_Py_NegativeRefcount", "_Py_RefTotal"} <= t["cpython-3.11d"].symbols
    assert not data.debug & t["cpython-3.11"].symbols
    assert not data.freethreaded & t["cpython-3.13"].symbols
    assert "Py_InitModule4_64" in t["cpython-2.7u"].symbols
    assert "PyErr_SetString" not in t["pypy-3.9-pp73"].symbols  # cpyext renames the C-API
    assert any(s.startswith("PyPyErr_") for s in t["pypy-3.9-pp73"].symbols)
    # every stable-ABI symbol the manifest dates at or before X.Y is exported by the real X.Y
    # (without its ifdef entries), except PyCFunction_New, which 3.9 made a macro only
    # (pyenv 3.9.18 does not export it)
    gaps = {
        (rt.runtime, s)
        for rt in data.release_chain
        for s in gen._stable_abi(rt.version) - rt.symbols
    }
    assert gaps == {("cpython-3.9", "PyCFunction_New")}
    assert stable_abi_baseline(frozenset(gen._stable_abi((3, 12)))) == (3, 12)
    # the versions the issue quotes: PyFloat_Unpack4 is new in 3.11 (the 3.10 failure),
    # _PyThreadState_UncheckedGet gone in 3.13
    assert "PyFloat_Unpack4" not in t["cpython-3.10"].symbols
    assert "PyFloat_Unpack4" in t["cpython-3.11"].symbols
    assert "_PyThreadState_UncheckedGet" in t["cpython-3.12"].symbols
    assert "_PyThreadState_UncheckedGet" not in t["cpython-3.13"].symbols
    assert "PyUnstable_Code_NewWithPosOnlyArgs" not in t["cpython-3.11"].symbols
