"""The benchmark's pin list (``benchmarks/bench_corpus.py``) is well-formed: every pin can be
fetched by the test corpus' downloaders and names one exact file.  No timing here."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

from packaging.tags import Tag
from packaging.utils import parse_wheel_filename

import corpus

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_corpus.py"
SHA256 = re.compile(r"[0-9a-f]{64}")


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_corpus", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_corpus", module)
    spec.loader.exec_module(module)
    return module


def _tags(filename: str) -> frozenset[Tag]:
    return parse_wheel_filename(filename)[3]


def test_bench_pins_are_well_formed() -> None:
    bench = _bench()
    wheels, debs = bench.all_wheels(), bench.all_debs()
    # own keys never shadow the test corpus' (all_wheels/all_debs merge the two dicts)
    assert not set(bench.WHEELS) & set(corpus.WHEELS)
    assert not set(bench.DEBS) & set(corpus.DEBS)
    assert len(wheels) >= 30 and len(debs) >= 30
    files = [f for f, _ in [*wheels.values(), *debs.values()]]
    assert len(set(files)) == len(files)
    for filename, sha256 in [*wheels.values(), *debs.values()]:
        assert SHA256.fullmatch(sha256), filename
    for filename, _ in wheels.values():
        parse_wheel_filename(filename)  # raises InvalidWheelFilename
        assert corpus.pip_target_args(filename)[0] == "--python-version"  # raises CorpusError
    for filename, _ in debs.values():
        spec = corpus.apt_spec(filename)
        assert spec.startswith(filename.split("_")[0]) and "=" in spec, filename
        assert filename.removesuffix(".deb").rsplit("_", 1)[1] in ("all", "amd64"), filename


def test_bench_wheels_cover_every_kind() -> None:
    wheels = [f for f, _ in _bench().all_wheels().values()]
    abis = [{t.abi for t in _tags(f)} for f in wheels]
    assert sum(a == {"abi3"} for a in abis) >= 5
    assert sum(a == {"none"} for a in abis) >= 10
    assert sum(bool(a & {"cp312", "cp313", "cp313t", "cp311"}) for a in abis) >= 8
    assert any(t.interpreter.startswith("pp") for f in wheels for t in _tags(f))


def test_generic_platform_wheel_downloads_as_pure_python() -> None:
    # ruff's wheel holds one executable: tagged py3-none-<platform>, fetchable by any Python 3
    assert corpus.pip_target_args(
        "ruff-0.8.3-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl") == [
        "--python-version", corpus.PURE_PY3_TARGET, "--implementation", "py", "--abi", "none",
        "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64",
    ]  # fmt: skip
