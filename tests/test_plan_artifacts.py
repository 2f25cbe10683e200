"""The planner on a directory of real .deb artifacts (pinned bookworm corpus): evidence from
file names and, for stable-ABI modules, the baseline read from the ELF imports."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from coinstall.plan import engine, load
from coinstall.plan.evidence import Classifier
from coinstall.runtimes import catalogue
from interpreters import pyenv_python

pytestmark = pytest.mark.network


def test_directory_of_debs(tmp_path: Path, corpus_debs: dict[str, Path]) -> None:
    for p in corpus_debs.values():
        shutil.copy(p, tmp_path)
    idx = load.load([str(tmp_path)], use_cache=False)
    assert not idx.problems and idx.binaries_total == len(corpus_debs)
    plan = engine.plan_transition(
        idx, Classifier(catalogue.load()), "add", (3, 12), (3, 11)
    ).to_json()
    by = {s["name"]: s for s in plan["sources"]}
    yaml = by["pyyaml"]["binaries"][0]
    assert yaml["verdict"] == "needs-build"
    assert any("extension tagged cpython-311" in r for r in yaml["reasons"])
    assert by["pyyaml"]["status"] == "rebuild"
    crypto = by["python-cryptography"]["binaries"][0]
    assert crypto["verdict"] == "independent"
    assert any(r.startswith("stable-ABI baseline 3.") for r in crypto["reasons"])
    assert by["six"]["status"] == "no-action"


def _pyenv(v: str) -> Path | None:
    return pyenv_python(v)


def test_verdicts_match_real_interpreters(tmp_path: Path, corpus_debs: dict[str, Path]) -> None:
    """Ground truth: the files of the .debs are unpacked and real 3.11 and 3.12 asked.

    python3-yaml (needs-build for 3.12): the import system of 3.11 finds its extension module
    yaml._yaml, 3.12's does not (FileFinder lookup only: nothing of the package runs).
    python3-six (independent): both import it.
    """
    import subprocess

    from coinstall.artifacts import open_artifact

    py = {v: _pyenv(v) for v in ("3.11", "3.12")}
    if not all(py.values()):
        pytest.skip("pyenv 3.11/3.12 not installed")
    for name in ("python3-yaml", "python3-six"):
        reader = open_artifact(str(corpus_debs[name]))
        for m in reader.members(lambda p, s: True):
            if m.type == "file" and m.content is not None:
                dest = tmp_path / m.path
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(m.content)
    site = tmp_path / "usr/lib/python3/dist-packages"
    find = (
        "import importlib.machinery as m, sys; "
        "f = m.FileFinder(sys.argv[1], (m.ExtensionFileLoader, m.EXTENSION_SUFFIXES)); "
        "print(f.find_spec('_yaml') is not None)"
    )
    six = "import sys; sys.path.insert(0, sys.argv[1]); import six; print(six.PY3)"
    out = {
        v: subprocess.run(
            [str(exe), "-I", "-c", find, str(site / "yaml")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for v, exe in py.items()
    }
    assert out == {"3.11": "True", "3.12": "False"}
    for exe in py.values():
        r = subprocess.run(
            [str(exe), "-I", "-c", six, str(site)], capture_output=True, text=True, check=True
        )
        assert r.stdout.strip() == "True"
    # ... and the planner says the same from the packages alone (single files as --repo).
    idx = load.load(
        [str(corpus_debs["python3-yaml"]), str(corpus_debs["python3-six"])], use_cache=False
    )
    plan = engine.plan_transition(idx, Classifier(catalogue.load()), "add", (3, 12), (3, 11))
    verdicts = {b.name: b.verdict for s in plan.sources.values() for b in s.binaries}
    assert verdicts == {"python3-yaml": "needs-build", "python3-six": "independent"}


def test_python3_defaults_release_is_no_runtime_range(corpus_debs: dict[str, Path]) -> None:
    """python3-tk Depends python3 (>= 3.10.8-0~), python3 (<< 3.12) and ships 3.11 modules:
    the planner pins it to 3.11 (its files) and takes no 3.10 build-range lower bound from the
    release number (dh-python would write python3 (>= 3.10~) for a 3.10 build): only a floor
    (not used with a python3 older than 3.10), said as such."""
    idx = load.load([str(corpus_debs["python3-tk"])], use_cache=False)
    rec = idx.binaries[0]
    assert "python3 (>= 3.10.8-0~)" in rec.depends
    ev = Classifier(catalogue.load()).classify(rec)
    assert ev.pins == {(3, 11)} and ev.low is None and ev.high == (3, 12)
    assert ev.floor == (3, 10)
    assert [r for r in ev.reasons if "3.10.8" in r] == [
        "Depends: python3 (>= 3.10.8-0~): needs a python3 of at least 3.10 (not a build range)"
    ]
