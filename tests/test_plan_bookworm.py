"""The planner on Debian bookworm's full amd64 Packages and Sources (pinned), and beside ben."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from coinstall.plan import engine, load
from coinstall.plan.evidence import Classifier
from coinstall.runtimes import catalogue
from plan_corpus import bookworm

pytestmark = pytest.mark.network

BEN_TRACKER = """title = "python3.12-add";
architectures = [ "amd64" ];
is_affected = .depends ~ /python3 \\(<< 3\\.12\\)/ | .depends ~ /python3 \\(<< 3\\.13\\)/;
is_good = .depends ~ /python3 \\(<< 3\\.13\\)/;
is_bad = .depends ~ /python3 \\(<< 3\\.12\\)/;
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return load.load([str(bookworm("Packages.xz")), str(bookworm("Sources.xz"))], use_cache=False)


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(catalogue.load())


def _plan(index: Any, classifier: Classifier, kind: str) -> dict[str, Any]:
    if kind == "drop":
        p = engine.plan_transition(index, classifier, "drop", (3, 12), (3, 11))
    else:
        p = engine.plan_transition(index, classifier, kind, (3, 12), (3, 11))
    return p.to_json()


@pytest.fixture(scope="module")
def add(index: Any, classifier: Classifier) -> dict[str, Any]:
    return _plan(index, classifier, "add")


def _src(plan: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in plan["sources"] if s["name"] == name)


def test_counts_cover_every_source(add: dict[str, Any]) -> None:
    assert add["read"] == {
        "binaries": 63440,
        "sources": 34335,
        "distinct_sources": 34288,
        "skipped": 0,
    }
    # Distinct sources, not Sources paragraphs (issue 19 item 20).
    assert sum(add["counts"].values()) == add["read"]["distinct_sources"]
    assert add["counts"]["rebuild"] > 200 and add["counts"]["blocked"] > 300


def test_extension_module_rebuilt_in_wave_one(add: dict[str, Any]) -> None:
    s = _src(add, "apparmor")
    assert s["status"] == "rebuild" and s["wave"] == 1
    b = next(b for b in s["binaries"] if b["name"] == "python3-libapparmor")
    assert b["verdict"] == "needs-build" and b["built_for"] == ">= 3.11, < 3.12"
    assert "Depends: python3 (<< 3.12)" in b["reasons"]


def test_stable_abi_and_pure_need_no_action(add: dict[str, Any]) -> None:
    # python3-cryptography is built with the stable ABI (pyo3 abi3): unbounded python3.
    s = _src(add, "python-cryptography")
    assert s["status"] == "no-action" and "version-independent" in s["reasons"][0]
    assert _src(add, "requests")["status"] == "no-action"


def test_alternatives_do_not_constrain(add: dict[str, Any]) -> None:
    # python3-thinc: "python3-dataclasses | python3 (<< 3.7)"-style OR group is no bound.
    b = _src(add, "python-thinc")["binaries"][0]
    assert b["built_for"] == ">= 3.11, < 3.12" and b["verdict"] == "needs-build"


def test_python3_any_qualifier_counts(add: dict[str, Any]) -> None:
    s = _src(add, "python3-stdlib-extensions")
    assert s["status"] == "rebuild"
    assert any("python3:any (<< 3.12)" in r for r in s["reasons"])


def test_default_only_builds_wait_for_the_switch(
    index: Any, classifier: Classifier, add: dict[str, Any]
) -> None:
    # gdb embeds libpython3.11 (a program using the interpreter by name): fine beside 3.12.
    gdb = _src(add, "gdb")
    assert gdb["status"] == "no-action" and "uses python3.11 by name" in gdb["reasons"][0]
    # pytorch builds python3-torch for the default version only (Build-Depends python3-dev).
    torch = _src(add, "pytorch")
    assert torch["status"] == "blocked" and torch["wave"] is None
    assert "default runtime only" in torch["reasons"][0]
    default = _plan(index, classifier, "default")
    assert _src(default, "gdb")["status"] in ("rebuild", "blocked")
    assert _src(default, "gdb")["wave"] is not None
    assert _src(default, "pytorch")["wave"] is not None


def test_drop_lists_what_still_needs_the_old_runtime(index: Any, classifier: Classifier) -> None:
    drop = _plan(index, classifier, "drop")
    glue = _src(drop, "cluster-glue")
    assert glue["status"] == "blocked" and "still needs 3.11" in glue["reasons"][0]
    assert drop["counts"]["rebuild"] == 0  # nothing in bookworm is built for 3.12 yet


def test_runtime_sources_are_the_subject(add: dict[str, Any]) -> None:
    for name in ("python3.11", "python3-defaults"):
        assert _src(add, name)["status"] == "not-affected"


