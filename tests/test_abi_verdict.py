"""Verdicts from the module's ABI, not only its name (issue 18): abi3 modules on free-threaded
builds, untagged modules decided from their symbols, the "cannot tell" state.

Judged on real wheels' modules; where a real interpreter of the runtime is on this machine,
the interpreter's own import (in a subprocess: a signal is a failure) is the truth.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from coinstall.artifacts import open_artifact
from coinstall.files.location import Scope
from coinstall.files.verdict import FileRecord, Judgement, classify, judge, wants_content
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes.model import Runtime

CAT = catalogue_mod.load()
KNOWN = {rt.id: rt for rt in CAT.known()}
EXTRA = Path.home() / ".cache" / "coinstall-test" / "interpreters" / "bin"


def extension_records(wheel: Path) -> list[tuple[FileRecord, bytes]]:
    """The extension modules of an artifact, classified as check does, with their bytes."""
    reader = open_artifact(str(wheel))
    out = []
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
            catalogue=CAT,
        )
        if rec.kind == "extension":
            rec.scope = Scope("any")
            assert m.content is not None
            out.append((rec, m.content))
    return out


def judged(records: list[FileRecord], runtimes: list[Runtime]) -> Judgement:
    return judge(records, runtimes)


@pytest.mark.parametrize("name", ["cryptography-abi3", "bcrypt-abi3", "pynacl-abi3"])
def test_abi3_not_usable_on_freethreaded_before_315(
    corpus_wheels: dict[str, Path], name: str
) -> None:
    recs = [r for r, _ in extension_records(corpus_wheels[name]) if ".abi3." in r.path]
    assert recs
    rts = [
        KNOWN[i]
        for i in (
            "cpython-3.12",
            "cpython-3.13",
            "cpython-3.13t",
            "cpython-3.14t",
            "cpython-3.13td",
            "cpython-3.15",
            "cpython-3.15t",
        )
    ]
    rts.append(next(rt for rt in CAT.known() if rt.id == "cpython-3.13t+debian"))
    j = judged(recs, rts)
    for r in recs:
        usable = j.usable[r.path]
        assert {"cpython-3.12", "cpython-3.13", "cpython-3.15"} <= usable, r.path
        for ft in ("cpython-3.13t", "cpython-3.14t", "cpython-3.13td", "cpython-3.13t+debian"):
            assert ft not in usable
            assert "PEP 803" in j.reasons[r.path][ft]
        # 3.15t does not even list .abi3.so
        assert "cpython-3.15t" not in usable
        assert "EXTENSION_SUFFIXES" in j.reasons[r.path]["cpython-3.15t"]


def test_abi3_on_real_freethreaded_interpreter(
    corpus_wheels: dict[str, Path], tmp_path: Path
) -> None:
    """The real 3.13t (built by scripts/setup.sh) fails importing an abi3 module."""
    exe = EXTRA / "python3.13t"
    if not exe.exists():
        pytest.skip(f"{exe} not built (scripts/setup.sh builds it)")
    for rec, data in extension_records(corpus_wheels["bcrypt-abi3"]):
        local = tmp_path / rec.import_path
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(data)
    proc = subprocess.run(
        [str(exe), "-E", "-s", "-c", "import bcrypt._bcrypt"],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode != 0  # a signal (negative) or an ImportError: not usable


def _untagged_wheel(src: Path, out_dir: Path) -> Path:
    """``src`` rewritten with its version-specific module renamed to ``NAME.so`` (the
    file name kept: the tags still say what the module was built for)."""
    import re
    import zipfile

    out = out_dir / src.name
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            name = re.sub(r"\.cpython-\d+[a-z]*-x86_64-linux-gnu\.so$", ".so", info.filename)
            zout.writestr(name, data)
    return out


def test_untagged_module_json_third_state(corpus_wheels: dict[str, Path], tmp_path: Path) -> None:
    """``coinstall check --format json`` (a separate process) on wheels whose module was made
    untagged: msgpack's cp312 module is 3.12's alone (3.10 lacks PyFloat_Unpack4, 3.11
    PyUnstable_Code_NewWithPosOnlyArgs, 3.13 _PyThreadState_UncheckedGet); the cp313 one fits
    3.13 and 3.14 alike: "cannot tell", listed in cannot_tell, not in usable_by."""
    import json
    import sys

    exe = Path(sys.executable).parent / "coinstall"
    docs = {}
    for v in ("312", "313"):
        whl = _untagged_wheel(corpus_wheels[f"msgpack-cp{v}"], tmp_path)
        proc = subprocess.run(
            [str(exe), "check", "--no-installed", "--format", "json", str(whl)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode in (0, 1), proc.stderr
        (art,) = json.loads(proc.stdout)["artifacts"]
        (f,) = [f for f in art["files"] if f["path"] == "msgpack/_cmsgpack.so"]
        docs[v] = (f, art)
        assert all(
            f.get("cannot_tell") is not None for f in art["files"] if f["kind"] == "extension"
        )
        assert all("cannot_tell" not in f for f in art["files"] if f["kind"] != "extension")
    f312, _ = docs["312"]
    assert [i for i in f312["usable_by"] if i.startswith("cpython")] == [
        "cpython-3.12",
        "cpython-3.12d",
    ]
    assert f312["cannot_tell"] == []
    f313, art = docs["313"]
    assert {"cpython-3.13", "cpython-3.14"} <= set(f313["cannot_tell"])
    assert not set(f313["cannot_tell"]) & set(f313["usable_by"])
    assert "cpython-3.13" not in f313["usable_by"] and "cpython-3.12" not in f313["usable_by"]
    assert art["compatibility"]["cpython-3.13"] != "full"
