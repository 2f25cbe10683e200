"""The planner on real Debian sid / trixie / experimental paragraphs (tests/data/plan-sid,
see its PROVENANCE.md), run as users run it: ``coinstall plan`` as a separate process.

Issue 19 items 16-20: one suite per plan; lower bounds that are not dh-python's; ``-pyXY``
virtual packages; default-only builds told by their binaries; distinct-source counts,
warnings and ``--full``.  Compared with ben on the sid part.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from coinstall.plan import engine, load
from coinstall.plan.evidence import Classifier
from coinstall.runtimes import catalogue

DATA = Path(__file__).parent / "data" / "plan-sid"
SID = DATA / "dists" / "sid"
COINSTALL = str(Path(sys.executable).parent / "coinstall")


def _run(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {"XDG_CACHE_HOME": str(tmp / "cache"), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [COINSTALL, "plan", *args], capture_output=True, text=True, env=env, timeout=120
    )


def _plan(tmp: Path, *args: str) -> dict[str, Any]:
    r = _run(*args, "--format", "json", tmp=tmp)
    assert r.returncode == 0, r.stderr
    data: dict[str, Any] = json.loads(r.stdout)
    return data


def _src(plan: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in plan["sources"] if s["name"] == name)


def _bin(plan: dict[str, Any], src: str, name: str) -> dict[str, Any]:
    return next(b for b in _src(plan, src)["binaries"] if b["name"] == name)


ADD = ("add", "3.15", "--from", "3.14")
DROP = ("drop", "3.13", "--to", "3.14")


# --- item 16: one suite per plan ----------------------------------------------------------


def test_several_suites_are_refused_with_one_line(tmp_path: Path) -> None:
    """The dists/ tree holds sid, trixie and experimental: before, all three were read
    together (exit 0), trixie's Sources deciding metkit's and xrt's versions."""
    r = _run(*ADD, "--repo", str(DATA), tmp=tmp_path)
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.splitlines() == [
        "coinstall: the inputs hold indices of 3 suites (experimental, sid (unstable), "
        "trixie); a plan reads one: choose it with --suite"
    ]
    r = _run(*ADD, "--repo", str(DATA), "--suite", "bookworm", tmp=tmp_path)
    assert r.returncode == 2 and "no index of suite bookworm" in r.stderr
    assert "Traceback" not in r.stderr


def test_suite_chosen_by_directory_suite_or_codename(tmp_path: Path) -> None:
    by_dir = _plan(tmp_path, *ADD, "--repo", str(DATA), "--suite", "sid")
    by_name = _plan(tmp_path, *ADD, "--repo", str(DATA), "--suite", "unstable")
    alone = _plan(tmp_path, *ADD, "--repo", str(SID))
    assert by_dir["suite"] == by_name["suite"] == alone["suite"] == "sid"
    for p in (by_name, alone):
        assert p["sources"] == by_dir["sources"] and p["counts"] == by_dir["counts"]
    assert all("/dists/sid/" in f for f in by_dir["inputs"])
    # sid's versions, never trixie's (metkit 1.13.0-1, xrt 202210.2.13.466+dfsg-8.2).
    assert _src(by_dir, "metkit")["version"] == "1.22.0-1"
    assert _src(by_dir, "xrt")["version"] == "1:2.25.0-4"
    trixie = _plan(tmp_path, *ADD, "--repo", str(DATA), "--suite", "trixie")
    assert trixie["suite"] == "trixie"
    assert _src(trixie, "metkit")["version"] == "1.13.0-1"
    assert all(b["version"].startswith("1.13.0") for b in _src(trixie, "metkit")["binaries"])


