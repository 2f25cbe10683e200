"""The planner on RPM repositories made with createrepo_c: the shared RPM corpus plus RPMs
built here with rpmbuild for a python3.11 stack and, later, its python3.12 counterpart."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from coinstall.plan import engine, indices, load
from coinstall.plan.evidence import Classifier
from coinstall.runtimes import catalogue
from interpreters import PYENV_VERSIONS
from plan_rpms import build_repo, snapshot_specs

pytestmark = pytest.mark.skipif(
    shutil.which("rpmbuild") is None or shutil.which("createrepo_c") is None,
    reason="needs rpmbuild (rpm) and createrepo_c (createrepo-c)",
)


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory, corpus_rpms: list[Path]) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("rpmrepos")
    first = build_repo(base / "first", snapshot_specs(later=False), corpus_rpms)
    later = build_repo(base / "later", snapshot_specs(later=True), corpus_rpms)
    return first, later


@pytest.fixture(scope="module")
def plan(repos: tuple[Path, Path]) -> dict[str, Any]:
    idx = load.load([str(repos[0])], use_cache=False)
    assert not idx.problems, idx.problems
    p = engine.plan_transition(idx, Classifier(catalogue.load()), "add", (3, 12), (3, 11))
    return p.to_json()


def _src(plan: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in plan["sources"] if s["name"] == name)


def test_repodata_reader(repos: tuple[Path, Path], corpus_rpms: list[Path]) -> None:
    kinds = indices.find_indices(str(repos[0]))
    assert kinds == [("repomd", str(repos[0] / "repodata" / "repomd.xml"))]
    idx = indices.read_repodata(kinds[0][1])
    names = {b.name for b in idx.binaries}
    assert {"python3.11-alpha", "python311-delta", "python3-pyserial"} <= names
    assert len(idx.binaries) == len(corpus_rpms) + 6
    alpha = next(b for b in idx.binaries if b.name == "python3.11-alpha")
    assert alpha.source == "python-alpha" and alpha.arch == "x86_64"
    assert "python(abi) = 3.11" in alpha.depends
    assert any(f.endswith("_speed.cpython-311-x86_64-linux-gnu.so") for f in alpha.files)
    beta = idx.sources["python-beta"]  # from the .src.rpm: BuildRequires
    assert "python3.11-alpha" in beta.build_depends and beta.binaries == ("python3.11-beta",)


def test_stack_evidence_and_statuses(plan: dict[str, Any]) -> None:
    a = _src(plan, "python-alpha")
    assert a["status"] == "rebuild" and a["wave"] == 1
    reasons = a["binaries"][0]["reasons"]
    assert "Requires: python(abi) = 3.11" in reasons
    assert any("extension tagged cpython-311" in r for r in reasons)
    assert any("in /usr/lib64/python3.11/" in r for r in reasons)
    b = _src(plan, "python-beta")
    assert b["status"] == "blocked" and b["wave"] == 2 and b["waits_for"] == ["python-alpha"]
    d = _src(plan, "python-delta")
    assert d["wave"] == 3 and "python3.11 stack" in " ".join(d["binaries"][0]["reasons"])
    assert _src(plan, "gamma-tool")["status"] == "no-action"
    group = plan["groups"][0]
    assert group["members"] == ["python-eps", "python-zeta"]
    assert group["closing_edges"] == [["python-zeta", "python-eps"]]


def test_corpus_rpms(plan: dict[str, Any]) -> None:
    # openSUSE python311- stack: rebuild; python39- and Fedora python(abi) = 3.5/2.7: other.
    assert _src(plan, "python-pytest-xprocess")["status"] == "rebuild"
    assert _src(plan, "python-evtx")["status"] == "not-affected"
    assert _src(plan, "pyserial")["status"] == "not-affected"
    assert all(s["name"] != "ngircd" for s in plan["sources"])


def test_progress_against_later_snapshot(repos: tuple[Path, Path], plan: dict[str, Any]) -> None:
    later = load.load([str(repos[1])], use_cache=False)
    done = engine.progress(json.loads(json.dumps(plan)), later, Classifier(catalogue.load()))
    st = {s["name"]: s["progress"] for s in done["sources"] if s["progress"]}
    assert st["python-alpha"] == "done"  # python3.12-alpha now built beside python3.11-alpha
    assert st["python-beta"] == "remaining"
    assert st["python-zeta"] == "removed"
    wave1 = next(w for w in done["progress"] if w["wave"] == 1)
    assert wave1["done"] >= 1 and wave1["total"] >= wave1["done"]


def test_extension_tags_agree_with_real_interpreters() -> None:
    """The catalogue tag the classifier maps to 3.11/3.12 is in that interpreter's own
    EXTENSION_SUFFIXES and not in the other's."""
    cl = Classifier(catalogue.load())
    pythons = {v: sorted(PYENV_VERSIONS.glob(f"{v}.*/bin/python{v}")) for v in ("3.11", "3.12")}
    if not all(pythons.values()):
        pytest.skip("pyenv 3.11/3.12 not installed")
    for v, exes in pythons.items():
        out = subprocess.run(
            [
                str(exes[-1]),
                "-c",
                "import importlib.machinery as m, json; print(json.dumps(m.EXTENSION_SUFFIXES))",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        suffixes = json.loads(out)
        for tag, ver in cl.soabi.items():
            if ver in ((3, 11), (3, 12)):
                present = any(s.startswith(f".{tag}-") or s == f".{tag}.so" for s in suffixes)
                assert present == (f"{ver[0]}.{ver[1]}" == v), (tag, v)


def test_html_of_rpm_plan_cli(tmp_path: Path, repos: tuple[Path, Path]) -> None:
    out = tmp_path / "plan.json"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "coinstall",
            "plan",
            "add",
            "3.12",
            "--from",
            "3.11",
            "--repo",
            str(repos[0]),
            "--format",
            "json",
            "-o",
            str(out),
            "--no-cache",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "coinstall",
            "plan",
            "progress",
            str(out),
            "--repo",
            str(repos[1]),
            "--no-cache",
        ],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr
    assert "wave 1:" in p.stdout and "progress:" in p.stdout


@pytest.mark.parametrize("ctype", ["gz", "zstd", "bz2"])
def test_repodata_compressions(tmp_path: Path, repos: tuple[Path, Path], ctype: str) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    for rpm in repos[0].glob("*.rpm"):
        shutil.copy(rpm, repo)
    # Debian's createrepo_c 0.17 has no zstd (Fedora's repositories use it since F36):
    # write gzip, then recompress primary and filelists with zstandard as Fedora ships them.
    subprocess.run(
        [
            "createrepo_c",
            "--quiet",
            "--general-compress-type",
            "gz" if ctype == "zstd" else ctype,
            str(repo),
        ],
        check=True,
        capture_output=True,
    )
    if ctype == "zstd":
        import gzip

        import zstandard

        repomd = repo / "repodata" / "repomd.xml"
        text = repomd.read_text()
        for gz in (repo / "repodata").glob("*.xml.gz"):
            zst = gz.with_name(gz.name[:-3] + ".zst")
            zst.write_bytes(zstandard.ZstdCompressor().compress(gzip.decompress(gz.read_bytes())))
            gz.unlink()
            text = text.replace(gz.name, zst.name)
        repomd.write_text(text)
    got = indices.read_repodata(str(repo / "repodata" / "repomd.xml"))
    want = indices.read_repodata(str(repos[0] / "repodata" / "repomd.xml"))
    assert sorted((b.name, b.files) for b in got.binaries) == sorted(
        (b.name, b.files) for b in want.binaries
    )
    assert not got.problems
    # Not two empty reads: every binary RPM of the repository is there, named as rpm names
    # it, and the filelists (a separate, separately compressed file) were read too.
    rpms = sorted(p for p in repo.glob("*.rpm") if not p.name.endswith(".src.rpm"))
    names = subprocess.run(
        ["rpm", "-qp", "--qf", "%{NAME}\\n", *map(str, rpms)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert rpms and sorted(b.name for b in got.binaries) == sorted(names)
    assert any(b.files for b in got.binaries)


def test_truncated_primary(tmp_path: Path, repos: tuple[Path, Path]) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(repos[0], repo)
    primary = next((repo / "repodata").glob("*primary.xml.xz"))
    primary.write_bytes(primary.read_bytes()[:300])
    idx = load.load([str(repo)], use_cache=False)
    assert not idx.binaries
    assert len(idx.problems) == 1 and str(primary) in str(idx.problems[0])
    assert "primary unreadable" in idx.problems[0].message


def test_cli_later_option_html(tmp_path: Path, repos: tuple[Path, Path]) -> None:
    out = tmp_path / "tracker.html"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "coinstall",
            "plan",
            "add",
            "3.12",
            "--from",
            "3.11",
            "--repo",
            str(repos[0]),
            "--later",
            str(repos[1]),
            "--format",
            "html",
            "-o",
            str(out),
            "--no-cache",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    html = out.read_text()
    assert 'class="progress done">done<' in html and 'class="progress remaining">' in html
    assert not list(tmp_path.glob(".tmp-*"))  # written atomically, nothing left behind
