"""``coinstall check`` with no target (issue 13 part 2): the Pythons found, then only what
crosses runtimes — on the real interpreters of this machine, with site directories the test
writes and puts on their paths."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from coinstall import machine
from coinstall.check import check
from coinstall.cli import main
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes.discovery import discover
from coinstall.runtimes.inventory import combine
from coinstall.runtimes.model import Runtime

CAT = catalogue_mod.load()


def _so(whl: Path) -> tuple[str, bytes]:
    with zipfile.ZipFile(whl) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".so"))
        return name.rsplit("/", 1)[-1], zf.read(name)


@pytest.fixture(scope="module")
def pythons() -> dict[str, Runtime]:
    installed, _ = discover()
    found = {
        rt.version_str: rt
        for rt in installed
        if rt.implementation == "cpython"
        and not rt.debug
        and rt.version in ((3, 11), (3, 12))
        and rt.executable
        and "pyenv" in rt.executable
    }
    if len(found) < 2:
        pytest.skip("needs pyenv's CPython 3.11 and 3.12")
    return found


def test_machine_view_reports_what_crosses(
    tmp_path: Path, pythons: dict[str, Runtime], corpus_wheels: dict[str, Path]
) -> None:
    py311, py312 = pythons["3.11"], pythons["3.12"]
    assert py312.purelib
    shared = tmp_path / "shared-site"  # on both runtimes' paths
    own = tmp_path / "site311"  # on 3.11's path only
    for d in (shared, own):
        d.mkdir()
    (shared / "plain.py").write_text("X = 1\n")
    name311, so311 = _so(corpus_wheels["pyyaml-cp311"])
    (shared / name311).write_bytes(so311)  # 3.11 uses it, 3.12 cannot
    name313, so313 = _so(corpus_wheels["pyyaml-cp313"])
    (own / name313).write_bytes(so313)  # built for 3.13, in 3.11's directory
    (own / "mod.py").write_text("Y = 2\n")
    cache = own / "__pycache__"
    cache.mkdir()
    subprocess.run(
        [
            py312.executable or "",
            "-c",
            "import py_compile, sys; py_compile.compile(sys.argv[1], sys.argv[2], doraise=True)",
            str(own / "mod.py"),
            str(cache / "mod.cpython-312.pyc"),
        ],
        check=True,
    )
    (own / "reach.pth").write_text(f"# another runtime's packages\n{py312.purelib}\n")
    rt311 = dataclasses.replace(py311, sys_path=(*py311.sys_path, str(shared), str(own)))
    rt312 = dataclasses.replace(py312, sys_path=(*py312.sys_path, str(shared)))
    installed = [rt311, rt312]
    res = check([str(shared), str(own)], combine(installed, CAT), CAT)
    view = machine.machine_view(res, installed)

    assert [p.id for p in view.pythons] == [rt311.id, rt312.id]
    assert [s.path for s in view.shared] == [str(shared)]
    s = view.shared[0]
    assert s.usable[rt311.id] == (2, 2) and s.usable[rt312.id] == (1, 2)
    assert s.missing[rt312.id] == {"extension": 1}
    assert s.example[rt312.id][0] == str(shared / name311)

    assert [(h.pth, h.added, h.runtimes, h.belongs_to) for h in view.pth_hooks] == [
        (str(own / "reach.pth"), str(Path(py312.purelib).resolve()), (rt311.id,), (rt312.id,))
    ]
    # The real 3.11 does process the .pth: 3.12's directory lands on its sys.path.
    done = subprocess.run(
        [
            py311.executable or "",
            "-c",
            "import site, sys; site.addsitedir(sys.argv[1]); print(sys.argv[2] in sys.path)",
            str(own),
            py312.purelib,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "True"

    foreign = {f.kind: f for f in view.foreign}
    assert set(foreign) == {"extension", "bytecode"}
    ext = foreign["extension"]
    assert ext.tree == str(own) and ext.paths == (str(own / name313),)
    assert "cpython-3.13" in ext.usable_by and rt311.id not in ext.usable_by
    assert foreign["bytecode"].paths == (str(cache / "mod.cpython-312.pyc"),)
    # The real 3.11's path finder sees no module in the 3.13 build (not its suffix).
    done = subprocess.run(
        [
            py311.executable or "",
            "-S",
            "-c",
            "import importlib.machinery as m, sys; "
            "print(m.PathFinder.find_spec(sys.argv[1], [sys.argv[2]]))",
            name313.split(".")[0],
            str(own),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "None"

    doc = machine.to_json(view)
    assert json.loads(json.dumps(doc)) == doc
    assert doc["pth_hooks"][0]["belongs_to"] == [rt312.id]


def test_check_without_target_is_short_and_verbose_has_the_matrices() -> None:
    runner = CliRunner()
    short = runner.invoke(main, ["check"])
    assert short.exit_code in (0, 1), short.output
    assert short.output.startswith("Pythons on this machine")
    assert "why not (first file)" not in short.output
    verbose = runner.invoke(main, ["check", "--verbose"])
    assert "why not (first file)" in verbose.output
    assert len(short.output.splitlines()) < len(verbose.output.splitlines()) / 3
    doc = json.loads(runner.invoke(main, ["check", "--format", "json"]).output)
    installed = [rt for rt in doc["runtimes"] if rt["executable"]]
    assert [p["id"] for p in doc["machine"]["pythons"]] == [rt["id"] for rt in installed]
    assert [p["default"] for p in doc["machine"]["pythons"]] == [rt["default"] for rt in installed]
    # With targets, no machine object: `check TARGET...` is unchanged.
    one = json.loads(
        runner.invoke(
            main,
            ["check", "--format", "json", "--no-installed", str(Path(__file__).parent / "data")],
        ).output
    )
    assert "machine" not in one
