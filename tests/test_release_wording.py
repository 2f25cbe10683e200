"""``coinstall check --release`` wording and cells, run as a user runs it (a separate process):
no grid for a directory without wheels; a ``cp38-none-win_amd64`` wheel labelled as the legend
says; one noun per count ("serves 1 cell", "1 wheel"); a ``linux_x86_64`` wheel serving the
musl columns as packaging.tags accepts it there, with the PyPI finding.

The retagged wheels are made with the ``wheel tags`` command from pinned corpus wheels copied
into a temporary directory (never in the shared corpus)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from coinstall.release import platform_tags
from coinstall.runtimes.platforms import DEFAULT_GRID

BIN = Path(sys.executable).parent


def _coinstall(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "coinstall"), "check", "--release", "--no-installed", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _retag(src: Path, out: Path, *tags: str) -> Path:
    """A copy of ``src`` retagged (``python -m wheel tags``; WHEEL and RECORD rewritten)."""
    work = out / "src"
    work.mkdir(exist_ok=True)
    copy = Path(shutil.copy(src, work / src.name))
    res = subprocess.run(
        [sys.executable, "-m", "wheel", "tags", "--remove", *tags, str(copy)],
        capture_output=True,
        text=True,
        check=True,
        cwd=work,
    )
    made = work / res.stdout.strip().splitlines()[-1]
    return Path(shutil.move(made, out / made.name))


def test_no_wheels_no_grid(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "demo-1.0.tar.gz").write_bytes(b"")
    res = _coinstall(str(tmp_path))
    assert res.returncode == 2
    assert "no wheels among the targets: no coverage grid" in res.stdout
    assert "source" not in res.stdout.replace("sdist", "")
    assert " : 0 wheels" not in res.stdout and "0 wheels; no grid" in res.stdout
    html = _coinstall("--format", "html", str(tmp_path))
    assert "No wheels among the targets" in html.stdout and 'id="grid"' not in html.stdout
    doc = json.loads(_coinstall("--format", "json", str(tmp_path)).stdout)
    assert doc["release"]["cells"] == []


def test_cp38_none_binary_label_and_plurals(corpus_wheels: dict[str, Path], tmp_path: Path) -> None:
    whl = _retag(
        corpus_wheels["requests"], tmp_path, "--python-tag", "cp38", "--platform-tag", "win_amd64"
    )
    assert whl.name.endswith("-cp38-none-win_amd64.whl")
    res = _coinstall(str(tmp_path))
    assert res.returncode in (0, 1), res.stderr
    out = " ".join(res.stdout.split())  # rich wraps the legend
    assert "cp38 bin" in out and "cpXY bin" in out
    assert f"{whl.name}: serves 1 cell " in out or out.count(f"{whl.name}: serves 1 cell") == 1
    assert "serves 1 cells" not in out
    assert ": 1 wheel" in out and "1 wheel;" in out
    assert "126 cells (14 runtimes x 9 platforms): 1 generic, 125 source (no wheel)" in out


def test_linux_wheel_serves_musl_and_is_not_for_pypi(
    corpus_wheels: dict[str, Path], tmp_path: Path
) -> None:
    whl = _retag(corpus_wheels["cryptography-abi3"], tmp_path, "--platform-tag", "linux_x86_64")
    res = _coinstall("--format", "json", str(tmp_path))
    assert res.returncode == 1, res.stderr  # the PyPI finding
    rel = json.loads(res.stdout)["release"]
    cells = {(c["runtime"], c["platform"]): c for c in rel["cells"]}
    for plat in ("manylinux_x86_64", "musllinux_x86_64"):
        assert cells[("cp312", plat)]["status"] == "abi3"
        assert cells[("cp312", plat)]["tag"] == "cp39-abi3-linux_x86_64"
    assert cells[("cp312", "musllinux_aarch64")]["status"] == "none"
    # the abi3 wheel leaves 3.13t-3.15t to a source build (free-threaded-source-only)
    (inc,) = [i for i in rel["inconsistencies"] if i["kind"] != "free-threaded-source-only"]
    assert inc["kind"] == "platform-tag-not-on-pypi" and "PyPI refuses" in inc["message"]
    # packaging.tags._linux_platforms yields linux_<arch> on both libcs
    musl = next(p for p in DEFAULT_GRID if p.key == "musllinux_x86_64")
    assert platform_tags(musl)[0] == "linux_x86_64"
    # ground truth on this (glibc) machine: the real pip, with no --platform, takes it
    dl = tmp_path / "dl"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            "--no-index",
            "--find-links",
            str(tmp_path),
            "-d",
            str(dl),
            "cryptography",
        ],
        check=True,
        timeout=300,
    )
    assert [p.name for p in dl.iterdir()] == [whl.name]
