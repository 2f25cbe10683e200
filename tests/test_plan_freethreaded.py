"""``coinstall plan add 3.14t``: a free-threaded stack beside its GIL twin (issue 20 part 1).

On the pinned bookworm indices (relations only), on the bookworm .debs of the corpus (file
lists and ELF symbols), checked against the real free-threaded 3.13t, and on a small RPM
repository built here with rpmbuild and createrepo_c (Fedora's separate python3.14t layout).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from coinstall.plan import engine, freethreaded, load
from coinstall.plan.evidence import Classifier
from coinstall.runtimes import catalogue
from interpreters import extra_python
from plan_corpus import bookworm
from plan_rpms import Binary, Spec, build_repo

COINSTALL = [str(Path(sys.executable).parent / "coinstall")]


def _src(plan: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in plan["sources"] if s["name"] == name)


# --- bookworm's Packages + Sources: classes from the relations ----------------------------


@pytest.fixture(scope="module")
def bw_index() -> Any:
    return load.load([str(bookworm("Packages.xz")), str(bookworm("Sources.xz"))], use_cache=False)


@pytest.mark.network
def test_bookworm_index(bw_index: Any) -> None:
    cat = catalogue.load()
    plan = freethreaded.plan_free_threaded(bw_index, Classifier(cat), cat, (3, 14), (3, 14))
    data = plan.to_json()
    assert data["new"] == "3.14t" and data["old"] == "3.14"
    assert sum(data["counts"].values()) == data["read"]["distinct_sources"]
    ft = data["free_threading"]
    assert ft["runtime"] == "cpython-3.14t"
    assert ft["layout"]["name"] == "debian-shared-dist-packages" and ft["layout"]["shared"]
    # Every source with version-specific modules is one that `plan add 3.12` (GIL) rebuilds,
    # and the other way round: both read the same dh-python ranges.
    gil = engine.plan_transition(bw_index, Classifier(cat), "add", (3, 12), (3, 11)).to_json()
    gil_build = {s["name"] for s in gil["sources"] if s["status"] in ("rebuild", "blocked")}
    vs = {s["name"] for s in data["sources"] if s.get("class") == "version-specific"}
    assert vs == gil_build and len(vs) > 800
    assert {s["status"] for s in data["sources"] if s["name"] in vs} <= {"rebuild", "blocked"}
    assert ft["classes"]["version-specific"] == len(vs)
    assert data["waves"] and len(data["waves"]) > 3 and data["groups"]
    # By hand: pyyaml ships _yaml.cpython-311 (python3-yaml Depends python3 (<< 3.12)).
    yaml = _src(data, "pyyaml")
    assert yaml["class"] == "version-specific" and yaml["wave"] is not None
    # six: Architecture: all; pure, shared dist-packages: nothing to build.
    six = _src(data, "six")
    assert (six["class"], six["status"]) == ("pure", "no-action")
    assert "shared /usr/lib/python3/dist-packages" in six["reasons"][0]
    # python3-ansimarkup: amd64 but only python3:any (>= 3.6~): dh-python wrote it for .py.
    assert _src(data, "ansimarkup")["class"] == "pure"
    # python3-cryptography: Depends python3 (>= 3~) without :any: an unversioned extension
    # (its .abi3.so modules): the index cannot tell which, so cannot-tell with the relation.
    cr = _src(data, "python-cryptography")
    assert (cr["class"], cr["status"]) == ("unknown", "cannot-tell")
    assert "Depends: python3 (>= 3~), not python3:any" in cr["reasons"][1]
    assert _src(data, "python3.11")["class"] == "runtime"
    assert any("no file list" in w for w in data["warnings"])


# --- the bookworm .debs of the corpus: file lists and symbols, against the real 3.13t -----


def _plan_cli(*args: str) -> tuple[int, dict[str, Any], str]:
    r = subprocess.run(
        [*COINSTALL, "plan", "add", *args, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    return r.returncode, (json.loads(r.stdout) if r.stdout else {}), r.stderr


@pytest.mark.network
def test_corpus_debs_against_real_313t(tmp_path: Path, corpus_debs: dict[str, Path]) -> None:
    """The classes from the .debs' members agree with what the real free-threaded 3.13t's
    import system does with those members (FileFinder with its own suffixes: nothing of the
    packages runs): it finds no module for python3-yaml's _yaml.cpython-311 (a t build is
    needed), it imports python3-six from the shared directory (pure: nothing to build), and
    cryptography's .abi3.so is found by its suffix although it cannot be loaded (abi3,
    listed apart; that it crashes is tests/test_ground_truth.py's)."""
    debs = tmp_path / "debs"
    debs.mkdir()
    for p in corpus_debs.values():
        shutil.copy(p, debs)
    rc, data, err = _plan_cli("3.13t", "--repo", str(debs))
    assert rc == 0, err
    assert data["new"] == "3.13t"
    cls = {s["name"]: (s["class"], s["status"]) for s in data["sources"]}
    assert cls["pyyaml"] == ("version-specific", "rebuild")
    assert cls["numpy"] == ("version-specific", "rebuild")
    assert cls["python-apt"] == ("version-specific", "rebuild")
    assert cls["python-cryptography"] == ("abi3", "rebuild")
    assert cls["six"] == ("pure", "no-action") and cls["chardet"] == ("pure", "no-action")
    assert cls["llvm-toolchain-13"] == ("pure", "no-action")  # python3-clang-13: .py only
    assert cls["llvm-toolchain-14"] == ("version-specific", "rebuild")  # _lldb.cpython-311
    assert cls["python3.11"] == ("runtime", "not-affected")
    cr = _src(data, "python-cryptography")
    assert "cannot load it (PEP 803" in cr["reasons"][1]
    assert data["free_threading"]["classes"]["abi3"] == 1
    # The real 3.13t.
    py = extra_python("3.13t")
    root = tmp_path / "root"
    for name in ("python3-yaml", "python3-six", "python3-cryptography"):
        subprocess.run(["dpkg-deb", "-x", str(corpus_debs[name]), str(root)], check=True)
    site = root / "usr/lib/python3/dist-packages"
    find = (
        "import importlib.machinery as m, sys; "
        "f = m.FileFinder(sys.argv[1], (m.ExtensionFileLoader, m.EXTENSION_SUFFIXES)); "
        "s = f.find_spec(sys.argv[2]); print(s.origin.rsplit('/', 1)[1] if s else None)"
    )

    def ask(d: Path, mod: str) -> str:
        return subprocess.run(
            [py, "-I", "-c", find, str(d), mod],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()

    assert ask(site / "yaml", "_yaml") == "None"
    assert ask(site / "cryptography/hazmat/bindings", "_rust") == "_rust.abi3.so"
    six = subprocess.run(
        [
            py,
            "-I",
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); "
            "import six; print(six.PY3, sys._is_gil_enabled())",
            str(site),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert six.stdout.split() == ["True", "False"]


@pytest.mark.network
def test_mirror_gives_the_artifacts_contents(tmp_path: Path, corpus_debs: dict[str, Path]) -> None:
    """``--repo Packages --mirror POOL`` (a Packages file made by dpkg-scanpackages over the
    corpus .debs, and bookworm's Sources): each binary is classed from its .deb's members, as
    the .debs themselves give; from the Packages file alone, what only the files tell is
    cannot-tell (cryptography's .abi3.so, python3-clang-13's Depends: python3)."""
    pool = tmp_path / "pool"
    pool.mkdir()
    for p in corpus_debs.values():
        shutil.copy(p, pool)
    (tmp_path / "Packages").write_bytes(
        subprocess.run(
            ["dpkg-scanpackages", "--multiversion", "pool"],
            cwd=tmp_path,
            capture_output=True,
            check=True,
        ).stdout
    )
    repo = ["--repo", str(tmp_path / "Packages"), "--repo", str(bookworm("Sources.xz"))]
    rc, mirrored, err = _plan_cli("3.14t", *repo, "--mirror", str(pool))
    assert rc == 0, err
    rc2, alone, err2 = _plan_cli("3.14t", *repo)
    assert rc2 == 0, err2
    rc3, debs, err3 = _plan_cli("3.14t", "--repo", str(pool))
    assert rc3 == 0, err3

    def classes(d: dict[str, Any]) -> dict[str, tuple[str, str]]:
        return {s["name"]: (s["class"], s["status"]) for s in d["sources"]}

    assert classes(mirrored) == classes(debs)
    assert classes(mirrored)["python-cryptography"] == ("abi3", "rebuild")
    assert classes(alone)["python-cryptography"] == ("unknown", "cannot-tell")
    assert classes(alone)["llvm-toolchain-13"] == ("unknown", "cannot-tell")
    assert classes(mirrored)["llvm-toolchain-13"] == ("pure", "no-action")
    assert not any("no file list" in w for w in mirrored["warnings"])
    assert any("no file list" in w for w in alone["warnings"])


# --- a small RPM repository: Fedora's separate python3.14t directories --------------------

needs_rpm = pytest.mark.skipif(
    shutil.which("rpmbuild") is None or shutil.which("createrepo_c") is None,
    reason="needs rpmbuild (rpm) and createrepo_c (createrepo-c)",
)

L64 = "/usr/lib64/python3.14/site-packages"


def _specs(yaml_so: Path | None) -> list[Spec]:
    def one(
        src: str,
        name: str,
        files: list[str],
        br: list[str] = (),  # type: ignore[assignment]
        arch: str = "x86_64",
    ) -> Spec:
        return Spec(
            src,
            [Binary(name, files, ["python(abi) = 3.14"], [f"python3.14dist({name[8:]}) = 1.0"])],
            buildrequires=list(br),
            arch=arch,
        )

    specs = [
        one(
            "python-vs",
            "python3-vs",
            [f"{L64}/vs/__init__.py", f"{L64}/vs/_x.cpython-314-x86_64-linux-gnu.so"],
        ),
        one("python-ab", "python3-ab", [f"{L64}/ab/__init__.py", f"{L64}/ab/_y.abi3.so"]),
        one(
            "python-pure",
            "python3-pure",
            ["/usr/lib/python3.14/site-packages/pure.py"],
            ["python3-vs"],
            arch="noarch",
        ),
        one("python-ut", "python3-ut", [f"{L64}/ut/__init__.py", f"{L64}/ut/_z.so"]),
        one(
            "python-ready",
            "python3.14t-ready",
            ["/usr/lib64/python3.14t/site-packages/r/_r.cpython-314t-x86_64-linux-gnu.so"],
        ),
    ]
    # A program run by /usr/bin/python3, no module: nothing to build for 3.14t.
    specs.append(Spec("gamma-tool", [Binary("gamma", ["/usr/bin/gamma"], ["/usr/bin/python3"])]))
    if yaml_so is not None:
        specs.append(one("python-elf", "python3-elf", [f"{L64}/yaml/_yaml.so"]))
    return specs


def _build(base: Path, yaml_so: Path | None) -> Path:
    specs = _specs(yaml_so)
    if yaml_so is not None:  # the real ELF module, not an empty file
        elf = specs[-1]
        text = elf.text().replace(
            f"touch %{{buildroot}}{L64}/yaml/_yaml.so",
            f"install -m 644 {yaml_so} %{{buildroot}}{L64}/yaml/_yaml.so",
        )
        elf.text = lambda: text  # type: ignore[method-assign]
    return build_repo(base, specs, [])


@needs_rpm
def test_rpm_repository_cli(tmp_path: Path) -> None:
    repo = _build(tmp_path / "r", None)
    rc, data, err = _plan_cli("3.14t", "--repo", str(repo))
    assert rc == 0, err
    ft = data["free_threading"]
    assert ft["layout"]["name"] == "fedora-separate-site-packages"
    assert not ft["layout"]["shared"]
    cls = {s["name"]: (s["class"], s["status"], s["wave"]) for s in data["sources"]}
    assert cls["python-vs"] == ("version-specific", "rebuild", 1)
    assert cls["python-ab"] == ("abi3", "rebuild", 1)
    # Pure Python, but Fedora's 3.14t has its own site-packages: rebuilt, after python-vs.
    assert cls["python-pure"] == ("pure", "blocked", 2)
    assert _src(data, "python-pure")["waits_for"] == ["python-vs"]
    assert cls["python-ready"][:2] == ("ready", "no-action")
    assert cls["gamma-tool"][:2] == ("program", "not-affected")
    ut = _src(data, "python-ut")
    assert (ut["class"], ut["status"]) == ("untagged", "cannot-tell")
    assert "_z.so: untagged module: no artifact read" in ut["reasons"][1]
    assert data["counts"]["cannot-tell"] == 1
    assert [w["sources"] for w in data["waves"]] == [["python-ab", "python-vs"], ["python-pure"]]
    # Text and HTML.
    text = subprocess.run(
        [*COINSTALL, "plan", "add", "3.14t", "--repo", str(repo)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert text.returncode == 0, text.stderr
    assert "Plan: add Python 3.14t beside 3.14" in text.stdout
    assert (
        "abi3 only (cannot load on 3.14t; a t build, or abi3t from 3.15): 1 source(s): "
        "python-ab" in text.stdout
    )
    assert "cannot tell python-ut" in text.stdout
    assert "python3.14t has its own /usr/lib/python3.14t/site-packages" in text.stdout
    out = tmp_path / "plan.html"
    h = subprocess.run(
        [
            *COINSTALL,
            "plan",
            "add",
            "3.14t",
            "--repo",
            str(repo),
            "--format",
            "html",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert h.returncode == 0, h.stderr
    page = out.read_text()
    assert 'id="cannot-tell"' in page and 'id="abi3"' in page
    assert 'value="cannot-tell"' in page and "Free-threaded cpython-3.14t" in page


@needs_rpm
@pytest.mark.network
def test_untagged_module_judged_by_its_symbols(
    tmp_path: Path, corpus_debs: dict[str, Path]
) -> None:
    """An untagged ``_yaml.so`` (bookworm's 3.11 build, renamed) read from the .rpm itself:
    its symbols say a GIL build (``_Py_Dealloc``): a t build is needed; from the repodata
    alone it is cannot-tell."""
    subprocess.run(
        ["dpkg-deb", "-x", str(corpus_debs["python3-yaml"]), str(tmp_path / "x")], check=True
    )
    so = next((tmp_path / "x").rglob("_yaml.cpython-311-x86_64-linux-gnu.so"))
    repo = _build(tmp_path / "r", so)
    arts = tmp_path / "artifacts"
    arts.mkdir()
    for rpm in repo.glob("*.rpm"):
        shutil.copy(rpm, arts)
    idx_plan = _plan_cli("3.14t", "--repo", str(repo))[1]
    assert _src(idx_plan, "python-elf")["status"] == "cannot-tell"
    rc, data, err = _plan_cli("3.14t", "--repo", str(arts))
    assert rc == 0, err
    elf = _src(data, "python-elf")
    assert (elf["class"], elf["status"]) == ("version-specific", "rebuild")
    assert "built for a GIL-enabled CPython (imports _Py_Dealloc" in elf["reasons"][0]
    # the empty _z.so of python-ut: read, but no ELF: still cannot tell, saying why.
    ut = _src(data, "python-ut")
    assert ut["status"] == "cannot-tell" and "not an ELF object" in ut["reasons"][1]


def test_cli_refusals(tmp_path: Path) -> None:
    r = subprocess.run(
        [*COINSTALL, "plan", "add", "3.11t", "--repo", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and "3.11t is not in the runtime catalogue" in r.stderr
    r = subprocess.run(
        [*COINSTALL, "plan", "add", "3.12", "--repo", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and "--from X.Y is required" in r.stderr


def test_debian_pure_module_in_a_versioned_directory(tmp_path: Path) -> None:
    """Debian: a pure module in /usr/lib/python3.11/dist-packages is on 3.11's path only,
    not in the shared dist-packages: installed again for the t runtime (version-specific);
    one in /usr/lib/python3/dist-packages needs nothing.  .debs built here with dpkg-deb."""
    for name, d in (
        ("python3-olddir", "usr/lib/python3.11/dist-packages"),
        ("python3-shared", "usr/lib/python3/dist-packages"),
    ):
        root = tmp_path / name
        (root / "DEBIAN").mkdir(parents=True)
        (root / "DEBIAN" / "control").write_text(
            f"Package: {name}\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.org>\n"
            "Depends: python3:any\nDescription: test\n test\n"
        )
        (root / d).mkdir(parents=True)
        (root / d / f"{name[8:]}.py").write_text("x = 1\n")
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-b", str(root), str(tmp_path / f"{name}.deb")],
            check=True,
            capture_output=True,
        )
    debs = tmp_path / "debs"
    debs.mkdir()
    for f in tmp_path.glob("*.deb"):
        shutil.move(f, debs)
    rc, data, err = _plan_cli("3.14t", "--repo", str(debs))
    assert rc == 0, err
    old = _src(data, "python3-olddir")
    assert (old["class"], old["status"]) == ("version-specific", "rebuild")
    assert "in a GIL runtime's own directory" in old["reasons"][0]
    assert (_src(data, "python3-shared")["class"], _src(data, "python3-shared")["status"]) == (
        "pure",
        "no-action",
    )


def test_tagged_module_outside_python_directories(
    tmp_path: Path, corpus_wheels: dict[str, Path]
) -> None:
    """A module whose name carries a GIL build's SOABI is version-specific wherever it lies:
    a program can put a private directory (/usr/lib/<triplet>/<pkg>/) on sys.path, and its
    name still loads on that build only (PEP 3149).  An untagged ``.so`` there is a shared
    library, not a module.  Found by benchmarks/ft_plan_check.py on the bookworm archive."""
    import zipfile

    with zipfile.ZipFile(corpus_wheels["pyyaml-cp313"]) as zf:
        so = zf.read(next(n for n in zf.namelist() if n.endswith(".so")))
    debs = tmp_path / "debs"
    debs.mkdir()
    for name, rel in (
        (
            "python3-private",
            "usr/lib/x86_64-linux-gnu/private/_yaml.cpython-313-x86_64-linux-gnu.so",
        ),
        ("python3-plainlib", "usr/lib/x86_64-linux-gnu/private/libyaml.so"),
    ):
        root = tmp_path / name
        (root / "DEBIAN").mkdir(parents=True)
        (root / "DEBIAN" / "control").write_text(
            f"Package: {name}\nVersion: 1.0\nArchitecture: amd64\n"
            "Maintainer: t <t@example.org>\nDepends: python3 (>= 3~)\nDescription: test\n test\n"
        )
        (root / rel).parent.mkdir(parents=True)
        (root / rel).write_bytes(so)
        (root / "usr/lib/python3/dist-packages").mkdir(parents=True)
        (root / "usr/lib/python3/dist-packages" / f"{name[8:]}.py").write_text("x = 1\n")
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-b", str(root), str(debs / f"{name}.deb")],
            check=True,
            capture_output=True,
        )
    rc, data, err = _plan_cli("3.14t", "--repo", str(debs))
    assert rc == 0, err
    private = _src(data, "python3-private")
    assert (private["class"], private["status"]) == ("version-specific", "rebuild")
    assert any("_yaml.cpython-313-x86_64-linux-gnu.so" in r for r in private["reasons"]), private[
        "reasons"
    ]
    assert _src(data, "python3-plainlib")["class"] == "pure"


def test_linked_and_debug_modules(tmp_path: Path, corpus_debs: dict[str, Path]) -> None:
    """Found by benchmarks/ft_plan_check.py on the bookworm archive.  An untagged module that
    is a symbolic link (bookworm's python3-meep: ``_meep.so -> _meep.so.30.0.0``) is judged by
    its target's symbols when the target is in the package; a link out of the package
    (python3-xgboost, python3-lldb-13, python3-bumps) stays open and says so (it said "no
    artifact read" before).  A debug build's module (python3-gdbm-dbg's
    ``_gdbm.cpython-311d-….so``) is version-specific by its own name, not by relations."""
    subprocess.run(
        ["dpkg-deb", "-x", str(corpus_debs["python3-yaml"]), str(tmp_path / "x")], check=True
    )
    so = next((tmp_path / "x").rglob("_yaml.cpython-311-x86_64-linux-gnu.so")).read_bytes()
    debs = tmp_path / "debs"
    debs.mkdir()
    site = "usr/lib/python3/dist-packages"
    layouts: dict[str, list[tuple[str, bytes | str]]] = {
        "python3-inlink": [(f"{site}/m/_m.so.1.0.0", so), (f"{site}/m/_m.so", "_m.so.1.0.0")],
        "python3-outlink": [(f"{site}/o/_o.so", "../../../../lib/x86_64-linux-gnu/libo.so.0")],
        "python3-dbgmod": [
            ("usr/lib/python3.11/lib-dynload/_d.cpython-311d-x86_64-linux-gnu.so", so)
        ],
    }
    for name, files in layouts.items():
        root = tmp_path / name
        (root / "DEBIAN").mkdir(parents=True)
        (root / "DEBIAN" / "control").write_text(
            f"Package: {name}\nVersion: 1.0\nArchitecture: amd64\n"
            "Maintainer: t <t@example.org>\nDepends: python3 (>= 3~)\nDescription: test\n test\n"
        )
        for rel, content in files:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                (root / rel).write_bytes(content)
            else:
                (root / rel).symlink_to(content)
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-b", str(root), str(debs / f"{name}.deb")],
            check=True,
            capture_output=True,
        )
    rc, data, err = _plan_cli("3.14t", "--repo", str(debs))
    assert rc == 0, err
    inlink = _src(data, "python3-inlink")
    assert (inlink["class"], inlink["status"]) == ("version-specific", "rebuild")
    assert any(
        "_m.so: untagged module: built for a GIL-enabled CPython (imports _Py_Dealloc" in r
        for r in inlink["reasons"]
    ), inlink["reasons"]
    out = _src(data, "python3-outlink")
    assert (out["class"], out["status"]) == ("untagged", "cannot-tell")
    assert any(
        "a link to /usr/lib/x86_64-linux-gnu/libo.so.0, which is not in this package" in r
        for r in out["reasons"]
    ), out["reasons"]
    dbg = _src(data, "python3-dbgmod")
    assert dbg["class"] == "version-specific"
    assert any("_d.cpython-311d-x86_64-linux-gnu.so" in r for r in dbg["reasons"]), dbg["reasons"]
