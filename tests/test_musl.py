"""CPython <= 3.10 on musl says ``-linux-gnu`` in SOABI (no musl case in its configure's
platform triplet; bpo-43112 / python/cpython PR #24502 adds ``-linux-musl`` in 3.11), so the
musllinux wheels built for it name their modules ``.cpython-310-x86_64-linux-gnu.so``:
orjson 3.10.12's real musllinux wheels, judged by ``coinstall check --release`` as a user runs
it (a separate process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from coinstall.runtimes import catalogue

COINSTALL = Path(sys.executable).parent / "coinstall"
VERSIONS = ("38", "39", "310", "311", "312", "313")


def test_catalogue_musl_triplet_from_311() -> None:
    cat = catalogue.load()
    known = {rt.id: rt for rt in cat.known("linux", "x86_64-linux-musl")}
    assert known["cpython-3.10"].extension_suffixes[0] == ".cpython-310-x86_64-linux-gnu.so"
    assert known["cpython-3.10"].soabi == "cpython-310-x86_64-linux-gnu"
    assert known["cpython-3.10"].multiarch == "x86_64-linux-musl"  # the platform stays musl
    assert known["cpython-3.11"].extension_suffixes[0] == ".cpython-311-x86_64-linux-musl.so"
    assert known["cpython-3.13t"].soabi == "cpython-313t-x86_64-linux-musl"
    arm = {rt.id: rt for rt in cat.known("linux", "arm-linux-musleabihf")}
    assert arm["cpython-3.9"].extension_suffixes[0] == ".cpython-39-arm-linux-gnueabihf.so"
    # glibc unchanged
    gnu = {rt.id: rt for rt in cat.known("linux", "x86_64-linux-gnu")}
    assert gnu["cpython-3.10"].extension_suffixes[0] == ".cpython-310-x86_64-linux-gnu.so"


def test_orjson_musllinux_release(corpus_wheels: dict[str, Path], tmp_path: Path) -> None:
    d = tmp_path / "dist"
    d.mkdir()
    for v in VERSIONS:
        w = corpus_wheels[f"orjson-musl-cp{v}"]
        (d / w.name).symlink_to(w)
    proc = subprocess.run(
        [str(COINSTALL), "check", "--release", "--no-installed", "--format", "json", str(d)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # 0: no cp313t wheel, 3.13t needs a source build where 3.13 has one (the only finding, a
    # note: no contradiction in the release)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rel = json.loads(proc.stdout)["release"]
    assert {i["kind"] for i in rel["inconsistencies"]} == {"free-threaded-source-only"}
    assert not [i for i in rel["inconsistencies"] if i["kind"] == "tag-files-disagree"]
    cells = {(c["runtime"], c["platform"]): c for c in rel["cells"]}
    for v in VERSIONS:
        cell = cells[(f"cp{v}", "musllinux_x86_64")]
        assert cell["status"] == "version-specific" and cell["verdict"] == "full", cell
