"""The pinned corpus is fetched, complete and made of well-formed files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from corpus import DEB_SHA256, DEBS, RPM_DIR, WHEEL_SHA256, WHEELS, apt_spec, pip_target_args


def test_pins_are_consistent() -> None:
    assert len(set(WHEELS.values())) == len(WHEELS)
    assert set(WHEEL_SHA256) == set(WHEELS)
    assert set(DEB_SHA256) == set(DEBS)
    assert "numpy-2.1.3-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl" in (
        WHEELS.values()
    )
    assert "python3-yaml_6.0-3+b2_amd64.deb" in DEBS.values()


def test_target_derivation() -> None:
    assert pip_target_args(WHEELS["pyyaml-cp27mu"]) == [
        "--python-version", "2.7", "--implementation", "cp",
        "--abi", "cp27mu", "--platform", "manylinux1_x86_64",
    ]  # fmt: skip
    assert pip_target_args(WHEELS["numpy-pypy39"])[:6] == [
        "--python-version", "3.9", "--implementation", "pp", "--abi", "pypy39_pp73",
    ]  # fmt: skip
    assert apt_spec(DEBS["python3-numpy"]) == "python3-numpy:amd64=1:1.24.2-1+deb12u1"
    assert apt_spec(DEBS["python3-six"]) == "python3-six=1.16.0-4"


@pytest.mark.network
def test_wheels_present_and_valid(corpus_wheels: dict[str, Path]) -> None:
    assert set(corpus_wheels) == set(WHEELS)
    for name, path in corpus_wheels.items():
        assert path.name == WHEELS[name]
        assert path.is_file() and path.stat().st_size > 0
        assert zipfile.is_zipfile(path), path
        with zipfile.ZipFile(path) as zf:
            assert any(n.endswith(".dist-info/WHEEL") for n in zf.namelist()), path


@pytest.mark.network
def test_debs_present_and_valid(corpus_debs: dict[str, Path]) -> None:
    assert set(corpus_debs) == set(DEBS)
    for name, path in corpus_debs.items():
        assert path.name == DEBS[name]
        assert path.is_file() and path.stat().st_size > 0
        with path.open("rb") as fh:
            assert fh.read(8) == b"!<arch>\n", path


@pytest.mark.network
def test_rpms_present_and_valid(corpus_rpms: list[Path]) -> None:
    assert corpus_rpms == sorted(corpus_rpms)
    for path in corpus_rpms:
        assert path.parent == RPM_DIR
        assert path.stat().st_size > 0
        with path.open("rb") as fh:
            assert fh.read(4) == b"\xed\xab\xee\xdb", path  # RPM lead magic
