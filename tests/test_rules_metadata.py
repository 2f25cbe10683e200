"""Metadata rules (Requires-Python, wheel tags) on built and real packages; pip, the real
interpreters and check-wheel-contents on the same wheels."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import build
from coinstall.check import check
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes.inventory import combine
from interpreters import PYENV_VERSIONS

CAT = catalogue_mod.load()
KNOWN = combine([], CAT)
PYENV = PYENV_VERSIONS
#: check-wheel-contents as installed with the test extras: beside the interpreter running the
#: tests (the venv's bin/, whichever venv that is), else on PATH.
CWC = str(Path(sys.executable).parent / "check-wheel-contents")
if not os.access(CWC, os.X_OK):
    CWC = shutil.which("check-wheel-contents") or CWC


def _pyenv(version: str) -> Path:
    found = sorted(PYENV.glob(f"{version}.*/bin/python{version}"))
    if not found:
        pytest.skip(f"no pyenv Python {version}")
    return found[0]


def _found(path: Path, rule: str) -> list[tuple[str | None, str]]:
    res = check([str(path)], KNOWN, CAT)
    assert not res.errors, res.errors
    return [(f.path, f.message) for f in res.artifacts[0].findings if f.rule == rule]


def _so(whl: Path) -> tuple[str, bytes]:
    with zipfile.ZipFile(whl) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".so"))
        return name, zf.read(name)


# ----------------------------------------------------------- requires-python-excludes-runtime


@pytest.mark.network
def test_requires_python_excludes_wheel_tag(corpus_wheels: dict[str, Path], tmp_path: Path) -> None:
    _, so = _so(corpus_wheels["pyyaml-cp311"])
    w = build.wheel(
        tmp_path,
        "oldtag",
        "1.0",
        {"oldtag/_x.cpython-38-x86_64-linux-gnu.so": so, "oldtag/__init__.py": ""},
        tag="cp38-cp38-manylinux_2_17_x86_64",
        requires_python=">=3.9",
    )
    hits = _found(w, "requires-python-excludes-runtime")
    assert len(hits) == 1 and "Requires-Python >=3.9 excludes 3.8" in hits[0][1]
    # pip on the real 3.8 refuses the wheel for exactly that reason.
    py38 = _pyenv("3.8")
    proc = subprocess.run(
        [
            str(py38),
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--no-deps",
            "--no-index",
            "--disable-pip-version-check",
            "--target",
            str(tmp_path / "t"),
            str(w),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0 and "requires a different Python" in proc.stderr


def test_requires_python_excludes_versioned_dir(tmp_path: Path) -> None:
    d = "usr/lib/python3.11/dist-packages/"
    deb = build.deb(
        tmp_path,
        "python3-new",
        "1.0-1",
        {
            d + "new/__init__.py": "",
            d + "new-1.0.dist-info/METADATA": (
                "Metadata-Version: 2.1\nName: new\nVersion: 1.0\nRequires-Python: >=3.12\n\n"
            ),
        },
    )
    hits = _found(deb, "requires-python-excludes-runtime")
    assert len(hits) == 1 and "excludes 3.11" in hits[0][1] and "python3.11" in hits[0][1]
    ok = build.deb(
        tmp_path,
        "python3-ok",
        "1.0-1",
        {
            d + "ok/__init__.py": "",
            d + "ok-1.0.dist-info/METADATA": (
                "Metadata-Version: 2.1\nName: ok\nVersion: 1.0\nRequires-Python: >=3.8\n\n"
            ),
        },
    )
    assert not _found(ok, "requires-python-excludes-runtime")


@pytest.mark.network
def test_requires_python_silent_on_real_packages(
    corpus_wheels: dict[str, Path], corpus_debs: dict[str, Path], corpus_rpms: list[Path]
) -> None:
    # click 8.2.0 (>=3.10, py3-none-any) and bcrypt (cp39-abi3, >=3.7) among them.
    for p in [*corpus_wheels.values(), *corpus_debs.values(), *corpus_rpms]:
        assert not _found(p, "requires-python-excludes-runtime"), p


# ----------------------------------------------------------------- wheel-tag-mismatch


@pytest.fixture()
def yaml311(corpus_wheels: dict[str, Path]) -> tuple[str, bytes]:
    return _so(corpus_wheels["pyyaml-cp311"])


@pytest.mark.network
def test_wheel_tag_mismatch_cp312_tag_cp311_module(
    yaml311: tuple[str, bytes], tmp_path: Path
) -> None:
    name, so = yaml311
    w = build.wheel(
        tmp_path,
        "PyYAML",
        "6.0.2",
        {name: so, "yaml/__init__.py": ""},
        tag="cp312-cp312-manylinux_2_17_x86_64",
    )
    hits = _found(w, "wheel-tag-mismatch")
    assert hits == [
        (name, "_yaml.cpython-311-x86_64-linux-gnu.so is cp311 but the wheel's ABI tags are cp312")
    ]
    # The real 3.12 (which pip would install this wheel for) does not find the module.
    site = tmp_path / "site"
    with zipfile.ZipFile(w) as zf:
        zf.extractall(site)
    proc = subprocess.run(
        [str(_pyenv("3.12")), "-c", "import yaml._yaml"],
        cwd=site,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "ModuleNotFoundError" in proc.stderr


@pytest.mark.network
def test_wheel_tag_mismatch_abi3_pure_and_purelib(
    yaml311: tuple[str, bytes], corpus_wheels: dict[str, Path], tmp_path: Path
) -> None:
    name, so = yaml311
    abi3 = build.wheel(tmp_path, "a3", "1.0", {name: so}, tag="cp39-abi3-manylinux_2_17_x86_64")
    assert (
        "version-specific (cp311) in a stable-ABI wheel" in _found(abi3, "wheel-tag-mismatch")[0][1]
    )
    bname, bso = _so(corpus_wheels["bcrypt-abi3"])
    pure = build.wheel(tmp_path, "pure", "1.0", {bname: bso})
    assert "in a pure wheel (py3-none-any)" in _found(pure, "wheel-tag-mismatch")[0][1]
    purelib = build.wheel(
        tmp_path,
        "pl",
        "1.0",
        {name: so},
        tag="cp311-cp311-manylinux_2_17_x86_64",
        root_is_purelib=True,
    )
    assert [m for _, m in _found(purelib, "wheel-tag-mismatch")] == [
        "_yaml.cpython-311-x86_64-linux-gnu.so is an extension module but WHEEL says "
        "Root-Is-Purelib: true (it would install into purelib)"
    ]
    # In .data/platlib it is where it belongs.
    platlib = build.wheel(
        tmp_path,
        "pl2",
        "1.0",
        {f"pl2-1.0.data/platlib/{name}": so},
        tag="cp311-cp311-manylinux_2_17_x86_64",
        root_is_purelib=True,
    )
    assert not _found(platlib, "wheel-tag-mismatch")


def test_wheel_tag_mismatch_renamed_file(tmp_path: Path) -> None:
    w = build.wheel(tmp_path, "ren", "1.0", {"ren/__init__.py": ""}, tag="py3-none-any")
    renamed = w.with_name("ren-1.0-py2.py3-none-any.whl")
    w.rename(renamed)
    hits = _found(renamed, "wheel-tag-mismatch")
    assert hits == [
        (
            None,
            "the file name's tags (py2-none-any, py3-none-any) differ from "
            "WHEEL's Tag lines (py3-none-any)",
        )
    ]


@pytest.mark.network
def test_wheel_tag_mismatch_silent_on_real_wheels(corpus_wheels: dict[str, Path]) -> None:
    # cp27mu/cp36m/cp37m, cp313t, pypy39_pp73, abi3 and pure wheels.
    for p in corpus_wheels.values():
        assert not _found(p, "wheel-tag-mismatch"), p


@pytest.mark.network
def test_check_wheel_contents_has_no_tag_check(yaml311: tuple[str, bytes], tmp_path: Path) -> None:
    """Parity record: check-wheel-contents (W001-W202) checks the library layout, not tags
    against files; on wheels coinstall rejects for their tags it reports nothing."""
    name, so = yaml311
    wheels = [
        build.wheel(
            tmp_path,
            "PyYAML",
            "6.0.2",
            {name: so, "yaml/__init__.py": ""},
            tag="cp312-cp312-manylinux_2_17_x86_64",
        ),
        build.wheel(tmp_path, "pyyaml-pure", "6.0.2", {name: so, "yaml/__init__.py": ""}),
    ]
    for w in wheels:
        assert _found(w, "wheel-tag-mismatch")
        proc = subprocess.run(
            [CWC, "--no-config", str(w)], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0 and "OK" in proc.stdout, proc.stdout


@pytest.mark.network
def test_wheel_tag_mismatch_interpreter_tag_with_none_abi(
    yaml311: tuple[str, bytes], tmp_path: Path
) -> None:
    name, so = yaml311
    w = build.wheel(tmp_path, "old", "1.0", {name: so}, tag="cp312-none-linux_x86_64")
    assert _found(w, "wheel-tag-mismatch") == [
        (
            name,
            (
                "_yaml.cpython-311-x86_64-linux-gnu.so is for CPython 3.11 but the wheel's "
                "interpreter tags are cp312"
            ),
        )
    ]
    ok = build.wheel(tmp_path, "old2", "1.0", {name: so}, tag="cp311-none-linux_x86_64")
    assert not _found(ok, "wheel-tag-mismatch")
