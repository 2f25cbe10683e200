"""abi3t (PEP 803) needs the PEP 793 export hook: an untagged limited-API module without
``PyModExport_<name>`` is not abi3t, so a free-threaded CPython 3.15+ cannot load it (issue 18).

No 3.15 interpreter runs here: the inputs are tiny shared objects compiled in the test with the
system gcc, declaring the C-API symbols themselves (no Python headers): one imports
``PyModule_Create2`` (stable ABI 3.2) and exports ``PyInit_<name>`` only, the other also
exports ``PyModExport_<name>``.  Facts: ../shared/reference/cpython-abi.md §2.4 (PEP 803: the
free-threaded build does not load abi3; abi3t needs ``Py_mod_abi``, mandatory with the PEP 793
export hook; from 3.15 ``.abi3t.so``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from coinstall.files.extension import CannotTell
from coinstall.files.location import Scope
from coinstall.files.verdict import classify, judge
from coinstall.runtimes import catalogue as catalogue_mod

CAT = catalogue_mod.load()


def _module(tmp: Path, name: str, hook: bool) -> bytes:
    src = tmp / f"{name}.c"
    src.write_text(
        "extern void *PyModule_Create2(void *, int);\n"
        f"void *PyInit_{name}(void) {{ return PyModule_Create2((void *)0, 3); }}\n"
        + (f"void *PyModExport_{name}(void) {{ return (void *)0; }}\n" if hook else "")
    )
    out = tmp / f"{name}.so"
    gcc = shutil.which("gcc")
    assert gcc, "gcc is part of the set-up (scripts/setup.sh)"
    subprocess.run([gcc, "-shared", "-fPIC", "-o", str(out), str(src)], check=True, timeout=120)
    return out.read_bytes()


def _verdicts(data: bytes, name: str) -> tuple[set[str], dict[str, str], set[str]]:
    rec = classify(
        path=f"{name}.so",
        fmt="wheel",
        head=data[:4096],
        content=data,
        size=len(data),
        mode=0o644,
        mtime=0,
        catalogue=CAT,
    )
    assert rec.kind == "extension" and rec.elf is not None
    rec.scope = Scope("any")
    rts = [
        r
        for r in CAT.known()
        if r.id in ("cpython-3.13t", "cpython-3.14t", "cpython-3.15", "cpython-3.15t")
    ]
    assert len(rts) == 4
    j = judge([rec], rts)
    return (
        set(j.usable[rec.path]),
        j.reasons[rec.path],
        set(j.cannot_tell.get(rec.path, frozenset())),
    )


def test_limited_module_without_export_hook_is_not_abi3t(tmp_path: Path) -> None:
    usable, reasons, open_ = _verdicts(_module(tmp_path, "plain", hook=False), "plain")
    # the GIL 3.15 loads a limited-API module found as NAME.so
    assert usable == {"cpython-3.15"}
    assert not open_
    # 3.15t: no PyModExport_ hook, so not abi3t (the check this test exists for)
    assert "without a PEP 793 PyModExport_ hook is not abi3t" in reasons["cpython-3.15t"]
    assert not isinstance(reasons["cpython-3.15t"], CannotTell)
    # before 3.15 a free-threaded build loads no stable-ABI module at all
    for rid in ("cpython-3.13t", "cpython-3.14t"):
        assert "cannot load the GIL build's stable ABI" in reasons[rid], reasons[rid]


def test_limited_module_with_export_hook_is_left_open_on_315t(tmp_path: Path) -> None:
    usable, reasons, open_ = _verdicts(_module(tmp_path, "hooked", hook=True), "hooked")
    assert usable == {"cpython-3.15"}
    # the hook alone does not prove abi3t (an abi3 module may have it too): cannot tell
    assert open_ == {"cpython-3.15t"}
    assert "PEP 793 export hook" in reasons["cpython-3.15t"]
    assert "cannot load the GIL build's stable ABI" in reasons["cpython-3.14t"]