def test_newest_version_by_debian_order_not_file_order(tmp_path: Path) -> None:
    """xrt: trixie 202210.2.13.466+dfsg-8.2, sid 1:2.25.0-4 — the epoch makes sid's newer
    though its upstream number is smaller.  Given as two bare Sources files (no suite
    label), in either order, the newest wins; sid's own Sources lists vtk9 twice."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    shutil.copy(SID / "main" / "source" / "Sources", a / "Sources")
    shutil.copy(DATA / "dists" / "trixie" / "main" / "source" / "Sources", b / "Sources")
    shutil.copy(SID / "main" / "binary-amd64" / "Packages", a / "Packages")
    for order in ((a, b), (b, a)):
        idx = load.load([str(p) for p in order], use_cache=False)
        assert idx.suite is None
        assert idx.sources["xrt"].version == "1:2.25.0-4"
        assert idx.sources["metkit"].version == "1.22.0-1"
        assert idx.sources["vtk9"].version == "9.6.2+ds-4"
    # sid's Sources alone: vtk9 9.5.2+dfsg4-5 and 9.6.2+ds-4 -> the newer one.
    sid = load.load([str(SID)], use_cache=False)
    assert sid.sources["vtk9"].version == "9.6.2+ds-4"


# --- item 17: lower bounds that are not dh-python's ---------------------------------------


def test_lower_bounds_without_tilde_are_no_build_range(tmp_path: Path) -> None:
    """python3-bcj: python3 (<< 3.16), python3 (>= 3.14.7-2); pyside6's libshiboken6-dev:
    python3-dev (>= 3.14), python3-dev (<< 3.15~); chirp (Architecture: all):
    python3:any (<< 4.0), python3:any (>= 3.10~).  Before: four false 'rebuild to drop
    3.13' (chirp, mod-wsgi, pyside6, python-bcj)."""
    drop = _plan(tmp_path, *DROP, "--repo", str(SID))
    assert drop["counts"]["rebuild"] == 0 and drop["counts"]["blocked"] == 0
    bcj = _bin(drop, "python-bcj", "python3-bcj")
    assert bcj["built_for"] == "< 3.16; needs python3 >= 3.14"
    assert (
        "Depends: python3 (>= 3.14.7-2): needs a python3 of at least 3.14 "
        "(not a build range)" in bcj["reasons"]
    )
    chirp = _bin(drop, "chirp", "chirp")
    assert chirp["verdict"] == "independent"
    assert chirp["built_for"] == "any (version-independent; compatible >= 3.10, < 4.0)"
    add = _plan(tmp_path, *ADD, "--repo", str(SID))
    assert _bin(add, "python-bcj", "python3-bcj")["verdict"] == "ready"
    assert _bin(add, "chirp", "chirp")["verdict"] == "independent"
    # Built for 3.14 alone (floor 3.14, below 3.15): needs a build for 3.15.
    shib = _bin(add, "pyside6", "libshiboken6-dev")
    assert shib["verdict"] == "needs-build"
    assert shib["built_for"] == "< 3.15; needs python3 >= 3.14"


# --- item 18: -pyXY virtual packages; the relation named as written ------------------------


def test_py_virtual_packages_are_builds(tmp_path: Path) -> None:
    add = _plan(tmp_path, *ADD, "--repo", str(SID))
    old = _bin(add, "boost1.90", "libboost-python1.90.0")
    assert old["verdict"] == "needs-build" and old["built_for"] == "3.14"
    assert old["reasons"] == ["Provides: libboost-python1.90.0-py314 (built for 3.14)"]
    assert _src(add, "boost1.90")["status"] == "rebuild"
    new = _bin(add, "boost1.92", "libboost-python1.92.0")
    assert new["verdict"] == "ready" and new["built_for"] == "3.14; 3.15"
    assert _src(add, "boost1.92")["status"] == "no-action"
    dev = _bin(add, "boost1.90", "libboost-python1.90-dev")
    assert dev["reasons"] == ["Depends: python3-dev:any (unversioned)"]


# --- item 19: default-only by its binaries --------------------------------------------------


def test_one_version_build_without_python3_all_is_default_only(tmp_path: Path) -> None:
    """metkit Build-Depends on neither python3-all* nor python3/python3-dev (ecbuild with
    pybind11); python3-metkit is built for 3.14 alone: it gains 3.15 at the default switch,
    like the sources that Build-Depend on python3-dev."""
    add = _plan(tmp_path, *ADD, "--repo", str(SID))
    metkit = _src(add, "metkit")
    assert metkit["status"] == "blocked" and metkit["wave"] is None
    assert metkit["reasons"][0] == (
        "builds for the default runtime only (no python3-all* in Build-Depends, and its "
        "binaries are built for one runtime): gains 3.15 when the default switches"
    )
    assert "metkit" not in [n for w in add["waves"] for n in w["sources"]]
    default = _plan(tmp_path, "default", "3.15", "--from", "3.14", "--repo", str(SID))
    assert _src(default, "metkit")["wave"] == 1


