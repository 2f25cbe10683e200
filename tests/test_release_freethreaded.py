"""``coinstall check --release`` on the free-threaded rows, run as a user runs it (a separate
process), each 3.15/3.15t cell compared with what the real pip picks.

The release is made from the pinned bcrypt 4.2.1 ``cp39-abi3`` wheels (x86_64, aarch64), copied
into a temporary directory and retagged with ``wheel tags`` (never in the shared corpus):
``cp315-abi3.abi3t`` (PEP 803's compressed tag set) on aarch64, ``cp315-cp315t`` beside the
original ``cp39-abi3`` on x86_64; a second directory holds the tags no installer accepts
(``cp315t-abi3t``, ``cp314t-abi3t``; scikit-build-core #1378/#1380/#1556).

Ground truth: pip 26.3 (its vendored packaging 26.3 knows ``abi3t``, packaging issue #1099),
downloaded from PyPI into the test's directory and run from its wheel.  The pip installed in
the test environment (23.2.1, vendoring packaging 21.3) does not know ``abi3t`` — and picks the
``cp39-abi3`` wheel for ``--abi cp314t``, which a free-threaded build cannot load: the test
asserts that too, so that a newer pip installed here is noticed; for that pip the comparison is
with packaging.tags (26.x) instead.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.tags import Tag, cpython_tags

from coinstall.release import platform_tags
from coinstall.runtimes.platforms import DEFAULT_GRID

BIN = Path(sys.executable).parent
PIP_PIN = "26.3"


def _coinstall(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "coinstall"), "check", "--release", "--no-installed", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _retag(src: Path, out: Path, *tags: str) -> Path:
    work = out / "src"
    work.mkdir(parents=True, exist_ok=True)
    copy = Path(shutil.copy(src, work / src.name))
    res = subprocess.run(
        [sys.executable, "-m", "wheel", "tags", "--remove", *tags, str(copy)],
        capture_output=True,
        text=True,
        check=True,
        cwd=work,
    )
    made = work / res.stdout.strip().splitlines()[-1]
    moved = Path(shutil.move(made, out / made.name))
    shutil.rmtree(work)
    return moved


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests import corpus

    x86, arm = corpus.wheel("bcrypt-abi3"), corpus.wheel("bcrypt-abi3-aarch64")
    out = tmp_path_factory.mktemp("release")
    _retag(arm, out, "--python-tag", "cp315", "--abi-tag", "abi3.abi3t")
    _retag(x86, out, "--python-tag", "cp315", "--abi-tag", "cp315t")
    shutil.copy(x86, out / x86.name)
    assert sorted(p.name for p in out.iterdir()) == [
        "bcrypt-4.2.1-cp315-abi3.abi3t-manylinux_2_28_aarch64.whl",
        "bcrypt-4.2.1-cp315-cp315t-manylinux_2_28_x86_64.whl",
        "bcrypt-4.2.1-cp39-abi3-manylinux_2_28_x86_64.whl",
    ]
    return out


@pytest.fixture(scope="module")
def new_pip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("pip")
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
            "-d",
            str(d),
            f"pip=={PIP_PIN}",
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )
    (whl,) = d.glob(f"pip-{PIP_PIN}-*.whl")
    return whl


def _download_args(links: Path, version: str, abi: str, plats: list[str], dest: Path) -> list[str]:
    """``pip download`` arguments for bcrypt from ``links`` as a CPython ``version``/``abi``
    interpreter on ``plats`` would choose it, into ``dest``."""
    args = [
        "download",
        "--quiet",
        "--no-deps",
        "--disable-pip-version-check",
        "--no-index",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        version,
        "--abi",
        abi,
        "--find-links",
        str(links),
        "-d",
        str(dest),
    ]
    for p in plats:
        args += ["--platform", p]
    return [*args, "bcrypt"]


def _pip_pick(
    pip: list[str], links: Path, version: str, abi: str, plats: list[str], dest: Path
) -> str | None:
    shutil.rmtree(dest, ignore_errors=True)
    cmd = [*pip, *_download_args(links, version, abi, plats, dest)]
    subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    got = sorted(dest.glob("*.whl")) if dest.is_dir() else []
    return got[0].name if got else None


#: Runs pip's own command-line entry point once per argument list (a JSON list on stdin) in
#: one interpreter: the real pip's choice for each cell without paying pip's start-up once per
#: cell (27 cells); the exit statuses go to the file named by argv[2].
_PIP_BATCH = """
import json, sys
sys.path.insert(0, sys.argv[1])
from pip._internal.cli.main import main
codes = [main(args) for args in json.load(sys.stdin)]
with open(sys.argv[2], "w") as f:
    json.dump(codes, f)
