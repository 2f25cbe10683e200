"""The planner on a directory of real .deb artifacts (pinned bookworm corpus): evidence from
file names and, for stable-ABI modules, the baseline read from the ELF imports."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from coinstall.plan import engine, load
from coinstall.plan.evidence import Classifier
from coinstall.runtimes import catalogue

pytestmark = pytest.mark.network


def test_directory_of_debs(tmp_path: Path, corpus_debs: dict[str, Path]) -> None:
    for p in corpus_debs.values():
        shutil.copy(p, tmp_path)
    idx = load.load([str(tmp_path)], use_cache=False)
    assert not idx.problems and idx.binaries_total == len(corpus_debs)
    plan = engine.plan_transition(idx, Classifier(catalogue.load()), "add", (3, 12),
                                  (3, 11)).to_json()
    by = {s["name"]: s for s in plan["sources"]}
    yaml = by["pyyaml"]["binaries"][0]
    assert yaml["verdict"] == "needs-build"
    assert any("extension tagged cpython-311" in r for r in yaml["reasons"])
    assert by["pyyaml"]["status"] == "rebuild"
    crypto = by["python-cryptography"]["binaries"][0]
    assert crypto["verdict"] == "independent"
    assert any(r.startswith("stable-ABI baseline 3.") for r in crypto["reasons"])
    assert by["six"]["status"] == "no-action"
