"""``coinstall check`` with no target on a machine where a free-threaded CPython shares a site
directory with its GIL twin (issue 20 §3; Debian's proposal: python3.14t sharing
``dist-packages``).  Here: virtual environments (PEP 405) of the real Debian 3.13 and the real
3.13t of ``scripts/interpreters.sh``, whose ``site-packages`` are one directory, holding real
modules from PyPI wheels: a ``cp313`` and a ``cp313t`` build of MarkupSafe's ``_speedups``,
PyYAML's ``cp313`` ``_yaml``, procmaps' ``abi3`` module.

Ground truth: each module imported by each environment's interpreter in its own process
(a free-threaded 3.13 crashes on an abi3 module: exit status -11).  coinstall runs as a separate
process, ``COINSTALL_PYTHONS`` naming the environments' interpreters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from coinstall.runtimes.discovery import find_candidates, venv_of
from interpreters import EXTRA_PYTHONS

COINSTALL = str(Path(sys.executable).with_name("coinstall"))
WHEELS = ("markupsafe-cp313", "markupsafe-cp313t", "pyyaml-cp313", "procmaps-abi3")


def _venv(base: Path, where: Path, shared: Path) -> Path:
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(where)], check=True)
    site = next(where.glob("lib/python3.*/site-packages"))
    site.rmdir()
    site.symlink_to(shared)  # one directory on both runtimes' paths
    return where / "bin" / "python"


def _imports(python: Path, module: str, file: Path) -> bool:
    """Whether ``python`` imports ``module`` from ``file`` (in its own process)."""
    r = subprocess.run(
        [
            str(python),
            "-c",
            f"import importlib; m = importlib.import_module({module!r}); print(m.__file__)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return r.returncode == 0 and os.path.realpath(r.stdout.strip()) == str(file)


def test_free_threaded_beside_gil_in_a_shared_directory(
    tmp_path: Path, corpus_wheels: dict[str, Path]
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    for key in WHEELS:
        with zipfile.ZipFile(corpus_wheels[key]) as zf:
            zf.extractall(shared)
    gil = _venv(EXTRA_PYTHONS["3.13"], tmp_path / "gil", shared)
    ft = _venv(EXTRA_PYTHONS["3.13t"], tmp_path / "ft", shared)

    # Discovery: each environment is its own runtime, not its base interpreter.
    assert venv_of(str(ft)) == str(tmp_path / "ft")
    cands = find_candidates(
        environ={"PATH": "", "HOME": str(tmp_path), "COINSTALL_PYTHONS": f"{gil}{os.pathsep}{ft}"}
    )
    assert {c.executable for c in cands} >= {str(gil), str(ft)}

    env = dict(os.environ, COINSTALL_PYTHONS=f"{gil}{os.pathsep}{ft}")
    r = subprocess.run(
        [COINSTALL, "check", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert r.returncode in (0, 1), r.stderr
    view = json.loads(r.stdout)["machine"]
    ids = {p["executable"]: p["id"] for p in view["pythons"]}
    gid, tid = ids[str(gil)], ids[str(ft)]
    assert tid.startswith("cpython-3.13t") and gid.startswith("cpython-3.13")
    tree = next(s for s in view["shared"] if s["path"] == str(shared.resolve()))
    cannot = {
        rid: {c["path"]: c["reason"] for c in tree["cannot_load"].get(rid, [])}
        for rid in (gid, tid)
    }

    modules = sorted(p for p in shared.resolve().rglob("*.so"))
    assert len(modules) == 4
    for so in modules:
        rel = so.relative_to(shared.resolve())
        name = ".".join([*rel.parts[:-1], rel.name.split(".", 1)[0]])
        for python, rid in ((gil, gid), (ft, tid)):
            real = _imports(python, name, so)
            said = str(so) not in cannot[rid]
            assert said == real, (rid, str(rel), real, cannot[rid].get(str(so)))
    # What the free-threaded build cannot load there: the abi3 module and the GIL builds'.
    assert sorted(Path(p).name for p in cannot[tid]) == [
        "_speedups.cpython-313-x86_64-linux-gnu.so",
        "_yaml.cpython-313-x86_64-linux-gnu.so",
        "procmaps.abi3.so",
    ]
    assert "abi3" in cannot[tid][str(shared.resolve() / "procmaps.abi3.so")]

    text = subprocess.run(
        [COINSTALL, "check"], capture_output=True, text=True, env=env, timeout=900
    ).stdout
    assert f"{tid}: uses" in text
    assert (
        "cannot load 3 extension modules: markupsafe/_speedups.cpython-313-x86_64-linux-gnu"
        ".so (suffix not in"
    ) in text
