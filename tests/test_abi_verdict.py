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
        rec = classify(path=m.path, fmt=reader.info.format, head=m.head, content=m.content,
                       size=m.size, mode=m.mode, mtime=m.mtime, catalogue=CAT)
        if rec.kind == "extension":
            rec.scope = Scope("any")
            assert m.content is not None
            out.append((rec, m.content))
    return out


def judged(records: list[FileRecord], runtimes: list[Runtime]) -> Judgement:
    return judge(records, runtimes)


@pytest.mark.parametrize("name", ["cryptography-abi3", "bcrypt-abi3", "pynacl-abi3"])
def test_abi3_not_usable_on_freethreaded_before_315(corpus_wheels: dict[str, Path],
                                                     name: str) -> None:
    recs = [r for r, _ in extension_records(corpus_wheels[name]) if ".abi3." in r.path]
    assert recs
    rts = [KNOWN[i] for i in ("cpython-3.12", "cpython-3.13", "cpython-3.13t", "cpython-3.14t",
                              "cpython-3.13td", "cpython-3.15", "cpython-3.15t")]
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


def test_abi3_on_real_freethreaded_interpreter(corpus_wheels: dict[str, Path],
                                               tmp_path: Path) -> None:
    """The real 3.13t (built by scripts/setup.sh) fails importing an abi3 module."""
    exe = EXTRA / "python3.13t"
    if not exe.exists():
        pytest.skip(f"{exe} not built (scripts/setup.sh builds it)")
    for rec, data in extension_records(corpus_wheels["bcrypt-abi3"]):
        local = tmp_path / rec.import_path
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(data)
    proc = subprocess.run([str(exe), "-E", "-s", "-c", "import bcrypt._bcrypt"],
                          cwd=tmp_path, capture_output=True, timeout=120)
    assert proc.returncode != 0  # a signal (negative) or an ImportError: not usable
