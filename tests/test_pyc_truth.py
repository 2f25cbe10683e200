"""Bytecode verdicts against the real interpreters.

Each interpreter compiles one module; every interpreter then imports each compiled file from a
directory that holds only that file (the legacy, sourceless location).  coinstall's verdict for
(file, runtime) must equal whether the import worked.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from coinstall.files import pyc
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes import discovery
from interpreters import EXPECTED_RUNTIMES, runtime_ids

COMPILE = r"""
import sys, py_compile
py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)
"""

IMPORT = r"""
import sys, json
out = []
for d, name in json.loads(sys.stdin.read()):
    sys.path.insert(0, d)
    try:
        mod = __import__(name)
        out.append(getattr(mod, "VALUE", None) == 42)
    except Exception:
        out.append(False)
    sys.path.pop(0)
sys.stdout.write(json.dumps(out))
"""


def test_sourceless_pyc_verdicts_equal_real_imports(tmp_path: Path) -> None:
    runtimes, errors = discovery.discover()
    assert not errors, errors
    # Every real interpreter of the set-up takes part (a test over no runtime cannot fail).
    missing = EXPECTED_RUNTIMES - runtime_ids(rt.id for rt in runtimes)
    assert not missing, f"not found: {sorted(missing)} (run scripts/setup.sh)"
    cat = catalogue_mod.load()
    src = tmp_path / "src.py"
    src.write_text("VALUE = 42\n")
    cases = []
    for i, rt in enumerate(runtimes):
        assert rt.executable
        d = tmp_path / f"d{i}"
        d.mkdir()
        name = f"mod{i}"
        out = d / f"{name}.pyc"
        subprocess.run(
            [rt.executable, "-E", "-s", "-c", COMPILE, str(src), str(out)],
            check=True,
            capture_output=True,
            timeout=60,
        )
        header = pyc.parse_header(out.read_bytes()[:16], cat)
        assert header.problem is None, (rt.id, header)
        assert header.magic == rt.magic, rt.id
        assert header.size == rt.pyc_header_size, rt.id
        loc = pyc.locate(f"{name}.pyc")
        assert loc is not None and not loc.pycache
        cases.append((str(d), name, header, loc, rt.id))
    disagreements = []
    for rt in runtimes:
        assert rt.executable
        req = json.dumps([[d, name] for d, name, *_ in cases])
        proc = subprocess.run(
            [rt.executable, "-E", "-s", "-c", IMPORT],
            input=req,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        for (_, _name, header, loc, writer), imported in zip(
            cases, json.loads(proc.stdout), strict=True
        ):
            ours = pyc.usable(header, loc, rt, has_source=False) is None
            if ours != imported:
                disagreements.append(
                    f"{rt.id} importing {writer}'s pyc: interpreter {imported}, coinstall {ours}"
                )
    assert not disagreements, "\n".join(disagreements)


def test_pycache_rules() -> None:
    cat = catalogue_mod.load()
    known = {r.id: r for r in cat.known()}
    head = (3531).to_bytes(2, "little") + b"\r\n" + bytes(12)
    h = pyc.parse_header(head, cat)
    loc = pyc.locate("pkg/__pycache__/m.cpython-312.opt-1.pyc")
    assert loc is not None and loc.pycache and loc.cache_tag == "cpython-312" and loc.opt == 1
    assert loc.source == "pkg/m.py"
    assert pyc.usable(h, loc, known["cpython-3.12"], has_source=True) is None
    assert pyc.usable(h, loc, known["cpython-3.12d"], has_source=True) is None
    assert "no source" in (pyc.usable(h, loc, known["cpython-3.12"], has_source=False) or "")
    assert "magic" in (pyc.usable(h, loc, known["cpython-3.11"], has_source=True) or "")
    bad = pyc.parse_header((3531).to_bytes(2, "little") + b"\r\n" + b"\x04" + bytes(11), cat)
    assert bad.problem and "invalid flags" in bad.problem
    short = pyc.parse_header((3531).to_bytes(2, "little") + b"\r\n", cat)
    assert short.problem and "truncated" in short.problem
    # 3.5.0-3.5.2 wrote 3350: the catalogue's 3.5 accepts both release values.
    h35 = pyc.parse_header((3350).to_bytes(2, "little") + b"\r\n" + bytes(8), cat)
    assert h35.size == 12
    loc35 = pyc.locate("__pycache__/m.cpython-35.pyc")
    assert loc35 is not None
    assert pyc.usable(h35, loc35, known["cpython-3.5"], has_source=True) is None