def test_waves_respect_build_dependencies(add: dict[str, Any]) -> None:
    by = {s["name"]: s for s in add["sources"]}
    for s in add["sources"]:
        if s["wave"] is None:
            continue
        for dep in s["waits_for"]:
            assert by[dep]["wave"] is not None and by[dep]["wave"] < s["wave"], (s["name"], dep)
        if s["wave"] > 1:
            assert s["status"] == "blocked"
    # numpy and cython build-depend on each other: one bootstrap group with closing edges.
    group = next(g for g in add["groups"] if "numpy" in g["members"])
    assert "cython" in group["members"]
    # cython build-depends on python3-numpy only <!nocheck>: the bootstrap edge Debian cuts.
    assert ["cython", "numpy"] in group["closing_edges"]
    assert ["cython", "numpy"] in group["profile_edges"]
    assert len(group["closing_edges"]) < len(group["members"])
    assert all(a in group["members"] and b in group["members"] for a, b in group["closing_edges"])
    assert _src(add, "numpy")["wave"] == group["wave"] == _src(add, "cython")["wave"]


@pytest.mark.skipif(shutil.which("ben") is None, reason="ben not installed")
def test_compared_with_ben(tmp_path: Path, add: dict[str, Any]) -> None:
    """Every source ben's tracker calls bad is tracked here, except the ones whose binaries
    use python3.11 by name only; every extra source has evidence ben's regex cannot see."""
    import lzma

    (tmp_path / "Packages_amd64").write_bytes(lzma.decompress(bookworm("Packages.xz").read_bytes()))
    (tmp_path / "Sources").write_bytes(lzma.decompress(bookworm("Sources.xz").read_bytes()))
    (tmp_path / "py.ben").write_text(BEN_TRACKER)
    out = subprocess.run(
        [
            "ben",
            "monitor",
            "--no-benrc",
            "--archs",
            "amd64",
            "--cache-dir",
            str(tmp_path),
            "-f",
            "json",
            str(tmp_path / "py.ben"),
        ],
        capture_output=True,
        check=True,
    ).stdout
    ben = {
        src: (int(level), st["amd64"])
        for level, srcs in json.loads(out).items()
        for src, st in srcs.items()
    }
    ours = {s["name"]: s for s in add["sources"]}
    tracked = {n for n, s in ours.items() if s["status"] in ("rebuild", "blocked")}
    assert len(ben) > 700
    for name, (_, status) in ben.items():
        assert status == "bad"  # nothing in bookworm is built for 3.12
        assert name in tracked, (name, ours.get(name))
    for name in tracked - set(ben):
        evid = [
            r for b in ours[name]["binaries"] if b["verdict"] == "needs-build" for r in b["reasons"]
        ]
        assert not any("python3 (<< 3.12)" in r for r in evid), name
    # Same first wave: what ben puts at level 0 and we can build now is our wave 1, except
    # members of the numpy/cython bootstrap group (ben ignores Build-Depends it cannot
    # resolve among affected sources differently; see the note).
    level0 = [n for n, (lv, _) in ben.items() if lv == 0 and ours[n]["wave"] is not None]
    first = [n for n in level0 if ours[n]["wave"] == 1]
    assert len(first) >= 0.95 * len(level0)


def test_cli_end_to_end(tmp_path: Path) -> None:
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    out = tmp_path / "plan.json"
    cmd = [
        sys.executable,
        "-m",
        "coinstall",
        "plan",
        "add",
        "3.12",
        "--from",
        "3.11",
        "--repo",
        str(bookworm("Packages.xz")),
        "--repo",
        str(bookworm("Sources.xz")),
        "--format",
        "json",
        "-o",
        str(out),
    ]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text())
    assert data["format"] == "coinstall-plan/1" and data["counts"]["rebuild"] > 200
    text = subprocess.run(
        [*cmd[:-4], "--repo", str(tmp_path / "nope")], env=env, capture_output=True, text=True
    )
    assert text.returncode == 2 and "nope: no such file or directory" in text.stderr
    assert "Plan: add Python 3.12 beside 3.11" in text.stdout
    bad = subprocess.run(
        [*cmd[:5], "3.99", "--from", "3.11", "--repo", str(out)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "not in the runtime catalogue" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_plan_format_doc_example_is_this_run(
    add: dict[str, Any], index: Any, classifier: Classifier
) -> None:
    """docs/plan-format.md shows this very run: its read, problems and counts, the first
    sources of the first waves, and the progress per wave against the same snapshot."""
    doc = (Path(__file__).parent.parent / "docs" / "plan-format.md").read_text()
    block = doc.split('```json\n{\n  "format"', 1)[1].split("```", 1)[0]
    fields = {}
    for line in block.splitlines():
        key, sep, value = line.strip().partition(": ")
        if sep and key.startswith('"'):
            fields[json.loads(key)] = value.rstrip(",")
    assert json.loads(fields["read"]) == add["read"]
    assert json.loads(fields["problems"]) == add["problems"]
    assert json.loads(fields["warnings"]) == add["warnings"]
    assert json.loads(fields["suite"]) == add["suite"]
    assert json.loads(fields["counts"]) == add["counts"]
    for shown, real in zip(json.loads(fields["waves"]), add["waves"], strict=False):
        if shown == "…":
            break
        assert shown["wave"] == real["wave"]
        assert [s for s in shown["sources"] if s != "…"] == real["sources"][
            : len(shown["sources"]) - 1
        ]
    progress = engine.progress(add, index, classifier)["progress"]
    by_wave = {p["wave"]: p for p in progress}
    for shown in json.loads(fields["progress"]):
        if shown != "…":
            assert by_wave[shown["wave"]] == shown