"""


def _pip_picks(
    pip_wheel: Path, links: Path, cells: list[tuple[str, str, list[str]]], work: Path
) -> list[str | None]:
    """pip's pick (the wheel file name, None if none) for each ``(version, abi, platform
    tags)`` in ``cells``: one ``pip download`` each, as :func:`_pip_pick`, run by
    :data:`_PIP_BATCH` in one process."""
    jobs, dests = [], []
    for i, (version, abi, plats) in enumerate(cells):
        dest = work / f"dl{i}"
        dests.append(dest)
        jobs.append(_download_args(links, version, abi, plats, dest))
    codes = work / "codes.json"
    subprocess.run(
        [sys.executable, "-c", _PIP_BATCH, str(pip_wheel), str(codes)],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    out: list[str | None] = []
    for dest in dests:
        got = sorted(dest.glob("*.whl")) if dest.is_dir() else []
        out.append(got[0].name if got else None)
    # each run succeeded exactly when it downloaded a wheel
    assert [c == 0 for c in json.loads(codes.read_text())] == [w is not None for w in out]
    return out


def test_315_cells_are_pips_choice(release: Path, new_pip: Path, tmp_path: Path) -> None:
    res = _coinstall("--format", "json", str(release))
    assert res.returncode == 1, res.stderr  # inconsistencies (below), no error
    doc = json.loads(res.stdout)["release"]
    cells = {(c["runtime"], c["platform"]): c for c in doc["cells"]}
    keys = [r["key"] for r in doc["runtimes"]]
    assert {"cp315", "cp315t"} <= set(keys)
    grid = [
        (rt, version, abi, plat)
        for rt, version, abi in (
            ("cp315", "3.15", "cp315"),
            ("cp315t", "3.15", "cp315t"),
            ("cp314t", "3.14", "cp314t"),
        )
        for plat in DEFAULT_GRID
    ]
    picks = _pip_picks(
        new_pip, release, [(v, abi, platform_tags(plat)) for _, v, abi, plat in grid], tmp_path
    )
    for (rt, _, _, plat), picked in zip(grid, picks, strict=True):
        cell = cells[(rt, plat.key)]
        assert cell["wheel"] == picked, (rt, plat.key, cell, picked)
        assert cell["status"] == ("none" if picked is None else cell["status"])
    x86, arm = "manylinux_x86_64", "manylinux_aarch64"
    # abi3.abi3t serves both builds of 3.15; abi3 serves the GIL one only
    assert cells[("cp315", arm)]["tag"] == "cp315-abi3-manylinux_2_28_aarch64"
    assert cells[("cp315t", arm)]["tag"] == "cp315-abi3t-manylinux_2_28_aarch64"
    assert cells[("cp315", x86)]["wheel"] == "bcrypt-4.2.1-cp39-abi3-manylinux_2_28_x86_64.whl"
    assert cells[("cp315t", x86)]["tag"] == "cp315-cp315t-manylinux_2_28_x86_64"
    # 3.14t: the abi3 wheel is not broken, pip just never picks it for t
    t14 = cells[("cp314t", x86)]
    assert t14["status"] == "none"
    assert "pip would never pick bcrypt-4.2.1-cp39-abi3" in t14["reason"]
    kinds = {(i["kind"], i["wheel"]) for i in doc["inconsistencies"]}
    assert ("free-threaded-source-only", None) in kinds
    ft = [i["message"] for i in doc["inconsistencies"] if i["kind"] == "free-threaded-source-only"]
    assert any("3.14t" in m and "Linux x86_64 (glibc)" in m for m in ft), ft
    assert not any("3.15t" in m for m in ft), ft  # 3.15t has its wheels
    text = _coinstall(str(release))
    flat = " ".join(text.stdout.split())
    assert "abi3t cp315" in flat and "free-threaded-source-only" in flat


def test_installed_pip_lacks_abi3t_packaging_is_the_reference(
    release: Path, tmp_path: Path
) -> None:
    """The installed pip predates abi3t: it says nothing about 3.15t; this pip even hands the
    abi3 wheel to a 3.14t.  packaging.tags (the library the grid uses) is the reference."""
    from pip._vendor.packaging import tags as pip_tags

    knows = any(t.abi == "abi3t" for t in pip_tags.cpython_tags((3, 15), ["cp315t"], ["any"]))
    assert not knows, "the installed pip knows abi3t now: compare with it in the test above"
    old = _pip_pick(
        [sys.executable, "-m", "pip"],
        release,
        "3.14",
        "cp314t",
        ["manylinux_2_28_x86_64"],
        tmp_path / "dl",
    )
    assert old == "bcrypt-4.2.1-cp39-abi3-manylinux_2_28_x86_64.whl"  # pip < 24 with packaging 21
    ft = list(cpython_tags((3, 15), ["cp315t"], ["manylinux_2_28_aarch64"]))
    assert Tag("cp315", "abi3t", "manylinux_2_28_aarch64") in ft
    assert Tag("cp39", "abi3", "manylinux_2_28_aarch64") not in ft
    assert not any(t.interpreter.endswith("t") for t in ft)


def test_tags_no_installer_accepts(tmp_path: Path) -> None:
    from tests import corpus

    x86 = corpus.wheel("bcrypt-abi3")
    _retag(x86, tmp_path, "--python-tag", "cp315t", "--abi-tag", "abi3t")
    _retag(x86, tmp_path, "--python-tag", "cp314t", "--abi-tag", "abi3t")
    res = _coinstall("--format", "json", str(tmp_path))
    assert res.returncode == 1, res.stderr
    doc = json.loads(res.stdout)["release"]
    bad = sorted(
        i["wheel"] for i in doc["inconsistencies"] if i["kind"] == "tag-no-installer-accepts"
    )
    assert bad == [
        "bcrypt-4.2.1-cp314t-abi3t-manylinux_2_28_x86_64.whl",
        "bcrypt-4.2.1-cp315t-abi3t-manylinux_2_28_x86_64.whl",
    ]
    assert all(c["status"] == "none" for c in doc["cells"])