# --- item 20: counts, warnings, --full ------------------------------------------------------


def test_counts_are_distinct_sources_and_warnings_are_in_json(tmp_path: Path) -> None:
    """sid's Sources here: 19 paragraphs, 15 sources (vtk9 twice, alabaster with
    Extra-Source-Only paragraphs)."""
    add = _plan(tmp_path, *ADD, "--repo", str(SID))
    assert add["read"]["sources"] == 19 and add["read"]["distinct_sources"] == 15
    assert sum(add["counts"].values()) == 15
    assert add["warnings"] == []
    only = _plan(tmp_path, *ADD, "--repo", str(SID / "main" / "binary-amd64" / "Packages"))
    assert only["warnings"] == [
        "no source index (Sources, .src RPMs) given: no build dependencies, so one wave, "
        "and default-only builds not told apart"
    ]
    text = _run(*ADD, "--repo", str(SID / "main" / "binary-amd64" / "Packages"), tmp=tmp_path)
    assert "warning: no source index" in text.stdout
    html = _run(
        *ADD,
        "--repo",
        str(SID / "main" / "binary-amd64" / "Packages"),
        "--format",
        "html",
        tmp=tmp_path,
    )
    assert "Warning: no source index (Sources, .src RPMs) given" in html.stdout
    html = _run(*ADD, "--repo", str(SID), "--format", "html", tmp=tmp_path).stdout
    assert 'suite <span id="suite">sid</span>' in html and "(15 distinct source(s))" in html
    assert "Warning:" not in html


def test_full_lists_every_name(tmp_path: Path) -> None:
    from io import StringIO

    from rich.console import Console

    from coinstall.report import plan_text

    add = _plan(tmp_path, *ADD, "--repo", str(SID))
    short, full = StringIO(), StringIO()
    plan_text.render(add, Console(file=short, width=200), blockers=1, names_per_wave=1)
    plan_text.render(add, Console(file=full, width=200), blockers=1, names_per_wave=1, full=True)
    assert "… (+1; --full lists them)" in short.getvalue()
    assert "… and 2 more blocked (--full lists them)" in short.getvalue()
    assert "…" not in full.getvalue()
    for name in ("metkit", "pyside6", "xrt"):
        assert f"blocked {name}:" in full.getvalue()
    r = _run(*ADD, "--repo", str(SID), "--full", tmp=tmp_path)
    assert r.returncode == 0 and "wave 1: 2 source(s): boost1.90, vtk9" in r.stdout
    assert "suite sid" in r.stdout and "(15 distinct source(s))" in r.stdout


# --- beside ben ---------------------------------------------------------------------------

BEN_ADD = """title = "python3.15-add";
architectures = [ "amd64" ];
is_affected = .depends ~ /python3 \\(<< 3\\.15\\)/ | .depends ~ /python3 \\(<< 3\\.16\\)/;
is_good = .depends ~ /python3 \\(<< 3\\.16\\)/;
is_bad = .depends ~ /python3 \\(<< 3\\.15\\)/;
"""


def test_compared_with_ben(tmp_path: Path) -> None:
    """Every source ben calls bad is tracked here; every source ben calls good is not; the
    extra ones carry evidence ben's regex cannot see (a -pyXY Provides, python3-dev)."""
    assert shutil.which("ben"), "ben is part of the set-up (scripts/setup.sh)"
    shutil.copy(SID / "main" / "binary-amd64" / "Packages", tmp_path / "Packages_amd64")
    shutil.copy(SID / "main" / "source" / "Sources", tmp_path / "Sources")
    (tmp_path / "py.ben").write_text(BEN_ADD)
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
    ben = {src: st["amd64"] for srcs in json.loads(out).values() for src, st in srcs.items()}
    assert {s for s, v in ben.items() if v == "bad"} == {"metkit", "vtk9", "xrt"}
    add = _plan(tmp_path, *ADD, "--repo", str(SID))
    tracked = {s["name"] for s in add["sources"] if s["status"] in ("rebuild", "blocked")}
    for name, verdict in ben.items():
        assert (name in tracked) == (verdict == "bad"), (name, verdict)
    for name in tracked - set(ben):
        evid = [
            r
            for b in _src(add, name)["binaries"]
            if b["verdict"] == "needs-build"
            for r in b["reasons"]
        ]
        assert evid and not any("python3 (<< 3.15)" in r for r in evid), name
    assert tracked - set(ben) == {"boost1.90", "pyside6"}


def test_in_process_equals_subprocess(tmp_path: Path) -> None:
    idx = load.load([str(SID)], use_cache=False)
    plan = engine.plan_transition(idx, Classifier(catalogue.load()), "add", (3, 15), (3, 14))
    assert plan.to_json()["counts"] == _plan(tmp_path, *ADD, "--repo", str(SID))["counts"]


@pytest.mark.parametrize("kind", ["sources", "packages"])
def test_source_names_survive_the_cache(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    fp = str(SID / "main" / ("source/Sources" if kind == "sources" else "binary-amd64/Packages"))
    first = load.read_cached(kind, fp)
    again = load.read_cached(kind, fp)
    assert again.source_names == first.source_names
    assert len(first.source_names) == (15 if kind == "sources" else 0)


def test_later_snapshot_reads_the_plans_suite(tmp_path: Path) -> None:
    """--later over a tree with three suites follows the plan's --suite (no refusal, no
    mixing); plan progress of the saved plan does the same from its "suite" field."""
    out = tmp_path / "plan.json"
    r = _run(
        *ADD,
        "--repo",
        str(DATA),
        "--suite",
        "sid",
        "--later",
        str(DATA),
        "--format",
        "json",
        "-o",
        str(out),
        tmp=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text())
    assert all("/dists/sid/" in f for f in data["later_inputs"])
    assert {s["progress"] for s in data["sources"] if s["status"] in ("rebuild", "blocked")} == {
        "remaining"
    }
    r = _run("progress", str(out), "--repo", str(DATA), "--format", "json", tmp=tmp_path)
    assert r.returncode == 0, r.stderr
    assert all("/dists/sid/" in f for f in json.loads(r.stdout)["later_inputs"])


# --- a source that names its runtime by version ----------------------------------------------


def test_source_naming_its_runtime_needs_a_source_change(tmp_path: Path) -> None:
    """trixie's python3-stdlib-extensions Build-Depends on python3.13-dev and libpython3.13-dev
    by name, and kdevelop-python on libpython3.13-dev and python3.13: a binNMU installs 3.13
    again.  Debian gave both a sourceful upload (sid: kdevelop-python 26.07.70+...-1.2
    Build-Depends on libpython3-dev; python3-stdlib-extensions is gone, python3-tk now comes
    from python3-defaults).  Before, ``add`` said stdlib-extensions "gains 3.14 when the
    default switches" (blocked, no wave: so were the sources that build-depend on python3-tk)
    and ``default`` listed both as plain rebuilds.  Now both are rebuilt in their wave by a
    source change, like an Architecture: all source."""
    trixie = ("--from", "3.13", "--repo", str(DATA), "--suite", "trixie")
    add = _plan(tmp_path, "add", "3.14", *trixie)
    default = _plan(tmp_path, "default", "3.14", *trixie)
    names = "libpython3.13-dev, libpython3.13-dbg, python3.13-dev, python3.13-dbg"
    for plan in (add, default):
        ext = _src(plan, "python3-stdlib-extensions")
        assert ext["status"] == "rebuild" and ext["wave"] == 1
        assert ext["reasons"][0] == (
            f"Build-Depends names its runtimes by version ({names}), not 3.14: "
            "needs a source change for 3.14 (a sourceful upload), not a binNMU"
        )
        assert not any("when the default switches" in r for r in ext["reasons"])
    kdev = _src(default, "kdevelop-python")
    assert kdev["status"] == "rebuild" and kdev["wave"] is not None
    assert kdev["reasons"][0].startswith("Build-Depends names its runtimes by version")
    kdev_add = _src(add, "kdevelop-python")
    assert kdev_add["status"] == "no-action"
    assert kdev_add["reasons"][0].endswith(
        "keeps working beside 3.14; needs a source change at the default switch "
        "(its Build-Depends name libpython3.13-dev, python3.13)"
    )
    # A source naming the new runtime too is not held back by the check: pinned names only.
    assert engine.named_runtimes(
        "python3.13-dev:any (>= 3.13.4-1~), python3.14-dev <!nocheck>"
    ) == {
        (3, 13): ["python3.13-dev"],
        (3, 14): ["python3.14-dev"],
    }
